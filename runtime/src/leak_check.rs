//! Goleak for Parkade: [`LeakCheck`] fails a test that leaves tasks behind, with a
//! [`LeakReport`] of them. In the runtime (not the profiler) so that
//! `#[runtime::test(leak_check)]` expands to the runtime's own type; `profiler` re-exports
//! both under their documented names.

use crate::profile::{Deadlock, LeakKind, Profile, TaskSnapshot, TaskState};
use crate::scheduler::Handle;
use crate::task_core::TaskId;
use std::collections::HashSet;
use std::fmt;
use std::time::{Duration, Instant};

/// Can never run again: no waker left (`TaskSnapshot::leak`'s proven kind).
fn is_proven(task: &TaskSnapshot) -> bool {
    task.leak(Duration::MAX) == Some(LeakKind::Proven)
}

/// How long [`LeakCheck::check`] waits for new tasks to finish before reporting them.
const DEFAULT_GRACE: Duration = Duration::from_millis(500);
/// The first pause between retries; each one doubles it, up to [`MAX_RETRY_DELAY`].
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(1);
/// goleak's cap on one pause, so a task finishing late is seen soon after.
const MAX_RETRY_DELAY: Duration = Duration::from_millis(100);

/// Goleak for Parkade: fails a test that leaves tasks behind.
///
/// `start` records which tasks are alive; [`check`](LeakCheck::check) reports the tasks alive
/// now that were not then, after retrying for a grace period (500 ms by default) so that tasks
/// which are finishing can finish. `#[runtime::test(leak_check)]` does this around a test body.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let check = runtime::LeakCheck::start();
/// let (tx, rx) = runtime::chan::channel::<u32>(1);
/// runtime::spawn(async move { tx.send(1).await }); // buffered: the send completes
/// assert_eq!(rx.recv().await, Some(1));
/// check.assert_none().await;
/// # });
/// ```
#[derive(Debug)]
#[must_use = "a LeakCheck checks nothing until `check` or `assert_none` is awaited"]
pub struct LeakCheck {
    handle: Handle,
    /// Tasks alive at `start`: never reported.
    baseline: HashSet<TaskId>,
    grace: Duration,
}

impl LeakCheck {
    /// Records the tasks alive now in the current runtime.
    ///
    /// # Panics
    /// Outside a Parkade runtime.
    #[track_caller]
    pub fn start() -> LeakCheck {
        let handle = Handle::current();
        let baseline = handle.profile().tasks().iter().map(|t| t.id()).collect();
        LeakCheck {
            handle,
            baseline,
            grace: DEFAULT_GRACE,
        }
    }

    /// Waits up to `grace` (instead of 500 ms) for new tasks to finish before reporting them.
    pub fn grace_period(mut self, grace: Duration) -> LeakCheck {
        self.grace = grace;
        self
    }

    /// Checks that every task spawned since [`start`](LeakCheck::start) has finished.
    ///
    /// Retries with backoff (1, 2, 4, … ms, at most 100 ms apart) for the grace period,
    /// sleeping on the runtime's timer in between, before reporting the tasks still alive.
    /// The task awaiting `check` is never reported.
    ///
    /// # Errors
    /// A [`LeakReport`] of the tasks still alive once the grace period is over.
    pub async fn check(&self) -> Result<(), LeakReport> {
        let deadline = Instant::now() + self.grace;
        let mut delay = FIRST_RETRY_DELAY;
        let mut caller: Option<Option<TaskId>> = None;
        // The profile before the last, to confirm a deadlock the last one shows.
        let mut previous: Option<Profile> = None;
        loop {
            let profile = self.handle.profile();
            let mut new: Vec<TaskSnapshot> = profile
                .tasks()
                .iter()
                .filter(|t| !self.baseline.contains(&t.id()))
                .cloned()
                .collect();
            // Only a task spawned since `start` can be reported, and only a running one
            // can be us (a test body runs in `block_on`, which is not a task). The task
            // polling us is the one whose record this thread's poll context points at:
            // exact, unlike excluding every running task (another worker may be running a
            // leaked one, stuck in a busy loop). Read during this poll, once.
            if new.iter().any(|t| t.state() == TaskState::Running) {
                let me = *caller.get_or_insert_with(crate::task_core::current_task_id);
                new.retain(|t| Some(t.id()) != me);
            }
            if new.is_empty() {
                return Ok(());
            }
            let now = Instant::now();
            if now >= deadline {
                new.sort_by_key(TaskSnapshot::id);
                let deadlocks = match &previous {
                    Some(previous) => profile
                        .deadlocks()
                        .into_iter()
                        .filter(|d| d.tasks().iter().all(|id| new.iter().any(|t| t.id() == *id)))
                        .filter(|d| d.confirmed_by(previous, &profile))
                        .collect(),
                    None => Vec::new(),
                };
                return Err(LeakReport {
                    tasks: new,
                    deadlocks,
                });
            }
            previous = Some(profile);
            crate::time::sleep(delay.min(deadline - now)).await;
            delay = (delay * 2).min(MAX_RETRY_DELAY);
        }
    }

