//! Proven and suspected leaks (`profiler::leaks`), and `LeakCheck`'s report.

use profiler::{is_proven_leak, leaks, LeakCheck, LeakOptions};
use runtime::context::Context;
use runtime::{Profile, TaskId, TaskSnapshot, TaskState};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

/// Only the proof counts: no parked task is old enough to be suspected.
const PROOF_ONLY: LeakOptions = LeakOptions {
    min_parked: Duration::from_secs(3600),
};
/// Every parked task is suspected unless proven.
const ANY_PARK: LeakOptions = LeakOptions {
    min_parked: Duration::ZERO,
};

/// A profile taken once `ready` holds for it. Polls rather than sleeps a guessed time; the
/// deadline only turns a bug into a failure instead of a hang.
async fn profile_when(what: &str, ready: impl Fn(&Profile) -> bool) -> Profile {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let profile = runtime::profile();
        if ready(&profile) {
            return profile;
        }
        assert!(Instant::now() < deadline, "never {what}:\n{profile}");
        runtime::time::sleep(Duration::from_millis(1)).await;
    }
}

/// A profile in which each of `ids` is parked (its park recorded).
async fn profile_when_parked(ids: &[TaskId]) -> Profile {
    profile_when("parked", |profile| {
        ids.iter().all(|&id| {
            profile
                .task(id)
                .is_some_and(|t| t.state() == TaskState::Parked && t.park().is_some())
        })
    })
    .await
}

fn ids(tasks: &[TaskSnapshot]) -> Vec<TaskId> {
    tasks.iter().map(TaskSnapshot::id).collect()
}

/// Returns `Pending` once and keeps nothing: the waker it was given is dropped.
struct DropsItsWaker;

impl Future for DropsItsWaker {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<()> {
        let waker = cx.waker().clone();
        drop(waker);
        Poll::Pending
    }
}

#[runtime::test]
async fn a_future_that_drops_its_waker_is_proven() {
    let task = runtime::spawn(DropsItsWaker);
    let profile = profile_when_parked(&[task.id()]).await;
    assert_eq!(profile.task(task.id()).unwrap().wakers(), 0);
    let found = leaks(&profile, PROOF_ONLY);
    assert_eq!(ids(&found.proven), [task.id()], "{profile}");
    assert!(found.suspected.is_empty());
    task.abort();
}

#[runtime::test]
async fn waiting_on_the_background_context_is_proven() {
    let task = runtime::spawn(async { Context::background().done().await });
    let profile = profile_when_parked(&[task.id()]).await;
    let found = leaks(&profile, PROOF_ONLY);
    assert_eq!(ids(&found.proven), [task.id()], "{profile}");
    let park = found.proven[0].park().unwrap();
    assert_eq!(park.reason().to_string(), "context done");
    assert_eq!(park.site().file(), file!());
    task.abort();
}

#[runtime::test]
async fn std_pending_is_proven() {
    let task = runtime::spawn(std::future::pending::<()>());
    let profile = profile_when_parked(&[task.id()]).await;
    let found = leaks(&profile, PROOF_ONLY);
    assert_eq!(ids(&found.proven), [task.id()], "{profile}");
    assert_eq!(
        found.proven[0].park().unwrap().reason().to_string(),
        "unknown"
    );
    // Proven leaks are never also suspected, however long they have been parked.
    let found = leaks(&profile, ANY_PARK);
    assert_eq!(ids(&found.proven), [task.id()]);
    assert!(found.suspected.is_empty());
    task.abort();
}

/// The sender is gone for good, yet the channel still holds the receiver's waker: to a
/// reference count that is the same as a sender about to send, so the task is only suspected.
#[runtime::test]
async fn a_receiver_whose_sender_was_forgotten_is_only_suspected() {
    let (tx, rx) = runtime::chan::oneshot::<u32>();
    let task = runtime::spawn(rx);
    std::mem::forget(tx);
    let profile = profile_when_parked(&[task.id()]).await;
    let snapshot = profile.task(task.id()).unwrap();
    assert_eq!(snapshot.wakers(), 1, "the channel holds the waker");
    assert!(!is_proven_leak(snapshot));

    let found = leaks(&profile, PROOF_ONLY);
    assert!(found.is_empty(), "{found:?}");
    let found = leaks(&profile, ANY_PARK);
    assert!(found.proven.is_empty());
    assert_eq!(ids(&found.suspected), [task.id()]);
    assert_eq!(found.len(), 1);
    task.abort();
}

