//! Spawning, joining, aborting, panicking, blocking and shutting down, as a tokio user expects.

use runtime::{Handle, Runtime, TaskState};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::time::Duration;

fn rt(workers: usize) -> Runtime {
    runtime::Builder::new()
        .worker_threads(workers)
        .build()
        .unwrap()
}

/// Counts drops, to prove a future was dropped exactly once.
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn a_panicking_task_gives_join_error_and_the_worker_survives() {
    let rt = rt(1);
    rt.block_on(async {
        let n = std::hint::black_box(7);
        let err = runtime::spawn(async move { panic!("boom {n}") })
            .await
            .unwrap_err();
        assert!(err.is_panic());
        assert!(!err.is_cancelled());
        assert_eq!(
            err.to_string(),
            format!("task {} panicked with message \"boom 7\"", err.id())
        );
        let payload = err.into_panic();
        assert_eq!(payload.downcast_ref::<String>().unwrap(), "boom 7");
        // The single worker still runs tasks.
        for i in 0..100 {
            assert_eq!(runtime::spawn(async move { i }).await.unwrap(), i);
        }
    });
}

#[test]
fn a_panic_in_a_dropped_future_destructor_is_contained() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("drop panic");
        }
    }
    let rt = rt(1);
    rt.block_on(async {
        let guard = PanicOnDrop;
        let task = runtime::spawn(async move {
            let _guard = guard;
            runtime::time::sleep(Duration::from_secs(3600)).await;
        });
        runtime::time::sleep(Duration::from_millis(5)).await;
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        assert_eq!(runtime::spawn(async { 6 }).await.unwrap(), 6);
    });
}

#[test]
fn abort_cancels_a_parked_task_and_drops_its_future_once() {
    let rt = rt(2);
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = DropCount(drops.clone());
    rt.block_on(async {
        let task = runtime::spawn(async move {
            let _guard = guard;
            runtime::time::sleep(Duration::from_secs(3600)).await;
        });
        runtime::time::sleep(Duration::from_millis(10)).await;
        assert!(!task.is_finished());
        task.abort();
        let err = task.await.unwrap_err();
        assert!(err.is_cancelled());
        assert_eq!(err.to_string(), format!("task {} was cancelled", err.id()));
    });
    assert_eq!(drops.load(SeqCst), 1);
}

#[test]
fn abort_after_completion_keeps_the_output() {
    let rt = rt(2);
    rt.block_on(async {
        let task = runtime::spawn(async { 9 });
        while !task.is_finished() {
            runtime::yield_now().await;
        }
        task.abort();
        assert_eq!(task.await.unwrap(), 9);
    });
}

#[test]
fn abort_before_first_poll_never_polls() {
    let rt = rt(1);
    let polled = Arc::new(AtomicUsize::new(0));
    let seen = polled.clone();
    rt.block_on(async move {
        let (tx, rx) = mpsc::channel();
        // Occupy the only worker so the next task cannot start before the abort.
        let blocker = runtime::spawn(async move { rx.recv().unwrap() });
        let task = runtime::spawn(async move {
            seen.fetch_add(1, SeqCst);
        });
        task.abort();
        tx.send(()).unwrap();
        blocker.await.unwrap();
        assert!(task.await.unwrap_err().is_cancelled());
    });
    assert_eq!(polled.load(SeqCst), 0);
}

#[test]
fn join_handle_reports_id_and_is_finished() {
    let rt = rt(2);
    rt.block_on(async {
        let a = runtime::spawn(async {});
        let b = runtime::spawn(async {});
        assert_ne!(a.id(), b.id());
        let id = a.id();
        let (tx, rx) = mpsc::channel::<()>();
        let waiting = runtime::spawn(async move { rx.recv().unwrap() });
        assert!(!waiting.is_finished());
        tx.send(()).unwrap();
        waiting.await.unwrap();
        a.await.unwrap();
        b.await.unwrap();
        assert!(id.as_u64() > 0);
    });
}

#[test]
fn dropping_a_join_handle_detaches_the_task() {
    let rt = rt(2);
    let (tx, rx) = mpsc::channel();
    rt.block_on(async move {
        drop(runtime::spawn(async move {
            runtime::time::sleep(Duration::from_millis(5)).await;
            tx.send(42).unwrap();
        }));
    });
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), 42);
}

#[test]
fn shutdown_drops_every_parked_and_queued_future_and_joins_threads() {
    let drops = Arc::new(AtomicUsize::new(0));
    let rt = rt(2);
    let handle = rt.handle().clone();
    for _ in 0..1000 {
        let guard = DropCount(drops.clone());
        handle.spawn(async move {
            let _guard = guard;
            runtime::time::sleep(Duration::from_secs(3600)).await;
        });
    }
    let join = {
        let guard = DropCount(drops.clone());
        handle.spawn(std::future::pending::<()>().then_drop(guard))
    };
    rt.block_on(async {
        while runtime::profile()
            .tasks()
            .iter()
            .any(|t| t.state() != TaskState::Parked)
        {
            runtime::time::sleep(Duration::from_millis(1)).await;
        }
    });
    drop(rt);
    assert_eq!(drops.load(SeqCst), 1001);
    // The join handle outlives the runtime and reports the cancellation.
    let err = Runtime::new().unwrap().block_on(join).unwrap_err();
    assert!(err.is_cancelled());
}

trait ThenDrop: Sized {
    fn then_drop<G: Send + 'static>(
        self,
        guard: G,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
    where
        Self: std::future::Future<Output = ()> + Send + 'static,
    {
        Box::pin(async move {
            let _guard = guard;
            self.await
        })
    }
}

impl<F> ThenDrop for F {}

