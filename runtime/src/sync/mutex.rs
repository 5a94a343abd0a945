//! An async mutex: a one-permit [`Semaphore`] guarding an `UnsafeCell`, so lockers are served
//! in FIFO order and a dropped `lock` future loses nothing.
//!
//! The data cell is `std::cell::UnsafeCell`, not the `crate::loom` one: every access to it is
//! ordered by the semaphore's permit hand-off (Acquire when a permit is taken, from the state
//! word or a grant, Release when it is given back; the semaphore's loom models check that
//! ordering with a loom cell), and the facade's cell has neither `?Sized` support nor
//! `into_inner`.

use super::current_task;
use super::error::TryLockError;
use super::semaphore::{PendingAcquire, Semaphore};
use crate::park::ParkReason;
use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// An async mutual-exclusion lock, handed to lockers strictly in the order they asked.
///
/// Unlike `std::sync::Mutex`, its guard may be held across an `.await`. A task waiting for
/// it parks with reason `mutex lock` at the caller of [`lock`](Mutex::lock).
///
/// ```
/// use runtime::sync::Mutex;
/// use std::sync::Arc;
///
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let count = Arc::new(Mutex::new(0));
/// let tasks: Vec<_> = (0..4)
///     .map(|_| {
///         let count = count.clone();
///         runtime::spawn(async move {
///             let mut guard = count.lock().await;
///             runtime::yield_now().await; // still held across the await
///             *guard += 1;
///         })
///     })
///     .collect();
/// for task in tasks {
///     task.await.unwrap();
/// }
/// assert_eq!(*count.lock().await, 4);
/// # });
/// ```
pub struct Mutex<T: ?Sized> {
    semaphore: Semaphore,
    data: UnsafeCell<T>,
}

// SAFETY: the data is reached only through a guard, and the semaphore's single permit lets at
// most one guard exist at a time, so sharing the mutex only ever moves exclusive access to
// `T` between threads: `T: Send` is all that needs.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

/// Exclusive access to a [`Mutex`]'s data; the lock is released when it drops.
///
/// `Send` when `T: Send`, so it may be held across an `.await` in a spawned task.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    lock: &'a Mutex<T>,
    /// Sync only if `T: Sync`: the guard hands out `&T`.
    _marker: PhantomData<&'a mut T>,
}

/// Exclusive access to the data of a shared [`Mutex`]; keeps the `Arc` alive, so it can move
/// into a spawned task. The lock is released when it drops.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedMutexGuard<T: ?Sized> {
    lock: Arc<Mutex<T>>,
    /// Sync only if `T: Sync`: the guard hands out `&T`.
    _marker: PhantomData<T>,
}

