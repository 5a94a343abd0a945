//! A counting semaphore with a strict FIFO queue of waiters: the base of `Mutex` and `RwLock`.
//!
//! Permits are handed to waiters in queue order. A release first goes to the head waiter,
//! which may be assigned permits a few at a time until it has all it asked for; only then is
//! it popped and woken, and the rest goes to the next waiter. So a large `acquire_many` at the
//! head holds back every later waiter, however small: nobody starves.
//!
//! Invariants, under the state mutex:
//! - while the semaphore is open and a waiter is queued, `permits` is zero (anything free
//!   would have been assigned to the head);
//! - only the head waiter holds partially assigned permits;
//! - a waiter gone from the queue (its key stale) was assigned everything it asked for, and
//!   its future owns those permits until it turns them into a permit guard or gives them
//!   back on drop.
//!
//! `close` leaves the waiters queued and wakes them; each finds the semaphore closed on its
//! next poll, takes itself out and gives back what it had been assigned. That keeps "my key is
//! stale" meaning exactly "I was granted", even for a waiter granted just before the close.

use super::error::{AcquireError, TryAcquireError};
use crate::coop;
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
    state: Mutex<State>,
}

struct State {
    /// Free permits. Zero while the semaphore is open and a waiter is queued.
    permits: usize,
    closed: bool,
    waiters: WaitList<Waiter>,
}

struct Waiter {
    /// Permits still to be assigned: at least 1 while queued.
    remaining: u32,
    waker: Waker,
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
            state: Mutex::new(State {
                permits,
                closed: false,
                waiters: WaitList::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
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
        let mut state = self.lock();
        if state.closed {
            return Err(TryAcquireError::Closed);
        }
        // Open with waiters queued means no free permits: a try never overtakes the queue.
        if state.permits < n as usize {
            return Err(TryAcquireError::NoPermits);
        }
        state.permits -= n as usize;
        Ok(())
    }

    /// Adds `n` permits, handing them to queued waiters first (in order).
    ///
    /// # Panics
    /// If the free permits would exceed [`Semaphore::MAX_PERMITS`].
    pub fn add_permits(&self, n: usize) {
        let mut wakeups = Wakeups::new();
        {
            let mut state = self.lock();
            let total = state.permits.saturating_add(n);
            if total > Semaphore::MAX_PERMITS {
                drop(state);
                panic!(
                    "adding {n} permits would exceed Semaphore::MAX_PERMITS ({})",
                    Semaphore::MAX_PERMITS
                );
            }
            state.release(n, &mut wakeups);
        }
        wakeups.wake_all();
    }

    /// The permits free right now (zero while waiters are queued).
    pub fn available_permits(&self) -> usize {
        self.lock().permits
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
            let mut state = self.lock();
            state.closed = true;
            // They stay queued: each takes itself out on its next poll (see the module doc).
            state.waiters.iter_mut().map(|w| w.waker.clone()).collect()
        };
        for waker in wakeups {
            waker.wake();
        }
    }

