//! The type-aware half of a task: polling, completing, cancelling and the join protocol.
//! Every function here is reached through the vtable with a pointer to a live header.

use super::core::{Cell, Core, Header, Stage, Trailer};
use super::raw::RawTask;
use super::state::{State, TransitionToIdle, TransitionToRunning, Word};
use super::waker::waker_ref;
use super::{JoinError, Notified, Schedule, Task};
use crate::park;
use crate::poll_context::TaskPoll;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{self, AssertUnwindSafe};
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

struct Harness<F: Future, S: 'static> {
    cell: NonNull<Cell<F, S>>,
}

impl<F: Future, S: Schedule> Harness<F, S> {
    /// # Safety
    /// `ptr` is the header of a live `Cell<F, S>`.
    unsafe fn from_raw(ptr: NonNull<Header>) -> Self {
        Harness { cell: ptr.cast() }
    }

    fn cell(&self) -> &Cell<F, S> {
        // SAFETY: per `from_raw`, and the caller of every vtable entry owns a reference.
        unsafe { self.cell.as_ref() }
    }

    fn header(&self) -> &Header {
        &self.cell().header
    }

    fn state(&self) -> &State {
        &self.header().state
    }

    fn core(&self) -> &Core<F, S> {
        &self.cell().core
    }

    fn trailer(&self) -> &Trailer {
        &self.cell().trailer
    }

    fn raw(&self) -> RawTask {
        // SAFETY: the header is live.
        unsafe { RawTask::from_raw(self.cell.cast()) }
    }

    fn poll(self) {
        match self.state().transition_to_running() {
            TransitionToRunning::Success => {
                if self.poll_future().is_ready() {
                    return self.complete();
                }
                match self.state().transition_to_idle() {
                    TransitionToIdle::Ok => {}
                    TransitionToIdle::OkNotified => {
                        park::woken_during_poll(&self.header().record);
                        // Woken during its own poll: the running reference moves to the new
                        // `Notified`, which goes behind the other runnable tasks.
                        let notified = Notified(Task::from_raw(self.raw()));
                        self.core().scheduler.yield_now(notified);
                    }
                    TransitionToIdle::OkDealloc => self.dealloc(),
                    TransitionToIdle::Cancelled => {
                        self.cancel_future();
                        self.complete();
                    }
                }
            }
            TransitionToRunning::Cancelled => {
                self.cancel_future();
                self.complete();
            }
            TransitionToRunning::Failed => {}
            TransitionToRunning::Dealloc => self.dealloc(),
        }
    }

