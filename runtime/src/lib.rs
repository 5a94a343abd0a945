//! Parkade: a work-stealing async runtime whose scheduler records, for every task, why it is
//! parked, where, and since when, at a cost no benchmark can see.
//!
//! ```
//! use std::time::Duration;
//!
//! let rt = runtime::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let sleeper = runtime::spawn(async {
//!         runtime::time::sleep(Duration::from_secs(3600)).await;
//!     });
//!     # for _ in 0..1000 {
//!     #     if runtime::profile().tasks().iter().any(|t| t.park().is_some()) { break }
//!     #     runtime::time::sleep(Duration::from_millis(2)).await;
//!     # }
//!     let profile = runtime::profile();
//!     let task = &profile.tasks()[0];
//!     # if runtime::park::ENABLED {
//!     assert_eq!(task.park().unwrap().reason().to_string(), "sleep");
//!     # }
//!     println!("{profile}"); // Go-style grouped dump
//!     sleeper.abort();
//! });
//! ```

#![warn(missing_docs, clippy::undocumented_unsafe_blocks)]

#[doc(hidden)]
pub mod __private;
pub mod chan;
#[cfg(any(feature = "tokio-io", feature = "futures-io", feature = "hyper"))]
pub mod compat;
pub mod context;
mod coop;
mod driver;
mod io;
mod keyed_slab;
mod leak_check;
mod loom;
pub mod net;
pub mod park;
mod poll_context;
mod profile;
mod runtime;
mod scheduler;
#[cfg(unix)]
pub mod signal;
mod spawn;
pub mod sync;
pub mod task {
    //! Tasks: spawning them ([`spawn`], [`spawn_blocking`], [`Builder`], Go's errgroup
    //! [`Group`]), joining them ([`JoinHandle`]), and yielding ([`yield_now`]).

    pub use crate::spawn::{spawn, spawn_blocking, Builder, Group, GroupWait, SpawnLimited};
    pub use crate::task_core::{yield_now, JoinError, JoinHandle, TaskId};
}
mod task_core;
pub mod time;
mod waitlist;

pub use crate::leak_check::{LeakCheck, LeakReport};
pub use crate::park::ParkReason;
pub use crate::profile::{
    group_tasks, Deadlock, LeakKind, Park, ParkCase, ParkSite, Profile, TaskCounts, TaskGroup,
    TaskSnapshot, TaskState,
};
pub use crate::runtime::{Builder, Runtime};
pub use crate::scheduler::{EnterGuard, Handle, RunningPoll, TryCurrentError};
pub use crate::task::{spawn, spawn_blocking, yield_now, JoinError, JoinHandle, TaskId};
pub use runtime_macros::{main, test};

/// Waits on several futures at once and runs the branch of the first to complete, like Go's
/// `select`.
///
/// ```text
/// select! {
///     [biased;]
///     <pattern> = <future> [, if <condition>] => <handler>,
///     ...
///     [default => <handler>,]
/// }
/// ```
///
/// - Each `<future>` is evaluated once, then polled until one completes with a value matching
///   its `<pattern>`; that branch's handler runs with the pattern's bindings and the other
///   futures are dropped. A value that does not match disables its branch (Go's nil channel).
/// - A branch whose `if <condition>` is false is disabled from the start.
/// - Among ready branches the choice is uniformly random, like Go; `biased;` polls in order.
/// - `default` runs when no branch is ready on the first poll: `select!` never parks then.
/// - While parked the task shows reason `select`, with each pending branch's reason and site
///   in `Park::cases`. With no enabled branch and no `default` (and for `select! {}`) it
///   parks forever as `select (no cases)`.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// use std::time::Duration;
/// let (tx, rx) = runtime::chan::channel::<u32>(1);
/// tx.send(7).await.unwrap();
/// let got = runtime::select! {
///     v = rx.recv() => v,
///     _ = runtime::time::sleep(Duration::from_secs(1)) => None,
/// };
/// assert_eq!(got, Some(7));
/// let nothing = runtime::select! {
///     v = rx.recv() => v,
///     default => None,
/// };
/// assert_eq!(nothing, None);
/// # });
/// ```
pub use runtime_macros::select;

/// A snapshot of every live task of the current runtime.
///
/// # Panics
/// Outside a Parkade runtime (use [`Handle::profile`] from other threads).
#[track_caller]
pub fn profile() -> Profile {
    scheduler::current::current().profile()
}

/// Live tasks of the current runtime by state and by park reason, and its totals, counted
/// without building a snapshot (two loads per task, no allocation per task): for metrics.
///
/// # Panics
/// Outside a Parkade runtime (use [`Handle::task_counts`] from other threads).
#[track_caller]
pub fn task_counts() -> TaskCounts {
    scheduler::current::current().task_counts()
}