/// The no-false-positive guarantee: a task parked on any of the runtime's waits, with
/// whatever wakes it still alive, is never proven leaked.
#[runtime::test(worker_threads = 2)]
async fn no_reason_with_a_live_waker_is_proven() {
    use runtime::sync::{Mutex, Notify, RwLock, Semaphore, WaitGroup};
    use runtime::task::Builder;

    let mut tasks = Vec::new();
    let mut spawn = |name: &'static str, fut: Pin<Box<dyn Future<Output = ()> + Send>>| {
        tasks.push((name, Builder::new().name(name).spawn(fut)));
    };

    let (send_tx, send_rx) = runtime::chan::channel::<u32>(0);
    spawn(
        "chan send",
        Box::pin(async move {
            let _ = send_tx.send(1).await;
        }),
    );
    let (recv_tx, recv_rx) = runtime::chan::channel::<u32>(0);
    spawn(
        "chan receive",
        Box::pin(async move {
            let _ = recv_rx.recv().await;
        }),
    );
    let (select_tx, select_rx) = runtime::chan::channel::<u32>(0);
    let (select_tx2, select_rx2) = runtime::chan::unbounded::<u32>();
    spawn(
        "select",
        Box::pin(async move {
            runtime::select! {
                _ = select_rx.recv() => {},
                _ = select_rx2.recv() => {},
            }
        }),
    );
    spawn(
        "sleep",
        Box::pin(async {
            runtime::time::sleep(Duration::from_secs(3600)).await;
        }),
    );

    let listener = runtime::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap();
    let mut client = runtime::net::TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    spawn(
        "IO wait (read)",
        Box::pin(async move {
            let mut buf = [0u8; 16];
            let _ = client.read(&mut buf).await;
        }),
    );
    spawn(
        "IO wait (accept)",
        Box::pin(async move {
            let _ = listener.accept().await;
        }),
    );

    let mutex = Arc::new(Mutex::new(()));
    let mutex_guard = mutex.try_lock().unwrap();
    spawn(
        "mutex lock",
        Box::pin({
            let mutex = mutex.clone();
            async move {
                let _guard = mutex.lock().await;
            }
        }),
    );
    let written = Arc::new(RwLock::new(()));
    let write_guard = written.try_write().unwrap();
    spawn(
        "rwlock read",
        Box::pin({
            let lock = written.clone();
            async move {
                let _guard = lock.read().await;
            }
        }),
    );
    let read = Arc::new(RwLock::new(()));
    let read_guard = read.try_read().unwrap();
    spawn(
        "rwlock write",
        Box::pin({
            let lock = read.clone();
            async move {
                let _guard = lock.write().await;
            }
        }),
    );
    let semaphore = Arc::new(Semaphore::new(0));
    spawn(
        "semaphore acquire",
        Box::pin({
            let semaphore = semaphore.clone();
            async move {
                let _permit = semaphore.acquire().await;
            }
        }),
    );
    let notify = Arc::new(Notify::new());
    spawn(
        "notify wait",
        Box::pin({
            let notify = notify.clone();
            async move { notify.notified().await }
        }),
    );
    let wait_group = Arc::new(WaitGroup::new());
    wait_group.add(1);
    spawn(
        "waitgroup wait",
        Box::pin({
            let wait_group = wait_group.clone();
            async move { wait_group.wait().await }
        }),
    );
    let (joined_tx, joined_rx) = runtime::chan::channel::<u32>(0);
    let joined = runtime::spawn(async move { joined_rx.recv().await });
    spawn(
        "join wait",
        Box::pin(async move {
            let _ = joined.await;
        }),
    );
    let (ctx, cancel) = Context::background().with_cancel();
    spawn("context done", Box::pin(async move { ctx.done().await }));
    let (release_blocking, blocked) = std::sync::mpsc::channel::<()>();
    spawn(
        "blocking",
        Box::pin(async move {
            let _ = runtime::spawn_blocking(move || blocked.recv()).await;
        }),
    );

    let ids: Vec<TaskId> = tasks.iter().map(|(_, task)| task.id()).collect();
    let profile = profile_when_parked(&ids).await;
    for (name, task) in &tasks {
        let snapshot = profile.task(task.id()).unwrap();
        let park = snapshot.park().unwrap();
        assert_eq!(format!("{:#}", park.reason()), *name, "{profile}");
        assert!(snapshot.wakers() > 0, "{name}: no waker\n{profile}");
        assert!(!is_proven_leak(snapshot), "{name} proven leaked");
    }
    let found = leaks(&profile, PROOF_ONLY);
    assert!(found.proven.is_empty(), "{found:?}");
    // Parked, so suspected once the threshold is zero: each is in exactly one list.
    let found = leaks(&profile, ANY_PARK);
    for id in &ids {
        assert!(found.suspected.iter().any(|t| t.id() == *id));
    }

    // Everything above is still referenced here, so nothing was woken early.
    drop((send_rx, recv_tx, select_tx, select_tx2, server, mutex_guard));
    drop((
        write_guard,
        read_guard,
        semaphore,
        notify,
        wait_group,
        joined_tx,
    ));
    cancel.cancel();
    release_blocking.send(()).unwrap();
    for (_, task) in tasks {
        task.abort();
    }
}

