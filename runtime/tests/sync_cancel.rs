//! Dropping a parked `runtime::sync` future loses nothing: permits, locks and `notify_one`s
//! it had been handed go to the next waiter, and its waker does not stay registered.

use support::{wait_for, within};
use test_support as support;

use runtime::sync::{Mutex, Notify, RwLock, Semaphore, WaitGroup};
use runtime::{JoinHandle, TaskId};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

async fn wait_parked(id: TaskId) {
    wait_for(|p| p.task(id).is_some_and(support::is_parked)).await;
}

/// Aborts a parked task and waits until its future has been dropped.
async fn abort_parked<T>(task: JoinHandle<T>) {
    wait_parked(task.id()).await;
    task.abort();
    let error = within(task).await.err().expect("aborted while parked");
    assert!(error.is_cancelled());
}

/// A waker that counts its wakes; its `Arc` count tells whether anyone still holds it.
struct Probe {
    wakes: AtomicUsize,
}

impl Wake for Probe {
    fn wake(self: Arc<Self>) {
        self.wakes.fetch_add(1, SeqCst);
    }
}

fn probe() -> (Arc<Probe>, Waker) {
    let probe = Arc::new(Probe {
        wakes: AtomicUsize::new(0),
    });
    let waker = Waker::from(probe.clone());
    (probe, waker)
}

fn poll_with<F: Future + Unpin>(future: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(waker))
}

/// Polls once with a probe waker, drops the future, and checks nothing kept the waker.
fn park_then_drop<F: Future + Unpin>(mut future: F) {
    let (probe, waker) = probe();
    assert!(poll_with(&mut future, &waker).is_pending());
    drop(waker);
    assert!(
        Arc::strong_count(&probe) > 1,
        "the parked future holds the waker"
    );
    drop(future);
    assert_eq!(
        Arc::strong_count(&probe),
        1,
        "a stale waker stayed registered"
    );
}

// ---- Mutex ----

#[runtime::test(worker_threads = 2)]
async fn aborted_locker_passes_the_lock_to_the_next() {
    let mutex = Arc::new(Mutex::new(0));
    let held = mutex.lock().await;
    let lockers: Vec<_> = (0..2)
        .map(|_| {
            let mutex = mutex.clone();
            runtime::spawn(async move { *mutex.lock().await += 1 })
        })
        .collect();
    let [first, second] = <[_; 2]>::try_from(lockers).ok().unwrap();
    wait_parked(second.id()).await;
    abort_parked(first).await;
    drop(held);
    within(second).await.unwrap();
    assert_eq!(*mutex.try_lock().unwrap(), 1);
}

#[runtime::test]
async fn lock_timed_out_while_held_leaves_the_mutex_usable() {
    let mutex = Mutex::new(0);
    let held = mutex.lock().await;
    let timed_out = runtime::time::timeout(Duration::from_millis(5), mutex.lock()).await;
    assert!(timed_out.is_err(), "the lock was held throughout");
    drop(held);
    *within(mutex.lock()).await += 1;
    assert_eq!(*mutex.try_lock().unwrap(), 1);
}

#[runtime::test]
async fn lock_handed_over_then_dropped_goes_to_the_next_locker() {
    let mutex = Mutex::new(());
    let held = mutex.lock().await;
    let (_, waker) = probe();
    let mut first = mutex.lock();
    let mut second = mutex.lock();
    assert!(poll_with(&mut first, &waker).is_pending());
    assert!(poll_with(&mut second, &waker).is_pending());
    drop(held); // hands the lock to `first`, which is dropped before it runs
    drop(first);
    assert!(
        poll_with(&mut second, &waker).is_ready(),
        "the lock was lost"
    );
}

#[runtime::test]
async fn dropped_lock_and_lock_owned_release_their_wakers() {
    let mutex = Arc::new(Mutex::new(()));
    let _held = mutex.lock().await;
    park_then_drop(mutex.lock());
    park_then_drop(mutex.clone().lock_owned());
}

// ---- Semaphore ----

#[runtime::test(worker_threads = 2)]
async fn aborted_acquire_passes_the_permit_on() {
    let semaphore = Arc::new(Semaphore::new(1));
    let held = semaphore.acquire().await.unwrap();
    let first = runtime::spawn({
        let semaphore = semaphore.clone();
        async move { drop(semaphore.acquire().await.unwrap()) }
    });
    wait_parked(first.id()).await;
    let second = runtime::spawn({
        let semaphore = semaphore.clone();
        async move { drop(semaphore.acquire().await.unwrap()) }
    });
    wait_parked(second.id()).await;
    abort_parked(first).await;
    drop(held);
    within(second).await.unwrap();
    assert_eq!(semaphore.available_permits(), 1);
}

#[runtime::test(worker_threads = 2)]
async fn aborted_acquire_many_returns_its_partial_permits_to_the_next_waiter() {
    let semaphore = Arc::new(Semaphore::new(3));
    let held = semaphore.acquire_many(2).await.unwrap();
    let big = runtime::spawn({
        let semaphore = semaphore.clone();
        async move { drop(semaphore.acquire_many(3).await.unwrap()) }
    });
    wait_parked(big.id()).await;
    assert_eq!(
        semaphore.available_permits(),
        0,
        "the free permit is assigned to the head"
    );
    let small = runtime::spawn({
        let semaphore = semaphore.clone();
        async move { drop(semaphore.acquire().await.unwrap()) }
    });
    wait_parked(small.id()).await;
    abort_parked(big).await;
    // The partially assigned permit reaches `small` while `held` is still held.
    within(small).await.unwrap();
    assert_eq!(semaphore.available_permits(), 1);
    drop(held);
    assert_eq!(semaphore.available_permits(), 3);
}

