//! A watchdog for polls that hold their worker: a task that blocks (a `std::thread::sleep`, a
//! CPU loop, a `std::sync::Mutex` held across I/O) halts every task queued behind it on that
//! worker, and nothing in the task's own profile says so until it returns.
//!
//! [`Watchdog::start`] runs on a thread of its own (so it reports even when every worker is
//! stuck) and samples [`Handle::running_polls`] a few times per threshold. A poll it has seen
//! for at least the threshold is reported once, with the worker, the task, its name, future
//! type and spawn site; when that poll ends it is reported again, released. Reports go to
//! stderr, or to [`WatchdogBuilder::on_stuck`].
//!
//! ```text
//! parkade watchdog: worker 1 has been in one poll of task 12 (app::reindex::{{closure}}, spawned at src/index.rs:88:5) for 2.3s
//! parkade watchdog: worker 1 released task 12 after 2.9s (app::reindex::{{closure}}, spawned at src/index.rs:88:5)
//! ```
//!
//! # When a poll is reported
//!
//! A poll counts as seen from the first sample that finds it, so the watchdog never reports a
//! poll shorter than the threshold. It samples every quarter of the threshold, so a stuck
//! poll is reported at most 1.5 thresholds after it began (plus however late the OS runs
//! the watchdog's thread). The time it gives is the poll's length so far, over-counted by at
//! most one sampling period.

use runtime::time::format_duration;
use runtime::{Handle, TaskId};
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Stuck polls reported by every watchdog of this process: `/metrics`'
/// `parkade_stuck_polls_total`.
static STUCK_POLLS: AtomicU64 = AtomicU64::new(0);

/// How many polls the watchdogs of this process have reported stuck.
pub fn stuck_polls_total() -> u64 {
    STUCK_POLLS.load(Relaxed)
}

/// A poll that held its worker for at least the watchdog's threshold: reported once when it
/// is found, and once more when it ends ([`released`](StuckPoll::released) is then set).
///
/// `Display` writes the report's line (without the `parkade watchdog: ` prefix).
#[derive(Debug, Clone)]
pub struct StuckPoll {
    worker: usize,
    task: TaskId,
    name: Option<String>,
    future_type: &'static str,
    spawn_site: &'static Location<'static>,
    elapsed: Duration,
    released: bool,
}

impl StuckPoll {
    /// The worker the poll holds (0-based).
    pub fn worker(&self) -> usize {
        self.worker
    }

    /// The task being polled.
    pub fn task(&self) -> TaskId {
        self.task
    }

    /// The task's name, if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The task's future type (`type_name` of the spawned future).
    pub fn future_type(&self) -> &'static str {
        self.future_type
    }

    /// Where the task was spawned.
    pub fn spawn_site(&self) -> &'static Location<'static> {
        self.spawn_site
    }

    /// How long the poll had run when this was reported: its whole length once released.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// True for the report that the poll has ended.
    pub fn released(&self) -> bool {
        self.released
    }
}

impl fmt::Display for StuckPoll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let task = match &self.name {
            Some(name) => format!("task {} {name:?}", self.task),
            None => format!("task {}", self.task),
        };
        let elapsed = format_duration(self.elapsed);
        let what = format!("{}, spawned at {}", self.future_type, self.spawn_site);
        match self.released {
            false => write!(
                f,
                "worker {} has been in one poll of {task} ({what}) for {elapsed}",
                self.worker
            ),
            true => write!(
                f,
                "worker {} released {task} after {elapsed} ({what})",
                self.worker
            ),
        }
    }
}

type Report = Box<dyn FnMut(&StuckPoll) + Send>;

/// Configures a [`Watchdog`]: `Watchdog::builder(threshold)`.
pub struct WatchdogBuilder {
    threshold: Duration,
    handle: Option<Handle>,
    report: Option<Report>,
}

impl WatchdogBuilder {
    /// Watches `handle`'s runtime instead of the current one.
    pub fn handle(mut self, handle: Handle) -> WatchdogBuilder {
        self.handle = Some(handle);
        self
    }

    /// Sends the reports to `report` (on the watchdog's thread) instead of stderr: once when
    /// a poll is found stuck, once when it ends.
    pub fn on_stuck(mut self, report: impl FnMut(&StuckPoll) + Send + 'static) -> WatchdogBuilder {
        self.report = Some(Box::new(report));
        self
    }

    /// Starts the watchdog's thread.
    ///
    /// # Errors
    /// If the OS refuses the thread.
    ///
    /// # Panics
    /// Without [`handle`](WatchdogBuilder::handle), outside a Parkade runtime.
    pub fn start(self) -> io::Result<Watchdog> {
        let handle = self.handle.unwrap_or_else(Handle::current);
        let report = self.report.unwrap_or_else(|| {
            Box::new(|stuck: &StuckPoll| eprintln!("parkade watchdog: {stuck}"))
        });
        let stop = Arc::new(Stop::default());
        let watch = Watch {
            handle,
            threshold: self.threshold,
            period: (self.threshold / 4).clamp(Duration::from_millis(1), Duration::from_secs(1)),
            report,
            seen: HashMap::new(),
        };
        let thread = {
            let stop = stop.clone();
            thread::Builder::new()
                .name("parkade-watchdog".into())
                .spawn(move || watch.run(&stop))?
        };
        Ok(Watchdog {
            stop,
            thread: Some(thread),
        })
    }
}

