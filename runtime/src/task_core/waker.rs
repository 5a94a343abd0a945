//! Task wakers: the raw waker's data pointer is the task header; each waker owns a reference.

use super::core::Header;
use super::raw::RawTask;
use super::state::TransitionToNotified;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

/// A waker borrowed for one poll: it uses the poller's reference, so creating it costs nothing
/// and only clones take a reference.
pub(super) struct WakerRef {
    waker: ManuallyDrop<Waker>,
}

impl Deref for WakerRef {
    type Target = Waker;
    fn deref(&self) -> &Waker {
        &self.waker
    }
}

pub(super) fn waker_ref(header: NonNull<Header>) -> WakerRef {
    // SAFETY: the vtable's functions uphold RawWaker's contract for a task header pointer;
    // `ManuallyDrop` keeps the borrowed reference from being released.
    let waker = unsafe { Waker::from_raw(raw_waker(header)) };
    WakerRef {
        waker: ManuallyDrop::new(waker),
    }
}

fn raw_waker(header: NonNull<Header>) -> RawWaker {
    RawWaker::new(header.as_ptr() as *const (), &WAKER_VTABLE)
}

static WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(clone_waker, wake_by_val, wake_by_ref, drop_waker);

unsafe fn raw_task(ptr: *const ()) -> RawTask {
    // SAFETY: every waker's data pointer is a live task header (the waker owns a reference).
    unsafe { RawTask::from_raw(NonNull::new_unchecked(ptr as *mut Header)) }
}

unsafe fn clone_waker(ptr: *const ()) -> RawWaker {
    // SAFETY: see `raw_task`.
    let raw = unsafe { raw_task(ptr) };
    raw.ref_inc();
    raw_waker(raw.header_ptr())
}

unsafe fn wake_by_val(ptr: *const ()) {
    // SAFETY: see `raw_task`.
    let raw = unsafe { raw_task(ptr) };
    match raw.header().state.transition_to_notified_by_val() {
        // The waker's reference becomes the `Notified`'s.
        TransitionToNotified::Submit => raw.schedule(),
        TransitionToNotified::Dealloc => raw.dealloc(),
        TransitionToNotified::DoNothing => {}
    }
}

unsafe fn wake_by_ref(ptr: *const ()) {
    // SAFETY: see `raw_task`.
    let raw = unsafe { raw_task(ptr) };
    match raw.header().state.transition_to_notified_by_ref() {
        TransitionToNotified::Submit => raw.schedule(),
        TransitionToNotified::Dealloc => unreachable!("wake_by_ref never releases a reference"),
        TransitionToNotified::DoNothing => {}
    }
}

unsafe fn drop_waker(ptr: *const ()) {
    // SAFETY: see `raw_task`.
    let raw = unsafe { raw_task(ptr) };
    raw.drop_reference();
}
