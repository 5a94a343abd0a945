//! How long a profile of many parked tasks takes, and how long it holds a worker up.
//!
//! `cargo run --release -p benches --bin snapshot [-- TASKS]` (default 100,000)
//!
//! Tasks park on channels; meanwhile a probe task spawns and awaits a tiny task in a loop
//! (each spawn and completion takes a registry shard lock, as a snapshot does), recording
//! its slowest round trip. Reported: medians of 5 rounds of `task_counts()`, `profile()`, the debug=1 and
//! debug=2 renderings, the pprof encoding, and the probe's worst round trip during
//! snapshots against its worst without.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let tasks: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let rt = runtime::Builder::new()
        .worker_threads(benches::workers())
        .build()
        .unwrap();
    let (_keep, parked) = runtime::chan::channel::<()>(0);
    for _ in 0..tasks {
        let parked = parked.clone();
        rt.spawn(async move { parked.recv().await });
    }
    while rt
        .profile()
        .parked_on(runtime::ParkReason::ChanReceive)
        .count()
        < tasks
    {
        std::thread::sleep(Duration::from_millis(20));
    }

    // The probe: worst spawn-and-join round trip, in ns, since the last reset.
    let worst = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    {
        let (worst, stop) = (worst.clone(), stop.clone());
        rt.spawn(async move {
            while !stop.load(Relaxed) {
                let start = Instant::now();
                runtime::spawn(async {}).await.unwrap();
                worst.fetch_max(start.elapsed().as_nanos() as u64, Relaxed);
                runtime::time::sleep(Duration::from_micros(200)).await;
            }
        });
    }
    std::thread::sleep(Duration::from_millis(300));
    worst.store(0, Relaxed);
    std::thread::sleep(Duration::from_millis(500));
    let idle_worst = Duration::from_nanos(worst.swap(0, Relaxed));

    let (mut snap, mut grouped, mut tasks_dump, mut pprof) = (vec![], vec![], vec![], vec![]);
    let mut json = vec![];
    let mut counts = vec![];
    let mut bytes2 = 0;
    for _ in 0..5 {
        let start = Instant::now();
        let counted = rt.handle().task_counts();
        counts.push(start.elapsed());
        assert!(counted.parked() >= tasks as u64);

        let start = Instant::now();
        let profile = rt.profile();
        snap.push(start.elapsed());
        assert!(profile.len() >= tasks);

        // Into a Vec: `io::Sink` skips formatting altogether.
        let mut out = Vec::new();
        let start = Instant::now();
        profiler::text::write_grouped(&mut out, &profile).unwrap();
        grouped.push(start.elapsed());
        assert!(out.starts_with(b"task profile: total"));

        let mut out = Vec::new();
        let start = Instant::now();
        profiler::text::write_tasks(&mut out, &profile).unwrap();
        tasks_dump.push(start.elapsed());
        bytes2 = out.len();

        let start = Instant::now();
        let _ = profiler::pprof::encode(&profile);
        pprof.push(start.elapsed());

        // What `goroutine?debug=json` answers without a page of tasks: groups and totals,
        // the snapshot included.
        let start = Instant::now();
        let page = profiler::json::Page::default();
        let body = profiler::json::render(&rt.profile(), &page).unwrap();
        json.push(start.elapsed());
        assert!(body.starts_with(b"{\"version\":1"));
    }
    let snapshot_worst = Duration::from_nanos(worst.load(Relaxed));
    stop.store(true, Relaxed);

    println!("{tasks} parked tasks, {} workers\n", benches::workers());
    println!("| step | median of 5 |");
    println!("|---|---:|");
    println!(
        "| `task_counts()` (what /metrics reads) | {} |",
        ms(median(counts))
    );
    // The same snapshot into a buffer kept from the last one (`Handle::refresh_profile`).
    let mut kept = rt.profile();
    let mut refreshes = vec![];
    for _ in 0..5 {
        let start = Instant::now();
        rt.handle().refresh_profile(&mut kept);
        refreshes.push(start.elapsed());
    }
    drop(kept);
    let start = Instant::now();
    let display = rt.profile().to_string();
    let display_time = start.elapsed();
    assert!(display.starts_with("task profile: total"));
    let first_snapshot = snap[0];
    let first_grouped = grouped[0];
    println!("| `profile()` snapshot | {} |", ms(median(snap)));
    println!(
        "| `refresh_profile()` (the buffer kept) | {} |",
        ms(median(refreshes))
    );
    println!("| render debug=1 (grouped) | {} |", ms(median(grouped)));
    println!(
        "| render debug=2 ({} MB) | {} |",
        bytes2 >> 20,
        ms(median(tasks_dump))
    );
    println!("| pprof encode (gzipped) | {} |", ms(median(pprof)));
    println!(
        "| `goroutine?debug=json` groups and totals (snapshot included) | {} |",
        ms(median(json))
    );
    println!(
        "`rt.profile().to_string()` (runtime's Display, snapshot included): {}",
        ms(display_time)
    );
    println!(
        "\nfirst round (a process's first profile, as a one-shot program measures it): \
         snapshot {}, debug=1 {}",
        ms(first_snapshot),
        ms(first_grouped)
    );
    println!(
        "\nprobe's worst spawn+join round trip: {} while snapshotting, {} without",
        ms(snapshot_worst),
        ms(idle_worst)
    );
}
