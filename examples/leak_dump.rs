//! The article's one-shot dump (§2.1, second way): leak tasks, then write the task profile
//! to a file that `go tool pprof` reads, and print the grouped dump.
//!
//! ```sh
//! cargo run --release --example leak_dump              # writes goroutine_profile.pb.gz
//! go tool pprof -top goroutine_profile.pb.gz
//! ```

use std::time::Duration;

/// Keeps every leaked channel's sender alive: like Go's `make(chan struct{})`, the channels
/// are never closed, so their receivers wait forever.
struct Leaks {
    _senders: Vec<runtime::chan::Sender<()>>,
    _unreceived: runtime::chan::Receiver<i32>,
}

fn simulate_task_leak() -> Leaks {
    // A send on an unbuffered channel nobody receives from.
    let (tx, unreceived) = runtime::chan::channel::<i32>(0);
    runtime::spawn(async move {
        let _ = tx.send(1).await; // parks forever
    });

    // Many identical leaks, so that they stand out in the profile.
    let mut senders = Vec::with_capacity(1000);
    for _ in 0..1000 {
        let (tx, rx) = runtime::chan::channel::<()>(0);
        senders.push(tx);
        runtime::spawn(async move {
            rx.recv().await; // parks forever
        });
    }

    // Print the task count every second, like the article's ticker.
    runtime::spawn(async {
        let mut ticker = runtime::time::interval(Duration::from_secs(1));
        loop {
            ticker.tick().await;
            println!("Current tasks: {}", runtime::profile().len());
        }
    });

    Leaks {
        _senders: senders,
        _unreceived: unreceived,
    }
}

#[runtime::main]
async fn main() -> std::io::Result<()> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "goroutine_profile.pb.gz".to_string());
    println!("Simulating task leaks and dumping the profile...");
    let _leaks = simulate_task_leak();

    // Let the tasks start and park.
    runtime::time::sleep(Duration::from_millis(1500)).await;

    let profile = runtime::profile();
    std::fs::write(&path, profiler::pprof::encode(&profile))?;
    print!("{profile}");
    println!("\nTask profile written to {path}");
    Ok(())
}
