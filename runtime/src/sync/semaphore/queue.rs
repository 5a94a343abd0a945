//! The semaphore's lock-free state word and its FIFO queue of waiters.
//!
//!
//! The free permits, and whether anyone is queued, live in one atomic word
//! (`permits << PERMIT_SHIFT | QUEUED | CLOSED`), so an acquire that finds permits free and
//! nobody queued, and a release that finds nobody queued, each complete with one
//! compare-and-swap and never touch the queue's mutex. Everything else takes the mutex.
//!
//! - `QUEUED` is set and cleared only under the mutex, and equals "the queue is not empty"
//!   whenever the mutex is free. An acquirer sets it in the same swap that takes the last free
//!   permits before it queues itself; a release that sees it set must take the mutex and hand
//!   its permits to the queue. Because both decisions are swaps on the one word, a release
//!   racing an acquirer about to queue either lands first (the acquirer's swap fails and it
//!   sees the permits) or sees `QUEUED` (and waits on the mutex the acquirer holds, then
//!   serves it): no permit is stranded beside a parked waiter.
//! - While the semaphore is open and `QUEUED` is set, the word holds no permits: the lock-free
//!   paths neither take nor add while it is set, and a release under the mutex gives the head
//!   everything it needs before anything becomes free. So a lock-free acquire never overtakes
//!   a queued waiter.
//! - `CLOSED` is set once, under the mutex, and never cleared.
//!
//! Invariants of the queue, under the mutex:
//! - only the head waiter holds partially assigned permits;
//! - a waiter gone from the queue (its key stale) was assigned everything it asked for, and
//!   its future owns those permits until it turns them into a permit guard or gives them
//!   back on drop;
//! - only the head leaves the queue granted, and waiters are ticketed in queue order, so
//!   `served` (the ticket of the last one granted) tells every waiter, without the mutex,
//!   whether it was granted: the woken waiter's poll and a granted future's drop skip the
//!   mutex. A waiter removed by cancel or after close was never granted, and its ticket is
//!   never served.
//!
//! `close` leaves the waiters queued and wakes them; each finds the semaphore closed on its
//! next poll, takes itself out and gives back what it had been assigned. That keeps "my key is
//! stale" meaning exactly "I was granted", even for a waiter granted just before the close.

use super::Semaphore;
use crate::coop;
use crate::loom::atomic::Ordering;
use crate::loom::{lock, MutexGuard};
use crate::park::{self, ParkReason};
use crate::sync::error::{AcquireError, TryAcquireError};
use crate::waitlist::{refresh_waker, WaitKey, WaitList, Wakeups};
use std::panic::Location;
use std::task::{ready, Context, Poll, Waker};

pub(super) struct Queue {
    /// Oldest first.
    pub(super) waiters: WaitList<Waiter>,
    /// The ticket given to the last waiter queued; `served` never passes it.
    pub(super) last_ticket: usize,
}

pub(super) struct Waiter {
    /// Permits still to be assigned: at least 1 while queued.
    remaining: u32,
    ticket: usize,
    pub(super) waker: Waker,
}

/// `ticket` was granted, given `served`. Tickets wrap; they are compared as a difference, which
/// is right while fewer than `isize::MAX` waiters are queued at once.
pub(super) fn served_includes(served: usize, ticket: usize) -> bool {
    served.wrapping_sub(ticket) as isize >= 0
}

/// Set once the semaphore is closed; never cleared.
pub(super) const CLOSED: usize = 0b01;
/// Set while the wait queue is not empty; changed only under the queue mutex.
pub(super) const QUEUED: usize = 0b10;
/// The free permits sit above the flag bits.
pub(super) const PERMIT_SHIFT: u32 = 2;

pub(super) fn permits_in(word: usize) -> usize {
    word >> PERMIT_SHIFT
}

/// What an acquire that must not park can do with the word right now.
#[must_use]
pub(super) enum TryTake {
    /// The permits were taken.
    Taken,
    /// Closed: no acquire may succeed.
    Closed,
    /// Too few free permits, or waiters queued ahead.
    NoPermits,
}

