//! What a profile reads of a task: [`TaskView`], the one narrow view of a task's header that
//! `profile` takes its snapshots and counts through. The task module knows nothing of
//! profiles.

use super::core::{Header, Meta};
use super::state::Word;
use super::{Schedule, Task};
use crate::loom::atomic::AtomicU32;
use crate::park;

/// A live task's header, read-only: its state word, park record, identity and poll count.
#[derive(Clone, Copy)]
pub(crate) struct TaskView<'a> {
    header: &'a Header,
}

impl<S: Schedule> Task<S> {
    /// The task as a profile reads it.
    #[inline]
    pub(crate) fn view(&self) -> TaskView<'_> {
        TaskView {
            header: self.raw.header(),
        }
    }
}

impl<'a> TaskView<'a> {
    /// The state word now.
    #[inline]
    pub(crate) fn state(&self) -> StateWord {
        StateWord(self.header.state.load())
    }

    /// The park record (written only by the thread polling the task).
    #[inline]
    pub(crate) fn record(&self) -> &'a park::Record {
        &self.header.record
    }

    /// Who the task is: id, spawn site, parent, name.
    #[inline]
    pub(crate) fn meta(&self) -> &'a Meta {
        &self.header.meta
    }

    /// Polls so far; it moves at every poll's start, so a reader brackets a record read with
    /// two loads of it (`park::stable`).
    #[inline]
    pub(crate) fn polls(&self) -> &'a AtomicU32 {
        &self.header.polls
    }

    /// The spawned future's type name.
    #[inline]
    pub(crate) fn future_type(&self) -> fn() -> &'static str {
        self.header.vtable.future_type
    }
}

/// A task's state word as a profile reads it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct StateWord(Word);

impl StateWord {
    /// Being polled.
    #[inline]
    pub(crate) fn is_running(self) -> bool {
        self.0.is_running()
    }

    /// Woken and queued (or about to be), or finished and completing: runnable, not parked.
    #[inline]
    pub(crate) fn is_runnable(self) -> bool {
        self.0.is_notified() || self.0.is_complete()
    }

    /// The bits `is_running` and `is_runnable` are made of: what a snapshot checks did not
    /// move while it read the park record.
    #[inline]
    pub(crate) fn profile_bits(self) -> usize {
        self.0.profile_bits()
    }

    /// How many references to the task can wake it: all but the registry's, the join
    /// handle's, and a queued `Notified` or the running poll's.
    #[inline]
    pub(crate) fn wakers(self) -> usize {
        let state = self.0;
        let not_wakers = 1
            + usize::from(state.is_join_interested())
            + usize::from(state.is_notified() || state.is_running());
        state.ref_count().saturating_sub(not_wakers)
    }
}
