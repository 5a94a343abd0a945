//! `runtime::task_counts()`: live tasks by state and by park reason, counted in one walk of
//! the registry that reads two words per task and copies nothing: what a metrics scrape
//! needs, at a fraction of a snapshot's time and none of its memory.

use super::{LeakKind, TaskState};
use crate::park::ParkReason;

/// Live tasks by state and by park reason, and the runtime's totals, as
/// [`task_counts`](crate::task_counts) read them.
///
/// The counts come from one pass over the task registry, one shard at a time while workers
/// keep running (like [`profile`](crate::profile), but reading only each task's state and
/// park reason): they add up to a moment-by-moment view, not an atomic one.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, _rx) = runtime::chan::channel::<u32>(0);
/// let sender = runtime::spawn(async move { tx.send(1).await });
/// # for _ in 0..1000 {
/// #     if runtime::task_counts().parked() == 1 { break }
/// #     runtime::time::sleep(std::time::Duration::from_millis(2)).await;
/// # }
/// let counts = runtime::task_counts();
/// assert_eq!(counts.parked(), 1);
/// # if runtime::park::ENABLED {
/// assert_eq!(counts.parked_on(runtime::ParkReason::ChanSend), 1);
/// # }
/// sender.abort();
/// # });
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskCounts {
    pub(crate) running: u64,
    pub(crate) runnable: u64,
    pub(crate) parked: u64,
    /// Parked tasks by reason code, for the codes seen; sorted by code.
    pub(crate) by_reason: Vec<(u16, u64)>,
    pub(crate) spawned: u64,
    pub(crate) completed: u64,
    pub(crate) workers: usize,
    /// Parked tasks no waker can wake.
    pub(crate) unwakeable: u64,
    /// Parked tasks some waker can wake, parked at least the threshold counted against.
    pub(crate) parked_at_least: u64,
}

/// Codes below this (the built-in reasons) are counted in an array; labels in a list.
const BUILT_IN: usize = 32;

/// Counts tasks as the registry walk visits them.
pub(crate) struct Counter {
    states: [u64; 3],
    built_in: [u64; BUILT_IN],
    labels: Vec<(u16, u64)>,
    unwakeable: u64,
    parked_at_least: u64,
    /// The park clock at the walk's start.
    now: u64,
    min_parked_ns: u64,
}

impl Counter {
    /// A counter for a walk that starts at park-clock time `now`, counting parks at least
    /// `min_parked` long in `parked_at_least`.
    pub(crate) fn new(now: u64, min_parked: std::time::Duration) -> Counter {
        Counter {
            states: [0; 3],
            built_in: [0; BUILT_IN],
            labels: Vec::new(),
            unwakeable: 0,
            parked_at_least: 0,
            now,
            min_parked_ns: crate::park::duration_ns(min_parked),
        }
    }

    /// One task that is running or runnable.
    #[inline]
    pub(crate) fn add(&mut self, state: TaskState) {
        self.states[state as usize] += 1;
    }

    /// One parked task: its park's reason `code` (0: no park recorded), whether no waker of it
    /// exists, and when its park began (park clock). The rule is the leak check's: a task
    /// nothing can wake is unwakeable; one that can be woken counts in `parked_at_least` if
    /// its park is at least the threshold long (a park not recorded, only at threshold zero).
    #[inline]
    pub(crate) fn add_parked(&mut self, code: u16, unwakeable: bool, since: u64) {
        self.states[TaskState::Parked as usize] += 1;
        let parked_for = (code != 0).then(|| self.now.saturating_sub(since));
        match super::leak_kind(true, unwakeable, parked_for, self.min_parked_ns) {
            Some(LeakKind::Proven) => self.unwakeable += 1,
            Some(LeakKind::Suspected) => self.parked_at_least += 1,
            None => {}
        }
        if code == 0 {
            return;
        }
        match self.built_in.get_mut(usize::from(code)) {
            Some(count) => *count += 1,
            None => match self.labels.iter_mut().find(|(label, _)| *label == code) {
                Some((_, count)) => *count += 1,
                None => self.labels.push((code, 1)),
            },
        }
    }

    pub(crate) fn finish(self, spawned: u64, completed: u64, workers: usize) -> TaskCounts {
        let mut by_reason: Vec<(u16, u64)> = (0..BUILT_IN as u16)
            .zip(self.built_in)
            .filter(|&(_, count)| count > 0)
            .chain(self.labels)
            .collect();
        by_reason.sort_unstable();
        let [running, runnable, parked] = self.states;
        TaskCounts {
            running,
            runnable,
            parked,
            by_reason,
            spawned,
            completed,
            workers,
            unwakeable: self.unwakeable,
            parked_at_least: self.parked_at_least,
        }
    }
}

impl TaskCounts {
    /// All live tasks.
    pub fn total(&self) -> u64 {
        self.running + self.runnable + self.parked
    }

    /// Tasks being polled.
    pub fn running(&self) -> u64 {
        self.running
    }

    /// Tasks woken and waiting for a worker.
    pub fn runnable(&self) -> u64 {
        self.runnable
    }

    /// Tasks waiting for an event.
    pub fn parked(&self) -> u64 {
        self.parked
    }

    /// Tasks in `state`.
    pub fn state(&self, state: TaskState) -> u64 {
        match state {
            TaskState::Running => self.running,
            TaskState::Runnable => self.runnable,
            TaskState::Parked => self.parked,
        }
    }

    /// Parked tasks no waker can wake: nothing can ever run them again (the leak check's proven
    /// leaks, as [`TaskSnapshot::wakers`](crate::TaskSnapshot::wakers) reads them).
    pub fn unwakeable(&self) -> u64 {
        self.unwakeable
    }

    /// Parked tasks that some waker can still wake and that have been parked at least the
    /// threshold given to
    /// [`Handle::task_counts_parked_at_least`](crate::Handle::task_counts_parked_at_least) (zero
    /// for [`task_counts`](crate::task_counts): then every parked task that is not
    /// [`unwakeable`](Self::unwakeable)). With a threshold, a leak check's suspects.
    pub fn parked_at_least(&self) -> u64 {
        self.parked_at_least
    }

    /// Parked tasks whose park is `reason` (`IO wait` counts each direction apart).
    pub fn parked_on(&self, reason: ParkReason) -> u64 {
        let code = reason.code();
        self.by_reason
            .iter()
            .find(|&&(c, _)| c == code)
            .map_or(0, |&(_, count)| count)
    }

    /// Parked tasks by reason, for every reason with at least one. Parked tasks with no park
    /// recorded (the `profiling` feature off) are in [`parked`](Self::parked) only.
    pub fn by_reason(&self) -> impl Iterator<Item = (ParkReason, u64)> + '_ {
        self.by_reason
            .iter()
            .filter_map(|&(code, count)| Some((ParkReason::from_code(code)?, count)))
    }

    /// Tasks spawned on the runtime since it started (blocking closures not included).
    pub fn spawned_total(&self) -> u64 {
        self.spawned
    }

    /// Tasks that have finished (completed, panicked or were cancelled) since it started.
    pub fn completed_total(&self) -> u64 {
        self.completed
    }

    /// The runtime's worker threads.
    pub fn workers(&self) -> usize {
        self.workers
    }
}