    /// Like [`check`](LeakCheck::check), but panics with the report.
    ///
    /// # Panics
    /// If a task spawned since `start` is still alive after the grace period; the message is
    /// the [`LeakReport`], which begins `found N leaked task(s)`.
    pub async fn assert_none(self) {
        if let Err(report) = self.check().await {
            panic!("{report}");
        }
    }
}

/// The tasks a [`LeakCheck`] found still alive.
///
/// `Display` prints a count, then each task in the per-task format (`Display` for
/// [`TaskSnapshot`]), in id order, with `[proven: no live waker]` added to the header line of a proven leak (the
/// indented lines start with a tab):
///
/// ```text
/// found 2 leaked task(s)
///
/// task 18 "handler" [context done, 512ms] [proven: no live waker]:
///     parked at src/handler.rs:44:24
///     future app::handler::{{closure}}
/// created by task 7 at src/server.rs:42:5
///
/// task 19 [chan send, 510ms]:
///     parked at src/worker.rs:12:16
///     future app::worker::{{closure}}
/// created at src/main.rs:30:9
/// ```
#[derive(Debug, Clone)]
pub struct LeakReport {
    /// Never empty; in task id order.
    tasks: Vec<TaskSnapshot>,
    /// Cycles among `tasks`, seen in two successive profiles with none of their tasks polled
    /// in between.
    deadlocks: Vec<Deadlock>,
}

impl LeakReport {
    /// The leaked tasks, in task id (spawn) order.
    pub fn tasks(&self) -> &[TaskSnapshot] {
        &self.tasks
    }

    /// The leaked tasks that can never run again: no waker left ([`LeakKind::Proven`]), or
    /// on a [deadlock](LeakReport::deadlocks).
    pub fn proven(&self) -> impl Iterator<Item = &TaskSnapshot> + '_ {
        self.tasks.iter().filter(|t| self.proof(t).is_some())
    }

    /// The deadlocks among the leaked tasks: each task on one waits, on a lock or a join, for
    /// what the next holds (`Park::blocked_by`), the last for what the first holds.
    pub fn deadlocks(&self) -> &[Deadlock] {
        &self.deadlocks
    }

    /// Why `task` can never run again, if it provably cannot.
    fn proof(&self, task: &TaskSnapshot) -> Option<&'static str> {
        if is_proven(task) {
            Some(PROVEN_MARKER)
        } else if self.deadlocks.iter().any(|d| d.contains(task.id())) {
            Some(DEADLOCK_MARKER)
        } else {
            None
        }
    }
}

/// The marker a report adds to the header line of a proven leak.
const PROVEN_MARKER: &str = " [proven: no live waker]";
/// The marker a report adds to the header line of a task on a deadlock.
const DEADLOCK_MARKER: &str = " [proven: deadlock]";

impl fmt::Display for LeakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "found {} leaked task(s)", self.tasks.len())?;
        for deadlock in &self.deadlocks {
            write!(f, "\n\n{deadlock}")?;
            for id in deadlock.tasks() {
                let task = self.tasks.iter().find(|t| t.id() == *id);
                if let Some(park) = task.and_then(TaskSnapshot::park) {
                    write!(f, "\n\ttask {id} [{:#}] at {}", park.reason(), park.site())?;
                }
            }
        }
        for task in &self.tasks {
            let text = task.to_string();
            let text = text.trim_end_matches('\n');
            f.write_str("\n\n")?;
            let Some(marker) = self.proof(task) else {
                f.write_str(text)?;
                continue;
            };
            // `task 18 [chan send, 5m12s]:` becomes `task 18 [chan send, 5m12s] [proven: …]:`.
            let (header, rest) = text.split_once('\n').unwrap_or((text, ""));
            match header.strip_suffix(':') {
                Some(header) => write!(f, "{header}{marker}:")?,
                None => write!(f, "{header}{marker}")?,
            }
            if !rest.is_empty() {
                write!(f, "\n{rest}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for LeakReport {}

/// Leak checks run in spawned tasks and reports cross threads.
fn _assert_send_sync(check: &LeakCheck) {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<LeakCheck>();
    send_sync::<LeakReport>();
    send(&check.check());
}
