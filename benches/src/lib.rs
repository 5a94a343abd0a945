//! Benchmarks of Parkade against tokio, each workload on both runtimes in the same run.
//!
//! `cargo bench -p benches --bench rt_multi_threaded` runs tokio's own `rt_multi_threaded`
//! workloads; `benches/criterion_table.py` turns criterion's results into the table of
//! BENCHMARKS.md.

pub mod oneshot;
pub mod rt;
pub mod workloads;

/// Worker threads for both runtimes: `PARKADE_BENCH_WORKERS`, default 2 (this machine's
/// cores; tokio's own benches use 4).
pub fn workers() -> usize {
    std::env::var("PARKADE_BENCH_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2)
}

/// Criterion groups for the named workloads: one group per workload with a `parkade` and a
/// `tokio` function, each on one runtime built for the bench (criterion's own warm-up and
/// sampling; `compare` is the tool that rebuilds runtimes between rounds).
pub fn criterion_groups(c: &mut criterion::Criterion, names: &[&str]) {
    let parkade = workloads::all::<rt::Parkade>();
    let tokio = workloads::all::<rt::Tokio>();
    for &name in names {
        let p = parkade
            .iter()
            .find(|w| w.name == name)
            .unwrap_or_else(|| panic!("no workload named {name}"));
        let t = tokio.iter().find(|w| w.name == name).expect("same names");
        let mut group = c.benchmark_group(name);
        group.bench_function("parkade", |b| {
            let rt = <rt::Parkade as rt::Rt>::build(workers());
            b.iter_custom(|iters| (p.run)(&rt, iters as u32));
        });
        group.bench_function("tokio", |b| {
            let rt = <rt::Tokio as rt::Rt>::build(workers());
            b.iter_custom(|iters| (t.run)(&rt, iters as u32));
        });
        group.finish();
    }
}

/// Spawns `tasks` tasks on `rt`, half parked on a channel receive and half in an hour's
/// sleep (the endpoint and snapshot benches' mix), and waits until all are parked. Keep the
/// returned sender: dropping it wakes the receivers.
pub fn spawn_parked_mix(rt: &runtime::Runtime, tasks: usize) -> runtime::chan::Sender<()> {
    let (keep, parked) = runtime::chan::channel::<()>(0);
    for i in 0..tasks {
        if i % 2 == 0 {
            let parked = parked.clone();
            rt.spawn(async move { parked.recv().await });
        } else {
            rt.spawn(async { runtime::time::sleep(std::time::Duration::from_secs(3600)).await });
        }
    }
    while rt.handle().task_counts().parked() < tasks as u64 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    keep
}
