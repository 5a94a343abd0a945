//! Park records: why, where and since when each task is parked.
//!
//! Leaf futures of the runtime (timers, I/O, joins, channels, locks) are created by
//! `#[track_caller]` functions and call `record` when they return `Pending`; the worker
//! brackets each poll with a `PollScope` that stamps the time and fills in `unknown` for
//! futures that recorded nothing. With the `profiling` feature off (and under loom) the
//! empty twins replace every function with a no-op.

mod label;
mod reason;

pub use label::label;
pub use reason::{IoDirection, ParkReason};

#[cfg(all(feature = "profiling", not(loom)))]
mod clock;
#[cfg(all(feature = "profiling", not(loom)))]
mod record;
#[cfg(all(feature = "profiling", not(loom)))]
pub(crate) mod table;

#[cfg(not(all(feature = "profiling", not(loom))))]
#[path = "record_off.rs"]
mod record;
#[cfg(not(all(feature = "profiling", not(loom))))]
#[path = "table_off.rs"]
pub(crate) mod table;

pub(crate) use record::{
    decode_key, now, record_code, record_yield, recorded_this_poll, refresh_clock,
    set_worker_table, CaseCollector, PollScope, RawPark, Record,
};
pub(crate) use table::ParkTable;

use std::panic::Location;

/// Whether park recording is compiled in (the `profiling` feature).
pub const ENABLED: bool = cfg!(all(feature = "profiling", not(loom)));

/// Records that the task polled on this thread is about to return `Pending` for `reason`,
/// awaited at `site`. A few plain stores; nothing outside a task poll.
#[inline]
pub(crate) fn record(reason: ParkReason, site: &'static Location<'static>) {
    record_code(reason.code(), site);
}
