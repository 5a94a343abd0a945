//! The park-time table (`/debug/pprof/park?debug=1`) of a real runtime whose tasks parked and
//! resumed at known sites of this file.
//!
//! Park counts and times depend on the clock, so the golden file (`tests/golden/park.txt`)
//! holds the shape with every number normalized (see [`normalize`]); the numbers themselves
//! are checked against `Profile::park_sites` row by row.

use profiler::text::format_duration;
use runtime::{ParkReason, ParkSite, Profile, Runtime};
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

/// Parks that end at five sites: 3 naps, 2 channel receives, a select, an accept and a
/// read. Driven from this thread (not a task), so no other park is recorded. Returns the
/// profile once every task has finished.
fn scene() -> (Runtime, Profile) {
    let rt = runtime::Builder::new().worker_threads(1).build().unwrap();
    let (tx, rx) = runtime::chan::channel::<u32>(0);
    let (select_tx, select_rx) = runtime::chan::channel::<u32>(0);
    let listener = rt
        .block_on(runtime::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();

    let napper = rt.spawn(async {
        for _ in 0..3 {
            runtime::time::sleep(Duration::from_millis(5)).await; // NAP
        }
    });
    let receiver = rt.spawn(async move {
        for _ in 0..2 {
            rx.recv().await; // RECV
        }
    });
    let selector = rt.spawn(async move {
        runtime::select! { // SELECT
            v = select_rx.recv() => v,
            _ = runtime::time::sleep(Duration::from_secs(3600)) => None,
        }
    });
    let server = rt.spawn(async move {
        let (mut stream, _) = listener.accept().await?; // ACCEPT
        let mut byte = [0u8; 1];
        stream.read(&mut byte).await // READ
    });

    for i in 0..2 {
        wait_until(&rt, |p| {
            test_support::task_parked_for(p, receiver.id(), ParkReason::ChanReceive)
        });
        rt.block_on(tx.send(i)).unwrap();
    }
    wait_until(&rt, |p| {
        test_support::task_parked_for(p, selector.id(), ParkReason::Select)
    });
    rt.block_on(select_tx.send(1)).unwrap();
    wait_until(&rt, |p| {
        p.task(server.id()).is_some_and(|t| t.park().is_some())
    });
    let mut client = std::net::TcpStream::connect(addr).unwrap();
    wait_until(&rt, |p| {
        p.task(server.id())
            .and_then(|t| t.park())
            .is_some_and(|park| park.reason().detail() == Some("read"))
    });
    client.write_all(b"x").unwrap();
    let profile = wait_until(&rt, |p| p.is_empty());
    assert!(napper.is_finished());
    (rt, profile)
}

/// Polls `rt.profile()` from this thread until `done` holds (at most ~10 s).
fn wait_until(rt: &Runtime, mut done: impl FnMut(&Profile) -> bool) -> Profile {
    for _ in 0..5_000 {
        let profile = rt.profile();
        if done(&profile) {
            return profile;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    panic!("condition not reached:\n{}", rt.profile());
}

fn table(profile: &Profile) -> String {
    let mut out = Vec::new();
    profiler::park::write_park_profile(&mut out, profile).unwrap();
    String::from_utf8(out).unwrap()
}

/// `file!():line:col` of the `needle` on the line marked `marker` in this file.
fn site_of(marker: &str, needle: &str) -> String {
    let (index, text) = include_str!("park.rs")
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(marker) && !l.contains("site_of("))
        .expect("marker in file");
    let column = text.find(needle).expect("needle on the marked line") + 1;
    format!("{}:{}:{column}", file!(), index + 1)
}

/// The table with its numbers replaced, as these regexes would: in the header
/// `\d+ parks, \S+ parked` → `N parks, <dur> parked`; in a row, the total, count and mean
/// (`^ *\S+  +\d+  +\S+`) → the same widths of `<dur>`, `N`, `<dur>` right-aligned. Rows
/// are then sorted, as their order follows the measured totals.
fn normalize(text: &str) -> String {
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let (sites, _) = header.split_once(" parks, ").unwrap();
    let sites = sites.rsplit_once(", ").unwrap().0;
    let mut out = format!("{sites}, N parks, <dur> parked\n");
    out.push_str(lines.next().unwrap());
    out.push('\n');
    let mut rows: Vec<String> = lines
        .map(|row| {
            assert!(row.len() > 33, "{row:?}");
            let numbers = &row[..31];
            let fields: Vec<&str> = numbers.split_whitespace().collect();
            assert_eq!(fields.len(), 3, "{row:?}");
            format!("{:>9}  {:>9}  {:>9}{}", "<dur>", "N", "<dur>", &row[31..])
        })
        .collect();
    rows.sort();
    for row in rows {
        out.push_str(&row);
        out.push('\n');
    }
    out
}

fn assert_golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 creates it)", path.display()));
    assert!(
        actual == expected,
        "{name} differs from the golden file.\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

#[test]
fn park_table_matches_golden() {
    let (_rt, profile) = scene();
    assert_golden("park.txt", &normalize(&table(&profile)));
}

#[test]
fn park_table_rows_are_the_park_sites_largest_total_first() {
    let (_rt, profile) = scene();
    let text = table(&profile);
    let mut sites: Vec<&ParkSite> = profile.park_sites().iter().collect();
    sites.sort_by_key(|s| std::cmp::Reverse(s.total));
    let parks: u64 = sites.iter().map(|s| s.count).sum();
    let total: Duration = sites.iter().map(|s| s.total).sum();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        format!(
            "park profile: {} sites, {parks} parks, {} parked",
            sites.len(),
            format_duration(total)
        )
    );
    assert_eq!(
        lines.next().unwrap(),
        "    total      count       mean  reason            site"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), sites.len());
    let mut last = Duration::MAX;
    for row in rows {
        let site = row.rsplit("  ").next().unwrap();
        let found = sites
            .iter()
            .find(|s| s.site.is_some_and(|at| at.to_string() == site))
            .unwrap_or_else(|| panic!("no park site for {row:?}"));
        assert!(found.total <= last, "not sorted by total:\n{text}");
        last = found.total;
        let mean = found.total / found.count as u32;
        assert_eq!(
            row,
            format!(
                "{:>9}  {:>9}  {:>9}  {:<16}  {site}",
                format_duration(found.total),
                found.count,
                format_duration(mean),
                format!("{:#}", found.reason)
            )
        );
    }
}

