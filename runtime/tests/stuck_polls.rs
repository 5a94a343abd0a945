//! A poll that holds its worker, seen from outside: `Handle::running_polls` and a running
//! task's `poll_duration()` / `worker()` in `profile()`.

use runtime::TaskState;
use std::sync::mpsc;
use test_support::wait_until;

/// Spawns a task whose one poll blocks its worker until `release` is sent to (or dropped).
fn blocking_task(rt: &runtime::Runtime) -> (runtime::task::TaskId, mpsc::Sender<()>) {
    let (release, released) = mpsc::channel::<()>();
    let (started, is_started) = mpsc::channel::<()>();
    let task = rt.spawn(async move {
        started.send(()).unwrap();
        let _ = released.recv(); // holds the worker: no await
    });
    is_started.recv().unwrap();
    (task.id(), release)
}

#[test]
fn a_blocking_poll_is_seen_running_on_its_worker() {
    let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
    let (id, release) = blocking_task(&rt);
    let polls = rt.handle().running_polls();
    let poll = polls
        .iter()
        .find(|poll| poll.task() == id)
        .expect("the blocking task's poll");
    assert!(poll.worker() < 2);
    let again = rt.handle().running_polls();
    assert!(
        again.iter().any(|p| p.poll_id() == poll.poll_id()),
        "one poll keeps its id"
    );

    let profile = rt.profile();
    let task = profile.task(id).unwrap();
    assert_eq!(task.state(), TaskState::Running);
    assert_eq!(task.worker(), Some(poll.worker()));
    assert!(task.park().is_none());
    drop(release);
    wait_until(|| rt.handle().running_polls().iter().all(|p| p.task() != id));
}

#[cfg(feature = "profiling")]
#[test]
fn time_in_poll_counts_from_before_the_poll_began() {
    use std::time::Duration;
    let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
    let (id, release) = blocking_task(&rt);
    std::thread::sleep(Duration::from_millis(60));
    let profile = rt.profile();
    let in_poll = profile.task(id).unwrap().poll_duration().unwrap();
    // At least the 60 ms slept, less the coarse clock's resolution (a few ms).
    assert!(in_poll >= Duration::from_millis(50), "{in_poll:?}");
    let text = profile.task(id).unwrap().to_string();
    assert!(text.contains(" in poll]:\n\ton worker "), "{text}");
    let poll = rt.handle().running_polls();
    let poll = poll.iter().find(|p| p.task() == id).unwrap();
    assert!(poll.elapsed() >= Duration::from_millis(50), "{poll:?}");
    drop(release);
}

#[test]
fn idle_workers_poll_nothing_and_parked_tasks_have_no_worker() {
    let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
    let (tx, rx) = runtime::chan::channel::<()>(0);
    let parked = rt.spawn(async move { rx.recv().await });
    let id = parked.id();
    wait_until(|| {
        rt.profile()
            .task(id)
            .is_some_and(|t| t.state() == TaskState::Parked)
    });
    assert!(rt.handle().running_polls().is_empty());
    let profile = rt.profile();
    let task = profile.task(id).unwrap();
    assert_eq!((task.worker(), task.poll_duration()), (None, None));
    drop(tx);
}
