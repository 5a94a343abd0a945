//! Leaked tasks: the ones that can never run again (proven), the ones parked for longer than a
//! threshold (suspected), and [`LeakCheck`], goleak for Parkade tests.
//!
//! # Proven and suspected
//!
//! Every task's reference count already counts its wakers, and a snapshot subtracts the
//! references that cannot wake it (the registry's, the `JoinHandle`'s, a queued or running
//! poll's): [`TaskSnapshot::wakers`]. A [`Parked`](runtime::TaskState::Parked) task with no waker left
//! can never be polled again — nothing exists that could wake it. That is a **proven** leak:
//!
//! - a hand-written future that returns `Pending` and drops its waker;
//! - `Context::background().done().await`, which keeps no waker since background is never done;
//! - `std::future::pending()`, or any foreign future that returned `Pending` and stored nothing.
//!
//! Proof is sound but far from complete. A waker kept alive by something that will never use
//! it looks exactly like one about to be used, so such a task is at most **suspected**:
//!
//! - a channel whose last sender was `mem::forget`-ed keeps the receiver's waker forever;
//! - a lock held by a guard that was leaked, a `Notify` nobody will notify, a timer an hour out;
//! - a cycle through channels: two tasks each parked on a channel whose only sender the other
//!   holds (Go's leak profile finds these through GC reachability; reference counts cannot);
//! - a future that keeps its own waker (a self-cycle).
//!
//! # Deadlocks
//!
//! Locks and joins say who holds what their waiters wait for (`Park::blocked_by`), so a cycle
//! of them is proven: every task on it waits, through the others, for itself
//! ([`runtime::Profile::deadlocks`]: two mutexes taken in opposite orders, a task joining a
//! task that waits on its lock, a read guard's holder asking for the write lock). A task on
//! a deadlock is a proven leak, and [`Leaks::deadlocks`] lists the cycles, printed
//! `deadlock: task 3 → task 5 → task 3`. One snapshot reads its tasks one after another, so
//! [`leaks_confirmed`] (which the endpoint and [`LeakCheck`] use) keeps only the cycles a
//! second, later snapshot shows with none of their tasks polled in between.
//!
//! "Can never run again" means never resumed by a wake: [`JoinHandle::abort`] and runtime
//! shutdown still cancel a proven leak, which drops its future without resuming it.
//!
//! Suspected leaks are the other parked tasks parked for at least
//! [`LeakOptions::min_parked`]: a long park is a symptom, not a proof (a server's accept loop
//! is parked for as long as nobody connects).
//!
//! [`JoinHandle::abort`]: runtime::JoinHandle::abort
//!
//! # Leak checks in tests
//!
//! [`LeakCheck`] records the tasks alive when it starts; [`LeakCheck::check`] fails with a
//! [`LeakReport`] if tasks spawned since are still alive after a short grace period, like
//! goleak's `VerifyNone`. `#[runtime::test(leak_check)]` wraps a test body in one.
//!
//! ```
//! # runtime::Runtime::new().unwrap().block_on(async {
//! let check = profiler::LeakCheck::start();
//! let (tx, rx) = runtime::chan::channel::<u32>(0);
//! runtime::spawn(async move { tx.send(1).await }); // nobody ever receives
//! let report = check.check().await.unwrap_err();
//! assert!(report.to_string().contains("[chan send, "));
//! # drop(rx);
//! # });
//! ```

use runtime::{Deadlock, LeakKind, Profile, TaskSnapshot};
/// Goleak for Parkade, from the runtime (so that `#[runtime::test(leak_check)]` needs no
/// profiler): see [`LeakCheck`].
pub use runtime::{LeakCheck, LeakReport};
use std::time::Duration;

/// Thresholds for [`leaks`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeakOptions {
    /// A parked task that still has a waker is suspected once parked this long.
    /// Default 30 s, like the endpoint's `min_parked=30s`.
    pub min_parked: Duration,
}

impl Default for LeakOptions {
    fn default() -> LeakOptions {
        LeakOptions {
            min_parked: Duration::from_secs(30),
        }
    }
}

/// The leaked tasks of one profile. A task is in at most one list; each list is in task id
/// (spawn) order.
#[derive(Debug, Clone, Default)]
pub struct Leaks {
    /// Parked tasks that no live waker can reach: they can never run again.
    pub proven: Vec<TaskSnapshot>,
    /// Parked tasks that still have a waker but have been parked for at least
    /// [`LeakOptions::min_parked`].
    pub suspected: Vec<TaskSnapshot>,
    /// Cycles of tasks each waiting (on a lock or a join) for what the next holds; their
    /// tasks are in `proven`.
    pub deadlocks: Vec<Deadlock>,
}

impl Leaks {
    /// True if there is neither a proven nor a suspected leak.
    pub fn is_empty(&self) -> bool {
        self.proven.is_empty() && self.suspected.is_empty()
    }

    /// Proven plus suspected leaks.
    pub fn len(&self) -> usize {
        self.proven.len() + self.suspected.len()
    }
}

/// The proven and suspected leaks among `profile`'s tasks; see the [module docs](self).
///
/// Proof reads only reference counts, so it works with the runtime's `profiling` feature off;
/// suspicion needs the park's duration, so without a park record (feature off) a parked task
/// is suspected only when `min_parked` is zero.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// use profiler::{leaks, LeakOptions};
/// let task = runtime::spawn(std::future::pending::<()>());
/// # while !runtime::profile().task(task.id()).is_some_and(|t| t.park().is_some()) {
/// #     runtime::yield_now().await;
/// # }
/// let found = leaks(&runtime::profile(), LeakOptions::default());
/// assert_eq!(found.proven[0].id(), task.id());
/// # task.abort();
/// # });
/// ```
pub fn leaks(profile: &Profile, options: LeakOptions) -> Leaks {
    classify(profile, options, profile.deadlocks())
}

/// [`leaks`], keeping only the deadlocks that `later`, a profile taken after `profile`, shows
/// too with none of their tasks polled in between ([`Deadlock::confirmed_by`]): proof against
/// a cycle that one snapshot saw only because it read its tasks at different moments.
pub fn leaks_confirmed(profile: &Profile, later: &Profile, options: LeakOptions) -> Leaks {
    let deadlocks = profile
        .deadlocks()
        .into_iter()
        .filter(|deadlock| deadlock.confirmed_by(profile, later))
        .collect();
    classify(profile, options, deadlocks)
}

fn classify(profile: &Profile, options: LeakOptions, deadlocks: Vec<Deadlock>) -> Leaks {
    let mut found = Leaks {
        deadlocks,
        ..Leaks::default()
    };
    for task in profile.tasks() {
        if found.deadlocks.iter().any(|d| d.contains(task.id())) {
            found.proven.push(task.clone());
            continue;
        }
        match task.leak(options.min_parked) {
            Some(LeakKind::Proven) => found.proven.push(task.clone()),
            Some(LeakKind::Suspected) => found.suspected.push(task.clone()),
            None => {}
        }
    }
    found.proven.sort_by_key(TaskSnapshot::id);
    found.suspected.sort_by_key(TaskSnapshot::id);
    found
}

/// True if `task` is parked and no waker of it exists: nothing can ever wake it.
pub fn is_proven_leak(task: &TaskSnapshot) -> bool {
    task.leak(Duration::MAX) == Some(LeakKind::Proven)
}

/// Leak analyses cross threads.
fn _assert_send_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<LeakOptions>();
    send_sync::<Leaks>();
}
