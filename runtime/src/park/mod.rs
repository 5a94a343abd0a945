//! Park records: why, where and since when each task is parked.
//!
//! Leaf futures of the runtime (timers, I/O, joins, channels, locks) are created by
//! `#[track_caller]` functions and call `record` when they return `Pending`; each task poll
//! is bracketed by a `PollScope` (inside the poll context's `TaskPoll`, `poll_context.rs`)
//! that stamps the time and fills in `unknown` for futures that recorded nothing. With the `profiling` feature off (and under loom) the
//! empty twins replace every function with a no-op.
//!
//! A park, followed from a leaf future to `runtime::profile()`:
//!
//! 1. A leaf returns `Pending` and calls `record` (here) with its reason and the site its
//!    `#[track_caller]` constructor saved, e.g. `chan/endpoints.rs`, `Recv::poll`.
//! 2. `record.rs`: `record_code` stores reason and site into the word of the record the
//!    poll's `PollScope` pointed this thread's poll context (`poll_context.rs`) at; the
//!    record is a field of the task's header (`task_core/core.rs`), and `task_core/harness.rs` opens
//!    the scope around each poll.
//! 3. `PollScope::pending` stamps `since` (or records `unknown`); the next poll's
//!    `PollScope::enter` ends the park and adds it to the worker's park-time table
//!    (`table.rs`).
//!
//! And back, from the record to a profile:
//!
//! 1. `lib.rs`: `runtime::profile()` asks the current runtime's handle;
//! 2. `scheduler/mod.rs`: `Shared::profile_into` walks the task registry
//!    (`task_core/registry.rs`), handing each task's `TaskView` (`task_core/view.rs`) to
//! 3. `profile/read.rs`: `snapshot`, which reads the record with `Record::read`
//!    (`record.rs`) under the protocol of `consistent.rs` and builds a `TaskSnapshot`
//!    (`profile/mod.rs`).

mod consistent;
mod label;
mod reason;

pub use label::label;
pub use reason::{IoDirection, ParkReason};

#[cfg(all(feature = "profiling", not(loom)))]
mod clock;
#[cfg(all(feature = "profiling", not(loom)))]
pub(crate) mod holder;
#[cfg(all(feature = "profiling", not(loom)))]
mod record;
#[cfg(all(feature = "profiling", not(loom)))]
pub(crate) mod table;

#[cfg(not(all(feature = "profiling", not(loom))))]
#[path = "holder_off.rs"]
pub(crate) mod holder;
#[cfg(not(all(feature = "profiling", not(loom))))]
#[path = "record_off.rs"]
mod record;
#[cfg(not(all(feature = "profiling", not(loom))))]
#[path = "table_off.rs"]
pub(crate) mod table;

pub(crate) use consistent::stable;
pub(crate) use record::{
    current_record, decode_key, end_poll, now, record_blocked, record_code, record_yield,
    recorded_this_poll, refresh_clock, set_worker_table, woken_during_poll, CaseCollector, Current,
    PollScope, RawPark, Record,
};
pub(crate) use table::ParkTable;

use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// The park-time profile's rate in nanoseconds (see [`set_profile_rate`]); 0: every park.
static PROFILE_RATE_NS: AtomicU64 = AtomicU64::new(0);

/// Sets the rate of the park-time profile ([`Profile::park_sites`](crate::Profile::park_sites),
/// `/debug/pprof/park`), with the semantics of Go's `runtime.SetBlockProfileRate`: a park at
/// least `rate` long is always counted, with its duration; a shorter one is counted with
/// probability duration / `rate`, and then as `rate` / duration parks totalling `rate`, so
/// that counts and totals stay unbiased estimates while most short parks skip the table.
/// `Duration::ZERO` (the default) counts every park exactly. The rate is process-wide and
/// applies to parks that end after the call; parks already counted are kept.
///
/// ```
/// use std::time::Duration;
/// runtime::park::set_profile_rate(Duration::from_micros(100));
/// assert_eq!(runtime::park::profile_rate(), Duration::from_micros(100));
/// runtime::park::set_profile_rate(Duration::ZERO);
/// ```
pub fn set_profile_rate(rate: Duration) {
    PROFILE_RATE_NS.store(duration_ns(rate), Relaxed);
}

/// `duration` in nanoseconds, saturated: the unit of park times (`since`, the rate, a
/// profile's thresholds).
pub(crate) fn duration_ns(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// The rate [`set_profile_rate`] set (`Duration::ZERO`: every park is counted).
pub fn profile_rate() -> Duration {
    Duration::from_nanos(profile_rate_ns())
}

#[inline(always)]
pub(crate) fn profile_rate_ns() -> u64 {
    PROFILE_RATE_NS.load(Relaxed)
}

/// Whether park recording is compiled in (the `profiling` feature).
pub const ENABLED: bool = cfg!(all(feature = "profiling", not(loom)));

/// Whether a park of reason `code` records what blocks it (`holder.rs`): a lock's, a
/// semaphore's or a join's wait.
#[inline]
pub(crate) fn is_blocked_by_reason(code: u16) -> bool {
    code == ParkReason::MutexLock.code()
        || code == ParkReason::RwLockRead.code()
        || code == ParkReason::RwLockWrite.code()
        || code == ParkReason::SemaphoreAcquire.code()
        || code == ParkReason::JoinWait.code()
}

/// Records that the task polled on this thread is about to return `Pending` for `reason`,
/// awaited at `site`. A few plain stores; nothing outside a task poll.
#[inline]
pub(crate) fn record(reason: ParkReason, site: &'static Location<'static>) {
    record_code(reason.code(), site);
}
