//! The poll context: everything a task poll reads from its thread, in one thread-local.
//!
//! The coop budget, the park recording's per-thread state (the polled task's record, the
//! worker's cached clock and park-time table) and the thread's random numbers share one
//! `const`-initialised struct with no destructor, as tokio's `CONTEXT` holds budget, rng and
//! current task. Such a thread-local is a plain `%fs`-relative address on x86-64: no lazy
//! initialisation, no registration, no `__tls_get_addr`. A task poll touches it once when it
//! begins and once when it ends ([`TaskPoll`]).

use crate::park;
use std::cell::Cell;

/// What a task poll reads from its thread.
pub(crate) struct PollContext {
    /// The coop budget of the poll running on this thread (`crate::coop`); `None` outside a
    /// task poll, so `block_on` and plain threads are never throttled.
    pub(crate) budget: Cell<Option<u8>>,
    /// The xorshift64 state of [`random_u64`]; 0 until first used.
    rng: Cell<u64>,
    /// Park recording's state (empty without the `profiling` feature).
    pub(crate) park: park::Current,
}

thread_local! {
    static POLL_CONTEXT: PollContext = const {
        PollContext {
            budget: Cell::new(None),
            rng: Cell::new(0),
            park: park::Current::new(),
        }
    };
}

/// Runs `f` on this thread's poll context. The closure is kept tiny so that `LocalKey::with`
/// always inlines (a large one left it out of line, calling the accessor through a function
/// pointer on every poll).
#[inline(always)]
pub(crate) fn with<R>(f: impl FnOnce(&PollContext) -> R) -> R {
    let context: *const PollContext = POLL_CONTEXT.with(|context| context as *const PollContext);
    // SAFETY: `POLL_CONTEXT` has a const initializer and no destructor, so it lives, unmoved,
    // for the whole life of this thread, and `f` runs on this thread.
    f(unsafe { &*context })
}

/// The next number of this thread's xorshift64: a worker's steal order, `select!`'s fair
/// start and the park profile's sampling draw from it.
#[inline]
pub(crate) fn random_u64() -> u64 {
    with(|context| {
        let mut x = context.rng.get();
        if x == 0 {
            // Distinct per thread (the thread-local's address); quality is irrelevant beyond
            // spreading the draws.
            x = (context as *const PollContext as u64) ^ 0x9E37_79B9_7F4A_7C15 | 1;
        }
        x = xorshift64(x);
        context.rng.set(x);
        x
    })
}

/// One step of xorshift64 (Marsaglia's 13/7/17), the runtime's one generator: the thread's
/// draws above, and the seeded sequences of tests. `x` must not be 0.
#[inline]
pub(crate) fn xorshift64(mut x: u64) -> u64 {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

/// One task poll on this thread: a fresh coop budget and the park recording's bracket
/// (`park::PollScope`). Task polls never nest on a thread (a worker polls one task at a time;
/// `block_on` is not allowed on a worker and polls no task), so the bracket sets and clears,
/// with nothing to save.
pub(crate) struct TaskPoll<'a, W: Fn(*const park::Record) -> bool> {
    park: park::PollScope<'a, W>,
}

impl<'a, W: Fn(*const park::Record) -> bool> TaskPoll<'a, W> {
    /// # Safety
    /// As `park::PollScope::enter`: `record` points to the polled task's `Record`, alive for
    /// `'a`, with the provenance of the whole task header.
    #[inline(always)]
    pub(crate) unsafe fn enter(
        record: *const park::Record,
        polls: &crate::loom::atomic::AtomicU32,
        woken: W,
    ) -> TaskPoll<'a, W> {
        with(|context| {
            context.budget.set(Some(crate::coop::BUDGET));
            // SAFETY: the caller's contract is `PollScope::enter`'s.
            let park = unsafe { park::PollScope::enter(&context.park, record, polls, woken) };
            TaskPoll { park }
        })
    }

    /// The poll returned `Pending`: the park is stamped in the same touch of the thread-local
    /// that ends the poll.
    #[inline(always)]
    pub(crate) fn pending(self) {
        with(|context| {
            self.park.pending(&context.park);
            end(context);
        });
        std::mem::forget(self);
    }

    /// The poll completed (or the future panicked, caught inside the bracket).
    #[inline(always)]
    pub(crate) fn ready(self) {
        with(end);
        std::mem::forget(self);
    }
}

#[inline(always)]
fn end(context: &PollContext) {
    context.budget.set(None);
    park::end_poll(&context.park);
}

impl<W: Fn(*const park::Record) -> bool> Drop for TaskPoll<'_, W> {
    /// Only if something between `enter` and `pending` or `ready` unwound: the polled future's own panics
    /// are caught inside the bracket.
    #[cold]
    fn drop(&mut self) {
        with(end);
    }
}
