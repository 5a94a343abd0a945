//! The park record, real twin (feature `profiling` on). Its empty twin is `record_off.rs`.
//!
//! A record lives in each task's header. The word packs the reason's code (bits 48..61), the
//! site's address (bits 0..48: a `&'static Location` is a user-space pointer, so it fits),
//! CARRY (bit 62) and PARKED (bit 63, set from a park until the poll that resumes it). A park
//! is one release store of that word (a plain store on x86); `since` is stamped by the worker
//! when the poll returns `Pending` with the clock it read at the poll's start. Readers
//! re-read the word after `since` and retry if it changed; `consistent.rs` is the protocol,
//! model-checked by loom.

use super::table::{self, ParkTable, COUNT_ONE};
use super::{clock, ParkReason};
use crate::loom::atomic::{AtomicPtr, AtomicUsize};
use crate::loom::atomic::{AtomicU32, AtomicU64, Ordering::*};
use std::cell::{Cell, RefCell};
use std::marker::PhantomData;
use std::panic::Location;
use std::ptr;

const PARKED: u64 = 1 << 63;
/// Set with PARKED when the poll that recorded the park was woken during it by something
/// other than the runtime's own yields (a combinator such as `FuturesUnordered` yielding
/// through the task's waker): the next poll may poll no leaf at all, and then it continues
/// this park instead of recording `unknown`.
const CARRY: u64 = 1 << 62;

/// `Current::recorded` bits, both clear at the start of each poll; neither set at its end
/// means a foreign future returned `Pending` (`unknown`).
/// A runtime future recorded a park.
const PARK: u8 = 1;
/// A runtime future yielded (`yield_now`, the coop budget): not a park, nor `unknown`.
const YIELD: u8 = 2;
const CODE_SHIFT: u32 = 48;
const CODE_MASK: u64 = 0x3fff;
const SITE_MASK: u64 = (1 << CODE_SHIFT) - 1;

/// The park fields of a task header. Written only by the thread polling the task. (The
/// task's identity, its name and parent, is the task's metadata: `task::Meta`.)
pub(crate) struct Record {
    /// PARKED | CARRY | code << 48 | site address.
    word: AtomicU64,
    /// Coarse-clock nanoseconds at the last park.
    since: AtomicU64,
    /// The cases of the last `select` park, and what the last lock or join park waits on:
    /// allocated by the polling thread at the task's first park of either kind (few tasks
    /// have one; the header stays as small as it is, which `profile()`'s walk of a million
    /// headers measures), freed with the task.
    cases: AtomicPtr<CaseBuf>,
}

/// Park words of a `select`'s cases, and what a lock or join park waits on (`holder.rs`:
/// written with those parks only, so read only for their reasons,
/// `park::is_blocked_by_reason`). Grown by replacement; older buffers are chained and freed
/// with the record, never while the task is alive.
struct CaseBuf {
    len: AtomicUsize,
    words: Box<[AtomicU64]>,
    blocked_on: AtomicU64,
    older: *mut CaseBuf,
}

/// A consistent copy of a record's park.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawPark {
    /// `ParkReason::code`: kept as the code so that reading a labelled park takes no lock
    /// on the label table.
    pub(crate) code: u16,
    pub(crate) site: Option<&'static Location<'static>>,
    pub(crate) since: u64,
}

impl RawPark {
    #[inline]
    fn decode(word: u64, since: u64) -> Option<RawPark> {
        let code = ((word >> CODE_SHIFT) & CODE_MASK) as u16;
        // 0: never parked.
        (code != 0).then(|| RawPark {
            code,
            site: site_of(word),
            since,
        })
    }
}

