//! The per-site park-time table: Go's block profile, always on.
//!
//! Each worker owns one fixed-size open-addressing table keyed by the park word (reason and
//! site). Only the owning worker writes, with plain relaxed loads and stores, so recording a
//! resume costs a hash and two stores; readers merge every worker's table on demand. A key
//! is published after its counters, and a reader may see a count one update behind: the table
//! is a cumulative profile, not a ledger.

use crate::loom::atomic::{AtomicU64, Ordering::*};

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

    /// Adds one park of `parked_ns` under `key`. Only the owning worker calls this. Inlined
    /// into every task poll that resumes from a park, so only the first probe, which almost
    /// always finds the key, is inline.
    #[inline(always)]
    pub(crate) fn add(&self, key: u64, parked_ns: u64) {
        let start = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54) as usize;
        let slot = &self.slots[start % CAPACITY];
        if slot.key.load(Relaxed) == key {
            slot.bump(parked_ns);
        } else {
            self.add_probing(start, key, parked_ns);
        }
    }

    #[cold]
    #[inline(never)]
    fn add_probing(&self, start: usize, key: u64, parked_ns: u64) {
        for probe in 0..MAX_PROBE {
            let slot = &self.slots[(start + probe) % CAPACITY];
            let slot_key = slot.key.load(Relaxed);
            if slot_key == key {
                slot.bump(parked_ns);
                return;
            }
            if slot_key == 0 {
                slot.bump(parked_ns);
                slot.key.store(key, Release);
                return;
            }
        }
        self.overflow.bump(parked_ns);
    }

    /// Calls `f(key, count, total_ns)` for every site with at least one park.
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
    fn bump(&self, parked_ns: u64) {
        self.count.store(self.count.load(Relaxed) + 1, Relaxed);
        self.total_ns
            .store(self.total_ns.load(Relaxed).wrapping_add(parked_ns), Relaxed);
    }
}
