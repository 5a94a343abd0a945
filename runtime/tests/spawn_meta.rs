//! What a snapshot says about who a task is: spawn site, future type, name, parent, polls.
// Parents are part of the park record: needs recording.
#![cfg(feature = "profiling")]

use support::wait_for;
use test_support as support;

use runtime::TaskState;
use std::time::Duration;

/// The 1-based line of this file holding `marker`, and the column of the `spawn` method
/// name on it (where `#[track_caller]` places a method call).
fn site_of(marker: &str) -> (u32, u32) {
    let (index, text) = include_str!("spawn_meta.rs")
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(marker) && !l.contains("site_of("))
        .expect("marker in file");
    let column = text.find(".spawn(").expect("a spawn call") + 2;
    (index as u32 + 1, column as u32)
}

async fn child_body() {
    runtime::time::sleep(Duration::from_secs(10)).await;
}

async fn parent_body() {
    let child = runtime::task::Builder::new()
        .name("child")
        .spawn(child_body()); // CHILD
    drop(child); // detached, still running
    runtime::time::sleep(Duration::from_secs(10)).await;
}

#[runtime::test]
async fn nested_spawns_record_site_type_name_and_parent() {
    let parent = runtime::task::Builder::new()
        .name("parent")
        .spawn(parent_body()); // PARENT
    let parent_id = parent.id();
    let profile = wait_for(|p| {
        p.tasks().len() == 2 && p.tasks().iter().all(|t| t.state() == TaskState::Parked)
    })
    .await;

    let parent_snap = profile.task(parent_id).unwrap();
    assert_eq!(parent_snap.name(), Some("parent"));
    assert_eq!(
        parent_snap.parent(),
        None,
        "spawned from block_on, not a task"
    );
    assert_eq!(parent_snap.spawn_site().file(), file!());
    let spawn_site = parent_snap.spawn_site();
    assert_eq!(
        (spawn_site.line(), spawn_site.column()),
        site_of("// PARENT")
    );
    assert_eq!(
        parent_snap.future_type(),
        std::any::type_name_of_val(&parent_body())
    );
    assert!(parent_snap
        .future_type()
        .ends_with("parent_body::{{closure}}"));
    assert!(parent_snap.polls() >= 1);

    let child = profile
        .tasks()
        .iter()
        .find(|t| t.name() == Some("child"))
        .expect("child listed");
    assert_eq!(child.parent(), Some(parent_id));
    assert_eq!(child.spawn_site().file(), file!());
    let spawn_site = child.spawn_site();
    assert_eq!(
        (spawn_site.line(), spawn_site.column()),
        site_of("// CHILD")
    );
    assert!(child.future_type().ends_with("child_body::{{closure}}"));
    parent.abort();
}

#[runtime::test]
async fn grandchildren_point_at_their_own_parent() {
    let root = runtime::spawn(async {
        let middle = runtime::spawn(async {
            let leaf =
                runtime::spawn(async { runtime::time::sleep(Duration::from_secs(10)).await });
            (runtime::profile(), leaf.id())
        });
        let middle_id = middle.id();
        let (profile, leaf_id) = middle.await.unwrap();
        (profile, middle_id, leaf_id)
    });
    let root_id = root.id();
    let (profile, middle_id, leaf_id) = root.await.unwrap();
    assert_eq!(profile.task(middle_id).unwrap().parent(), Some(root_id));
    assert_eq!(profile.task(leaf_id).unwrap().parent(), Some(middle_id));
    assert_eq!(profile.task(middle_id).unwrap().state(), TaskState::Running);
}