    /// Polls the future once. `Ready` means the output (or panic) is stored.
    fn poll_future(&self) -> Poll<()> {
        let header = self.header();
        let waker = waker_ref(self.cell.cast());
        let mut cx = Context::from_waker(&waker);
        // SAFETY: the record is a field of this task's header, which lives for the whole poll
        // (we hold a reference to the task); `&raw const` keeps the header's provenance, so
        // `woken_since_poll` and `current_task_id` may step back from it to the header, and
        // the bracket gives `woken` only that record.
        let scope = unsafe {
            TaskPoll::enter(&raw const header.record, &header.polls, |record| {
                // SAFETY: `record` is this header's record, as just said.
                super::core::woken_since_poll(record)
            })
        };
        let core = self.core();
        let result = panic::catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: we hold the RUNNING bit, so we own the stage; the future is never
            // moved out of the cell while in `Stage::Running`.
            core.stage.with_mut(|ptr| match unsafe { &mut *ptr } {
                Stage::Running(future) => {
                    // SAFETY: the future lives in the task's heap cell and is dropped in
                    // place, never moved, so it stays pinned.
                    unsafe { std::pin::Pin::new_unchecked(future) }.poll(&mut cx)
                }
                _ => unreachable!("invariant: polled a task that is not running"),
            })
        }));
        let output = match result {
            Ok(Poll::Pending) => {
                scope.pending();
                return Poll::Pending;
            }
            Ok(Poll::Ready(output)) => Ok(output),
            Err(panic) => Err(JoinError::panic(header.meta.id, panic)),
        };
        scope.ready();
        self.store_output(output);
        Poll::Ready(())
    }

    /// Drops the future (catching a panic in its destructor) and stores the output.
    fn store_output(&self, output: Result<F::Output, JoinError>) {
        let core = self.core();
        // SAFETY: we hold the RUNNING bit.
        let _ = panic::catch_unwind(AssertUnwindSafe(|| unsafe {
            core.set_stage(Stage::Consumed)
        }));
        // SAFETY: as above.
        unsafe { core.set_stage(Stage::Finished(output)) };
    }

    fn cancel_future(&self) {
        let id = self.header().meta.id;
        self.store_output(Err(JoinError::cancelled(id)));
    }

    /// Leaves the registry, publishes the stored output, wakes the joiner and releases the
    /// running reference (and the registry's).
    fn complete(self) {
        // Leave the registry first, so that once a joiner sees the output no profile lists
        // the task any more.
        let me = ManuallyDrop::new(Task::<S>::from_raw(self.raw()));
        let released = match self.core().scheduler.release(&me) {
            Some(task) => {
                // Its reference is released below, with ours, in one atomic step.
                std::mem::forget(task);
                2
            }
            None => 1,
        };

        let snapshot = self.state().transition_to_complete();
        let _ = panic::catch_unwind(AssertUnwindSafe(|| self.notify_join(snapshot)));

        if self.state().transition_to_terminal(released) {
            self.dealloc();
        }
    }

    fn notify_join(&self, snapshot: Word) {
        if !snapshot.is_join_interested() {
            // SAFETY: COMPLETE without JOIN_INTEREST: the completer owns the output.
            unsafe { self.core().set_stage(Stage::Consumed) };
        } else if snapshot.is_join_waker_set() {
            // SAFETY: JOIN_WAKER is set: the completer may read the waker cell.
            unsafe { self.trailer().wake_join() };
            let prev = self.state().unset_waker_after_complete();
            if !prev.is_join_interested() {
                // SAFETY: the handle is gone and left the waker to us.
                unsafe { self.trailer().set_waker(None) };
            }
        }
    }

    fn dealloc(self) {
        // SAFETY: the last reference was released; the cell was allocated by `Cell::new`
        // and nothing else can reach it.
        unsafe { super::alloc::deallocate(self.cell) };
    }

    /// Returns true if the output is ready to take; otherwise the waker is registered.
    fn can_read_output(&self, waker: &Waker) -> bool {
        let snapshot = self.state().load();
        debug_assert!(snapshot.is_join_interested());
        if snapshot.is_complete() {
            return true;
        }
        let result = if snapshot.is_join_waker_set() {
            // SAFETY: the handle may read its own waker while JOIN_WAKER is set.
            if unsafe { self.trailer().will_wake(waker) } {
                return false;
            }
            self.state()
                .unset_join_waker()
                .and_then(|_| self.set_join_waker(waker.clone()))
        } else {
            self.set_join_waker(waker.clone())
        };
        match result {
            Ok(_) => false,
            Err(snapshot) => {
                debug_assert!(snapshot.is_complete());
                true
            }
        }
    }

    fn set_join_waker(&self, waker: Waker) -> Result<Word, Word> {
        // SAFETY: JOIN_WAKER is clear, so the handle owns the waker cell.
        unsafe { self.trailer().set_waker(Some(waker)) };
        let result = self.state().set_join_waker();
        if result.is_err() {
            // SAFETY: the transition failed, so the cell is still ours.
            unsafe { self.trailer().set_waker(None) };
        }
        result
    }
}

pub(super) unsafe fn poll<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the vtable was built for `Cell<F, S>`.
    unsafe { Harness::<F, S>::from_raw(ptr) }.poll();
}

pub(super) unsafe fn schedule<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: as `poll`.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    let notified = Notified(Task::from_raw(harness.raw()));
    harness.core().scheduler.schedule(notified);
}

pub(super) unsafe fn dealloc<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: as `poll`.
    unsafe { Harness::<F, S>::from_raw(ptr) }.dealloc();
}

pub(super) unsafe fn try_read_output<F: Future, S: Schedule>(
    ptr: NonNull<Header>,
    dst: *mut (),
    waker: &Waker,
) {
    // SAFETY: as `poll`.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    if harness.can_read_output(waker) {
        let dst = dst as *mut Poll<Result<F::Output, JoinError>>;
        // SAFETY: COMPLETE with JOIN_INTEREST: the handle owns the output; `dst` has the
        // output's type per `RawTask::try_read_output`'s contract.
        unsafe { *dst = Poll::Ready(harness.core().take_output()) };
    }
}

pub(super) unsafe fn drop_join_handle<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: as `poll`.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    let dropped = harness.state().transition_to_join_handle_dropped();
    if dropped.drop_output {
        let core = harness.core();
        // SAFETY: COMPLETE with JOIN_INTEREST held until now: the handle owns the output.
        let _ = panic::catch_unwind(AssertUnwindSafe(|| unsafe {
            core.set_stage(Stage::Consumed)
        }));
    }
    if dropped.drop_waker {
        // SAFETY: JOIN_WAKER is clear after the transition: the handle owns the cell.
        unsafe { harness.trailer().set_waker(None) };
    }
    harness.raw().drop_reference();
}

pub(super) unsafe fn shutdown<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: as `poll`.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    if !harness.state().transition_to_shutdown() {
        // Running or complete: whoever holds it finishes it and sees CANCELLED.
        harness.raw().drop_reference();
        return;
    }
    // The caller's reference is now the running one.
    harness.cancel_future();
    harness.complete();
}
