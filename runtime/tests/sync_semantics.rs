//! What a user relies on from `runtime::sync`: mutual exclusion, FIFO hand-off, semaphore
//! fairness, close, reader/writer sharing, Notify's permit rules and WaitGroup's counter.

use support::{parked, wait_for, within};
use test_support as support;

use runtime::sync::{AcquireError, Mutex, Notify, RwLock, Semaphore, TryAcquireError, WaitGroup};
use runtime::TaskId;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

async fn wait_parked(id: TaskId) {
    wait_for(|p| parked(p, id)).await;
}

/// One poll with a waker that does nothing.
fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

// ---- Mutex ----

#[runtime::test(worker_threads = 4)]
async fn mutex_excludes_under_contention_with_the_guard_held_across_awaits() {
    const TASKS: usize = 8;
    const ROUNDS: usize = 1_000;
    let counter = Arc::new(Mutex::new(0usize));
    let inside = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let (counter, inside) = (counter.clone(), inside.clone());
            runtime::spawn(async move {
                for _ in 0..ROUNDS {
                    let mut guard = counter.lock().await;
                    assert!(!inside.swap(true, SeqCst), "two guards at once");
                    let seen = *guard;
                    runtime::yield_now().await;
                    *guard = seen + 1;
                    inside.store(false, SeqCst);
                }
            })
        })
        .collect();
    for task in tasks {
        within(task).await.unwrap();
    }
    assert_eq!(*counter.lock().await, TASKS * ROUNDS);
}

#[runtime::test(worker_threads = 4)]
async fn mutex_is_handed_to_lockers_in_the_order_they_parked() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let held = log.lock().await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let log = log.clone();
        let task = runtime::spawn(async move { log.lock().await.push(i) });
        wait_parked(task.id()).await;
        tasks.push(task);
    }
    assert!(log.try_lock().is_err());
    drop(held);
    for task in tasks {
        within(task).await.unwrap();
    }
    assert_eq!(*log.lock().await, (0..8).collect::<Vec<_>>());
}

#[runtime::test]
async fn mutex_try_lock_does_not_overtake_a_queued_locker() {
    let mutex = Mutex::new(0);
    let held = mutex.lock().await;
    let mut queued = mutex.lock();
    assert!(poll_once(&mut queued).is_pending());
    drop(held); // handed to `queued`, which has not run yet
    assert!(
        mutex.try_lock().is_err(),
        "try_lock overtook a queued locker"
    );
    let Poll::Ready(mut guard) = poll_once(&mut queued) else {
        panic!("the queued locker was not handed the lock");
    };
    *guard += 1;
    drop(guard);
    assert_eq!(*mutex.try_lock().unwrap(), 1);
}

#[runtime::test(worker_threads = 2)]
async fn owned_guards_move_into_tasks_and_the_data_comes_back_out() {
    let mutex = Arc::new(Mutex::new(vec![1]));
    let guard = mutex.clone().lock_owned().await;
    let task = runtime::spawn(async move {
        let mut guard = guard;
        runtime::yield_now().await;
        guard.push(2);
    });
    within(task).await.unwrap();
    let mut mutex = Arc::try_unwrap(mutex).expect("guard dropped with the task");
    mutex.get_mut().push(3);
    assert_eq!(mutex.into_inner(), vec![1, 2, 3]);
}

// ---- Semaphore ----

#[runtime::test(worker_threads = 4)]
async fn acquire_many_at_the_head_blocks_later_small_acquires() {
    let semaphore = Arc::new(Semaphore::new(2));
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    let held = semaphore.acquire().await.unwrap();

    let big = runtime::spawn({
        let (semaphore, log) = (semaphore.clone(), log.clone());
        async move {
            let permit = semaphore.acquire_many(2).await.unwrap();
            log.lock().unwrap().push("big");
            runtime::yield_now().await;
            drop(permit);
        }
    });
    wait_parked(big.id()).await;
    // The free permit went to the head waiter: nothing is left for a latecomer.
    assert_eq!(semaphore.available_permits(), 0);
    assert_eq!(
        semaphore.try_acquire().unwrap_err(),
        TryAcquireError::NoPermits
    );

    let small = runtime::spawn({
        let (semaphore, log) = (semaphore.clone(), log.clone());
        async move {
            let _permit = semaphore.acquire().await.unwrap();
            log.lock().unwrap().push("small");
        }
    });
    wait_parked(small.id()).await;

    drop(held);
    within(big).await.unwrap();
    within(small).await.unwrap();
    assert_eq!(*log.lock().unwrap(), ["big", "small"]);
    assert_eq!(semaphore.available_permits(), 2);
}

