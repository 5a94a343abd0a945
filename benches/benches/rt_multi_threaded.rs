//! tokio's `benches/rt_multi_threaded.rs` workloads, run on Parkade and on tokio's
//! multi-thread runtime with the same worker count, side by side in one criterion group each.
//!
//! `cargo bench -p benches --bench rt_multi_threaded`

use benches::oneshot;
use criterion::{criterion_group, criterion_main, Criterion};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

const NUM_SPAWN: usize = 10_000;
const STALL_DUR: Duration = Duration::from_micros(10);

/// One copy of every workload per runtime; the bodies are the same text.
macro_rules! workloads {
    ($module:ident, $build:expr, $spawn:path, $yield_now:path) => {
        mod $module {
            use super::*;

            pub fn spawn_many_local(b: &mut criterion::Bencher<'_>) {
                let rt = $build;
                let (tx, rx) = mpsc::sync_channel(1000);
                let rem = Arc::new(AtomicUsize::new(0));
                b.iter(|| {
                    rem.store(NUM_SPAWN, Relaxed);
                    rt.block_on(async {
                        let (tx, rem) = (tx.clone(), rem.clone());
                        $spawn(async move {
                            for _ in 0..NUM_SPAWN {
                                let (tx, rem) = (tx.clone(), rem.clone());
                                $spawn(async move {
                                    if 1 == rem.fetch_sub(1, Relaxed) {
                                        tx.send(()).unwrap();
                                    }
                                });
                            }
                        });
                        rx.recv().unwrap();
                    });
                });
            }

            pub fn spawn_many_remote_idle(b: &mut criterion::Bencher<'_>) {
                let rt = $build;
                let mut handles = Vec::with_capacity(NUM_SPAWN);
                b.iter(|| {
                    for _ in 0..NUM_SPAWN {
                        handles.push(rt.spawn(async {}));
                    }
                    rt.block_on(async {
                        for handle in handles.drain(..) {
                            handle.await.unwrap();
                        }
                    });
                });
            }

            /// Workers kept busy by tasks that yield in a loop (tokio's `busy1`).
            pub fn spawn_many_remote_busy1(b: &mut criterion::Bencher<'_>) {
                let rt = $build;
                let flag = Arc::new(AtomicBool::new(true));
                for _ in 0..benches::workers() {
                    let flag = flag.clone();
                    rt.spawn(async move {
                        while flag.load(Relaxed) {
                            $yield_now().await;
                        }
                    });
                }
                let mut handles = Vec::with_capacity(NUM_SPAWN);
                b.iter(|| {
                    for _ in 0..NUM_SPAWN {
                        handles.push(rt.spawn(async {}));
                    }
                    rt.block_on(async {
                        for handle in handles.drain(..) {
                            handle.await.unwrap();
                        }
                    });
                });
                flag.store(false, Relaxed);
            }

            /// Workers kept busy by tasks that respawn themselves (tokio's `busy2`).
            pub fn spawn_many_remote_busy2(b: &mut criterion::Bencher<'_>) {
                const NUM_SPAWN: usize = 1_000;
                let rt = $build;
                let flag = Arc::new(AtomicBool::new(true));
                for _ in 0..benches::workers() {
                    let flag = flag.clone();
                    fn iter(flag: Arc<AtomicBool>) {
                        $spawn(async {
                            if flag.load(Relaxed) {
                                stall();
                                iter(flag);
                            }
                        });
                    }
                    rt.spawn(async {
                        iter(flag);
                    });
                }
                let mut handles = Vec::with_capacity(NUM_SPAWN);
                b.iter(|| {
                    for _ in 0..NUM_SPAWN {
                        handles.push(rt.spawn(async {}));
                    }
                    rt.block_on(async {
                        for handle in handles.drain(..) {
                            handle.await.unwrap();
                        }
                    });
                });
                flag.store(false, Relaxed);
            }

            pub fn yield_many(b: &mut criterion::Bencher<'_>) {
                const NUM_YIELD: usize = 1_000;
                const TASKS: usize = 200;
                let rt = $build;
                let (tx, rx) = mpsc::sync_channel(TASKS);
                b.iter(move || {
                    for _ in 0..TASKS {
                        let tx = tx.clone();
                        rt.spawn(async move {
                            for _ in 0..NUM_YIELD {
                                $yield_now().await;
                            }
                            tx.send(()).unwrap();
                        });
                    }
                    for _ in 0..TASKS {
                        rx.recv().unwrap();
                    }
                });
            }

            pub fn ping_pong(b: &mut criterion::Bencher<'_>) {
                const NUM_PINGS: usize = 1_000;
                let rt = $build;
                let (done_tx, done_rx) = mpsc::sync_channel(1000);
                let rem = Arc::new(AtomicUsize::new(0));
                b.iter(|| {
                    let done_tx = done_tx.clone();
                    let rem = rem.clone();
                    rem.store(NUM_PINGS, Relaxed);
                    rt.block_on(async {
                        $spawn(async move {
                            for _ in 0..NUM_PINGS {
                                let rem = rem.clone();
                                let done_tx = done_tx.clone();
                                $spawn(async move {
                                    let (tx1, rx1) = oneshot::channel();
                                    let (tx2, rx2) = oneshot::channel();
                                    $spawn(async move {
                                        rx1.await.unwrap();
                                        tx2.send(()).unwrap();
                                    });
                                    tx1.send(()).unwrap();
                                    rx2.await.unwrap();
                                    if 1 == rem.fetch_sub(1, Relaxed) {
                                        done_tx.send(()).unwrap();
                                    }
                                });
                            }
                        });
                        done_rx.recv().unwrap();
                    });
                });
            }

            pub fn chained_spawn(b: &mut criterion::Bencher<'_>) {
                const ITER: usize = 1_000;
                fn iter(done_tx: mpsc::SyncSender<()>, n: usize) {
                    if n == 0 {
                        done_tx.send(()).unwrap();
                    } else {
                        $spawn(async move {
                            iter(done_tx, n - 1);
                        });
                    }
                }
                let rt = $build;
                let (done_tx, done_rx) = mpsc::sync_channel(1000);
                b.iter(move || {
                    let done_tx = done_tx.clone();
                    rt.block_on(async {
                        $spawn(async move {
                            iter(done_tx, ITER);
                        });
                        done_rx.recv().unwrap();
                    });
                });
            }
        }
    };
}

workloads!(
    parkade,
    runtime::Builder::new()
        .worker_threads(benches::workers())
        .build()
        .unwrap(),
    runtime::spawn,
    runtime::yield_now
);

workloads!(
    tokio_rt,
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(benches::workers())
        .enable_all()
        .build()
        .unwrap(),
    tokio::spawn,
    tokio::task::yield_now
);

fn stall() {
    let now = Instant::now();
    while now.elapsed() < STALL_DUR {
        std::thread::yield_now();
    }
}

macro_rules! group {
    ($c:expr, $name:ident) => {{
        let mut group = $c.benchmark_group(stringify!($name));
        group.bench_function("parkade", parkade::$name);
        group.bench_function("tokio", tokio_rt::$name);
        group.finish();
    }};
}

fn rt_multi_threaded(c: &mut Criterion) {
    group!(c, spawn_many_local);
    group!(c, spawn_many_remote_idle);
    group!(c, spawn_many_remote_busy1);
    group!(c, spawn_many_remote_busy2);
    group!(c, ping_pong);
    group!(c, yield_many);
    group!(c, chained_spawn);
}

criterion_group!(benches, rt_multi_threaded);
criterion_main!(benches);