impl Record {
    #[inline]
    pub(crate) fn new() -> Record {
        Record {
            word: AtomicU64::new(0),
            since: AtomicU64::new(0),
            cases: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// The reason code of the last park (0: never parked), for counting: one load, no
    /// consistency with the site or the time needed.
    pub(crate) fn code(&self) -> u16 {
        ((self.word.load(Relaxed) >> CODE_SHIFT) & CODE_MASK) as u16
    }

    /// When the last park began (park clock), for counting: one load, like `code`.
    pub(crate) fn since(&self) -> u64 {
        self.since.load(Relaxed)
    }

    /// The last park, read consistently against a concurrent park by the polling thread
    /// (the protocol: `super::consistent`). A `select` park's cases are `read_with_cases`'s.
    #[inline]
    pub(crate) fn read(&self) -> Option<RawPark> {
        let (word, since) = super::consistent::read_words(&self.word, &self.since, |_| {});
        RawPark::decode(word, since)
    }

    /// Whether the task has parked on a `select`, a lock or a join (now or before): then a
    /// snapshot takes `read_with_cases`.
    #[inline]
    pub(crate) fn has_cases(&self) -> bool {
        !self.cases.load(Relaxed).is_null()
    }

    /// As `read`, with a `select` park's cases and what a lock or join park waits on
    /// (`blocked_on`, 0 for other parks) read consistently with it.
    pub(crate) fn read_with_cases(
        &self,
    ) -> (
        Option<RawPark>,
        Vec<(ParkReason, &'static Location<'static>)>,
        u64,
    ) {
        let mut cases = Vec::new();
        let mut blocked_on = 0;
        let (word, since) = super::consistent::read_words(&self.word, &self.since, |word| {
            cases.clear();
            let code = ((word >> CODE_SHIFT) & CODE_MASK) as u16;
            if code == ParkReason::Select.code() {
                self.read_cases(&mut cases);
            }
            // Stored before the word it goes with, whose Acquire load this follows.
            blocked_on = match super::is_blocked_by_reason(code) {
                true => self.read_blocked_on(),
                false => 0,
            };
        });
        (RawPark::decode(word, since), cases, blocked_on)
    }

    fn read_blocked_on(&self) -> u64 {
        let buf = self.cases.load(Acquire);
        if buf.is_null() {
            return 0;
        }
        // SAFETY: as in `read_cases`.
        unsafe { &*buf }.blocked_on.load(Relaxed)
    }

    /// Stores what a lock or join park waits on. Only the polling thread calls this.
    fn write_blocked_on(&self, blocked_on: u64) {
        let mut buf = self.cases.load(Relaxed);
        if buf.is_null() {
            if blocked_on == 0 {
                return; // a missing buffer reads as 0 already: allocate only to name someone
            }
            buf = self.grow_cases(buf, 0);
        }
        // SAFETY: non-null and alive (see `read_cases`).
        unsafe { &*buf }.blocked_on.store(blocked_on, Relaxed);
    }

    /// Replaces the case buffer with one of at least `len` words (the old one stays chained).
    #[cold]
    fn grow_cases(&self, old: *mut CaseBuf, len: usize) -> *mut CaseBuf {
        let grown = Box::into_raw(Box::new(CaseBuf {
            len: AtomicUsize::new(0),
            words: (0..len.max(4)).map(|_| AtomicU64::new(0)).collect(),
            blocked_on: AtomicU64::new(0),
            older: old,
        }));
        self.cases.store(grown, Release);
        grown
    }

    fn read_cases(&self, out: &mut Vec<(ParkReason, &'static Location<'static>)>) {
        let buf = self.cases.load(Acquire);
        if buf.is_null() {
            return;
        }
        // SAFETY: buffers are freed only when the record is dropped (the task is freed), and
        // snapshots read records only of tasks they hold alive.
        let buf = unsafe { &*buf };
        let len = buf.len.load(Acquire).min(buf.words.len());
        for word in &buf.words[..len] {
            if let Some((reason, Some(site))) = decode(word.load(Relaxed)) {
                out.push((reason, site));
            }
        }
    }

    /// Stores a `select`'s cases. Only the polling thread calls this.
    fn write_cases(&self, words: &[u64]) {
        let mut buf = self.cases.load(Relaxed);
        // SAFETY: as in `read_cases`; only this (polling) thread replaces the pointer.
        let too_small = buf.is_null() || unsafe { &*buf }.words.len() < words.len();
        if too_small {
            buf = self.grow_cases(buf, words.len());
        }
        // SAFETY: non-null and alive (see `read_cases`).
        let buf = unsafe { &*buf };
        buf.len.store(0, Release);
        for (slot, &word) in buf.words.iter().zip(words) {
            slot.store(word, Relaxed);
        }
        buf.len.store(words.len(), Release);
    }
}

impl Drop for Record {
    #[inline]
    fn drop(&mut self) {
        let cases = *self.cases.get_mut();
        if !cases.is_null() {
            // SAFETY: `cases` came from `Box::into_raw` and is owned by this record alone.
            unsafe { free_cases(cases) };
        }
    }
}

/// Frees a record's `select` case buffers (few tasks have any).
///
/// # Safety
/// `buf` came from `Box::into_raw` in `write_cases`, and its chain is owned by the caller.
#[cold]
unsafe fn free_cases(mut buf: *mut CaseBuf) {
    while !buf.is_null() {
        // SAFETY: every buffer in the chain came from `Box::into_raw` in `write_cases`
        // and is owned by this record alone; the task is being freed.
        let owned = unsafe { Box::from_raw(buf) };
        buf = owned.older;
    }
}

#[inline(always)]
fn encode(code: u16, site: &'static Location<'static>) -> u64 {
    let address = site as *const Location<'static> as usize as u64;
    // A `Location` is static data, mapped low in the address space (user space is below
    // 2^47 on x86-64, 2^48 on aarch64, unless a program maps its own memory higher with
    // 5-level paging, which static data never is), so the address needs no masking.
    debug_assert_eq!(address & !SITE_MASK, 0, "site address above 48 bits");
    PARKED | (u64::from(code) & CODE_MASK) << CODE_SHIFT | address
}

fn decode(word: u64) -> Option<(ParkReason, Option<&'static Location<'static>>)> {
    let code = ((word >> CODE_SHIFT) & CODE_MASK) as u16;
    Some((ParkReason::from_code(code)?, site_of(word)))
}

fn site_of(word: u64) -> Option<&'static Location<'static>> {
    let address = (word & SITE_MASK) as usize;
    // SAFETY: every non-zero site in a word was written by `encode` from a
    // `&'static Location`, whose address stays valid for the whole program.
    (address != 0).then(|| unsafe { &*(address as *const Location<'static>) })
}

/// Runs `f` on this thread's `Current`, a field of the one poll-context thread-local.
#[inline(always)]
fn with_current<R>(f: impl FnOnce(&Current) -> R) -> R {
    crate::poll_context::with(|context| f(&context.park))
}

/// The (reason, site) of a park-time table key; key 0 collects parks the table had no room for.
pub(crate) fn decode_key(key: u64) -> Option<(ParkReason, Option<&'static Location<'static>>)> {
    if key == 0 {
        return Some((ParkReason::Unknown, None));
    }
    decode(key)
}

/// What the worker set up for the poll running on this thread: park recording's part of the
/// poll context (`crate::poll_context`).
pub(crate) struct Current {
    record: Cell<*const Record>,
    /// What the current poll recorded: `PARK` and `YIELD` bits.
    recorded: Cell<u8>,
    table: Cell<*const ParkTable>,
    /// Nesting depth of `select`s collecting their cases on this thread.
    collecting: Cell<u32>,
    /// The worker's clock (coarse-clock ns), refreshed by the worker loop; 0 on threads that
    /// are not workers, which read the clock at every poll.
    now: Cell<u64>,
}

impl Current {
    pub(crate) const fn new() -> Current {
        Current {
            record: Cell::new(ptr::null()),
            recorded: Cell::new(0),
            table: Cell::new(ptr::null()),
            collecting: Cell::new(0),
            now: Cell::new(0),
        }
    }
}

thread_local! {
    /// The cases being collected by `select`s on this thread (nested ones use the tail).
    /// Apart from the poll context so that it needs no destructor, which keeps every access
    /// to it a plain thread-local load.
    static CASES: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// `record_code` for a park that waits on a lock's holders or a task (`holder.rs`): stores
/// what it waits on with the park. (A `select` case records its park only.)
#[inline]
pub(crate) fn record_blocked(code: u16, site: &'static Location<'static>, blocked_on: u64) {
    record_with(code, site, |record| record.write_blocked_on(blocked_on));
}

/// Records that the task being polled on this thread parks for `reason` at `site`.
/// Outside a task poll (in `block_on`, on a plain thread) it does nothing.
#[inline]
pub(crate) fn record_code(code: u16, site: &'static Location<'static>) {
    record_with(code, site, |_| {});
}

/// Records a park, after `before` has written what else goes with it into the record (it is
/// visible to whoever sees the park's word).
#[inline(always)]
fn record_with(code: u16, site: &'static Location<'static>, before: impl FnOnce(&Record)) {
    with_current(|current| {
        if current.collecting.get() > 0 {
            CASES.with(|cases| cases.borrow_mut().push(encode(code, site)));
            return;
        }
        let record = current.record.get();
        if !record.is_null() {
            // SAFETY: `record` is set by `PollScope::enter` from a live task header and
            // cleared when that scope ends; the task cannot be freed while it is being polled.
            let record = unsafe { &*record };
            before(record);
            record.word.store(encode(code, site), Release);
            current.recorded.set(current.recorded.get() | PARK);
        }
    });
}

/// Gathers the parks recorded while a `select!` polls its branches, to record them as the
/// cases of one `select` park (`Park::cases`).
pub(crate) struct CaseCollector {
    start: usize,
}

impl CaseCollector {
    pub(crate) fn begin() -> CaseCollector {
        with_current(|current| {
            current.collecting.set(current.collecting.get() + 1);
            CaseCollector {
                start: CASES.with(|cases| cases.borrow().len()),
            }
        })
    }

    /// Every branch is pending: record a `select` park at `site` with the gathered cases
    /// (`select (no cases)` if there were no branches to poll). A select nested in another
    /// becomes one case of the outer one.
    pub(crate) fn parked(self, site: &'static Location<'static>, no_cases: bool) {
        let reason = if no_cases {
            ParkReason::SelectNoCases
        } else {
            ParkReason::Select
        };
        with_current(|current| {
            let words: Vec<u64> =
                CASES.with(|cases| cases.borrow_mut().drain(self.start..).collect());
            current.collecting.set(current.collecting.get() - 1);
            if current.collecting.get() > 0 {
                CASES.with(|cases| cases.borrow_mut().push(encode(reason.code(), site)));
                return;
            }
            let record = current.record.get();
            if !record.is_null() {
                // SAFETY: as in `record_code`.
                let record = unsafe { &*record };
                record.write_cases(&words);
                record.word.store(encode(reason.code(), site), Release);
                current.recorded.set(current.recorded.get() | PARK);
            }
        });
        std::mem::forget(self);
    }
}

impl Drop for CaseCollector {
    /// A branch completed (or the select unwound): forget what was gathered.
    fn drop(&mut self) {
        let _ = CASES.try_with(|cases| cases.borrow_mut().truncate(self.start));
        with_current(|current| current.collecting.set(current.collecting.get() - 1));
    }
}

/// A runtime future polled on this thread yields (`yield_now`, budget): `pending` stamps
/// nothing for it, and if the yield's wake made the task runnable, clears the PARKED a
/// `select` or `join` branch may have recorded in the same poll.
#[inline]
pub(crate) fn record_yield() {
    with_current(|current| current.recorded.set(current.recorded.get() | YIELD));
}

/// Whether a leaf future already recorded a park (or a yield) during the current poll.
#[inline]
pub(crate) fn recorded_this_poll() -> bool {
    with_current(|current| current.recorded.get() != 0)
}

/// The record of the task being polled on this thread (null: none), set by
/// `PollScope::enter` and alive until its scope ends. The task module steps from it to the
/// task (`task::current_task_id`).
pub(crate) fn current_record() -> *const Record {
    with_current(|c| c.record.get())
}

/// Reads the clock into the worker's cached time, which stamps the parks of the polls that
/// follow. The worker calls this every few ticks and whenever it wakes from parking, so a
/// stamp is at most a few polls stale: well inside the coarse clock's own 1-4 ms resolution
/// unless those polls each run for milliseconds (which a profile would show anyway).
/// Returns the time read, which the worker also publishes in its poll slot.
#[inline]
pub(crate) fn refresh_clock() -> u64 {
    let now = clock::now();
    with_current(|current| current.now.set(now));
    now
}

/// Installs the worker's park-time table, and its cached clock, for the life of the returned
/// guard: a thread with a table always has a clock (the resume path relies on it).
pub(crate) fn set_worker_table(table: &ParkTable) -> WorkerTableGuard<'_> {
    let now = clock::now();
    with_current(|c| {
        c.now.set(now);
        c.table.set(table);
    });
    WorkerTableGuard { _table: table }
}

pub(crate) struct WorkerTableGuard<'a> {
    _table: &'a ParkTable,
}

impl Drop for WorkerTableGuard<'_> {
    fn drop(&mut self) {
        with_current(|c| {
            c.table.set(ptr::null());
            c.now.set(0);
        });
    }
}

/// Park recording's part of one task poll (`crate::poll_context::TaskPoll` brackets it):
/// accounts the park it resumes from and stamps the next one. It is handed the poll context's
/// `Current`, so that the poll touches its thread-local once at each end.
pub(crate) struct PollScope<'a, W: Fn(*const Record) -> bool> {
    /// The polled task's record, as the task module handed it: a pointer that may be stepped
    /// back from to the task's header (`task::current_task_id`, `woken`), which a reference
    /// to the field alone would not allow.
    record: *const Record,
    /// Whether the task of a record has been woken since its poll began (asked on the rare
    /// endings only). A function of the record, so the scope stays one pointer.
    woken: W,
    _record: PhantomData<&'a Record>,
}

/// The worker's cached clock, or the clock itself on a thread that is not a worker. Read only
/// where a park is stamped or accounted, so a poll that completes or yields never reads it.
#[inline(always)]
fn current_now(current: &Current) -> u64 {
    match current.now.get() {
        0 => clock::now(),
        now => now,
    }
}

impl<'a, W: Fn(*const Record) -> bool> PollScope<'a, W> {
    /// Inlined into the task poll (a call here cost a tenth of the recording's instructions).
    /// `woken` tells whether the task holding a record has been woken since this poll began:
    /// the task's state word, which the task module owns. The scope passes `woken` only the
    /// `record` it was entered with.
    ///
    /// # Safety
    /// `record` points to a `Record` that lives for `'a`, with the provenance of the whole
    /// task header it is a field of (taken with `&raw const`, not through a reference to the
    /// field): the task module steps back from it to the header.
    #[inline(always)]
    pub(crate) unsafe fn enter(
        current: &Current,
        record: *const Record,
        polls: &AtomicU32,
        woken: W,
    ) -> PollScope<'a, W> {
        let scope = PollScope {
            record,
            woken,
            _record: PhantomData,
        };
        let record = scope.record();
        // Release, and before anything else: a snapshot that sees the new count must see the
        // state word's RUNNING, which this thread set just before (`consistent`).
        polls.store(polls.load(Relaxed).wrapping_add(1), Release);
        let word = record.word.load(Relaxed);
        if word & (PARKED | CARRY) == PARKED {
            // Resumed: not parked any more. A poll that yields leaves it so, and the next
            // poll does not count this park again. (With CARRY, the park may go on.)
            record.word.store(word & !PARKED, Release);
            let table = current.table.get();
            if !table.is_null() {
                // A worker (it installed the table), so its cached clock is set.
                let now = current.now.get();
                let parked = now.saturating_sub(record.since.load(Relaxed));
                // SAFETY: the table pointer is installed by `set_worker_table` for the
                // lifetime of a guard held by the worker loop that is polling us.
                let table = unsafe { &*table };
                let rate = super::profile_rate_ns();
                if parked >= rate {
                    table.add(word, COUNT_ONE, parked);
                } else {
                    account_sampled(table, word, parked, rate);
                }
            }
        }
        current.record.set(scope.record);
        current.recorded.set(0);
        scope
    }

    #[inline(always)]
    fn record(&self) -> &'a Record {
        // SAFETY: `enter`'s contract: the record lives for `'a`.
        unsafe { &*self.record }
    }

