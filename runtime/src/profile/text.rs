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
        let mut groups = group(&self.tasks);
        groups.sort_by_cached_key(|&(count, first)| {
            let site = first.park().map(|p| p.site).unwrap_or(first.spawn_site);
            (
                std::cmp::Reverse(count),
                site.file(),
                site.line(),
                site.column(),
                first.spawn_site.to_string(),
            )
        });
        for (count, first) in groups {
            write_group(f, count, first)?;
        }
        Ok(())
    }
}

/// The groups of `tasks`: each one's size and first task.
///
/// A million tasks fall into a few groups, so the walk keys them by what it can hash in a few
/// instructions (the sites' addresses), and only the few distinct keys are then merged by
/// value: hashing every task's file name took most of a grouped dump's time.
fn group(tasks: &[TaskSnapshot]) -> Vec<(usize, &TaskSnapshot)> {
    let mut by_address: HashMap<AddressKey, (usize, &TaskSnapshot), BuildAddressHasher> =
        HashMap::default();
    for task in tasks {
        let park = task.park();
        let key = AddressKey {
            state: task.state(),
            reason: park.map(|p| p.reason),
            park_site: park.map(|p| std::ptr::from_ref(p.site) as usize),
            spawn_site: std::ptr::from_ref(task.spawn_site) as usize,
        };
        by_address.entry(key).or_insert((0, task)).0 += 1;
    }
    let mut by_value: HashMap<GroupKey, (usize, &TaskSnapshot)> = HashMap::new();
    for (count, first) in by_address.into_values() {
        let park = first.park();
        let key = GroupKey {
            state: first.state(),
            reason: park.map(|p| p.reason),
            park_site: park.map(|p| SiteKey::new(p.site)),
            spawn_site: SiteKey::new(first.spawn_site),
        };
        by_value.entry(key).or_insert((0, first)).0 += count;
    }
    by_value.into_values().collect()
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

fn write_group(f: &mut fmt::Formatter<'_>, count: usize, task: &TaskSnapshot) -> fmt::Result {
    writeln!(f)?;
    match task.park() {
        Some(park) => {
            writeln!(f, "{} @ [{}] {}", count, park.reason(), park.site)?;
            for case in park.cases() {
                writeln!(f, "#\tcase        [{}] {}", case.reason, case.site)?;
            }
            writeln!(f, "#\tparked at   {}", park.site)?;
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
    writeln!(
        f,
        "#\tspawned at  {}   {}",
        task.spawn_site,
        task.future_type()
    )
}
