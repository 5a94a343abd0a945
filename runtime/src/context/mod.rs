//! Go's `context`: cancellation and deadlines that flow from a request down to every task
//! working on it.
//!
//! A [`Context`] is done once it is cancelled through its [`CancelHandle`], once an ancestor
//! is, or once its deadline (the earliest of its own and its ancestors') passes. Tasks wait
//! for that with [`Context::done`], which parks them with reason `context done` at the call,
//! so a task stuck on a context that nobody will ever cancel shows up in every profile, as
//! `<-ctx.Done()` does in Go's goroutine dump.
//!
//! ```
//! # runtime::Runtime::new().unwrap().block_on(async {
//! use runtime::context::{Context, ContextError};
//! use std::time::Duration;
//!
//! let (ctx, cancel) = Context::background().with_cancel();
//! let worker = runtime::spawn({
//!     let ctx = ctx.clone();
//!     async move {
//!         ctx.done().await; // parked as `context done` until cancelled
//!         ctx.err()
//!     }
//! });
//! cancel.cancel();
//! assert_eq!(worker.await.unwrap(), Some(ContextError::Canceled));
//!
//! let (slow, _cancel) = ctx.with_timeout(Duration::from_secs(60));
//! assert_eq!(slow.err(), Some(ContextError::Canceled), "a child of a cancelled context");
//!
//! let (quick, _cancel) = Context::background().with_timeout(Duration::from_millis(5));
//! quick.done().await;
//! assert_eq!(quick.err(), Some(ContextError::DeadlineExceeded));
//! assert_eq!(quick.err().unwrap().to_string(), "context deadline exceeded");
//! # });
//! ```
//!
//! # Cancel, or leak
//!
//! Dropping a [`CancelHandle`] does **not** cancel its context, as in Go, where forgetting to
//! call the `cancel` func is the leak `go vet` reports as "lostcancel": a task parked in
//! `done()` on a context without a deadline then waits forever, and the context stays in its
//! parent's child list for as long as any clone of it lives. Cancel explicitly when the work
//! is over, or hold [`CancelHandle::cancel_on_drop`]'s guard for Go's `defer cancel()`.
//!
//! # Cost
//!
//! A context is an `Arc`: cloning is a reference count. Deriving one takes the parent's lock
//! once to join its child list, and dropping the last clone (and the handle) leaves it again,
//! so a long-lived parent keeps only the children alive now. No task or timer is created per
//! context: a deadline is read off the clock by `err()`, and only a task parked in `done()`
//! arms a timer for it.

mod done;
mod error;
mod node;

pub use self::done::Done;
pub use self::error::ContextError;

use self::node::Node;
use std::fmt;
use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Go's `context.Context`, without values: a cancellation signal and an optional deadline,
/// shared by cloning.
///
/// Derive contexts with [`with_cancel`](Context::with_cancel),
/// [`with_timeout`](Context::with_timeout) and [`with_deadline`](Context::with_deadline); a
/// derived context is cancelled with its parent, never the other way round. See the
/// [module docs](self) for an example.
#[derive(Clone, Default)]
pub struct Context {
    /// `None` for `background`, which is never done and has no deadline.
    node: Option<Arc<Node>>,
}

/// Cancels the context it came with (and every context derived from it).
///
/// Dropping it does **not** cancel: call [`cancel`](CancelHandle::cancel), or turn it into a
/// [`CancelGuard`] with [`cancel_on_drop`](CancelHandle::cancel_on_drop). A dropped handle
/// whose context is still awaited is Go's "lostcancel" leak.
#[derive(Clone)]
#[must_use = "dropping a CancelHandle does not cancel its context (Go's lostcancel leak); \
              call `cancel()` or keep `cancel_on_drop()`'s guard"]
pub struct CancelHandle {
    node: Arc<Node>,
}

/// Cancels its context when dropped: Go's `defer cancel()`. Made by
/// [`CancelHandle::cancel_on_drop`].
#[must_use = "the context is cancelled as soon as the guard is dropped"]
pub struct CancelGuard {
    handle: Option<CancelHandle>,
}

