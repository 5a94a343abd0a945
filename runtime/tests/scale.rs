//! 100,000 tasks parked at once all appear in one snapshot.
// Counts tasks by park reason: needs recording.
#![cfg(feature = "profiling")]

use runtime::{ParkReason, TaskState};
use std::time::Duration;

const TASKS: usize = 100_000;

#[test]
fn a_hundred_thousand_parked_tasks_appear_in_one_snapshot() {
    let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
    let line = line!() + 4;
    rt.block_on(async {
        for _ in 0..TASKS {
            runtime::spawn(async {
                runtime::time::sleep(Duration::from_secs(3600)).await;
            });
        }
        let profile = loop {
            let profile = runtime::profile();
            if profile.parked_on(ParkReason::Sleep).count() == TASKS {
                break profile;
            }
            runtime::time::sleep(Duration::from_millis(5)).await;
        };
        assert_eq!(profile.len(), TASKS);
        assert!(profile
            .tasks()
            .iter()
            .all(|t| t.state() == TaskState::Parked && t.park().unwrap().site().line() == line));
        let text = profile.to_string();
        assert!(
            text.starts_with("task profile: total 100000\n"),
            "{}",
            &text[..200]
        );
        assert!(
            text.contains(&format!("100000 @ [sleep] {}:{line}:17", file!())),
            "{text}"
        );
    });
}
