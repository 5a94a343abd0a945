//! Cooperative scheduling budget.
//!
//! A task whose resources are always ready (a consumer of a hot channel, a reader of a fast
//! socket) would never return `Pending` and would starve every other task on its worker.
//! Each poll of a task gets a budget of operations; runtime leaf futures spend one unit each
//! time they make progress, and once it is spent they return `Pending` after waking the task,
//! which then runs again behind the other runnable tasks.

use crate::{park, poll_context};
use std::task::{Context, Poll};

/// Operations per task poll, as in tokio. A task poll starts with it
/// (`poll_context::TaskPoll`); the budget itself is a field of the poll context.
pub(crate) const BUDGET: u8 = 128;

/// Runs `f` with no budget (nested `block_on`, e.g. inside `spawn_blocking`): only task polls
/// are throttled.
pub(crate) fn unconstrained<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(Option<u8>);
    impl Drop for Reset {
        fn drop(&mut self) {
            poll_context::with(|context| context.budget.set(self.0));
        }
    }
    let _reset = Reset(poll_context::with(|context| context.budget.replace(None)));
    f()
}

/// False once the current task poll has spent its budget.
pub(crate) fn has_budget_remaining() -> bool {
    poll_context::with(|context| context.budget.get() != Some(0))
}

/// One unit of budget; given back if the operation turns out not to make progress.
pub(crate) struct Permit {
    refund: bool,
}

impl Permit {
    /// The operation completed: the unit stays spent.
    #[inline]
    pub(crate) fn made_progress(mut self) {
        self.refund = false;
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if self.refund {
            poll_context::with(|context| {
                if let Some(left) = context.budget.get() {
                    context.budget.set(Some(left.saturating_add(1).min(BUDGET)));
                }
            });
        }
    }
}

/// Takes one unit, or wakes the task and returns `Pending` if the budget is spent.
#[inline]
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<Permit> {
    poll_context::with(|context| match context.budget.get() {
        None => Poll::Ready(Permit { refund: false }),
        Some(0) => {
            park::record_yield();
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        Some(left) => {
            context.budget.set(Some(left - 1));
            Poll::Ready(Permit { refund: true })
        }
    })
}
