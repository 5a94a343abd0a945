//! The task core: one allocation per spawned future, shared by the scheduler, wakers and the
//! `JoinHandle` through a reference-counted state word. Spawning (which needs a runtime) is
//! `crate::spawn`'s, above the scheduler; the public `runtime::task` module re-exports both.
//!
//! # Design
//!
//! A task is a `Cell` (`core.rs`): a type-erased `Header` first, then the scheduler handle and
//! the future's `Stage`, then the `Trailer` with the join waker. The header holds the state
//! word (`state.rs`), the vtable (`raw.rs`), the park record and the spawn metadata that a
//! snapshot reads.
//!
//! References, each counted in the state word:
//! - the registry's `Task` (taken at spawn, released when the task completes),
//! - at most one `Notified` (a run-queue entry; it becomes the poller's reference while the
//!   task runs),
//! - the `JoinHandle`,
//! - every `Waker` clone.
//!
//! Who may touch what:
//! - the `Stage` (future, then output): the holder of RUNNING; after COMPLETE, the `JoinHandle`
//!   if JOIN_INTEREST was still set at completion, the completer otherwise;
//! - the join waker: the `JoinHandle` while JOIN_WAKER is clear, the completer while it is set;
//! - the park record: the polling thread writes, snapshots read (see `park`);
//! - `registry_key`: whoever holds the task's registry shard lock.
//!
//! All unsafe code of the task system is in this module; schedulers handle only the safe
//! `Task`, `Notified` and `JoinHandle` types.

mod alloc;
mod core;
mod error;
mod harness;
mod id;
mod join;
#[cfg(all(test, loom))]
mod loom_tests;
mod raw;
pub(crate) mod registry;
pub(crate) mod state;
mod view;
mod waker;
mod yield_now;

pub(crate) use self::core::{current_task_id, Meta};
pub use self::error::JoinError;
pub use self::id::TaskId;
pub use self::join::JoinHandle;
pub(crate) use self::view::{StateWord, TaskView};
pub use self::yield_now::yield_now;

use self::raw::RawTask;
use crate::park::ParkReason;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;

/// What a task needs from the scheduler that runs it.
pub(crate) trait Schedule: Sync + Sized + 'static {
    /// Takes a completed task out of the scheduler's registry, returning its reference.
    fn release(&self, task: &Task<Self>) -> Option<Task<Self>>;

    /// Queues a task that was woken.
    fn schedule(&self, task: Notified<Self>);

    /// Queues a task that woke itself while running (yield); it should go behind the others.
    fn yield_now(&self, task: Notified<Self>) {
        self.schedule(task);
    }
}

/// An owned reference to a task, as held by the registry.
pub(crate) struct Task<S: 'static> {
    raw: RawTask,
    _scheduler: PhantomData<S>,
}

/// A task that is due to be polled: the run queues hold these. Holds one reference.
pub(crate) struct Notified<S: 'static>(Task<S>);

// SAFETY: tasks are built only from `Send` futures and outputs; the scheduler handle is `Sync`.
unsafe impl<S: Schedule> Send for Task<S> {}
// SAFETY: as above.
unsafe impl<S: Schedule> Sync for Task<S> {}

/// Allocates a task. The returned three values hold its three initial references.
pub(crate) fn new_task<F, S>(
    future: F,
    scheduler: S,
    meta: Meta,
    join_reason: ParkReason,
) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    let raw = RawTask::new(future, scheduler, meta);
    let task = Task::from_raw(raw);
    let notified = Notified(Task::from_raw(raw));
    let join = JoinHandle::new(raw, join_reason);
    (task, notified, join)
}

impl<S: 'static> Task<S> {
    fn from_raw(raw: RawTask) -> Task<S> {
        Task {
            raw,
            _scheduler: PhantomData,
        }
    }

    pub(crate) fn id(&self) -> TaskId {
        self.raw.header().meta.id
    }

    fn ptr_eq(&self, other: &Task<S>) -> bool {
        self.raw == other.raw
    }

    fn registry_key(&self) -> usize {
        // SAFETY: called only under the task's registry shard lock.
        self.raw.header().registry_key.with(|key| unsafe { *key }) as usize
    }

    fn set_registry_key(&self, key: usize) {
        let key = u32::try_from(key).expect("a registry shard holds under 2^32 tasks");
        // SAFETY: called only under the task's registry shard lock.
        self.raw
            .header()
            .registry_key
            .with_mut(|slot| unsafe { *slot = key });
    }

    /// Cancels the task if it is idle (runtime shutdown); consumes this reference.
    pub(crate) fn shutdown(self) {
        let raw = ManuallyDrop::new(self).raw;
        raw.shutdown();
    }
}

impl<S: 'static> Drop for Task<S> {
    fn drop(&mut self) {
        self.raw.drop_reference();
    }
}

impl<S: 'static> Notified<S> {
    pub(crate) fn id(&self) -> TaskId {
        self.0.id()
    }

    /// Polls the task once (or cancels it); the queue's reference becomes the poller's.
    pub(crate) fn run(self) {
        let raw = ManuallyDrop::new(self).0.raw;
        raw.poll();
    }
}

impl<S: 'static> Notified<S> {
    /// Marks the task cancelled and runs it, which drops its future unpolled.
    pub(crate) fn cancel_and_run(self) {
        let needs_schedule = self
            .0
            .raw
            .header()
            .state
            .transition_to_notified_and_cancel();
        debug_assert!(
            !needs_schedule,
            "a held Notified means the task is already queued"
        );
        self.run();
    }
}

#[cfg(test)]
mod size {
    /// A task with a tiny future fits the cell cache's 136-byte class (`task::alloc`): memory
    /// per parked task is compared with tokio's. It was the 120-byte class until the task's
    /// identity (name, parent) moved out of the park record into `Meta`, which took the
    /// header from 72 to 80 bytes (BENCHMARKS.md, "Recording cost": 339 -> 355 bytes per
    /// parked task in `scale`, against tokio's 523).
    #[test]
    fn a_small_task_cell_fits_a_136_byte_class() {
        type Tiny = std::future::Ready<()>;
        let size = std::mem::size_of::<super::core::Cell<Tiny, crate::Handle>>();
        assert!(size <= 136, "a task cell is {size} bytes");
    }
}
