//! The cumulative park-time profile as text (`/debug/pprof/park?debug=1`): Go's block
//! profile, one row per (reason, site) where tasks parked and were resumed.
//!
//! ```text
//! park profile: 5 sites, 8 parks, 36ms parked
//!     total      count       mean  reason            site
//!      20ms          3        6ms  sleep             src/main.rs:28:13
//!       4ms          2        2ms  chan receive      src/main.rs:33:16
//!       4ms          1        4ms  IO wait (accept)  src/main.rs:43:40
//!       4ms          1        4ms  IO wait (read)    src/main.rs:45:16
//!       4ms          1        4ms  select            src/main.rs:37:9
//! ```
//!
//! The header gives the number of rows, the parks they count and their total time. Each row
//! is the total park time, the number of parks, their mean (total / count), the reason
//! (with its detail, as `{:#}` prints it) padded to the longest reason (at least the width of `reason`), and the site
//! (`<unknown site>` for parks the runtime's table had no room to key). Durations are
//! [`format_duration`]'s. Rows are sorted by total time, largest first; ties by count,
//! largest first, then by reason and site. Columns are separated by two spaces; the three
//! numeric ones are right-aligned in 9 characters.

use crate::text::format_duration;
use runtime::{ParkSite, Profile};
use std::cmp::Reverse;
use std::io::{self, Write};
use std::time::Duration;

/// Writes the park-time table of `profile` (see the module docs for its shape).
///
/// # Examples
///
/// ```
/// let rt = runtime::Builder::new().worker_threads(1).build()?;
/// let mut out = Vec::new();
/// profiler::park::write_park_profile(&mut out, &rt.profile())?;
/// assert!(out.starts_with(b"park profile: 0 sites, 0 parks, 0s parked\n"));
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// Any error `w` returns.
pub fn write_park_profile<W: Write>(w: &mut W, profile: &Profile) -> io::Result<()> {
    let mut rows: Vec<(&ParkSite, String)> = profile
        .park_sites()
        .iter()
        .map(|row| (row, format!("{:#}", row.reason)))
        .collect();
    rows.sort_by(|(a, a_reason), (b, b_reason)| {
        let key = |row: &ParkSite, reason| {
            let site = row.site.map(|s| (s.file(), s.line(), s.column()));
            (Reverse(row.total), Reverse(row.count), reason, site)
        };
        key(a, a_reason).cmp(&key(b, b_reason))
    });
    let parks: u64 = rows.iter().map(|(row, _)| row.count).sum();
    let total: Duration = rows.iter().map(|(row, _)| row.total).sum();
    writeln!(
        w,
        "park profile: {} sites, {parks} parks, {} parked",
        rows.len(),
        format_duration(total)
    )?;
    let width = rows
        .iter()
        .map(|(_, reason)| reason.chars().count())
        .max()
        .unwrap_or(0)
        .max("reason".len());
    writeln!(
        w,
        "{:>9}  {:>9}  {:>9}  {:<width$}  site",
        "total", "count", "mean", "reason"
    )?;
    for (row, reason) in rows {
        let mean = match u32::try_from(row.count) {
            Ok(0) => Duration::ZERO,
            Ok(count) => row.total / count,
            Err(_) => Duration::from_nanos((row.total.as_nanos() / u128::from(row.count)) as u64),
        };
        write!(
            w,
            "{:>9}  {:>9}  {:>9}  {reason:<width$}  ",
            format_duration(row.total),
            row.count,
            format_duration(mean)
        )?;
        match row.site {
            Some(site) => writeln!(w, "{site}")?,
            None => writeln!(w, "<unknown site>")?,
        }
    }
    Ok(())
}
