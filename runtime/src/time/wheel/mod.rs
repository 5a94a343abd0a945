//! Hierarchical timing wheel: the timer store behind `sleep`, `timeout` and
//! `interval`.
//!
//! # Design
//!
//! Time is a `u64` count of 1 ms ticks since an epoch the caller picks. The
//! wheel has 6 levels of 64 slots. A slot on level `L` spans
//! `64^L` ms, so a level spans `64^(L + 1)` ms and the top level spans
//! `64^6 = 2^36` ms (about 795 days). Every entry lives in exactly one
//! *bucket*: one slot of one level, or the overflow list.
//!
//! **Slot math.** An entry is filed by comparing its position
//! `pos = max(deadline, elapsed)` with `elapsed`: the highest bit in which
//! they differ picks the level (`bit / 6`), and `(pos >> 6 * level) & 63`
//! picks the slot. Consequently, for an entry on level `L`, `pos` agrees with
//! `elapsed` on every bit above the level's 6-bit digit, i.e. it is in the
//! level's *current rotation*; on level 0 its slot is exactly `pos`; on a
//! higher level its slot is strictly after the slot `elapsed` is in. If `pos`
//! and `elapsed` differ at bit 36 or above, no level can represent it yet and
//! the entry goes to the overflow list, which keeps a lower bound of its
//! deadlines and is re-filed when `elapsed` reaches that bound. Nothing is
//! lost, however far away the deadline, and a jump of many rotations costs
//! one re-filing, not one per rotation.
//!
//! **Why cascading is correct.** Level `L` slots all lie inside the current
//! level-`L + 1` slot, and occupied level-`L + 1` slots lie strictly after it,
//! so the lowest non-empty level always holds the earliest slot, and the
//! first set bit of its occupancy bitmap is that slot; the overflow bound
//! competes with it. [`Wheel::advance`] repeatedly takes the earliest of the
//! two; if it starts at or before `now` it moves `elapsed` there and either
//! fires the slot (level 0: every entry there is due) or re-files its entries
//! against the new `elapsed`. A level-`L` slot holds positions in
//! `[start, start + 64^L)`, so once `elapsed == start` they differ from
//! `elapsed` only below bit `6 * L` and land on a strictly lower level.
//! Re-filing the overflow list at its bound puts at least the earliest entry
//! into the wheel and leaves only entries beyond the new top-level rotation,
//! so the bound strictly grows. Each step therefore makes progress, and since
//! `elapsed` never skips an occupied slot's start or the overflow bound, the
//! filing invariant above holds at every level and entries fire in deadline
//! order, on the first advance that reaches them.
//!
//! **Lists.** Entries are stored in a slab; each bucket is an intrusive
//! doubly-linked list threaded through the entries' `prev`/`next` slab keys,
//! with `head`/`tail` in the bucket, so insert (append) and remove (unlink)
//! are O(1). Invariants: `head.is_none() == tail.is_none()`; following `next`
//! from `head` visits exactly the entries whose `bucket` names this list and
//! ends at `tail`; `prev` mirrors `next`; a level's occupancy bit is set iff
//! that slot's list is non-empty. Appending keeps firing FIFO within a
//! millisecond.
//!
//! **Keys.** Entries live in a [`KeyedSlab`], so a [`TimerKey`] whose entry
//! fired or was removed (and whose slot was reused) is recognised as stale
//! instead of touching someone else's timer.

use crate::keyed_slab::{Key, KeyedSlab};

/// Number of levels in the wheel.
const LEVELS: usize = 6;
/// log2 of the number of slots per level.
const SLOT_BITS: u32 = 6;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;
/// Span of one rotation of the top level: `64^6` ms.
const TOP_RANGE: u64 = 1 << (SLOT_BITS * LEVELS as u32);

/// Handle to an entry in a [`Wheel`].
///
/// Stays valid across cascades and [`Wheel::reset`]; becomes stale once the
/// entry fires or is removed. Only meaningful for the wheel that issued it.
pub(crate) type TimerKey = Key;

/// Which list an entry is linked into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bucket {
    Slot { level: u8, slot: u8 },
    Overflow,
}

struct Entry<T> {
    value: T,
    deadline: u64,
    bucket: Bucket,
    prev: Option<usize>,
    next: Option<usize>,
}

#[derive(Clone, Copy, Default)]
struct List {
    head: Option<usize>,
    tail: Option<usize>,
}

#[derive(Clone, Copy)]
struct Level {
    /// Bit `s` is set iff `slots[s]` is non-empty.
    occupied: u64,
    slots: [List; 1 << SLOT_BITS],
}

/// A hierarchical timing wheel with 1 ms resolution. Not thread-safe by
/// itself; the time driver keeps it behind a lock.
pub(crate) struct Wheel<T> {
    entries: KeyedSlab<Entry<T>>,
    levels: [Level; LEVELS],
    /// Entries too far ahead for the top-level rotation they were filed in.
    overflow: List,
    /// Lower bound of the overflow deadlines (stale-low after removals,
    /// which only costs an early re-filing); meaningless while it is empty.
    overflow_bound: u64,
    elapsed: u64,
}