/// Reports polls that hold their worker for longer than a threshold (see the module docs).
/// Stops when dropped.
///
/// ```
/// use std::time::Duration;
///
/// let rt = runtime::Runtime::new()?;
/// let (tx, rx) = std::sync::mpsc::channel();
/// let _watchdog = profiler::Watchdog::builder(Duration::from_millis(50))
///     .handle(rt.handle().clone())
///     .on_stuck(move |stuck| tx.send(stuck.clone()).unwrap())
///     .start()?;
/// rt.spawn(async { std::thread::sleep(Duration::from_millis(300)) }); // blocks its worker
/// let stuck = rx.recv().unwrap();
/// assert!(!stuck.released() && stuck.elapsed() >= Duration::from_millis(50));
/// let released = rx.recv().unwrap();
/// assert!(released.released() && released.task() == stuck.task());
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Watchdog {
    stop: Arc<Stop>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Watchdog {
    /// Watches the current runtime, reporting to stderr each poll that runs `threshold` or
    /// longer.
    ///
    /// # Panics
    /// Outside a Parkade runtime, or if the OS refuses the thread.
    pub fn start(threshold: Duration) -> Watchdog {
        Watchdog::builder(threshold)
            .start()
            .expect("cannot start the watchdog's thread")
    }

    /// A watchdog with a reporter or a runtime of your choosing.
    pub fn builder(threshold: Duration) -> WatchdogBuilder {
        WatchdogBuilder {
            threshold,
            handle: None,
            report: None,
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        *self.stop.stopped.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.stop.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            // A reporter that panicked has already said so on stderr.
            let _ = thread.join();
        }
    }
}

impl fmt::Debug for Watchdog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watchdog").finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Stop {
    stopped: Mutex<bool>,
    wake: Condvar,
}

/// The watchdog thread's state.
struct Watch {
    handle: Handle,
    threshold: Duration,
    period: Duration,
    report: Report,
    /// The poll each busy worker was in at the last sample.
    seen: HashMap<usize, Seen>,
}

/// One poll as the watchdog follows it.
struct Seen {
    poll_id: u64,
    task: TaskId,
    /// The first sample that found it: the poll began no later.
    first_seen: Instant,
    /// When it began at the earliest: the later of the last sample that did not find it and
    /// the worker's clock at its start.
    began: Instant,
    /// The report, once it was found stuck.
    stuck: Option<StuckPoll>,
}

impl Watch {
    fn run(mut self, stop: &Stop) {
        let mut last_sample: Option<Instant> = None;
        let mut stopped = stop.stopped.lock().unwrap_or_else(|e| e.into_inner());
        while !*stopped {
            drop(stopped);
            let now = Instant::now();
            self.sample(now, last_sample);
            last_sample = Some(now);
            stopped = stop.stopped.lock().unwrap_or_else(|e| e.into_inner());
            if *stopped {
                break;
            }
            stopped = stop
                .wake
                .wait_timeout(stopped, self.period)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    fn sample(&mut self, now: Instant, last_sample: Option<Instant>) {
        let polls = self.handle.running_polls();
        // Polls that ended since the last sample: a stuck one is reported released.
        let ended: Vec<usize> = self
            .seen
            .iter()
            .filter(|(worker, seen)| {
                !polls
                    .iter()
                    .any(|p| p.worker() == **worker && p.poll_id() == seen.poll_id)
            })
            .map(|(&worker, _)| worker)
            .collect();
        for worker in ended {
            let seen = self.seen.remove(&worker).expect("just listed");
            if let Some(mut stuck) = seen.stuck {
                stuck.released = true;
                let last_seen = last_sample.unwrap_or(now);
                stuck.elapsed = last_seen.saturating_duration_since(seen.began);
                (self.report)(&stuck);
            }
        }
        let mut found = Vec::new();
        for poll in &polls {
            let seen = self.seen.entry(poll.worker()).or_insert_with(|| {
                let since_last = last_sample.map_or(Duration::MAX, |at| now - at);
                Seen {
                    poll_id: poll.poll_id(),
                    task: poll.task(),
                    first_seen: now,
                    began: now
                        .checked_sub(poll.elapsed().min(since_last))
                        .unwrap_or(now),
                    stuck: None,
                }
            });
            if seen.stuck.is_none() && now - seen.first_seen >= self.threshold {
                found.push((poll.worker(), seen.task, now.duration_since(seen.began)));
            }
        }
        if found.is_empty() {
            return;
        }
        // Rare: a snapshot for the tasks' names, types and sites.
        let profile = self.handle.profile();
        for (worker, task, elapsed) in found {
            let Some(snapshot) = profile.task(task) else {
                continue; // finished meanwhile: its poll ended
            };
            let stuck = StuckPoll {
                worker,
                task,
                name: snapshot.name().map(str::to_string),
                future_type: snapshot.future_type(),
                spawn_site: snapshot.spawn_site(),
                elapsed,
                released: false,
            };
            STUCK_POLLS.fetch_add(1, Relaxed);
            (self.report)(&stuck);
            if let Some(seen) = self.seen.get_mut(&worker) {
                seen.stuck = Some(stuck);
            }
        }
    }
}