#[runtime::test]
async fn min_parked_separates_old_parks_from_new_ones() {
    let (_tx, rx) = runtime::chan::channel::<u32>(0);
    let task = runtime::spawn(async move { rx.recv().await });
    let threshold = Duration::from_millis(20);
    // Wait (on the park clock, not a guess) until the park is old enough.
    let old = profile_when("parked long enough", |profile| {
        profile
            .task(task.id())
            .and_then(|t| t.park())
            .is_some_and(|park| park.duration() >= threshold)
    })
    .await;
    let found = leaks(
        &old,
        LeakOptions {
            min_parked: threshold,
        },
    );
    assert_eq!(ids(&found.suspected), [task.id()]);
    assert!(found.proven.is_empty());
    let found = leaks(&old, PROOF_ONLY);
    assert!(found.is_empty(), "{found:?}");
    assert_eq!(LeakOptions::default().min_parked, Duration::from_secs(30));
    task.abort();
}

#[runtime::test]
async fn tasks_that_are_not_parked_are_never_leaks() {
    let stop = Arc::new(AtomicBool::new(false));
    let spinner = runtime::spawn({
        let stop = stop.clone();
        async move {
            while !stop.load(Ordering::Relaxed) {
                runtime::yield_now().await;
            }
        }
    });
    for _ in 0..100 {
        let profile = runtime::profile();
        let spinning = profile.task(spinner.id()).unwrap();
        assert_ne!(spinning.state(), TaskState::Parked);
        assert!(leaks(&profile, ANY_PARK).is_empty());
    }
    stop.store(true, Ordering::Relaxed);
    spinner.await.unwrap();
}

#[runtime::test]
async fn check_passes_once_finishing_tasks_finish() {
    let check = LeakCheck::start();
    let before = runtime::spawn(std::future::pending::<()>());
    let short = runtime::spawn(async {
        runtime::time::sleep(Duration::from_millis(20)).await;
    });
    drop(short); // detached: the check waits for it, not us
    before.abort();
    check.check().await.unwrap();
}

#[runtime::test]
async fn tasks_alive_at_start_are_not_reported() {
    let old = runtime::spawn(std::future::pending::<()>());
    profile_when_parked(&[old.id()]).await;
    let check = LeakCheck::start().grace_period(Duration::from_millis(10));
    check.check().await.unwrap();
    old.abort();
}

/// `check` from a task spawned after `start` does not report itself, but does report
/// another new task that is running.
#[runtime::test(worker_threads = 2)]
async fn check_from_a_new_task_reports_others_not_itself() {
    let check = LeakCheck::start().grace_period(Duration::from_millis(20));
    let stop = Arc::new(AtomicBool::new(false));
    let spinner = runtime::spawn({
        let stop = stop.clone();
        async move {
            while !stop.load(Ordering::Relaxed) {
                runtime::yield_now().await;
            }
        }
    });
    let checker = runtime::spawn(async move { check.check().await });
    let checker_id = checker.id();
    let report = checker.await.unwrap().unwrap_err();
    let reported = ids(report.tasks());
    assert_eq!(reported, [spinner.id()], "{report}");
    assert!(!reported.contains(&checker_id));
    // Running (`[running, 0s in poll]:` on its worker) or queued.
    let text = report.to_string();
    assert!(
        text.contains(" [running, ")
            || text.contains(" [running]:")
            || text.contains("[runnable]:"),
        "{text}"
    );
    stop.store(true, Ordering::Relaxed);
    spinner.await.unwrap();

    // From a task, with nothing else new: passes.
    let check = LeakCheck::start();
    runtime::spawn(async move { check.check().await })
        .await
        .unwrap()
        .unwrap();
}

