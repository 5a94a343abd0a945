//! Shutdown leaves no thread behind. One test in this binary, so no other test's threads are
//! counted.

use std::time::Duration;

fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("Linux /proc")
        .count()
}

/// The kernel drops a thread's /proc entry just after `pthread_join` returns: allow it a
/// moment (this waits for the kernel, it does not time anything).
fn settled_thread_count(expected: usize) -> usize {
    for _ in 0..1000 {
        let count = thread_count();
        if count == expected {
            return count;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    thread_count()
}

#[test]
fn runtimes_built_and_dropped_leave_no_threads_behind() {
    let before = thread_count();
    for round in 0..20 {
        let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
        rt.block_on(async {
            runtime::spawn(async { runtime::time::sleep(Duration::from_millis(1)).await })
                .await
                .unwrap();
            runtime::spawn_blocking(|| ()).await.unwrap();
            // A task left parked forever is cancelled by the drop.
            runtime::spawn(std::future::pending::<()>());
        });
        assert_eq!(
            settled_thread_count(before + 3),
            before + 3,
            "round {round}: 2 workers + 1 blocking"
        );
        drop(rt);
        assert_eq!(
            settled_thread_count(before),
            before,
            "round {round}: threads left after drop"
        );
    }
}
