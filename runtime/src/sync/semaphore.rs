//! A counting semaphore with a strict FIFO queue of waiters: the base of `Mutex` and `RwLock`.
//!
//! Permits are handed to waiters in queue order. A release first goes to the head waiter,
//! which may be assigned permits a few at a time until it has all it asked for; only then is
//! it popped and woken, and the rest goes to the next waiter. So a large `acquire_many` at the
//! head holds back every later waiter, however small: nobody starves.
//!
//! # The state word and the queue lock
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

use super::error::{AcquireError, TryAcquireError};
use crate::coop;
use crate::loom::atomic::{AtomicUsize, Ordering};
use crate::loom::{lock, Mutex, MutexGuard};
use crate::park::{self, ParkReason};
use crate::waitlist::{WaitKey, WaitList, Wakeups};
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll, Waker};

/// A counting semaphore whose waiters are served strictly first come, first served.
///
/// Every acquire future parks with reason `semaphore acquire` at the caller of `acquire*`.
///
/// ```
/// use runtime::sync::Semaphore;
/// use std::sync::Arc;
///
/// # runtime::Runtime::new().unwrap().block_on(async {
/// // At most two downloads at a time.
/// let slots = Arc::new(Semaphore::new(2));
/// let mut tasks = Vec::new();
/// for i in 0..5 {
///     let slots = slots.clone();
///     tasks.push(runtime::spawn(async move {
///         let _permit = slots.acquire_owned().await.unwrap();
///         i * 10 // the permit is given back when `_permit` drops
///     }));
/// }
/// for task in tasks {
///     task.await.unwrap();
/// }
/// assert_eq!(slots.available_permits(), 2);
/// # });
/// ```
pub struct Semaphore {
    /// `permits << PERMIT_SHIFT | QUEUED | CLOSED`; see the module doc for who may change what.
    word: AtomicUsize,
    /// The ticket of the waiter most recently granted in full, stored (under the queue mutex)
    /// as it leaves the head. Tickets are handed out in queue order and only the head is ever
    /// granted, so a waiter whose ticket is at most this one was granted: it can tell without
    /// taking the mutex.
    served: AtomicUsize,
    /// Holding this mutex is what lets a thread set or clear `QUEUED`, set `CLOSED`, or change
    /// the word while `QUEUED` is set.
    queue: Mutex<Queue>,
}

struct Queue {
    /// Oldest first.
    waiters: WaitList<Waiter>,
    /// The ticket given to the last waiter queued; `served` never passes it.
    last_ticket: usize,
}

struct Waiter {
    /// Permits still to be assigned: at least 1 while queued.
    remaining: u32,
    ticket: usize,
    waker: Waker,
}

/// `ticket` was granted, given `served`. Tickets wrap; they are compared as a difference, which
/// is right while fewer than `isize::MAX` waiters are queued at once.
fn served_includes(served: usize, ticket: usize) -> bool {
    served.wrapping_sub(ticket) as isize >= 0
}

/// Set once the semaphore is closed; never cleared.
const CLOSED: usize = 0b01;
/// Set while the wait queue is not empty; changed only under the queue mutex.
const QUEUED: usize = 0b10;
/// The free permits sit above the flag bits.
const PERMIT_SHIFT: u32 = 2;

fn permits_in(word: usize) -> usize {
    word >> PERMIT_SHIFT
}

/// What an acquire that must not park can do with the word right now.
#[must_use]
enum TryTake {
    /// The permits were taken.
    Taken,
    /// Closed: no acquire may succeed.
    Closed,
    /// Too few free permits, or waiters queued ahead.
    NoPermits,
}

impl Semaphore {
    /// The most permits a semaphore can hold; `new` and `add_permits` panic beyond it.
    pub const MAX_PERMITS: usize = usize::MAX >> 3;

