//! Snapshots of a runtime's live tasks: what `runtime::profile()` returns.
//!
//! A snapshot walks the task registry one shard at a time while workers keep running; each
//! park record is read consistently (see `park`), so a profile never stops the world and a
//! worker waits at most for one shard.

mod counts;
mod deadlock;
pub(crate) mod read;
mod text;

pub use text::{format_duration, group_tasks, TaskGroup};

pub(crate) use counts::Counter;
pub use counts::TaskCounts;
pub use deadlock::Deadlock;

use crate::park::ParkReason;
use crate::task_core::TaskId;
use std::panic::Location;
use std::sync::Arc;
use std::time::Duration;

/// A snapshot of every live task of one runtime, plus the runtime's park-time table.
#[derive(Debug, Clone)]
pub struct Profile {
    pub(crate) tasks: Vec<TaskSnapshot>,
    pub(crate) park_sites: Vec<ParkSite>,
    pub(crate) spawned: u64,
    pub(crate) completed: u64,
    pub(crate) workers: usize,
}

/// What one task was doing when the snapshot was taken.
///
/// 72 bytes: `profile()` of a million tasks writes a million of these, and that buffer's size
/// is much of a snapshot's time. What few tasks have (a name, a `select`'s cases) is one
/// pointer out of line; the state and the waker count sit in [`Park`]'s padding.
#[derive(Clone)]
pub struct TaskSnapshot {
    pub(crate) id: TaskId,
    pub(crate) spawn_site: &'static Location<'static>,
    /// The vtable's `type_name::<F>` (a pointer, not a 16-byte `&str`).
    pub(crate) future_type: fn() -> &'static str,
    pub(crate) parent: Option<TaskId>,
    /// The park's fields, meaningful when `park.state` is `Parked` and `park.reason` is not 0,
    /// with the task's state, waker count and rare fields beside them.
    pub(crate) park: Park,
    pub(crate) polls: u32,
}

/// A snapshot's fields that few tasks have.
#[derive(Clone, Default)]
pub(crate) struct Rare {
    pub(crate) name: Option<Arc<str>>,
    /// A `select` park's cases, in source order.
    pub(crate) cases: Vec<ParkCase>,
    /// The tasks holding what a lock or join park waits for.
    pub(crate) blocked_by: Vec<TaskId>,
}

/// Whether a task is on a CPU, waiting for one, or waiting for an event.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TaskState {
    /// Being polled by a worker.
    Running,
    /// Woken and waiting in a run queue.
    Runnable,
    /// Waiting for an event; `TaskSnapshot::park` says which.
    Parked,
}

/// Why, where and for how long a task has been parked.
#[derive(Clone)]
pub struct Park {
    /// The park's site (the spawn site for a task not parked).
    pub(crate) site: &'static Location<'static>,
    /// Nanoseconds (a `Duration` would take twice the room, times a million tasks).
    pub(crate) duration_ns: u64,
    /// The task's name and the park's `select` cases, if it has either.
    pub(crate) rare: Option<Box<Rare>>,
    /// The task's wakers (`TaskSnapshot::wakers`).
    pub(crate) wakers: u32,
    /// `ParkReason::code` (2 bytes, where a `ParkReason` with its label takes 24); 0: the
    /// task is not parked, or its park was not recorded. For a running task: 1 + the worker
    /// polling it (0: not known), with `duration_ns` its time in poll.
    pub(crate) reason: u16,
    /// The task's state (`TaskSnapshot::state`).
    pub(crate) state: TaskState,
}

/// One case of a parked `select!`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParkCase {
    /// What the case waits for.
    pub reason: ParkReason,
    /// Where the case's future was created.
    pub site: &'static Location<'static>,
}

/// Cumulative park count and time at one (reason, site): Go's block profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParkSite {
    /// Why tasks parked there.
    pub reason: ParkReason,
    /// Where they parked; `None` for parks the per-worker table had no room to key.
    pub site: Option<&'static Location<'static>>,
    /// How many parks ended (were resumed) there.
    pub count: u64,
    /// Their total duration.
    pub total: Duration,
}

impl Profile {
    /// Every live task, in registry order.
    pub fn tasks(&self) -> &[TaskSnapshot] {
        &self.tasks
    }

