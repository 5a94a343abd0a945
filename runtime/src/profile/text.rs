//! The grouped text format (`?debug=1`, `Display for Profile`).

use super::{Profile, TaskSnapshot, TaskState};
use std::collections::HashMap;
use std::fmt;
use std::panic::Location;

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
        let mut groups: HashMap<GroupKey, Vec<&TaskSnapshot>> = HashMap::new();
        for task in &self.tasks {
            let park = task.park();
            let key = GroupKey {
                state: task.state,
                reason: park.map(|p| p.reason),
                park_site: park.map(|p| SiteKey::new(p.site)),
                spawn_site: SiteKey::new(task.spawn_site),
            };
            groups.entry(key).or_default().push(task);
        }
        let mut groups: Vec<Vec<&TaskSnapshot>> = groups.into_values().collect();
        groups.sort_by_cached_key(|tasks| {
            let first = tasks[0];
            let site = first.park().map(|p| p.site).unwrap_or(first.spawn_site);
            (
                std::cmp::Reverse(tasks.len()),
                site.file(),
                site.line(),
                site.column(),
                first.spawn_site.to_string(),
            )
        });
        for tasks in groups {
            write_group(f, &tasks)?;
        }
        Ok(())
    }
}

fn write_group(f: &mut fmt::Formatter<'_>, tasks: &[&TaskSnapshot]) -> fmt::Result {
    let task = tasks[0];
    writeln!(f)?;
    match task.park() {
        Some(park) => {
            writeln!(f, "{} @ [{}] {}", tasks.len(), park.reason(), park.site)?;
            for case in park.cases() {
                writeln!(f, "#\tcase        [{}] {}", case.reason, case.site)?;
            }
            writeln!(f, "#\tparked at   {}", park.site)?;
        }
        None => {
            let state = match task.state {
                TaskState::Running => "running",
                TaskState::Runnable => "runnable",
                TaskState::Parked => "parked",
            };
            writeln!(f, "{} @ [{state}] {}", tasks.len(), task.spawn_site)?;
        }
    }
    writeln!(
        f,
        "#\tspawned at  {}   {}",
        task.spawn_site,
        task.future_type()
    )
}
