//! The task state word: lifecycle bits and the reference count in one `AtomicUsize`.
//!
//! Every transition is a single compare-and-swap (or `fetch_*`) on this word, so a waker on
//! one thread, the worker polling the task on another and the `JoinHandle` on a third always
//! agree on who owns the future, the output and the join waker.

use crate::loom::atomic::{AtomicUsize, Ordering::*};
use std::fmt;

/// Set while a thread polls (or cancels) the future. Only the holder touches the stage.
const RUNNING: usize = 0b00_0001;
/// Set once the output (or the cancellation/panic error) is stored. Never cleared.
const COMPLETE: usize = 0b00_0010;
/// Set while a `Notified` for this task sits in a run queue (or will be submitted by the
/// poller when `RUNNING` clears). At most one `Notified` exists at a time.
const NOTIFIED: usize = 0b00_0100;
/// Set while the `JoinHandle` is alive and wants the output.
const JOIN_INTEREST: usize = 0b00_1000;
/// Set while the trailer's join waker is written and owned by the completing side; while it
/// is clear, only the `JoinHandle` may touch the waker cell.
const JOIN_WAKER: usize = 0b01_0000;
/// Set by `abort` or shutdown: the next time the task runs, its future is dropped instead.
const CANCELLED: usize = 0b10_0000;

const LIFECYCLE_MASK: usize = RUNNING | COMPLETE;
const STATE_MASK: usize = 0b11_1111;
const REF_COUNT_SHIFT: usize = 6;
const REF_ONE: usize = 1 << REF_COUNT_SHIFT;
const REF_COUNT_MASK: usize = !STATE_MASK;

/// A new task has three references: the registry's, the first `Notified`'s and the
/// `JoinHandle`'s.
const INITIAL_STATE: usize = (REF_ONE * 3) | JOIN_INTEREST | NOTIFIED;

pub(crate) struct State {
    val: AtomicUsize,
}

/// A copy of the state word at one instant.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(crate) struct Word(usize);

#[must_use]
pub(crate) enum TransitionToRunning {
    /// The caller now owns the future and must poll it.
    Success,
    /// The caller owns the future and must drop it: the task was aborted or shut down.
    Cancelled,
    /// The task is already running or complete; the caller's reference was released.
    Failed,
    /// As `Failed`, and that was the last reference: the caller must deallocate.
    Dealloc,
}

#[must_use]
pub(crate) enum TransitionToIdle {
    /// Parked; the running reference was released and others remain.
    Ok,
    /// Woken while running: the caller must submit the task again (it keeps its reference).
    OkNotified,
    /// Parked, and the running reference was the last: the caller must deallocate.
    OkDealloc,
    /// Aborted while running: the caller still owns the future and must cancel it.
    Cancelled,
}

#[must_use]
pub(crate) enum TransitionToNotified {
    /// Nothing to do (already queued, running or complete).
    DoNothing,
    /// The caller must submit a `Notified` (it holds a reference for it).
    Submit,
    /// The caller released the last reference and must deallocate.
    Dealloc,
}

impl State {
    pub(crate) fn new() -> State {
        State {
            val: AtomicUsize::new(INITIAL_STATE),
        }
    }

    #[inline]
    pub(crate) fn load(&self) -> Word {
        Word(self.val.load(Acquire))
    }

    /// Called by a worker that took a `Notified` from a queue.
    pub(crate) fn transition_to_running(&self) -> TransitionToRunning {
        self.fetch_update_action(|mut next| {
            debug_assert!(next.is_notified());
            if !next.is_idle() {
                next.ref_dec();
                let action = if next.ref_count() == 0 {
                    TransitionToRunning::Dealloc
                } else {
                    TransitionToRunning::Failed
                };
                return (action, Some(next));
            }
            next.set_running();
            next.unset_notified();
            let action = if next.is_cancelled() {
                TransitionToRunning::Cancelled
            } else {
                TransitionToRunning::Success
            };
            (action, Some(next))
        })
    }

    /// Called by the poller when the future returned `Pending`.
    pub(crate) fn transition_to_idle(&self) -> TransitionToIdle {
        self.fetch_update_action(|curr| {
            debug_assert!(curr.is_running());
            if curr.is_cancelled() {
                return (TransitionToIdle::Cancelled, None);
            }
            let mut next = curr;
            next.unset_running();
            let action = if next.is_notified() {
                // The running reference becomes the new `Notified`'s.
                TransitionToIdle::OkNotified
            } else {
                next.ref_dec();
                if next.ref_count() == 0 {
                    TransitionToIdle::OkDealloc
                } else {
                    TransitionToIdle::Ok
                }
            };
            (action, Some(next))
        })
    }

