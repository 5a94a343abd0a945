//! A worker thread's loop: run local work, steal, sleep.

use super::poll_slot::PollSlot;
use super::sleep::Sleeper;
use super::{current, Handle, Shared};
use crate::park;
use crate::task_core::Notified;
use crossbeam_deque::{Steal, Worker as Deque};
use std::cell::{Cell, RefCell};

/// Ticks between non-blocking turns of the driver, so that timers fire and sockets are
/// serviced while every worker is busy.
const EVENT_INTERVAL: u32 = 61;
/// Ticks between checks of the global injector ahead of the local queue, so that tasks
/// scheduled from outside are not starved by a busy local queue.
const GLOBAL_QUEUE_INTERVAL: u32 = 31;
/// Ticks between refreshes of the worker's cached clock, which stamps parks (see
/// `park::refresh_clock`).
const CLOCK_INTERVAL: u32 = 8;
/// LIFO-slot polls in a row before the slot's task must wait its turn in the queue.
const MAX_LIFO_POLLS: u8 = 3;

/// State owned by one worker thread. Reached through the thread-local context while the
/// thread runs tasks, so everything is `Cell`-based.
pub(crate) struct Worker {
    handle: Handle,
    index: usize,
    queue: Deque<Notified<Handle>>,
    /// The task last woken by the task running here; polled next.
    lifo: Cell<Option<Notified<Handle>>>,
    lifo_streak: Cell<u8>,
    /// What this worker polls, for other threads; also whether a task is being polled now
    /// (only its wakes go to the LIFO slot). Points into `handle`'s shared state.
    poll_slot: *const PollSlot,
    is_searching: Cell<bool>,
    tick: Cell<u32>,
    sleeper: RefCell<Sleeper>,
}

impl Worker {
    pub(crate) fn new(
        handle: Handle,
        index: usize,
        queue: Deque<Notified<Handle>>,
        sleeper: Sleeper,
    ) -> Worker {
        let poll_slot = handle.shared.poll_slot(index);
        Worker {
            handle,
            index,
            queue,
            lifo: Cell::new(None),
            lifo_streak: Cell::new(0),
            poll_slot,
            is_searching: Cell::new(false),
            tick: Cell::new(0),
            sleeper: RefCell::new(sleeper),
        }
    }

    fn shared(&self) -> &Shared {
        &self.handle.shared
    }

    #[inline(always)]
    fn poll_slot(&self) -> &PollSlot {
        // SAFETY: the slot is part of the `Shared` that `self.handle` keeps alive, and is
        // never moved (it sits in a boxed slice).
        unsafe { &*self.poll_slot }
    }

    pub(super) fn belongs_to(&self, shared: &Shared) -> bool {
        std::ptr::eq(self.shared(), shared)
    }

    /// The worker thread's body.
    pub(crate) fn run(&self) {
        let _enter = current::enter(self.handle.clone());
        let _worker = current::set_worker(self);
        let _table = park::set_worker_table(&self.shared().tables[self.index]);
        self.poll_slot().set_clock(park::refresh_clock());
        while !self.shared().is_shutdown() {
            let tick = self.tick.get().wrapping_add(1);
            self.tick.set(tick);
            if tick.is_multiple_of(CLOCK_INTERVAL) {
                self.poll_slot().set_clock(park::refresh_clock());
            }
            if tick.is_multiple_of(EVENT_INTERVAL) {
                self.shared().shared_driver.poll_now();
                self.notify_if_more_than_next();
            }
            match self.next_task(tick).or_else(|| self.steal_work()) {
                Some(task) => self.run_task(task),
                None => self.sleep(),
            }
        }
        // Queued `Notified`s hold references; the tasks themselves are cancelled from the
        // registry by `Shared::finish_shutdown`.
        drop(self.lifo.take());
        while self.queue.pop().is_some() {}
    }

    fn run_task(&self, task: Notified<Handle>) {
        if self.is_searching.get() {
            self.is_searching.set(false);
            if self.shared().idle.transition_worker_from_searching() {
                // The last searcher found work: wake another to keep looking.
                self.shared().rouse_sleeper();
            }
        }
        let slot = self.poll_slot();
        slot.begin(task.id(), self.tick.get());
        task.run();
        slot.end();
    }

    fn next_task(&self, tick: u32) -> Option<Notified<Handle>> {
        if tick.is_multiple_of(GLOBAL_QUEUE_INTERVAL) {
            if let Some(task) = self.shared().pop_global(&self.queue) {
                return Some(task);
            }
        }
        if let Some(task) = self.lifo.take() {
            if self.lifo_streak.get() < MAX_LIFO_POLLS {
                self.lifo_streak.set(self.lifo_streak.get() + 1);
                return Some(task);
            }
            self.queue.push(task);
        }
        self.lifo_streak.set(0);
        self.queue
            .pop()
            .or_else(|| self.shared().pop_global(&self.queue))
    }

