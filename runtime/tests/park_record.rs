//! The park record as a user reads it from `runtime::profile()`: reason, exact site, duration.
// Park records are what this file checks: nothing to check with recording compiled out.
#![cfg(feature = "profiling")]

use support::{parked, wait_for};
use test_support as support;

use runtime::{ParkReason, ParkSite, Profile};
use std::future::{poll_fn, Future};
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

fn site(file: &str, line: u32, column: u32) -> (String, u32, u32) {
    (file.to_string(), line, column)
}

/// The park-time table's rows for sites of this file on `lines`.
fn rows_on(profile: &Profile, lines: std::ops::Range<u32>) -> Vec<&ParkSite> {
    support::park_rows(profile, file!(), lines)
}

/// The park-time table's one row for the site of this file on `line`.
fn row_on(profile: &Profile, line: u32) -> &ParkSite {
    support::park_row(profile, file!(), line)
}

fn loc(location: &Location<'_>) -> (String, u32, u32) {
    (
        location.file().to_string(),
        location.line(),
        location.column(),
    )
}

#[runtime::test]
async fn sleep_shows_reason_site_and_growing_duration() {
    let line = line!() + 2;
    let sleeper = runtime::spawn(async {
        runtime::time::sleep(Duration::from_secs(10)).await;
    });
    let id = sleeper.id();
    let first = wait_for(|p| parked(p, id)).await;
    let task = first.task(id).unwrap();
    let park = task.park().unwrap();
    assert_eq!(park.reason(), ParkReason::Sleep);
    assert_eq!(park.reason().to_string(), "sleep");
    assert_eq!(loc(park.site()), site(file!(), line, 9));

    runtime::time::sleep(Duration::from_millis(30)).await;
    let second = runtime::profile();
    let later = second.task(id).unwrap().park().unwrap().duration();
    assert!(
        later > park.duration(),
        "duration must grow: {:?} then {later:?}",
        park.duration()
    );

    sleeper.abort();
    assert!(sleeper.await.unwrap_err().is_cancelled());
    let after = runtime::profile();
    assert!(
        after.task(id).is_none(),
        "finished task still listed:\n{after}"
    );
}

#[runtime::test]
async fn woken_and_finished_task_leaves_the_snapshot() {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let task = runtime::spawn(async move {
        runtime::time::sleep(Duration::from_millis(20)).await;
        tx.send(()).unwrap();
    });
    let id = task.id();
    wait_for(|p| parked(p, id)).await;
    task.await.unwrap();
    rx.recv().unwrap();
    assert!(runtime::profile().task(id).is_none());
}

#[runtime::test]
async fn awaiting_a_join_handle_shows_join_wait_at_the_await() {
    let child = runtime::spawn(async {
        runtime::time::sleep(Duration::from_secs(10)).await;
    });
    let line = line!() + 2;
    let parent = runtime::spawn(async move {
        let _ = child.await;
    });
    let id = parent.id();
    let profile = wait_for(|p| parked(p, id)).await;
    let park = profile.task(id).unwrap().park().unwrap().clone();
    assert_eq!(park.reason().to_string(), "join wait");
    assert_eq!(loc(park.site()), site(file!(), line, 23));
    parent.abort();
}

/// A future from outside the runtime: it never wakes anyone.
struct Foreign;

