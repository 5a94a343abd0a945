//! `/metrics`: the Prometheus text exposition format, version 0.0.4.

use runtime::{ParkSite, RunningPoll, TaskCounts, TaskState};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The metrics page for `counts` and the park-time table `park_sites`: no snapshot of the
/// tasks, so a scrape costs one pass over two words per task whatever the tasks hold.
/// Series are sorted, and `running` and `runnable` task counts are always present (as
/// `reason=""`) so that they read 0 rather than vanish.
///
/// `polls` are the polls in progress (`Handle::running_polls`), for the longest one's time.
pub(super) fn render(
    counts: &TaskCounts,
    park_sites: &[ParkSite],
    polls: &[RunningPoll],
) -> String {
    let mut out = String::new();

    let mut tasks: BTreeMap<(&'static str, String), u64> = BTreeMap::new();
    for state in [TaskState::Running, TaskState::Runnable] {
        tasks.insert((state.as_str(), String::new()), counts.state(state));
    }
    // Reasons are merged by their printed name (`IO wait` of every direction is one).
    let parked = TaskState::Parked.as_str();
    let mut recorded = 0;
    for (reason, count) in counts.by_reason() {
        *tasks.entry((parked, reason.to_string())).or_default() += count;
        recorded += count;
    }
    // A parked task without a record (the `profiling` feature is off) has reason "".
    if counts.parked() > recorded {
        *tasks.entry((parked, String::new())).or_default() += counts.parked() - recorded;
    }
    family(
        &mut out,
        "parkade_tasks",
        "gauge",
        "Live tasks by state and, for parked tasks, park reason.",
    );
    for ((state, reason), count) in &tasks {
        sample(
            &mut out,
            "parkade_tasks",
            &[("state", state), ("reason", reason)],
            count,
        );
    }

    family(
        &mut out,
        "parkade_tasks_unwakeable",
        "gauge",
        "Parked tasks no waker can wake: proven leaks.",
    );
    sample(
        &mut out,
        "parkade_tasks_unwakeable",
        &[],
        counts.unwakeable(),
    );

    family(
        &mut out,
        "parkade_tasks_spawned_total",
        "counter",
        "Tasks spawned since the runtime started (blocking closures not included).",
    );
    sample(
        &mut out,
        "parkade_tasks_spawned_total",
        &[],
        counts.spawned_total(),
    );
    family(
        &mut out,
        "parkade_tasks_completed_total",
        "counter",
        "Tasks finished (completed, panicked or cancelled) since the runtime started.",
    );
    sample(
        &mut out,
        "parkade_tasks_completed_total",
        &[],
        counts.completed_total(),
    );
    family(
        &mut out,
        "parkade_workers",
        "gauge",
        "Worker threads of the runtime.",
    );
    sample(&mut out, "parkade_workers", &[], counts.workers());

    family(
        &mut out,
        "parkade_longest_poll_seconds",
        "gauge",
        "How long the longest poll in progress has held its worker (0: no worker is polling).",
    );
    let longest = polls
        .iter()
        .map(RunningPoll::elapsed)
        .max()
        .unwrap_or_default();
    sample(
        &mut out,
        "parkade_longest_poll_seconds",
        &[],
        longest.as_secs_f64(),
    );
    family(
        &mut out,
        "parkade_stuck_polls_total",
        "counter",
        "Polls that profiler::Watchdog reported holding their worker past its threshold (every \
         watchdog of the process).",
    );
    sample(
        &mut out,
        "parkade_stuck_polls_total",
        &[],
        crate::watchdog::stuck_polls_total(),
    );

    // Rows are merged by their printed labels, so no series appears twice.
    let mut parks: BTreeMap<(String, String), (u64, f64)> = BTreeMap::new();
    for row in park_sites {
        let site = row.site.map_or_else(String::new, |site| site.to_string());
        let (count, seconds) = parks.entry((row.reason.to_string(), site)).or_default();
        *count += row.count;
        *seconds += row.total.as_secs_f64();
    }
    family(
        &mut out,
        "parkade_park_seconds_total",
        "counter",
        "Time tasks spent parked, by reason and await site, counted as each park ends \
         (site \"\": parks the runtime's table had no room to key).",
    );
    for ((reason, site), (_, seconds)) in &parks {
        sample(
            &mut out,
            "parkade_park_seconds_total",
            &[("reason", reason), ("site", site)],
            seconds,
        );
    }
    family(
        &mut out,
        "parkade_parks_total",
        "counter",
        "Parks that ended, by reason and await site.",
    );
    for ((reason, site), (count, _)) in &parks {
        sample(
            &mut out,
            "parkade_parks_total",
            &[("reason", reason), ("site", site)],
            count,
        );
    }
    out
}

/// The `# HELP` and `# TYPE` lines of a metric family.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    // Writing to a String cannot fail.
    let _ = writeln!(out, "# HELP {name} {}", escape_help(help));
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// One sample line: `name{label="value",...} value`.
fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (label, value)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{label}=\"{}\"", escape_label(value));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

/// A label value with `\`, `"` and newline escaped, as the format requires.
fn escape_label(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// Help text with `\` and newline escaped (quotes need none there).
fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_label_values() {
        assert_eq!(escape_label(r#"a "b" \c"#), r#"a \"b\" \\c"#);
        assert_eq!(escape_label("two\nlines"), "two\\nlines");
        assert_eq!(escape_label("chan send"), "chan send");
    }

    #[test]
    fn escapes_help() {
        assert_eq!(escape_help("a\\b\nc \"d\""), "a\\\\b\\nc \"d\"");
    }

    #[test]
    fn writes_samples() {
        let mut out = String::new();
        sample(
            &mut out,
            "parkade_tasks",
            &[("state", "parked"), ("reason", "my \"label\"")],
            3,
        );
        sample(&mut out, "parkade_workers", &[], 2);
        assert_eq!(
            out,
            "parkade_tasks{state=\"parked\",reason=\"my \\\"label\\\"\"} 3\nparkade_workers 2\n"
        );
    }

    #[test]
    fn an_empty_runtime_has_every_family() {
        let rt = runtime::Builder::new().worker_threads(1).build().unwrap();
        let handle = rt.handle();
        let page = render(&handle.task_counts(), &handle.park_sites(), &[]);
        for family in [
            "parkade_tasks",
            "parkade_tasks_unwakeable",
            "parkade_tasks_spawned_total",
            "parkade_tasks_completed_total",
            "parkade_workers",
            "parkade_park_seconds_total",
            "parkade_parks_total",
            "parkade_longest_poll_seconds",
            "parkade_stuck_polls_total",
        ] {
            assert!(page.contains(&format!("# TYPE {family} ")), "{family}");
        }
        assert!(page.contains("parkade_longest_poll_seconds 0\n"));
        assert!(page.contains("parkade_tasks{state=\"running\",reason=\"\"} 0\n"));
        assert!(page.contains("parkade_workers 1\n"));
    }
}