    /// Marks the output stored. Returns the state after the transition.
    pub(crate) fn transition_to_complete(&self) -> Word {
        const DELTA: usize = RUNNING | COMPLETE;
        let prev = Word(self.val.fetch_xor(DELTA, AcqRel));
        debug_assert!(prev.is_running() && !prev.is_complete());
        Word(prev.0 ^ DELTA)
    }

    /// Releases `count` references after completion. Returns true if the caller must
    /// deallocate.
    pub(crate) fn transition_to_terminal(&self, count: usize) -> bool {
        let prev = Word(self.val.fetch_sub(count * REF_ONE, AcqRel));
        debug_assert!(prev.ref_count() >= count, "refcount underflow");
        prev.ref_count() == count
    }

    /// A waker consumed by value: its reference either becomes the `Notified`'s or is released.
    pub(crate) fn transition_to_notified_by_val(&self) -> TransitionToNotified {
        self.fetch_update_action(|mut next| {
            let action = if next.is_running() {
                next.set_notified();
                next.ref_dec();
                debug_assert!(next.ref_count() > 0);
                TransitionToNotified::DoNothing
            } else if next.is_complete() || next.is_notified() {
                next.ref_dec();
                if next.ref_count() == 0 {
                    TransitionToNotified::Dealloc
                } else {
                    TransitionToNotified::DoNothing
                }
            } else {
                next.set_notified();
                TransitionToNotified::Submit
            };
            (action, Some(next))
        })
    }

    /// A waker used by reference: a new reference is taken for the `Notified`.
    pub(crate) fn transition_to_notified_by_ref(&self) -> TransitionToNotified {
        self.fetch_update_action(|mut next| {
            if next.is_complete() || next.is_notified() {
                (TransitionToNotified::DoNothing, None)
            } else if next.is_running() {
                next.set_notified();
                (TransitionToNotified::DoNothing, Some(next))
            } else {
                next.set_notified();
                next.ref_inc();
                (TransitionToNotified::Submit, Some(next))
            }
        })
    }

    /// `JoinHandle::abort`. Returns true if the caller must submit a `Notified` (it holds a
    /// new reference for it) so that a worker drops the future.
    pub(crate) fn transition_to_notified_and_cancel(&self) -> bool {
        self.fetch_update_action(|mut next| {
            if next.is_cancelled() || next.is_complete() {
                (false, None)
            } else if next.is_running() || next.is_notified() {
                // The poller, or the worker that takes the queued `Notified`, sees the bit.
                next.set_notified();
                next.set_cancelled();
                (false, Some(next))
            } else {
                next.set_notified();
                next.set_cancelled();
                next.ref_inc();
                (true, Some(next))
            }
        })
    }