#[runtime::test]
async fn report_prints_each_task_in_the_per_task_format() {
    let check = LeakCheck::start().grace_period(Duration::from_millis(10));
    let proven = runtime::task::Builder::new()
        .name("stuck")
        .spawn(async { Context::background().done().await });
    let (tx, rx) = runtime::chan::channel::<u32>(0);
    let suspected = runtime::spawn(async move { tx.send(7).await });
    profile_when_parked(&[proven.id(), suspected.id()]).await;

    let report = check.check().await.unwrap_err();
    assert_eq!(ids(report.tasks()), [proven.id(), suspected.id()]);
    assert_eq!(
        ids(&report.proven().cloned().collect::<Vec<_>>()),
        [proven.id()]
    );
    let text = report.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "found 2 leaked task(s)", "{text}");
    assert_eq!(lines[1], "");
    let header = format!("task {} \"stuck\" [context done, ", proven.id());
    assert!(lines[2].starts_with(&header), "{text}");
    assert!(lines[2].ends_with("] [proven: no live waker]:"), "{text}");
    assert!(
        lines[3].starts_with(&format!("\tparked at {}:", file!())),
        "{text}"
    );
    let block = text.split("\n\n").nth(2).unwrap();
    assert!(
        block.starts_with(&format!("task {} [chan send, ", suspected.id())),
        "{text}"
    );
    assert!(!block.contains("proven"), "{text}");
    assert!(
        block.contains(&format!("\tparked at {}:", file!())),
        "{text}"
    );
    assert!(block.contains("\tfuture leaks::"), "{text}");
    assert!(text.matches("created ").count() == 2, "{text}");

    // `Error` and `Debug` too, for `?` and `unwrap`.
    let error: Box<dyn std::error::Error> = Box::new(report.clone());
    assert_eq!(error.to_string(), text);
    assert!(format!("{report:?}").contains("LeakReport"));
    drop(rx);
    proven.abort();
}

#[cfg(feature = "profiling")]
#[runtime::test]
async fn a_deadlock_is_proven_and_listed() {
    let (a, b) = test_support::two_mutexes_in_opposite_orders().await;
    let earlier = runtime::profile();
    let later = runtime::profile();
    let found = profiler::leaks_confirmed(&earlier, &later, PROOF_ONLY);
    assert_eq!(found.deadlocks.len(), 1);
    let mut expected = vec![a.id(), b.id()];
    expected.sort();
    assert_eq!(ids(&found.proven), expected);
    assert!(found.suspected.is_empty());
    // Each task waits for the other: the cycle names both, starting at the lower id.
    assert_eq!(found.deadlocks[0].tasks(), expected);
    a.abort();
    b.abort();
}

#[cfg(feature = "profiling")]
#[test]
fn goroutineleak_lists_the_deadlock() {
    let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
    let (a, b) = rt.block_on(test_support::two_mutexes_in_opposite_orders());
    let server = profiler::serve_handle("127.0.0.1:0", rt.handle().clone()).unwrap();
    let get = |path: &str| test_support::http_get(server.local_addr(), path);
    let (low, high) = (a.id().min(b.id()), a.id().max(b.id()));
    let grouped = get("/debug/pprof/goroutineleak?debug=1");
    assert!(
        grouped.contains(&format!(
            "\ndeadlock: task {low} → task {high} → task {low}\n#\ttask {low} [mutex lock] at "
        )),
        "{grouped}"
    );
    assert!(
        grouped.contains("#\tleak        proven: deadlock\n"),
        "{grouped}"
    );
    assert!(grouped.contains("(2 proven, "), "{grouped}");
    let tasks = get("/debug/pprof/goroutineleak?debug=2");
    assert!(
        tasks.contains(&format!("\theld by task {high}\n")),
        "{tasks}"
    );
    a.abort();
    b.abort();
}