#[runtime::test(worker_threads = 4)]
async fn acquire_many_is_not_starved_by_a_stream_of_small_acquires() {
    let semaphore = Arc::new(Semaphore::new(4));
    let stop = Arc::new(AtomicBool::new(false));
    let rounds = Arc::new(AtomicUsize::new(0));
    let churn: Vec<_> = (0..6)
        .map(|_| {
            let (semaphore, stop, rounds) = (semaphore.clone(), stop.clone(), rounds.clone());
            runtime::spawn(async move {
                while !stop.load(SeqCst) {
                    let permit = semaphore.acquire().await.unwrap();
                    rounds.fetch_add(1, SeqCst);
                    runtime::yield_now().await;
                    drop(permit);
                }
            })
        })
        .collect();
    wait_for(|_| rounds.load(SeqCst) >= 100).await;
    let all = within(semaphore.acquire_many(4)).await.unwrap();
    assert_eq!(all.num_permits(), 4);
    stop.store(true, SeqCst);
    drop(all);
    for task in churn {
        within(task).await.unwrap();
    }
    assert_eq!(semaphore.available_permits(), 4);
}

#[runtime::test]
async fn add_permits_serves_waiters_in_order_and_forget_keeps_permits_out() {
    let semaphore = Semaphore::new(0);
    let mut first = semaphore.acquire_many(2);
    let mut second = semaphore.acquire();
    assert!(poll_once(&mut first).is_pending());
    assert!(poll_once(&mut second).is_pending());
    semaphore.add_permits(1);
    assert!(poll_once(&mut second).is_pending(), "overtook the head");
    semaphore.add_permits(2);
    let Poll::Ready(Ok(first)) = poll_once(&mut first) else {
        panic!("head not granted")
    };
    let Poll::Ready(Ok(second)) = poll_once(&mut second) else {
        panic!("second not granted")
    };
    first.forget();
    drop(second);
    assert_eq!(
        semaphore.available_permits(),
        1,
        "two forgotten, one returned"
    );
}

#[runtime::test(worker_threads = 2)]
async fn close_fails_every_waiter_and_later_acquire() {
    let semaphore = Arc::new(Semaphore::new(1));
    let held = semaphore.clone().acquire_owned().await.unwrap();
    let waiters: Vec<_> = (0..3)
        .map(|n| {
            let semaphore = semaphore.clone();
            runtime::spawn(async move { semaphore.acquire_many(n + 1).await.map(drop) })
        })
        .collect();
    for waiter in &waiters {
        wait_parked(waiter.id()).await;
    }
    semaphore.close();
    assert!(semaphore.is_closed());
    for waiter in waiters {
        let error: AcquireError = within(waiter).await.unwrap().unwrap_err();
        assert_eq!(error.to_string(), "semaphore closed");
    }
    assert!(semaphore.acquire().await.is_err());
    assert_eq!(
        semaphore.try_acquire().unwrap_err(),
        TryAcquireError::Closed
    );
    drop(held);
    assert_eq!(
        semaphore.available_permits(),
        1,
        "held permits still come back"
    );
}

// ---- RwLock ----

#[runtime::test(worker_threads = 4)]
async fn readers_hold_the_lock_together() {
    const READERS: usize = 6;
    let lock = Arc::new(RwLock::new(7));
    let all_in = WaitGroup::new();
    all_in.add(READERS as i64);
    let release = Arc::new(Notify::new());
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let (lock, all_in, release) = (lock.clone(), all_in.clone(), release.clone());
            runtime::spawn(async move {
                // Created before `notify_waiters`, so it cannot miss it.
                let released = release.notified();
                let guard = lock.read().await;
                all_in.done();
                released.await; // every reader holds its guard until released
                *guard
            })
        })
        .collect();
    // Completes only if all readers hold a read guard at the same time.
    within(all_in.wait()).await;
    assert!(lock.try_write().is_err());
    assert_eq!(*lock.try_read().unwrap(), 7);
    release.notify_waiters();
    for reader in readers {
        assert_eq!(within(reader).await.unwrap(), 7);
    }
    assert!(lock.try_write().is_ok());
}

