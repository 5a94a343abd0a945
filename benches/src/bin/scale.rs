//! Many tasks parked at once, on Parkade and on tokio: memory per task, spawn time, and the
//! cost of a snapshot of all of them.
//!
//! ```sh
//! cargo run --release -p benches --bin scale [-- N]    # default N = 1,000,000
//! ```
//!
//! N tasks park at once: a third receive on channels whose senders are kept, a third sleep
//! for an hour, a third read loopback TCP sockets (both ends of connected pairs, so a socket
//! task costs one file descriptor; if the open-files limit is too low for N/3 of them, the
//! socket tasks are capped to what fits and the rest split between the other two kinds).
//! The futures are the same on both runtimes (`benches::rt`): Parkade's channel, sleep and
//! `TcpStream` against tokio's `mpsc`, `sleep` and `TcpStream`.
//!
//! Each runtime runs in its own child process (this binary re-executed with `--child`), so
//! that RSS deltas do not mix. Per runtime:
//! - bytes per parked task: the RSS delta (`/proc/self/statm`) from before the first spawn to
//!   all parked, over the tasks; the channels and the sockets themselves are made before the
//!   baseline, so this is each task, its future and its timer or I/O registration;
//! - the time of the spawn loops (from a non-worker thread), and until all have parked (a
//!   task counts as parked when its first poll returns `Pending`);
//! - Parkade: `rt.profile()` of all tasks and rendering it as debug=1 (`write_grouped`),
//!   medians of 5; tokio's `Handle::dump()` needs `--cfg tokio_unstable`, so n/a;
//! - a probe task that spawns and joins a tiny task in a loop: its worst round trip during
//!   the snapshots (how long a worker was held up) and during 1 s without.

use benches::rt::{ChanRx, Parkade, Rt, Tokio};
use std::collections::HashMap;
use std::future::Future;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// File descriptors kept out of the socket budget (stdio, epoll, eventfds, listeners, …).
const FD_RESERVE: usize = 128;
/// Connections per listener, within the ephemeral port range.
const PAIRS_PER_LISTENER: usize = 16_000;
const SNAPSHOTS: usize = 5;
const TOKIO_NO_DUMP: &str = "n/a (needs --cfg tokio_unstable)";

/// Tasks whose first poll has returned `Pending`.
static PARKED: AtomicUsize = AtomicUsize::new(0);

/// Runs `future`, counting the task in [`PARKED`] the first time it returns `Pending`.
async fn count_parked<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut counted = false;
    std::future::poll_fn(|cx| {
        let poll = future.as_mut().poll(cx);
        if poll.is_pending() && !counted {
            counted = true;
            PARKED.fetch_add(1, Relaxed);
        }
        poll
    })
    .await
}

