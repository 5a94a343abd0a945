//! `runtime::task::Group`: Go's errgroup — first error, derived context, limits, panics, drop.

use support::wait_for;
use test_support as support;

use runtime::context::{Context, ContextError};
use runtime::task::Group;
use runtime::{ParkReason, Profile, TaskId};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

fn parked_for(profile: &Profile, id: TaskId, reason: ParkReason) -> bool {
    profile
        .task(id)
        .is_some_and(|t| support::parked_for(t, reason))
}

/// The 1-based line of this file holding `marker`, and the column of `method` on it (where
/// `#[track_caller]` places a method call).
#[cfg_attr(not(feature = "profiling"), allow(dead_code))] // used by the recording tests
fn site_of(marker: &str, method: &str) -> (u32, u32) {
    let (index, text) = include_str!("group.rs")
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(marker) && !l.contains("site_of("))
        .expect("marker in file");
    let column = text.find(&format!(".{method}(")).expect("the method call") + 2;
    (index as u32 + 1, column as u32)
}

/// Counts its drops, to see when a task's future is gone.
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[runtime::test]
async fn wait_returns_ok_when_all_succeed() {
    let (group, ctx) = Group::<String>::with_context(&Context::background());
    let done = Arc::new(AtomicUsize::new(0));
    for i in 0..100 {
        let done = done.clone();
        group.spawn(async move {
            for _ in 0..i % 4 {
                runtime::yield_now().await;
            }
            done.fetch_add(1, SeqCst);
            Ok(())
        });
    }
    assert_eq!(group.wait().await, Ok(()));
    assert_eq!(done.load(SeqCst), 100);
    assert!(group.is_empty());
    assert_eq!(
        ctx.err(),
        Some(ContextError::Canceled),
        "wait cancels the derived context, as Go's does"
    );

    // An empty group, and a group without a context.
    assert_eq!(Group::<()>::new().wait().await, Ok(()));
    let plain = Group::<()>::default();
    plain.spawn(async { Ok(()) });
    assert_eq!(plain.wait().await, Ok(()));
}

#[runtime::test]
async fn first_error_is_returned_and_cancels_the_context() {
    let parent = Context::background();
    let (group, ctx) = Group::with_context(&parent);
    let siblings: Vec<TaskId> = (0..8)
        .map(|_| {
            let ctx = ctx.clone();
            group.spawn(async move {
                ctx.done().await;
                Err(format!("sibling saw {}", ctx.err().unwrap()))
            })
        })
        .collect();
    wait_for(|p| {
        siblings
            .iter()
            .all(|&id| parked_for(p, id, ParkReason::ContextDone))
    })
    .await;
    assert_eq!(ctx.err(), None);

    group.spawn(async { Err("first failure".to_string()) });
    assert_eq!(group.wait().await, Err("first failure".to_string()));
    assert_eq!(ctx.err(), Some(ContextError::Canceled));
    assert_eq!(parent.err(), None, "the parent is not cancelled");
    // Their futures are gone once `wait` returns; the tasks leave the registry right after.
    wait_for(|p| siblings.iter().all(|&id| p.task(id).is_none())).await;

    // The error was handed out; a later round reports only its own.
    assert_eq!(group.wait().await, Ok(()));
}

#[cfg(feature = "profiling")] // asserts the recorded park
#[runtime::test]
async fn spawn_and_wait_sites_are_the_callers() {
    let (gate, open) = Context::background().with_cancel();
    let group = Group::<()>::new();
    let id = group.spawn({
        let gate = gate.clone();
        async move {
            gate.done().await;
            Ok(())
        }
    }); // GROUP_SPAWN
    let waiter = runtime::spawn(async move {
        group.wait().await // GROUP_WAIT
    });
    let waiter_id = waiter.id();
    let profile = wait_for(|p| {
        parked_for(p, id, ParkReason::ContextDone)
            && parked_for(p, waiter_id, ParkReason::WaitGroupWait)
    })
    .await;

    let task = profile.task(id).unwrap();
    let spawn_site = task.spawn_site();
    assert_eq!(spawn_site.file(), file!());
    let (line, column) = site_of("let id = group.spawn({", "spawn");
    assert_eq!((spawn_site.line(), spawn_site.column()), (line, column));
    assert_eq!(
        task.parent(),
        None,
        "spawned from the test body, not a task"
    );

    let park = profile.task(waiter_id).unwrap().park().unwrap();
    assert_eq!(park.reason().to_string(), "waitgroup wait");
    assert_eq!(park.site().file(), file!());
    assert_eq!(
        (park.site().line(), park.site().column()),
        site_of("// GROUP_WAIT", "wait")
    );

    open.cancel();
    assert_eq!(waiter.await.unwrap(), Ok(()));
}

