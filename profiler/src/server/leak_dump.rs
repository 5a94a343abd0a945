//! The text dumps of `/debug/pprof/goroutineleak`: the task dumps' formats, restricted to
//! proven and suspected leaks, and saying which each one is.
//!
//! `debug=1` groups as the grouped dump does, with its renderer ([`runtime::group_tasks`]):
//! proven leaks first, then suspected ones, each largest first, with a line saying why:
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
use runtime::TaskSnapshot;
use std::io::{self, Write};
use std::time::Duration;

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

/// Each deadlock, `deadlock: task 3 → task 5 → task 3`, then a line per task on it (after
/// `indent`): its reason and park site.
fn write_deadlocks(w: &mut dyn Write, leaks: &LeakSet, indent: &str) -> io::Result<()> {
    for deadlock in &leaks.deadlocks {
        writeln!(w, "\n{deadlock}")?;
        for id in deadlock.tasks() {
            let task = leaks.proven.iter().find(|t| t.id() == *id);
            if let Some(park) = task.and_then(TaskSnapshot::park) {
                writeln!(
                    w,
                    "{indent}task {id} [{:#}] at {}",
                    park.reason(),
                    park.site()
                )?;
            }
        }
    }
    Ok(())
}

/// The grouped leak dump (`debug=1`).
pub(super) fn write_grouped(
    w: &mut dyn Write,
    leaks: &LeakSet,
    min_parked: Duration,
) -> io::Result<()> {
    write_header(w, leaks, min_parked)?;
    write_deadlocks(w, leaks, "#\t")?;
    let (deadlocked, unwakeable): (Vec<&TaskSnapshot>, Vec<&TaskSnapshot>) =
        leaks.proven.iter().partition(|task| leaks.deadlocked(task));
    for group in runtime::group_tasks(unwakeable) {
        write!(
            w,
            "\n{}",
            group.with_note("leak        proven: nothing can wake it")
        )?;
    }
    for group in runtime::group_tasks(deadlocked) {
        write!(w, "\n{}", group.with_note("leak        proven: deadlock"))?;
    }
    for group in runtime::group_tasks(&leaks.suspected) {
        let note = format!(
            "leak        suspected: parked up to {}",
            render::duration(group.longest_park())
        );
        write!(w, "\n{}", group.with_note(&note))?;
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
    write_deadlocks(w, leaks, "\t")?;
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
