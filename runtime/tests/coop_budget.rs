//! The cooperative budget throttles task polls only: not `block_on` nested in a blocking
//! closure, and never a `timeout` whose wrapped future spends the budget.

use support::finishes_within;
use test_support as support;

use std::time::Duration;

fn rt(workers: usize) -> runtime::Runtime {
    runtime::Builder::new()
        .worker_threads(workers)
        .build()
        .unwrap()
}

/// `Handle::block_on` inside `spawn_blocking` is a standard pattern. The blocking closure runs
/// inside `coop::budget` (harness::poll_future), so the nested block_on is throttled: after 128
/// ready operations every leaf future returns Pending forever (the budget is never refilled).
#[test]
fn block_on_inside_spawn_blocking_is_not_budgeted() {
    finishes_within(10, || {
        let rt = rt(2);
        let handle = rt.handle().clone();
        rt.block_on(async move {
            runtime::spawn_blocking(move || {
                handle.block_on(async {
                    for _ in 0..1000 {
                        runtime::time::sleep(Duration::ZERO).await;
                    }
                })
            })
            .await
            .unwrap();
        });
    });
}

/// Same, with join handles (a very common shape: spawn N, then await them all).
#[test]
fn block_on_inside_spawn_blocking_can_join_many_tasks() {
    finishes_within(10, || {
        let rt = rt(2);
        let handle = rt.handle().clone();
        rt.block_on(async move {
            runtime::spawn_blocking(move || {
                handle.block_on(async {
                    let tasks: Vec<_> =
                        (0..300).map(|i| runtime::spawn(async move { i })).collect();
                    let mut sum = 0;
                    for t in tasks {
                        sum += t.await.unwrap();
                    }
                    sum
                })
            })
            .await
            .unwrap();
        });
    });
}

/// A `timeout` around a future that keeps making progress through runtime leaf futures
/// (and so exhausts the budget every poll) must still fire: tokio polls the delay
/// unconstrained in that case. Here the delay's `poll_proceed` sees a spent budget and returns
/// Pending before it looks at the deadline, every poll, forever.
#[test]
fn timeout_fires_around_a_budget_exhausting_future() {
    finishes_within(10, || {
        let rt = rt(1);
        rt.block_on(async {
            runtime::spawn(async {
                runtime::time::timeout(Duration::from_millis(50), async {
                    loop {
                        runtime::time::sleep(Duration::ZERO).await;
                    }
                })
                .await
            })
            .await
            .unwrap()
            .unwrap_err();
        });
    });
}
