//! Stress of the idle/searching/park protocol and of shutdown racing spawns and wakes: no lost
//! wakeup, every `JoinHandle` resolves.

use support::finishes_within;
use test_support as support;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// A one-shot flag a plain thread sets and wakes.
#[derive(Default)]
struct Flag {
    set: AtomicBool,
    waker: Mutex<Option<Waker>>,
}
impl Flag {
    fn fire(&self) {
        self.set.store(true, SeqCst);
        if let Some(w) = self.waker.lock().unwrap().take() {
            w.wake();
        }
    }
}
struct WaitFlag(Arc<Flag>);
impl Future for WaitFlag {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.set.load(SeqCst) {
            return Poll::Ready(());
        }
        *self.0.waker.lock().unwrap() = Some(cx.waker().clone());
        if self.0.set.load(SeqCst) {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

#[test]
fn remote_spawns_into_an_idle_runtime_always_run() {
    for workers in [1, 2, 3, 4] {
        finishes_within(60, move || {
            let rt = runtime::Builder::new()
                .worker_threads(workers)
                .build()
                .unwrap();
            for i in 0..20_000u32 {
                let (tx, rx) = mpsc::channel();
                rt.spawn(async move {
                    let _ = tx.send(());
                });
                rx.recv_timeout(Duration::from_secs(5))
                    .unwrap_or_else(|_| panic!("lost remote spawn #{i} with {workers} workers"));
                if i % 64 == 0 {
                    std::thread::sleep(Duration::from_micros(50));
                }
            }
        });
    }
}

#[test]
fn remote_wakes_of_parked_tasks_always_run() {
    for workers in [1, 2, 4] {
        finishes_within(60, move || {
            let rt = runtime::Builder::new()
                .worker_threads(workers)
                .build()
                .unwrap();
            for i in 0..10_000u32 {
                let flags: Vec<Arc<Flag>> = (0..4).map(|_| Arc::new(Flag::default())).collect();
                let done = Arc::new(AtomicUsize::new(0));
                let (tx, rx) = mpsc::channel();
                for f in &flags {
                    let f = f.clone();
                    let done = done.clone();
                    let tx = tx.clone();
                    rt.spawn(async move {
                        WaitFlag(f).await;
                        if done.fetch_add(1, SeqCst) == 3 {
                            let _ = tx.send(());
                        }
                    });
                }
                if i % 3 == 0 {
                    std::thread::yield_now();
                }
                for f in &flags {
                    f.fire();
                }
                rx.recv_timeout(Duration::from_secs(5))
                    .unwrap_or_else(|_| panic!("lost wake in round {i} with {workers} workers"));
            }
        });
    }
}

/// Tasks wake each other in a chain across workers (wakes from workers: LIFO slot / local
/// queue paths); every hop must happen.
#[test]
fn cross_worker_chains_complete() {
    finishes_within(120, || {
        let rt = runtime::Builder::new().worker_threads(4).build().unwrap();
        rt.block_on(async {
            for _ in 0..5000 {
                let flags: Vec<Arc<Flag>> = (0..9).map(|_| Arc::new(Flag::default())).collect();
                let mut tasks = Vec::new();
                for k in 0..8 {
                    let me = flags[k].clone();
                    let next = flags[k + 1].clone();
                    tasks.push(runtime::spawn(async move {
                        WaitFlag(me).await;
                        next.fire();
                    }));
                }
                flags[0].fire();
                WaitFlag(flags[8].clone()).await;
                for t in tasks {
                    t.await.unwrap();
                }
            }
        });
    });
}

/// Dropping the runtime while plain threads spawn and wake: every JoinHandle must resolve.
#[test]
fn shutdown_racing_remote_spawns_and_wakes_resolves_every_join_handle() {
    for round in 0..200 {
        finishes_within(20, move || {
            let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
            let handle = rt.handle().clone();
            let stop = Arc::new(AtomicBool::new(false));
            let mut threads = Vec::new();
            for _ in 0..2 {
                let handle = handle.clone();
                let stop = stop.clone();
                threads.push(std::thread::spawn(move || {
                    let mut joins = Vec::new();
                    let mut flags = Vec::new();
                    while !stop.load(SeqCst) {
                        let f = Arc::new(Flag::default());
                        flags.push(f.clone());
                        joins.push(handle.spawn(async move {
                            WaitFlag(f).await;
                            runtime::yield_now().await;
                        }));
                        if flags.len() > 4 {
                            flags.remove(0).fire();
                        }
                    }
                    for f in flags {
                        f.fire();
                    }
                    // Each handle must resolve, completed or cancelled.
                    handle.block_on(async {
                        for j in joins {
                            let _ = j.await;
                        }
                    });
                }));
            }
            std::thread::sleep(Duration::from_micros(200 + (round % 7) * 100));
            drop(rt);
            stop.store(true, SeqCst);
            for t in threads {
                t.join().unwrap();
            }
        });
    }
}

/// Timer wakes come from driver turns, in batches, onto the queue of the worker that turned
/// the driver; the turn then notifies once (or hands the driver on). Every woken task must
/// run, including while a worker is stuck in a blocking poll.
#[test]
fn batches_of_driver_wakes_always_run() {
    finishes_within(120, || {
        for workers in [2, 4] {
            let rt = runtime::Builder::new()
                .worker_threads(workers)
                .build()
                .unwrap();
            rt.block_on(async {
                let stop = Arc::new(AtomicBool::new(false));
                let blocker = runtime::spawn({
                    let stop = stop.clone();
                    async move {
                        while !stop.load(SeqCst) {
                            std::thread::sleep(Duration::from_millis(3)); // a blocking poll
                            runtime::time::sleep(Duration::from_millis(1)).await;
                        }
                    }
                });
                for round in 0..10u64 {
                    let tasks: Vec<_> = (0..1_000u64)
                        .map(|i| {
                            runtime::spawn(async move {
                                for k in 0..5 {
                                    let micros = (i * 7 + k * 13 + round) % 2_000;
                                    runtime::time::sleep(Duration::from_micros(micros)).await;
                                }
                                i
                            })
                        })
                        .collect();
                    let mut sum = 0;
                    for task in tasks {
                        sum += task.await.unwrap();
                    }
                    assert_eq!(sum, 999 * 1_000 / 2);
                }
                stop.store(true, SeqCst);
                blocker.await.unwrap();
            });
        }
    });
}
