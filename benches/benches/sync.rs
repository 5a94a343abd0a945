//! Channel and synchronization workloads (after tokio's `sync_mpsc` and `sync_mutex`
//! benches), on Parkade and on tokio's multi-thread runtime with the same worker count.
//!
//! `cargo bench -p benches --bench sync`

use criterion::{criterion_group, criterion_main, Criterion};

const PRODUCERS: usize = 5;
const MESSAGES: usize = 1_000;

fn parkade_rt() -> runtime::Runtime {
    runtime::Builder::new()
        .worker_threads(benches::workers())
        .build()
        .unwrap()
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(benches::workers())
        .enable_all()
        .build()
        .unwrap()
}

/// 5 producers × 1,000 messages into one consumer.
fn contention(c: &mut Criterion, name: &str, capacity: Option<usize>) {
    let mut group = c.benchmark_group(name);
    group.bench_function("parkade", |b| {
        let rt = parkade_rt();
        b.iter(|| {
            rt.block_on(async {
                let (tx, rx) = match capacity {
                    Some(cap) => runtime::chan::channel::<usize>(cap),
                    None => runtime::chan::unbounded::<usize>(),
                };
                for _ in 0..PRODUCERS {
                    let tx = tx.clone();
                    runtime::spawn(async move {
                        for i in 0..MESSAGES {
                            tx.send(i).await.unwrap();
                        }
                    });
                }
                drop(tx);
                let mut n = 0;
                while rx.recv().await.is_some() {
                    n += 1;
                }
                assert_eq!(n, PRODUCERS * MESSAGES);
            })
        })
    });
    group.bench_function("tokio", |b| {
        let rt = tokio_rt();
        b.iter(|| {
            rt.block_on(async {
                let (tx, mut rx) = match capacity {
                    Some(cap) => {
                        let (tx, rx) = tokio::sync::mpsc::channel::<usize>(cap);
                        (Either::Bounded(tx), EitherRx::Bounded(rx))
                    }
                    None => {
                        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<usize>();
                        (Either::Unbounded(tx), EitherRx::Unbounded(rx))
                    }
                };
                for _ in 0..PRODUCERS {
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        for i in 0..MESSAGES {
                            tx.send(i).await;
                        }
                    });
                }
                drop(tx);
                let mut n = 0;
                while rx.recv().await.is_some() {
                    n += 1;
                }
                assert_eq!(n, PRODUCERS * MESSAGES);
            })
        })
    });
    group.finish();
}

#[derive(Clone)]
enum Either {
    Bounded(tokio::sync::mpsc::Sender<usize>),
    Unbounded(tokio::sync::mpsc::UnboundedSender<usize>),
}

impl Either {
    async fn send(&self, value: usize) {
        match self {
            Either::Bounded(tx) => tx.send(value).await.unwrap(),
            Either::Unbounded(tx) => tx.send(value).unwrap(),
        }
    }
}

enum EitherRx {
    Bounded(tokio::sync::mpsc::Receiver<usize>),
    Unbounded(tokio::sync::mpsc::UnboundedReceiver<usize>),
}

impl EitherRx {
    async fn recv(&mut self) -> Option<usize> {
        match self {
            EitherRx::Bounded(rx) => rx.recv().await,
            EitherRx::Unbounded(rx) => rx.recv().await,
        }
    }
}

/// One task sends 1,000 values into a roomy channel, then receives them.
fn uncontended(c: &mut Criterion) {
    let mut group = c.benchmark_group("uncontended_bounded");
    group.bench_function("parkade", |b| {
        let rt = parkade_rt();
        b.iter(|| {
            rt.block_on(async {
                let (tx, rx) = runtime::chan::channel::<usize>(1_000_000);
                for i in 0..MESSAGES {
                    tx.send(i).await.unwrap();
                }
                for _ in 0..MESSAGES {
                    rx.recv().await.unwrap();
                }
            })
        })
    });
    group.bench_function("tokio", |b| {
        let rt = tokio_rt();
        b.iter(|| {
            rt.block_on(async {
                let (tx, mut rx) = tokio::sync::mpsc::channel::<usize>(1_000_000);
                for i in 0..MESSAGES {
                    tx.send(i).await.unwrap();
                }
                for _ in 0..MESSAGES {
                    rx.recv().await.unwrap();
                }
            })
        })
    });
    group.finish();
}

/// Two tasks bounce a value 1,000 times: Parkade's unbuffered (rendezvous) channel against
/// tokio's closest, a channel of capacity 1. Both ends are tasks (not `block_on`), so the
/// hand-offs are between workers' tasks as in a server.
fn ping_pong(c: &mut Criterion) {
    let mut group = c.benchmark_group("chan_ping_pong");
    group.bench_function("parkade", |b| {
        let rt = parkade_rt();
        b.iter(|| {
            rt.block_on(rt.spawn(async {
                let (ping_tx, ping_rx) = runtime::chan::channel::<usize>(0);
                let (pong_tx, pong_rx) = runtime::chan::channel::<usize>(0);
                let echo = runtime::spawn(async move {
                    while let Some(v) = ping_rx.recv().await {
                        pong_tx.send(v).await.unwrap();
                    }
                });
                for i in 0..MESSAGES {
                    ping_tx.send(i).await.unwrap();
                    assert_eq!(pong_rx.recv().await, Some(i));
                }
                drop(ping_tx);
                echo.await.unwrap();
            }))
            .unwrap()
        })
    });
    group.bench_function("tokio", |b| {
        let rt = tokio_rt();
        b.iter(|| {
            rt.block_on(rt.spawn(async {
                let (ping_tx, mut ping_rx) = tokio::sync::mpsc::channel::<usize>(1);
                let (pong_tx, mut pong_rx) = tokio::sync::mpsc::channel::<usize>(1);
                let echo = tokio::spawn(async move {
                    while let Some(v) = ping_rx.recv().await {
                        pong_tx.send(v).await.unwrap();
                    }
                });
                for i in 0..MESSAGES {
                    ping_tx.send(i).await.unwrap();
                    assert_eq!(pong_rx.recv().await, Some(i));
                }
                drop(ping_tx);
                echo.await.unwrap();
            }))
            .unwrap()
        })
    });
    group.finish();
}

