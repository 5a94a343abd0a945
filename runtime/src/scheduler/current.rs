//! The current runtime, per thread: which runtime `spawn`, `sleep` and sockets belong to,
//! and, on a worker thread, the worker itself (for local scheduling). (Not to be confused with
//! `crate::context`, Go's cancellation context, nor with the poll context.)

use super::worker::Worker;
use super::Handle;
use crate::driver;
use std::cell::{Cell, RefCell};
use std::ptr;
use std::sync::Arc;

struct Current {
    handle: RefCell<Option<Handle>>,
    worker: Cell<*const Worker>,
}

thread_local! {
    static CURRENT: Current = const {
        Current {
            handle: RefCell::new(None),
            worker: Cell::new(ptr::null()),
        }
    };
}

pub(crate) const NO_RUNTIME: &str =
    "there is no Parkade runtime here: this must be called from a task, \
     from `Runtime::block_on`, or inside `Handle::enter`";

/// Makes `handle` current on this thread until dropped.
#[must_use]
pub struct EnterGuard {
    prev: Option<Handle>,
}

pub(crate) fn enter(handle: Handle) -> EnterGuard {
    let prev = CURRENT.with(|c| c.handle.replace(Some(handle)));
    EnterGuard { prev }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let _ = CURRENT.try_with(|c| c.handle.replace(prev));
    }
}

impl std::fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnterGuard")
    }
}

/// Runs `f` with the current runtime's handle, without cloning it.
pub(crate) fn with_current<R>(f: impl FnOnce(&Handle) -> R) -> Option<R> {
    CURRENT
        .try_with(|c| c.handle.borrow().as_ref().map(f))
        .ok()
        .flatten()
}

pub(crate) fn try_current() -> Option<Handle> {
    with_current(Handle::clone)
}

#[track_caller]
pub(crate) fn current() -> Handle {
    try_current().expect(NO_RUNTIME)
}

/// The current runtime's driver, for timers and sockets.
#[track_caller]
pub(crate) fn driver_handle() -> Arc<driver::Handle> {
    with_current(|h| h.shared.driver.clone()).expect(NO_RUNTIME)
}

/// Runs `f` with this thread's worker, if it is one.
#[inline]
pub(crate) fn with_worker<R>(f: impl FnOnce(Option<&Worker>) -> R) -> R {
    let worker = CURRENT.try_with(|c| c.worker.get()).unwrap_or(ptr::null());
    // SAFETY: the pointer is set by `set_worker` for the duration of the worker loop, which
    // owns the `Worker` and clears it (through the guard) before the `Worker` is dropped.
    f(unsafe { worker.as_ref() })
}

pub(crate) fn is_worker() -> bool {
    with_worker(|w| w.is_some())
}

pub(crate) struct WorkerGuard;

pub(crate) fn set_worker(worker: &Worker) -> WorkerGuard {
    CURRENT.with(|c| c.worker.set(worker));
    WorkerGuard
}

impl Drop for WorkerGuard {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.worker.set(ptr::null()));
    }
}
