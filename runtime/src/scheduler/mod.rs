//! The multi-thread work-stealing scheduler.
//!
//! Each worker thread owns a crossbeam-deque FIFO queue that other workers steal from in
//! batches, plus a LIFO slot for the task most recently woken by the task it is running
//! (message passing ping-pongs without a queue round trip; capped at `MAX_LIFO_POLLS` in a
//! row so it cannot starve the queue). Tasks scheduled from outside the workers go to a
//! global injector, which workers check every `GLOBAL_QUEUE_INTERVAL` ticks for fairness.
//! Idle workers sleep on the driver or a condvar (`sleep.rs`); `idle.rs` decides whom to wake.

mod blocking;
pub(crate) mod current;
mod idle;
mod poll_slot;
mod sleep;
pub(crate) mod worker;

pub(crate) use blocking::BlockingPool;
pub use current::EnterGuard;
pub use poll_slot::RunningPoll;
pub(crate) use sleep::{Rouser, SharedDriver, Sleeper};

use crate::driver;
use crate::loom::atomic::{fence, AtomicBool, Ordering::*};
use crate::park::{ParkReason, ParkTable};
use crate::profile::{Counter, ParkSite, Profile, TaskCounts};
use crate::task_core::registry::Registry;
use crate::task_core::{self as task, JoinHandle, Meta, Notified, Schedule, Task};
use crossbeam_deque::{Injector, Steal, Stealer};
use idle::Idle;
use poll_slot::PollSlot;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::sync::Arc;
use std::time::Duration;

/// A handle to a runtime: spawn onto it and profile it from any thread. Cheap to clone.
#[derive(Clone)]
pub struct Handle {
    pub(crate) shared: Arc<Shared>,
}

pub(crate) struct Shared {
    remotes: Box<[Remote]>,
    injector: Injector<Notified<Handle>>,
    idle: Idle,
    pub(crate) registry: Registry<Handle>,
    pub(crate) driver: Arc<driver::Handle>,
    pub(crate) shared_driver: crate::loom::Arc<SharedDriver>,
    pub(crate) blocking: BlockingPool,
    shutdown: AtomicBool,
    /// One park-time table per worker, indexed like `remotes`.
    tables: Box<[Box<ParkTable>]>,
}

/// What other threads may do to a worker: steal from it, wake it, and see what it polls.
struct Remote {
    stealer: Stealer<Notified<Handle>>,
    rouser: Rouser,
    poll: PollSlot,
}

/// The error of [`Handle::try_current`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryCurrentError(());

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no Parkade runtime is running on this thread")
    }
}

impl std::error::Error for TryCurrentError {}

impl Handle {
    /// The handle of the runtime this thread is running in (a task, `block_on`, a blocking
    /// closure or `Handle::enter`).
    ///
    /// # Panics
    /// Outside a runtime; see [`Handle::try_current`].
    #[track_caller]
    pub fn current() -> Handle {
        current::current()
    }

    /// The current runtime's handle, or an error outside one.
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        current::try_current().ok_or(TryCurrentError(()))
    }

    /// Spawns a task on this runtime, from any thread.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_with(future, None, Location::caller())
    }

    /// Runs `f` on the blocking pool; awaiting the handle parks with reason `blocking`.
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.shared
            .blocking
            .spawn(self, f, None, Location::caller())
    }

    /// Makes this runtime current on this thread until the guard is dropped, so that
    /// `runtime::spawn`, `sleep` and sockets work from plain threads.
    pub fn enter(&self) -> EnterGuard {
        current::enter(self.clone())
    }

    /// A snapshot of every live task, taken from any thread while workers keep running.
    pub fn profile(&self) -> Profile {
        self.shared.profile()
    }

    /// Takes a new snapshot into `profile`, reusing its buffer: what [`profile`](Self::profile)
    /// gives, without allocating (and page-faulting) a new buffer each time. For programs that
    /// profile often, such as an endpoint or a monitor.
    ///
    /// ```
    /// # let rt = runtime::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// let mut profile = handle.profile();
    /// for _ in 0..3 {
    ///     handle.refresh_profile(&mut profile);
    ///     assert_eq!(profile.len(), 0);
    /// }
    /// ```
    pub fn refresh_profile(&self, profile: &mut Profile) {
        self.shared.profile_into(profile);
    }

    /// Live tasks by state and by park reason, and the totals, counted from any thread
    /// without building a snapshot: see [`task_counts`](crate::task_counts).
    pub fn task_counts(&self) -> TaskCounts {
        self.shared.task_counts(Duration::ZERO)
    }

    /// [`task_counts`](Self::task_counts), also counting the parked tasks that some waker can
    /// still wake and that have been parked at least `min_parked`
    /// ([`TaskCounts::parked_at_least`]): a leak check's suspects, counted without a snapshot.
    pub fn task_counts_parked_at_least(&self, min_parked: Duration) -> TaskCounts {
        self.shared.task_counts(min_parked)
    }

    /// The cumulative park time by (reason, site), as [`Profile::park_sites`] gives it,
    /// without a snapshot of the tasks.
    pub fn park_sites(&self) -> Vec<ParkSite> {
        self.shared.park_sites()
    }

    /// The poll each busy worker is in now, read without a snapshot: what a watchdog
    /// samples to find polls that hold their worker too long.
    ///
    /// ```
    /// # runtime::Runtime::new().unwrap().block_on(async {
    /// let handle = runtime::Handle::current();
    /// // Read from inside a task's poll: that task is in the list, on its worker.
    /// let task = runtime::spawn(async move { handle.running_polls() });
    /// let id = task.id();
    /// let polls = task.await.unwrap();
    /// assert!(polls.iter().any(|poll| poll.task() == id));
    /// # });
    /// ```
    pub fn running_polls(&self) -> Vec<RunningPoll> {
        self.shared.running_polls(crate::park::now())
    }

    /// The number of worker threads.
    pub fn num_workers(&self) -> usize {
        self.shared.remotes.len()
    }

    pub(crate) fn spawn_with<F>(
        &self,
        future: F,
        name: Option<Arc<str>>,
        site: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let meta = Meta::new(site, name);
        let (task, notified, join) =
            task::new_task(future, self.clone(), meta, ParkReason::JoinWait);
        if let Some(notified) = self.shared.registry.bind(task, notified) {
            self.shared.schedule(notified, false);
        }
        join
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("workers", &self.num_workers())
            .finish_non_exhaustive()
    }
}

