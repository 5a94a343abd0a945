//! The task profile as JSON (`/debug/pprof/goroutine?debug=json`): the grouped dump's groups,
//! the totals, the deadlocks, and a page of tasks, for programs and for a page in a browser
//! that must not fetch a million tasks to draw a table. The format is documented, with an
//! example, in `docs/profile-json.md`; [`VERSION`] changes when a field changes meaning.
//!
//! ```
//! let rt = runtime::Builder::new().worker_threads(1).build()?;
//! let profile = rt.profile();
//! let json = profiler::json::render(&profile, &profiler::json::Page::default()).unwrap();
//! let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
//! assert_eq!(value["version"], 1);
//! assert_eq!(value["totals"]["tasks"], profile.len());
//! # Ok::<(), std::io::Error>(())
//! ```

use runtime::{Profile, TaskSnapshot, TaskState};
use serde::Serialize;
use std::panic::Location;

/// The format's version: the `version` field.
pub const VERSION: u32 = 1;

/// Which tasks go into the `tasks` array: `limit` of them (0, the default: none) from
/// `offset`, in registry order, optionally only those of group `group` (an index into
/// `groups`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Page {
    /// How many tasks at most (at most [`MAX_LIMIT`]); 0: no `tasks` array entries.
    pub limit: usize,
    /// How many selected tasks to skip.
    pub offset: usize,
    /// Only the tasks of this group (an index into `groups`).
    pub group: Option<usize>,
}

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    totals: Totals,
    groups: Vec<Group<'a>>,
    deadlocks: Vec<Vec<u64>>,
    /// Every running task (at most one per worker), with its time in poll: stuck polls.
    running: Vec<Task<'a>>,
    /// Tasks that `page.group` selects (every task without it): what `offset` pages through.
    tasks_matched: usize,
    offset: usize,
    tasks: Vec<Task<'a>>,
}

#[derive(Serialize)]
struct Totals {
    tasks: usize,
    running: usize,
    runnable: usize,
    parked: usize,
    spawned: u64,
    completed: u64,
    workers: usize,
    /// Parked tasks by park reason (Go's spelling), for those with a recorded park.
    by_reason: std::collections::BTreeMap<String, usize>,
}

#[derive(Serialize)]
struct Group<'a> {
    count: usize,
    state: &'static str,
    reason: Option<String>,
    park_site: Option<String>,
    cases: Vec<Case>,
    spawn_site: String,
    future_type: &'static str,
    /// The first task's name (tasks of a group may be named differently).
    name: Option<&'a str>,
    longest_park_ns: u64,
    /// The first task's id: where to start reading the group's tasks.
    first_task: u64,
}

#[derive(Serialize)]
struct Case {
    reason: String,
    site: String,
}

#[derive(Serialize)]
struct Task<'a> {
    id: u64,
    name: Option<&'a str>,
    state: &'static str,
    reason: Option<String>,
    site: Option<String>,
    cases: Vec<Case>,
    park_ns: Option<u64>,
    spawn_site: String,
    future_type: &'static str,
    parent: Option<u64>,
    blocked_by: Vec<u64>,
    poll_ns: Option<u64>,
    worker: Option<usize>,
    wakers: usize,
    polls: u64,
    /// The task's group: an index into `groups`.
    group: usize,
}

fn site(site: &Location<'_>) -> String {
    site.to_string()
}

