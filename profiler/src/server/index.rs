//! `/debug/pprof/`: the HTML index, shaped like Go's.

use std::fmt::Write as _;

/// One row of the index.
struct Entry {
    name: &'static str,
    count: u64,
    /// Absolute, so the links also work from `/debug/pprof` without the slash.
    href: &'static str,
    description: &'static str,
}

/// The index page: each profile with its count and a link to its text form, then the raw
/// links and what each profile is.
/// What the index shows beside each profile.
pub(super) struct Counts {
    /// Live tasks.
    pub(super) tasks: u64,
    /// Proven and suspected leaks, with the default `min_parked`.
    pub(super) leaks: u64,
    /// (reason, site) pairs of the park-time table.
    pub(super) park_sites: usize,
}

pub(super) fn render(counts: &Counts) -> String {
    let entries = [
        Entry {
            name: "goroutine",
            count: counts.tasks,
            href: "/debug/pprof/goroutine?debug=1",
            description: "Every live task: why it is parked, where, and since when. \
                          Alias: tasks.",
        },
        Entry {
            name: "goroutineleak",
            count: counts.leaks,
            href: "/debug/pprof/goroutineleak?debug=1",
            description: "Only leaked tasks: proven (nothing can wake them) and suspected \
                          (parked at least min_parked, 30s by default; \
                          e.g. ?debug=1&amp;min_parked=1m30s).",
        },
        Entry {
            name: "park",
            count: counts.park_sites as u64,
            href: "/debug/pprof/park?debug=1",
            description: "Cumulative park time and count by reason and await site since \
                          the runtime started (Go's block profile).",
        },
    ];

    let mut page = String::from(
        "<html>\n<head>\n<title>/debug/pprof/</title>\n<style>\n\
         .profile-name{\n\tdisplay:inline-block;\n\twidth:8rem;\n}\n</style>\n</head>\n\
         <body>\n/debug/pprof/\n<br>\n\
         <p>Set debug=1 as a query parameter to export in legacy text format</p>\n<br>\n\
         Types of profiles available:\n<table>\n\
         <thead><td>Count</td><td>Profile</td></thead>\n",
    );
    // Writing to a String cannot fail; every interpolated value is a number or a constant
    // of this file, so nothing needs HTML escaping.
    for entry in &entries {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td><a href='{}'>{}</a></td></tr>",
            entry.count, entry.href, entry.name
        );
    }
    page.push_str(
        "</table>\n\
         <a href=\"/debug/pprof/live\">live view</a> (refreshes itself)\n<br>\n\
         <a href=\"/debug/pprof/goroutine?debug=2\">full task dump</a>\n<br>\n\
         <a href=\"/metrics\">/metrics</a> (Prometheus)\n<br>\n\
         <a href=\"/debug/vars\">/debug/vars</a> (JSON)\n<br>\n\
         <p>\nProfile Descriptions:\n<ul>\n",
    );
    for entry in &entries {
        let _ = writeln!(
            page,
            "<li><div class=profile-name>{}: </div> {}</li>",
            entry.name, entry.description
        );
    }
    page.push_str("</ul>\n</p>\n</body>\n</html>\n");
    page
}