#[test]
fn spawn_after_shutdown_is_cancelled_not_lost() {
    let rt = rt(1);
    let handle = rt.handle().clone();
    drop(rt);
    let join = handle.spawn(async { 1 });
    let err = Runtime::new().unwrap().block_on(join).unwrap_err();
    assert!(err.is_cancelled());
}

#[test]
fn block_on_from_a_plain_thread_and_spawn_through_a_handle() {
    let rt = rt(2);
    let handle = rt.handle().clone();
    let from_thread = std::thread::spawn(move || {
        assert!(Handle::try_current().is_err());
        let join = handle.spawn(async { std::thread::current().name().map(str::to_owned) });
        handle.block_on(join).unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(from_thread.as_deref(), Some("parkade-worker"));
    assert_eq!(rt.block_on(async { 3 }), 3);
}

#[test]
fn enter_makes_spawn_work_on_a_plain_thread() {
    let rt = rt(1);
    let _guard = rt.enter();
    let join = runtime::spawn(async { 11 });
    drop(_guard);
    assert_eq!(rt.block_on(join).unwrap(), 11);
}

#[test]
#[should_panic(expected = "there is no Parkade runtime here")]
fn spawn_outside_a_runtime_panics_with_a_clear_message() {
    drop(runtime::spawn(async {}));
}

#[test]
fn block_on_inside_a_task_panics_instead_of_deadlocking() {
    let rt = rt(1);
    let handle = rt.handle().clone();
    let err = rt
        .block_on(rt.spawn(async move { handle.block_on(async {}) }))
        .unwrap_err();
    assert!(err.is_panic());
    let message = err.to_string();
    assert!(
        message.contains("cannot block_on from a runtime worker thread"),
        "{message}"
    );
}

#[test]
fn spawn_blocking_runs_off_the_workers_and_is_bounded() {
    let rt = runtime::Builder::new()
        .worker_threads(1)
        .max_blocking_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (running, peak) = (running.clone(), peak.clone());
                runtime::spawn_blocking(move || {
                    let now = running.fetch_add(1, SeqCst) + 1;
                    peak.fetch_max(now, SeqCst);
                    std::thread::sleep(Duration::from_millis(5));
                    running.fetch_sub(1, SeqCst);
                    (i, std::thread::current().name().map(str::to_owned))
                })
            })
            .collect();
        for (i, handle) in handles.into_iter().enumerate() {
            let (value, name) = handle.await.unwrap();
            assert_eq!(value, i);
            assert_eq!(name.as_deref(), Some("parkade-worker-blocking"));
        }
        assert!(peak.load(SeqCst) <= 2, "peak {}", peak.load(SeqCst));
        let err = runtime::spawn_blocking(|| panic!("in pool"))
            .await
            .unwrap_err();
        assert!(err.is_panic());
    });
}

#[test]
fn yield_now_lets_other_tasks_run_on_one_worker() {
    let rt = rt(1);
    rt.block_on(async {
        let flag = Arc::new(AtomicUsize::new(0));
        let seen = flag.clone();
        let spinner = runtime::spawn(async move {
            let mut spins = 0u64;
            while seen.load(SeqCst) == 0 {
                runtime::yield_now().await;
                spins += 1;
            }
            spins
        });
        let setter = runtime::spawn(async move { flag.store(1, SeqCst) });
        setter.await.unwrap();
        assert!(spinner.await.unwrap() >= 1);
    });
}

#[test]
fn the_budget_stops_an_always_ready_loop_from_starving_others() {
    // The spinner awaits only runtime futures that are always ready; without the
    // cooperative budget it would never return `Pending` and the other task would never run.
    let rt = rt(1);
    rt.block_on(async {
        let flag = Arc::new(AtomicUsize::new(0));
        let seen = flag.clone();
        let finished = runtime::spawn(async {});
        let spinner = runtime::spawn(async move {
            let mut finished = finished;
            let _ = (&mut finished).await;
            let mut polls = 0u64;
            while seen.load(SeqCst) == 0 {
                runtime::time::sleep(Duration::ZERO).await;
                polls += 1;
            }
            polls
        });
        let setter = runtime::spawn(async move { flag.store(1, SeqCst) });
        setter.await.unwrap();
        assert!(spinner.await.unwrap() >= 1);
    });
}

#[runtime::test]
async fn the_default_runtime_uses_available_cores() {
    let rt_threads = std::thread::available_parallelism().unwrap().get();
    let handle = std::thread::spawn(|| Runtime::new().unwrap().handle().num_workers());
    assert_eq!(handle.join().unwrap(), rt_threads);
}

/// A task that blocks its worker (a long poll: here a deliberate `thread::sleep`) must not
/// hold up the timers of other tasks while another worker is idle: the worker that turned
/// the driver to wake the blocker hands the driver on when it leaves it. (Before the hand-off,
/// the sleeper below woke only when the blocker's poll ended, 2 s late.)
#[test]
fn a_long_poll_does_not_hold_up_timers_while_another_worker_idles() {
    let rt = rt(2);
    rt.block_on(async {
        let blocked = Arc::new(AtomicUsize::new(0));
        let done = blocked.clone();
        // Both tasks park on timers, so both workers go idle: one on the driver, one not.
        let blocker = runtime::spawn(async move {
            runtime::time::sleep(Duration::from_millis(20)).await;
            std::thread::sleep(Duration::from_secs(2)); // blocks its worker: a misuse
            done.store(1, SeqCst);
        });
        let sleeper = runtime::spawn(async move {
            runtime::time::sleep(Duration::from_millis(100)).await;
            blocked.load(SeqCst)
        });
        assert_eq!(
            sleeper.await.unwrap(),
            0,
            "the 100 ms sleep fired only after the 2 s blocking poll ended"
        );
        blocker.await.unwrap();
    });
}