impl Future for Foreign {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

#[runtime::test]
async fn foreign_pending_future_shows_unknown() {
    let task = runtime::spawn(Foreign);
    let id = task.id();
    let profile = wait_for(|p| parked(p, id)).await;
    let park = profile.task(id).unwrap().park().unwrap();
    assert_eq!(park.reason(), ParkReason::Unknown);
    assert_eq!(park.reason().to_string(), "unknown");
    // Nothing was ever recorded: the site falls back to the spawn site.
    assert_eq!(park.site(), profile.task(id).unwrap().spawn_site());
    task.abort();
}

#[runtime::test]
async fn foreign_future_after_a_known_park_shows_unknown_at_the_last_site() {
    let line = line!() + 2;
    let task = runtime::spawn(async {
        runtime::time::sleep(Duration::from_millis(1)).await;
        Foreign.await;
    });
    let id = task.id();
    let profile = wait_for(|p| {
        p.task(id)
            .and_then(|t| t.park())
            .is_some_and(|park| park.reason() == ParkReason::Unknown)
    })
    .await;
    let park = profile.task(id).unwrap().park().unwrap();
    assert_eq!(loc(park.site()), site(file!(), line, 9));
    task.abort();
}

#[runtime::test]
async fn label_names_a_foreign_future() {
    let line = line!() + 2;
    let task = runtime::spawn(async {
        runtime::park::label("db query", Foreign).await;
    });
    let id = task.id();
    let profile = wait_for(|p| parked(p, id)).await;
    let park = profile.task(id).unwrap().park().unwrap();
    assert_eq!(park.reason(), ParkReason::Label("db query"));
    assert_eq!(park.reason().to_string(), "db query");
    assert_eq!(loc(park.site()), site(file!(), line, 9));
    task.abort();
}

#[runtime::test]
async fn awaiting_spawn_blocking_shows_blocking() {
    let (release, gate) = std::sync::mpsc::channel::<()>();
    let line = line!() + 3;
    let task = runtime::spawn(async move {
        let blocking = runtime::spawn_blocking(move || gate.recv().unwrap());
        blocking.await.unwrap();
    });
    let id = task.id();
    let profile = wait_for(|p| parked(p, id)).await;
    let park = profile.task(id).unwrap().park().unwrap();
    assert_eq!(park.reason().to_string(), "blocking");
    assert_eq!(loc(park.site()), site(file!(), line, 18));
    release.send(()).unwrap();
    task.await.unwrap();
}

#[runtime::test]
async fn timeout_shows_the_inner_reason_and_sleep_for_foreign_futures() {
    let child = runtime::spawn(async {
        runtime::time::sleep(Duration::from_secs(10)).await;
    });
    let line = line!() + 2;
    let waiter = runtime::spawn(async move {
        let _ = runtime::time::timeout(Duration::from_secs(10), child).await;
    });
    let foreign_line = line!() + 2;
    let foreign = runtime::spawn(async move {
        let _ = runtime::time::timeout(Duration::from_secs(10), Foreign).await;
    });
    let (a, b) = (waiter.id(), foreign.id());
    let profile = wait_for(|p| parked(p, a) && parked(p, b)).await;
    let inner = profile.task(a).unwrap().park().unwrap();
    assert_eq!(inner.reason(), ParkReason::JoinWait);
    assert_eq!(inner.site().line(), line);
    let outer = profile.task(b).unwrap().park().unwrap();
    assert_eq!(outer.reason(), ParkReason::Sleep);
    assert_eq!(loc(outer.site()), site(file!(), foreign_line, 17));
    waiter.abort();
    foreign.abort();
}

#[runtime::test]
async fn yield_now_is_not_a_park() {
    let task = runtime::spawn(async {
        loop {
            runtime::yield_now().await;
        }
    });
    let id = task.id();
    for _ in 0..50 {
        let profile = runtime::profile();
        if let Some(t) = profile.task(id) {
            assert!(t.park().is_none(), "a yielding task is never parked: {t:?}");
        }
        runtime::time::sleep(Duration::from_millis(1)).await;
    }
    task.abort();
}

/// A poll in which one branch yields and another parks leaves the task runnable (its own
/// yield woke it): the park-time table must not count a park for it, whichever branch ran
/// first.
#[runtime::test]
async fn a_yield_and_a_park_in_one_poll_count_no_park() {
    let (tx, rx) = runtime::chan::channel::<u32>(0);
    let first = line!();
    runtime::spawn(async move {
        for _ in 0..20 {
            runtime::select! {
                biased;
                _ = runtime::yield_now() => {}
                _ = rx.recv() => unreachable!(),
            }
            runtime::select! {
                biased;
                _ = rx.recv() => unreachable!(),
                _ = runtime::yield_now() => {}
            }
        }
    })
    .await
    .unwrap();
    let last = line!();
    drop(tx);
    let profile = runtime::profile();
    let rows = rows_on(&profile, first..last);
    assert!(rows.is_empty(), "parks counted: {rows:?}");
}

/// A yield through a waker that is not the task's (a no-op one here, as `now_or_never`
/// polls with) does not make the task runnable: a park later in the same poll is a park, shown
/// and counted.
#[runtime::test]
async fn a_yield_through_a_foreign_waker_does_not_hide_a_park() {
    let (tx, rx) = runtime::chan::channel::<u32>(0);
    let line = line!() + 7;
    let task = runtime::spawn(async move {
        {
            let mut yielding = std::pin::pin!(runtime::yield_now());
            let mut cx = Context::from_waker(std::task::Waker::noop());
            assert!(yielding.as_mut().poll(&mut cx).is_pending());
        }
        rx.recv().await
    });
    let id = task.id();
    let profile = wait_for(|p| parked(p, id)).await;
    let park = profile.task(id).unwrap().park().unwrap();
    assert_eq!(park.reason(), ParkReason::ChanReceive);
    assert_eq!(park.site().line(), line);
    tx.send(7).await.unwrap();
    assert_eq!(task.await.unwrap(), Some(7));
    let profile = runtime::profile();
    assert_eq!(row_on(&profile, line).count, 1, "the park was counted");
}

#[runtime::test]
async fn park_time_table_counts_resumed_parks_by_site() {
    let line = line!() + 3;
    runtime::spawn(async {
        for _ in 0..5 {
            runtime::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await
    .unwrap();
    let profile = runtime::profile();
    let row = row_on(&profile, line);
    assert_eq!(row.reason, ParkReason::Sleep);
    assert_eq!(row.count, 5);
    assert!(row.total >= Duration::from_millis(5), "{:?}", row.total);
}

#[runtime::test]
async fn poll_fn_leaf_records_nothing_but_label_does() {
    // A hand-written leaf is foreign: `unknown`; naming it gives the label.
    let task = runtime::spawn(runtime::park::label(
        "custom",
        poll_fn(|_| Poll::<()>::Pending),
    ));
    let id = task.id();
    let profile = wait_for(|p| parked(p, id)).await;
    assert_eq!(
        profile
            .task(id)
            .unwrap()
            .park()
            .unwrap()
            .reason()
            .to_string(),
        "custom"
    );
    task.abort();
}
