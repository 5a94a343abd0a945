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
//!     assert_eq!(task.park().unwrap().reason().to_string(), "sleep");
//!     println!("{profile}"); // Go-style grouped dump
//!     sleeper.abort();
//! });
//! ```

#![warn(missing_docs, clippy::undocumented_unsafe_blocks)]

mod coop;
mod driver;
mod io;
mod loom;
pub mod net;
pub mod park;
mod profile;
mod runtime;
mod scheduler;
pub mod task;
pub mod time;

pub use crate::park::ParkReason;
pub use crate::profile::{Park, ParkCase, ParkSite, Profile, TaskSnapshot, TaskState};
pub use crate::runtime::{Builder, Runtime};
pub use crate::scheduler::{EnterGuard, Handle, TryCurrentError};
pub use crate::task::{spawn, spawn_blocking, yield_now, JoinError, JoinHandle, TaskId};
pub use runtime_macros::{main, test};

/// A snapshot of every live task of the current runtime.
///
/// # Panics
/// Outside a Parkade runtime (use [`Handle::profile`] from other threads).
#[track_caller]
pub fn profile() -> Profile {
    scheduler::context::current().profile()
}
