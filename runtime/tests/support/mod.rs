//! Helpers shared by the runtime's integration tests (`mod support;` in each).

#![allow(dead_code)] // each test binary uses its own subset

use runtime::{ParkReason, ParkSite, Profile, TaskId, TaskSnapshot, TaskState};
use std::ops::Range;
use std::time::Duration;

/// Polls the profile until `done` holds: at most ~10 s, so a bug fails instead of hanging,
/// and without any assumption about how fast the machine is.
pub async fn wait_for(mut done: impl FnMut(&Profile) -> bool) -> Profile {
    for _ in 0..5_000 {
        let profile = runtime::profile();
        if done(&profile) {
            return profile;
        }
        runtime::time::sleep(Duration::from_millis(2)).await;
    }
    panic!(
        "condition not reached; last profile:\n{}",
        runtime::profile()
    );
}

/// True if task `id` is parked with a recorded park (with recording compiled out, parked).
pub fn parked(profile: &Profile, id: TaskId) -> bool {
    profile.task(id).is_some_and(is_parked)
}

/// Parked, and (when recording is compiled in) with its park recorded: a task can be idle for
/// a moment before its poll has stamped the park.
pub fn is_parked(task: &TaskSnapshot) -> bool {
    task.state() == TaskState::Parked && (task.park().is_some() || !runtime::park::ENABLED)
}

/// Parked for `reason` (with recording compiled out, which cannot tell: parked).
pub fn parked_for(task: &TaskSnapshot, reason: ParkReason) -> bool {
    task.state() == TaskState::Parked
        && (!runtime::park::ENABLED || task.park().is_some_and(|p| p.reason() == reason))
}

/// Runs `f` on a thread and fails (instead of hanging) if it does not finish in `secs`: for
/// tests whose failure mode is a deadlock.
pub fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs))
        .expect("hung: did not finish in time")
}

/// The park-time table's rows for sites of `file` on `lines`.
pub fn park_rows<'a>(profile: &'a Profile, file: &str, lines: Range<u32>) -> Vec<&'a ParkSite> {
    profile
        .park_sites()
        .iter()
        .filter(|row| {
            row.site
                .is_some_and(|site| site.file() == file && lines.contains(&site.line()))
        })
        .collect()
}

/// The park-time table's one row for the site of `file` on `line`.
pub fn park_row<'a>(profile: &'a Profile, file: &str, line: u32) -> &'a ParkSite {
    match park_rows(profile, file, line..line + 1)[..] {
        [row] => row,
        _ => panic!("not one row for {file}:{line}: {:?}", profile.park_sites()),
    }
}