/// 1,000 requests from a client task to a server task, each answered through a oneshot.
fn oneshot_request_reply(c: &mut Criterion) {
    let mut group = c.benchmark_group("oneshot_request_reply");
    group.bench_function("parkade", |b| {
        let rt = parkade_rt();
        b.iter(|| {
            rt.block_on(rt.spawn(async {
                let (tx, rx) =
                    runtime::chan::channel::<(usize, runtime::chan::oneshot::Sender<usize>)>(16);
                let server = runtime::spawn(async move {
                    while let Some((v, reply)) = rx.recv().await {
                        let _ = reply.send(v + 1);
                    }
                });
                for i in 0..MESSAGES {
                    let (reply, response) = runtime::chan::oneshot();
                    tx.send((i, reply)).await.unwrap();
                    assert_eq!(response.await.unwrap(), i + 1);
                }
                drop(tx);
                server.await.unwrap();
            }))
            .unwrap()
        })
    });
    group.bench_function("tokio", |b| {
        let rt = tokio_rt();
        b.iter(|| {
            rt.block_on(rt.spawn(async {
                let (tx, mut rx) =
                    tokio::sync::mpsc::channel::<(usize, tokio::sync::oneshot::Sender<usize>)>(16);
                let server = tokio::spawn(async move {
                    while let Some((v, reply)) = rx.recv().await {
                        let _ = reply.send(v + 1);
                    }
                });
                for i in 0..MESSAGES {
                    let (reply, response) = tokio::sync::oneshot::channel();
                    tx.send((i, reply)).await.unwrap();
                    assert_eq!(response.await.unwrap(), i + 1);
                }
                drop(tx);
                server.await.unwrap();
            }))
            .unwrap()
        })
    });
    group.finish();
}

/// 5 tasks × 1,000 lock/increment/unlock on one mutex (tokio's `sync_mutex` contended).
fn mutex_contention(c: &mut Criterion) {
    let mut group = c.benchmark_group("mutex_contention");
    group.bench_function("parkade", |b| {
        let rt = parkade_rt();
        b.iter(|| {
            rt.block_on(rt.spawn(async {
                let m = std::sync::Arc::new(runtime::sync::Mutex::new(0usize));
                let tasks: Vec<_> = (0..PRODUCERS)
                    .map(|_| {
                        let m = m.clone();
                        runtime::spawn(async move {
                            for _ in 0..MESSAGES {
                                *m.lock().await += 1;
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
                assert_eq!(*m.lock().await, PRODUCERS * MESSAGES);
            }))
            .unwrap()
        })
    });
    group.bench_function("tokio", |b| {
        let rt = tokio_rt();
        b.iter(|| {
            rt.block_on(rt.spawn(async {
                let m = std::sync::Arc::new(tokio::sync::Mutex::new(0usize));
                let tasks: Vec<_> = (0..PRODUCERS)
                    .map(|_| {
                        let m = m.clone();
                        tokio::spawn(async move {
                            for _ in 0..MESSAGES {
                                *m.lock().await += 1;
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
                assert_eq!(*m.lock().await, PRODUCERS * MESSAGES);
            }))
            .unwrap()
        })
    });
    group.finish();
}

/// 5 tasks × 1,000 acquire/release of one of 2 permits (tokio's `sync_semaphore` contended).
fn semaphore_contention(c: &mut Criterion) {
    let mut group = c.benchmark_group("semaphore_contention");
    group.bench_function("parkade", |b| {
        let rt = parkade_rt();
        b.iter(|| {
            rt.block_on(rt.spawn(async {
                let s = std::sync::Arc::new(runtime::sync::Semaphore::new(2));
                let tasks: Vec<_> = (0..PRODUCERS)
                    .map(|_| {
                        let s = s.clone();
                        runtime::spawn(async move {
                            for _ in 0..MESSAGES {
                                let _permit = s.acquire().await.unwrap();
                                runtime::yield_now().await;
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
            }))
            .unwrap()
        })
    });
    group.bench_function("tokio", |b| {
        let rt = tokio_rt();
        b.iter(|| {
            rt.block_on(rt.spawn(async {
                let s = std::sync::Arc::new(tokio::sync::Semaphore::new(2));
                let tasks: Vec<_> = (0..PRODUCERS)
                    .map(|_| {
                        let s = s.clone();
                        tokio::spawn(async move {
                            for _ in 0..MESSAGES {
                                let _permit = s.acquire().await.unwrap();
                                tokio::task::yield_now().await;
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
            }))
            .unwrap()
        })
    });
    group.finish();
}

fn sync_benches(c: &mut Criterion) {
    contention(c, "contention_bounded", Some(1_000_000));
    contention(c, "contention_bounded_full", Some(100));
    contention(c, "contention_unbounded", None);
    uncontended(c);
    ping_pong(c);
    oneshot_request_reply(c);
    mutex_contention(c);
    semaphore_contention(c);
}

criterion_group!(benches, sync_benches);
criterion_main!(benches);
