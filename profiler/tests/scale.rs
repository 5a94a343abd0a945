//! Profiles at scale: 1,000 snapshots in a row on a busy runtime neither hang nor leak, and a
//! debug=2 dump of 1,000,000 tasks is complete. Alone in its binary: it counts the heap.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use test_support::{live_bytes, CountingAlloc};

#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

/// The heap count is process-wide: the tests of this binary take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Counts what is written, and the task headers of a debug=2 dump.
#[derive(Default)]
struct Tally {
    bytes: usize,
    headers: usize,
    at_line_start: bool,
}

impl Write for Tally {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        for &b in buf {
            if self.at_line_start && b == b't' {
                self.headers += 1; // "task N ..." is the only line starting with 't'
            }
            self.at_line_start = b == b'\n';
        }
        self.bytes += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_thousand_snapshots_on_a_busy_runtime_neither_hang_nor_leak() {
    let _serial = serial();
    let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    // Churn: pairs bouncing values, and tasks spawned and finished all the time.
    for _ in 0..8 {
        let stop = stop.clone();
        rt.spawn(async move {
            let (tx, rx) = runtime::chan::channel::<u64>(0);
            let echo = runtime::spawn(async move { while rx.recv().await.is_some() {} });
            let mut i = 0;
            while !stop.load(Relaxed) {
                tx.send(i).await.unwrap();
                runtime::spawn(async move { i * 2 }).await.unwrap();
                i += 1;
            }
            drop(tx);
            echo.await.unwrap();
        });
    }
    // Parked tasks of several reasons.
    let (_keep, parked) = runtime::chan::channel::<()>(0);
    for _ in 0..200 {
        let parked = parked.clone();
        rt.spawn(async move { parked.recv().await });
        rt.spawn(async { runtime::time::sleep(Duration::from_secs(3600)).await });
    }

    // Warm up the allocator's view of snapshot-sized buffers.
    let mut sink = Tally::default();
    profiler::text::write_tasks(&mut sink, &rt.profile()).unwrap();
    let before = live_bytes();
    for _ in 0..1_000 {
        let profile = rt.profile();
        assert!(
            profile.len() >= 400,
            "parked tasks missing: {}",
            profile.len()
        );
        // A counting writer, not `io::sink()`, which skips formatting altogether.
        profiler::text::write_grouped(&mut Tally::default(), &profile).unwrap();
        profiler::text::write_tasks(&mut Tally::default(), &profile).unwrap();
        let _ = profiler::pprof::encode(&profile);
    }
    let grown = live_bytes() - before;
    stop.store(true, Relaxed);
    // Churning tasks come and go; 1,000 leaked snapshots would be megabytes.
    assert!(
        grown < 1 << 20,
        "heap grew by {grown} bytes over 1,000 snapshots"
    );
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "1,000,000 tasks: run with --release (.ci/run does)"
)]
fn a_debug2_dump_of_a_million_tasks_is_complete() {
    const TASKS: usize = 1_000_000;
    let _serial = serial();
    let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
    let (_keep, parked) = runtime::chan::channel::<()>(0);
    for _ in 0..TASKS {
        let parked = parked.clone();
        rt.spawn(async move { parked.recv().await });
    }
    let profile = loop {
        let profile = rt.profile();
        if profile.parked_on(runtime::ParkReason::ChanReceive).count() == TASKS {
            break profile;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut tally = Tally {
        at_line_start: true,
        ..Tally::default()
    };
    profiler::text::write_tasks(&mut tally, &profile).unwrap();
    assert_eq!(tally.headers, TASKS, "every task in the dump, none cut off");
    assert!(
        tally.bytes > 64 << 20,
        "more than Go's 64 MB cut-off: {}",
        tally.bytes
    );
}
