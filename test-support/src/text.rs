//! Reading the text the runtime and the profiler print: sites and grouped dumps.

use std::collections::HashMap;

/// `path:L:C` of `needle` on the first line containing `marker` after the line containing
/// `anchor` in `source` (the text of the file at `path`): where `#[track_caller]` places a
/// call, found from the source so that a test does not break when lines move.
///
/// # Panics
/// If `anchor`, `marker` or `needle` is not found.
pub fn site(source: &str, path: &str, anchor: &str, marker: &str, needle: &str) -> String {
    let start = source
        .lines()
        .position(|l| l.contains(anchor))
        .unwrap_or_else(|| panic!("{anchor:?} not in {path}"));
    let (index, line) = source
        .lines()
        .enumerate()
        .skip(start)
        .find(|(_, l)| l.contains(marker))
        .unwrap_or_else(|| panic!("{marker:?} not after {anchor:?} in {path}"));
    let column = line.find(needle).expect("needle on the marked line") + 1;
    format!("{path}:{}:{column}", index + 1)
}

/// The count of each `[reason] site` group of a debug=1 dump, the site cut to
/// `examples/…` so that the key is the same however the example's file was reached.
pub fn groups(dump: &str) -> HashMap<String, usize> {
    let mut groups = HashMap::new();
    for line in dump.lines() {
        let Some((count, rest)) = line.split_once(" @ ") else {
            continue;
        };
        let (Ok(count), Some((reason, site))) = (count.parse::<usize>(), rest.split_once("] "))
        else {
            continue;
        };
        let Some(start) = site.find("examples/") else {
            continue;
        };
        *groups
            .entry(format!("{reason}] {}", &site[start..]))
            .or_default() += count;
    }
    groups
}