impl Context {
    /// The root context: never cancelled, no deadline. Go's `context.Background()`.
    pub fn background() -> Context {
        Context { node: None }
    }

    /// The same as [`background`](Context::background), for code that has not been given a
    /// context yet. Go's `context.TODO()`.
    pub fn todo() -> Context {
        Context::background()
    }

    /// A child context that is cancelled by the returned handle or with this one. Go's
    /// `context.WithCancel`.
    pub fn with_cancel(&self) -> (Context, CancelHandle) {
        self.derive(None)
    }

    /// A child context that is also done once `timeout` has elapsed. Go's
    /// `context.WithTimeout`.
    pub fn with_timeout(&self, timeout: Duration) -> (Context, CancelHandle) {
        // A timeout too large for an `Instant` is no deadline at all.
        self.derive(Instant::now().checked_add(timeout))
    }

    /// A child context that is also done once `deadline` passes; its effective deadline is
    /// the earlier of `deadline` and this context's. Go's `context.WithDeadline`.
    pub fn with_deadline(&self, deadline: Instant) -> (Context, CancelHandle) {
        self.derive(Some(deadline))
    }

    fn derive(&self, deadline: Option<Instant>) -> (Context, CancelHandle) {
        let node = Node::new(self.node.as_ref(), deadline);
        (
            Context {
                node: Some(node.clone()),
            },
            CancelHandle { node },
        )
    }

    /// Waits until the context is done: cancelled, or past its deadline. Parks the task with
    /// reason `context done` at the caller. Go's `<-ctx.Done()`.
    ///
    /// On [`background`](Context::background) it never completes.
    ///
    /// # Panics
    /// If a context with a deadline is awaited outside a Parkade runtime (the deadline needs
    /// its timers).
    #[track_caller]
    pub fn done(&self) -> Done<'_> {
        Done::new(self.node.as_ref(), Location::caller())
    }

    /// Why the context is done, or `None` while it is not. Go's `ctx.Err()`.
    ///
    /// `DeadlineExceeded` is reported as soon as the deadline has passed, whether or not
    /// anyone awaited [`done`](Context::done); whichever of the deadline and a cancel came
    /// first decides the error, and it never changes afterwards.
    pub fn err(&self) -> Option<ContextError> {
        self.node.as_ref().and_then(|node| node.err())
    }

    /// True once [`err`](Context::err) is `Some`.
    pub fn is_done(&self) -> bool {
        self.err().is_some()
    }

    /// When the context will be done at the latest: the earliest deadline of it and its
    /// ancestors. Go's `ctx.Deadline()`.
    pub fn deadline(&self) -> Option<Instant> {
        self.node.as_ref().and_then(|node| node.deadline)
    }

    /// The number of derived contexts registered to be cancelled with this one right now.
    ///
    /// A child leaves the count when it is cancelled, or when it and its handle are dropped;
    /// a count that grows without bound means children (or their handles) are being kept
    /// alive without being cancelled.
    pub fn child_count(&self) -> usize {
        self.node.as_ref().map_or(0, |node| node.child_count())
    }
}

impl CancelHandle {
    /// Cancels the context and everything derived from it, waking every task in
    /// [`Context::done`]. Idempotent; a context that was already done keeps its first error.
    pub fn cancel(&self) {
        self.node.cancel();
    }

    /// A guard that cancels the context when dropped, like Go's `defer cancel()`.
    pub fn cancel_on_drop(self) -> CancelGuard {
        CancelGuard { handle: Some(self) }
    }
}

impl CancelGuard {
    /// Gives the handle back without cancelling.
    pub fn disarm(mut self) -> CancelHandle {
        self.handle
            .take()
            .expect("invariant: the handle is taken only here and in drop")
    }
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.cancel();
        }
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.node {
            None => f.write_str("Context::Background"),
            Some(node) => f
                .debug_struct("Context")
                .field("err", &node.err())
                .field("deadline", &node.deadline)
                .finish_non_exhaustive(),
        }
    }
}

