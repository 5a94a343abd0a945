//! A one-shot program as an operator would write it: 1,000,000 tasks (half parked on a
//! channel, half sleeping), spawned with `Runtime::spawn`, then one `profile()` and its
//! grouped text (`to_string()`). The `snapshot` bin reports medians over rounds; this is what
//! a process's single profile costs, fresh buffer and all.
//!
//! ```sh
//! cargo run --release -p benches --bin profile_once [-- TASKS]
//! ```

use std::time::Instant;

fn main() {
    let tasks: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let rt = runtime::Builder::new()
        .worker_threads(benches::workers())
        .build()
        .unwrap();
    let _keep = benches::spawn_parked_mix(&rt, tasks);
    let start = Instant::now();
    let profile = rt.profile();
    let snapshot = start.elapsed();
    let start = Instant::now();
    let text = profile.to_string();
    let render = start.elapsed();
    println!(
        "{tasks} tasks: profile() {:.1} ms, to_string() {:.1} ms ({} bytes)",
        snapshot.as_secs_f64() * 1e3,
        render.as_secs_f64() * 1e3,
        text.len()
    );
}
