//! Regressions around the blocking pool: dropping the runtime from inside its own
//! `spawn_blocking`, and foreign executors inside blocking closures.

use support::finishes_within;
use test_support as support;

use std::future::Future;
use std::pin::pin;
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::Duration;

/// `finish_shutdown` now loops `while blocking.has_threads()`; when the runtime is dropped
/// from inside one of its own blocking closures, that thread is counted and can never exit
/// before the drop returns: the drop spins forever. (Before the fix, `shutdown()` skipped
/// joining the current thread, as `Runtime::drop` still does for a worker.)
#[test]
fn dropping_the_runtime_inside_its_own_spawn_blocking_returns() {
    finishes_within(10, || {
        let rt = runtime::Builder::new().worker_threads(1).build().unwrap();
        let (tx, rx) = mpsc::channel::<runtime::Runtime>();
        let (done_tx, done_rx) = mpsc::channel();
        let _join = rt.spawn_blocking(move || {
            let rt = rx.recv().unwrap();
            drop(rt);
            let _ = done_tx.send(());
        });
        tx.send(rt).unwrap();
        done_rx
            .recv_timeout(Duration::from_secs(5))
            .expect("Runtime::drop inside spawn_blocking never returned");
    });
}

/// A minimal foreign executor (as `futures::executor::block_on`).
fn foreign_block_on<F: Future>(fut: F) -> F::Output {
    struct ThreadWaker(Thread);
    impl Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park_timeout(Duration::from_millis(10));
    }
}

/// The fix made `Handle::block_on` unconstrained, but a blocking closure still runs inside
/// the task budget (harness::poll_future -> coop::budget), so any other executor in
/// `spawn_blocking` (futures::executor::block_on, a hand-rolled poll loop) is throttled to
/// 128 ready operations and then livelocks. tokio turns the budget off for blocking tasks.
#[test]
fn a_foreign_executor_inside_spawn_blocking_is_not_budgeted() {
    finishes_within(10, || {
        let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
        rt.block_on(async {
            let joins: Vec<_> = (0..300).map(|i| runtime::spawn(async move { i })).collect();
            let sum = runtime::spawn_blocking(move || {
                foreign_block_on(async {
                    let mut sum = 0;
                    for j in joins {
                        sum += j.await.unwrap();
                    }
                    sum
                })
            })
            .await
            .unwrap();
            assert_eq!(sum, (0..300).sum::<i32>());
        });
    });
}