impl<T> Wheel<T> {
    /// Creates an empty wheel whose time is 0.
    pub(crate) fn new() -> Self {
        let empty = Level {
            occupied: 0,
            slots: [List::default(); 1 << SLOT_BITS],
        };
        Wheel {
            entries: KeyedSlab::new(),
            levels: [empty; LEVELS],
            overflow: List::default(),
            overflow_bound: 0,
            elapsed: 0,
        }
    }

    /// The time the wheel has been advanced to.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Adds an entry firing at `deadline`. A deadline at or before
    /// [`elapsed`](Self::elapsed) fires on the next [`advance`](Self::advance).
    pub(crate) fn insert(&mut self, deadline: u64, value: T) -> TimerKey {
        let bucket = self.bucket_for(deadline);
        let key = self.entries.insert(Entry {
            value,
            deadline,
            bucket,
            prev: None,
            next: None,
        });
        self.link(key.index(), bucket);
        key
    }

    /// Removes an entry before it fires. `None` if it already fired, was
    /// removed, or the key is stale.
    pub(crate) fn remove(&mut self, key: TimerKey) -> Option<T> {
        if !self.entries.contains(key) {
            return None;
        }
        self.unlink(key.index());
        Some(self.entries.remove_at(key.index()).value)
    }

    /// The payload of a pending entry, e.g. to swap in a newer waker.
    pub(crate) fn get_mut(&mut self, key: TimerKey) -> Option<&mut T> {
        self.entries.get_mut(key).map(|entry| &mut entry.value)
    }

    /// Moves a pending entry to a new deadline (earlier or later); the key
    /// stays valid. `false` if the entry is gone.
    pub(crate) fn reset(&mut self, key: TimerKey, deadline: u64) -> bool {
        if !self.entries.contains(key) {
            return false;
        }
        self.unlink(key.index());
        self.entry_mut(key.index()).deadline = deadline;
        let bucket = self.bucket_for(deadline);
        self.link(key.index(), bucket);
        true
    }