    /// Creates a semaphore with `permits` free permits.
    ///
    /// # Panics
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
    pub fn new(permits: usize) -> Semaphore {
        assert!(
            permits <= Semaphore::MAX_PERMITS,
            "a semaphore holds at most {} permits, {permits} requested",
            Semaphore::MAX_PERMITS
        );
        Semaphore {
            word: AtomicUsize::new(permits << PERMIT_SHIFT),
            served: AtomicUsize::new(0),
            queue: Mutex::new(Queue {
                waiters: WaitList::new(),
                last_ticket: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        lock(&self.queue)
    }

    /// Waits for one permit, parking (reason `semaphore acquire`) behind earlier waiters.
    ///
    /// # Errors
    /// [`AcquireError`] if the semaphore is closed before the permit is granted.
    ///
    /// Cancel safety: dropping the future gives back any permit assigned to it and passes it
    /// to the next waiter; it loses its place in the queue.
    #[track_caller]
    pub fn acquire(&self) -> Acquire<'_> {
        self.acquire_many(1)
    }

    /// Waits for `n` permits at once, parking (reason `semaphore acquire`) behind earlier
    /// waiters. While it waits at the head of the queue, no later waiter gets a permit.
    ///
    /// # Errors
    /// [`AcquireError`] if the semaphore is closed before all `n` permits are granted.
    ///
    /// Cancel safety: dropping the future gives back every permit assigned to it so far
    /// (to the next waiters); none is lost.
    ///
    /// ```
    /// use runtime::sync::Semaphore;
    ///
    /// # runtime::Runtime::new().unwrap().block_on(async {
    /// let budget = Semaphore::new(10);
    /// let big = budget.acquire_many(7).await.unwrap();
    /// assert_eq!(budget.available_permits(), 3);
    /// drop(big);
    /// assert_eq!(budget.available_permits(), 10);
    /// # });
    /// ```
    #[track_caller]
    pub fn acquire_many(&self, n: u32) -> Acquire<'_> {
        Acquire {
            semaphore: self,
            pending: PendingAcquire::new(n, ParkReason::SemaphoreAcquire, Location::caller()),
        }
    }

    /// [`acquire`](Semaphore::acquire) for a shared semaphore: the permit keeps the `Arc`
    /// and can move into a spawned task.
    ///
    /// # Errors
    /// [`AcquireError`] if the semaphore is closed before the permit is granted.
    #[track_caller]
    pub fn acquire_owned(self: Arc<Self>) -> AcquireOwned {
        self.acquire_many_owned(1)
    }

    /// [`acquire_many`](Semaphore::acquire_many) for a shared semaphore.
    ///
    /// # Errors
    /// [`AcquireError`] if the semaphore is closed before all `n` permits are granted.
    #[track_caller]
    pub fn acquire_many_owned(self: Arc<Self>, n: u32) -> AcquireOwned {
        AcquireOwned {
            semaphore: self,
            pending: PendingAcquire::new(n, ParkReason::SemaphoreAcquire, Location::caller()),
        }
    }

    /// Takes one permit if one is free and nobody is queued for it.
    ///
    /// # Errors
    /// [`TryAcquireError::NoPermits`] if none is free (or earlier waiters are queued),
    /// [`TryAcquireError::Closed`] if the semaphore is closed.
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free and nobody is queued for them.
    ///
    /// # Errors
    /// As [`try_acquire`](Semaphore::try_acquire).
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_take(n)?;
        Ok(SemaphorePermit {
            semaphore: self,
            permits: n,
        })
    }