impl Semaphore {
    pub(super) fn lock(&self) -> MutexGuard<'_, Queue> {
        lock(&self.queue)
    }

    /// Takes `n` permits without parking, if they are free now.
    pub(crate) fn try_take(&self, n: u32) -> Result<(), TryAcquireError> {
        match self.take_free(n) {
            TryTake::Taken => Ok(()),
            TryTake::Closed => Err(TryAcquireError::Closed),
            TryTake::NoPermits => Err(TryAcquireError::NoPermits),
        }
    }

    /// The lock-free acquire: takes `n` free permits if nobody is queued ahead.
    pub(super) fn take_free(&self, n: u32) -> TryTake {
        let wanted = (n as usize) << PERMIT_SHIFT;
        // Acquire pairs with the Release of whoever gave the permits back, so that what they
        // did while holding them (a `Mutex`'s data) is visible to us.
        let mut word = self.word.load(Ordering::Acquire);
        loop {
            if word & CLOSED != 0 {
                return TryTake::Closed;
            }
            if word & QUEUED != 0 || word < wanted {
                return TryTake::NoPermits;
            }
            match self.word.compare_exchange_weak(
                word,
                word - wanted,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return TryTake::Taken,
                Err(actual) => word = actual,
            }
        }
    }

    /// Gives back `n` permits taken by a guard.
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        self.give_back(n);
    }

    /// Gives `n` permits to the semaphore: straight into the word if nobody is queued,
    /// otherwise to the queue under its mutex.
    pub(super) fn give_back(&self, n: usize) {
        let mut word = self.word.load(Ordering::Relaxed);
        while word & QUEUED == 0 {
            // Release publishes what the holder did with the permits to their next taker.
            match self.word.compare_exchange_weak(
                word,
                add_permits_to(word, n),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(actual) => word = actual,
            }
        }
        // Someone is queued (or was, a moment ago): `release_locked` reads the word again
        // under the mutex, where `QUEUED` cannot change.
        let mut wakeups = Wakeups::new();
        {
            let mut queue = self.lock();
            self.release_locked(&mut queue, n, &mut wakeups);
        }
        wakeups.wake_all();
    }

    /// Polls one acquire: `Ready(Ok)` once all of `pending.needed` permits belong to the
    /// caller (who must then give them back with [`release`](Semaphore::release)).
    pub(crate) fn poll_acquire(
        &self,
        pending: &mut PendingAcquire,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), AcquireError>> {
        let permit = ready!(coop::poll_proceed(cx));
        let poll = match pending.key {
            None if pending.done => panic!("acquire future polled after completion"),
            None => match self.take_free(pending.needed) {
                TryTake::Taken => Poll::Ready(Ok(())),
                TryTake::Closed => Poll::Ready(Err(AcquireError(()))),
                // Zero permits are always there, even behind a queue.
                TryTake::NoPermits if pending.needed == 0 => Poll::Ready(Ok(())),
                TryTake::NoPermits => self.take_or_queue(pending, cx),
            },
            Some(key) => self.poll_queued(pending, key, cx),
        };
        match poll {
            Poll::Pending => {
                park::record_blocked(pending.reason.code(), pending.site, pending.blocked_on)
            }
            Poll::Ready(_) => {
                pending.done = true;
                permit.made_progress();
            }
        }
        poll
    }

    /// The slow path of a first poll: under the mutex, takes the permits if they turned up
    /// meanwhile, or else takes what is free and queues for the rest.
    pub(super) fn take_or_queue(
        &self,
        pending: &mut PendingAcquire,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), AcquireError>> {
        let needed = pending.needed;
        let wanted = (needed as usize) << PERMIT_SHIFT;
        let mut queue = self.lock();
        let mut word = self.word.load(Ordering::Acquire);
        let assigned = loop {
            if word & CLOSED != 0 {
                return Poll::Ready(Err(AcquireError(())));
            }
            // `QUEUED` is stable while we hold the mutex; with it set the word holds no
            // permits (module doc), so there is nothing to take and nothing to swap.
            if word & QUEUED != 0 {
                debug_assert!(!queue.waiters.is_empty() && permits_in(word) == 0);
                break 0;
            }
            // Nobody queued: take everything we need, or everything there is and mark the
            // queue busy in the same swap, so a release from now on comes to the mutex.
            let (next, assigned) = if word >= wanted {
                (word - wanted, needed)
            } else {
                ((word & CLOSED) | QUEUED, permits_in(word) as u32)
            };
            match self
                .word
                .compare_exchange(word, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break assigned,
                Err(actual) => word = actual,
            }
        };
        if assigned == needed {
            return Poll::Ready(Ok(()));
        }
        queue.last_ticket = queue.last_ticket.wrapping_add(1);
        pending.ticket = queue.last_ticket;
        pending.key = Some(queue.waiters.push_back(Waiter {
            remaining: needed - assigned,
            ticket: pending.ticket,
            waker: cx.waker().clone(),
        }));
        Poll::Pending
    }

    /// A later poll of a queued acquire: granted, failed by `close`, or still waiting.
    pub(super) fn poll_queued(
        &self,
        pending: &mut PendingAcquire,
        key: WaitKey,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), AcquireError>> {
        // The usual case, woken because granted: no need for the mutex. Acquire pairs with
        // the Release that published the grant, after the permits' last holder let go.
        if self.granted(pending.ticket) {
            pending.key = None;
            return Poll::Ready(Ok(()));
        }
        let mut wakeups = Wakeups::new();
        let poll = {
            let mut queue = self.lock();
            let closed = self.word.load(Ordering::Acquire) & CLOSED != 0;
            match queue.waiters.get_mut(key) {
                // Gone from the queue: granted in full.
                None => {
                    pending.key = None;
                    Poll::Ready(Ok(()))
                }
                Some(_) if closed => {
                    pending.key = None;
                    let waiter = queue.waiters.remove(key);
                    let waiter = waiter.expect("invariant: waiter just seen");
                    let assigned = (pending.needed - waiter.remaining) as usize;
                    self.release_locked(&mut queue, assigned, &mut wakeups);
                    Poll::Ready(Err(AcquireError(())))
                }
                Some(waiter) => {
                    refresh_waker(&mut waiter.waker, cx.waker());
                    Poll::Pending
                }
            }
        };
        wakeups.wake_all();
        poll
    }

    /// Abandons an acquire (its future is dropped): gives back whatever it was assigned.
    pub(crate) fn cancel_acquire(&self, pending: &mut PendingAcquire) {
        if self.withdraw(pending) {
            self.give_back(pending.needed as usize);
        }
    }

    /// Takes a queued acquire out of the queue. True if it had been granted in full: the
    /// caller then owns `pending.needed` permits and must give them back or forget them.
    /// Otherwise whatever it had been assigned is given back, and it owns nothing.
    pub(crate) fn withdraw(&self, pending: &mut PendingAcquire) -> bool {
        let Some(key) = pending.key.take() else {
            return false;
        };
        if self.granted(pending.ticket) {
            return true;
        }
        let mut wakeups = Wakeups::new();
        let granted = {
            let mut queue = self.lock();
            let (granted, assigned) = match queue.waiters.remove(key) {
                Some(waiter) => (false, pending.needed - waiter.remaining),
                // Granted between the check above and the lock.
                None => (true, 0),
            };
            // Even with nothing to give back this must run: the queue may now be empty, and
            // `QUEUED` must follow it.
            self.release_locked(&mut queue, assigned as usize, &mut wakeups);
            granted
        };
        wakeups.wake_all();
        granted
    }

    /// Takes the permits of a first acquire now, or queues it, without a task: no coop
    /// budget, no park recorded, a no-op waker until it is polled with
    /// [`poll_acquire`](Semaphore::poll_acquire). `Ok(true)`: taken; `Ok(false)`: queued, in
    /// the order of this call.
    pub(crate) fn take_or_enqueue(
        &self,
        pending: &mut PendingAcquire,
    ) -> Result<bool, AcquireError> {
        debug_assert!(pending.key.is_none() && !pending.done);
        let taken = match self.take_free(pending.needed) {
            TryTake::Taken => Poll::Ready(Ok(())),
            TryTake::Closed => Poll::Ready(Err(AcquireError(()))),
            TryTake::NoPermits if pending.needed == 0 => Poll::Ready(Ok(())),
            TryTake::NoPermits => {
                self.take_or_queue(pending, &mut Context::from_waker(Waker::noop()))
            }
        };
        match taken {
            Poll::Ready(result) => {
                pending.done = true;
                result.map(|()| true)
            }
            Poll::Pending => Ok(false),
        }
    }

    /// True if the waiter holding `ticket` was granted everything it asked for.
    pub(super) fn granted(&self, ticket: usize) -> bool {
        served_includes(self.served.load(Ordering::Acquire), ticket)
    }

    /// Hands `n` permits to the queue, head first; the rest become free, and `QUEUED` is
    /// brought in line with the queue.
    ///
    /// Called with the queue mutex held (`queue` is its guard).
    pub(super) fn release_locked(&self, queue: &mut Queue, mut n: usize, wakeups: &mut Wakeups) {
        let waiters = &mut queue.waiters;
        let mut word = self.word.load(Ordering::Acquire);
        if word & CLOSED == 0 {
            while n > 0 {
                let Some(head) = waiters.front_mut() else {
                    break;
                };
                let given = n.min(head.remaining as usize);
                head.remaining -= given as u32;
                n -= given;
                if head.remaining == 0 {
                    let head = waiters.pop_front().expect("invariant: head just seen");
                    // Release: the grant carries the permits' history to the waiter.
                    self.served.store(head.ticket, Ordering::Release);
                    wakeups.push(head.waker);
                }
            }
        }
        let queued = if waiters.is_empty() { 0 } else { QUEUED };
        if n == 0 && word & QUEUED == queued {
            return;
        }
        // Lock-free acquires and releases may still change the word if `QUEUED` was clear.
        loop {
            let next = (add_permits_to(word, n) & !QUEUED) | queued;
            match self
                .word
                .compare_exchange_weak(word, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(actual) => word = actual,
            }
        }
    }
}

