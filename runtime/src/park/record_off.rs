//! The park record, empty twin (feature `profiling` off, or under loom): the same API as
//! `record.rs`, every function a no-op the compiler removes.

use super::table::ParkTable;
use super::ParkReason;
use crate::loom::atomic::AtomicU32;
use std::marker::PhantomData;
use std::panic::Location;

/// Without recording, a record keeps nothing.
pub(crate) struct Record;

#[derive(Clone, Copy, Debug)]
pub(crate) struct RawPark {
    pub(crate) code: u16,
    pub(crate) site: Option<&'static Location<'static>>,
    pub(crate) since: u64,
}

impl Record {
    pub(crate) fn new() -> Record {
        Record
    }
    pub(crate) fn read(&self) -> Option<RawPark> {
        None
    }
    pub(crate) fn has_cases(&self) -> bool {
        false
    }
    pub(crate) fn read_with_cases(
        &self,
    ) -> (
        Option<RawPark>,
        Vec<(ParkReason, &'static Location<'static>)>,
        u64,
    ) {
        (None, Vec::new(), 0)
    }

    pub(crate) fn since(&self) -> u64 {
        0
    }

    pub(crate) fn code(&self) -> u16 {
        0
    }
}

/// Without recording, no poll context knows its task: a task's parent is not recorded.
#[inline(always)]
pub(crate) fn current_record() -> *const Record {
    std::ptr::null()
}

#[inline(always)]
pub(crate) fn record_code(_code: u16, _site: &'static Location<'static>) {}

#[inline(always)]
pub(crate) fn record_blocked(_code: u16, _site: &'static Location<'static>, _blocked_on: u64) {}

#[inline(always)]
pub(crate) fn record_yield() {}

#[inline(always)]
pub(crate) fn woken_during_poll(_record: &Record) {}

#[inline(always)]
pub(crate) fn recorded_this_poll() -> bool {
    false
}

pub(crate) fn set_worker_table(_table: &ParkTable) -> WorkerTableGuard {
    WorkerTableGuard
}

// The guards below have empty destructors so that code written against the real twin (which
// holds them in `let _guard` bindings or drops them explicitly, as `select!`'s expansion does)
// reads the same, and lints the same, in both builds. They compile to nothing.

pub(crate) struct WorkerTableGuard;

impl Drop for WorkerTableGuard {
    #[inline(always)]
    fn drop(&mut self) {}
}

/// Without recording, the poll context keeps no park state.
pub(crate) struct Current;

impl Current {
    pub(crate) const fn new() -> Current {
        Current
    }
}

pub(crate) struct PollScope<'a, W>(PhantomData<(&'a Record, W)>);

impl<'a, W: Fn(*const Record) -> bool> PollScope<'a, W> {
    /// # Safety
    /// As the recording build's `PollScope::enter` (nothing is read here).
    #[inline(always)]
    pub(crate) unsafe fn enter(
        _current: &Current,
        _record: *const Record,
        _polls: &AtomicU32,
        _woken: W,
    ) -> PollScope<'a, W> {
        PollScope(PhantomData)
    }
    #[inline(always)]
    pub(crate) fn pending(&self, _current: &Current) {}
}

#[inline(always)]
pub(crate) fn end_poll(_current: &Current) {}

pub(crate) fn now() -> u64 {
    0
}

pub(crate) fn decode_key(_key: u64) -> Option<(ParkReason, Option<&'static Location<'static>>)> {
    None
}

pub(crate) struct CaseCollector;

impl Drop for CaseCollector {
    #[inline(always)]
    fn drop(&mut self) {}
}

impl CaseCollector {
    #[inline(always)]
    pub(crate) fn begin() -> CaseCollector {
        CaseCollector
    }
    #[inline(always)]
    pub(crate) fn parked(self, _site: &'static Location<'static>, _no_cases: bool) {}
}

#[inline(always)]
pub(crate) fn refresh_clock() -> u64 {
    0
}
