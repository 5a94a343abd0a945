//! Spawning tasks on the current runtime: `spawn`, `spawn_blocking`, the task [`Builder`]
//! and Go's errgroup, [`Group`]. Above the scheduler (they need the current runtime); the task
//! core below it (`crate::task_core`) knows no scheduler.

mod builder;
mod group;

pub use builder::Builder;
pub use group::{Group, GroupWait, SpawnLimited};

use crate::scheduler::current;
use crate::task_core::JoinHandle;
use std::future::Future;
use std::panic::Location;

/// Spawns a task on the current runtime. The spawn site is recorded for profiles.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let handle = runtime::spawn(async { 1 + 1 });
/// assert_eq!(handle.await.unwrap(), 2);
/// # });
/// ```
///
/// # Panics
/// Outside a Parkade runtime (use [`Handle::spawn`](crate::Handle::spawn) from plain threads).
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let site = Location::caller();
    current::with_current(|handle| handle.spawn_with(future, None, site))
        .expect(current::NO_RUNTIME)
}

/// Runs a blocking closure on the runtime's blocking pool, off the workers.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let sum = runtime::spawn_blocking(|| (1..=100).sum::<u32>()).await.unwrap();
/// assert_eq!(sum, 5050);
/// # });
/// ```
///
/// # Panics
/// Outside a Parkade runtime.
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let site = Location::caller();
    let handle = current::current();
    handle.shared.blocking.spawn(&handle, f, None, site)
}
