//! Which workers sleep, and how many are searching for work to steal.
//!
//! Waking a worker for every new task would thrash; waking none loses work. The protocol
//! (tokio's) keeps at most half the workers searching, wakes a sleeping worker only when none
//! is searching, and makes the last searcher to sleep re-check every queue, so that a task
//! pushed while workers go to sleep is always seen by someone.

use crate::loom::atomic::{AtomicUsize, Ordering::*};
use crate::loom::{lock, Mutex};

/// `num_awake << AWAKE_SHIFT | num_searching`.
const AWAKE_SHIFT: usize = 16;
const SEARCHING_MASK: usize = (1 << AWAKE_SHIFT) - 1;

pub(super) struct Idle {
    state: AtomicUsize,
    /// Indices of sleeping workers. Locked for every sleep and targeted rouse.
    sleepers: Mutex<Vec<usize>>,
    num_workers: usize,
}

impl Idle {
    pub(super) fn new(num_workers: usize) -> Idle {
        Idle {
            state: AtomicUsize::new(num_workers << AWAKE_SHIFT),
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
            num_workers,
        }
    }

    /// The worker to wake for new work, if one should be woken. The caller must rouse it.
    pub(super) fn worker_to_notify(&self) -> Option<usize> {
        if !self.notify_should_wakeup() {
            return None;
        }
        let mut sleepers = lock(&self.sleepers);
        if !self.notify_should_wakeup() {
            return None;
        }
        let worker = sleepers.pop()?;
        // The woken worker starts out searching.
        self.state.fetch_add(1 << AWAKE_SHIFT | 1, SeqCst);
        Some(worker)
    }

    /// Returns true if the worker was the last searcher: it must then check every queue once
    /// more before sleeping.
    pub(super) fn transition_worker_to_sleeping(&self, worker: usize, is_searching: bool) -> bool {
        let mut sleepers = lock(&self.sleepers);
        let dec = 1 << AWAKE_SHIFT | usize::from(is_searching);
        let prev = self.state.fetch_sub(dec, SeqCst);
        sleepers.push(worker);
        is_searching && prev & SEARCHING_MASK == 1
    }

    /// At most half the workers search at once.
    pub(super) fn transition_worker_to_searching(&self) -> bool {
        let state = self.state.load(SeqCst);
        if 2 * (state & SEARCHING_MASK) >= self.num_workers {
            return false;
        }
        self.state.fetch_add(1, SeqCst);
        true
    }

    /// Returns true if this was the last searcher (the caller then wakes another worker so
    /// that the work it found keeps spreading).
    pub(super) fn transition_worker_from_searching(&self) -> bool {
        let prev = self.state.fetch_sub(1, SeqCst);
        debug_assert!(prev & SEARCHING_MASK > 0);
        prev & SEARCHING_MASK == 1
    }

    /// Takes `worker` off the sleeper list if it is on it (woken by something other than a
    /// notification, e.g. I/O). Returns true if it was there.
    pub(super) fn rouse_worker_by_id(&self, worker: usize) -> bool {
        let mut sleepers = lock(&self.sleepers);
        match sleepers.iter().position(|&w| w == worker) {
            Some(index) => {
                sleepers.swap_remove(index);
                self.state.fetch_add(1 << AWAKE_SHIFT, SeqCst);
                true
            }
            None => false,
        }
    }

    pub(super) fn is_sleeping(&self, worker: usize) -> bool {
        lock(&self.sleepers).contains(&worker)
    }

    fn notify_should_wakeup(&self) -> bool {
        let state = self.state.fetch_add(0, SeqCst);
        state & SEARCHING_MASK == 0 && (state >> AWAKE_SHIFT) < self.num_workers
    }
}