    /// [`try_acquire`](Semaphore::try_acquire) for a shared semaphore.
    ///
    /// # Errors
    /// As [`try_acquire`](Semaphore::try_acquire).
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// [`try_acquire_many`](Semaphore::try_acquire_many) for a shared semaphore.
    ///
    /// # Errors
    /// As [`try_acquire`](Semaphore::try_acquire).
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_take(n)?;
        Ok(OwnedSemaphorePermit {
            semaphore: self,
            permits: n,
        })
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
    fn take_free(&self, n: u32) -> TryTake {
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

    /// Adds `n` permits, handing them to queued waiters first (in order).
    ///
    /// # Panics
    /// If the free permits would exceed [`Semaphore::MAX_PERMITS`].
    pub fn add_permits(&self, n: usize) {
        // Checked before any permit reaches a waiter, so a panic leaves nothing half done.
        assert!(
            n <= Semaphore::MAX_PERMITS,
            "adding {n} permits would exceed Semaphore::MAX_PERMITS ({})",
            Semaphore::MAX_PERMITS
        );
        self.give_back(n);
    }

    /// The permits free right now (zero while waiters are queued).
    pub fn available_permits(&self) -> usize {
        permits_in(self.word.load(Ordering::Acquire))
    }

    /// Closes the semaphore: every queued and future `acquire` fails with [`AcquireError`]
    /// and every `try_acquire` with [`TryAcquireError::Closed`]. Permits already held stay
    /// valid and are still given back on drop.
    ///
    /// ```
    /// use runtime::sync::Semaphore;
    ///
    /// # runtime::Runtime::new().unwrap().block_on(async {
    /// let semaphore = Semaphore::new(0);
    /// semaphore.close();
    /// assert!(semaphore.is_closed());
    /// assert!(semaphore.acquire().await.is_err());
    /// # });
    /// ```
    pub fn close(&self) {
        let wakeups: Vec<Waker> = {
            let mut queue = self.lock();
            self.word.fetch_or(CLOSED, Ordering::AcqRel);
            // They stay queued: each takes itself out on its next poll (see the module doc).
            queue.waiters.iter_mut().map(|w| w.waker.clone()).collect()
        };
        for waker in wakeups {
            waker.wake();
        }
    }

    /// True once [`close`](Semaphore::close) was called.
    pub fn is_closed(&self) -> bool {
        self.word.load(Ordering::Acquire) & CLOSED != 0
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
    fn give_back(&self, n: usize) {
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
            Poll::Pending => park::record(pending.reason, pending.site),
            Poll::Ready(_) => {
                pending.done = true;
                permit.made_progress();
            }
        }
        poll
    }

    /// The slow path of a first poll: under the mutex, takes the permits if they turned up
    /// meanwhile, or else takes what is free and queues for the rest.
    fn take_or_queue(
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
    fn poll_queued(
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
                    if !waiter.waker.will_wake(cx.waker()) {
                        waiter.waker = cx.waker().clone();
                    }
                    Poll::Pending
                }
            }
        };
        wakeups.wake_all();
        poll
    }

    /// Abandons an acquire (its future is dropped): gives back whatever it was assigned.
    pub(crate) fn cancel_acquire(&self, pending: &mut PendingAcquire) {
        let Some(key) = pending.key.take() else {
            return;
        };
        if self.granted(pending.ticket) {
            // Out of the queue and ours: an ordinary release.
            self.give_back(pending.needed as usize);
            return;
        }
        let mut wakeups = Wakeups::new();
        {
            let mut queue = self.lock();
            let assigned = match queue.waiters.remove(key) {
                Some(waiter) => pending.needed - waiter.remaining,
                // Granted, but never turned into a permit guard.
                None => pending.needed,
            };
            // Even with nothing to give back this must run: the queue may now be empty, and
            // `QUEUED` must follow it.
            self.release_locked(&mut queue, assigned as usize, &mut wakeups);
        }
        wakeups.wake_all();
    }

    /// True if the waiter holding `ticket` was granted everything it asked for.
    fn granted(&self, ticket: usize) -> bool {
        served_includes(self.served.load(Ordering::Acquire), ticket)
    }

    /// Hands `n` permits to the queue, head first; the rest become free, and `QUEUED` is
    /// brought in line with the queue.
    ///
    /// Called with the queue mutex held (`queue` is its guard).
    fn release_locked(&self, queue: &mut Queue, mut n: usize, wakeups: &mut Wakeups) {
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
fn add_permits_to(word: usize, n: usize) -> usize {
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
    needed: u32,
    /// Our queue entry while parked; once it is stale, all `needed` permits are ours.
    key: Option<WaitKey>,
    /// Our place in line while `key` is set: once `served` reaches it, we were granted.
    ticket: usize,
    /// Set once the future returned `Ready`.
    done: bool,
    reason: ParkReason,
    site: &'static Location<'static>,
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
        }
    }

    pub(crate) fn site(&self) -> &'static Location<'static> {
        self.site
    }
}

/// The future of [`Semaphore::acquire`] and [`Semaphore::acquire_many`].
#[must_use = "futures do nothing unless awaited"]
pub struct Acquire<'a> {
    semaphore: &'a Semaphore,
    pending: PendingAcquire,
}

impl<'a> Future for Acquire<'a> {
    type Output = Result<SemaphorePermit<'a>, AcquireError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        ready!(this.semaphore.poll_acquire(&mut this.pending, cx))?;
        Poll::Ready(Ok(SemaphorePermit {
            semaphore: this.semaphore,
            permits: this.pending.needed,
        }))
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        self.semaphore.cancel_acquire(&mut self.pending);
    }
}

/// The future of [`Semaphore::acquire_owned`] and [`Semaphore::acquire_many_owned`].
#[must_use = "futures do nothing unless awaited"]
pub struct AcquireOwned {
    semaphore: Arc<Semaphore>,
    pending: PendingAcquire,
}

impl Future for AcquireOwned {
    type Output = Result<OwnedSemaphorePermit, AcquireError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        ready!(this.semaphore.poll_acquire(&mut this.pending, cx))?;
        Poll::Ready(Ok(OwnedSemaphorePermit {
            semaphore: this.semaphore.clone(),
            permits: this.pending.needed,
        }))
    }
}

impl Drop for AcquireOwned {
    fn drop(&mut self) {
        self.semaphore.cancel_acquire(&mut self.pending);
    }
}

/// Permits borrowed from a [`Semaphore`]; dropping it gives them back.
#[must_use = "the permits are given back as soon as this is dropped"]
pub struct SemaphorePermit<'a> {
    semaphore: &'a Semaphore,
    permits: u32,
}