impl Schedule for Handle {
    fn release(&self, task: &Task<Handle>) -> Option<Task<Handle>> {
        self.shared.registry.remove(task)
    }

    fn schedule(&self, task: Notified<Handle>) {
        self.shared.schedule(task, false);
    }

    fn yield_now(&self, task: Notified<Handle>) {
        self.shared.schedule(task, true);
    }
}

impl Shared {
    pub(crate) fn new(
        stealers: Vec<Stealer<Notified<Handle>>>,
        rousers: Vec<Rouser>,
        driver: Arc<driver::Handle>,
        shared_driver: crate::loom::Arc<SharedDriver>,
        blocking: BlockingPool,
    ) -> Shared {
        let workers = stealers.len();
        Shared {
            remotes: stealers
                .into_iter()
                .zip(rousers)
                .map(|(stealer, rouser)| Remote {
                    stealer,
                    rouser,
                    poll: PollSlot::new(),
                })
                .collect(),
            injector: Injector::new(),
            idle: Idle::new(workers),
            // Many shards: a snapshot holds one at a time, so this bounds how long a spawn or
            // a completion can wait behind it (1M tasks / 256 = 4k tasks per hold).
            registry: Registry::new((workers * 4).max(256)),
            driver,
            shared_driver,
            blocking,
            shutdown: AtomicBool::new(false),
            tables: (0..workers).map(|_| ParkTable::new()).collect(),
        }
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Acquire)
    }

    /// `self` may point into the woken task's own cell (its scheduler handle), which the
    /// task can free as soon as another thread runs it: nothing reached through `self` may be
    /// used after the push. On a worker of this runtime the worker's own handle keeps `Shared`
    /// alive; elsewhere a clone taken before the push does (the task's may be the last one
    /// once the runtime is dropped).
    fn schedule(self: &Arc<Shared>, task: Notified<Handle>, is_yield: bool) {
        let task = current::with_worker(|worker| match worker {
            Some(worker) if worker.belongs_to(self) => {
                worker.schedule_local(task, is_yield);
                None
            }
            _ => Some(task),
        });
        if let Some(task) = task {
            let shared = Arc::clone(self);
            shared.schedule_remote(task);
        }
    }

    fn schedule_remote(&self, task: Notified<Handle>) {
        self.injector.push(task);
        self.rouse_sleeper();
        // A push racing with shutdown's final drain must not strand its task (and, through
        // the task's handle, this whole runtime) in the injector.
        fence(SeqCst);
        if self.shutdown.load(SeqCst) {
            self.drain_injector();
        }
    }

    fn rouse_sleeper(&self) {
        if let Some(index) = self.idle.worker_to_notify() {
            self.remotes[index].rouser.rouse();
        }
    }

    /// Called by the last searcher before it sleeps.
    fn notify_if_work_pending(&self) {
        let pending =
            self.remotes.iter().any(|r| !r.stealer.is_empty()) || !self.injector.is_empty();
        if pending {
            self.rouse_sleeper();
        }
    }

    /// Takes a fair share of the injector (up to `MAX_GLOBAL_BATCH`) into `dest` and returns
    /// one task, so that a worker busy with its own tasks drains remote spawns in a few visits.
    fn pop_global(
        &self,
        dest: &crossbeam_deque::Worker<Notified<Handle>>,
    ) -> Option<Notified<Handle>> {
        const MAX_GLOBAL_BATCH: usize = 128;
        let share = (self.injector.len() / self.remotes.len() + 1).min(MAX_GLOBAL_BATCH);
        let task = loop {
            match self.injector.steal_batch_with_limit_and_pop(dest, share) {
                Steal::Success(task) => break task,
                Steal::Empty => return None,
                Steal::Retry => std::hint::spin_loop(),
            }
        };
        // One steal moves at most one injector block; top up to the share.
        while dest.len() < share {
            match self
                .injector
                .steal_batch_with_limit(dest, share - dest.len())
            {
                Steal::Success(()) => {}
                Steal::Empty => break,
                Steal::Retry => std::hint::spin_loop(),
            }
        }
        Some(task)
    }

    fn drain_injector(&self) {
        loop {
            match self.injector.steal() {
                Steal::Success(task) => drop(task),
                Steal::Empty => return,
                Steal::Retry => {}
            }
        }
    }

    /// Stops the workers' loops (they exit after the task they are running).
    pub(crate) fn begin_shutdown(&self) -> bool {
        if self.shutdown.swap(true, SeqCst) {
            return false;
        }
        for remote in self.remotes.iter() {
            remote.rouser.rouse();
        }
        true
    }

    /// After the workers have exited: cancel every task and free what the queues held.
    pub(crate) fn finish_shutdown(&self) {
        for task in self.registry.close_and_drain() {
            task.shutdown();
        }
        self.drain_injector();
        // Blocking closures still running may wait on timers or sockets (`Handle::block_on`
        // in `spawn_blocking`); with the workers gone, this thread turns the driver for them.
        self.blocking.begin_shutdown();
        while self.blocking.has_threads() {
            self.shared_driver.poll_for(Duration::from_millis(1));
        }
        self.blocking.join();
        self.driver.time.clear();
        self.driver.io.clear();
    }

    fn profile(&self) -> Profile {
        let mut profile = Profile {
            tasks: Vec::new(),
            park_sites: Vec::new(),
            spawned: 0,
            completed: 0,
            workers: 0,
        };
        self.profile_into(&mut profile);
        profile
    }

    /// Takes a snapshot into `profile`, reusing its buffer: a buffer of a million snapshots
    /// is ~100 MB, and a fresh one costs its page faults on every profile.
    /// Where worker `index` publishes what it polls.
    pub(crate) fn poll_slot(&self, index: usize) -> *const PollSlot {
        &self.remotes[index].poll
    }

    fn running_polls(&self, now: u64) -> Vec<RunningPoll> {
        let slots = self.remotes.iter().enumerate();
        slots
            .filter_map(|(worker, remote)| remote.poll.read(worker, now))
            .collect()
    }

    fn profile_into(&self, profile: &mut Profile) {
        let now = crate::park::now();
        // Read before the walk: a task seen running by both is in that poll, or a later one
        // (whose `elapsed` is then an over-count by at most the polls between).
        let running = self.running_polls(now);
        profile.tasks.clear();
        // Sized once (with room for tasks spawned meanwhile): growing a buffer of a million
        // snapshots by doubling would copy it over and over.
        let expected = self.registry.len();
        profile.tasks.reserve(expected + expected / 16);
        let tasks = &mut profile.tasks;
        let (spawned, completed) = self.registry.for_each(|task| {
            let mut snapshot = crate::profile::read::snapshot(task.view(), now);
            if snapshot.state() == crate::profile::TaskState::Running {
                snapshot.set_poll(&running);
            }
            tasks.push(snapshot);
        });
        profile.park_sites = self.park_sites();
        profile.spawned = spawned;
        profile.completed = completed;
        profile.workers = self.remotes.len();
    }

    fn task_counts(&self, min_parked: Duration) -> TaskCounts {
        let mut counter = Counter::new(crate::park::now(), min_parked);
        let (spawned, completed) = self
            .registry
            .for_each(|task| crate::profile::read::count(task.view(), &mut counter));
        counter.finish(spawned, completed, self.remotes.len())
    }

    fn park_sites(&self) -> Vec<ParkSite> {
        let mut merged: std::collections::HashMap<u64, (u64, u64)> = Default::default();
        for table in self.tables.iter() {
            table.for_each(|key, count, total| {
                let entry = merged.entry(key).or_default();
                entry.0 += count;
                entry.1 += total;
            });
        }
        let mut sites: Vec<ParkSite> = merged
            .into_iter()
            .filter_map(|(key, (count, total))| {
                // Counts are kept in fractions of a park (sampled parks weigh more than one).
                let count =
                    (count + crate::park::table::COUNT_ONE / 2) / crate::park::table::COUNT_ONE;
                ParkSite::from_key(key, count, total)
            })
            .collect();
        sites.sort_by(|a, b| b.total.cmp(&a.total).then(b.count.cmp(&a.count)));
        sites
    }
}
