//! `Profile::groups` and `group_tasks`: the grouped dump's groups as values, which the
//! grouped text, the leak dump and the live view all render from.
// The groups are keyed by park records: with recording compiled out, there are none to check.
#![cfg(feature = "profiling")]

use test_support as support;

use runtime::{ParkReason, TaskState};
use std::time::Duration;
use support::wait_for;

#[runtime::test]
async fn groups_count_their_tasks_and_know_their_longest_park() {
    let (_keep, rx) = runtime::chan::channel::<()>(0);
    // Three tasks parked at one site, spawned at one site, a while apart.
    let mut receivers = Vec::new();
    for _ in 0..3 {
        let rx = rx.clone();
        receivers.push(runtime::spawn(async move { rx.recv().await }));
        runtime::time::sleep(Duration::from_millis(20)).await;
    }
    let sleeper = runtime::spawn(async { runtime::time::sleep(Duration::from_secs(3600)).await });
    let profile = wait_for(|p| {
        p.parked_on(ParkReason::ChanReceive).count() == 3
            && p.parked_on(ParkReason::Sleep).count() == 1
    })
    .await;

    let groups = profile.groups();
    // The runner of this test is running; the receivers and the sleeper are parked.
    let receivers_group = groups
        .iter()
        .find(|g| {
            g.task()
                .park()
                .is_some_and(|p| p.reason() == ParkReason::ChanReceive)
        })
        .expect("a chan receive group");
    assert_eq!(receivers_group.count(), 3);
    assert_eq!(groups[0].count(), 3, "largest first");
    // The longest park is the first receiver's, at least the two 20 ms sleeps older.
    let longest = receivers_group.longest_park();
    let each: Vec<Duration> = profile
        .parked_on(ParkReason::ChanReceive)
        .map(|t| t.park().unwrap().duration())
        .collect();
    assert_eq!(Some(longest), each.iter().copied().max());
    assert!(longest >= Duration::from_millis(40), "{longest:?}");
    // The group's task is the first in registry order among its members.
    let first = profile
        .tasks()
        .iter()
        .find(|t| {
            t.park()
                .is_some_and(|p| p.reason() == ParkReason::ChanReceive)
        })
        .unwrap();
    assert_eq!(receivers_group.task().id(), first.id());
    assert_eq!(
        groups.iter().map(|g| g.count()).sum::<usize>(),
        profile.len()
    );

    // A subset groups the same way: here, the parked tasks only.
    let parked = runtime::group_tasks(
        profile
            .tasks()
            .iter()
            .filter(|t| t.state() == TaskState::Parked),
    );
    let counts: Vec<usize> = parked.iter().map(|g| g.count()).collect();
    assert_eq!(counts, [3, 1]);

    // Each group renders as the grouped dump shows it, and the dump is those renderings.
    let dump = profile.to_string();
    for group in &groups {
        assert!(
            dump.contains(&format!("\n{group}")),
            "{group}\nnot in\n{dump}"
        );
    }
    let noted = receivers_group
        .with_note("leak        suspected")
        .to_string();
    let lines: Vec<&str> = noted.lines().collect();
    assert!(lines[0].starts_with("3 @ [chan receive] "), "{noted}");
    assert_eq!(lines[1], "#\tleak        suspected");
    assert!(lines[2].starts_with("#\tparked at   "), "{noted}");
    assert!(lines[3].starts_with("#\tspawned at  "), "{noted}");

    sleeper.abort();
    for receiver in receivers {
        receiver.abort();
    }
}