    /// True once [`close`](Semaphore::close) was called.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Gives back `n` permits taken by a guard.
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut wakeups = Wakeups::new();
        self.lock().release(n, &mut wakeups);
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
        let needed = pending.needed;
        let mut wakeups = Wakeups::new();
        let poll = {
            let mut state = self.lock();
            match pending.key {
                None if pending.done => panic!("acquire future polled after completion"),
                None if state.closed => Poll::Ready(Err(AcquireError(()))),
                None if state.permits >= needed as usize => {
                    // Open and permits free: nobody is queued (module invariant).
                    state.permits -= needed as usize;
                    Poll::Ready(Ok(()))
                }
                None => {
                    // Queue empty iff permits are free: then we are the head, and take what
                    // there is now.
                    let assigned = state.permits as u32;
                    state.permits = 0;
                    pending.key = Some(state.waiters.push_back(Waiter {
                        remaining: needed - assigned,
                        waker: cx.waker().clone(),
                    }));
                    Poll::Pending
                }
                Some(key) => {
                    let closed = state.closed;
                    match state.waiters.get_mut(key) {
                        // Gone from the queue: granted in full.
                        None => {
                            pending.key = None;
                            Poll::Ready(Ok(()))
                        }
                        Some(_) if closed => {
                            pending.key = None;
                            let waiter = state.waiters.remove(key);
                            let waiter = waiter.expect("invariant: waiter just seen");
                            state.release((needed - waiter.remaining) as usize, &mut wakeups);
                            Poll::Ready(Err(AcquireError(())))
                        }
                        Some(waiter) => {
                            if !waiter.waker.will_wake(cx.waker()) {
                                waiter.waker = cx.waker().clone();
                            }
                            Poll::Pending
                        }
                    }
                }
            }
        };
        wakeups.wake_all();
        match poll {
            Poll::Pending => park::record(pending.reason, pending.site),
            Poll::Ready(_) => {
                pending.done = true;
                permit.made_progress();
            }
        }
        poll
    }

    /// Abandons an acquire (its future is dropped): gives back whatever it was assigned.
    pub(crate) fn cancel_acquire(&self, pending: &mut PendingAcquire) {
        let Some(key) = pending.key.take() else {
            return;
        };
        let mut wakeups = Wakeups::new();
        {
            let mut state = self.lock();
            let assigned = match state.waiters.remove(key) {
                Some(waiter) => pending.needed - waiter.remaining,
                // Granted, but never turned into a permit guard.
                None => pending.needed,
            };
            state.release(assigned as usize, &mut wakeups);
        }
        wakeups.wake_all();
    }
}

impl State {
    /// Hands `n` permits to the queue, head first; the rest become free.
    fn release(&mut self, mut n: usize, wakeups: &mut Wakeups) {
        if !self.closed {
            while n > 0 {
                let Some(head) = self.waiters.front_mut() else {
                    break;
                };
                let given = n.min(head.remaining as usize);
                head.remaining -= given as u32;
                n -= given;
                if head.remaining == 0 {
                    let head = self.waiters.pop_front().expect("invariant: head just seen");
                    wakeups.push(head.waker);
                }
            }
        }
        self.permits += n;
    }
}

/// One acquire in progress, embedded in every future that takes permits (semaphore, locks).
pub(crate) struct PendingAcquire {
    needed: u32,
    /// Our queue entry while parked; once it is stale, all `needed` permits are ours.
    key: Option<WaitKey>,
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
        let state = self.lock();
        f.debug_struct("Semaphore")
            .field("permits", &state.permits)
            .field("waiters", &state.waiters.len())
            .field("closed", &state.closed)
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
    //! Model checks of the wait queue: hand-off to a parked waiter, and a cancelled waiter
    //! racing a release. A lost permit or a lost wake-up deadlocks `block_on`, which loom
    //! reports; the permit count is checked at the end of every model.

    use super::*;
    use crate::loom::Arc;
    use loom::thread;

    fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
        Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn loom_release_hands_off_to_parked_waiter() {
        loom::model(|| {
            let semaphore = Arc::new(Semaphore::new(1));
            let held = semaphore.try_acquire().unwrap();
            let waiter = {
                let semaphore = semaphore.clone();
                thread::spawn(move || {
                    let permit = loom::future::block_on(semaphore.acquire()).unwrap();
                    assert_eq!(semaphore.available_permits(), 0);
                    drop(permit);
                })
            };
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
            let cancelled = {
                let semaphore = semaphore.clone();
                thread::spawn(move || {
                    let mut acquire = semaphore.acquire();
                    // Parked, or granted by a release that got in first; dropped either way.
                    let _ = poll_once(&mut acquire);
                    drop(acquire);
                })
            };
            let next = {
                let semaphore = semaphore.clone();
                thread::spawn(move || {
                    drop(loom::future::block_on(semaphore.acquire()).unwrap());
                })
            };
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
            let cancelled = {
                let semaphore = semaphore.clone();
                thread::spawn(move || {
                    let mut acquire = semaphore.acquire_many(2);
                    let _ = poll_once(&mut acquire);
                    drop(acquire);
                })
            };
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
            let waiter = {
                let semaphore = semaphore.clone();
                thread::spawn(move || loom::future::block_on(semaphore.acquire()).is_err())
            };
            semaphore.close();
            assert!(waiter.join().unwrap(), "closed with no permits: must fail");
            assert_eq!(semaphore.available_permits(), 0);
        });
    }
}
