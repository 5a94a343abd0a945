//! The task allocation: header (hot, type-erased), core (future or output, scheduler) and
//! trailer (join waker), laid out `repr(C)` so a `NonNull<Header>` addresses the whole cell.

use super::raw::Vtable;
use super::state::State;
use super::{JoinError, TaskId};
use crate::loom::atomic::AtomicU32;
use crate::loom::UnsafeCell;
use crate::park;
use std::future::Future;
use std::panic::Location;
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::Waker;

/// Everything a scheduler, a waker or a snapshot needs without knowing the future's type.
#[repr(C)]
pub(crate) struct Header {
    pub(super) state: State,
    pub(super) vtable: &'static Vtable,
    /// Reason, site and since of the last park; written only by the polling thread.
    pub(super) record: park::Record,
    /// Set at spawn, never written again.
    pub(super) meta: Meta,
    /// This task's slot in its registry shard. Read and written only under that shard's lock.
    pub(super) registry_key: UnsafeCell<u32>,
    /// Polls so far (counted with the `profiling` feature), written by the polling thread.
    /// Beside the key so the two share a word.
    pub(super) polls: AtomicU32,
}

/// The task being polled on this thread, if any (and recording is compiled in: the park
/// module keeps the polled task's record, and this steps from it to its header, sparing
/// every poll a second thread-local).
pub(crate) fn current_task_id() -> Option<TaskId> {
    let record = park::current_record();
    if record.is_null() {
        return None;
    }
    // SAFETY: `PollScope::enter` set `record` from the header of the task being polled on
    // this thread, which stays alive until the scope ends (after this call returns).
    let header = unsafe { header_of_record(record) };
    Some(header.meta.id)
}

/// Whether the task whose header holds `record` has been woken since its poll began: what
/// the park module's `PollScope` asks on a poll's rarer endings.
///
/// # Safety
/// `record` points to the `record` field of a live `Header`, with the header's provenance.
#[inline]
pub(crate) unsafe fn woken_since_poll(record: *const park::Record) -> bool {
    // SAFETY: the caller's contract.
    unsafe { header_of_record(record) }
        .state
        .load()
        .is_notified()
}

/// The header whose `record` field `record` is, by the field's offset.
///
/// # Safety
/// `record` points to the `record` field of a `Header` alive for `'a`, and carries the
/// provenance of the whole header (it was taken from a pointer or reference to the header
/// with `&raw const`, not through a reference to the field alone).
#[inline]
unsafe fn header_of_record<'a>(record: *const park::Record) -> &'a Header {
    // SAFETY: the caller's contract.
    unsafe {
        &*record
            .byte_sub(std::mem::offset_of!(Header, record))
            .cast::<Header>()
    }
}

/// Who the task is: what a snapshot shows about it that never changes after spawn.
pub(crate) struct Meta {
    pub(crate) id: TaskId,
    pub(crate) spawn_site: &'static Location<'static>,
    /// The task that spawned this one, if it was spawned from a task (recorded with the
    /// `profiling` feature).
    pub(crate) parent: Option<TaskId>,
    /// One pointer: few tasks are named, and a task cell stays small.
    pub(crate) name: Option<Box<Arc<str>>>,
}

impl Meta {
    /// A new task's identity, spawned at `site` from the task polled on this thread (if any).
    pub(crate) fn new(site: &'static Location<'static>, name: Option<Arc<str>>) -> Meta {
        Meta {
            id: TaskId::next(),
            spawn_site: site,
            parent: current_task_id(),
            name: name.map(Box::new),
        }
    }
}

/// The future while it runs, then its output until the `JoinHandle` takes it.
pub(super) enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

#[repr(C)]
pub(super) struct Core<F: Future, S> {
    pub(super) scheduler: S,
    /// Touched only by the holder of the RUNNING bit, or after COMPLETE by the join side
    /// (the `JoinHandle` if JOIN_INTEREST is set, the completer otherwise).
    pub(super) stage: UnsafeCell<Stage<F>>,
}

pub(super) struct Trailer {
    /// Written by the `JoinHandle` while JOIN_WAKER is clear; read by the completer while it
    /// is set.
    pub(super) waker: UnsafeCell<Option<Waker>>,
}

#[repr(C)]
pub(super) struct Cell<F: Future, S> {
    pub(super) header: Header,
    pub(super) core: Core<F, S>,
    pub(super) trailer: Trailer,
}

impl<F: Future, S> Cell<F, S> {
    pub(super) fn new(
        future: F,
        scheduler: S,
        meta: Meta,
        vtable: &'static Vtable,
    ) -> NonNull<Self> {
        super::alloc::allocate(Cell {
            header: Header {
                state: State::new(),
                vtable,
                record: park::Record::new(),
                meta,
                registry_key: UnsafeCell::new(u32::MAX),
                polls: AtomicU32::new(0),
            },
            core: Core {
                scheduler,
                stage: UnsafeCell::new(Stage::Running(future)),
            },
            trailer: Trailer {
                waker: UnsafeCell::new(None),
            },
        })
    }
}

impl<F: Future, S> Core<F, S> {
    /// # Safety
    /// The caller holds the RUNNING bit (or is the join side after COMPLETE, see `stage`).
    pub(super) unsafe fn set_stage(&self, stage: Stage<F>) {
        // SAFETY: exclusive access per the caller's contract.
        self.stage.with_mut(|ptr| unsafe { *ptr = stage });
    }

    /// # Safety
    /// As `set_stage`.
    pub(super) unsafe fn take_output(&self) -> Result<F::Output, JoinError> {
        // SAFETY: exclusive access per the caller's contract.
        self.stage.with_mut(
            |ptr| match std::mem::replace(unsafe { &mut *ptr }, Stage::Consumed) {
                Stage::Finished(output) => output,
                _ => panic!("JoinHandle polled after completion"),
            },
        )
    }
}

impl Trailer {
    /// # Safety
    /// The caller may write the waker cell (see `waker`).
    pub(super) unsafe fn set_waker(&self, waker: Option<Waker>) {
        // SAFETY: exclusive access per the caller's contract.
        self.waker.with_mut(|ptr| unsafe { *ptr = waker });
    }

    /// # Safety
    /// The caller may read the waker cell (see `waker`).
    pub(super) unsafe fn will_wake(&self, waker: &Waker) -> bool {
        // SAFETY: shared access per the caller's contract.
        self.waker
            .with(|ptr| unsafe { (*ptr).as_ref() }.is_some_and(|w| w.will_wake(waker)))
    }

    /// # Safety
    /// The caller is the completer and JOIN_WAKER is set.
    pub(super) unsafe fn wake_join(&self) {
        // SAFETY: shared access per the caller's contract.
        self.waker.with(|ptr| match unsafe { &*ptr } {
            Some(waker) => waker.wake_by_ref(),
            None => panic!("invariant: JOIN_WAKER set without a waker"),
        });
    }
}
