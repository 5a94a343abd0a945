//! The sharded registry of a runtime's live tasks: what a snapshot walks and what shutdown
//! cancels. It holds one reference to each task from spawn until completion.

use super::{Notified, Schedule, Task};
use crate::loom::atomic::{AtomicBool, Ordering::*};
use crate::loom::{lock, Mutex};
use slab::Slab;

pub(crate) struct Registry<S: 'static> {
    /// A power of two, so a task's shard is `id & mask`.
    shards: Box<[Mutex<Shard<S>>]>,
    mask: usize,
    /// Set once at shutdown, under every shard's lock: no task may be added after.
    closed: AtomicBool,
}

struct Shard<S: 'static> {
    tasks: Slab<Task<S>>,
    /// Tasks ever added and removed here: counted under the lock the registry takes anyway,
    /// so the totals cost no extra atomic.
    spawned: u64,
    completed: u64,
}

/// An emptied shard gives back a slab larger than this (2 KiB of slots): with 256 shards,
/// the registry keeps at most ~512 KiB after a burst of tasks is gone.
const SHRINK_ABOVE: usize = 128;

/// How many tasks ahead `for_each` prefetches a header: enough to cover a miss (~100 ns)
/// with the ~100 ns a snapshot spends per task.
const PREFETCH_AHEAD: usize = 12;

impl<S: Schedule> Registry<S> {
    pub(crate) fn new(min_shards: usize) -> Registry<S> {
        let count = min_shards.max(4).next_power_of_two();
        Registry {
            shards: (0..count)
                .map(|_| {
                    Mutex::new(Shard {
                        tasks: Slab::new(),
                        spawned: 0,
                        completed: 0,
                    })
                })
                .collect(),
            mask: count - 1,
            closed: AtomicBool::new(false),
        }
    }

    fn shard(&self, task: &Task<S>) -> &Mutex<Shard<S>> {
        &self.shards[task.id().as_u64() as usize & self.mask]
    }

    /// Adds a freshly spawned task. If the registry is closed the task is shut down at once
    /// and `None` is returned (its `JoinHandle` then reports cancellation).
    pub(crate) fn bind(&self, task: Task<S>, notified: Notified<S>) -> Option<Notified<S>> {
        let mut shard = lock(self.shard(&task));
        if self.closed.load(Acquire) {
            drop(shard);
            drop(notified);
            task.shutdown();
            return None;
        }
        let key = shard.tasks.vacant_key();
        task.set_registry_key(key);
        shard.tasks.insert(task);
        shard.spawned += 1;
        Some(notified)
    }

    /// Removes a completed task, returning the registry's reference.
    pub(crate) fn remove(&self, task: &Task<S>) -> Option<Task<S>> {
        let mut shard = lock(self.shard(task));
        let key = task.registry_key();
        match shard.tasks.get(key) {
            Some(held) if held.ptr_eq(task) => {}
            _ => return None,
        }
        let removed = shard.tasks.remove(key);
        shard.completed += 1;
        if shard.tasks.is_empty() && shard.tasks.capacity() > SHRINK_ABOVE {
            shard.tasks = Slab::new();
        }
        Some(removed)
    }

    /// Closes the registry and takes every task out of it.
    pub(crate) fn close_and_drain(&self) -> Vec<Task<S>> {
        self.closed.store(true, Release);
        let mut tasks = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = lock(shard);
            tasks.extend(shard.tasks.drain());
        }
        tasks
    }

    /// About how many tasks are alive (each shard's count, read one lock at a time).
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| lock(shard).tasks.len())
            .sum()
    }

    /// Visits every live task, one shard lock at a time. Returns the (spawned, completed)
    /// totals, read shard by shard with the tasks.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Task<S>)) -> (u64, u64) {
        let (mut spawned, mut completed) = (0, 0);
        for shard in self.shards.iter() {
            let shard = lock(shard);
            // Each header is a likely cache miss: ask for the one a few tasks ahead.
            let mut ahead = shard.tasks.iter().skip(PREFETCH_AHEAD);
            for (_, task) in shard.tasks.iter() {
                if let Some((_, next)) = ahead.next() {
                    next.raw.prefetch_header();
                }
                f(task);
            }
            spawned += shard.spawned;
            completed += shard.completed;
        }
        (spawned, completed)
    }
}
