//! Who holds what a parked task waits for: the holder of a `Mutex`, the writer and readers of
//! an `RwLock`, tasks holding a `Semaphore`'s permits, the task a `JoinHandle` awaits. A parked task's record names what it is
//! blocked on ([`blocked_on`](Holder::blocked_on), stored with the park); `profile()` turns
//! that into `Park::blocked_by`, and the profiler finds deadlocks as cycles of it.
//!
//! A lock's holders live in a [`HolderCell`] the lock's semaphore owns, not in the lock: a snapshot reads
//! the cell through the waiter's record while the lock may be dropped and freed by its owner
//! at any moment. So cells are never freed: a dropped lock's cell is cleared and goes back to
//! a pool for the next lock, which keeps every cell address valid (type-stable memory). A
//! snapshot that races a lock's drop reads a cleared or reused cell, a wrong holder at worst,
//! never freed memory; and the task it reads for is then no longer parked on that lock, which
//! the snapshot's consistency check (the poll count) catches for every path but a runtime's
//! shutdown.
//!
//! Costs: a lock's `new` takes a cell from the pool (a pop), its drop gives it back; a guard's
//! creation stores the current task's id, its drop a zero (a read guard claims one of a few
//! reader slots with a compare-and-swap). Nothing on the paths of tasks that take no lock.

use crate::loom::atomic::{AtomicU64, Ordering::*};
use crossbeam_queue::SegQueue;

/// Readers (or permit holders) recorded per lock: more at once show the first few.
const READER_SLOTS: usize = 4;

/// Tag of a `blocked_on` word that is a task id (`id << 1 | TASK`), not a cell's address.
const TASK: u64 = 1;

pub(crate) struct HolderCell {
    /// The task holding the lock exclusively (a `Mutex`, an `RwLock`'s writer); 0: none or
    /// not a task (a guard taken in `block_on`).
    writer: AtomicU64,
    /// Tasks holding read guards of an `RwLock`, or permits of a `Semaphore`, in any order;
    /// 0: free slot.
    readers: [AtomicU64; READER_SLOTS],
}

/// Cells of dropped locks, cleared, for the next lock. Never freed (module doc).
static POOL: SegQueue<&'static HolderCell> = SegQueue::new();

/// A lock's record of who holds it. Without recording it is empty and every method a no-op.
pub(crate) struct Holder {
    cell: &'static HolderCell,
}

/// Which reader slot a read guard took, to clear it on drop (`NONE`: no slot was free).
#[derive(Copy, Clone, Debug)]
pub(crate) struct ReaderSlot(u8);

impl ReaderSlot {
    const NONE: ReaderSlot = ReaderSlot(u8::MAX);
}

impl Holder {
    pub(crate) fn new() -> Holder {
        let cell = POOL.pop().unwrap_or_else(|| {
            Box::leak(Box::new(HolderCell {
                writer: AtomicU64::new(0),
                readers: Default::default(),
            }))
        });
        Holder { cell }
    }

    /// What a waiter for this lock records as blocking it.
    #[inline]
    pub(crate) fn blocked_on(&self) -> u64 {
        std::ptr::from_ref(self.cell) as u64
    }

    /// Task `task` (its id; 0: not a task) took the lock exclusively.
    #[inline]
    pub(crate) fn acquired(&self, task: u64) {
        self.cell.writer.store(task, Relaxed);
    }

    /// The exclusive holder let go.
    #[inline]
    pub(crate) fn released(&self) {
        self.cell.writer.store(0, Relaxed);
    }

    /// Task `id` (0: not a task) took a read guard.
    pub(crate) fn read_acquired(&self, id: u64) -> ReaderSlot {
        if id == 0 {
            return ReaderSlot::NONE;
        }
        for (i, slot) in self.cell.readers.iter().enumerate() {
            if slot.compare_exchange(0, id, Relaxed, Relaxed).is_ok() {
                return ReaderSlot(i as u8);
            }
        }
        ReaderSlot::NONE
    }

    /// A read guard let go.
    pub(crate) fn read_released(&self, slot: ReaderSlot) {
        if let Some(slot) = self.cell.readers.get(usize::from(slot.0)) {
            slot.store(0, Relaxed);
        }
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        self.cell.writer.store(0, Relaxed);
        for slot in &self.cell.readers {
            slot.store(0, Relaxed);
        }
        POOL.push(self.cell);
    }
}

/// What a task awaiting the `JoinHandle` of task `task` (its id) records as blocking it.
#[inline]
pub(crate) fn blocked_on_task(task: u64) -> u64 {
    task << 1 | TASK
}

/// The ids of the tasks a `blocked_on` word names: the awaited task, or a lock's holders (the
/// writer, then readers). 0 names nobody.
pub(crate) fn holders(blocked_on: u64, out: &mut Vec<u64>) {
    if blocked_on == 0 {
        return;
    }
    if blocked_on & TASK != 0 {
        out.push(blocked_on >> 1);
        return;
    }
    // SAFETY: a `blocked_on` word without the TASK tag is a `HolderCell` address from
    // `Holder::blocked_on`, and cells are never freed (module doc).
    let cell = unsafe { &*(blocked_on as usize as *const HolderCell) };
    let ids = std::iter::once(&cell.writer)
        .chain(&cell.readers)
        .map(|id| id.load(Relaxed));
    for id in ids {
        if id != 0 && !out.contains(&id) {
            out.push(id);
        }
    }
}
