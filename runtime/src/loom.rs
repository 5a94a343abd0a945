//! One seam for every synchronization primitive the runtime uses, so the same code runs under
//! `loom`'s model checker (`RUSTFLAGS="--cfg loom"`) and on `std` in production.

#[cfg(loom)]
pub(crate) use loom::{
    cell::UnsafeCell,
    sync::{atomic, Arc, Condvar, Mutex, MutexGuard},
};

#[cfg(not(loom))]
pub(crate) use std::sync::{atomic, Arc, Condvar, Mutex, MutexGuard};

#[cfg(not(loom))]
pub(crate) use self::cell::UnsafeCell;

/// A lock-free MPMC FIFO queue: crossbeam's `SegQueue`, which loom cannot see into, so loom
/// builds get a mutex-protected stand-in with the same API.
#[cfg(not(loom))]
pub(crate) use crossbeam_queue::SegQueue;

#[cfg(loom)]
pub(crate) use self::seg_queue::SegQueue;

#[cfg(loom)]
mod seg_queue {
    use std::collections::VecDeque;

    /// `crossbeam_queue::SegQueue`'s API over a loom mutex: every push and pop is a
    /// synchronization point loom schedules around. Each operation is linearizable, as the
    /// real queue's are, but stronger than it (a push here also releases to every later pop's
    /// lock), so orderings the real queue needs from fences must be argued beside them.
    pub(crate) struct SegQueue<T>(loom::sync::Mutex<VecDeque<T>>);

    impl<T> SegQueue<T> {
        pub(crate) fn new() -> SegQueue<T> {
            SegQueue(loom::sync::Mutex::new(VecDeque::new()))
        }

        pub(crate) fn push(&self, value: T) {
            super::lock(&self.0).push_back(value);
        }

        pub(crate) fn pop(&self) -> Option<T> {
            super::lock(&self.0).pop_front()
        }

        pub(crate) fn len(&self) -> usize {
            super::lock(&self.0).len()
        }

        pub(crate) fn is_empty(&self) -> bool {
            super::lock(&self.0).is_empty()
        }
    }
}

#[cfg(not(loom))]
mod cell {
    /// `core::cell::UnsafeCell` with loom's closure-based accessors, so that loom can track
    /// every access while production code compiles to a plain pointer.
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(core::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> UnsafeCell<T> {
            UnsafeCell(core::cell::UnsafeCell::new(value))
        }

        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

/// Locks a mutex, ignoring poisoning: the runtime never panics while holding its own locks,
/// and a user panic inside a task is caught before it can reach one.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// [`lock`] for a `std` mutex: the driver, timers and blocking pool are not model-checked,
/// so they use `std` even under loom.
pub(crate) fn lock_std<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}
