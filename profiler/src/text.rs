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

use runtime::{Profile, TaskSnapshot};
use std::io::{self, BufWriter, Write};

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
    write!(w, "{task}")
}

pub use runtime::time::format_duration;
