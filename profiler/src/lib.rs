//! Go's goroutine profile for Parkade: renders, exports, serves and analyses
//! [`runtime::Profile`].
//!
//! - [`text`]: Go's grouped (`debug=1`) and per-task (`debug=2`) dumps.
//! - [`pprof`]: gzipped `profile.proto` that `go tool pprof` reads.
//! - [`park`]: the cumulative park-time profile (Go's block profile).
//! - [`leaks`](mod@leaks): proven and suspected leaks, and `LeakCheck` for tests.
//! - [`server`]: the HTTP endpoint (`/debug/pprof/...`, `/metrics`, `/debug/vars`), on threads
//!   of its own ([`serve`]) or on an application's hyper or axum router ([`DebugService`]).
//! - [`expvar`]: integers an application publishes at `/debug/vars` (Go's `expvar`).

pub mod expvar;
pub mod json;
pub mod leaks;
pub mod park;
pub mod pprof;
pub mod server;
pub mod text;
pub mod watchdog;

pub use leaks::*;
pub use server::*;
pub use watchdog::{StuckPoll, Watchdog, WatchdogBuilder};
