//! A slab whose keys carry a generation: a key whose entry was removed, and whose slot was
//! then reused, is recognised as stale instead of reaching someone else's entry. One store
//! for the runtime's three keyed lists: the wait lists of leaf futures
//! ([`WaitList`](crate::waitlist::WaitList)), the timer wheel's entries, and the I/O driver's
//! sockets (whose key travels through mio as a token).
//!
//! Generations come from one counter per slab, wrapping at 2^32: a stale key could only
//! alias if its slot were reused by exactly the 2^32nd insert after its own, while its
//! holder still kept it.
//!
//! Entries may also be addressed by bare index, for links between live entries (the lists
//! threaded through the wait list and the wheel): a link always names a live entry, so it
//! needs no generation.

use slab::Slab;

/// The address of an entry, valid until the entry is removed.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    index: u32,
    generation: u32,
}

impl Key {
    #[inline]
    pub(crate) fn index(self) -> usize {
        self.index as usize
    }

    /// `generation << 32 | index`: the key as one word (a mio token).
    #[inline]
    pub(crate) fn to_bits(self) -> u64 {
        u64::from(self.generation) << 32 | u64::from(self.index)
    }

    /// The inverse of [`to_bits`](Key::to_bits).
    #[inline]
    pub(crate) fn from_bits(bits: u64) -> Key {
        Key {
            index: bits as u32,
            generation: (bits >> 32) as u32,
        }
    }
}

pub(crate) struct KeyedSlab<T> {
    entries: Slab<Versioned<T>>,
    next_generation: u32,
}

struct Versioned<T> {
    generation: u32,
    value: T,
}

impl<T> Default for KeyedSlab<T> {
    #[inline]
    fn default() -> Self {
        KeyedSlab::new()
    }
}

impl<T> KeyedSlab<T> {
    pub(crate) const fn new() -> KeyedSlab<T> {
        KeyedSlab {
            entries: Slab::new(),
            next_generation: 0,
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Stores `value` and returns its key.
    ///
    /// # Panics
    /// With 2^32 entries live at once.
    #[inline]
    pub(crate) fn insert(&mut self, value: T) -> Key {
        let generation = self.next_generation;
        self.next_generation = self.next_generation.wrapping_add(1);
        if self.entries.capacity() == 0 {
            // Most lists only ever hold one entry: don't start at the default four.
            self.entries.reserve_exact(1);
        }
        let index = self.entries.insert(Versioned { generation, value });
        Key {
            index: u32::try_from(index).expect("a keyed slab holds fewer than 2^32 entries"),
            generation,
        }
    }

    #[inline]
    pub(crate) fn get(&self, key: Key) -> Option<&T> {
        self.entries
            .get(key.index())
            .filter(|entry| entry.generation == key.generation)
            .map(|entry| &entry.value)
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        self.entries
            .get_mut(key.index())
            .filter(|entry| entry.generation == key.generation)
            .map(|entry| &mut entry.value)
    }

    #[inline]
    pub(crate) fn contains(&self, key: Key) -> bool {
        self.get(key).is_some()
    }

    /// Takes the entry out, if `key` is still its key.
    #[inline]
    pub(crate) fn remove(&mut self, key: Key) -> Option<T> {
        match self.contains(key) {
            true => Some(self.remove_at(key.index())),
            false => None,
        }
    }

    /// The live entry at `index` (a link).
    ///
    /// # Panics
    /// If there is none: a link to a removed entry is a broken invariant of the caller.
    #[inline]
    pub(crate) fn at_mut(&mut self, index: usize) -> &mut T {
        &mut self
            .entries
            .get_mut(index)
            .expect("invariant: links name live entries")
            .value
    }

    /// Takes out the live entry at `index` (a link).
    #[inline]
    pub(crate) fn remove_at(&mut self, index: usize) -> T {
        self.entries.remove(index).value
    }

    /// Every entry, in slab order (not insertion order).
    #[inline]
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.entries.iter().map(|(_, entry)| &entry.value)
    }

    /// Every entry, in slab order (not insertion order).
    #[inline]
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.entries.iter_mut().map(|(_, entry)| &mut entry.value)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_stale_key_misses_the_entry_that_reused_its_slot() {
        let mut slab = KeyedSlab::new();
        let old = slab.insert("old");
        assert_eq!(slab.remove(old), Some("old"));
        let new = slab.insert("new");
        assert_eq!(old.index(), new.index(), "the slot is reused");
        assert_eq!(slab.get(old), None);
        assert_eq!(slab.remove(old), None);
        assert_eq!(slab.get(new), Some(&"new"));
        assert_eq!(Key::from_bits(new.to_bits()), new);
    }
}
