//! The errors of `runtime::sync`.

use std::error::Error;
use std::fmt;

/// `acquire` failed because the semaphore was closed.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct AcquireError(pub(crate) ());

/// Why `try_acquire` took no permits.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum TryAcquireError {
    /// Not enough permits are free now, or earlier waiters are queued for them.
    NoPermits,
    /// The semaphore was closed.
    Closed,
}

/// `try_lock`, `try_read` or `try_write` would have had to wait.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct TryLockError(pub(crate) ());

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore closed")
    }
}

impl Error for AcquireError {}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::NoPermits => f.write_str("no permits available"),
            TryAcquireError::Closed => f.write_str("semaphore closed"),
        }
    }
}

impl Error for TryAcquireError {}

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("operation would block: the lock is held or queued for")
    }
}

impl Error for TryLockError {}
