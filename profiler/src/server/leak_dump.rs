//! The text dumps of `/debug/pprof/goroutineleak`: the task dumps' formats, restricted to
//! proven and suspected leaks, and saying which each one is.
//!
//! `debug=1` groups like the grouped dump, one group per (kind, state, reason, park site,
//! spawn site, future type), proven leaks first, then largest first:
//!
//! ```text
//! task leak profile: total 1001 (1 proven, 1000 suspected at min_parked=30s)
//!
//! 1000 @ [chan receive] examples/leak_dump.rs:31:22
//! #	leak        suspected: parked up to 5m12s
//! #	parked at   examples/leak_dump.rs:31:22
//! #	spawned at  examples/leak_dump.rs:30:9   leak_dump::simulate::{{closure}}
//! ```
//!
//! `debug=2` lists each task in the per-task format, under a heading per kind.

// The example above is the exact output, whose `#` lines hold a tab.
#![allow(clippy::tabs_in_doc_comments)]

use super::render::{self, LeakSet};
use runtime::{TaskSnapshot, TaskState};
use std::collections::HashMap;
use std::io::{self, Write};
use std::panic::Location;
use std::time::Duration;

/// Whether a leak is proven or only suspected; proven sorts first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    Proven,
    Suspected,
}

/// Writes the header line.
fn write_header(w: &mut dyn Write, leaks: &LeakSet, min_parked: Duration) -> io::Result<()> {
    writeln!(
        w,
        "task leak profile: total {} ({} proven, {} suspected at min_parked={})",
        leaks.proven.len() + leaks.suspected.len(),
        leaks.proven.len(),
        leaks.suspected.len(),
        render::duration(min_parked),
    )
}

/// The grouped leak dump (`debug=1`).
pub(super) fn write_grouped(
    w: &mut dyn Write,
    leaks: &LeakSet,
    min_parked: Duration,
) -> io::Result<()> {
    write_header(w, leaks, min_parked)?;
    let mut groups: HashMap<GroupKey, Vec<&TaskSnapshot>> = HashMap::new();
    let tagged = (leaks.proven.iter().map(|task| (Kind::Proven, task)))
        .chain(leaks.suspected.iter().map(|task| (Kind::Suspected, task)));
    for (kind, task) in tagged {
        groups
            .entry(GroupKey::new(kind, task))
            .or_default()
            .push(task);
    }
    let mut groups: Vec<(GroupKey, Vec<&TaskSnapshot>)> = groups.into_iter().collect();
    groups.sort_by_key(|(key, tasks)| (key.kind, std::cmp::Reverse(tasks.len()), key.sort_site()));
    for (key, tasks) in groups {
        write_group(w, key.kind, &tasks)?;
    }
    Ok(())
}

/// The per-task leak dump (`debug=2`).
pub(super) fn write_tasks(
    w: &mut dyn Write,
    leaks: &LeakSet,
    min_parked: Duration,
) -> io::Result<()> {
    write_header(w, leaks, min_parked)?;
    let sections = [
        ("proven leaks: nothing can wake these tasks", &leaks.proven),
        (
            "suspected leaks: parked at least min_parked, and still wakeable",
            &leaks.suspected,
        ),
    ];
    for (heading, tasks) in sections {
        if tasks.is_empty() {
            continue;
        }
        writeln!(w, "\n{heading}")?;
        for task in tasks {
            writeln!(w)?;
            render::task(w, task)?;
        }
    }
    Ok(())
}

/// Leaked tasks that look the same in a grouped dump.
#[derive(PartialEq, Eq, Hash)]
struct GroupKey {
    kind: Kind,
    state: TaskState,
    reason: Option<String>,
    park_site: Option<Site>,
    spawn_site: Site,
    future_type: &'static str,
}

/// A `Location` compared by value: equal sites from different codegen units group.
#[derive(PartialEq, Eq, Hash, PartialOrd, Ord, Clone, Copy)]
struct Site(&'static str, u32, u32);

impl Site {
    fn new(site: &'static Location<'static>) -> Site {
        Site(site.file(), site.line(), site.column())
    }
}

impl GroupKey {
    fn new(kind: Kind, task: &TaskSnapshot) -> GroupKey {
        GroupKey {
            kind,
            state: task.state(),
            reason: task.park().map(|park| format!("{:#}", park.reason())),
            park_site: task.park().map(|park| Site::new(park.site())),
            spawn_site: Site::new(task.spawn_site()),
            future_type: task.future_type(),
        }
    }

    /// Ties between groups of one size break on the park site, then the spawn site.
    fn sort_site(&self) -> (Option<Site>, Site, &'static str) {
        (self.park_site, self.spawn_site, self.future_type)
    }
}

fn write_group(w: &mut dyn Write, kind: Kind, tasks: &[&TaskSnapshot]) -> io::Result<()> {
    let task = tasks[0];
    writeln!(w)?;
    match task.park() {
        Some(park) => {
            writeln!(w, "{} @ [{:#}] {}", tasks.len(), park.reason(), park.site())?;
            for case in park.cases() {
                writeln!(w, "#\tcase        [{:#}] {}", case.reason, case.site)?;
            }
        }
        None => writeln!(w, "{} @ [parked] {}", tasks.len(), task.spawn_site())?,
    }
    match kind {
        Kind::Proven => writeln!(w, "#\tleak        proven: nothing can wake it")?,
        Kind::Suspected => {
            let longest = tasks
                .iter()
                .filter_map(|task| task.park().map(|park| park.duration()))
                .max()
                .unwrap_or_default();
            writeln!(
                w,
                "#\tleak        suspected: parked up to {}",
                render::duration(longest)
            )?;
        }
    }
    if let Some(park) = task.park() {
        writeln!(w, "#\tparked at   {}", park.site())?;
    }
    writeln!(
        w,
        "#\tspawned at  {}   {}",
        task.spawn_site(),
        task.future_type()
    )
}