/// Permits taken from a shared [`Semaphore`]; dropping it gives them back.
#[must_use = "the permits are given back as soon as this is dropped"]
pub struct OwnedSemaphorePermit {
    semaphore: Arc<Semaphore>,
    permits: u32,
}

impl SemaphorePermit<'_> {
    /// Keeps the permits out of the semaphore for good: dropping no longer gives them back.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.permits as usize
    }
}

impl OwnedSemaphorePermit {
    /// Keeps the permits out of the semaphore for good: dropping no longer gives them back.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.permits as usize
    }

    /// The semaphore the permits belong to.
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.semaphore
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.semaphore.release(self.permits as usize);
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.semaphore.release(self.permits as usize);
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let queue = self.lock();
        let word = self.word.load(Ordering::Acquire);
        f.debug_struct("Semaphore")
            .field("permits", &permits_in(word))
            .field("waiters", &queue.waiters.len())
            .field("closed", &(word & CLOSED != 0))
            .finish()
    }
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("permits", &self.pending.needed)
            .field("site", &self.pending.site)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for AcquireOwned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcquireOwned")
            .field("permits", &self.pending.needed)
            .field("site", &self.pending.site)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.permits)
            .finish_non_exhaustive()
    }
}

fn _assert_send_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Semaphore>();
    send_sync::<Acquire<'_>>();
    send_sync::<AcquireOwned>();
    send_sync::<SemaphorePermit<'_>>();
    send_sync::<OwnedSemaphorePermit>();
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::task::Waker;

    fn poll<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
        Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn head_is_assigned_permits_piecemeal_and_blocks_later_waiters() {
        let semaphore = Semaphore::new(1);
        let mut big = semaphore.acquire_many(3);
        assert!(poll(&mut big).is_pending());
        assert_eq!(
            semaphore.available_permits(),
            0,
            "the head took the free one"
        );
        let mut small = semaphore.acquire();
        assert!(poll(&mut small).is_pending());
        semaphore.add_permits(1);
        assert!(poll(&mut small).is_pending(), "behind the head");
        assert!(poll(&mut big).is_pending(), "2 of 3 assigned");
        semaphore.add_permits(2);
        let permit = match poll(&mut big) {
            Poll::Ready(Ok(permit)) => permit,
            other => panic!("big not granted: {other:?}"),
        };
        assert_eq!(permit.num_permits(), 3);
        assert!(
            poll(&mut small).is_ready(),
            "the spare permit went to the next waiter"
        );
    }

    #[test]
    fn dropping_a_partially_assigned_head_passes_its_permits_on() {
        let semaphore = Semaphore::new(2);
        let mut big = semaphore.acquire_many(5);
        assert!(poll(&mut big).is_pending());
        let mut small = semaphore.acquire_many(2);
        assert!(poll(&mut small).is_pending());
        drop(big);
        assert!(matches!(poll(&mut small), Poll::Ready(Ok(_))));
        drop(small);
        assert_eq!(semaphore.available_permits(), 2);
    }

    #[test]
    fn dropping_a_granted_but_unpolled_acquire_gives_the_permits_back() {
        let semaphore = Semaphore::new(0);
        let mut first = semaphore.acquire_many(2);
        assert!(poll(&mut first).is_pending());
        semaphore.add_permits(2);
        drop(first); // granted (popped and woken) but never polled again
        assert_eq!(semaphore.available_permits(), 2);
    }

    #[test]
    fn close_fails_queued_waiters_and_returns_their_partial_permits() {
        let semaphore = Semaphore::new(1);
        let mut waiter = semaphore.acquire_many(2);
        assert!(poll(&mut waiter).is_pending());
        semaphore.close();
        assert!(matches!(
            poll(&mut waiter),
            Poll::Ready(Err(AcquireError(())))
        ));
        assert_eq!(semaphore.available_permits(), 1);
        assert_eq!(
            semaphore.try_acquire().unwrap_err(),
            TryAcquireError::Closed
        );
    }

    #[test]
    fn acquire_of_zero_is_immediate() {
        let semaphore = Semaphore::new(0);
        assert!(matches!(
            poll(&mut semaphore.acquire_many(0)),
            Poll::Ready(Ok(_))
        ));
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! Model checks of the state word and the wait queue: hand-off to a parked waiter, a
    //! lock-free release racing an acquirer on its way into the queue, close and cancellation
    //! racing both. A lost permit or a lost wake-up deadlocks `block_on`, which loom reports;
    //! the permit count is checked at the end of every model.

    use super::*;
    use crate::loom::atomic::AtomicUsize;
    use crate::loom::Arc;
    use loom::thread;

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
}
