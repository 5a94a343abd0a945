//! Model checks of the state word and the wait queue: hand-off to a parked waiter, a
//! lock-free release racing an acquirer on its way into the queue, close and cancellation
//! racing both. A lost permit or a lost wake-up deadlocks `block_on`, which loom reports;
//! the permit count is checked at the end of every model.

use super::queue::QUEUED;
use super::*;
use crate::loom::atomic::AtomicUsize;
use crate::loom::Arc;
use loom::thread;
use std::task::Waker;

/// A cell that only permit holders touch; loom reports any two accesses the semaphore
/// fails to order.
struct Guarded(crate::loom::UnsafeCell<usize>);

// SAFETY: every access in these models is made while holding the semaphore's only
// permit, which is what the model checks orders them.
unsafe impl Sync for Guarded {}

impl Guarded {
    fn bump(&self) {
        // SAFETY: called only by the holder of the one permit (see the `Sync` impl).
        self.0.with_mut(|value| unsafe { *value += 1 });
    }
}

#[test]
fn loom_permit_hand_off_orders_the_holders_accesses() {
    loom::model(|| {
        // What `Mutex` relies on: a permit taken lock-free, handed off through the queue,
        // or seen granted through `served`, comes with everything its last holder did.
        let semaphore = Arc::new(Semaphore::new(1));
        let data = Arc::new(Guarded(crate::loom::UnsafeCell::new(0)));
        let held = semaphore.try_acquire().unwrap();
        let lockers: Vec<_> = (0..2)
            .map(|_| {
                let data = data.clone();
                on_thread(&semaphore, move |semaphore| {
                    let permit = loom::future::block_on(semaphore.acquire()).unwrap();
                    data.bump();
                    drop(permit);
                })
            })
            .collect();
        data.bump();
        drop(held);
        for locker in lockers {
            locker.join().unwrap();
        }
        let permit = semaphore.try_acquire().unwrap();
        // SAFETY: we hold the only permit, and every other holder has been joined.
        data.0.with(|value| assert_eq!(unsafe { *value }, 3));
        drop(permit);
    });
}

#[test]
fn loom_release_racing_an_acquirer_about_to_queue_lets_it_proceed() {
    loom::model(|| {
        // One free and one held: the acquirer of two takes the free one and queues for
        // the other, unless the lock-free release gets in first.
        let semaphore = Arc::new(Semaphore::new(2));
        let held = semaphore.try_acquire().unwrap();
        let acquirer = on_thread(&semaphore, |semaphore| {
            let permit = loom::future::block_on(semaphore.acquire_many(2)).unwrap();
            assert_eq!(permit.num_permits(), 2);
        });
        drop(held);
        acquirer.join().unwrap();
        assert_eq!(semaphore.available_permits(), 2, "a permit was lost");
        assert_eq!(semaphore.word.load(Ordering::Relaxed) & QUEUED, 0);
    });
}

#[test]
fn loom_two_acquirers_one_permit_exactly_one_holds_it_at_a_time() {
    loom::model(|| {
        let semaphore = Arc::new(Semaphore::new(1));
        let holders = Arc::new(AtomicUsize::new(0));
        let held = semaphore.try_acquire().unwrap();
        let acquirers: Vec<_> = (0..2)
            .map(|_| {
                let holders = holders.clone();
                on_thread(&semaphore, move |semaphore| {
                    let permit = loom::future::block_on(semaphore.acquire()).unwrap();
                    assert_eq!(holders.fetch_add(1, Ordering::SeqCst), 0, "two holders");
                    holders.fetch_sub(1, Ordering::SeqCst);
                    // The other one is woken by this release.
                    drop(permit);
                })
            })
            .collect();
        drop(held);
        for acquirer in acquirers {
            acquirer.join().unwrap();
        }
        assert_eq!(semaphore.available_permits(), 1, "a permit was lost");
    });
}

#[test]
fn loom_close_racing_an_acquire_fails_it_or_lets_it_finish() {
    loom::model(|| {
        // Two wanted, one there: the acquire can only fail, whether it saw the close
        // before queueing or was woken by it, and must give its one back.
        let semaphore = Arc::new(Semaphore::new(1));
        let acquirer = on_thread(&semaphore, |semaphore| {
            loom::future::block_on(semaphore.acquire_many(2)).is_err()
        });
        semaphore.close();
        assert!(acquirer.join().unwrap(), "two permits were never there");
        assert_eq!(
            semaphore.available_permits(),
            1,
            "the partial permit was lost"
        );
        assert!(semaphore.try_acquire().is_err());
    });
}

