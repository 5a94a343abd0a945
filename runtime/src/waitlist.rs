//! A FIFO of parked waiters with O(1) push, pop and removal by key: the wait queue of
//! channels, locks and semaphores. Not synchronized: it lives inside its owner's mutex.
//!
//! Entries are kept in a [`KeyedSlab`] and linked into a doubly-linked list by slab index, so
//! a waiter whose future is dropped (cancelled) can take itself out without a scan. Its key
//! carries a generation, so a key whose entry was already popped by a waker can never remove
//! the entry that later reused its slot.

use crate::keyed_slab::{Key, KeyedSlab};
use std::task::Waker;

/// A position in a [`WaitList`], held by the waiting future.
pub(crate) type WaitKey = Key;

pub(crate) struct WaitList<T> {
    entries: KeyedSlab<Entry<T>>,
    head: Link,
    tail: Link,
}

/// A slab index, or `NONE`. `u32` keeps an entry small: a parked task pays for one.
type Link = u32;
const NONE: Link = u32::MAX;

struct Entry<T> {
    value: T,
    prev: Link,
    next: Link,
}

impl<T> Default for WaitList<T> {
    fn default() -> Self {
        WaitList::new()
    }
}

impl<T> WaitList<T> {
    pub(crate) const fn new() -> WaitList<T> {
        WaitList {
            entries: KeyedSlab::new(),
            head: NONE,
            tail: NONE,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.head == NONE
    }

    #[cfg_attr(loom, allow(dead_code))] // only the (non-loom) group tests ask
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Appends a waiter at the back.
    pub(crate) fn push_back(&mut self, value: T) -> WaitKey {
        let key = self.entries.insert(Entry {
            value,
            prev: self.tail,
            next: NONE,
        });
        let index = key.index() as Link;
        match self.tail {
            NONE => self.head = index,
            tail => self.entries.at_mut(tail as usize).next = index,
        }
        self.tail = index;
        key
    }

    pub(crate) fn front_mut(&mut self) -> Option<&mut T> {
        match self.head {
            NONE => None,
            head => Some(&mut self.entries.at_mut(head as usize).value),
        }
    }

    pub(crate) fn pop_front(&mut self) -> Option<T> {
        match self.head {
            NONE => None,
            head => Some(self.unlink(head as usize)),
        }
    }

    /// The waiter at `key`, if it is still queued.
    pub(crate) fn get_mut(&mut self, key: WaitKey) -> Option<&mut T> {
        self.entries.get_mut(key).map(|entry| &mut entry.value)
    }

    /// Takes the waiter at `key` out of the queue, if it is still queued.
    pub(crate) fn remove(&mut self, key: WaitKey) -> Option<T> {
        self.entries.contains(key).then(|| self.unlink(key.index()))
    }

    /// Every queued waiter, front to back.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        // Slab order is not queue order, but callers of this (wake-all on close) don't care.
        self.entries.iter_mut().map(|entry| &mut entry.value)
    }

    /// Removes every waiter, front to back.
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        std::iter::from_fn(move || self.pop_front())
    }

    fn unlink(&mut self, index: usize) -> T {
        let entry = self.entries.remove_at(index);
        match entry.prev {
            NONE => self.head = entry.next,
            prev => self.entries.at_mut(prev as usize).next = entry.next,
        }
        match entry.next {
            NONE => self.tail = entry.prev,
            next => self.entries.at_mut(next as usize).prev = entry.prev,
        }
        entry.value
    }
}

/// Leaves a parked waiter's stored waker waking whoever polled it last: a clone only when the
/// waker changed (the future moved to another task, or is polled under a combinator's waker).
/// Every leaf future re-polled while queued calls this.
#[inline]
pub(crate) fn refresh_waker(stored: &mut Waker, current: &Waker) {
    drop(replace_waker(stored, current));
}

/// [`refresh_waker`], giving back the waker it replaced, for a caller that must drop it
/// after releasing its lock (a waker's drop may run foreign code).
#[inline]
pub(crate) fn replace_waker(stored: &mut Waker, current: &Waker) -> Option<Waker> {
    match stored.will_wake(current) {
        true => None,
        false => Some(std::mem::replace(stored, current.clone())),
    }
}

/// Wakers released under a lock, called once it is released: the one waker batch of the
/// runtime (leaf futures' wait lists, and the driver's ready sockets and expired timers). The
/// first is kept inline and the rest (a close, `add_permits(n)`, a driver turn that readies
/// many) in a `Vec`: the common case of one or no waker costs an `Option` check, where a
/// `SmallVec`'s drop stayed out of line on every operation.
#[derive(Default)]
pub(crate) struct Wakeups {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl Wakeups {
    pub(crate) fn new() -> Wakeups {
        Wakeups::default()
    }

    #[inline]
    pub(crate) fn push(&mut self, waker: Waker) {
        match self.first {
            None => self.first = Some(waker),
            Some(_) => self.rest.push(waker),
        }
    }

    /// Wakes them all, in the order they were pushed.
    #[inline]
    pub(crate) fn wake_all(self) {
        if let Some(first) = self.first {
            first.wake();
        }
        for waker in self.rest {
            waker.wake();
        }
    }
}

impl Wakeups {
    /// Wakes them all, in order, each contained: the driver wakes tasks of any executor, and a
    /// foreign waker that panics must not unwind through the driver and take down the worker
    /// holding it (the panic hook has already reported it).
    pub(crate) fn wake_all_contained(self) {
        let wake = |waker: Waker| {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| waker.wake()));
        };
        if let Some(first) = self.first {
            wake(first);
        }
        for waker in self.rest {
            wake(waker);
        }
    }
}

impl Extend<Waker> for Wakeups {
    fn extend<I: IntoIterator<Item = Waker>>(&mut self, wakers: I) {
        for waker in wakers {
            self.push(waker);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_with_removal_from_the_middle() {
        let mut list = WaitList::new();
        let a = list.push_back('a');
        let b = list.push_back('b');
        let c = list.push_back('c');
        assert_eq!(list.len(), 3);
        assert_eq!(list.remove(b), Some('b'));
        assert_eq!(list.front_mut(), Some(&mut 'a'));
        assert_eq!(list.pop_front(), Some('a'));
        assert_eq!(list.remove(a), None, "already popped");
        assert_eq!(list.remove(c), Some('c'));
        assert!(list.is_empty());
        let d = list.push_back('d');
        assert_eq!(list.get_mut(b), None, "stale key, slot reused");
        assert_eq!(list.get_mut(d), Some(&mut 'd'));
        assert_eq!(list.drain().collect::<Vec<_>>(), vec!['d']);
        assert!(list.head == NONE && list.tail == NONE);
    }

    #[test]
    fn removing_head_and_tail_keeps_links() {
        let mut list = WaitList::new();
        let keys: Vec<_> = (0..5).map(|i| list.push_back(i)).collect();
        assert_eq!(list.remove(keys[0]), Some(0));
        assert_eq!(list.remove(keys[4]), Some(4));
        list.push_back(5);
        assert_eq!(list.drain().collect::<Vec<_>>(), vec![1, 2, 3, 5]);
    }
}
