//! The debug endpoint under load: N parked tasks (half on channels, half sleeping), the
//! endpoint on loopback (`profiler::serve`, defaults), C concurrent clients requesting one
//! path as fast as they can for T seconds, a task timing 1 ms sleeps in the app.
//!
//! ```sh
//! cargo run --release -p benches --bin endpoint_load -- [TASKS] [CLIENTS] [SECONDS] [PATH…]
//! # defaults: 1000000 64 10 /metrics /debug/pprof/goroutine?debug=1; 0 clients: the floor
//! ```
//!
//! For each path: requests answered (by status), p50 and p99 latency, the process's peak
//! RSS above what it was before the load (`VmHWM`, reset between paths through
//! `/proc/self/clear_refs`), and the worst lateness of the app's 1 ms sleeps, beside the
//! same sleep's on a plain OS thread (the control: what the machine itself adds). Each client
//! keeps its connection alive, as Prometheus and `ab -k` do; it reconnects when the endpoint
//! closes it (after a streamed dump or an error such as `503`), and that connect counts in the
//! request's latency.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A kibibyte count from `/proc/self/status`.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| {
            line.strip_prefix(field)?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// Resets the peak RSS (`VmHWM`) to the current RSS.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// A client's kept-alive connection.
struct Client {
    addr: SocketAddr,
    stream: Option<BufReader<TcpStream>>,
}

impl Client {
    /// One request; its status (0 if the connection failed) and latency.
    fn request(&mut self, path: &str) -> (u16, Duration) {
        let start = Instant::now();
        // A kept connection the endpoint closed meanwhile (idle) fails at once: retry once on
        // a new one.
        for _ in 0..2 {
            let reused = self.stream.is_some();
            match self.exchange(path) {
                Some(status) => return (status, start.elapsed()),
                None if reused => self.stream = None,
                None => break,
            }
        }
        self.stream = None;
        (0, start.elapsed())
    }

    fn exchange(&mut self, path: &str) -> Option<u16> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(self.addr).ok()?;
            stream
                .set_read_timeout(Some(Duration::from_secs(60)))
                .ok()?;
            self.stream = Some(BufReader::new(stream));
        }
        let reader = self.stream.as_mut()?;
        // One write: `write!` sends the request in pieces, and Nagle's algorithm holds the
        // second back until the server's delayed ACK (40 ms).
        let request = format!("GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n");
        reader.get_mut().write_all(request.as_bytes()).ok()?;
        let (mut status, mut length, mut close) = (0, None, false);
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).ok()? == 0 {
                return None;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(code) = line.strip_prefix("HTTP/1.1 ") {
                status = code.get(..3)?.parse().ok()?;
            } else if let Some((name, value)) = line.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.parse::<u64>().ok();
                } else if name.eq_ignore_ascii_case("connection") {
                    close = value.eq_ignore_ascii_case("close");
                }
            }
        }
        match length {
            Some(length) if !close => {
                io::copy(&mut reader.take(length), &mut io::sink()).ok()?;
            }
            _ => {
                io::copy(reader, &mut io::sink()).ok()?;
                self.stream = None;
            }
        }
        Some(status)
    }
}

/// Runs this client thread at nice 19, below the endpoint's threads (+10) and the app's
/// workers (0): the clients stand for other machines, and on a 2-core box 64 clients at the
/// workers' priority would take the CPU from them and measure themselves.
fn lowest_priority() {
    // SAFETY: setpriority on this thread's own id changes only its nice value.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 19);
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number =
        |i: usize, default: u64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let tasks = number(0, 1_000_000) as usize;
    let clients = number(1, 64) as usize;
    let seconds = number(2, 10);
    let mut paths: Vec<String> = args.iter().skip(3).cloned().collect();
    if paths.is_empty() {
        paths = vec!["/metrics".into(), "/debug/pprof/goroutine?debug=1".into()];
    }

    let rt = runtime::Builder::new()
        .worker_threads(benches::workers())
        .build()
        .unwrap();
    let _keep = benches::spawn_parked_mix(&rt, tasks);
    let server = profiler::serve_handle("127.0.0.1:0", rt.handle().clone()).unwrap();
    let addr = server.local_addr();

    // The app's timer: how late does a 1 ms sleep wake, at worst, since the last reset?
    let worst_late = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    {
        let (worst_late, stop) = (worst_late.clone(), stop.clone());
        rt.spawn(async move {
            while !stop.load(Relaxed) {
                let start = Instant::now();
                runtime::time::sleep(Duration::from_millis(1)).await;
                let late = start.elapsed().saturating_sub(Duration::from_millis(1));
                worst_late.fetch_max(late.as_nanos() as u64, Relaxed);
            }
        });
    }

    // The control: the same 1 ms sleep on a plain OS thread at the workers' priority, outside
    // the runtime. Lateness it shares with the app's timer is the machine's scheduling (the
    // kernel's loopback work, other processes), not the runtime's.
    let thread_late = Arc::new(AtomicU64::new(0));
    let control = {
        let (thread_late, stop) = (thread_late.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Relaxed) {
                let start = Instant::now();
                std::thread::sleep(Duration::from_millis(1));
                let late = start.elapsed().saturating_sub(Duration::from_millis(1));
                thread_late.fetch_max(late.as_nanos() as u64, Relaxed);
            }
        })
    };

    println!(
        "endpoint_load: {tasks} parked tasks, {clients} clients, {seconds} s per path, {} workers\n",
        benches::workers()
    );
    println!("| path | requests (200 / 503 / other) | p50 | p99 | peak RSS above idle | 1 ms sleep, worst late | OS thread's 1 ms sleep, worst late |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for path in &paths {
        std::thread::sleep(Duration::from_millis(500));
        let idle_rss = status_kib("VmRSS:");
        reset_peak();
        worst_late.store(0, Relaxed);
        thread_late.store(0, Relaxed);
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let workers: Vec<_> = (0..clients)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || {
                    lowest_priority();
                    let mut client = Client { addr, stream: None };
                    let mut results = Vec::new();
                    while Instant::now() < deadline {
                        results.push(client.request(&path));
                    }
                    results
                })
            })
            .collect();
        let mut latencies = Vec::new();
        let (mut ok, mut busy, mut other) = (0, 0, 0);
        for worker in workers {
            for (status, latency) in worker.join().unwrap() {
                match status {
                    200 => ok += 1,
                    503 => busy += 1,
                    _ => other += 1,
                }
                latencies.push(latency);
            }
        }
        // With no clients, the row is the machine's floor: the sleeps over `seconds` alone.
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
        latencies.sort();
        let peak = status_kib("VmHWM:").saturating_sub(idle_rss);
        println!(
            "| `{path}` | {} ({ok} / {busy} / {other}) | {} | {} | {} MB | {} | {} |",
            latencies.len(),
            ms(percentile(&latencies, 0.5)),
            ms(percentile(&latencies, 0.99)),
            peak / 1024,
            ms(Duration::from_nanos(worst_late.load(Relaxed))),
            ms(Duration::from_nanos(thread_late.load(Relaxed))),
        );
    }
    stop.store(true, Relaxed);
    control.join().unwrap();
    drop(server);
}