    fn steal_work(&self) -> Option<Notified<Handle>> {
        if !self.is_searching.get() {
            if !self.shared().idle.transition_worker_to_searching() {
                return None;
            }
            self.is_searching.set(true);
        }
        let remotes = &self.shared().remotes;
        let start = self.next_rand() as usize % remotes.len();
        for offset in 0..remotes.len() {
            let index = (start + offset) % remotes.len();
            if index == self.index {
                continue;
            }
            loop {
                match remotes[index].stealer.steal_batch_and_pop(&self.queue) {
                    Steal::Success(task) => return Some(task),
                    Steal::Empty => break,
                    Steal::Retry => std::hint::spin_loop(),
                }
            }
        }
        self.shared().pop_global(&self.queue)
    }

    fn next_rand(&self) -> u32 {
        (crate::poll_context::random_u64() >> 32) as u32
    }

    fn has_local_work(&self) -> bool {
        self.local_len() > 0
    }

    fn sleep(&self) {
        if self.has_local_work() {
            return;
        }
        let is_last_searcher = self
            .shared()
            .idle
            .transition_worker_to_sleeping(self.index, self.is_searching.get());
        self.is_searching.set(false);
        if is_last_searcher {
            self.shared().notify_if_work_pending();
        }
        while !self.shared().is_shutdown() {
            let timer_due_soon = self.sleeper.borrow_mut().sleep();
            self.poll_slot().set_clock(park::refresh_clock());
            if self.transition_from_sleeping() {
                if !self.is_searching.get() && (timer_due_soon || self.local_len() > 1) {
                    // Woken with tasks of its own by a turn of the driver, which it now leaves
                    // to run them: wake one parked worker to steal the tasks beyond the first
                    // (tokio's `should_notify_others`) or, with a timer due soon, to take the
                    // driver over, or a long poll here would hold that timer up while the
                    // other worker idles. Not on every turn: on a busy server that is a futex
                    // wake and a context switch per request (`driver::HANDOFF_HORIZON`). (A
                    // notified worker is searching instead, and notifies when it finds work,
                    // `run_task`.)
                    self.shared().rouse_sleeper();
                }
                return;
            }
        }
    }

    /// After waking: true if the worker should run again (and with which search state).
    fn transition_from_sleeping(&self) -> bool {
        if self.has_local_work() {
            // Woken by the driver with tasks of its own: not a notification, so not searching.
            let was_notified = !self.shared().idle.rouse_worker_by_id(self.index);
            self.is_searching.set(was_notified);
            return true;
        }
        if self.shared().idle.is_sleeping(self.index) {
            // Spurious, or a driver turn that woke nothing here.
            return false;
        }
        // Notified: `worker_to_notify` counted us as searching.
        self.is_searching.set(true);
        true
    }

    /// Queues a task woken on this worker.
    #[inline]
    pub(super) fn schedule_local(&self, task: Notified<Handle>, is_yield: bool) {
        let polling = self.poll_slot().is_polling();
        let should_notify = if is_yield || !polling {
            self.queue.push(task);
            true
        } else {
            match self.lifo.replace(Some(task)) {
                Some(prev) => {
                    self.queue.push(prev);
                    true
                }
                None => false,
            }
        };
        // Between tasks, the wake comes from a turn of the driver on this thread: those come
        // in batches, and this worker, still on the sleeper list while it turns the driver
        // from `sleep`, could even be the one a notification picks. So the turn notifies once
        // when it is over (in `sleep`, or `notify_if_more_than_next` after `poll_now`).
        if should_notify && polling {
            self.shared().rouse_sleeper();
        }
    }

    /// After a non-blocking turn of the driver between tasks: if it left this worker more than
    /// the task it runs next, wake a parked worker to steal the rest (tokio's
    /// `should_notify_others`). Not while this one is searching: the idle protocol then wakes
    /// another when the last searcher finds work (`run_task`).
    fn notify_if_more_than_next(&self) {
        if !self.is_searching.get() && self.local_len() > 1 {
            self.shared().rouse_sleeper();
        }
    }

    /// Tasks queued on this worker: the LIFO slot's and the local queue's.
    fn local_len(&self) -> usize {
        let lifo = self.lifo.take();
        let len = usize::from(lifo.is_some()) + self.queue.len();
        self.lifo.set(lifo);
        len
    }
}
