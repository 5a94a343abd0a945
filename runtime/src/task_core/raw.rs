//! The type-erased task pointer and its hand-written vtable.

use super::core::{Cell, Header, Meta};
use super::harness;
use super::Schedule;
use std::future::Future;
use std::ptr::NonNull;
use std::task::Waker;

/// Per-(future, scheduler) type functions, reached from a type-erased header.
pub(crate) struct Vtable {
    /// Polls the future, or cancels it if the task was aborted.
    pub(super) poll: unsafe fn(NonNull<Header>),
    /// Hands a `Notified` (consuming one reference) to the task's scheduler.
    pub(super) schedule: unsafe fn(NonNull<Header>),
    /// Frees the allocation. Called when the last reference is released.
    pub(super) dealloc: unsafe fn(NonNull<Header>),
    /// Moves the output into `*dst` (a `Poll<Result<T, JoinError>>`) or registers the waker.
    pub(super) try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    /// The `JoinHandle` is gone: drop the output if stored, release its reference.
    pub(super) drop_join_handle: unsafe fn(NonNull<Header>),
    /// Runtime shutdown: cancel the future if idle; consumes one reference.
    pub(super) shutdown: unsafe fn(NonNull<Header>),
    /// The spawned future's type name, for snapshots: kept here, per type, rather than in
    /// every task.
    pub(super) future_type: fn() -> &'static str,
}

pub(super) fn vtable<F: Future, S: Schedule>() -> &'static Vtable {
    &Vtable {
        poll: harness::poll::<F, S>,
        schedule: harness::schedule::<F, S>,
        dealloc: harness::dealloc::<F, S>,
        try_read_output: harness::try_read_output::<F, S>,
        drop_join_handle: harness::drop_join_handle::<F, S>,
        shutdown: harness::shutdown::<F, S>,
        future_type: std::any::type_name::<F>,
    }
}

/// A pointer to a task's header. Copying it takes no reference: every owner of a `RawTask`
/// (a `Task`, `Notified`, `JoinHandle` or waker) accounts for its own.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(crate) struct RawTask {
    ptr: NonNull<Header>,
}

// SAFETY: the header is only touched through atomics and the protocol of `state.rs`; the
// future and output are `Send` (required by every constructor).
unsafe impl Send for RawTask {}
// SAFETY: as above.
unsafe impl Sync for RawTask {}

impl RawTask {
    pub(super) fn new<F, S>(future: F, scheduler: S, meta: Meta) -> RawTask
    where
        F: Future,
        S: Schedule,
    {
        let cell = Cell::new(future, scheduler, meta, vtable::<F, S>());
        RawTask { ptr: cell.cast() }
    }

    /// # Safety
    /// `ptr` points to a live task header.
    pub(super) unsafe fn from_raw(ptr: NonNull<Header>) -> RawTask {
        RawTask { ptr }
    }

    pub(super) fn header_ptr(&self) -> NonNull<Header> {
        self.ptr
    }

    pub(super) fn header(&self) -> &Header {
        // SAFETY: a `RawTask` is only held by an owner of a reference, which keeps the
        // allocation alive.
        unsafe { self.ptr.as_ref() }
    }

    /// Hints the CPU to fetch the header's first cache lines: a snapshot walks a million
    /// headers scattered over the heap and is otherwise bound by their cache misses.
    pub(super) fn prefetch_header(&self) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let ptr = self.ptr.as_ptr().cast::<i8>();
            // SAFETY: a prefetch is only a hint: it never faults, whatever the address, and
            // SSE is part of x86_64's baseline.
            unsafe {
                _mm_prefetch::<_MM_HINT_T0>(ptr);
                _mm_prefetch::<_MM_HINT_T0>(ptr.wrapping_add(64));
            }
        }
    }

    pub(super) fn poll(self) {
        // SAFETY: the vtable matches the cell it was built with.
        unsafe { (self.header().vtable.poll)(self.ptr) }
    }

    pub(super) fn schedule(self) {
        // SAFETY: as `poll`.
        unsafe { (self.header().vtable.schedule)(self.ptr) }
    }

    pub(super) fn dealloc(self) {
        // SAFETY: as `poll`; the caller released the last reference.
        unsafe { (self.header().vtable.dealloc)(self.ptr) }
    }

    /// # Safety
    /// `dst` points to a `Poll<Result<T, JoinError>>` whose `T` is the task's output type.
    pub(super) unsafe fn try_read_output(self, dst: *mut (), waker: &Waker) {
        // SAFETY: as `poll`, and `dst`'s type per the caller's contract.
        unsafe { (self.header().vtable.try_read_output)(self.ptr, dst, waker) }
    }

    pub(super) fn drop_join_handle(self) {
        // SAFETY: as `poll`.
        unsafe { (self.header().vtable.drop_join_handle)(self.ptr) }
    }

    pub(super) fn shutdown(self) {
        // SAFETY: as `poll`.
        unsafe { (self.header().vtable.shutdown)(self.ptr) }
    }

    pub(super) fn ref_inc(self) {
        self.header().state.ref_inc();
    }

    /// Releases one reference, freeing the task if it was the last.
    pub(super) fn drop_reference(self) {
        if self.header().state.ref_dec() {
            self.dealloc();
        }
    }

    /// `JoinHandle::abort`: cancel from any thread.
    pub(super) fn remote_abort(self) {
        if self.header().state.transition_to_notified_and_cancel() {
            // The transition took a reference for this `Notified`.
            self.schedule();
        }
    }
}
