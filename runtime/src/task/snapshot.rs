//! Reading a task's header for a profile.

use super::{Schedule, Task};
use crate::loom::atomic::Ordering::Relaxed;
use crate::park::{self, ParkReason};
use crate::profile::{Counter, Park, ParkCase, Rare, TaskSnapshot, TaskState};

/// The profile's state of a task whose state word is `state`.
fn task_state(state: super::state::Snapshot) -> TaskState {
    if state.is_running() {
        TaskState::Running
    } else if state.is_notified() || state.is_complete() {
        // A complete task still in the registry is finishing its completion on a worker.
        TaskState::Runnable
    } else {
        TaskState::Parked
    }
}

/// How many references to a task with state word `state` can wake it: all but the
/// registry's, the join handle's, and a queued `Notified` or the running poll's.
fn wakers(state: super::state::Snapshot) -> usize {
    let not_wakers = 1
        + usize::from(state.is_join_interested())
        + usize::from(state.is_notified() || state.is_running());
    state.ref_count().saturating_sub(not_wakers)
}

impl<S: Schedule> Task<S> {
    /// Counts the task into `counter`: its state, and if it is parked, its park's reason,
    /// whether any waker of it exists and when the park began. Three loads from the header's
    /// first words instead of a snapshot.
    pub(crate) fn count_into(&self, counter: &mut Counter) {
        let header = self.raw.header();
        let state = header.state.load();
        match task_state(state) {
            TaskState::Parked => counter.add_parked(
                header.record.code(),
                wakers(state) == 0,
                header.record.since(),
            ),
            other => counter.add(other),
        }
    }

    /// A copy of what the header says now. `now` is the park clock at the snapshot's start.
    /// Inlined into the registry walk, so the copy is built in the profile's buffer; a task
    /// with a name or a `select` park takes `snapshot_rare` instead.
    #[inline]
    pub(crate) fn snapshot(&self, now: u64) -> TaskSnapshot {
        let header = self.raw.header();
        // A poll that starts or ends while the record is read would pair the state with
        // another park: retry while the state or the poll count moves (see `park::stable`).
        let (_, (state, park)) = park::stable(
            &header.polls,
            || header.state.load().profile_bits(),
            || (header.state.load(), header.record.read()),
        );
        // (A `select` park is checked too: its cases may be newer than a `has_rare` read.)
        if header.meta.name.is_some()
            || header.record.has_cases()
            || park.is_some_and(|raw| raw.code == ParkReason::Select.code())
        {
            return self.snapshot_rare(now);
        }
        self.snapshot_of(now, state, park, None)
    }

    #[cold]
    #[inline(never)]
    fn snapshot_rare(&self, now: u64) -> TaskSnapshot {
        let header = self.raw.header();
        let record = &header.record;
        let (_, (state, (park, cases))) = park::stable(
            &header.polls,
            || header.state.load().profile_bits(),
            || (header.state.load(), record.read_with_cases()),
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
        let name = header.meta.name.as_deref().cloned();
        let rare = (name.is_some() || !cases.is_empty()).then(|| Box::new(Rare { name, cases }));
        self.snapshot_of(now, state, park, rare)
    }

    /// The snapshot of a task read as `state` with record `park`.
    #[inline]
    fn snapshot_of(
        &self,
        now: u64,
        raw_state: super::state::Snapshot,
        park: Option<park::RawPark>,
        rare: Option<Box<Rare>>,
    ) -> TaskSnapshot {
        let header = self.raw.header();
        let meta = &header.meta;
        let state = task_state(raw_state);
        let park = park.filter(|_| state == TaskState::Parked);
        TaskSnapshot {
            id: meta.id,
            spawn_site: meta.spawn_site,
            future_type: header.vtable.future_type,
            parent: meta.parent,
            park: Park {
                site: park.and_then(|raw| raw.site).unwrap_or(meta.spawn_site),
                duration_ns: park.map_or(0, |raw| now.saturating_sub(raw.since)),
                rare,
                wakers: u32::try_from(wakers(raw_state)).unwrap_or(u32::MAX),
                reason: park.map_or(0, |raw| raw.code),
                state,
            },
            polls: header.polls.load(Relaxed),
        }
    }
}
