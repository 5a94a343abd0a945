//! `runtime::task_counts()`: the counts a metrics scrape reads, without a snapshot.

use test_support as support;

use runtime::{ParkReason, TaskState};
use std::time::Duration;

#[runtime::test]
async fn counts_tasks_by_state_and_reason_and_agrees_with_the_profile() {
    let (tx, rx) = runtime::chan::channel::<u32>(0);
    let mut tasks = Vec::new();
    for i in 0..5 {
        let tx = tx.clone();
        tasks.push(runtime::spawn(async move {
            let _ = tx.send(i).await;
        }));
    }
    for _ in 0..3 {
        tasks.push(runtime::spawn(runtime::time::sleep(Duration::from_secs(
            3600,
        ))));
    }
    for _ in 0..2 {
        let forever = std::future::pending::<()>();
        tasks.push(runtime::spawn(runtime::park::label("db query", forever)));
    }
    let ids: Vec<_> = tasks.iter().map(|task| task.id()).collect();
    support::wait_for(|p| ids.iter().all(|&id| support::parked(p, id))).await;

    let counts = runtime::task_counts();
    let profile = runtime::profile();
    assert_eq!(counts.parked(), 10);
    assert_eq!(counts.state(TaskState::Parked), 10);
    assert_eq!(counts.running() + counts.runnable(), 0);
    assert_eq!(counts.total(), profile.len() as u64);
    assert_eq!(counts.spawned_total(), profile.spawned_total());
    assert_eq!(counts.completed_total(), profile.completed_total());
    assert_eq!(counts.workers(), profile.workers());
    if runtime::park::ENABLED {
        assert_eq!(counts.parked_on(ParkReason::ChanSend), 5);
        assert_eq!(counts.parked_on(ParkReason::Sleep), 3);
        assert_eq!(counts.parked_on(ParkReason::Label("db query")), 2);
        assert_eq!(counts.parked_on(ParkReason::MutexLock), 0);
        let mut by_reason: Vec<(String, u64)> = counts
            .by_reason()
            .map(|(reason, count)| (reason.to_string(), count))
            .collect();
        by_reason.sort();
        assert_eq!(
            by_reason,
            [
                ("chan send".to_string(), 5),
                ("db query".to_string(), 2),
                ("sleep".to_string(), 3)
            ]
        );
        // The same numbers as counting the snapshot.
        for (reason, count) in counts.by_reason() {
            assert_eq!(profile.parked_on(reason).count() as u64, count, "{reason}");
        }
    } else {
        assert_eq!(counts.by_reason().count(), 0);
    }

    // The leak check's rule, counted: the two `pending` tasks have no waker at all.
    let unwakeable = profile
        .tasks()
        .iter()
        .filter(|t| t.state() == TaskState::Parked && t.wakers() == 0);
    assert_eq!(counts.unwakeable(), 2);
    assert_eq!(unwakeable.count(), 2);
    assert_eq!(
        counts.parked_at_least(),
        8,
        "no threshold: every wakeable parked task"
    );
    let handle = runtime::Handle::current();
    let hour = handle.task_counts_parked_at_least(Duration::from_secs(3600));
    assert_eq!((hour.unwakeable(), hour.parked_at_least()), (2, 0));
    runtime::time::sleep(Duration::from_millis(40)).await;
    let old = handle.task_counts_parked_at_least(Duration::from_millis(20));
    if runtime::park::ENABLED {
        assert_eq!((old.unwakeable(), old.parked_at_least()), (2, 8));
    } else {
        // No park records, no durations: only a zero threshold counts them.
        assert_eq!((old.unwakeable(), old.parked_at_least()), (2, 0));
    }

    // Ending tasks moves them to the completed total.
    let before = counts.completed_total();
    drop(rx); // the senders' sends fail and they finish
    for task in tasks.drain(..5) {
        task.await.unwrap();
    }
    let counts = runtime::task_counts();
    assert_eq!(counts.parked(), 5);
    assert_eq!(counts.completed_total(), before + 5);
    assert_eq!(counts.parked_on(ParkReason::ChanSend), 0);
    for task in tasks {
        task.abort();
    }
}

#[test]
fn handle_counts_from_a_plain_thread() {
    let rt = runtime::Runtime::new().unwrap();
    let handle = rt.handle().clone();
    let sleeper = rt.spawn(async { runtime::time::sleep(Duration::from_secs(3600)).await });
    let counts = std::thread::spawn(move || {
        for _ in 0..5_000 {
            let counts = handle.task_counts();
            if counts.parked() == 1 {
                return counts;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        panic!("the sleeper never parked");
    })
    .join()
    .unwrap();
    assert_eq!(counts.total(), 1);
    assert_eq!(counts.spawned_total(), 1);
    if runtime::park::ENABLED {
        assert_eq!(counts.parked_on(ParkReason::Sleep), 1);
    }
    sleeper.abort();
}

#[runtime::test]
async fn refresh_profile_reuses_the_buffer_and_sees_what_changed() {
    let sleepers: Vec<_> = (0..100)
        .map(|_| runtime::spawn(runtime::time::sleep(Duration::from_secs(3600))))
        .collect();
    let ids: Vec<_> = sleepers.iter().map(|task| task.id()).collect();
    let mut profile = support::wait_for(|p| ids.iter().all(|&id| support::parked(p, id))).await;
    assert_eq!(profile.len(), 100);
    let buffer = profile.tasks().as_ptr();
    for task in &sleepers[..60] {
        task.abort();
    }
    let handle = runtime::Handle::current();
    for _ in 0..1_000 {
        handle.refresh_profile(&mut profile);
        if profile.len() == 40 {
            break;
        }
        runtime::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(profile.len(), 40);
    assert!(profile
        .tasks()
        .iter()
        .all(|task| ids[60..].contains(&task.id())));
    assert_eq!(
        profile.tasks().as_ptr(),
        buffer,
        "the buffer was not reused"
    );
    assert_eq!(
        profile.completed_total(),
        runtime::task_counts().completed_total()
    );
    for task in &sleepers[60..] {
        task.abort();
    }
}
