//! A fixed, single-worker workload for counting the instructions park recording costs:
//! `bash benches/overhead_callgrind.sh` runs it under callgrind with the `profiling` feature
//! on and off. Instruction counts are repeatable where wall time on a shared machine is not.
//!
//! The workload parks and resumes tasks 200,000 times on channels (every park is recorded,
//! every resume accounted in the park-time table) and spawns 20,000 short tasks.

fn main() {
    let rt = runtime::Builder::new().worker_threads(1).build().unwrap();
    let total = rt
        .block_on(rt.spawn(async {
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
        }))
        .unwrap();
    println!("{total}");
}