    /// The number of live tasks.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// True if no task was alive.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Tasks parked for `reason`.
    pub fn parked_on(&self, reason: ParkReason) -> impl Iterator<Item = &TaskSnapshot> + '_ {
        // Compared as codes: `Park::reason` of a label reads the global label table.
        let code = reason.code();
        self.tasks
            .iter()
            .filter(move |t| t.park().is_some_and(|p| p.reason == code))
    }

    /// Keeps only the tasks for which `keep` returns true (the totals and park sites stay
    /// the runtime's), e.g. to render or export only the leaked ones.
    pub fn retain(&mut self, keep: impl FnMut(&TaskSnapshot) -> bool) {
        self.tasks.retain(keep);
    }

    /// The task with id `id`, if it was alive.
    pub fn task(&self, id: TaskId) -> Option<&TaskSnapshot> {
        self.tasks.iter().find(|t| t.id() == id)
    }

    /// Cumulative park time by (reason, site) since the runtime started, largest total first.
    pub fn park_sites(&self) -> &[ParkSite] {
        &self.park_sites
    }

    /// Tasks spawned on this runtime since it started (blocking closures not included).
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

impl ParkSite {
    pub(crate) fn from_key(key: u64, count: u64, total_ns: u64) -> Option<ParkSite> {
        let (reason, site) = crate::park::decode_key(key)?;
        Some(ParkSite {
            reason,
            site,
            count,
            total: Duration::from_nanos(total_ns),
        })
    }
}

impl TaskSnapshot {
    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The name given with `task::Builder::name`.
    pub fn name(&self) -> Option<&str> {
        self.park.rare.as_ref()?.name.as_deref()
    }

    /// Running, runnable or parked.
    pub fn state(&self) -> TaskState {
        self.park.state
    }

    /// Why and where the task is parked; `None` unless `state()` is `Parked` (or when the
    /// `profiling` feature is off).
    pub fn park(&self) -> Option<&Park> {
        (self.park.state == TaskState::Parked && self.park.reason != 0).then_some(&self.park)
    }

    /// How long the task has been in its current poll, if it is running: at least the poll's
    /// length so far, and at most that plus the few polls its worker ran just before (the
    /// worker's clock is refreshed every few polls, not read at each). Zero with recording
    /// off. Dumps show it as `[running, 2.3s in poll]`.
    pub fn poll_duration(&self) -> Option<Duration> {
        self.worker()
            .map(|_| Duration::from_nanos(self.park.duration_ns))
    }

    /// The worker polling the task (0-based), if it is running.
    pub fn worker(&self) -> Option<usize> {
        match (self.park.state, self.park.reason) {
            (TaskState::Running, 0) | (TaskState::Runnable | TaskState::Parked, _) => None,
            (TaskState::Running, worker) => Some(usize::from(worker) - 1),
        }
    }

    /// A running task: its worker and time in poll from the polls read with the snapshot.
    pub(crate) fn set_poll(&mut self, running: &[crate::scheduler::RunningPoll]) {
        if let Some(poll) = running.iter().find(|poll| poll.task() == self.id) {
            // A running task has no park: its `reason` holds 1 + the worker, its
            // `duration_ns` the time in poll.
            self.park.reason = u16::try_from(poll.worker() + 1).unwrap_or(u16::MAX);
            self.park.duration_ns = poll.elapsed().as_nanos() as u64;
        }
    }

    /// Where the task was spawned.
    pub fn spawn_site(&self) -> &'static Location<'static> {
        self.spawn_site
    }

    /// The spawned future's type name, e.g. `my_app::handler::{{closure}}`.
    pub fn future_type(&self) -> &'static str {
        (self.future_type)()
    }

    /// The task that spawned this one, if it was spawned from a task.
    pub fn parent(&self) -> Option<TaskId> {
        self.parent
    }

    /// How many times the task has been polled.
    pub fn polls(&self) -> u64 {
        u64::from(self.polls)
    }

    /// How many wakers of this task exist: its references minus those that cannot wake it
    /// (the registry's, the `JoinHandle`'s, a queued or running poll's). Read from the task's
    /// reference count, so it costs nothing to keep. A waker held by a channel, a lock, a
    /// timer or a socket counts; a parked task with none can never run again.
    pub fn wakers(&self) -> usize {
        self.park.wakers as usize
    }

    /// Whether this task is a leak, as `goroutineleak` and the leak checks judge it: proven if
    /// it is parked and no waker of it exists, suspected if it is parked for at least
    /// `min_parked` and still wakeable (a park not recorded counts only when `min_parked` is
    /// zero). [`TaskCounts::unwakeable`] and [`TaskCounts::parked_at_least`] count by the same
    /// rule without a snapshot.
    pub fn leak(&self, min_parked: Duration) -> Option<LeakKind> {
        leak_kind(
            self.state() == TaskState::Parked,
            self.wakers() == 0,
            self.park().map(|park| park.duration_ns),
            crate::park::duration_ns(min_parked),
        )
    }
}

