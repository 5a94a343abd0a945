//! Reading a task for a profile, through the task's one narrow view ([`TaskView`]): a
//! snapshot (`TaskSnapshot`) or a count (`Counter`).

use super::{Counter, Park, ParkCase, Rare, TaskSnapshot, TaskState};
use crate::loom::atomic::Ordering::Relaxed;
use crate::park::{self, ParkReason, RawPark};
use crate::task_core::{StateWord, TaskId, TaskView};

/// The profile's state of a task whose state word is `state`.
#[inline]
fn task_state(state: StateWord) -> TaskState {
    if state.is_running() {
        TaskState::Running
    } else if state.is_runnable() {
        // A complete task still in the registry is finishing its completion on a worker.
        TaskState::Runnable
    } else {
        TaskState::Parked
    }
}

/// Counts `task` into `counter`: its state, and if it is parked, its park's reason, whether
/// any waker of it exists and when the park began. Three loads from the header's first words
/// instead of a snapshot.
#[inline]
pub(crate) fn count(task: TaskView<'_>, counter: &mut Counter) {
    let state = task.state();
    match task_state(state) {
        TaskState::Parked => counter.add_parked(
            task.record().code(),
            state.wakers() == 0,
            task.record().since(),
        ),
        other => counter.add(other),
    }
}

/// A copy of what `task`'s header says now. `now` is the park clock at the snapshot's start.
/// Inlined into the registry walk, so the copy is built in the profile's buffer; a task with
/// a name or a `select` park takes `snapshot_rare` instead.
#[inline]
pub(crate) fn snapshot(task: TaskView<'_>, now: u64) -> TaskSnapshot {
    // A poll that starts or ends while the record is read would pair the state with another
    // park: retry while the state or the poll count moves (see `park::stable`).
    let (_, (state, park)) = park::stable(
        task.polls(),
        || task.state().profile_bits(),
        || (task.state(), task.record().read()),
    );
    // (A `select` park is checked too: its cases may be newer than a `has_cases` read; and a
    // lock or join park, which keeps what it waits on in that buffer.)
    if task.meta().name.is_some()
        || task.record().has_cases()
        || park.is_some_and(|raw| {
            raw.code == ParkReason::Select.code() || park::is_blocked_by_reason(raw.code)
        })
    {
        return snapshot_rare(task, now);
    }
    snapshot_of(task, now, state, park, None)
}

#[cold]
#[inline(never)]
fn snapshot_rare(task: TaskView<'_>, now: u64) -> TaskSnapshot {
    let (_, (state, (park, cases, blocked_on))) = park::stable(
        task.polls(),
        || task.state().profile_bits(),
        || (task.state(), task.record().read_with_cases()),
    );
    let parked = task_state(state) == TaskState::Parked;
    // `select!` polls from a random start: list cases in source order.
    let mut cases: Vec<ParkCase> = match parked {
        true => cases
            .into_iter()
            .map(|(reason, site)| ParkCase { reason, site })
            .collect(),
        false => Vec::new(),
    };
    cases.sort_by_key(|c| (c.site.file(), c.site.line(), c.site.column()));
    let name = task.meta().name.as_deref().cloned();
    let mut holders = Vec::new();
    if parked {
        park::holder::holders(blocked_on, &mut holders);
    }
    let blocked_by: Vec<TaskId> = holders.into_iter().filter_map(TaskId::from_u64).collect();
    let rare = (name.is_some() || !cases.is_empty() || !blocked_by.is_empty()).then(|| {
        Box::new(Rare {
            name,
            cases,
            blocked_by,
        })
    });
    snapshot_of(task, now, state, park, rare)
}

/// The snapshot of `task` read as `state` with record `park`.
#[inline]
fn snapshot_of(
    task: TaskView<'_>,
    now: u64,
    raw_state: StateWord,
    park: Option<RawPark>,
    rare: Option<Box<Rare>>,
) -> TaskSnapshot {
    let meta = task.meta();
    let state = task_state(raw_state);
    let park = park.filter(|_| state == TaskState::Parked);
    TaskSnapshot {
        id: meta.id,
        spawn_site: meta.spawn_site,
        future_type: task.future_type(),
        parent: meta.parent,
        park: Park {
            site: park.and_then(|raw| raw.site).unwrap_or(meta.spawn_site),
            duration_ns: park.map_or(0, |raw| now.saturating_sub(raw.since)),
            rare,
            wakers: u32::try_from(raw_state.wakers()).unwrap_or(u32::MAX),
            reason: park.map_or(0, |raw| raw.code),
            state,
        },
        polls: task.polls().load(Relaxed),
    }
}
