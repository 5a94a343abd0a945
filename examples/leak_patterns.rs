//! Every leak pattern of the article's §1.2, one task each, with the debug endpoint up and a
//! ticker printing the task count (§2.1, first way).
//!
//! ```sh
//! cargo run --release --example leak_patterns                 # runs until Ctrl-C
//! curl 'http://127.0.0.1:6060/debug/pprof/goroutine?debug=2'  # one task per pattern
//! cargo run --release --example leak_patterns -- --seconds 3  # exits by itself
//! ```

use runtime::context::Context;
use std::sync::Arc;
use std::time::Duration;

/// Things the leaked tasks wait on, kept alive for the life of the program (Go's channels
/// are simply never closed).
struct Held {
    _done: runtime::chan::Sender<()>,
    _unreceived: runtime::chan::Receiver<i32>,
    _connection: runtime::sync::OwnedSemaphorePermit,
}

async fn simulate_leaks() -> Held {
    // 1. A send on an unbuffered channel nobody receives from.
    let (tx, unreceived) = runtime::chan::channel::<i32>(0);
    runtime::spawn(async move {
        let _ = tx.send(1).await; // parks forever: no receiver
    });

    // 2. Waiting for a channel that is never sent on or closed.
    let (done, waiting) = runtime::chan::channel::<()>(0);
    runtime::spawn(async move {
        waiting.recv().await; // parks forever: `done` is never closed
        println!("task finished");
    });

    // 3. Waiting on a context that is never cancelled (the 10-minute timer is no way out
    //    either: it just keeps the task for 10 minutes).
    let ctx = Context::background();
    runtime::spawn(async move {
        runtime::select! {
            _ = ctx.done() => println!("context cancelled"),
            _ = runtime::time::sleep(Duration::from_secs(600)) => println!("timed out"),
        }
    });

    // 4. An endless loop that sleeps: never runnable for long, never gone.
    runtime::spawn(async {
        loop {
            runtime::time::sleep(Duration::from_millis(1)).await;
        }
    });

    // 5. A resource that is never released: the pool's only connection is held, so the next
    //    borrower waits for it forever.
    let pool = Arc::new(runtime::sync::Semaphore::new(1));
    let connection = pool.clone().acquire_owned().await.expect("pool is open");
    runtime::spawn(async move {
        let _connection = pool.acquire().await; // parks forever: nobody gives it back
    });

    Held {
        _done: done,
        _unreceived: unreceived,
        _connection: connection,
    }
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1).cloned()
}

#[runtime::main]
async fn main() -> std::io::Result<()> {
    let debug_addr = arg("--debug-addr").unwrap_or_else(|| "127.0.0.1:6060".to_string());
    let seconds: Option<u64> = arg("--seconds").and_then(|s| s.parse().ok());
    let debug = profiler::serve(&debug_addr)?;
    println!(
        "debug endpoint on http://{}/debug/pprof/",
        debug.local_addr()
    );

    let _held = simulate_leaks().await;

    // Print the task count every 2 s, like the article's ticker.
    let mut ticker = runtime::time::interval(Duration::from_secs(2));
    let deadline = seconds.map(|s| std::time::Instant::now() + Duration::from_secs(s));
    loop {
        ticker.tick().await;
        println!("Current tasks: {}", runtime::profile().len());
        if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            return Ok(());
        }
    }
}
