//! Channel, lock, timer and socket workloads, on Parkade and on tokio's multi-thread runtime
//! with the same worker count, side by side in one criterion group each. The workloads are
//! written once in `benches/src/workloads.rs` (shared with `compare`).
//!
//! `cargo bench -p benches --bench sync`

use criterion::{criterion_group, criterion_main, Criterion};

fn sync_benches(c: &mut Criterion) {
    benches::criterion_groups(
        c,
        &[
            "contention_bounded",
            "contention_bounded_full",
            "contention_unbounded",
            "uncontended_bounded",
            "chan_ping_pong",
            "oneshot_request_reply",
            "mutex_contention",
            "semaphore_contention",
            "timers_10k_sleep_1ms",
        ],
    );
}

criterion_group!(benches, sync_benches);
criterion_main!(benches);
