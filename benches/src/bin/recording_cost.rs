//! Fixed, single-worker workloads for counting the instructions park recording costs:
//! `bash benches/overhead_callgrind.sh` runs each under callgrind with the `profiling` feature
//! on and off. Instruction counts are repeatable where wall time on a shared machine is not.
//!
//! `recording_cost [park|yield|spawn]` (default `park`):
//! - `park`: tasks park and resume 200,000 times on channels (every park is recorded, every
//!   resume accounted in the park-time table), then 20,000 short tasks are spawned and joined;
//! - `yield`: one task yields 200,000 times (a poll that records nothing but the poll);
//! - `spawn`: 100,000 tiny tasks spawned and joined one at a time (the record's setup and
//!   teardown, the join wait and its resume).

fn main() {
    let workload = std::env::args().nth(1).unwrap_or_else(|| "park".into());
    let rt = runtime::Builder::new().worker_threads(1).build().unwrap();
    let total = rt
        .block_on(rt.spawn(async move {
            match workload.as_str() {
                "park" => park().await,
                "yield" => {
                    for _ in 0..200_000 {
                        runtime::task::yield_now().await;
                    }
                    200_000
                }
                "spawn" => {
                    let mut total = 0;
                    for i in 0..100_000u64 {
                        total += runtime::spawn(async move { i % 2 }).await.unwrap();
                    }
                    total
                }
                other => panic!("unknown workload {other:?}: park, yield or spawn"),
            }
        }))
        .unwrap();
    println!("{total}");
}

async fn park() -> u64 {
    // 1,000 pairs bouncing 100 values each over unbuffered channels.
    let mut pairs = Vec::new();
    for _ in 0..1_000 {
        let (ping_tx, ping_rx) = runtime::chan::channel::<u64>(0);
        let (pong_tx, pong_rx) = runtime::chan::channel::<u64>(0);
        runtime::spawn(async move {
            while let Some(v) = ping_rx.recv().await {
                pong_tx.send(v + 1).await.unwrap();
            }
        });
        pairs.push(runtime::spawn(async move {
            let mut sum = 0;
            for i in 0..100 {
                ping_tx.send(i).await.unwrap();
                sum += pong_rx.recv().await.unwrap();
            }
            sum
        }));
    }
    let mut total = 0;
    for pair in pairs {
        total += pair.await.unwrap();
    }
    for i in 0..20_000u64 {
        total += runtime::spawn(async move { i % 2 }).await.unwrap();
    }
    total
}
