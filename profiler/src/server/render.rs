//! The one seam between the endpoint and the crate's renderers and analyses: every call the
//! handlers make into `text`, `pprof`, `park` and `leaks` goes through here.

use runtime::{Profile, TaskSnapshot};
use std::io::{self, Write};
use std::time::Duration;

/// The grouped dump (`debug=1`).
pub(super) fn grouped(mut w: &mut dyn Write, profile: &Profile) -> io::Result<()> {
    crate::text::write_grouped(&mut w, profile)
}

/// The per-task dump (`debug=2`).
pub(super) fn tasks(mut w: &mut dyn Write, profile: &Profile) -> io::Result<()> {
    crate::text::write_tasks(&mut w, profile)
}

/// One task in the per-task format, ending with a newline.
pub(super) fn task(mut w: &mut dyn Write, task: &TaskSnapshot) -> io::Result<()> {
    crate::text::write_task(&mut w, task)
}

/// A task's duration as the text dumps print it.
pub(super) fn duration(d: Duration) -> String {
    crate::text::format_duration(d)
}

/// The task profile as gzipped `profile.proto` (`debug=0`).
pub(super) fn pprof(profile: &Profile) -> Vec<u8> {
    crate::pprof::encode(profile)
}

/// The park-time profile as gzipped `profile.proto` (`park?debug=0`).
pub(super) fn park_pprof(profile: &Profile) -> Vec<u8> {
    crate::pprof::encode_park(profile)
}

/// The park-time profile as text (`park?debug=1`).
pub(super) fn park_text(mut w: &mut dyn Write, profile: &Profile) -> io::Result<()> {
    crate::park::write_park_profile(&mut w, profile)
}

/// The proven and suspected leaks of `profile`, each list in task id order.
pub(super) struct LeakSet {
    pub(super) proven: Vec<TaskSnapshot>,
    pub(super) suspected: Vec<TaskSnapshot>,
    pub(super) deadlocks: Vec<runtime::Deadlock>,
}

impl LeakSet {
    /// True if `task` is on one of the deadlocks.
    pub(super) fn deadlocked(&self, task: &TaskSnapshot) -> bool {
        self.deadlocks.iter().any(|d| d.contains(task.id()))
    }
}

/// The leaks of `profile`, suspecting tasks parked for at least `min_parked`. A deadlock it
/// shows is kept only if a second profile of `handle`'s runtime, taken now, confirms it.
pub(super) fn leaks(profile: &Profile, min_parked: Duration, handle: &runtime::Handle) -> LeakSet {
    let options = crate::leaks::LeakOptions { min_parked };
    let mut found = crate::leaks::leaks(profile, options);
    if !found.deadlocks.is_empty() {
        found = crate::leaks::leaks_confirmed(profile, &handle.profile(), options);
    }
    LeakSet {
        proven: found.proven,
        suspected: found.suspected,
        deadlocks: found.deadlocks,
    }
}

/// The `min_parked` of a leak report that names none: the leak analysis's default.
pub(super) fn default_min_parked() -> Duration {
    crate::leaks::LeakOptions::default().min_parked
}
