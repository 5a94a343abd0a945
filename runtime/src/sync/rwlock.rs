//! An async reader-writer lock: a [`Semaphore`] of `MAX_READS` permits, one per reader and all
//! of them for a writer. The semaphore's strict FIFO makes it fair: a queued writer holds back
//! every reader that comes after it, so writers never starve.
//!
//! The data cell is `std::cell::UnsafeCell` for the reasons given in `mutex.rs`.

use super::current_task;
use super::error::TryLockError;
use super::semaphore::{PendingAcquire, Semaphore};
use crate::park::holder::ReaderSlot;
use crate::park::ParkReason;
use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Readers that may hold the lock at once; a writer takes all of them.
const MAX_READS: u32 = u32::MAX >> 3;

/// An async reader-writer lock: many readers or one writer, served in FIFO order.
///
/// Waiting readers park with reason `rwlock read` at the caller of [`read`](RwLock::read),
/// writers with `rwlock write` at the caller of [`write`](RwLock::write).
///
/// ```
/// use runtime::sync::RwLock;
///
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let config = RwLock::new(String::from("v1"));
/// {
///     let a = config.read().await;
///     let b = config.read().await; // readers share
///     assert_eq!((a.as_str(), b.as_str()), ("v1", "v1"));
/// }
/// config.write().await.push_str("-patched");
/// assert_eq!(*config.read().await, "v1-patched");
/// # });
/// ```
pub struct RwLock<T: ?Sized> {
    semaphore: Semaphore,
    data: UnsafeCell<T>,
}

// SAFETY: readers share `&T` across threads (needs `T: Sync`) and a writer may be on another
// thread than the one that created the data (needs `T: Send`); the semaphore lets either many
// readers or one writer hold permits at a time.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

/// Shared read access to a [`RwLock`]'s data; released when it drops.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    /// The reader slot of the lock's holder record this guard holds.
    slot: ReaderSlot,
    _marker: PhantomData<&'a T>,
}

/// Exclusive write access to a [`RwLock`]'s data; released when it drops.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    _marker: PhantomData<&'a mut T>,
}

impl<T> RwLock<T> {
    /// Creates an unlocked lock holding `value`.
    pub fn new(value: T) -> RwLock<T> {
        RwLock {
            semaphore: Semaphore::new(MAX_READS as usize),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock, returning the data.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Locks for reading, parking (reason `rwlock read`) while a writer holds the lock or
    /// any earlier waiter is queued.
    ///
    /// Cancel safety: dropping the future loses its place in line; a read slot that had just
    /// been handed to it goes back to the lock.
    #[track_caller]
    pub fn read(&self) -> ReadLock<'_, T> {
        ReadLock {
            lock: self,
            pending: PendingAcquire::new(1, ParkReason::RwLockRead, Location::caller())
                .blocked_on(self.semaphore.holder().blocked_on()),
        }
    }

    /// Locks for writing, parking (reason `rwlock write`) while anyone holds the lock or an
    /// earlier waiter is queued. While it waits, later readers queue behind it.
    ///
    /// Cancel safety: dropping the future gives back the read slots assigned to it so far
    /// and lets the readers queued behind it in; it loses its place in line.
    #[track_caller]
    pub fn write(&self) -> WriteLock<'_, T> {
        WriteLock {
            lock: self,
            pending: PendingAcquire::new(MAX_READS, ParkReason::RwLockWrite, Location::caller())
                .blocked_on(self.semaphore.holder().blocked_on()),
        }
    }

    /// Locks for reading if no writer holds or waits for the lock.
    ///
    /// # Errors
    /// [`TryLockError`] if a writer holds the lock or anyone is queued.
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        match self.semaphore.try_take(1) {
            Ok(()) => Ok(RwLockReadGuard::new(self)),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// Locks for writing if nobody holds or waits for the lock.
    ///
    /// # Errors
    /// [`TryLockError`] if anyone holds the lock or is queued.
    ///
    /// ```
    /// let lock = runtime::sync::RwLock::new(0);
    /// let reader = lock.try_read().unwrap();
    /// assert!(lock.try_write().is_err());
    /// drop(reader);
    /// *lock.try_write().unwrap() += 1;
    /// assert_eq!(lock.into_inner(), 1);
    /// ```
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        match self.semaphore.try_take(MAX_READS) {
            Ok(()) => Ok(RwLockWriteGuard::new(self)),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// The data, through a unique borrow: no locking needed.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    /// Wraps the read permit just taken from `lock.semaphore`.
    fn new(lock: &'a RwLock<T>) -> RwLockReadGuard<'a, T> {
        RwLockReadGuard {
            lock,
            slot: lock.semaphore.holder().read_acquired(current_task()),
            _marker: PhantomData,
        }
    }
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Wraps the `MAX_READS` permits just taken from `lock.semaphore`.
    fn new(lock: &'a RwLock<T>) -> RwLockWriteGuard<'a, T> {
        lock.semaphore.holder().acquired(current_task());
        RwLockWriteGuard {
            lock,
            _marker: PhantomData,
        }
    }
}

/// The future of [`RwLock::read`].
#[must_use = "futures do nothing unless awaited"]
pub struct ReadLock<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    pending: PendingAcquire,
}

impl<'a, T: ?Sized> Future for ReadLock<'a, T> {
    type Output = RwLockReadGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let acquired = ready!(this.lock.semaphore.poll_acquire(&mut this.pending, cx));
        acquired.expect("a rwlock's semaphore is never closed");
        Poll::Ready(RwLockReadGuard::new(this.lock))
    }
}

impl<T: ?Sized> Drop for ReadLock<'_, T> {
    fn drop(&mut self) {
        self.lock.semaphore.cancel_acquire(&mut self.pending);
    }
}

/// The future of [`RwLock::write`].
#[must_use = "futures do nothing unless awaited"]
pub struct WriteLock<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    pending: PendingAcquire,
}

impl<'a, T: ?Sized> Future for WriteLock<'a, T> {
    type Output = RwLockWriteGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let acquired = ready!(this.lock.semaphore.poll_acquire(&mut this.pending, cx));
        acquired.expect("a rwlock's semaphore is never closed");
        Poll::Ready(RwLockWriteGuard::new(this.lock))
    }
}

impl<T: ?Sized> Drop for WriteLock<'_, T> {
    fn drop(&mut self) {
        self.lock.semaphore.cancel_acquire(&mut self.pending);
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds a read permit, so no writer (who needs every permit) holds
        // the lock while the returned shared borrow, tied to the guard, lives.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.semaphore.holder().read_released(self.slot);
        self.lock.semaphore.release(1);
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds every permit, so no other guard exists while the returned
        // borrow, tied to the guard, lives.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only borrow through the guard.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.semaphore.holder().released();
        self.lock.semaphore.release(MAX_READS as usize);
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> Self {
        RwLock::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized> fmt::Debug for ReadLock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadLock")
            .field("site", &self.pending.site())
            .finish_non_exhaustive()
    }
}

impl<T: ?Sized> fmt::Debug for WriteLock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteLock")
            .field("site", &self.pending.site())
            .finish_non_exhaustive()
    }
}

fn _assert_send_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<RwLock<Vec<u8>>>();
    send_sync::<RwLockReadGuard<'_, Vec<u8>>>();
    send_sync::<RwLockWriteGuard<'_, Vec<u8>>>();
    send_sync::<ReadLock<'_, Vec<u8>>>();
    send_sync::<WriteLock<'_, Vec<u8>>>();
}
