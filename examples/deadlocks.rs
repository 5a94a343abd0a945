//! Deadlocks on purpose, one of each classic kind, and what Parkade says about them: the
//! tasks that hold what each waits for (`held by task N`), and the cycles, proven leaks.
//!
//! ```sh
//! cargo run --release --example deadlocks                     # prints the report, exits
//! cargo run --release --example deadlocks -- --serve          # and keeps the endpoint up:
//! curl 'http://127.0.0.1:6060/debug/pprof/goroutineleak?debug=1'
//! ```

use runtime::sync::{Mutex, RwLock};
use std::sync::Arc;
use std::time::Duration;

/// Two tasks take two mutexes in opposite orders: each holds one and waits for the other.
fn opposite_orders() {
    let (accounts, ledger) = (Arc::new(Mutex::new(0)), Arc::new(Mutex::new(0)));
    let both_hold = Arc::new(runtime::sync::WaitGroup::new());
    both_hold.add(2);
    for (first, second) in [
        (accounts.clone(), ledger.clone()),
        (ledger.clone(), accounts.clone()),
    ] {
        let both_hold = both_hold.clone();
        runtime::task::Builder::new()
            .name("transfer")
            .spawn(async move {
                let _first = first.lock().await;
                both_hold.done();
                both_hold.wait().await; // make sure each holds its first lock
                *second.lock().await += 1; // waits forever for the other's first lock
            });
    }
}

/// A task holds a mutex and joins a task that needs that mutex.
fn join_under_lock() {
    let cache = Arc::new(Mutex::new(Vec::<u32>::new()));
    runtime::task::Builder::new()
        .name("refresh")
        .spawn(async move {
            let mut entries = cache.lock().await;
            let cache = cache.clone();
            let loader = runtime::spawn(async move { cache.lock().await.len() });
            let loaded = loader.await.unwrap(); // the loader waits for our guard
            entries.push(loaded as u32);
        });
}

/// A task holding a read guard asks for the write lock: it waits for itself.
fn upgrade_in_place() {
    let config = Arc::new(RwLock::new(String::from("v1")));
    runtime::task::Builder::new()
        .name("reload")
        .spawn(async move {
            let current = config.read().await;
            if current.as_str() == "v1" {
                *config.write().await = String::from("v2"); // our own read guard is in the way
            }
        });
}

/// Starts the three deadlocks in `rt`, lets them settle, and returns what two snapshots show:
/// a cycle counts only if the second shows it with none of its tasks polled since the first.
fn deadlock(rt: &runtime::Runtime) -> (profiler::Leaks, runtime::Profile) {
    rt.block_on(async {
        opposite_orders();
        join_under_lock();
        upgrade_in_place();
        // Until all five tasks are parked (at most 10 s, however slow the machine).
        for _ in 0..1000 {
            let profile = runtime::profile();
            if profile
                .tasks()
                .iter()
                .filter(|t| t.park().is_some())
                .count()
                >= 5
            {
                break;
            }
            runtime::time::sleep(Duration::from_millis(10)).await;
        }
    });
    let (earlier, later) = (rt.profile(), rt.profile());
    let found = profiler::leaks_confirmed(&earlier, &later, profiler::LeakOptions::default());
    (found, later)
}

fn main() -> std::io::Result<()> {
    let serve = std::env::args().any(|arg| arg == "--serve");
    let rt = runtime::Runtime::new()?;
    let (found, later) = deadlock(&rt);
    println!(
        "{} deadlocks, {} tasks on them:",
        found.deadlocks.len(),
        found.proven.len()
    );
    for deadlock in &found.deadlocks {
        println!("\n{deadlock}\n");
        for id in deadlock.tasks() {
            let task = later.task(*id).expect("a deadlocked task is alive");
            println!("{task}"); // the per-task dump format (debug=2)
        }
    }
    if serve {
        let debug = profiler::serve_handle("127.0.0.1:6060", rt.handle().clone())?;
        println!(
            "\ndebug endpoint on http://{}/debug/pprof/ (Ctrl-C to stop)",
            debug.local_addr()
        );
        loop {
            std::thread::park();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_kind_of_deadlock_is_found_with_its_tasks() {
        let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
        let (found, later) = super::deadlock(&rt);
        let names = |ids: &[runtime::TaskId]| -> Vec<Option<String>> {
            let name = |id| later.task(id).unwrap().name().map(str::to_string);
            ids.iter().map(|&id| name(id)).collect()
        };
        let mut cycles: Vec<Vec<Option<String>>> =
            found.deadlocks.iter().map(|d| names(d.tasks())).collect();
        cycles.sort();
        let name = |n: &str| Some(n.to_string());
        assert_eq!(
            cycles,
            [
                vec![name("refresh"), None], // the loader has no name
                vec![name("reload")],
                vec![name("transfer"), name("transfer")],
            ]
        );
        assert_eq!(found.proven.len(), 5);
    }
}