/// `word` with `n` more free permits.
///
/// # Panics
/// If that would exceed [`Semaphore::MAX_PERMITS`].
pub(super) fn add_permits_to(word: usize, n: usize) -> usize {
    let free = permits_in(word);
    match free.checked_add(n) {
        Some(total) if total <= Semaphore::MAX_PERMITS => word + (n << PERMIT_SHIFT),
        _ => panic!(
            "adding {n} permits to {free} would exceed Semaphore::MAX_PERMITS ({})",
            Semaphore::MAX_PERMITS
        ),
    }
}

/// One acquire in progress, embedded in every future that takes permits (semaphore, locks).
pub(crate) struct PendingAcquire {
    pub(super) needed: u32,
    /// Our queue entry while parked; once it is stale, all `needed` permits are ours.
    key: Option<WaitKey>,
    /// Our place in line while `key` is set: once `served` reaches it, we were granted.
    ticket: usize,
    /// Set once the future returned `Ready`.
    done: bool,
    reason: ParkReason,
    pub(super) site: &'static Location<'static>,
    /// What a park of this acquire waits on (a lock's holders, `park::holder`); 0: not
    /// recorded.
    blocked_on: u64,
}

impl PendingAcquire {
    pub(crate) fn new(
        needed: u32,
        reason: ParkReason,
        site: &'static Location<'static>,
    ) -> PendingAcquire {
        PendingAcquire {
            needed,
            key: None,
            ticket: 0,
            done: false,
            reason,
            site,
            blocked_on: 0,
        }
    }

    /// Records `blocked_on` (`park::holder`) with each park of this acquire.
    pub(crate) fn blocked_on(mut self, blocked_on: u64) -> PendingAcquire {
        self.blocked_on = blocked_on;
        self
    }

    pub(crate) fn site(&self) -> &'static Location<'static> {
        self.site
    }
}