#[runtime::test]
async fn set_limit_bounds_concurrency() {
    let group = Group::<()>::new();
    group.set_limit(3);
    assert_eq!(group.limit(), Some(3));
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    for _ in 0..60 {
        let (running, peak, finished) = (running.clone(), peak.clone(), finished.clone());
        group.spawn(async move {
            let now = running.fetch_add(1, SeqCst) + 1;
            peak.fetch_max(now, SeqCst);
            for _ in 0..3 {
                runtime::yield_now().await;
            }
            runtime::time::sleep(Duration::from_millis(1)).await;
            running.fetch_sub(1, SeqCst);
            finished.fetch_add(1, SeqCst);
            Ok(())
        });
    }
    assert_eq!(group.wait().await, Ok(()));
    assert_eq!(finished.load(SeqCst), 60);
    let peak = peak.load(SeqCst);
    assert!(
        (1..=3).contains(&peak),
        "peak concurrency {peak} over a limit of 3"
    );
}

#[cfg(feature = "profiling")] // asserts the recorded park
#[runtime::test]
async fn tasks_over_the_limit_wait_for_a_slot_where_they_were_spawned() {
    let (gate, open) = Context::background().with_cancel();
    let (late_gate, open_late) = Context::background().with_cancel();
    let group = Arc::new(Group::<()>::new());
    group.set_limit(1);
    let started = Arc::new(AtomicUsize::new(0));
    let task = |gate: &Context| {
        let (gate, started) = (gate.clone(), started.clone());
        async move {
            started.fetch_add(1, SeqCst);
            gate.done().await;
            Ok(())
        }
    };
    let first = group.spawn(task(&gate));
    let queued = group.spawn(task(&gate)); // QUEUED_SPAWN
    let profile = wait_for(|p| {
        parked_for(p, first, ParkReason::ContextDone)
            && parked_for(p, queued, ParkReason::SemaphoreAcquire)
    })
    .await;
    let park = profile.task(queued).unwrap().park().unwrap();
    assert_eq!(park.reason().to_string(), "semaphore acquire");
    assert_eq!(park.site().file(), file!());
    assert_eq!(
        (park.site().line(), park.site().column()),
        site_of("// QUEUED_SPAWN", "spawn")
    );
    assert_eq!(started.load(SeqCst), 1);
    assert_eq!(group.len(), 2);

    // Full: try_spawn gives the future back.
    assert!(group.try_spawn(task(&gate)).is_err());

    // spawn_limited holds the spawner back instead, parked where it was called.
    let spawner = runtime::spawn({
        let (group, task) = (group.clone(), task(&late_gate));
        async move {
            group.spawn_limited(task).await // LIMITED_SPAWN
        }
    });
    let spawner_id = spawner.id();
    let profile = wait_for(|p| parked_for(p, spawner_id, ParkReason::SemaphoreAcquire)).await;
    let park = profile.task(spawner_id).unwrap().park().unwrap();
    assert_eq!(
        (park.site().line(), park.site().column()),
        site_of("// LIMITED_SPAWN", "spawn_limited")
    );
    assert_eq!(group.len(), 2, "nothing spawned while the spawner waits");

    // `first` finishes and hands its slot to `queued`, then `queued` to the spawner.
    open.cancel();
    let limited = spawner.await.unwrap();
    let profile = wait_for(|p| parked_for(p, limited, ParkReason::ContextDone)).await;
    let spawn_site = profile.task(limited).unwrap().spawn_site();
    assert_eq!(
        (spawn_site.line(), spawn_site.column()),
        site_of("// LIMITED_SPAWN", "spawn_limited")
    );
    wait_for(|p| p.task(queued).is_none()).await;
    open_late.cancel();
    assert_eq!(group.wait().await, Ok(()));
    assert_eq!(started.load(SeqCst), 3);
}

