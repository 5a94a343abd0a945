//! Deadlocks: cycles of `Park::blocked_by`. A task parked on a lock or a join waits for the
//! tasks that `blocked_by` names; if following those edges from a task leads back to it, every
//! task on the way waits, directly or not, for itself, and none can ever run again. Locks and
//! joins wait for all of what they name (a writer for every reader), so any cycle is one.
//!
//! A wait whose holder is parked on something else (a timer, I/O, a channel) has no edge out
//! of the holder, so it is never part of a cycle: a long but live wait is not a deadlock.
//!
//! A `Semaphore` wait is left out: its waiter needs *any* holder to let go, not all, and a
//! holder may be one the record cannot name (a fifth, or one outside any task), so a cycle
//! through it proves nothing.

use super::{Profile, TaskSnapshot, TaskState};
use crate::park::ParkReason;
use crate::task_core::TaskId;
use std::collections::HashMap;
use std::fmt;

/// Tasks that each wait for what the next one holds, the last for what the first holds: none
/// of them can run again. [`Profile::deadlocks`] finds them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Deadlock {
    /// In wait order, starting at the lowest id: `tasks[i]` waits for `tasks[i + 1]`.
    tasks: Vec<TaskId>,
}

impl Deadlock {
    /// The tasks of the cycle in wait order (each waits for the next, the last for the
    /// first), starting at the lowest id. One task waiting for itself (a read guard's holder
    /// asking for the write lock) is a cycle of one.
    pub fn tasks(&self) -> &[TaskId] {
        &self.tasks
    }

    /// True if task `id` is on the cycle.
    pub fn contains(&self, id: TaskId) -> bool {
        self.tasks.contains(&id)
    }
}

/// `deadlock: task 3 → task 5 → task 3`.
impl fmt::Display for Deadlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadlock:")?;
        let mut first = true;
        for id in self.tasks.iter().chain(self.tasks.first()) {
            match first {
                true => write!(f, " task {id}")?,
                false => write!(f, " → task {id}")?,
            }
            first = false;
        }
        Ok(())
    }
}

impl Profile {
    /// The deadlocks among this profile's tasks: cycles of parked tasks each waiting (on a
    /// `Mutex`, an `RwLock` or a `JoinHandle`) for what the next holds. Each cycle is given
    /// once, in order of its lowest task id.
    ///
    /// A snapshot reads tasks one after another, not at one instant; a cycle it shows is
    /// checked against the tasks' poll counts by [`Deadlock::confirmed_by`] on a later
    /// profile before anything calls it proven (`LeakCheck` and the profiler's `leaks` do).
    pub fn deadlocks(&self) -> Vec<Deadlock> {
        find(self.tasks.iter())
    }
}

impl Deadlock {
    /// True if `later` shows the same cycle with none of its tasks polled since `earlier`:
    /// then the cycle existed at once, not only across the moments `earlier` read its
    /// tasks, and it still does.
    pub fn confirmed_by(&self, earlier: &Profile, later: &Profile) -> bool {
        self.tasks.iter().all(|&id| {
            let (Some(a), Some(b)) = (earlier.task(id), later.task(id)) else {
                return false;
            };
            a.polls() == b.polls()
                && b.state() == TaskState::Parked
                && b.park().map(|p| p.blocked_by()) == a.park().map(|p| p.blocked_by())
        }) && later.deadlocks().contains(self)
    }
}

/// The cycles among `tasks`' `blocked_by` edges (Tarjan's strongly connected components,
/// then one cycle through each component's lowest id).
fn find<'a>(tasks: impl Iterator<Item = &'a TaskSnapshot>) -> Vec<Deadlock> {
    // Nodes: parked tasks waiting on someone. An edge to a task that is not a node (running,
    // or parked on a timer, I/O, a channel) cannot be on a cycle.
    // (`blocked_by` first: it is one pointer test, where decoding a reason may read the label
    // table, and a million tasks pass through here.)
    let waits: HashMap<TaskId, &[TaskId]> = tasks
        .filter(|t| t.state() == TaskState::Parked)
        .filter_map(|t| t.park().map(|park| (t.id(), park)))
        .filter(|(_, park)| !park.blocked_by().is_empty())
        .filter(|(_, park)| park.reason() != ParkReason::SemaphoreAcquire)
        .map(|(id, park)| (id, park.blocked_by()))
        .collect();
    let edges = |id: TaskId| {
        waits
            .get(&id)
            .into_iter()
            .flat_map(|holders| holders.iter().copied())
            .filter(|holder| waits.contains_key(holder))
    };
    let mut ids: Vec<TaskId> = waits.keys().copied().collect();
    ids.sort();

    // Tarjan, iteratively.
    let mut index: HashMap<TaskId, (usize, usize)> = HashMap::new(); // (index, lowlink)
    let mut on_stack: Vec<TaskId> = Vec::new();
    let mut components: Vec<Vec<TaskId>> = Vec::new();
    let mut next = 0;
    for &root in &ids {
        if index.contains_key(&root) {
            continue;
        }
        let mut frames: Vec<(TaskId, Vec<TaskId>)> = vec![(root, edges(root).collect())];
        index.insert(root, (next, next));
        next += 1;
        on_stack.push(root);
        while let Some((node, pending)) = frames.last_mut() {
            let node = *node;
            if let Some(to) = pending.pop() {
                match index.get(&to) {
                    None => {
                        index.insert(to, (next, next));
                        next += 1;
                        on_stack.push(to);
                        frames.push((to, edges(to).collect()));
                    }
                    Some(&(to_index, _)) if on_stack.contains(&to) => {
                        let low = &mut index.get_mut(&node).expect("visited").1;
                        *low = (*low).min(to_index);
                    }
                    Some(_) => {}
                }
                continue;
            }
            frames.pop();
            let (node_index, node_low) = index[&node];
            if let Some((parent, _)) = frames.last() {
                let low = &mut index.get_mut(parent).expect("visited").1;
                *low = (*low).min(node_low);
            }
            if node_low == node_index {
                let at = on_stack
                    .iter()
                    .rposition(|&id| id == node)
                    .expect("on stack");
                components.push(on_stack.split_off(at));
            }
        }
    }

    let mut deadlocks: Vec<Deadlock> = components
        .into_iter()
        .filter_map(|component| {
            let start = *component.iter().min()?;
            let self_loop = edges(start).any(|to| to == start);
            if component.len() == 1 && !self_loop {
                return None;
            }
            Some(Deadlock {
                tasks: cycle_through(start, &component, &edges),
            })
        })
        .collect();
    deadlocks.sort_by_key(|d| d.tasks[0]);
    deadlocks
}

/// The shortest cycle from `start` back to it within `component` (breadth first).
fn cycle_through<I: Iterator<Item = TaskId>>(
    start: TaskId,
    component: &[TaskId],
    edges: &impl Fn(TaskId) -> I,
) -> Vec<TaskId> {
    let mut came_from: HashMap<TaskId, TaskId> = HashMap::new();
    let mut frontier = vec![start];
    while !frontier.is_empty() {
        let mut next = Vec::new();
        for node in frontier {
            for to in edges(node).filter(|to| component.contains(to)) {
                if to == start {
                    let mut path = vec![node];
                    while let Some(&before) = came_from.get(path.last().expect("non-empty")) {
                        path.push(before);
                    }
                    path.reverse();
                    return path;
                }
                if let std::collections::hash_map::Entry::Vacant(entry) = came_from.entry(to) {
                    entry.insert(node);
                    next.push(to);
                }
            }
        }
        frontier = next;
    }
    vec![start]
}