    /// The poll returned `Pending`: stamp the park, or record `unknown` at the last known site
    /// if no runtime future recorded one.
    #[inline(always)]
    pub(crate) fn pending(&self, current: &Current) {
        let recorded = current.recorded.get();
        if recorded != PARK {
            // A plain yield (runnable again at once: nothing to stamp), or a rarer ending.
            if recorded == YIELD || !self.parked_otherwise(recorded) {
                return;
            }
        }
        self.record().since.store(current_now(current), Release);
    }

    fn notified(&self) -> bool {
        (self.woken)(self.record)
    }

    /// The rarer endings of a poll; returns whether the task parked. A park and a yield:
    /// if the task was woken during the poll (by its own yield, directly or through a
    /// combinator's waker), it is runnable again at once, so the park a `select` or `join`
    /// branch recorded must not be counted when it is next polled; if not (the yield woke a
    /// no-op waker, as under `now_or_never`), it parked. Nothing recorded, after a park that
    /// a combinator's wake interrupted (CARRY): the combinator polled no leaf, so that park
    /// goes on from its own `since`. Nothing recorded otherwise: a foreign future parked
    /// (`unknown`).
    #[cold]
    fn parked_otherwise(&self, recorded: u8) -> bool {
        let record = self.record();
        let word = record.word.load(Relaxed);
        if recorded & PARK != 0 {
            if self.notified() {
                record.word.store(word & !(PARKED | CARRY), Release);
                return false;
            }
            return true;
        }
        if recorded & YIELD != 0 {
            return false;
        }
        if word & CARRY != 0 {
            if !self.notified() {
                // Parked for good: counted when resumed, from the first poll's stamp.
                record.word.store(word & !CARRY, Release);
            }
            return false;
        }
        let unknown = u64::from(ParkReason::Unknown.code()) << CODE_SHIFT;
        record
            .word
            .store(PARKED | unknown | (word & SITE_MASK), Release);
        true
    }
}