#[test]
fn park_table_counts_every_ended_park_at_its_site() {
    let (_rt, profile) = scene();
    let count = |reason: ParkReason, site: String| {
        profile
            .park_sites()
            .iter()
            .filter(|r| r.reason == reason && r.site.is_some_and(|s| s.to_string() == site))
            .map(|r| r.count)
            .sum::<u64>()
    };
    // At least: a spurious wake-up would add a park, never remove one.
    let nap = site_of("// NAP", "runtime::time::sleep(");
    assert!(count(ParkReason::Sleep, nap) >= 3);
    assert!(count(ParkReason::ChanReceive, site_of("// RECV", "recv(")) >= 2);
    assert!(count(ParkReason::Select, site_of("// SELECT", "runtime::select!")) >= 1);
    let text = table(&profile);
    assert!(
        text.contains(&format!(
            "  IO wait (accept)  {}\n",
            site_of("// ACCEPT", "accept(")
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "  IO wait (read)    {}\n",
            site_of("// READ", "read(")
        )),
        "{text}"
    );
}

#[test]
fn empty_park_table_is_the_header_alone() {
    let rt = runtime::Builder::new().worker_threads(1).build().unwrap();
    assert_eq!(
        table(&rt.profile()),
        "park profile: 0 sites, 0 parks, 0s parked\n    \
         total      count       mean  reason  site\n"
    );
}
