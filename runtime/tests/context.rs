//! `runtime::context`: Go's context semantics, and how a task waiting on one shows in a profile.

use support::wait_for;
use test_support as support;

use runtime::context::{Context, ContextError};
use runtime::{ParkReason, Profile, TaskId};
use std::time::{Duration, Instant};

fn parked_on_context(profile: &Profile, id: TaskId) -> bool {
    profile
        .task(id)
        .is_some_and(|t| support::parked_for(t, ParkReason::ContextDone))
}

/// The 1-based line of this file holding `marker`, and the column of the `done` method name
/// on it (where `#[track_caller]` places a method call).
#[cfg_attr(not(feature = "profiling"), allow(dead_code))] // used by the recording tests
fn site_of(marker: &str) -> (u32, u32) {
    let (index, text) = include_str!("context.rs")
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(marker) && !l.contains("site_of("))
        .expect("marker in file");
    let column = text.find(".done()").expect("a done call") + 2;
    (index as u32 + 1, column as u32)
}

#[runtime::test]
async fn cancel_wakes_every_done_waiter() {
    let (ctx, cancel) = Context::background().with_cancel();
    let waiters: Vec<_> = (0..16)
        .map(|_| {
            let ctx = ctx.clone();
            runtime::spawn(async move {
                ctx.done().await;
                ctx.err()
            })
        })
        .collect();
    let ids: Vec<_> = waiters.iter().map(|w| w.id()).collect();
    wait_for(|p| ids.iter().all(|&id| parked_on_context(p, id))).await;
    assert_eq!(ctx.err(), None);
    assert!(!ctx.is_done());

    cancel.cancel();
    cancel.cancel(); // idempotent
    for waiter in waiters {
        assert_eq!(waiter.await.unwrap(), Some(ContextError::Canceled));
    }
    // Already done: completes at once.
    ctx.done().await;
    assert!(ctx.is_done());
}

#[runtime::test]
async fn parent_cancel_reaches_grandchildren_and_child_cancel_stays_below() {
    let (parent, cancel_parent) = Context::background().with_cancel();
    let (child, cancel_child) = parent.with_cancel();
    let (grandchild, _cancel_grandchild) = child.with_timeout(Duration::from_secs(3600));
    let (sibling, _cancel_sibling) = parent.with_cancel();
    let (nephew, cancel_nephew) = sibling.with_cancel();

    // Cancelling a leaf touches nothing above it.
    cancel_nephew.cancel();
    assert_eq!(nephew.err(), Some(ContextError::Canceled));
    assert_eq!(sibling.err(), None);
    assert_eq!(parent.err(), None);

    let watch = |ctx: &Context| {
        let ctx = ctx.clone();
        runtime::spawn(async move {
            ctx.done().await;
            ctx.err()
        })
    };
    let on_parent = watch(&parent);
    let on_child = watch(&child);
    let on_grandchild = watch(&grandchild);
    let on_sibling = watch(&sibling);
    let ids = [
        on_parent.id(),
        on_child.id(),
        on_grandchild.id(),
        on_sibling.id(),
    ];
    wait_for(|p| ids.iter().all(|&id| parked_on_context(p, id))).await;

    // A middle node: its subtree, not its parent or siblings.
    cancel_child.cancel();
    assert_eq!(on_child.await.unwrap(), Some(ContextError::Canceled));
    assert_eq!(on_grandchild.await.unwrap(), Some(ContextError::Canceled));
    let profile = runtime::profile();
    assert!(
        parked_on_context(&profile, ids[0]),
        "parent woke:\n{profile}"
    );
    assert!(
        parked_on_context(&profile, ids[3]),
        "sibling woke:\n{profile}"
    );
    assert_eq!(parent.err(), None);
    assert_eq!(sibling.err(), None);

    // The root: everything below it.
    cancel_parent.cancel();
    assert_eq!(on_parent.await.unwrap(), Some(ContextError::Canceled));
    assert_eq!(on_sibling.await.unwrap(), Some(ContextError::Canceled));
    assert_eq!(sibling.err(), Some(ContextError::Canceled));

    // Derived from a cancelled context: born cancelled.
    let (late, _cancel_late) = grandchild.with_cancel();
    assert_eq!(late.err(), Some(ContextError::Canceled));
    late.done().await;
}

#[runtime::test]
async fn with_timeout_fires_deadline_exceeded() {
    let (ctx, _cancel) = Context::background().with_timeout(Duration::from_millis(20));
    let waiter = runtime::spawn({
        let ctx = ctx.clone();
        async move {
            ctx.done().await;
            ctx.err()
        }
    });
    assert_eq!(waiter.await.unwrap(), Some(ContextError::DeadlineExceeded));
    assert!(Instant::now() >= ctx.deadline().unwrap());

    // A cancel after the deadline does not rewrite the error.
    let (ctx, cancel) = Context::background().with_timeout(Duration::from_millis(1));
    ctx.done().await;
    cancel.cancel();
    assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));

    // A cancel before the deadline wins over it.
    let (ctx, cancel) = Context::background().with_timeout(Duration::from_secs(3600));
    cancel.cancel();
    assert_eq!(ctx.err(), Some(ContextError::Canceled));
}

