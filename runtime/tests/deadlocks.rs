//! Deadlocks as cycles of `Park::blocked_by`: the classic cases are found, with their tasks
//! in wait order, and a long but live wait never is.
// Park records are what this file checks.
#![cfg(feature = "profiling")]

use runtime::sync::{Mutex, RwLock};
use runtime::task::TaskId;
use runtime::{LeakCheck, ParkReason};
use std::sync::Arc;
use std::time::Duration;
use test_support::{task_parked_for, two_mutexes_in_opposite_orders, wait_for};

fn cycle(mut ids: Vec<TaskId>) -> Vec<TaskId> {
    // A cycle starts at its lowest id.
    let lowest = ids.iter().enumerate().min_by_key(|(_, id)| **id).unwrap().0;
    ids.rotate_left(lowest);
    ids
}

#[runtime::test]
async fn two_mutexes_taken_in_opposite_orders() {
    let (a, b) = two_mutexes_in_opposite_orders().await;
    let profile = runtime::profile();
    let deadlocks = profile.deadlocks();
    assert_eq!(deadlocks.len(), 1, "{deadlocks:?}");
    assert_eq!(deadlocks[0].tasks(), cycle(vec![a.id(), b.id()]));
    let (x, y) = (deadlocks[0].tasks()[0], deadlocks[0].tasks()[1]);
    assert_eq!(
        deadlocks[0].to_string(),
        format!("deadlock: task {x} → task {y} → task {x}")
    );
    a.abort();
    b.abort();
}

#[runtime::test]
async fn a_task_joining_a_task_that_waits_on_a_mutex_it_holds() {
    let mutex = Arc::new(Mutex::new(()));
    let (child_id_tx, child_id) = runtime::chan::oneshot();
    let m = mutex.clone();
    let parent = runtime::spawn(async move {
        let _guard = m.lock().await;
        let m = m.clone();
        let child = runtime::spawn(async move { drop(m.lock().await) });
        child_id_tx.send(child.id()).unwrap();
        child.await.unwrap(); // waits for the child, which waits for our guard
    });
    let child = child_id.await.unwrap();
    let profile = wait_for(|p| {
        task_parked_for(p, parent.id(), ParkReason::JoinWait)
            && task_parked_for(p, child, ParkReason::MutexLock)
    })
    .await;
    assert_eq!(
        profile
            .deadlocks()
            .iter()
            .map(|d| d.tasks().to_vec())
            .collect::<Vec<_>>(),
        [cycle(vec![parent.id(), child])]
    );
    parent.abort();
}

#[runtime::test]
async fn a_read_guard_holder_asking_for_the_write_lock_waits_for_itself() {
    let lock = Arc::new(RwLock::new(0));
    let l = lock.clone();
    let task = runtime::spawn(async move {
        let _read = l.read().await;
        *l.write().await += 1; // never: our own read guard is in the way
    });
    let profile = wait_for(|p| task_parked_for(p, task.id(), ParkReason::RwLockWrite)).await;
    let park_holders = profile
        .task(task.id())
        .unwrap()
        .park()
        .unwrap()
        .blocked_by()
        .to_vec();
    assert_eq!(park_holders, [task.id()]);
    let deadlocks = profile.deadlocks();
    assert_eq!(deadlocks.len(), 1);
    assert_eq!(deadlocks[0].tasks(), [task.id()]);
    assert_eq!(
        deadlocks[0].to_string(),
        format!("deadlock: task {0} → task {0}", task.id())
    );
    task.abort();
}

