//! `Park::blocked_by`: who holds what a parked task waits for, as `profile()` reads it.
// Park records are what this file checks.
#![cfg(feature = "profiling")]

use runtime::sync::{Mutex, RwLock};
use runtime::task::TaskId;
use runtime::{ParkReason, Profile};
use std::sync::Arc;
use test_support::{task_parked_for, wait_for, within};

fn blocked_by(profile: &Profile, id: TaskId) -> Vec<TaskId> {
    profile
        .task(id)
        .and_then(|t| t.park())
        .map_or(Vec::new(), |p| p.blocked_by().to_vec())
}

#[runtime::test]
async fn a_mutex_waiter_is_blocked_by_the_holder_and_follows_the_hand_off() {
    let mutex = Arc::new(Mutex::new(()));
    let (release_a, a_released) = runtime::chan::oneshot::<()>();
    let (release_b, b_released) = runtime::chan::oneshot::<()>();
    let m = mutex.clone();
    let a = runtime::spawn(async move {
        let _guard = m.lock().await;
        let _ = a_released.await;
    });
    wait_for(|p| task_parked_for(p, a.id(), ParkReason::ChanReceive)).await;
    let m = mutex.clone();
    let b = runtime::spawn(async move {
        let _guard = m.lock().await;
        let _ = b_released.await;
    });
    // B queues first, so that the lock passes to B, not C, when A lets go.
    wait_for(|p| task_parked_for(p, b.id(), ParkReason::MutexLock)).await;
    let m = mutex.clone();
    let c = runtime::spawn(async move {
        drop(m.lock().await);
    });
    let profile = wait_for(|p| {
        task_parked_for(p, b.id(), ParkReason::MutexLock)
            && task_parked_for(p, c.id(), ParkReason::MutexLock)
    })
    .await;
    assert_eq!(blocked_by(&profile, b.id()), [a.id()]);
    assert_eq!(blocked_by(&profile, c.id()), [a.id()]);
    let text = profile.task(b.id()).unwrap().to_string();
    assert!(
        text.contains(&format!("\n\theld by task {}\n", a.id())),
        "{text}"
    );

    // A lets go; B takes the lock: C, still queued, is now blocked by B.
    release_a.send(()).unwrap();
    within(a).await.unwrap();
    let profile = wait_for(|p| task_parked_for(p, b.id(), ParkReason::ChanReceive)).await;
    assert_eq!(blocked_by(&profile, c.id()), [b.id()]);
    release_b.send(()).unwrap();
    within(b).await.unwrap();
    within(c).await.unwrap();
}

#[runtime::test]
async fn a_join_wait_is_blocked_by_the_awaited_task() {
    let (tx, rx) = runtime::chan::channel::<()>(0);
    let child = runtime::spawn(async move { rx.recv().await });
    let child_id = child.id();
    // The parent's future awaits the child's handle (not the handle itself spawned).
    #[allow(clippy::redundant_async_block)]
    let parent = runtime::spawn(async move { child.await });
    let profile = wait_for(|p| task_parked_for(p, parent.id(), ParkReason::JoinWait)).await;
    assert_eq!(blocked_by(&profile, parent.id()), [child_id]);
    drop(tx);
    within(parent).await.unwrap().unwrap();
}

#[runtime::test]
async fn rwlock_waiters_are_blocked_by_the_writer_or_the_readers() {
    let lock = Arc::new(RwLock::new(0));
    let (release, released) = runtime::chan::oneshot::<()>();
    let l = lock.clone();
    let reader = runtime::spawn(async move {
        let _read = l.read().await;
        let _ = released.await;
    });
    wait_for(|p| task_parked_for(p, reader.id(), ParkReason::ChanReceive)).await;
    let l = lock.clone();
    let writer = runtime::spawn(async move {
        *l.write().await += 1;
    });
    let profile = wait_for(|p| task_parked_for(p, writer.id(), ParkReason::RwLockWrite)).await;
    assert_eq!(blocked_by(&profile, writer.id()), [reader.id()]);
    release.send(()).unwrap();
    within(reader).await.unwrap();
    within(writer).await.unwrap();

    // Held for writing: a reader waits on the writer.
    let (release, released) = runtime::chan::oneshot::<()>();
    let l = lock.clone();
    let writer = runtime::spawn(async move {
        let _write = l.write().await;
        let _ = released.await;
    });
    wait_for(|p| task_parked_for(p, writer.id(), ParkReason::ChanReceive)).await;
    let l = lock.clone();
    let reader = runtime::spawn(async move { *l.read().await });
    let profile = wait_for(|p| task_parked_for(p, reader.id(), ParkReason::RwLockRead)).await;
    assert_eq!(blocked_by(&profile, reader.id()), [writer.id()]);
    release.send(()).unwrap();
    within(writer).await.unwrap();
    assert_eq!(within(reader).await.unwrap(), 1);
}

#[test]
fn a_lock_held_outside_any_task_names_no_holder() {
    let rt = runtime::Runtime::new().unwrap();
    let mutex = Arc::new(Mutex::new(()));
    let guard = rt.block_on(mutex.lock()); // held by the block_on thread, not a task
    let m = mutex.clone();
    let waiter = rt.spawn(async move { drop(m.lock().await) });
    let id = waiter.id();
    let profile = rt.block_on(wait_for(|p| task_parked_for(p, id, ParkReason::MutexLock)));
    assert!(blocked_by(&profile, id).is_empty());
    drop(guard);
    rt.block_on(within(waiter)).unwrap();
}

#[runtime::test]
async fn a_semaphore_waiter_is_blocked_by_the_permit_holders() {
    let pool = Arc::new(runtime::sync::Semaphore::new(2));
    let mut holders = Vec::new();
    let mut releases = Vec::new();
    for _ in 0..2 {
        let (release, released) = runtime::chan::oneshot::<()>();
        let p = pool.clone();
        let holder = runtime::spawn(async move {
            let _permit = p.acquire().await.unwrap();
            let _ = released.await;
        });
        wait_for(|p| task_parked_for(p, holder.id(), ParkReason::ChanReceive)).await;
        holders.push(holder);
        releases.push(release);
    }
    let p = pool.clone();
    let waiter = runtime::spawn(async move { drop(p.acquire_owned().await.unwrap()) });
    let profile = wait_for(|p| task_parked_for(p, waiter.id(), ParkReason::SemaphoreAcquire)).await;
    let mut named = blocked_by(&profile, waiter.id());
    named.sort();
    assert_eq!(named, [holders[0].id(), holders[1].id()]);
    // One holder lets go: the waiter takes its permit.
    releases.pop().unwrap().send(()).unwrap();
    within(waiter).await.unwrap();
    drop(releases);
    for holder in holders {
        within(holder).await.unwrap();
    }
}
