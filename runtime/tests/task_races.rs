//! Hammers the task state machine (abort / wake / join / drop / shutdown races) so that a
//! reference-count or ownership error shows up as a crash, a double drop or a leak.

use support::finishes_within;
use test_support as support;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

struct DropCount(Arc<AtomicUsize>);
impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Parks, stashing clones of its waker where other threads wake them; completes after `n` polls.
struct Flappy {
    polls: usize,
    n: usize,
    slot: Arc<Mutex<Vec<Waker>>>,
}
impl Future for Flappy {
    type Output = usize;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        self.polls += 1;
        if self.polls >= self.n {
            return Poll::Ready(self.polls);
        }
        let w = cx.waker().clone();
        if self.polls.is_multiple_of(3) {
            cx.waker().wake_by_ref();
        }
        self.slot.lock().unwrap().push(w);
        Poll::Pending
    }
}

#[test]
fn abort_wake_join_drop_races() {
    finishes_within(120, || {
        for round in 0..60 {
            let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
            let slot: Arc<Mutex<Vec<Waker>>> = Arc::default();
            let drops = Arc::new(AtomicUsize::new(0));
            let stop = Arc::new(AtomicBool::new(false));
            // Wakers fired from a plain thread, by value and by ref.
            let waker_thread = {
                let slot = slot.clone();
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut i = 0u64;
                    while !stop.load(SeqCst) {
                        let ws: Vec<Waker> = std::mem::take(&mut *slot.lock().unwrap());
                        for w in ws {
                            i += 1;
                            if i.is_multiple_of(2) {
                                w.wake_by_ref();
                                drop(w);
                            } else {
                                w.wake();
                            }
                        }
                        std::thread::yield_now();
                    }
                    slot.lock().unwrap().clear();
                })
            };
            let n_tasks = 2000;
            let mut handles = Vec::new();
            for i in 0..n_tasks {
                let guard = DropCount(drops.clone());
                let slot = slot.clone();
                handles.push(rt.spawn(async move {
                    let _guard = guard;
                    Flappy {
                        polls: 0,
                        n: 2 + i % 17,
                        slot,
                    }
                    .await
                }));
            }
            let (aborters, rest): (Vec<_>, Vec<_>) = handles
                .into_iter()
                .enumerate()
                .partition(|(i, _)| i % 3 == 0);
            let abort_thread = std::thread::spawn(move || {
                for (_, h) in &aborters {
                    h.abort();
                }
                aborters
            });
            let mut kept = Vec::new();
            for (i, h) in rest {
                if i % 2 == 0 {
                    drop(h); // detach while running
                } else {
                    kept.push(h);
                }
            }
            let aborters = abort_thread.join().unwrap();
            let handle = rt.handle().clone();
            // Join half of them, leave the rest to the shutdown.
            let joiner = std::thread::spawn(move || {
                handle.block_on(async {
                    for (k, h) in kept.into_iter().enumerate() {
                        if k % 2 == 0 {
                            let _ = h.await;
                        } else {
                            h.abort();
                            let _ = h.await;
                        }
                    }
                    for (_, h) in aborters {
                        let _ = h.await;
                    }
                })
            });
            if round % 2 == 0 {
                std::thread::sleep(Duration::from_millis(1));
                drop(rt);
                joiner.join().unwrap();
            } else {
                joiner.join().unwrap();
                drop(rt);
            }
            stop.store(true, SeqCst);
            waker_thread.join().unwrap();
            assert_eq!(
                drops.load(SeqCst),
                n_tasks,
                "every future dropped exactly once"
            );
        }
    });
}