#[runtime::test(worker_threads = 4)]
async fn a_writer_excludes_readers_and_writers() {
    let lock = Arc::new(RwLock::new(0u64));
    let writing = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (lock, writing) = (lock.clone(), writing.clone());
            runtime::spawn(async move {
                for _ in 0..300 {
                    if i % 2 == 0 {
                        let mut guard = lock.write().await;
                        assert!(!writing.swap(true, SeqCst), "two writers");
                        let seen = *guard;
                        runtime::yield_now().await;
                        *guard = seen + 1;
                        writing.store(false, SeqCst);
                    } else {
                        let guard = lock.read().await;
                        assert!(!writing.load(SeqCst), "a reader beside a writer");
                        runtime::yield_now().await;
                        assert!(!writing.load(SeqCst), "a reader beside a writer");
                        drop(guard);
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        within(task).await.unwrap();
    }
    assert_eq!(*lock.read().await, 4 * 300);
}

#[runtime::test(worker_threads = 4)]
async fn a_queued_writer_blocks_later_readers() {
    let lock = Arc::new(RwLock::new(Vec::new()));
    let reader = lock.read().await;
    let writer = runtime::spawn({
        let lock = lock.clone();
        async move { lock.write().await.push("writer") }
    });
    wait_parked(writer.id()).await;
    assert!(
        lock.try_read().is_err(),
        "a reader overtook the queued writer"
    );
    let late_reader = runtime::spawn({
        let lock = lock.clone();
        async move { lock.read().await.clone() }
    });
    wait_parked(late_reader.id()).await;
    drop(reader);
    within(writer).await.unwrap();
    assert_eq!(within(late_reader).await.unwrap(), ["writer"]);
}

// ---- Notify ----

#[runtime::test]
async fn notify_one_before_notified_is_kept_as_one_permit() {
    let notify = Notify::new();
    notify.notify_one();
    notify.notify_one();
    assert!(poll_once(&mut notify.notified()).is_ready(), "the permit");
    let mut second = notify.notified();
    assert!(poll_once(&mut second).is_pending(), "permits do not add up");
    notify.notify_one();
    assert!(poll_once(&mut second).is_ready());
}

#[runtime::test]
async fn notify_waiters_wakes_current_waiters_and_stores_nothing() {
    let notify = Notify::new();
    notify.notify_waiters();
    let mut later = notify.notified();
    assert!(
        poll_once(&mut later).is_pending(),
        "notify_waiters stored a permit"
    );

    let mut waiting: Vec<_> = (0..3).map(|_| notify.notified()).collect();
    for future in &mut waiting {
        assert!(poll_once(future).is_pending());
    }
    let mut unpolled = notify.notified();
    notify.notify_waiters();
    for future in &mut waiting {
        assert!(poll_once(future).is_ready());
    }
    assert!(poll_once(&mut later).is_ready());
    assert!(
        poll_once(&mut unpolled).is_ready(),
        "created before the call"
    );
    assert!(poll_once(&mut notify.notified()).is_pending());
}

#[runtime::test(worker_threads = 4)]
async fn notify_one_wakes_exactly_one_waiter_in_fifo_order() {
    let notify = Arc::new(Notify::new());
    let woken = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for i in 0..4 {
        let (notify, woken) = (notify.clone(), woken.clone());
        let task = runtime::spawn(async move {
            notify.notified().await;
            woken.lock().unwrap().push(i);
        });
        wait_parked(task.id()).await;
        tasks.push(task);
    }
    for (n, task) in tasks.into_iter().enumerate() {
        notify.notify_one();
        within(task).await.unwrap();
        assert_eq!(
            woken.lock().unwrap().len(),
            n + 1,
            "one notify_one, one wake"
        );
    }
    assert_eq!(*woken.lock().unwrap(), [0, 1, 2, 3]);
}

// ---- WaitGroup ----

#[runtime::test(worker_threads = 4)]
async fn wait_returns_after_every_done() {
    const TASKS: usize = 16;
    let wg = WaitGroup::new();
    let finished = Arc::new(AtomicUsize::new(0));
    for _ in 0..TASKS {
        wg.add(1);
        let (wg, finished) = (wg.clone(), finished.clone());
        runtime::spawn(async move {
            runtime::yield_now().await;
            finished.fetch_add(1, SeqCst);
            wg.done();
        });
    }
    within(wg.wait()).await;
    assert_eq!(finished.load(SeqCst), TASKS);
    assert_eq!(wg.count(), 0);
}

#[runtime::test]
async fn wait_completes_only_at_zero() {
    let wg = WaitGroup::new();
    assert!(poll_once(&mut wg.wait()).is_ready(), "zero: immediate");
    wg.add(3);
    let mut wait = wg.wait();
    assert!(poll_once(&mut wait).is_pending());
    wg.done();
    wg.done();
    assert!(poll_once(&mut wait).is_pending(), "one still outstanding");
    wg.done();
    assert!(poll_once(&mut wait).is_ready());
}

#[test]
fn negative_counter_panics_like_go_and_leaves_the_count() {
    let wg = WaitGroup::new();
    wg.add(2);
    let panic = std::panic::catch_unwind(|| wg.add(-3)).unwrap_err();
    let message = panic.downcast_ref::<&str>().copied().unwrap_or_default();
    assert_eq!(message, "sync: negative WaitGroup counter");
    assert_eq!(wg.count(), 2);
    wg.done();
    wg.done();
    let panic = std::panic::catch_unwind(|| wg.done()).unwrap_err();
    let message = panic.downcast_ref::<&str>().copied().unwrap_or_default();
    assert_eq!(message, "sync: negative WaitGroup counter");
}