/// Which kind of leak a task is ([`TaskSnapshot::leak`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LeakKind {
    /// Parked, and nothing can ever wake it: no waker of it exists.
    Proven,
    /// Parked for at least the threshold asked for, and still wakeable.
    Suspected,
}

/// The leak rule, on a task's parts: whether it is parked, whether no waker of it exists,
/// how long its recorded park has lasted (`None`: no park recorded), and the threshold. The
/// one place the rule is written; snapshots and counts both ask it.
#[inline]
pub(crate) fn leak_kind(
    parked: bool,
    unwakeable: bool,
    parked_for_ns: Option<u64>,
    min_parked_ns: u64,
) -> Option<LeakKind> {
    if !parked {
        return None;
    }
    if unwakeable {
        return Some(LeakKind::Proven);
    }
    let long_enough = parked_for_ns.map_or(min_parked_ns == 0, |ns| ns >= min_parked_ns);
    long_enough.then_some(LeakKind::Suspected)
}

impl std::fmt::Debug for TaskSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskSnapshot")
            .field("id", &self.id)
            .field("name", &self.name())
            .field("state", &self.state())
            .field("park", &self.park())
            .field("spawn_site", &self.spawn_site)
            .field("future_type", &self.future_type())
            .field("parent", &self.parent)
            .field("polls", &self.polls)
            .field("wakers", &self.wakers())
            .finish()
    }
}

impl std::fmt::Debug for Park {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Park")
            .field("reason", &self.reason())
            .field("site", &self.site)
            .field("duration", &self.duration())
            .field("cases", &self.cases())
            .finish()
    }
}

impl Park {
    /// Why the task is parked.
    pub fn reason(&self) -> ParkReason {
        ParkReason::from_code(self.reason).unwrap_or(ParkReason::Unknown)
    }

    /// The user's call site of the future it waits on (for a foreign future, the last site
    /// known, or the spawn site).
    pub fn site(&self) -> &'static Location<'static> {
        self.site
    }

    /// How long it has been parked, at the snapshot (to the park clock's 1–4 ms resolution).
    pub fn duration(&self) -> Duration {
        Duration::from_nanos(self.duration_ns)
    }

    /// For a `select` park, each case's reason and site.
    pub fn cases(&self) -> &[ParkCase] {
        self.rare
            .as_deref()
            .map_or(&[], |rare| rare.cases.as_slice())
    }

    /// The tasks that hold what this park waits for, where the runtime knows them: the
    /// holder of a `Mutex` (`mutex lock`), the writer and readers of an `RwLock` (`rwlock
    /// read`/`write`), tasks holding a `Semaphore`'s permits (`semaphore acquire`, through
    /// `acquire*`/`try_acquire*` permits; a `task::Group`'s slots are not named), the task a
    /// `JoinHandle` awaits (`join wait`). At most four readers or permit holders are named. Empty for other parks, for a lock held outside any task (in `block_on`), and
    /// with recording off. Dumps print it as `held by task 7`; a cycle of these edges is a
    /// deadlock (`profiler::leaks`).
    pub fn blocked_by(&self) -> &[TaskId] {
        self.rare
            .as_deref()
            .map_or(&[], |rare| rare.blocked_by.as_slice())
    }
}

fn _assert_send_sync() {
    fn check<T: Send + Sync + Clone + std::fmt::Debug>() {}
    check::<Profile>();
    check::<TaskSnapshot>();
    check::<Park>();
    check::<ParkSite>();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_leak_rule() {
        use LeakKind::*;
        // Not parked: never a leak, wakers or not.
        assert_eq!(leak_kind(false, true, Some(10), 0), None);
        // Parked with no waker: proven, whatever the threshold or the park's record.
        assert_eq!(leak_kind(true, true, Some(1), u64::MAX), Some(Proven));
        assert_eq!(leak_kind(true, true, None, u64::MAX), Some(Proven));
        // Wakeable: suspected from the threshold on.
        assert_eq!(leak_kind(true, false, Some(29), 30), None);
        assert_eq!(leak_kind(true, false, Some(30), 30), Some(Suspected));
        // A park not recorded counts only when every parked task is asked for.
        assert_eq!(leak_kind(true, false, None, 1), None);
        assert_eq!(leak_kind(true, false, None, 0), Some(Suspected));
        assert_eq!(crate::park::duration_ns(Duration::MAX), u64::MAX);
    }

    /// `profile()` of a million tasks fills a buffer of a million snapshots; its size is much
    /// of the snapshot's time (page faults), so it must not creep back up.
    #[test]
    fn a_task_snapshot_stays_small() {
        assert!(
            std::mem::size_of::<TaskSnapshot>() <= 72,
            "{}",
            std::mem::size_of::<TaskSnapshot>()
        );
    }
}
