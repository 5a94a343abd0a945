//! The per-site park-time table: Go's block profile, always on.
//!
//! Each worker owns one fixed-size open-addressing table keyed by the park word (reason and
//! site). Only the owning worker writes, with plain relaxed loads and stores, so recording a
//! resume costs a hash and two stores; readers merge every worker's table on demand. A key
//! is published after its counters, and a reader may see a count one update behind: the table
//! is a cumulative profile, not a ledger.

use crate::loom::atomic::{AtomicU64, Ordering::*};

/// Park counts are kept in 1/`COUNT_ONE` units, so that a sampled park can add its weight
/// (`rate / duration`, a fraction of parks) without rounding it to a whole park.
pub(crate) const COUNT_ONE: u64 = 1 << 10;

/// How a park of `parked_ns` is counted at profile rate `rate_ns`, Go's block-profile rule
/// (`runtime.SetBlockProfileRate`): a park at least `rate_ns` long always counts, once and
/// with its duration; a shorter one counts with probability `parked / rate`, and then as
/// `rate / parked` parks totalling `rate`, so that counts and totals stay unbiased. `draw` is
/// uniform in `0..rate_ns`. Returns (count in `COUNT_ONE` units, total ns), or `None` when
/// the park is not sampled. A park of 0 ns (the coarse clock did not tick) counts as 1 ns.
#[inline]
pub(crate) fn weigh(
    parked_ns: u64,
    rate_ns: u64,
    draw: impl FnOnce() -> u64,
) -> Option<(u64, u64)> {
    if parked_ns >= rate_ns {
        return Some((COUNT_ONE, parked_ns));
    }
    let parked_ns = parked_ns.max(1);
    if draw() >= parked_ns {
        return None;
    }
    let count = u128::from(rate_ns) * u128::from(COUNT_ONE) / u128::from(parked_ns);
    Some((u64::try_from(count).unwrap_or(u64::MAX), rate_ns))
}

/// Distinct (reason, site) pairs per worker; more than a program has await sites that park.
const CAPACITY: usize = 1024;
const MAX_PROBE: usize = 32;

pub(crate) struct ParkTable {
    /// A fixed-size array, so that indexing by a masked hash needs no bounds check; inline,
    /// so that the thread-local table pointer reaches a slot with no further load.
    slots: [Slot; CAPACITY],
    /// Parks whose key found no free slot within `MAX_PROBE` (reported as one `unknown` row).
    overflow: Slot,
}

#[derive(Default)]
struct Slot {
    /// The park word (reason and site, PARKED bit set: it is never 0); 0 while free.
    key: AtomicU64,
    count: AtomicU64,
    total_ns: AtomicU64,
}

impl ParkTable {
    /// Boxed: 24 KiB, and its address is what the worker's thread-local holds.
    pub(crate) fn new() -> Box<ParkTable> {
        Box::new(ParkTable {
            slots: std::array::from_fn(|_| Slot::default()),
            overflow: Slot::default(),
        })
    }

    /// Adds `count` (in `COUNT_ONE` units) parks totalling `total_ns` under `key`. Only the
    /// owning worker calls this. Inlined into every task poll that resumes from a park, so
    /// only the first probe, which almost always finds the key, is inline.
    #[inline(always)]
    pub(crate) fn add(&self, key: u64, count: u64, total_ns: u64) {
        let start = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54) as usize;
        let slot = &self.slots[start % CAPACITY];
        if slot.key.load(Relaxed) == key {
            slot.bump(count, total_ns);
        } else {
            self.add_probing(start, key, count, total_ns);
        }
    }

    #[cold]
    #[inline(never)]
    fn add_probing(&self, start: usize, key: u64, count: u64, total_ns: u64) {
        for probe in 0..MAX_PROBE {
            let slot = &self.slots[(start + probe) % CAPACITY];
            let slot_key = slot.key.load(Relaxed);
            if slot_key == key {
                slot.bump(count, total_ns);
                return;
            }
            if slot_key == 0 {
                slot.bump(count, total_ns);
                slot.key.store(key, Release);
                return;
            }
        }
        self.overflow.bump(count, total_ns);
    }

    /// Calls `f(key, count, total_ns)` for every site with at least one park; `count` is in
    /// `COUNT_ONE` units.
    pub(crate) fn for_each(&self, mut f: impl FnMut(u64, u64, u64)) {
        for slot in self.slots.iter() {
            let key = slot.key.load(Acquire);
            if key != 0 {
                f(key, slot.count.load(Relaxed), slot.total_ns.load(Relaxed));
            }
        }
        let count = self.overflow.count.load(Relaxed);
        if count != 0 {
            f(0, count, self.overflow.total_ns.load(Relaxed));
        }
    }
}

impl Slot {
    #[inline]
    fn bump(&self, count: u64, total_ns: u64) {
        self.count
            .store(self.count.load(Relaxed).wrapping_add(count), Relaxed);
        self.total_ns
            .store(self.total_ns.load(Relaxed).wrapping_add(total_ns), Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The runtime's xorshift, seeded: the sampling is checked on the same draws every run.
    fn rng(seed: u64) -> impl FnMut() -> u64 {
        let mut x = seed;
        move || {
            x = crate::poll_context::xorshift64(x);
            x
        }
    }

    #[test]
    fn parks_at_least_the_rate_count_exactly() {
        assert_eq!(
            weigh(5_000, 5_000, || unreachable!()),
            Some((COUNT_ONE, 5_000))
        );
        assert_eq!(
            weigh(9_000, 5_000, || unreachable!()),
            Some((COUNT_ONE, 9_000))
        );
        // Rate zero: every park, exactly.
        assert_eq!(weigh(0, 0, || unreachable!()), Some((COUNT_ONE, 0)));
        assert_eq!(weigh(7, 0, || unreachable!()), Some((COUNT_ONE, 7)));
    }

    #[test]
    fn a_sampled_park_weighs_rate_over_duration() {
        assert_eq!(weigh(1_000, 4_000, || 999), Some((4 * COUNT_ONE, 4_000)));
        assert_eq!(weigh(1_000, 4_000, || 1_000), None);
        // A park the coarse clock saw as 0 ns is a 1 ns park.
        assert_eq!(weigh(0, 4_000, || 0), Some((4_000 * COUNT_ONE, 4_000)));
    }

    /// The estimator is unbiased: over 200,000 parks of mixed durations, all shorter than
    /// the rate, the sampled count and total are within 3% of the exact ones (their
    /// standard errors here are under 0.6%).
    #[test]
    fn sampled_totals_estimate_the_exact_ones() {
        let rate = 1_000_000; // 1 ms
        let mut draw = rng(0x9E37_79B9_7F4A_7C15);
        let mut durations = rng(42);
        let (mut count, mut total, mut exact_total) = (0u128, 0u128, 0u128);
        let parks = 200_000u64;
        for _ in 0..parks {
            // 20 µs to 1 ms.
            let parked = 20_000 + durations() % 980_000;
            exact_total += u128::from(parked);
            if let Some((c, t)) = weigh(parked, rate, || draw() % rate) {
                count += u128::from(c);
                total += u128::from(t);
            }
        }
        let count = count as f64 / COUNT_ONE as f64;
        let (total, exact_total) = (total as f64, exact_total as f64);
        assert!(
            (count / parks as f64 - 1.0).abs() < 0.03,
            "count {count} of {parks}"
        );
        assert!(
            (total / exact_total - 1.0).abs() < 0.03,
            "total {total} of {exact_total}"
        );
    }
}
