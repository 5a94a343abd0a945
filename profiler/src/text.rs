//! Go's text dumps of a task profile: grouped (`?debug=1`) and per task (`?debug=2`).
//!
//! The grouped format is `Display for runtime::Profile`; [`write_grouped`] streams it.
//! The per-task format is Go's goroutine traceback, one block per task:
//!
//! ```text
//! task 18 "handler" [chan send, 5m12s]:
//!     parked at examples/leak_server.rs:44:24
//!     future leak_server::handle_channel_leak::{{closure}}
//! created by task 7 at examples/leak_server.rs:42:5
//! ```
//!
//! - The header is `task <id>`, the name in double quotes (escaped as Rust's `{:?}` does) if
//!   the task has one, then `[<reason>, <duration>]` for a parked task (`{:#}` of the
//!   reason, so `IO wait (read)`), or `[running]`, `[runnable]`, `[parked]` (a park with no
//!   record: the `profiling` feature is off) otherwise.
//! - `parked at <site>` only for a recorded park; for a `select`, one `case [<reason>] <site>`
//!   line per case follows it, in source order (file, line, column).
//! - `future <type>` is the spawned future's type name.
//! - `created by task <parent> at <spawn site>`, or `created at <spawn site>` for a task
//!   spawned from outside the runtime's tasks.
//!
//! The indented lines start with one tab (shown as spaces above). Tasks are separated by
//! one blank line, as Go separates goroutines.

use runtime::{Profile, TaskSnapshot, TaskState};
use std::io::{self, BufWriter, Write};
use std::time::Duration;

/// Writes the grouped dump (`?debug=1`): exactly `Display for Profile`.
///
/// # Examples
///
/// ```
/// let rt = runtime::Builder::new().worker_threads(1).build()?;
/// let mut out = Vec::new();
/// profiler::text::write_grouped(&mut out, &rt.profile())?;
/// assert!(out.starts_with(b"task profile: total 0\n"));
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// Any error `w` returns.
pub fn write_grouped<W: Write>(w: &mut W, profile: &Profile) -> io::Result<()> {
    write!(w, "{profile}")
}

/// Writes every task of `profile` in the per-task format (`?debug=2`), in registry order,
/// one blank line between tasks.
///
/// The output is streamed through a 64 KiB buffer: no whole-dump `String` is built, so a
/// profile of a million tasks costs no more memory than the profile itself.
///
/// # Errors
/// Any error `w` returns.
pub fn write_tasks<W: Write>(w: &mut W, profile: &Profile) -> io::Result<()> {
    let mut w = BufWriter::with_capacity(64 * 1024, w);
    for (i, task) in profile.tasks().iter().enumerate() {
        if i > 0 {
            w.write_all(b"\n")?;
        }
        write_task(&mut w, task)?;
    }
    w.flush()
}

/// Writes one task in Go's traceback shape (see the module docs), ending with a newline.
///
/// # Errors
/// Any error `w` returns.
pub fn write_task<W: Write>(w: &mut W, task: &TaskSnapshot) -> io::Result<()> {
    write!(w, "task {}", task.id())?;
    if let Some(name) = task.name() {
        write!(w, " {name:?}")?;
    }
    match task.park() {
        Some(park) => {
            writeln!(
                w,
                " [{:#}, {}]:",
                park.reason(),
                format_duration(park.duration())
            )?;
            writeln!(w, "\tparked at {}", park.site())?;
            // `select!` polls its cases from a random start: source order keeps dumps diffable.
            let mut cases: Vec<_> = park.cases().iter().collect();
            cases.sort_by_key(|c| (c.site.file(), c.site.line(), c.site.column()));
            for case in cases {
                writeln!(w, "\tcase [{:#}] {}", case.reason, case.site)?;
            }
        }
        None => writeln!(w, " [{}]:", state_str(task.state()))?,
    }
    writeln!(w, "\tfuture {}", task.future_type())?;
    match task.parent() {
        Some(parent) => writeln!(w, "created by task {parent} at {}", task.spawn_site()),
        None => writeln!(w, "created at {}", task.spawn_site()),
    }
}

/// The lower-case name of a state, as the dumps and labels spell it.
pub(crate) fn state_str(state: TaskState) -> &'static str {
    match state {
        TaskState::Running => "running",
        TaskState::Runnable => "runnable",
        TaskState::Parked => "parked",
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
/// use profiler::text::format_duration;
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