/// The task was woken during a poll that ended `Pending` (it is runnable again at once) and
/// its poller still owns it. If that poll recorded a park, something other than the runtime's
/// own yields woke it, typically a combinator yielding through the task's waker
/// (`FuturesUnordered` does once it has polled every future): mark the park to be carried by
/// a next poll that polls no leaf, instead of recording `unknown` there.
#[inline(always)]
pub(crate) fn woken_during_poll(record: &Record) {
    let word = record.word.load(Relaxed);
    if word & PARKED != 0 {
        record.word.store(word | CARRY, Release);
    }
}

/// A task poll ended: no task's record is current on this thread any more.
#[inline(always)]
pub(crate) fn end_poll(current: &Current) {
    current.record.set(ptr::null());
}

/// A resumed park shorter than the profile rate: counted with probability duration / rate,
/// weighted (`table::weigh`).
#[cold]
#[inline(never)]
fn account_sampled(table: &ParkTable, key: u64, parked: u64, rate: u64) {
    // Uniform in 0..rate by a multiply (Lemire), not a division.
    let draw = || ((u128::from(crate::poll_context::random_u64()) * u128::from(rate)) >> 64) as u64;
    if let Some((count, total)) = table::weigh(parked, rate, draw) {
        table.add(key, count, total);
    }
}

/// Durations shown in a snapshot are measured against this clock.
pub(crate) fn now() -> u64 {
    clock::now()
}
