//! The future of `Context::done`: Go's `<-ctx.Done()`.

use super::node::Node;
use crate::coop;
use crate::park::{self, ParkReason};
use crate::time::Sleep;
use crate::waitlist::{refresh_waker, WaitKey};
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// The future of [`Context::done`](super::Context::done): completes once the context is
/// cancelled or its deadline passes. While pending the task is parked with reason
/// `context done` at the `done()` call.
///
/// Cancel-safe: dropping it only takes its waker out of the context.
#[must_use = "futures do nothing unless awaited"]
pub struct Done<'a> {
    /// `None` for `background`, which is never done.
    node: Option<&'a Arc<Node>>,
    /// Our entry in the node's waiters while parked (stale once a cancel drained it).
    waiter: Option<WaitKey>,
    /// A timer for the node's deadline, armed on the first `Pending` poll.
    sleep: Option<Sleep>,
    site: &'static Location<'static>,
}

impl<'a> Done<'a> {
    pub(super) fn new(node: Option<&'a Arc<Node>>, site: &'static Location<'static>) -> Done<'a> {
        Done {
            node,
            waiter: None,
            sleep: None,
            site,
        }
    }

    fn unregister(&mut self) {
        if let (Some(key), Some(node)) = (self.waiter.take(), self.node) {
            let waker = node.lock().waiters.remove(key);
            drop(waker);
        }
    }
}

impl Future for Done<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let permit = ready!(coop::poll_proceed(cx));
        let Some(node) = this.node else {
            // `background`: nothing can ever wake this task. No waker is kept, so the leak
            // check can prove it.
            park::record(ParkReason::ContextDone, this.site);
            return Poll::Pending;
        };
        if node.err().is_some() {
            this.unregister();
            permit.made_progress();
            return Poll::Ready(());
        }
        {
            let mut state = node.lock();
            if node.cancelled().is_some() {
                // The cancel drained our entry (if we had one).
                this.waiter = None;
                drop(state);
                permit.made_progress();
                return Poll::Ready(());
            }
            match this.waiter.and_then(|key| state.waiters.get_mut(key)) {
                Some(waker) => refresh_waker(waker, cx.waker()),
                None => this.waiter = Some(state.waiters.push_back(cx.waker().clone())),
            }
        }
        if let Some(deadline) = node.deadline {
            let sleep = this
                .sleep
                .get_or_insert_with(|| crate::time::sleep_until(deadline));
            // The budget was checked above; arming the timer must not be refused for it.
            if coop::unconstrained(|| sleep.poll_elapsed(cx)).is_ready() {
                this.unregister();
                permit.made_progress();
                return Poll::Ready(());
            }
        }
        // After the timer's poll, which records nothing: the reason is ours, not `sleep`.
        park::record(ParkReason::ContextDone, this.site);
        Poll::Pending
    }
}

impl Drop for Done<'_> {
    fn drop(&mut self) {
        self.unregister();
    }
}

impl fmt::Debug for Done<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Done")
            .field("site", &self.site)
            .finish_non_exhaustive()
    }
}
