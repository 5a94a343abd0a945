//! Channels and `select!` record why and where a task waits: `chan send`, `chan receive`,
//! `select` with its cases, `select (no cases)`.
// Park reasons are what this file checks: nothing to check with recording compiled out.
#![cfg(feature = "profiling")]

use runtime::{ParkReason, Profile, TaskId, TaskState};
use std::time::Duration;

async fn wait_parked(id: TaskId) -> Profile {
    for _ in 0..5_000 {
        let profile = runtime::profile();
        if profile
            .task(id)
            .is_some_and(|t| t.state() == TaskState::Parked && t.park().is_some())
        {
            return profile;
        }
        runtime::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("task {id} never parked:\n{}", runtime::profile());
}

async fn wait_gone(id: TaskId) {
    for _ in 0..5_000 {
        if runtime::profile().task(id).is_none() {
            return;
        }
        runtime::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("task {id} still alive:\n{}", runtime::profile());
}

/// (line, column) of the `needle` call on the line marked `marker` in this file.
fn site_of(marker: &str, needle: &str) -> (u32, u32) {
    let (index, text) = include_str!("chan_reasons.rs")
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(marker) && !l.contains("site_of("))
        .expect("marker in file");
    let column = text.find(needle).expect("needle on the marked line") + 1;
    (index as u32 + 1, column as u32)
}

fn at(site: &std::panic::Location<'_>) -> (u32, u32) {
    assert_eq!(site.file(), file!());
    (site.line(), site.column())
}

#[runtime::test]
async fn unbuffered_send_with_no_receiver_parks_as_chan_send() {
    let (tx, rx) = runtime::chan::channel::<u32>(0);
    let sender = runtime::spawn(async move {
        tx.send(1).await.unwrap(); // SEND
    });
    let profile = wait_parked(sender.id()).await;
    let park = profile.task(sender.id()).unwrap().park().unwrap();
    assert_eq!(park.reason(), ParkReason::ChanSend);
    assert_eq!(park.reason().to_string(), "chan send");
    assert_eq!(at(park.site()), site_of("// SEND", "send("));
    assert_eq!(rx.recv().await, Some(1));
    let id = sender.id();
    sender.await.unwrap();
    wait_gone(id).await;
}

#[runtime::test]
async fn full_buffer_parks_as_chan_send() {
    let (tx, rx) = runtime::chan::channel::<u32>(2);
    let sender = runtime::spawn(async move {
        for i in 0..3 {
            tx.send(i).await.unwrap(); // FULL
        }
    });
    let profile = wait_parked(sender.id()).await;
    let park = profile.task(sender.id()).unwrap().park().unwrap();
    assert_eq!(park.reason().to_string(), "chan send");
    assert_eq!(at(park.site()), site_of("// FULL", "send("));
    assert_eq!(rx.recv().await, Some(0));
    sender.await.unwrap();
}

#[runtime::test]
async fn empty_channel_parks_as_chan_receive() {
    let (tx, rx) = runtime::chan::unbounded::<u32>();
    let receiver = runtime::spawn(async move {
        rx.recv().await // RECV
    });
    let profile = wait_parked(receiver.id()).await;
    let park = profile.task(receiver.id()).unwrap().park().unwrap();
    assert_eq!(park.reason(), ParkReason::ChanReceive);
    assert_eq!(park.reason().to_string(), "chan receive");
    assert_eq!(at(park.site()), site_of("// RECV", "recv("));
    tx.send(5).await.unwrap();
    let id = receiver.id();
    assert_eq!(receiver.await.unwrap(), Some(5));
    wait_gone(id).await;
}

#[runtime::test]
async fn oneshot_await_parks_as_chan_receive_at_the_await() {
    let (reply, response) = runtime::chan::oneshot::<u32>();
    // The block is the point: the park site is this `.await`, not the spawn.
    #[allow(clippy::redundant_async_block)]
    let waiter = runtime::spawn(async move {
        response.await // ONESHOT
    });
    let profile = wait_parked(waiter.id()).await;
    let park = profile.task(waiter.id()).unwrap().park().unwrap();
    assert_eq!(park.reason().to_string(), "chan receive");
    assert_eq!(at(park.site()), site_of("// ONESHOT", "await"));
    reply.send(9).unwrap();
    assert_eq!(waiter.await.unwrap(), Ok(9));
}

#[runtime::test]
async fn select_over_recv_and_sleep_shows_both_cases() {
    let (tx, rx) = runtime::chan::channel::<u32>(0);
    let task = runtime::spawn(async move {
        runtime::select! { // SELECT
            v = rx.recv() => v, // CASE-RECV
            _ = runtime::time::sleep(Duration::from_secs(3600)) => None, // CASE-SLEEP
        }
    });
    let profile = wait_parked(task.id()).await;
    let park = profile.task(task.id()).unwrap().park().unwrap();
    assert_eq!(park.reason(), ParkReason::Select);
    assert_eq!(park.reason().to_string(), "select");
    assert_eq!(at(park.site()), site_of("// SELECT", "runtime::select!"));
    let mut cases: Vec<_> = park
        .cases()
        .iter()
        .map(|c| (c.reason.to_string(), at(c.site)))
        .collect();
    cases.sort();
    assert_eq!(
        cases,
        vec![
            ("chan receive".to_string(), site_of("// CASE-RECV", "recv(")),
            (
                "sleep".to_string(),
                site_of("// CASE-SLEEP", "runtime::time::sleep(")
            ),
        ]
    );
    let text = profile.to_string();
    assert!(text.contains("[select]"), "{text}");
    assert!(text.contains("case        [chan receive]"), "{text}");
    tx.send(3).await.unwrap();
    let id = task.id();
    assert_eq!(task.await.unwrap(), Some(3));
    wait_gone(id).await;
}

#[runtime::test]
async fn empty_select_parks_forever_with_no_cases() {
    let task = runtime::spawn(async {
        runtime::select! {} // EMPTY
    });
    let profile = wait_parked(task.id()).await;
    let park = profile.task(task.id()).unwrap().park().unwrap();
    assert_eq!(park.reason(), ParkReason::SelectNoCases);
    assert_eq!(park.reason().to_string(), "select (no cases)");
    assert_eq!(at(park.site()), site_of("// EMPTY", "runtime::select!"));
    assert!(park.cases().is_empty());
    task.abort();
}

#[runtime::test]
async fn select_with_every_branch_disabled_parks_forever_with_no_cases() {
    let (_tx, rx) = runtime::chan::channel::<u32>(0);
    let task = runtime::spawn(async move {
        let enabled = false;
        runtime::select! {
            v = rx.recv(), if enabled => v,
        }
    });
    let profile = wait_parked(task.id()).await;
    let park = profile.task(task.id()).unwrap().park().unwrap();
    assert_eq!(park.reason().to_string(), "select (no cases)");
    task.abort();
}

#[runtime::test]
async fn a_released_channel_wait_leaves_no_park() {
    let (tx, rx) = runtime::chan::channel::<u32>(0);
    let receiver = runtime::spawn(async move {
        let first = rx.recv().await;
        runtime::time::sleep(Duration::from_secs(3600)).await; // AFTER
        first
    });
    wait_parked(receiver.id()).await;
    tx.send(1).await.unwrap();
    // Now parked on the sleep, not on the channel.
    for _ in 0..5_000 {
        let profile = runtime::profile();
        let park = profile.task(receiver.id()).and_then(|t| t.park().cloned());
        if let Some(park) = park {
            if park.reason() == ParkReason::Sleep {
                assert_eq!(
                    at(park.site()),
                    site_of("// AFTER", "runtime::time::sleep(")
                );
                receiver.abort();
                return;
            }
        }
        runtime::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("receiver never moved on to the sleep");
}
