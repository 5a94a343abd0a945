use super::raw::RawTask;
use super::{JoinError, TaskId};
use crate::coop;
use crate::park::{self, ParkReason};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::Location;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// An owned permission to await a task's output.
///
/// Awaiting it gives `Ok(output)`, or `Err(JoinError)` if the task panicked or was aborted.
/// Dropping it detaches the task, which keeps running. While awaited it parks the caller with
/// reason `join wait` (`blocking` for a `spawn_blocking` handle) at the `.await`.
pub struct JoinHandle<T> {
    raw: RawTask,
    /// `ParkReason::code` of the park while awaited (`join wait` or `blocking`): resolved
    /// once here rather than on every pending poll, and 2 bytes where a reason takes 24.
    reason: u16,
    _output: PhantomData<T>,
}

// SAFETY: the handle only moves `T` out of the task, which requires `T: Send`.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` exposes no `T`.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    pub(super) fn new(raw: RawTask, reason: ParkReason) -> JoinHandle<T> {
        JoinHandle {
            raw,
            reason: reason.code(),
            _output: PhantomData,
        }
    }

    /// Cancels the task: its future is dropped the next time a worker reaches it (right away
    /// if it is parked), and awaiting this handle gives a cancelled `JoinError`. A task that
    /// already finished is not affected.
    pub fn abort(&self) {
        self.raw.remote_abort();
    }

    /// True once the task has finished (completed, panicked or been cancelled).
    pub fn is_finished(&self) -> bool {
        self.raw.header().state.load().is_complete()
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.raw.header().meta.id
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let site = Location::caller();
        let permit = ready!(coop::poll_proceed(cx));
        let mut output = Poll::Pending;
        // SAFETY: `output` has the type `T` the task was spawned with.
        unsafe {
            self.raw.try_read_output(
                &mut output as *mut Poll<Self::Output> as *mut (),
                cx.waker(),
            )
        };
        if output.is_ready() {
            permit.made_progress();
        } else if self.reason == ParkReason::JoinWait.code() {
            let awaited = park::holder::blocked_on_task(self.id().as_u64());
            park::record_blocked(self.reason, site, awaited);
        } else {
            park::record_code(self.reason, site);
        }
        output
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        self.raw.drop_join_handle();
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .finish()
    }
}
