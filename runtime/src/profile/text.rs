//! The text formats: grouped (`?debug=1`, `Display for Profile`) and per task (`?debug=2`,
//! `Display for TaskSnapshot`), and the durations they print.

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

impl GroupKey {
    /// The group `task` falls in, compared by value.
    fn of(task: &TaskSnapshot) -> GroupKey {
        let park = task.park();
        GroupKey {
            state: task.state(),
            reason: park.map(|p| p.reason),
            park_site: park.map(|p| SiteKey::new(p.site)),
            spawn_site: SiteKey::new(task.spawn_site),
        }
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

    /// True if `task` belongs in this group: the same state, reason, park site and spawn
    /// site (compared by value), as the grouping decided.
    pub fn contains(&self, task: &TaskSnapshot) -> bool {
        GroupKey::of(task) == GroupKey::of(self.first)
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
            None => writeln!(f, "{count} @ [{}] {}", task.state(), task.spawn_site)?,
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

impl TaskState {
    /// The lower-case name dumps and labels spell: `running`, `runnable`, `parked`.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Running => "running",
            TaskState::Runnable => "runnable",
            TaskState::Parked => "parked",
        }
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One task in Go's traceback shape (`?debug=2`, a leak report), ending with a newline: a
/// header with the id, the name, and the park's reason and duration (or the state), the park
/// site and a `select`'s cases in source order, the future's type, and the spawn site.
/// (The indented lines start with a tab.)
///
/// ```text
/// task 18 "handler" [chan send, 5m12s]:
///     parked at src/handler.rs:44:24
///     future app::handler::{{closure}}
/// created by task 7 at src/server.rs:42:5
///
/// task 21 [mutex lock, 3s]:
///     parked at src/cache.rs:17:30
///     held by task 9
///     future app::refresh::{{closure}}
/// created at src/main.rs:12:5
///
/// task 12 [running, 2.3s in poll]:
///     on worker 1
///     future app::reindex::{{closure}}
/// created at src/index.rs:88:5
/// ```
impl fmt::Display for TaskSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {}", self.id())?;
        if let Some(name) = self.name() {
            write!(f, " {name:?}")?;
        }
        match self.park() {
            Some(park) => {
                writeln!(
                    f,
                    " [{:#}, {}]:",
                    park.reason(),
                    format_duration(park.duration())
                )?;
                writeln!(f, "\tparked at {}", park.site())?;
                // `select!` polls its cases from a random start: source order keeps dumps diffable.
                let mut cases: Vec<_> = park.cases().iter().collect();
                cases.sort_by_key(|c| (c.site.file(), c.site.line(), c.site.column()));
                for case in cases {
                    writeln!(f, "\tcase [{:#}] {}", case.reason, case.site)?;
                }
                match park.blocked_by() {
                    [] => {}
                    [holder] => writeln!(f, "\theld by task {holder}")?,
                    holders => {
                        let ids: Vec<String> = holders.iter().map(ToString::to_string).collect();
                        writeln!(f, "\theld by tasks {}", ids.join(", "))?;
                    }
                }
            }
            None => match self.poll_duration() {
                Some(in_poll) => writeln!(f, " [running, {} in poll]:", format_duration(in_poll))?,
                None => writeln!(f, " [{}]:", self.state())?,
            },
        }
        if let Some(worker) = self.worker() {
            writeln!(f, "\ton worker {worker}")?;
        }
        writeln!(f, "\tfuture {}", self.future_type())?;
        match self.parent() {
            Some(parent) => writeln!(f, "created by task {parent} at {}", self.spawn_site()),
            None => writeln!(f, "created at {}", self.spawn_site()),
        }
    }
}

/// A short human-readable duration, Go-like: at most two units, truncated (never rounded
/// up, so a park of 59.99 s reads `59.9s`, not `60.0s`).
///
/// | range | shape | example |
/// |---|---|---|
/// | 0 | `0s` | `0s` |
/// | < 1 µs | whole nanoseconds | `412ns` |
/// | < 1 ms | whole microseconds | `412µs` |
/// | < 1 s | whole milliseconds | `850ms` |
/// | < 1 min | seconds with one decimal, `.0` dropped | `12.3s`, `7s` |
/// | < 1 h | minutes and whole seconds | `5m12s`, `5m0s` |
/// | ≥ 1 h | hours and whole minutes | `2h3m`, `49h0m` |
///
/// # Examples
///
/// ```
/// use runtime::time::format_duration;
/// use std::time::Duration;
///
/// assert_eq!(format_duration(Duration::from_millis(850)), "850ms");
/// assert_eq!(format_duration(Duration::from_millis(12_345)), "12.3s");
/// assert_eq!(format_duration(Duration::from_secs(312)), "5m12s");
/// assert_eq!(format_duration(Duration::from_secs(7380)), "2h3m");
/// assert_eq!(format_duration(Duration::from_micros(412)), "412µs");
/// ```
pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if d.is_zero() {
        "0s".to_string()
    } else if d < Duration::from_micros(1) {
        format!("{}ns", d.subsec_nanos())
    } else if d < Duration::from_millis(1) {
        format!("{}µs", d.subsec_micros())
    } else if d < Duration::from_secs(1) {
        format!("{}ms", d.subsec_millis())
    } else if secs < 60 {
        match d.subsec_millis() / 100 {
            0 => format!("{secs}s"),
            tenths => format!("{secs}.{tenths}s"),
        }
    } else if secs < 3600 {
        format!("{}m{}s", secs / 60, secs % 60)
    } else {
        format!("{}h{}m", secs / 3600, secs % 3600 / 60)
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
        let key = GroupKey::of(part.first);
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

#[cfg(test)]
mod tests {
    use super::format_duration;
    use std::time::Duration;

    #[test]
    fn format_duration_follows_its_table() {
        let cases = [
            (Duration::ZERO, "0s"),
            (Duration::from_nanos(1), "1ns"),
            (Duration::from_nanos(999), "999ns"),
            (Duration::from_nanos(1_000), "1µs"),
            (Duration::from_nanos(412_900), "412µs"),
            (Duration::from_nanos(999_999), "999µs"),
            (Duration::from_millis(1), "1ms"),
            (Duration::from_micros(850_999), "850ms"),
            (Duration::from_nanos(999_999_999), "999ms"),
            (Duration::from_secs(1), "1s"),
            (Duration::from_millis(1_099), "1s"),
            (Duration::from_millis(1_100), "1.1s"),
            (Duration::from_millis(12_345), "12.3s"),
            (Duration::from_millis(59_999), "59.9s"),
            (Duration::from_secs(60), "1m0s"),
            (Duration::from_millis(312_999), "5m12s"),
            (Duration::from_secs(3599), "59m59s"),
            (Duration::from_secs(3600), "1h0m"),
            (Duration::from_secs(7380), "2h3m"),
            (Duration::from_secs(7439), "2h3m"),
            (Duration::from_secs(49 * 3600 + 59), "49h0m"),
        ];
        for (d, want) in cases {
            assert_eq!(format_duration(d), want, "{d:?}");
        }
    }
}
