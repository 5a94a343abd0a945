//! `profiler::Watchdog`: polls that hold their worker, reported once when found and once
//! when released, even with every worker stuck, and never a poll under the threshold.
// The time in poll is read from the recording clock.
#![cfg(feature = "profiling")]

use profiler::{StuckPoll, Watchdog};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a test waits for a report that must come.
const PATIENCE: Duration = Duration::from_secs(20);

fn watchdog(
    rt: &runtime::Runtime,
    threshold: Duration,
) -> (Watchdog, mpsc::Receiver<(Instant, StuckPoll)>) {
    let (tx, rx) = mpsc::channel();
    let watchdog = Watchdog::builder(threshold)
        .handle(rt.handle().clone())
        .on_stuck(move |stuck| {
            let _ = tx.send((Instant::now(), stuck.clone()));
        })
        .start()
        .unwrap();
    (watchdog, rx)
}

/// A task whose one poll blocks its worker until the returned sender is used or dropped;
/// returns once the poll has begun, with the time it began.
fn blocking_task(
    rt: &runtime::Runtime,
    name: &str,
) -> (runtime::task::TaskId, mpsc::Sender<()>, Instant) {
    let (release, released) = mpsc::channel::<()>();
    let (started, is_started) = mpsc::channel();
    let task = runtime::task::Builder::new().name(name);
    let _enter = rt.enter();
    let join = task.spawn(async move {
        started.send(Instant::now()).unwrap();
        let _ = released.recv(); // holds the worker: no await // BLOCKING
    });
    let began = is_started.recv().unwrap();
    (join.id(), release, began)
}

#[test]
fn a_stuck_poll_is_reported_once_then_released() {
    let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
    let threshold = Duration::from_millis(100);
    let (_watchdog, reports) = watchdog(&rt, threshold);
    let (id, release, _) = blocking_task(&rt, "reindex");

    let (_, stuck) = reports.recv_timeout(PATIENCE).expect("a report");
    assert_eq!(stuck.task(), id);
    assert!(!stuck.released());
    assert_eq!(stuck.name(), Some("reindex"));
    assert!(stuck.worker() < 2, "{stuck:?}");
    assert!(stuck.elapsed() >= threshold, "{stuck:?}");
    assert!(stuck.future_type().starts_with("watchdog::"), "{stuck:?}");
    let site = stuck.spawn_site();
    assert_eq!(
        (site.file(), site.line()),
        ("profiler/tests/watchdog.rs", spawn_line())
    );
    let line = stuck.to_string();
    assert!(
        line.starts_with(&format!(
            "worker {} has been in one poll of task {id} \"reindex\" (watchdog::",
            stuck.worker()
        )),
        "{line}"
    );
    assert!(
        line.contains(", spawned at profiler/tests/watchdog.rs:"),
        "{line}"
    );

    // Once: three more thresholds pass without another report while it is still stuck.
    assert!(
        reports.recv_timeout(3 * threshold).is_err(),
        "reported twice"
    );
    drop(release);
    let (_, released) = reports.recv_timeout(PATIENCE).expect("the release");
    assert!(released.released());
    assert_eq!((released.task(), released.worker()), (id, stuck.worker()));
    assert!(released.elapsed() >= stuck.elapsed(), "{released:?}");
    let line = released.to_string();
    assert!(
        line.starts_with(&format!(
            "worker {} released task {id} \"reindex\" after ",
            stuck.worker()
        )),
        "{line}"
    );
}

#[test]
fn every_worker_stuck_is_still_reported_within_twice_the_threshold() {
    let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
    let threshold = Duration::from_millis(400);
    let (_watchdog, reports) = watchdog(&rt, threshold);
    let (a, release_a, began_a) = blocking_task(&rt, "a");
    let (b, release_b, began_b) = blocking_task(&rt, "b");
    let mut seen = Vec::new();
    for _ in 0..2 {
        let (at, stuck) = reports.recv_timeout(PATIENCE).expect("a report");
        assert!(!stuck.released());
        let began = if stuck.task() == a { began_a } else { began_b };
        let after = at - began;
        assert!(
            after >= threshold && after < 2 * threshold,
            "reported after {after:?}"
        );
        seen.push((stuck.task(), stuck.worker()));
    }
    seen.sort();
    let mut expected = vec![a, b];
    expected.sort();
    assert_eq!(seen.iter().map(|s| s.0).collect::<Vec<_>>(), expected);
    assert_ne!(seen[0].1, seen[1].1, "one per worker");
    drop((release_a, release_b));
}

#[test]
fn a_poll_under_the_threshold_is_never_reported() {
    let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
    let threshold = Duration::from_millis(200);
    let (_watchdog, reports) = watchdog(&rt, threshold);
    // Many short blocking polls: none reaches the threshold, however the machine runs.
    rt.block_on(async {
        for _ in 0..10 {
            runtime::spawn(async { std::thread::sleep(Duration::from_millis(40)) })
                .await
                .unwrap();
        }
    });
    assert!(reports.recv_timeout(threshold).is_err());
}

#[test]
fn metrics_show_the_longest_poll_and_count_stuck_ones() {
    let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
    let threshold = Duration::from_millis(100);
    let (_watchdog, reports) = watchdog(&rt, threshold);
    let server = profiler::serve_handle("127.0.0.1:0", rt.handle().clone()).unwrap();
    let (_, release, _) = blocking_task(&rt, "held");
    reports.recv_timeout(PATIENCE).expect("a report");
    let page = test_support::http_get(server.local_addr(), "/metrics");
    let value = |name: &str| -> f64 {
        let line = page
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} in\n{page}"));
        line[name.len() + 1..].parse().unwrap()
    };
    assert!(value("parkade_stuck_polls_total") >= 1.0);
    // At least the threshold, less the coarse recording clock's resolution (a few ms).
    assert!(value("parkade_longest_poll_seconds") >= 0.09, "{page}");
    drop(release);
}

/// The line of the `spawn` in `blocking_task`.
fn spawn_line() -> u32 {
    let source = include_str!("watchdog.rs");
    let marker = source
        .lines()
        .position(|l| l.ends_with("// BLOCKING"))
        .unwrap();
    // `task.spawn(async move {` is two lines above the marker (1-based: marker - 1).
    (marker - 1) as u32
}