#[runtime::test]
async fn a_long_but_live_wait_is_not_a_deadlock() {
    // The holder sleeps (a timer that will fire) while others wait on it, including one
    // that the holder itself joins: no cycle, because the holder waits on its timer.
    let mutex = Arc::new(Mutex::new(()));
    let m = mutex.clone();
    let holder = runtime::spawn(async move {
        let _guard = m.lock().await;
        runtime::time::sleep(Duration::from_secs(3600)).await;
    });
    wait_for(|p| task_parked_for(p, holder.id(), ParkReason::Sleep)).await;
    let m = mutex.clone();
    let waiter = runtime::spawn(async move { drop(m.lock().await) });
    #[allow(clippy::redundant_async_block)] // a task that joins, not the handle itself
    let joiner = runtime::spawn(async move { waiter.await });
    let profile = wait_for(|p| task_parked_for(p, joiner.id(), ParkReason::JoinWait)).await;
    assert!(profile.deadlocks().is_empty(), "{:?}", profile.deadlocks());
    holder.abort();
    joiner.abort();
}

#[runtime::test]
async fn leak_check_reports_a_deadlock_as_proven() {
    let check = LeakCheck::start().grace_period(Duration::from_millis(50));
    let lock = Arc::new(RwLock::new(()));
    let l = lock.clone();
    let task = runtime::spawn(async move {
        let _read = l.read().await;
        drop(l.write().await);
    });
    wait_for(|p| task_parked_for(p, task.id(), ParkReason::RwLockWrite)).await;
    let report = check.check().await.unwrap_err();
    assert_eq!(report.deadlocks().len(), 1);
    assert_eq!(
        report.proven().map(|t| t.id()).collect::<Vec<_>>(),
        [task.id()]
    );
    let text = report.to_string();
    assert!(
        text.contains(&format!(
            "deadlock: task {0} → task {0}\n\ttask {0} [rwlock write] at ",
            task.id()
        )),
        "{text}"
    );
    assert!(text.contains(" [proven: deadlock]:"), "{text}");
    task.abort();
}

#[runtime::test]
async fn a_cycle_through_a_semaphore_is_not_proof() {
    // Two permits: A and B hold one each; C waits for a permit and holds the mutex A waits
    // for. A -> C -> {A, B}: B may still let go, so nothing is proven.
    let pool = Arc::new(runtime::sync::Semaphore::new(2));
    let mutex = Arc::new(Mutex::new(()));
    let (c_holds_tx, c_holds) = runtime::chan::oneshot::<()>();
    let (release_b, b_released) = runtime::chan::oneshot::<()>();
    let (p, m) = (pool.clone(), mutex.clone());
    let a = runtime::spawn(async move {
        let _permit = p.acquire().await.unwrap();
        let _ = c_holds.await;
        drop(m.lock().await);
    });
    let p = pool.clone();
    let b = runtime::spawn(async move {
        let _permit = p.acquire().await.unwrap();
        let _ = b_released.await;
    });
    wait_for(|p| {
        task_parked_for(p, a.id(), ParkReason::ChanReceive)
            && task_parked_for(p, b.id(), ParkReason::ChanReceive)
    })
    .await;
    let (p, m) = (pool.clone(), mutex.clone());
    let c = runtime::spawn(async move {
        let _guard = m.lock().await;
        c_holds_tx.send(()).unwrap();
        drop(p.acquire().await.unwrap());
    });
    let profile = wait_for(|p| {
        task_parked_for(p, a.id(), ParkReason::MutexLock)
            && task_parked_for(p, c.id(), ParkReason::SemaphoreAcquire)
    })
    .await;
    assert!(profile.deadlocks().is_empty(), "{:?}", profile.deadlocks());
    // And indeed: B lets go, C gets a permit, releases the mutex, A goes on.
    release_b.send(()).unwrap();
    for task in [a, b, c] {
        test_support::within(task).await.unwrap();
    }
}

#[runtime::test(leak_check)]
#[should_panic(expected = "found 1 leaked task(s)\n\ndeadlock: task ")]
async fn a_leak_checked_test_fails_on_a_deadlock() {
    let lock = Arc::new(RwLock::new(()));
    let task = runtime::spawn(async move {
        let _read = lock.read().await;
        drop(lock.write().await);
    });
    wait_for(|p| task_parked_for(p, task.id(), ParkReason::RwLockWrite)).await;
}
