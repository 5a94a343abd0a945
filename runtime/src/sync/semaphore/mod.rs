//! A counting semaphore with a strict FIFO queue of waiters: the base of `Mutex` and `RwLock`.
//!
//! Permits are handed to waiters in queue order. A release first goes to the head waiter,
//! which may be assigned permits a few at a time until it has all it asked for; only then is
//! it popped and woken, and the rest goes to the next waiter. So a large `acquire_many` at the
//! head holds back every later waiter, however small: nobody starves.
//!
//! `queue.rs` is the lock-free word and the FIFO queue behind it (and `PendingAcquire`, the
//! hook `Mutex` and `RwLock` acquire through); this file is the public API over them.

use super::error::{AcquireError, TryAcquireError};
use crate::loom::atomic::{AtomicUsize, Ordering};
use crate::loom::Mutex;
use crate::park::holder::{Holder, ReaderSlot};
use crate::park::ParkReason;
use crate::waitlist::{WaitList, Wakeups};
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

#[cfg(all(test, loom))]
mod loom_tests;
mod queue;
#[cfg(all(test, not(loom)))]
mod tests;

pub(crate) use queue::PendingAcquire;
use queue::{permits_in, Queue, CLOSED, PERMIT_SHIFT};

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
    /// Which tasks hold permits (a few), for waiters' `Park::blocked_by`: the permits' holders
    /// here, the guard's holder for a `Mutex` or an `RwLock` built on this semaphore.
    holder: Holder,
}

impl Semaphore {
    /// Who holds this semaphore's permits (or the lock built on it).
    pub(crate) fn holder(&self) -> &Holder {
        &self.holder
    }

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
            holder: Holder::new(),
        }
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
            pending: PendingAcquire::new(n, ParkReason::SemaphoreAcquire, Location::caller())
                .blocked_on(self.holder.blocked_on()),
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
        let blocked_on = self.holder.blocked_on();
        AcquireOwned {
            semaphore: self,
            pending: PendingAcquire::new(n, ParkReason::SemaphoreAcquire, Location::caller())
                .blocked_on(blocked_on),
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
        Ok(SemaphorePermit::new(self, n))
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
        Ok(OwnedSemaphorePermit::new(self, n))
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

    /// Takes up to `n` free permits out of the semaphore for good and returns how many it
    /// took (tokio's `forget_permits`). Permits held or assigned to queued waiters are not
    /// touched, so while anyone is queued it takes none.
    pub fn forget_permits(&self, n: usize) -> usize {
        let mut word = self.word.load(Ordering::Acquire);
        loop {
            // While `QUEUED` is set the word holds no permits (queue.rs), so nothing is free.
            let taken = n.min(permits_in(word));
            if taken == 0 {
                return 0;
            }
            match self.word.compare_exchange_weak(
                word,
                word - (taken << PERMIT_SHIFT),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return taken,
                Err(actual) => word = actual,
            }
        }
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
        let mut wakeups = Wakeups::new();
        {
            let mut queue = self.lock();
            self.word.fetch_or(CLOSED, Ordering::AcqRel);
            // They stay queued: each takes itself out on its next poll (see the module doc).
            wakeups.extend(queue.waiters.iter_mut().map(|w| w.waker.clone()));
        }
        wakeups.wake_all();
    }

    /// True once [`close`](Semaphore::close) was called.
    pub fn is_closed(&self) -> bool {
        self.word.load(Ordering::Acquire) & CLOSED != 0
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
        Poll::Ready(Ok(SemaphorePermit::new(
            this.semaphore,
            this.pending.needed,
        )))
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
        Poll::Ready(Ok(OwnedSemaphorePermit::new(
            this.semaphore.clone(),
            this.pending.needed,
        )))
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
    /// Where the holding task is named in `semaphore.holder`.
    slot: ReaderSlot,
}

/// Permits taken from a shared [`Semaphore`]; dropping it gives them back.
#[must_use = "the permits are given back as soon as this is dropped"]
pub struct OwnedSemaphorePermit {
    semaphore: Arc<Semaphore>,
    permits: u32,
    /// Where the holding task is named in `semaphore.holder`.
    slot: ReaderSlot,
}

impl<'a> SemaphorePermit<'a> {
    /// Wraps `permits` just taken from `semaphore` by the current task.
    fn new(semaphore: &'a Semaphore, permits: u32) -> SemaphorePermit<'a> {
        let slot = semaphore.holder.read_acquired(super::current_task());
        SemaphorePermit {
            semaphore,
            permits,
            slot,
        }
    }
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
    /// Wraps `permits` just taken from `semaphore` by the current task.
    fn new(semaphore: Arc<Semaphore>, permits: u32) -> OwnedSemaphorePermit {
        let slot = semaphore.holder.read_acquired(super::current_task());
        OwnedSemaphorePermit {
            semaphore,
            permits,
            slot,
        }
    }

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
        self.semaphore.holder.read_released(self.slot);
        self.semaphore.release(self.permits as usize);
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.semaphore.holder.read_released(self.slot);
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
