//! Async synchronization primitives that say why they park, at the user's call site.
//!
//! | primitive | waits in | park reason |
//! |---|---|---|
//! | [`Semaphore`] | `acquire`, `acquire_many`, `acquire_owned`, `acquire_many_owned` | `semaphore acquire` |
//! | [`Mutex`] | `lock`, `lock_owned` | `mutex lock` |
//! | [`RwLock`] | `read` / `write` | `rwlock read` / `rwlock write` |
//! | [`Notify`] | `notified` | `notify wait` |
//! | [`WaitGroup`] | `wait` (Go's `sync.WaitGroup`) | `waitgroup wait` |
//!
//! The park site is where the waiting future was created (`mutex.lock()`, not the `.await`
//! if they are on different lines), so a profile points at the exact call that is stuck.
//!
//! Every wait is served in FIFO order. The semaphore hands permits to the head waiter first,
//! even a few at a time, so a large `acquire_many` (or a `RwLock` writer) at the head holds
//! back later, smaller requests and nobody starves. `Mutex` and `RwLock` are built on it.
//!
//! # Cancel safety
//!
//! | future dropped while parked | effect |
//! |---|---|
//! | `Semaphore::acquire*` | permits already assigned to it (or granted in full but not yet taken) go to the next waiters; none is lost |
//! | `Mutex::lock`, `lock_owned` | likewise: a lock handed to it passes to the next locker |
//! | `RwLock::read`, `write` | likewise; a dropped writer lets the readers queued behind it in |
//! | `Notify::notified` | a `notify_one` that had picked it passes to the next waiter (or is stored as the permit); a `notify_waiters` is not passed on |
//! | `WaitGroup::wait` | leaves the wait list; nothing else |
//!
//! In every case the dropped waiter loses its place in line, and no stale waker stays
//! registered. `try_*` methods, guards and permits never park.

mod error;
mod mutex;
mod notify;
mod rwlock;
pub(crate) mod semaphore;
mod waitgroup;

pub use error::{AcquireError, TryAcquireError, TryLockError};

/// The id of the task polled on this thread (0: none, or recording is off), which a lock
/// records as its holder.
#[inline]
fn current_task() -> u64 {
    match crate::park::ENABLED {
        true => crate::task_core::current_task_id().map_or(0, |id| id.as_u64()),
        false => 0,
    }
}
pub use mutex::{Lock, LockOwned, Mutex, MutexGuard, OwnedMutexGuard};
pub use notify::{Notified, Notify};
pub use rwlock::{ReadLock, RwLock, RwLockReadGuard, RwLockWriteGuard, WriteLock};
pub use semaphore::{Acquire, AcquireOwned, OwnedSemaphorePermit, Semaphore, SemaphorePermit};
pub use waitgroup::{Wait, WaitGroup};
