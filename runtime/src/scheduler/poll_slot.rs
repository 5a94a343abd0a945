//! What each worker is polling, for other threads: `profile()` shows a running task's time in
//! its poll and its worker, and a watchdog reports polls that hold their worker too long.
//!
//! A worker writes its slot twice per poll, where it used to set and clear a thread-local
//! "polling" flag: one release store of `task id << 16 | tick` before the poll and a store of
//! 0 after. The poll's start time is not read per poll (a clock read would be most of a
//! poll's cost): the slot also holds the worker's cached clock, written when the worker
//! refreshes it (every few polls, and after sleeping), so a poll's start is known to be no
//! earlier than that. A reader's `elapsed` is therefore at least the poll's length, and at
//! most that plus the polls the worker ran since its last refresh.
//!
//! The word doubles as the poll's identity: the low 16 bits of the worker's tick tell one
//! poll from the next poll of the same task, so a watchdog that reads the same word twice
//! has (but for a wrap of 65,536 ticks exactly between its reads) seen one poll both times.

use crate::loom::atomic::{AtomicU64, Ordering};
use crate::task_core::TaskId;
use std::time::Duration;

const TICK_BITS: u32 = 16;

/// One worker's slot, on a cache line of its own: it is written at every poll.
#[repr(align(128))]
pub(crate) struct PollSlot {
    /// `task id << TICK_BITS | tick & 0xffff` while a task is polled; 0 between polls.
    word: AtomicU64,
    /// The worker's cached park clock (`park::now`), as of its last refresh; 0 without
    /// recording.
    clock: AtomicU64,
}

impl PollSlot {
    pub(crate) fn new() -> PollSlot {
        PollSlot {
            word: AtomicU64::new(0),
            clock: AtomicU64::new(0),
        }
    }

    /// The worker starts polling `task`.
    #[inline(always)]
    pub(crate) fn begin(&self, task: TaskId, tick: u32) {
        // Task ids start at 1, so the word is never 0 while polling. Release: a reader that
        // sees the word sees the clock the worker stored before it.
        let word = task.as_u64() << TICK_BITS | u64::from(tick & 0xffff);
        self.word.store(word, Ordering::Release);
    }

    /// The poll is over.
    #[inline(always)]
    pub(crate) fn end(&self) {
        self.word.store(0, Ordering::Relaxed);
    }

    /// True between `begin` and `end` (read by the worker itself).
    #[inline(always)]
    pub(crate) fn is_polling(&self) -> bool {
        self.word.load(Ordering::Relaxed) != 0
    }

    /// The worker refreshed its cached clock to `now`.
    #[inline(always)]
    pub(crate) fn set_clock(&self, now: u64) {
        self.clock.store(now, Ordering::Relaxed);
    }

    /// The poll in progress, if any, as of `now` on the park clock.
    pub(crate) fn read(&self, worker: usize, now: u64) -> Option<RunningPoll> {
        let word = self.word.load(Ordering::Acquire);
        if word == 0 {
            return None;
        }
        let clock = self.clock.load(Ordering::Relaxed);
        Some(RunningPoll {
            worker,
            task: TaskId::from_u64(word >> TICK_BITS)?,
            elapsed_ns: match clock {
                0 => 0,
                clock => now.saturating_sub(clock),
            },
            id: word,
        })
    }
}

/// A poll in progress on a worker: [`Handle::running_polls`](crate::Handle::running_polls).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunningPoll {
    worker: usize,
    task: TaskId,
    elapsed_ns: u64,
    id: u64,
}

impl RunningPoll {
    /// The worker polling (0-based, as in `worker()` of a task snapshot).
    pub fn worker(&self) -> usize {
        self.worker
    }

    /// The task being polled.
    pub fn task(&self) -> TaskId {
        self.task
    }

    /// How long the poll has run: at least its length so far, and at most that plus the
    /// polls the worker ran just before it (the worker's clock is refreshed every few polls,
    /// not read at each). Zero with recording off (`--no-default-features`).
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.elapsed_ns)
    }

    /// The same for every read of one poll, and (but for a wrap of 65,536 polls on the worker
    /// exactly between two reads) different for the next poll on the worker, even of the same
    /// task: what a watchdog compares to tell that a poll is still the same.
    pub fn poll_id(&self) -> u64 {
        self.id
    }
}
