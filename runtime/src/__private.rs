//! Support for the runtime's macros. Not public API: the macros' expansions call these.

use crate::park::CaseCollector;
use std::future::poll_fn;
use std::panic::Location;
use std::task::Poll;

/// The location of the macro invocation whose expansion calls this.
#[track_caller]
pub fn caller_site() -> &'static Location<'static> {
    Location::caller()
}

/// Gathers the park reasons of a `select!`'s branches while it polls them.
pub struct SelectCases(CaseCollector);

impl SelectCases {
    /// Starts collecting; dropping the value discards what was collected.
    pub fn begin() -> SelectCases {
        SelectCases(CaseCollector::begin())
    }

    /// Records a `select` park at `site` with the collected cases (or `select (no cases)`).
    pub fn parked(self, site: &'static Location<'static>, no_cases: bool) {
        self.0.parked(site, no_cases);
    }
}

/// A uniformly random number below `n` (`n > 0`), from a per-thread xorshift: the fair start
/// of an unbiased `select!`.
pub fn random_below(n: u32) -> u32 {
    // Lemire's multiply-shift: unbiased enough for choosing among ≤ 64 branches.
    (((crate::poll_context::random_u64() >> 32) * u64::from(n)) >> 32) as u32
}

/// `select! {}`: parks forever as `select (no cases)`, like Go's `select {}`.
pub async fn select_forever(site: &'static Location<'static>) -> ! {
    poll_fn(|_| {
        CaseCollector::begin().parked(site, true);
        Poll::<()>::Pending
    })
    .await;
    unreachable!("select! {{}} never completes")
}
