//! The cancellation tree: one `Node` per cancellable context, linked to the nearest
//! cancellable ancestor.
//!
//! A parent holds its children weakly, in a [`WaitList`] so that a child leaves in O(1) when
//! it is dropped or cancelled on its own: a long-lived parent's list holds only the children
//! alive now, never every child it ever had. A child holds its parent strongly (to leave its
//! list), so ancestors outlive descendants and there is no reference cycle.
//!
//! Locks: a node's `state` is never held while another node's is taken, except when a child
//! is created (parent, then the child, which nobody else can reach yet). Wakers are called
//! and upgraded children dropped only with no lock held.

use super::ContextError;
use crate::loom::atomic::{AtomicU8, Ordering::*};
use crate::loom::{lock, Mutex};
use crate::waitlist::{WaitKey, WaitList, Wakeups};
use std::sync::{Arc, Weak};
use std::task::Waker;
use std::time::Instant;

pub(super) struct Node {
    /// The parent context's node (`None` under `background`); we are in its `children`
    /// while `State::registration` is set.
    parent: Option<Arc<Node>>,
    /// The effective deadline: the earliest of ours and every ancestor's. Never changes.
    pub(super) deadline: Option<Instant>,
    /// 0 while not cancelled, then a `ContextError` code. Written once, under `state`'s lock;
    /// read without it. A passed deadline is not stored here: it is read off the clock.
    err: AtomicU8,
    state: Mutex<State>,
}

#[derive(Default)]
pub(super) struct State {
    /// Tasks parked in `done()`. Drained (and woken) by the cancel.
    pub(super) waiters: WaitList<Waker>,
    /// Derived contexts to cancel with us. Drained by the cancel.
    children: WaitList<Weak<Node>>,
    /// Our entry in the parent's `children`; taken by our cancel or our drop (a key the
    /// parent's cancel already drained is stale and removes nothing).
    registration: Option<WaitKey>,
}

impl Node {
    /// A node derived from `parent` (`None`: from `background`) with its own `deadline`.
    pub(super) fn new(parent: Option<&Arc<Node>>, deadline: Option<Instant>) -> Arc<Node> {
        let inherited = parent.and_then(|parent| parent.deadline);
        let deadline = match (inherited, deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let node = Arc::new(Node {
            parent: parent.cloned(),
            deadline,
            err: AtomicU8::new(0),
            state: Mutex::new(State::default()),
        });
        let Some(parent) = parent else { return node };
        let mut parent_state = lock(&parent.state);
        match parent.cancelled() {
            Some(err) => {
                // Born done, as in Go: nothing will cancel us later.
                node.err.store(node.inherit(err).code(), Release);
            }
            // The parent's deadline has passed, so ours has too: nothing left to propagate.
            None if parent.deadline_passed() => {}
            None => {
                let key = parent_state.children.push_back(Arc::downgrade(&node));
                // Nested lock, parent then child: nobody else can reach the child yet.
                lock(&node.state).registration = Some(key);
            }
        }
        node
    }

    /// How this node is done, if it is: cancelled, or past its deadline.
    pub(super) fn err(&self) -> Option<ContextError> {
        self.cancelled().or_else(|| {
            self.deadline_passed()
                .then_some(ContextError::DeadlineExceeded)
        })
    }

    /// Whether (and why) a cancel reached this node; a passed deadline does not count.
    pub(super) fn cancelled(&self) -> Option<ContextError> {
        ContextError::from_code(self.err.load(Acquire))
    }

    fn deadline_passed(&self) -> bool {
        self.deadline
            .is_some_and(|deadline| Instant::now() >= deadline)
    }

    /// The error this node takes from a cancel carrying `err`: a deadline that had already
    /// passed came first, so it wins (`err()` may have reported it already).
    fn inherit(&self, err: ContextError) -> ContextError {
        if self.deadline_passed() {
            ContextError::DeadlineExceeded
        } else {
            err
        }
    }

    pub(super) fn lock(&self) -> crate::loom::MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Cancels this node and its whole subtree, waking every `done()` waiter, and leaves the
    /// parent's child list. Idempotent. Iterative, so a deep chain cannot overflow the stack.
    pub(super) fn cancel(self: &Arc<Node>) {
        let mut stack: Vec<(Arc<Node>, ContextError)> = Vec::new();
        let registration = self.cancel_one(ContextError::Canceled, &mut stack);
        while let Some((node, err)) = stack.pop() {
            // A child cancelled by its parent is already out of the parent's list.
            let _ = node.cancel_one(err, &mut stack);
        }
        if let (Some(key), Some(parent)) = (registration, &self.parent) {
            let entry = lock(&parent.state).children.remove(key);
            drop(entry);
        }
    }

    /// Marks this node cancelled, wakes its waiters and pushes its live children on `stack`.
    /// Returns its registration in the parent's list, if still there.
    fn cancel_one(
        &self,
        err: ContextError,
        stack: &mut Vec<(Arc<Node>, ContextError)>,
    ) -> Option<WaitKey> {
        let mut wakers = Wakeups::new();
        let registration = {
            let mut state = lock(&self.state);
            if self.err.load(Relaxed) != 0 {
                return None;
            }
            let err = self.inherit(err);
            self.err.store(err.code(), Release);
            wakers.extend(state.waiters.drain());
            for child in state.children.drain() {
                // A child whose last reference is being dropped right now fails to upgrade;
                // its drop finds its key stale.
                if let Some(child) = child.upgrade() {
                    stack.push((child, err));
                }
            }
            state.registration.take()
        };
        wakers.wake_all();
        registration
    }

    /// The number of children registered for cancellation now.
    pub(super) fn child_count(&self) -> usize {
        lock(&self.state).children.len()
    }

    /// Takes this node out of its parent's child list, if it is in it.
    fn unregister(&mut self) {
        let registration = lock(&self.state).registration.take();
        if let (Some(key), Some(parent)) = (registration, &self.parent) {
            let entry = lock(&parent.state).children.remove(key);
            drop(entry);
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.unregister();
        // Release the ancestors one by one, so that dropping the last of a long chain of
        // derived contexts does not recurse once per level.
        let mut next = self.parent.take();
        while let Some(parent) = next {
            match Arc::into_inner(parent) {
                Some(mut parent) => {
                    parent.unregister();
                    next = parent.parent.take();
                }
                None => break,
            }
        }
    }
}