impl<T> Mutex<T> {
    /// Creates an unlocked mutex holding `value`.
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            semaphore: Semaphore::new(1),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the mutex, returning the data.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Locks the mutex, parking (reason `mutex lock`) behind earlier lockers.
    ///
    /// Cancel safety: dropping the future before it completes gives the lock to the next
    /// waiter if it had just been handed over; the dropped locker loses its place in line.
    #[track_caller]
    pub fn lock(&self) -> Lock<'_, T> {
        Lock {
            mutex: self,
            pending: PendingAcquire::new(1, ParkReason::MutexLock, Location::caller())
                .blocked_on(self.semaphore.holder().blocked_on()),
        }
    }

    /// [`lock`](Mutex::lock) for a shared mutex: the guard keeps the `Arc`.
    #[track_caller]
    pub fn lock_owned(self: Arc<Self>) -> LockOwned<T> {
        let blocked_on = self.semaphore.holder().blocked_on();
        LockOwned {
            mutex: self,
            pending: PendingAcquire::new(1, ParkReason::MutexLock, Location::caller())
                .blocked_on(blocked_on),
        }
    }

    /// Locks the mutex if it is free and nobody is waiting for it.
    ///
    /// # Errors
    /// [`TryLockError`] if it is held or lockers are queued.
    ///
    /// ```
    /// let mutex = runtime::sync::Mutex::new(1);
    /// let guard = mutex.try_lock().unwrap();
    /// assert!(mutex.try_lock().is_err());
    /// drop(guard);
    /// assert!(mutex.try_lock().is_ok());
    /// ```
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        match self.semaphore.try_take(1) {
            Ok(()) => Ok(MutexGuard::new(self)),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// [`try_lock`](Mutex::try_lock) for a shared mutex.
    ///
    /// # Errors
    /// [`TryLockError`] if it is held or lockers are queued.
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        match self.semaphore.try_take(1) {
            Ok(()) => Ok(OwnedMutexGuard::new(self)),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// The data, through a unique borrow: no locking needed.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// Wraps the permit just taken from `lock.semaphore`.
    fn new(lock: &'a Mutex<T>) -> MutexGuard<'a, T> {
        lock.semaphore.holder().acquired(current_task());
        MutexGuard {
            lock,
            _marker: PhantomData,
        }
    }
}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// Wraps the permit just taken from `lock.semaphore`.
    fn new(lock: Arc<Mutex<T>>) -> OwnedMutexGuard<T> {
        lock.semaphore.holder().acquired(current_task());
        OwnedMutexGuard {
            lock,
            _marker: PhantomData,
        }
    }

    /// The mutex this guard locks.
    pub fn mutex(&self) -> &Arc<Mutex<T>> {
        &self.lock
    }
}

/// The future of [`Mutex::lock`].
#[must_use = "futures do nothing unless awaited"]
pub struct Lock<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    pending: PendingAcquire,
}

impl<'a, T: ?Sized> Future for Lock<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let this = self.get_mut();
        let acquired = ready!(this.mutex.semaphore.poll_acquire(&mut this.pending, cx));
        acquired.expect("a mutex's semaphore is never closed");
        Poll::Ready(MutexGuard::new(this.mutex))
    }
}

impl<T: ?Sized> Drop for Lock<'_, T> {
    fn drop(&mut self) {
        self.mutex.semaphore.cancel_acquire(&mut self.pending);
    }
}

/// The future of [`Mutex::lock_owned`].
#[must_use = "futures do nothing unless awaited"]
pub struct LockOwned<T: ?Sized> {
    mutex: Arc<Mutex<T>>,
    pending: PendingAcquire,
}

impl<T: ?Sized> Future for LockOwned<T> {
    type Output = OwnedMutexGuard<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<OwnedMutexGuard<T>> {
        let this = self.get_mut();
        let acquired = ready!(this.mutex.semaphore.poll_acquire(&mut this.pending, cx));
        acquired.expect("a mutex's semaphore is never closed");
        Poll::Ready(OwnedMutexGuard::new(this.mutex.clone()))
    }
}

impl<T: ?Sized> Drop for LockOwned<T> {
    fn drop(&mut self) {
        self.mutex.semaphore.cancel_acquire(&mut self.pending);
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds the mutex's only permit, so nothing else reaches the data
        // while the returned borrow (tied to the guard) lives.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only borrow through the guard.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.semaphore.holder().released();
        self.lock.semaphore.release(1);
    }
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds the mutex's only permit, so nothing else reaches the data
        // while the returned borrow (tied to the guard) lives.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only borrow through the guard.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        self.lock.semaphore.holder().released();
        self.lock.semaphore.release(1);
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized> fmt::Debug for Lock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("site", &self.pending.site())
            .finish_non_exhaustive()
    }
}

impl<T: ?Sized> fmt::Debug for LockOwned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockOwned")
            .field("site", &self.pending.site())
            .finish_non_exhaustive()
    }
}

fn _assert_send_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Mutex<Vec<u8>>>();
    send_sync::<MutexGuard<'_, Vec<u8>>>();
    send_sync::<OwnedMutexGuard<Vec<u8>>>();
    send_sync::<Lock<'_, Vec<u8>>>();
    send_sync::<LockOwned<Vec<u8>>>();
    // A `Cell` may be locked and moved, but its guard must not be shared.
    send_sync::<Mutex<std::cell::Cell<u8>>>();
    send::<MutexGuard<'_, std::cell::Cell<u8>>>();
}
