//! The grouped text format (`?debug=1`, `Display for Profile`).

use super::{Profile, TaskSnapshot, TaskState};
use std::collections::HashMap;
use std::fmt;
use std::panic::Location;
use std::time::Duration;

/// Tasks that look the same in a dump: same state, reason, park site and spawn site.
#[derive(PartialEq, Eq, Hash)]
struct GroupKey {
    state: TaskState,
    /// `ParkReason::code`: decoding a label reads the global label table.
    reason: Option<u16>,
    park_site: Option<SiteKey>,
    spawn_site: SiteKey,
}

/// A `Location` compared by value, so equal sites from different codegen units group.
#[derive(PartialEq, Eq, Hash)]
struct SiteKey(&'static str, u32, u32);

impl SiteKey {
    fn new(site: &'static Location<'static>) -> SiteKey {
        SiteKey(site.file(), site.line(), site.column())
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "task profile: total {}", self.tasks.len())?;
        for group in self.groups() {
            write!(f, "\n{group}")?;
        }
        Ok(())
    }
}

/// Tasks that look the same in the grouped dump (`?debug=1`, `Display for Profile`): the
/// same state, park reason, park site and spawn site. [`Profile::groups`] makes them from a
/// profile, [`group_tasks`] from any set of its tasks (the leak dump groups its proven and
/// suspected leaks apart).
///
/// `Display` writes the group as the dump does: a heading line, a `select`'s cases, then
/// `#\tparked at` and `#\tspawned at` lines.
#[derive(Debug, Clone, Copy)]
pub struct TaskGroup<'a> {
    count: usize,
    first: &'a TaskSnapshot,
    longest: u64,
}

impl<'a> TaskGroup<'a> {
    /// How many tasks the group holds.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The group's first task in the order the tasks were given (registry order, for
    /// [`Profile::groups`]): its sites, reason and state are the
    /// group's.
    pub fn task(&self) -> &'a TaskSnapshot {
        self.first
    }

    /// The longest park among the group's tasks (zero for tasks not parked).
    pub fn longest_park(&self) -> Duration {
        Duration::from_nanos(self.longest)
    }

    /// The group as the dump writes it, with `note` as one more `#\t` line after the
    /// heading and the cases (the leak dump says there why the tasks leak).
    pub fn with_note<'b>(&'b self, note: &'b str) -> impl fmt::Display + 'b {
        Noted { group: self, note }
    }

    fn write(&self, f: &mut fmt::Formatter<'_>, note: Option<&str>) -> fmt::Result {
        let (count, task) = (self.count, self.first);
        match task.park() {
            Some(park) => {
                writeln!(f, "{} @ [{}] {}", count, park.reason(), park.site)?;
                for case in park.cases() {
                    writeln!(f, "#\tcase        [{}] {}", case.reason, case.site)?;
                }
            }
            None => {
                let state = match task.state() {
                    TaskState::Running => "running",
                    TaskState::Runnable => "runnable",
                    TaskState::Parked => "parked",
                };
                writeln!(f, "{count} @ [{state}] {}", task.spawn_site)?;
            }
        }
        if let Some(note) = note {
            writeln!(f, "#\t{note}")?;
        }
        if let Some(park) = task.park() {
            writeln!(f, "#\tparked at   {}", park.site)?;
        }
        writeln!(
            f,
            "#\tspawned at  {}   {}",
            task.spawn_site,
            task.future_type()
        )
    }
}

impl fmt::Display for TaskGroup<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, None)
    }
}

struct Noted<'b, 'a> {
    group: &'b TaskGroup<'a>,
    note: &'b str,
}

impl fmt::Display for Noted<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.group.write(f, Some(self.note))
    }
}

impl Profile {
    /// The tasks grouped as the grouped dump shows them, in its order: largest first, then
    /// by park site and spawn site.
    pub fn groups(&self) -> Vec<TaskGroup<'_>> {
        group_tasks(&self.tasks)
    }
}

/// `tasks` grouped as the grouped dump groups a profile's tasks (see [`TaskGroup`]), in its
/// order: largest first, then by park site and spawn site.
///
/// A million tasks fall into a few groups, so the walk keys them by what it can hash in a few
/// instructions (the sites' addresses), and only the few distinct keys are then merged by
/// value: hashing every task's file name took most of a grouped dump's time.
pub fn group_tasks<'a>(tasks: impl IntoIterator<Item = &'a TaskSnapshot>) -> Vec<TaskGroup<'a>> {
    // Each group with the position of its first task, so that the merged group's first is
    // the first in `tasks`' order, whichever part the map yields first.
    let mut by_address: HashMap<AddressKey, (usize, TaskGroup<'a>), BuildAddressHasher> =
        HashMap::default();
    for (position, task) in tasks.into_iter().enumerate() {
        let park = task.park();
        let key = AddressKey {
            state: task.state(),
            reason: park.map(|p| p.reason),
            park_site: park.map(|p| std::ptr::from_ref(p.site) as usize),
            spawn_site: std::ptr::from_ref(task.spawn_site) as usize,
        };
        let (_, group) = by_address.entry(key).or_insert((
            position,
            TaskGroup {
                count: 0,
                first: task,
                longest: 0,
            },
        ));
        group.count += 1;
        group.longest = group.longest.max(park.map_or(0, |p| p.duration_ns));
    }
    let mut by_value: HashMap<GroupKey, (usize, TaskGroup<'a>)> = HashMap::new();
    for (position, part) in by_address.into_values() {
        let park = part.first.park();
        let key = GroupKey {
            state: part.first.state(),
            reason: park.map(|p| p.reason),
            park_site: park.map(|p| SiteKey::new(p.site)),
            spawn_site: SiteKey::new(part.first.spawn_site),
        };
        let (first, group) = by_value
            .entry(key)
            .or_insert((position, TaskGroup { count: 0, ..part }));
        group.count += part.count;
        group.longest = group.longest.max(part.longest);
        if position < *first {
            (*first, group.first) = (position, part.first);
        }
    }
    let mut groups: Vec<TaskGroup<'a>> = by_value.into_values().map(|(_, group)| group).collect();
    groups.sort_by_key(|group| {
        let first = group.first;
        let site = first.park().map(|p| p.site).unwrap_or(first.spawn_site);
        let spawn = first.spawn_site;
        (
            std::cmp::Reverse(group.count),
            (site.file(), site.line(), site.column()),
            (spawn.file(), spawn.line(), spawn.column()),
        )
    });
    groups
}

/// A group's key as addresses: equal addresses are equal sites (the converse need not hold).
#[derive(PartialEq, Eq, Hash)]
struct AddressKey {
    state: TaskState,
    reason: Option<u16>,
    park_site: Option<usize>,
    spawn_site: usize,
}

/// FxHash's multiply-and-rotate, for keys of a few machine words whose values are addresses
/// and small codes (no attacker chooses them, so SipHash's protection buys nothing here).
#[derive(Default)]
struct AddressHasher(u64);

impl std::hash::Hasher for AddressHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_usize(&mut self, word: usize) {
        self.write_u64(word as u64);
    }

    fn write_u16(&mut self, word: u16) {
        self.write_u64(u64::from(word));
    }

    fn write_u8(&mut self, word: u8) {
        self.write_u64(u64::from(word));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type BuildAddressHasher = std::hash::BuildHasherDefault<AddressHasher>;
