//! The article's §4.5: publish the live task count as a variable every 2 s, for a monitoring
//! system to scrape from `/debug/vars` (Go's `expvar`), while a few tasks leak.
//!
//! ```sh
//! cargo run --release --example task_count_monitor
//! curl http://127.0.0.1:6060/debug/vars       # "task_count": 11, and the runtime's counters
//! ```

use std::time::Duration;

#[runtime::main]
async fn main() -> std::io::Result<()> {
    let debug_addr = std::env::args()
        .skip_while(|a| a != "--debug-addr")
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:6060".to_string());
    let debug = profiler::serve(&debug_addr)?;

    let task_count = profiler::expvar::Int::new("task_count");
    runtime::spawn(async move {
        let mut ticker = runtime::time::interval(Duration::from_secs(2));
        loop {
            ticker.tick().await;
            task_count.set(runtime::profile().len() as i64);
        }
    });

    // Some leaked tasks, waiting on channels that are never closed.
    let mut senders = Vec::new();
    for _ in 0..10 {
        let (tx, rx) = runtime::chan::channel::<()>(0);
        senders.push(tx);
        runtime::spawn(async move {
            rx.recv().await; // leak
        });
    }

    println!(
        "Check the task count at http://{}/debug/vars",
        debug.local_addr()
    );
    runtime::select! {}
}