fn wait_parked(total: usize) {
    while PARKED.load(Relaxed) < total {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Resident set size in bytes.
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * page_size()
}

/// The page size, from the auxiliary vector's `AT_PAGESZ`.
fn page_size() -> u64 {
    const AT_PAGESZ: u64 = 6;
    let auxv = std::fs::read("/proc/self/auxv").unwrap_or_default();
    auxv.chunks_exact(16)
        .find(|entry| u64::from_ne_bytes(entry[..8].try_into().unwrap()) == AT_PAGESZ)
        .map_or(4096, |entry| {
            u64::from_ne_bytes(entry[8..].try_into().unwrap())
        })
}

/// The soft open-files limit (`ulimit -n`), from `/proc/self/limits`.
fn fd_limit() -> usize {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    limits
        .lines()
        .find_map(|line| {
            let soft = line
                .strip_prefix("Max open files")?
                .split_whitespace()
                .next()?;
            Some(soft.parse().unwrap_or(usize::MAX)) // "unlimited"
        })
        .unwrap_or(1024)
}

/// `pairs` connected loopback pairs, both ends of each.
fn socket_pairs(pairs: usize) -> Vec<Option<std::net::TcpStream>> {
    let mut streams = Vec::with_capacity(pairs * 2);
    let mut made = 0;
    while made < pairs {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        for _ in 0..PAIRS_PER_LISTENER.min(pairs - made) {
            let client = std::net::TcpStream::connect(addr).unwrap();
            let (server, _) = listener.accept().unwrap();
            streams.push(Some(client));
            streams.push(Some(server));
            made += 1;
        }
    }
    streams
}

/// A snapshot of every task, where the runtime has one.
trait Snapshot: Rt {
    /// Times one snapshot and its debug=1 rendering; returns them and the rendering's size.
    fn snapshot(rt: &Self::Runtime, tasks: usize) -> Option<(Duration, Duration, usize)>;
}

impl Snapshot for Parkade {
    fn snapshot(rt: &runtime::Runtime, tasks: usize) -> Option<(Duration, Duration, usize)> {
        let start = Instant::now();
        let profile = rt.profile();
        let snapshot = start.elapsed();
        assert!(profile.len() >= tasks, "{} < {tasks}", profile.len());
        let mut out = Vec::new();
        let start = Instant::now();
        profiler::text::write_grouped(&mut out, &profile).unwrap();
        Some((snapshot, start.elapsed(), out.len()))
    }
}

impl Snapshot for Tokio {
    fn snapshot(_: &tokio::runtime::Runtime, _: usize) -> Option<(Duration, Duration, usize)> {
        None
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Parks `chans + sleeps + sockets` tasks on `R` and prints `key value` lines.
fn child<R: Snapshot>(chans: usize, sleeps: usize, sockets: usize) {
    let rt = R::build(benches::workers());
    // Warm-up: worker threads, allocator arenas, the timer and the I/O driver.
    R::block_on(
        &rt,
        R::spawn_on(&rt, async {
            for _ in 0..1_000 {
                R::spawn(async {}).await;
            }
            R::sleep(Duration::from_millis(2)).await;
        }),
    );
    let mut senders = Vec::with_capacity(chans);
    let mut receivers = Vec::with_capacity(chans);
    for _ in 0..chans {
        let (tx, rx) = R::channel::<()>(1);
        senders.push(tx);
        receivers.push(Some(rx));
    }
    let mut streams = socket_pairs(sockets / 2);
    let total = chans + sleeps + sockets;

    let mut out = Vec::new();
    let mut spawn = Duration::ZERO;
    let base = rss();
    let start = Instant::now();

    let t = Instant::now();
    for rx in &mut receivers {
        let mut rx = rx.take().unwrap();
        R::detach_on(
            &rt,
            count_parked(async move {
                rx.recv().await;
            }),
        );
    }
    spawn += t.elapsed();
    wait_parked(chans);
    let rss_chans = rss();

    let t = Instant::now();
    for _ in 0..sleeps {
        R::detach_on(
            &rt,
            count_parked(async { R::sleep(Duration::from_secs(3600)).await }),
        );
    }
    spawn += t.elapsed();
    wait_parked(chans + sleeps);
    let rss_sleeps = rss();

    let t = Instant::now();
    for stream in &mut streams {
        let stream = stream.take().unwrap();
        R::detach_on(
            &rt,
            count_parked(async move {
                let mut stream = R::from_std(stream);
                let mut buf = [0u8; 64];
                let _ = R::read(&mut stream, &mut buf).await;
            }),
        );
    }
    spawn += t.elapsed();
    wait_parked(total);
    let parked = start.elapsed();
    let rss_all = rss();

    let per_task = |delta: u64, n: usize| if n == 0 { 0 } else { delta / n as u64 };
    out.push(("bytes_per_task", per_task(rss_all - base, total)));
    out.push(("bytes_chan", per_task(rss_chans - base, chans)));
    out.push(("bytes_sleep", per_task(rss_sleeps - rss_chans, sleeps)));
    out.push(("bytes_socket", per_task(rss_all - rss_sleeps, sockets)));
    out.push(("spawn_ns", spawn.as_nanos() as u64));
    out.push(("parked_ns", parked.as_nanos() as u64));

    // The probe: worst spawn-and-join round trip, in ns, since the last reset.
    let worst = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    {
        let (worst, stop) = (worst.clone(), stop.clone());
        R::detach_on(&rt, async move {
            while !stop.load(Relaxed) {
                let start = Instant::now();
                R::spawn(async {}).await;
                worst.fetch_max(start.elapsed().as_nanos() as u64, Relaxed);
                R::sleep(Duration::from_micros(200)).await;
            }
        });
    }
    std::thread::sleep(Duration::from_millis(300));
    worst.store(0, Relaxed);
    std::thread::sleep(Duration::from_secs(1));
    out.push(("probe_idle_ns", worst.swap(0, Relaxed)));

    let (mut snapshots, mut renders, mut rendered) = (Vec::new(), Vec::new(), 0);
    for _ in 0..SNAPSHOTS {
        if let Some((snapshot, render, bytes)) = R::snapshot(&rt, total) {
            snapshots.push(snapshot);
            renders.push(render);
            rendered = bytes;
        }
    }
    if !snapshots.is_empty() {
        out.push(("probe_snapshot_ns", worst.load(Relaxed)));
        out.push(("snapshot_ns", median(snapshots).as_nanos() as u64));
        out.push(("render_ns", median(renders).as_nanos() as u64));
        out.push(("render_bytes", rendered as u64));
    }
    stop.store(true, Relaxed);

    for (key, value) in out {
        println!("{key} {value}");
    }
    drop(senders);
    // Skip tearing down a million tasks.
    std::process::exit(0);
}

fn run_child(name: &str, chans: usize, sleeps: usize, sockets: usize) -> HashMap<String, u64> {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--child", name])
        .args([chans, sleeps, sockets].map(|n| n.to_string()))
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(output.status.success(), "{name} child: {}", output.status);
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| {
            let (key, value) = line.split_once(' ')?;
            Some((key.to_string(), value.parse().ok()?))
        })
        .collect()
}

/// 1234567 → "1,234,567".
fn thousands(mut n: usize) -> String {
    let mut groups = Vec::new();
    while n >= 1000 {
        groups.push(format!("{:03}", n % 1000));
        n /= 1000;
    }
    groups.push(n.to_string());
    groups.reverse();
    groups.join(",")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child") {
        let n = |i: usize| args[i].parse::<usize>().unwrap();
        let (chans, sleeps, sockets) = (n(3), n(4), n(5));
        match args[2].as_str() {
            "parkade" => child::<Parkade>(chans, sleeps, sockets),
            "tokio" => child::<Tokio>(chans, sleeps, sockets),
            other => panic!("unknown runtime {other}"),
        }
        return;
    }
    let tasks: usize = match args.get(1) {
        Some(arg) => arg.replace(['_', ','], "").parse().unwrap_or_else(|_| {
            eprintln!("usage: scale [TASKS]");
            std::process::exit(2)
        }),
        None => 1_000_000,
    };

    let fd_limit = fd_limit();
    let fd_budget = fd_limit.saturating_sub(FD_RESERVE + tasks / 3 / PAIRS_PER_LISTENER);
    let sockets = (tasks / 3).min(fd_budget) & !1;
    let chans = (tasks - sockets).div_ceil(2);
    let sleeps = tasks - sockets - chans;
    println!(
        "scale: {} tasks parked at once ({} on channels, {} in 1 h sleeps, {} reading sockets), {} workers, each runtime in its own process",
        thousands(tasks),
        thousands(chans),
        thousands(sleeps),
        thousands(sockets),
        benches::workers()
    );
    if sockets < (tasks / 3) & !1 {
        println!(
            "note: open-files limit (ulimit -n) is {}: socket tasks capped from {} to {} (one fd each); the rest are split between channels and sleeps",
            thousands(fd_limit),
            thousands(tasks / 3),
            thousands(sockets)
        );
    }
    println!();

    let parkade = run_child("parkade", chans, sleeps, sockets);
    let tokio = run_child("tokio", chans, sleeps, sockets);

    let ms = |ns: u64| {
        if ns >= 1_000_000 {
            format!("{:.1} ms", ns as f64 / 1e6)
        } else {
            format!("{:.0} µs", ns as f64 / 1e3)
        }
    };
    let cell = |m: &HashMap<String, u64>, key: &str, f: &dyn Fn(u64) -> String, missing: &str| {
        m.get(key).map_or_else(|| missing.to_string(), |&v| f(v))
    };
    let bytes = |b: u64| b.to_string();
    let row = |label: String, key: &str, f: &dyn Fn(u64) -> String, tokio_missing: &str| {
        println!(
            "| {label} | {} | {} |",
            cell(&parkade, key, f, "n/a"),
            cell(&tokio, key, f, tokio_missing)
        );
    };
    println!("| {} tasks | Parkade | tokio |", thousands(tasks));
    println!("|---|---:|---:|");
    row(
        "bytes per parked task (RSS delta / tasks)".into(),
        "bytes_per_task",
        &bytes,
        "n/a",
    );
    row(
        format!("… on a channel receive ({})", thousands(chans)),
        "bytes_chan",
        &bytes,
        "n/a",
    );
    row(
        format!("… in a sleep ({})", thousands(sleeps)),
        "bytes_sleep",
        &bytes,
        "n/a",
    );
    row(
        format!("… reading a socket ({})", thousands(sockets)),
        "bytes_socket",
        &bytes,
        "n/a",
    );
    row(
        format!("spawn {} tasks (from outside)", thousands(tasks)),
        "spawn_ns",
        &ms,
        "n/a",
    );
    row("spawn until all parked".into(), "parked_ns", &ms, "n/a");
    row(
        format!("snapshot of all tasks (median of {SNAPSHOTS})"),
        "snapshot_ns",
        &ms,
        TOKIO_NO_DUMP,
    );
    let render_label = match parkade.get("render_bytes") {
        Some(&b) if b >= 10 << 10 => {
            format!("render debug=1 ({} KB, median of {SNAPSHOTS})", b >> 10)
        }
        Some(&b) => format!("render debug=1 ({b} bytes, median of {SNAPSHOTS})"),
        None => format!("render debug=1 (median of {SNAPSHOTS})"),
    };
    row(render_label, "render_ns", &ms, TOKIO_NO_DUMP);
    row(
        "probe's worst spawn+join round trip during snapshots".into(),
        "probe_snapshot_ns",
        &ms,
        TOKIO_NO_DUMP,
    );
    row(
        "probe's worst spawn+join round trip, 1 s without".into(),
        "probe_idle_ns",
        &ms,
        "n/a",
    );
}
