//! The sharded registry of a runtime's live tasks: what a snapshot walks and what shutdown
//! cancels. It holds one reference to each task from spawn until completion.

use super::{Notified, Schedule, Task};
use crate::loom::atomic::{AtomicBool, Ordering::*};
use crate::loom::{lock, Mutex};
use slab::Slab;

pub(crate) struct Registry<S: 'static> {
    /// A power of two, so a task's shard is `id & mask`.
    shards: Box<[Mutex<Slab<Task<S>>>]>,
    mask: usize,
    /// Set once at shutdown, under every shard's lock: no task may be added after.
    closed: AtomicBool,
}

/// Slabs this large keep their memory when emptied only if they are still in use.
const SHRINK_ABOVE: usize = 1024;

impl<S: Schedule> Registry<S> {
    pub(crate) fn new(min_shards: usize) -> Registry<S> {
        let count = min_shards.max(4).next_power_of_two();
        Registry {
            shards: (0..count).map(|_| Mutex::new(Slab::new())).collect(),
            mask: count - 1,
            closed: AtomicBool::new(false),
        }
    }

    fn shard(&self, task: &Task<S>) -> &Mutex<Slab<Task<S>>> {
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
        let key = shard.vacant_key();
        task.set_registry_key(key);
        shard.insert(task);
        Some(notified)
    }

    /// Removes a completed task, returning the registry's reference.
    pub(crate) fn remove(&self, task: &Task<S>) -> Option<Task<S>> {
        let mut shard = lock(self.shard(task));
        let key = task.registry_key();
        match shard.get(key) {
            Some(held) if held.ptr_eq(task) => {}
            _ => return None,
        }
        let removed = shard.remove(key);
        if shard.is_empty() && shard.capacity() > SHRINK_ABOVE {
            *shard = Slab::new();
        }
        Some(removed)
    }

    /// Closes the registry and takes every task out of it.
    pub(crate) fn close_and_drain(&self) -> Vec<Task<S>> {
        self.closed.store(true, Release);
        let mut tasks = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = lock(shard);
            tasks.extend(shard.drain());
        }
        tasks
    }

    /// Visits every live task, one shard lock at a time.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Task<S>)) {
        for shard in self.shards.iter() {
            let shard = lock(shard);
            for (_, task) in shard.iter() {
                f(task);
            }
        }
    }
}