impl fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelHandle")
            .field("err", &self.node.err())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for CancelGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelGuard").finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + Clone + fmt::Debug>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        assert_send_sync::<Context>();
        assert_send_sync::<CancelHandle>();
        assert_send_sync::<ContextError>();
        fn send<T: Send>() {}
        send::<Done<'static>>();
        send::<CancelGuard>();
    }

    #[test]
    fn cancel_reaches_descendants_not_ancestors() {
        let (parent, cancel_parent) = Context::background().with_cancel();
        let (child, cancel_child) = parent.with_cancel();
        let (grandchild, _keep) = child.with_timeout(Duration::from_secs(3600));
        assert_eq!(parent.child_count(), 1);
        cancel_child.cancel();
        assert_eq!(child.err(), Some(ContextError::Canceled));
        assert_eq!(grandchild.err(), Some(ContextError::Canceled));
        assert_eq!(parent.err(), None);
        assert_eq!(
            parent.child_count(),
            0,
            "a cancelled child leaves its parent"
        );
        cancel_parent.cancel();
        assert_eq!(parent.err(), Some(ContextError::Canceled));
    }

    #[test]
    fn passed_deadline_wins_over_a_later_cancel() {
        let past = Instant::now();
        let (ctx, cancel) = Context::background().with_deadline(past);
        assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
        cancel.cancel();
        assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
    }

    #[test]
    fn child_of_a_cancelled_parent_is_born_cancelled() {
        let (parent, cancel) = Context::background().with_cancel();
        cancel.cancel();
        let (child, _handle) = parent.with_cancel();
        assert_eq!(child.err(), Some(ContextError::Canceled));
        assert_eq!(parent.child_count(), 0);
    }

    #[test]
    fn long_chains_drop_and_cancel_without_recursion() {
        let (root, cancel) = Context::background().with_cancel();
        let mut leaf = root.clone();
        for _ in 0..200_000 {
            leaf = leaf.with_cancel().0;
        }
        cancel.cancel();
        assert_eq!(leaf.err(), Some(ContextError::Canceled));
        drop(leaf);
        assert_eq!(root.child_count(), 0);

        let mut chain = Context::background();
        for _ in 0..200_000 {
            chain = chain.with_cancel().0;
        }
        drop(chain);
    }

    #[test]
    fn done_keeps_one_waiter_while_pending_and_none_after() {
        use std::future::Future;
        use std::task::{Context as TaskContext, Poll, Waker};

        let (ctx, cancel) = Context::background().with_cancel();
        let waiters = || ctx.node.as_ref().unwrap().lock().waiters.len();
        let mut cx = TaskContext::from_waker(Waker::noop());
        let mut done = Box::pin(ctx.done());
        assert_eq!(done.as_mut().poll(&mut cx), Poll::Pending);
        assert_eq!(done.as_mut().poll(&mut cx), Poll::Pending);
        assert_eq!(waiters(), 1, "a re-poll reuses its entry");
        drop(done);
        assert_eq!(waiters(), 0, "a dropped Done leaves");

        let mut done = Box::pin(ctx.done());
        assert_eq!(done.as_mut().poll(&mut cx), Poll::Pending);
        cancel.cancel();
        assert_eq!(waiters(), 0, "the cancel drained it");
        assert_eq!(done.as_mut().poll(&mut cx), Poll::Ready(()));
        drop(done);

        let background = Context::background();
        let mut never = Box::pin(background.done());
        assert_eq!(never.as_mut().poll(&mut cx), Poll::Pending);
    }

    #[test]
    fn guard_cancels_on_drop_unless_disarmed() {
        let (ctx, cancel) = Context::background().with_cancel();
        let guard = cancel.cancel_on_drop();
        let handle = guard.disarm();
        assert!(!ctx.is_done());
        drop(handle.cancel_on_drop());
        assert!(ctx.is_done());
    }
}