    /// Runtime shutdown: marks the task cancelled and, if it is idle, claims it. Returns true
    /// if the caller now owns the future and must cancel it.
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        let mut prev = Word(0);
        let _ = self.fetch_update(|mut next| {
            prev = next;
            if next.is_idle() {
                next.set_running();
            }
            next.set_cancelled();
            Some(next)
        });
        prev.is_idle()
    }

    /// The `JoinHandle` registers its waker. `Err` if the task completed meanwhile (the
    /// handle keeps ownership of the waker cell and should read the output).
    pub(crate) fn set_join_waker(&self) -> Result<Word, Word> {
        self.fetch_update(|curr| {
            debug_assert!(curr.is_join_interested() && !curr.is_join_waker_set());
            if curr.is_complete() {
                return None;
            }
            let mut next = curr;
            next.set_join_waker();
            Some(next)
        })
    }

    /// The `JoinHandle` takes the waker cell back to replace its waker. `Err` if complete.
    pub(crate) fn unset_join_waker(&self) -> Result<Word, Word> {
        self.fetch_update(|curr| {
            debug_assert!(curr.is_join_interested() && curr.is_join_waker_set());
            if curr.is_complete() {
                return None;
            }
            let mut next = curr;
            next.unset_join_waker();
            Some(next)
        })
    }

    /// The completer is done with the join waker. Returns the state before, so the caller
    /// knows whether the handle is gone (then the completer drops the waker).
    pub(crate) fn unset_waker_after_complete(&self) -> Word {
        let prev = Word(self.val.fetch_and(!JOIN_WAKER, AcqRel));
        debug_assert!(prev.is_complete() && prev.is_join_waker_set());
        prev
    }

    /// The `JoinHandle` is dropped. Returns what the handle must now clean up.
    pub(crate) fn transition_to_join_handle_dropped(&self) -> JoinHandleDropped {
        let mut result = JoinHandleDropped {
            drop_output: false,
            drop_waker: false,
        };
        let _ = self.fetch_update(|curr| {
            debug_assert!(curr.is_join_interested());
            let mut next = curr;
            next.unset_join_interested();
            if !curr.is_complete() {
                // The completer must not touch the waker cell any more.
                next.unset_join_waker();
            }
            result = JoinHandleDropped {
                drop_output: curr.is_complete(),
                drop_waker: !next.is_join_waker_set(),
            };
            Some(next)
        });
        result
    }

    pub(crate) fn ref_inc(&self) {
        let prev = self.val.fetch_add(REF_ONE, Relaxed);
        // An overflow would turn into a use-after-free; abort like `Arc` does.
        if prev > isize::MAX as usize {
            std::process::abort();
        }
    }

    /// Returns true if this was the last reference.
    pub(crate) fn ref_dec(&self) -> bool {
        let prev = Word(self.val.fetch_sub(REF_ONE, AcqRel));
        debug_assert!(prev.ref_count() >= 1, "refcount underflow");
        prev.ref_count() == 1
    }

    fn fetch_update_action<T>(&self, mut f: impl FnMut(Word) -> (T, Option<Word>)) -> T {
        let mut curr = self.load();
        loop {
            let (output, next) = f(curr);
            let Some(next) = next else { return output };
            match self.val.compare_exchange(curr.0, next.0, AcqRel, Acquire) {
                Ok(_) => return output,
                Err(actual) => curr = Word(actual),
            }
        }
    }

    fn fetch_update(&self, mut f: impl FnMut(Word) -> Option<Word>) -> Result<Word, Word> {
        let mut curr = self.load();
        loop {
            let Some(next) = f(curr) else {
                return Err(curr);
            };
            match self.val.compare_exchange(curr.0, next.0, AcqRel, Acquire) {
                Ok(_) => return Ok(next),
                Err(actual) => curr = Word(actual),
            }
        }
    }
}

pub(crate) struct JoinHandleDropped {
    pub(crate) drop_output: bool,
    pub(crate) drop_waker: bool,
}

impl Word {
    /// The bits a profile's `TaskState` is made of (running, notified, complete): what a
    /// snapshot checks did not move while it read the task's park record.
    pub(crate) fn profile_bits(self) -> usize {
        self.0 & (RUNNING | NOTIFIED | COMPLETE)
    }

    pub(crate) fn is_idle(self) -> bool {
        self.0 & LIFECYCLE_MASK == 0
    }
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    pub(crate) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    pub(crate) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
    pub(crate) fn ref_count(self) -> usize {
        (self.0 & REF_COUNT_MASK) >> REF_COUNT_SHIFT
    }
    fn set_running(&mut self) {
        self.0 |= RUNNING;
    }
    fn unset_running(&mut self) {
        self.0 &= !RUNNING;
    }
    fn set_notified(&mut self) {
        self.0 |= NOTIFIED;
    }
    fn unset_notified(&mut self) {
        self.0 &= !NOTIFIED;
    }
    fn set_cancelled(&mut self) {
        self.0 |= CANCELLED;
    }
    fn set_join_waker(&mut self) {
        self.0 |= JOIN_WAKER;
    }
    fn unset_join_waker(&mut self) {
        self.0 &= !JOIN_WAKER;
    }
    fn unset_join_interested(&mut self) {
        self.0 &= !JOIN_INTEREST;
    }
    fn ref_inc(&mut self) {
        self.0 += REF_ONE;
    }
    fn ref_dec(&mut self) {
        debug_assert!(self.ref_count() > 0);
        self.0 -= REF_ONE;
    }
}

impl fmt::Debug for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Word")
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("notified", &self.is_notified())
            .field("cancelled", &self.is_cancelled())
            .field("join_interested", &self.is_join_interested())
            .field("join_waker_set", &self.is_join_waker_set())
            .field("ref_count", &self.ref_count())
            .finish()
    }
}
