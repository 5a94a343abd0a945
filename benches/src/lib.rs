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