#[test]
fn loom_close_racing_an_acquire_and_a_release() {
    loom::model(|| {
        let semaphore = Arc::new(Semaphore::new(0));
        let acquirer = on_thread(&semaphore, |semaphore| {
            // Granted or failed, depending on which came first; the permit comes back
            // either way.
            let _ = loom::future::block_on(semaphore.acquire());
        });
        semaphore.add_permits(1);
        semaphore.close();
        acquirer.join().unwrap();
        assert_eq!(semaphore.available_permits(), 1, "a permit was lost");
    });
}

#[test]
fn loom_dropped_partial_acquire_passes_its_permits_to_the_next_waiter() {
    loom::model(|| {
        let semaphore = Arc::new(Semaphore::new(2));
        let first = semaphore.try_acquire().unwrap();
        let second = semaphore.try_acquire().unwrap();
        let cancelled = spawn_cancelled_acquire(&semaphore, 2);
        drop(first);
        drop(second);
        // Whatever the dropped acquire was holding must reach this one.
        let permit = loom::future::block_on(semaphore.acquire_many(2)).unwrap();
        drop(permit);
        cancelled.join().unwrap();
        assert_eq!(semaphore.available_permits(), 2, "a permit was lost");
        assert_eq!(semaphore.word.load(Ordering::Relaxed) & QUEUED, 0);
    });
}

fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

/// A thread that polls `acquire_many(n)` once and drops it: queued with none, some or all
/// of its permits assigned, or granted outright by a release that got in first.
fn spawn_cancelled_acquire(semaphore: &Arc<Semaphore>, n: u32) -> thread::JoinHandle<()> {
    on_thread(semaphore, move |semaphore| {
        let mut acquire = semaphore.acquire_many(n);
        let _ = poll_once(&mut acquire);
        drop(acquire);
    })
}

/// Runs `f` on a new model thread with its own handle to `semaphore`.
fn on_thread<R: 'static>(
    semaphore: &Arc<Semaphore>,
    f: impl FnOnce(&Semaphore) -> R + 'static,
) -> thread::JoinHandle<R> {
    let semaphore = semaphore.clone();
    thread::spawn(move || f(&semaphore))
}

#[test]
fn loom_release_hands_off_to_parked_waiter() {
    loom::model(|| {
        let semaphore = Arc::new(Semaphore::new(1));
        let held = semaphore.try_acquire().unwrap();
        let waiter = on_thread(&semaphore, |semaphore| {
            let permit = loom::future::block_on(semaphore.acquire()).unwrap();
            assert_eq!(semaphore.available_permits(), 0);
            drop(permit);
        });
        drop(held);
        waiter.join().unwrap();
        assert_eq!(semaphore.available_permits(), 1);
    });
}

#[test]
fn loom_cancelled_waiter_races_release() {
    loom::model(|| {
        let semaphore = Arc::new(Semaphore::new(1));
        let held = semaphore.try_acquire().unwrap();
        let cancelled = spawn_cancelled_acquire(&semaphore, 1);
        let next = on_thread(&semaphore, |semaphore| {
            drop(loom::future::block_on(semaphore.acquire()).unwrap());
        });
        drop(held);
        cancelled.join().unwrap();
        next.join().unwrap();
        assert_eq!(semaphore.available_permits(), 1, "a permit was lost");
    });
}

#[test]
fn loom_cancelled_partial_head_races_piecemeal_release() {
    loom::model(|| {
        let semaphore = Arc::new(Semaphore::new(2));
        let first = semaphore.try_acquire().unwrap();
        let second = semaphore.try_acquire().unwrap();
        let cancelled = spawn_cancelled_acquire(&semaphore, 2);
        // Two separate releases: the head may hold one of them when it is dropped.
        drop(first);
        drop(second);
        cancelled.join().unwrap();
        assert_eq!(semaphore.available_permits(), 2, "a permit was lost");
    });
}

#[test]
fn loom_close_races_parked_waiter() {
    loom::model(|| {
        let semaphore = Arc::new(Semaphore::new(0));
        let waiter = on_thread(&semaphore, |semaphore| {
            loom::future::block_on(semaphore.acquire()).is_err()
        });
        semaphore.close();
        assert!(waiter.join().unwrap(), "closed with no permits: must fail");
        assert_eq!(semaphore.available_permits(), 0);
    });
}