fn nanos(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The most tasks one page may hold.
pub const MAX_LIMIT: usize = 10_000;

/// `profile` as the JSON document, UTF-8.
///
/// # Errors
/// If `page.group` is not the index of a group, or `page.limit` is over [`MAX_LIMIT`]: the
/// message says which.
pub fn render(profile: &Profile, page: &Page) -> Result<Vec<u8>, String> {
    let groups = profile.groups();
    if let Some(group) = page.group.filter(|&g| g >= groups.len()) {
        return Err(format!(
            "group={group} is out of range: the profile has {} groups",
            groups.len()
        ));
    }
    if page.limit > MAX_LIMIT {
        return Err(format!(
            "limit={} is over the maximum, {MAX_LIMIT}",
            page.limit
        ));
    }
    let count = |state| {
        profile
            .tasks()
            .iter()
            .filter(|t| t.state() == state)
            .count()
    };
    let document = Document {
        version: VERSION,
        totals: Totals {
            tasks: profile.len(),
            running: count(TaskState::Running),
            runnable: count(TaskState::Runnable),
            parked: count(TaskState::Parked),
            spawned: profile.spawned_total(),
            completed: profile.completed_total(),
            workers: profile.workers(),
            by_reason: by_reason(&groups),
        },
        groups: groups
            .iter()
            .map(|group| {
                let task = group.task();
                let park = task.park();
                Group {
                    count: group.count(),
                    state: task.state().as_str(),
                    reason: park.map(|p| p.reason().to_string()),
                    park_site: park.map(|p| site(p.site())),
                    cases: park.map_or_else(Vec::new, |p| cases(p.cases())),
                    spawn_site: site(task.spawn_site()),
                    future_type: task.future_type(),
                    name: task.name(),
                    longest_park_ns: nanos(group.longest_park()),
                    first_task: task.id().as_u64(),
                }
            })
            .collect(),
        deadlocks: profile
            .deadlocks()
            .iter()
            .map(|d| d.tasks().iter().map(|id| id.as_u64()).collect())
            .collect(),
        running: Vec::new(),
        tasks_matched: 0,
        offset: page.offset,
        tasks: Vec::new(),
    };
    let mut document = document;
    let group_of = |task: &TaskSnapshot| {
        groups
            .iter()
            .position(|g| g.contains(task))
            .unwrap_or(usize::MAX)
    };
    document.running = profile
        .tasks()
        .iter()
        .filter(|task| task.state() == TaskState::Running)
        .map(|task| self::task(task, group_of(task)))
        .collect();
    let selected = |task: &&TaskSnapshot| match page.group {
        Some(group) => groups[group].contains(task),
        None => true,
    };
    document.tasks_matched = profile.tasks().iter().filter(selected).count();
    if page.limit > 0 {
        document.tasks = profile
            .tasks()
            .iter()
            .filter(selected)
            .skip(page.offset)
            .take(page.limit)
            .map(|task| self::task(task, group_of(task)))
            .collect();
    }
    Ok(serde_json::to_vec(&document).expect("a profile always serializes"))
}

/// Parked tasks by reason, from the groups (a few, where tasks are a million).
fn by_reason(groups: &[runtime::TaskGroup<'_>]) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for group in groups {
        if let Some(park) = group.task().park() {
            *counts.entry(park.reason().to_string()).or_default() += group.count();
        }
    }
    counts
}

fn cases(cases: &[runtime::ParkCase]) -> Vec<Case> {
    cases
        .iter()
        .map(|case| Case {
            reason: case.reason.to_string(),
            site: site(case.site),
        })
        .collect()
}

fn task(task: &TaskSnapshot, group: usize) -> Task<'_> {
    let park = task.park();
    Task {
        id: task.id().as_u64(),
        name: task.name(),
        state: task.state().as_str(),
        reason: park.map(|p| p.reason().to_string()),
        site: park.map(|p| site(p.site())),
        cases: park.map_or_else(Vec::new, |p| cases(p.cases())),
        park_ns: park.map(|p| nanos(p.duration())),
        spawn_site: site(task.spawn_site()),
        future_type: task.future_type(),
        parent: task.parent().map(|id| id.as_u64()),
        blocked_by: park.map_or_else(Vec::new, |p| {
            p.blocked_by().iter().map(|id| id.as_u64()).collect()
        }),
        poll_ns: task.poll_duration().map(nanos),
        worker: task.worker(),
        wakers: task.wakers(),
        polls: task.polls(),
        group,
    }
}
