//! tokio's `benches/rt_multi_threaded.rs` workloads, on Parkade and on tokio's multi-thread
//! runtime with the same worker count, side by side in one criterion group each. The
//! workloads are written once in `benches/src/workloads.rs` (shared with `compare`).
//!
//! `cargo bench -p benches --bench rt_multi_threaded`

use criterion::{criterion_group, criterion_main, Criterion};

fn rt_multi_threaded(c: &mut Criterion) {
    benches::criterion_groups(
        c,
        &[
            "spawn_many_local",
            "spawn_many_remote_idle",
            "spawn_many_remote_busy1",
            "spawn_many_remote_busy2",
            "ping_pong",
            "yield_many",
            "chained_spawn",
        ],
    );
}

criterion_group!(benches, rt_multi_threaded);
criterion_main!(benches);