#[runtime::test]
async fn acquire_many_timed_out_returns_its_partial_permits() {
    let semaphore = Semaphore::new(2);
    let held = semaphore.acquire().await.unwrap();
    let timed_out =
        runtime::time::timeout(Duration::from_millis(5), semaphore.acquire_many(2)).await;
    assert!(timed_out.is_err());
    assert_eq!(semaphore.available_permits(), 1);
    drop(held);
    assert_eq!(semaphore.available_permits(), 2);
}

#[runtime::test]
async fn acquire_granted_then_dropped_returns_the_permits() {
    let semaphore = Semaphore::new(0);
    let (_, waker) = probe();
    let mut first = semaphore.acquire_many(2);
    let mut second = semaphore.acquire_many(2);
    assert!(poll_with(&mut first, &waker).is_pending());
    assert!(poll_with(&mut second, &waker).is_pending());
    semaphore.add_permits(2); // all to `first`, which is dropped before it runs
    drop(first);
    assert!(matches!(poll_with(&mut second, &waker), Poll::Ready(Ok(_))));
    assert_eq!(semaphore.available_permits(), 2);
}

#[runtime::test]
async fn dropped_acquires_release_their_wakers() {
    let semaphore = Arc::new(Semaphore::new(1));
    park_then_drop(semaphore.acquire_many(2));
    let _held = semaphore.acquire().await.unwrap();
    park_then_drop(semaphore.acquire());
    park_then_drop(semaphore.clone().acquire_owned());
    park_then_drop(semaphore.clone().acquire_many_owned(3));
}

// ---- RwLock ----

#[runtime::test(worker_threads = 2)]
async fn aborted_writer_lets_the_readers_behind_it_in() {
    let lock = Arc::new(RwLock::new(0));
    let reader = lock.read().await;
    let writer = runtime::spawn({
        let lock = lock.clone();
        async move { *lock.write().await += 1 }
    });
    wait_parked(writer.id()).await;
    let late_reader = runtime::spawn({
        let lock = lock.clone();
        async move { *lock.read().await }
    });
    wait_parked(late_reader.id()).await;
    abort_parked(writer).await;
    // Still holding `reader`: the late reader shares it now that no writer is queued.
    assert_eq!(within(late_reader).await.unwrap(), 0);
    drop(reader);
    assert!(lock.try_write().is_ok());
}

#[runtime::test]
async fn dropped_read_and_write_release_their_wakers() {
    let lock = RwLock::new(());
    let reader = lock.read().await;
    park_then_drop(lock.write());
    drop(reader);
    let _writer = lock.write().await;
    park_then_drop(lock.read());
    park_then_drop(lock.write());
}

// ---- Notify ----

#[runtime::test(worker_threads = 2)]
async fn aborted_waiter_does_not_swallow_a_later_notify_one() {
    let notify = Arc::new(Notify::new());
    let first = runtime::spawn({
        let notify = notify.clone();
        async move { notify.notified().await }
    });
    wait_parked(first.id()).await;
    let second = runtime::spawn({
        let notify = notify.clone();
        async move { notify.notified().await }
    });
    wait_parked(second.id()).await;
    abort_parked(first).await;
    notify.notify_one();
    within(second).await.unwrap();
    let (_, waker) = probe();
    let mut fresh = notify.notified();
    assert!(
        poll_with(&mut fresh, &waker).is_pending(),
        "one notify_one, one wake"
    );
}

#[runtime::test]
async fn notified_picked_by_notify_one_then_dropped_passes_it_on() {
    let notify = Notify::new();
    let (_, waker) = probe();
    let mut first = notify.notified();
    let mut second = notify.notified();
    assert!(poll_with(&mut first, &waker).is_pending());
    assert!(poll_with(&mut second, &waker).is_pending());
    notify.notify_one(); // picks `first`, which is dropped before it runs
    drop(first);
    assert!(
        poll_with(&mut second, &waker).is_ready(),
        "the notification was lost"
    );

    // With nobody behind it, the passed-on notification is stored as the permit.
    let mut only = notify.notified();
    assert!(poll_with(&mut only, &waker).is_pending());
    notify.notify_one();
    drop(only);
    assert!(poll_with(&mut notify.notified(), &waker).is_ready());
}

#[runtime::test]
async fn notified_timed_out_leaves_no_waiter_behind() {
    let notify = Notify::new();
    let timed_out = runtime::time::timeout(Duration::from_millis(5), notify.notified()).await;
    assert!(timed_out.is_err());
    notify.notify_one(); // nobody waits: stored
    within(notify.notified()).await;
    park_then_drop(notify.notified());
}

// ---- WaitGroup ----

#[runtime::test]
async fn dropped_wait_releases_its_waker() {
    let wg = WaitGroup::new();
    wg.add(1);
    park_then_drop(wg.wait());
    let timed_out = runtime::time::timeout(Duration::from_millis(5), wg.wait()).await;
    assert!(timed_out.is_err());
    wg.done();
    within(wg.wait()).await;
}