    /// The next time at which [`advance`](Self::advance) has work to do, or
    /// `None` if the wheel is empty.
    ///
    /// This is the start of the earliest occupied slot (or the overflow
    /// list's deadline bound); for a higher level it is a cascade point: advancing to it may
    /// fire nothing and only re-file entries, after which this returns a
    /// later time. It is never later than the earliest pending deadline, and
    /// never earlier than `elapsed` (an overdue entry reports `elapsed`).
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        self.next_bucket().map(|(_, at)| at)
    }

    /// Advances the wheel to `now`, calling `fire` for every entry whose
    /// deadline is `<= now`, in deadline order (overdue entries first).
    /// A `now` earlier than [`elapsed`](Self::elapsed) is ignored.
    ///
    /// If `fire` panics the wheel stays consistent: `elapsed` stops at the
    /// slot being fired and its remaining entries fire on the next advance.
    pub(crate) fn advance(&mut self, now: u64, mut fire: impl FnMut(T)) {
        if now < self.elapsed {
            return;
        }
        while let Some((bucket, at)) = self.next_bucket() {
            if at > now {
                break;
            }
            self.elapsed = at;
            match bucket {
                Bucket::Slot { level: 0, slot } => self.fire_slot(slot, &mut fire),
                _ => self.cascade(bucket),
            }
        }
        self.elapsed = now;
    }

    /// Number of pending entries.
    #[allow(dead_code)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// `true` if no entries are pending.
    #[allow(dead_code)]
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Where an entry with `deadline` belongs relative to the current
    /// `elapsed` (see the module docs for the slot math).
    fn bucket_for(&self, deadline: u64) -> Bucket {
        // Overdue entries are filed at `elapsed`, the slot the next advance
        // processes first.
        let pos = deadline.max(self.elapsed);
        let differing = pos ^ self.elapsed;
        if differing >= TOP_RANGE {
            return Bucket::Overflow;
        }
        // OR-ing in the low digit sends every position in the current
        // 64 ms rotation to level 0, even one equal to `elapsed`.
        let highest_bit = (differing | SLOT_MASK).ilog2();
        let level = highest_bit / SLOT_BITS;
        let slot = (pos >> (SLOT_BITS * level)) & SLOT_MASK;
        Bucket::Slot {
            level: level as u8,
            slot: slot as u8,
        }
    }

    /// The earliest occupied bucket and the time it must be processed.
    fn next_bucket(&self) -> Option<(Bucket, u64)> {
        let overflow = self
            .overflow
            .head
            .map(|_| (Bucket::Overflow, self.overflow_bound));
        let Some(wheel) = self.next_wheel_slot() else {
            return overflow;
        };
        // On a tie the slot goes first, so that `elapsed` never rests on the
        // start of a still-occupied higher-level slot.
        match overflow {
            Some((_, bound)) if bound < wheel.1 => overflow,
            _ => Some(wheel),
        }
    }

    /// The earliest occupied slot in the levels and its start time.
    fn next_wheel_slot(&self) -> Option<(Bucket, u64)> {
        for (level, lvl) in self.levels.iter().enumerate() {
            if lvl.occupied == 0 {
                continue;
            }
            let shift = SLOT_BITS * level as u32;
            let current = (self.elapsed >> shift) & SLOT_MASK;
            // Level 0 may hold the slot `elapsed` is in; higher levels only
            // slots strictly after it (else cascading skipped something).
            let behind = if level == 0 {
                (1u64 << current) - 1
            } else {
                (2u64 << current).wrapping_sub(1)
            };
            debug_assert_eq!(
                lvl.occupied & behind,
                0,
                "level {level} has an occupied slot at or behind elapsed"
            );
            let slot = u64::from(lvl.occupied.trailing_zeros());
            let rotation_start = self.elapsed & !((1u64 << (shift + SLOT_BITS)) - 1);
            let bucket = Bucket::Slot {
                level: level as u8,
                slot: slot as u8,
            };
            return Some((bucket, rotation_start + (slot << shift)));
        }
        None
    }

    /// Fires a level-0 slot. Entries are unlinked one at a time so a
    /// panicking `fire` leaves the rest linked and accounted for.
    fn fire_slot(&mut self, slot: u8, fire: &mut impl FnMut(T)) {
        while let Some(index) = self.levels[0].slots[usize::from(slot)].head {
            self.unlink(index);
            let entry = self.entries.remove_at(index);
            debug_assert!(entry.deadline <= self.elapsed, "fired before deadline");
            fire(entry.value);
        }
    }

    /// Re-files every entry of a higher-level slot or the overflow list
    /// against the current `elapsed`. Runs no user code.
    fn cascade(&mut self, bucket: Bucket) {
        let list = std::mem::take(self.list_mut(bucket));
        if let Bucket::Slot { level, slot } = bucket {
            self.levels[usize::from(level)].occupied &= !(1u64 << slot);
        }
        let mut cursor = list.head;
        while let Some(index) = cursor {
            // Read `next` before relinking overwrites it; the detached chain
            // is otherwise untouched, since relinking only edits the entry
            // itself and the tail of its new list.
            let entry = self.entry_mut(index);
            cursor = entry.next;
            let deadline = entry.deadline;
            let new_bucket = self.bucket_for(deadline);
            debug_assert!(
                new_bucket != bucket || bucket == Bucket::Overflow,
                "cascade made no progress"
            );
            self.link(index, new_bucket);
        }
    }

    /// Appends an unlinked entry to `bucket`.
    fn link(&mut self, index: usize, bucket: Bucket) {
        let old_tail = self.list_mut(bucket).tail;
        let entry = self.entry_mut(index);
        entry.bucket = bucket;
        entry.prev = old_tail;
        entry.next = None;
        match old_tail {
            Some(tail) => self.entry_mut(tail).next = Some(index),
            None => self.list_mut(bucket).head = Some(index),
        }
        self.list_mut(bucket).tail = Some(index);
        match bucket {
            Bucket::Slot { level, slot } => {
                self.levels[usize::from(level)].occupied |= 1u64 << slot;
            }
            Bucket::Overflow => {
                let deadline = self.entry_mut(index).deadline;
                self.overflow_bound = match old_tail {
                    Some(_) => self.overflow_bound.min(deadline),
                    None => deadline,
                };
            }
        }
    }

    /// Detaches an entry from its bucket, leaving it in the slab.
    fn unlink(&mut self, index: usize) {
        let entry = self.entry_mut(index);
        let (bucket, prev, next) = (entry.bucket, entry.prev, entry.next);
        entry.prev = None;
        entry.next = None;
        match prev {
            Some(prev) => self.entry_mut(prev).next = next,
            None => self.list_mut(bucket).head = next,
        }
        match next {
            Some(next) => self.entry_mut(next).prev = prev,
            None => self.list_mut(bucket).tail = prev,
        }
        if let Bucket::Slot { level, slot } = bucket {
            if self.list_mut(bucket).head.is_none() {
                self.levels[usize::from(level)].occupied &= !(1u64 << slot);
            }
        }
    }

    fn entry_mut(&mut self, index: usize) -> &mut Entry<T> {
        self.entries.at_mut(index)
    }

    fn list_mut(&mut self, bucket: Bucket) -> &mut List {
        match bucket {
            Bucket::Slot { level, slot } => {
                &mut self.levels[usize::from(level)].slots[usize::from(slot)]
            }
            Bucket::Overflow => &mut self.overflow,
        }
    }
}

#[cfg(test)]
mod tests;