#[runtime::test]
async fn raising_or_removing_the_limit_starts_waiting_tasks() {
    let group = Group::<()>::new();
    group.set_limit(0);
    let started = Arc::new(AtomicUsize::new(0));
    let ids: Vec<_> = (0..5)
        .map(|_| {
            let started = started.clone();
            group.spawn(async move {
                started.fetch_add(1, SeqCst);
                Ok(())
            })
        })
        .collect();
    wait_for(|p| {
        ids.iter()
            .all(|&id| parked_for(p, id, ParkReason::SemaphoreAcquire))
    })
    .await;
    assert_eq!(started.load(SeqCst), 0);
    group.set_limit(2);
    group.remove_limit();
    assert_eq!(group.limit(), None);
    assert_eq!(group.wait().await, Ok(()));
    assert_eq!(started.load(SeqCst), 5);
}

#[runtime::test]
async fn a_dropped_spawn_limited_gives_its_place_back() {
    let (gate, open) = Context::background().with_cancel();
    let group = Group::<()>::new();
    group.set_limit(1);
    let blocker = {
        let gate = gate.clone();
        group.spawn(async move {
            gate.done().await;
            Ok(())
        })
    };
    wait_for(|p| parked_for(p, blocker, ParkReason::ContextDone)).await;
    for _ in 0..100 {
        let attempt = group.spawn_limited(async { Ok(()) });
        assert!(runtime::time::timeout(Duration::from_millis(0), attempt)
            .await
            .is_err());
    }
    open.cancel();
    assert_eq!(group.wait().await, Ok(()));
    // Nothing queued and nothing leaked: a slot is free again.
    assert!(group.try_spawn(async { Ok(()) }).is_ok());
    assert_eq!(group.wait().await, Ok(()));
}

#[runtime::test]
async fn a_panic_cancels_the_context_and_is_resumed_by_wait() {
    let (group, ctx) = Group::<String>::with_context(&Context::background());
    let sibling = {
        let ctx = ctx.clone();
        group.spawn(async move {
            ctx.done().await;
            Err("cancelled sibling".to_string())
        })
    };
    wait_for(|p| parked_for(p, sibling, ParkReason::ContextDone)).await;
    group.spawn(async {
        panic!("boom in a group task");
    });
    let waiter = runtime::spawn(async move { group.wait().await });
    let error = waiter.await.unwrap_err();
    assert!(error.is_panic(), "{error}");
    let payload = error.into_panic();
    assert_eq!(
        payload.downcast_ref::<&str>().copied(),
        Some("boom in a group task")
    );
    assert_eq!(ctx.err(), Some(ContextError::Canceled));
    wait_for(|p| p.task(sibling).is_none()).await;
}

#[runtime::test]
async fn dropping_the_group_aborts_its_tasks_and_cancels_its_context() {
    let (group, ctx) = Group::<()>::with_context(&Context::background());
    group.set_limit(4);
    let dropped = Arc::new(AtomicUsize::new(0));
    let ids: Vec<_> = (0..10)
        .map(|_| {
            let guard = DropCount(dropped.clone());
            group.spawn(async move {
                let _guard = guard;
                // Would wait forever: only an abort ends it.
                Context::background().done().await;
                Ok(())
            })
        })
        .collect();
    wait_for(|p| {
        ids.iter()
            .all(|&id| p.task(id).is_some_and(support::is_parked))
    })
    .await;
    assert_eq!(group.len(), 10);
    assert_eq!(ctx.err(), None);

    drop(group);
    assert_eq!(ctx.err(), Some(ContextError::Canceled));
    wait_for(|p| ids.iter().all(|&id| p.task(id).is_none())).await;
    assert_eq!(dropped.load(SeqCst), 10, "every future was dropped");
}

#[runtime::test]
async fn many_groups_from_many_tasks() {
    let total = Arc::new(AtomicUsize::new(0));
    let outer = Group::<String>::new();
    for g in 0..16 {
        let total = total.clone();
        outer.spawn(async move {
            let (group, ctx) = Group::<String>::with_context(&Context::background());
            group.set_limit(4);
            for i in 0..64 {
                let (total, ctx) = (total.clone(), ctx.clone());
                group.spawn(async move {
                    if g % 4 == 0 && i == 10 {
                        return Err(format!("group {g} failed"));
                    }
                    if ctx.is_done() {
                        return Ok(());
                    }
                    runtime::yield_now().await;
                    total.fetch_add(1, SeqCst);
                    Ok(())
                });
            }
            match group.wait().await {
                Ok(()) if g % 4 != 0 => Ok(()),
                Err(e) if g % 4 == 0 && e == format!("group {g} failed") => Ok(()),
                other => Err(format!("group {g}: {other:?}")),
            }
        });
    }
    assert_eq!(outer.wait().await, Ok(()));
    assert!(total.load(SeqCst) >= 12 * 64);
}
