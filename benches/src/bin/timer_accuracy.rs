//! How late timers fire under load, on Parkade and on tokio with the same worker count.
//!
//! `cargo run --release -p benches --bin timer_accuracy`
//!
//! Load: one task per worker spinning on `yield_now` (the workers never go idle), plus 1,000
//! tasks that each sleep 20 times for 1–10 ms. Lateness = wake time − deadline.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SLEEPERS: usize = 1_000;
const ROUNDS: usize = 20;

fn summarize(name: &str, mut lateness: Vec<Duration>) {
    lateness.sort();
    let at = |q: f64| lateness[((lateness.len() - 1) as f64 * q) as usize];
    println!(
        "| {name} | {} | {:.2} ms | {:.2} ms | {:.2} ms |",
        lateness.len(),
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        lateness.last().unwrap().as_secs_f64() * 1e3
    );
}

macro_rules! measure {
    ($rt:expr, $spawn:path, $yield_now:path, $sleep_until:path) => {{
        let rt = $rt;
        rt.block_on(async {
            let stop = Arc::new(AtomicBool::new(false));
            for _ in 0..benches::workers() {
                let stop = stop.clone();
                $spawn(async move {
                    while !stop.load(Relaxed) {
                        $yield_now().await;
                    }
                });
            }
            let sleepers: Vec<_> = (0..SLEEPERS)
                .map(|i| {
                    $spawn(async move {
                        let mut lateness = Vec::with_capacity(ROUNDS);
                        for round in 0..ROUNDS {
                            let ms = 1 + ((i * 7 + round * 3) % 10) as u64;
                            let deadline = Instant::now() + Duration::from_millis(ms);
                            $sleep_until(deadline.into()).await;
                            lateness.push(Instant::now().saturating_duration_since(deadline));
                        }
                        lateness
                    })
                })
                .collect();
            let mut all = Vec::with_capacity(SLEEPERS * ROUNDS);
            for sleeper in sleepers {
                all.extend(sleeper.await.unwrap());
            }
            stop.store(true, Relaxed);
            all
        })
    }};
}

fn main() {
    let workers = benches::workers();
    println!("timer lateness under load, {workers} workers, {SLEEPERS} sleepers x {ROUNDS} sleeps of 1-10 ms\n");
    println!("| runtime | sleeps | median | p99 | max |");
    println!("|---|---:|---:|---:|---:|");
    for _ in 0..2 {
        let parkade = measure!(
            runtime::Builder::new()
                .worker_threads(workers)
                .build()
                .unwrap(),
            runtime::spawn,
            runtime::yield_now,
            runtime::time::sleep_until
        );
        summarize("Parkade", parkade);
        let tokio = measure!(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .enable_all()
                .build()
                .unwrap(),
            tokio::spawn,
            tokio::task::yield_now,
            tokio::time::sleep_until
        );
        summarize("tokio", tokio);
    }
}
