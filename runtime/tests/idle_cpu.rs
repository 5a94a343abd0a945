//! An idle runtime uses no CPU: its workers sleep instead of spinning. Alone in its binary so
//! that only this runtime's workers are measured.

use std::time::Duration;

/// User + system CPU time, in clock ticks, of this process's threads named `name`.
fn cpu_ticks_of_threads(name: &str) -> (u64, usize) {
    let mut ticks = 0;
    let mut threads = 0;
    for entry in std::fs::read_dir("/proc/self/task").expect("Linux /proc") {
        let path = entry.unwrap().path();
        let Ok(stat) = std::fs::read_to_string(path.join("stat")) else {
            continue;
        };
        // "pid (comm) state ...": comm may hold spaces, so split after the last ')'.
        let (head, rest) = stat.rsplit_once(')').unwrap();
        if !head.ends_with(name) {
            continue;
        }
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of stat, i.e. 12 and 13 after the comm.
        ticks += fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        threads += 1;
    }
    (ticks, threads)
}

#[test]
fn idle_workers_use_no_cpu() {
    let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
    let _listener = rt.block_on(async {
        // Some work first, then things that stay registered while idle: a far timer, a
        // listening socket, a parked task.
        for _ in 0..1000 {
            runtime::spawn(async { runtime::yield_now().await })
                .await
                .unwrap();
        }
        runtime::spawn(async { runtime::time::sleep(Duration::from_secs(3600)).await });
        runtime::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
    });
    std::thread::sleep(Duration::from_millis(100));
    let (before, threads) = cpu_ticks_of_threads("parkade-worker");
    assert_eq!(threads, 2);
    std::thread::sleep(Duration::from_secs(1));
    let (after, _) = cpu_ticks_of_threads("parkade-worker");
    // Clock ticks are 10 ms: a spinning worker would burn ~100 ticks in this second.
    assert!(
        after - before <= 1,
        "idle workers used {} ticks in 1 s",
        after - before
    );
}