#[runtime::test]
async fn err_reports_a_passed_deadline_without_anyone_awaiting_done() {
    let (ctx, _cancel) = Context::background().with_timeout(Duration::from_millis(5));
    let (child, _cancel_child) = ctx.with_cancel();
    runtime::time::sleep_until(ctx.deadline().unwrap()).await;
    while Instant::now() < ctx.deadline().unwrap() {
        runtime::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
    assert_eq!(child.err(), Some(ContextError::DeadlineExceeded));

    // A deadline already in the past: done from the start.
    let (past, _cancel) = Context::background().with_deadline(Instant::now());
    assert_eq!(past.err(), Some(ContextError::DeadlineExceeded));
    past.done().await;
}

#[runtime::test]
async fn child_deadline_is_capped_by_the_parent() {
    let (parent, _cancel_parent) = Context::background().with_timeout(Duration::from_secs(60));
    let parent_deadline = parent.deadline().unwrap();

    let (later, _c) = parent.with_timeout(Duration::from_secs(3600));
    assert_eq!(later.deadline(), Some(parent_deadline));
    let (plain, _c) = parent.with_cancel();
    assert_eq!(plain.deadline(), Some(parent_deadline));
    let earlier_deadline = Instant::now() + Duration::from_secs(1);
    let (earlier, _c) = parent.with_deadline(earlier_deadline);
    assert_eq!(earlier.deadline(), Some(earlier_deadline));
    assert_eq!(Context::background().deadline(), None);
    assert_eq!(Context::background().with_cancel().0.deadline(), None);

    // The parent's short deadline ends a child that asked for an hour.
    let (short, _cancel_short) = Context::background().with_timeout(Duration::from_millis(10));
    let (long, _cancel_long) = short.with_timeout(Duration::from_secs(3600));
    let (grandchild, _c) = long.with_cancel();
    grandchild.done().await;
    assert_eq!(grandchild.err(), Some(ContextError::DeadlineExceeded));
    assert_eq!(long.err(), Some(ContextError::DeadlineExceeded));
    assert_eq!(short.err(), Some(ContextError::DeadlineExceeded));
}

#[runtime::test]
async fn err_values_and_display() {
    let background = Context::background();
    assert_eq!(background.err(), None);
    assert!(!background.is_done());
    assert_eq!(Context::todo().err(), None);
    assert_eq!(Context::default().err(), None);

    assert_eq!(ContextError::Canceled.to_string(), "context canceled");
    assert_eq!(
        ContextError::DeadlineExceeded.to_string(),
        "context deadline exceeded"
    );
    assert!(ContextError::DeadlineExceeded.is_deadline_exceeded());
    assert!(!ContextError::Canceled.is_deadline_exceeded());
    let io: std::io::Error = ContextError::DeadlineExceeded.into();
    assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
    assert_eq!(io.to_string(), "context deadline exceeded");
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(ContextError::Canceled);
    assert_eq!(boxed.to_string(), "context canceled");

    let (ctx, cancel) = background.with_cancel();
    assert_eq!(format!("{background:?}"), "Context::Background");
    assert!(format!("{ctx:?}").contains("err: None"), "{ctx:?}");
    cancel.cancel();
    assert!(format!("{ctx:?}").contains("Canceled"), "{ctx:?}");
}

#[runtime::test]
async fn cancel_guard_cancels_when_dropped_but_a_dropped_handle_does_not() {
    let (ctx, cancel) = Context::background().with_cancel();
    drop(cancel);
    assert_eq!(ctx.err(), None, "dropping a CancelHandle must not cancel");

    let (ctx, cancel) = Context::background().with_cancel();
    {
        let _guard = cancel.cancel_on_drop(); // Go's `defer cancel()`
        assert_eq!(ctx.err(), None);
    }
    assert_eq!(ctx.err(), Some(ContextError::Canceled));
}

#[cfg(feature = "profiling")] // asserts the recorded park
#[runtime::test]
async fn done_parks_with_reason_context_done_at_its_call_site() {
    let (ctx, cancel) = Context::background().with_cancel();
    // A deadline far away: the timer armed by `done()` must not make the park read `sleep`.
    let (timed, cancel_timed) = Context::background().with_timeout(Duration::from_secs(3600));
    let plain = runtime::spawn({
        let ctx = ctx.clone();
        async move {
            ctx.done().await; // DONE_PLAIN
        }
    });
    let with_deadline = runtime::spawn({
        let timed = timed.clone();
        async move {
            timed.done().await; // DONE_TIMED
        }
    });
    let (plain_id, timed_id) = (plain.id(), with_deadline.id());
    let profile =
        wait_for(|p| parked_on_context(p, plain_id) && parked_on_context(p, timed_id)).await;

    for (id, marker) in [(plain_id, "// DONE_PLAIN"), (timed_id, "// DONE_TIMED")] {
        let park = profile.task(id).unwrap().park().unwrap();
        assert_eq!(park.reason().to_string(), "context done");
        let site = park.site();
        assert_eq!(site.file(), file!());
        assert_eq!((site.line(), site.column()), site_of(marker), "{marker}");
    }
    let dump = profile.to_string();
    assert!(dump.contains("[context done]"), "{dump}");

    cancel.cancel();
    cancel_timed.cancel();
    plain.await.unwrap();
    with_deadline.await.unwrap();
    // A joined task leaves the registry just after its join handle completes.
    wait_for(|p| p.task(plain_id).is_none() && p.task(timed_id).is_none()).await;
}

#[cfg(feature = "profiling")] // asserts the recorded park
#[runtime::test]
async fn background_done_never_completes() {
    // The leak of the article: `<-ctx.Done()` on a context nobody can cancel.
    let leaked = runtime::spawn(async {
        Context::background().done().await; // DONE_BACKGROUND
    });
    let id = leaked.id();
    let profile = wait_for(|p| parked_on_context(p, id)).await;
    let site = profile.task(id).unwrap().park().unwrap().site();
    assert_eq!((site.line(), site.column()), site_of("// DONE_BACKGROUND"));
    leaked.abort();
    assert!(leaked.await.unwrap_err().is_cancelled());
}

#[runtime::test]
async fn dropped_done_futures_leave_no_waiter_behind() {
    let (ctx, cancel) = Context::background().with_timeout(Duration::from_secs(3600));
    for _ in 0..1_000 {
        let res = runtime::time::timeout(Duration::from_millis(0), ctx.done()).await;
        assert!(res.is_err());
    }
    // A Done moved between polls, then completed by the cancel.
    let mut done = Box::pin(async move {
        ctx.done().await;
        ctx.err()
    });
    assert!(
        runtime::time::timeout(Duration::from_millis(1), done.as_mut())
            .await
            .is_err()
    );
    let waiter = runtime::spawn(done);
    cancel.cancel();
    assert_eq!(waiter.await.unwrap(), Some(ContextError::Canceled));
}

#[runtime::test]
async fn short_lived_children_leave_the_parent() {
    let (parent, cancel_parent) = Context::background().with_cancel();
    for i in 0..100_000u32 {
        match i % 4 {
            // Forgotten (Go's lostcancel), but dropped: it still leaves.
            0 => drop(parent.with_cancel()),
            1 => {
                let (child, cancel) = parent.with_timeout(Duration::from_secs(3600));
                let (grandchild, _g) = child.with_cancel();
                cancel.cancel();
                assert!(grandchild.is_done());
            }
            2 => {
                let (child, cancel) = parent.with_cancel();
                let _guard = cancel.cancel_on_drop();
                let clone = child.clone();
                drop(child);
                assert!(!clone.is_done());
            }
            _ => {
                // Cancelled while its context lives on: it leaves at the cancel.
                let (child, cancel) = parent.with_cancel();
                cancel.cancel();
                assert_eq!(parent.child_count(), 0);
                drop(child);
            }
        }
    }
    assert_eq!(parent.child_count(), 0);

    // From many tasks at once.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let parent = parent.clone();
            runtime::spawn(async move {
                for _ in 0..12_500 {
                    drop(parent.with_cancel());
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(parent.child_count(), 0);

    // Live children stay registered, and are cancelled with the parent.
    let live: Vec<_> = (0..10).map(|_| parent.with_cancel()).collect();
    assert_eq!(parent.child_count(), 10);
    cancel_parent.cancel();
    assert!(live.iter().all(|(child, _)| child.is_done()));
    assert_eq!(parent.child_count(), 0);
}

#[runtime::test]
async fn cancel_races_with_waiters_and_new_children() {
    for _ in 0..200 {
        let (ctx, cancel) = Context::background().with_cancel();
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                let ctx = ctx.clone();
                runtime::spawn(async move {
                    let (child, _cancel) = ctx.with_cancel();
                    child.done().await;
                    child.err()
                })
            })
            .collect();
        runtime::yield_now().await;
        cancel.cancel();
        for waiter in waiters {
            assert_eq!(waiter.await.unwrap(), Some(ContextError::Canceled));
        }
        assert_eq!(ctx.child_count(), 0);
    }
}
