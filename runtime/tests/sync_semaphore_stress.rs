//! The semaphore's lock-free paths under load: many tasks on several workers acquiring and
//! releasing random counts, through every way in (`acquire_many`, the owned form,
//! `try_acquire_many`, an acquire dropped after one poll) and out (guard drop, `forget` plus
//! `add_permits`). Never more than `PERMITS` held at once, nothing lost at the end, and no task
//! left parked by a lost wake-up (the test would hang, and `within` fails it instead).
//! Run it in release mode too (`cargo test -p runtime --release --test sync_semaphore_stress`):
//! that is where the races are.

use support::finishes_within;
use test_support as support;

use runtime::sync::Semaphore;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::Poll;

const PERMITS: u32 = 8;
const TASKS: usize = 16;
/// Acquires dropped while still queued: if none ever was, the test lost its teeth.
static DROPPED_WHILE_QUEUED: AtomicUsize = AtomicUsize::new(0);
const ROUNDS: usize = 200_000;

/// xorshift64: a different, reproducible sequence per task without a dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u32) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % u64::from(n)) as u32
    }
}

/// Counts the permits held across all tasks; panics if they ever exceed `PERMITS`.
struct Held(AtomicUsize);

impl Held {
    fn take(&self, n: u32) {
        let now = self.0.fetch_add(n as usize, SeqCst) + n as usize;
        assert!(now <= PERMITS as usize, "{now} permits held of {PERMITS}");
    }

    fn give(&self, n: u32) {
        self.0.fetch_sub(n as usize, SeqCst);
    }
}

#[test]
fn random_counts_never_exceed_the_permits_and_all_come_back() {
    finishes_within(60, || {
        let rt = runtime::Builder::new().worker_threads(4).build().unwrap();
        rt.block_on(async {
            let semaphore = Arc::new(Semaphore::new(PERMITS as usize));
            let held = Arc::new(Held(AtomicUsize::new(0)));
            let tasks: Vec<_> = (0..TASKS)
                .map(|t| {
                    let (semaphore, held) = (semaphore.clone(), held.clone());
                    runtime::spawn(async move {
                        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (t as u64 + 1));
                        for _ in 0..ROUNDS {
                            let n = 1 + rng.below(PERMITS);
                            match rng.below(5) {
                                0 => {
                                    let permit = semaphore.acquire_many(n).await.unwrap();
                                    held.take(n);
                                    runtime::yield_now().await;
                                    held.give(n);
                                    drop(permit);
                                }
                                1 => {
                                    let permit =
                                        semaphore.clone().acquire_many_owned(n).await.unwrap();
                                    held.take(n);
                                    held.give(n);
                                    drop(permit);
                                }
                                2 => {
                                    if let Ok(permit) = semaphore.try_acquire_many(n) {
                                        held.take(n);
                                        runtime::yield_now().await;
                                        held.give(n);
                                        drop(permit);
                                    }
                                }
                                3 => {
                                    // Polled once, then dropped whether queued, partly
                                    // assigned or granted: cancel safety under load.
                                    let mut acquire = pin!(semaphore.acquire_many(n));
                                    let granted = poll_fn(|cx| {
                                        Poll::Ready(acquire.as_mut().poll(cx).is_ready())
                                    })
                                    .await;
                                    if !granted {
                                        DROPPED_WHILE_QUEUED.fetch_add(1, SeqCst);
                                        runtime::yield_now().await;
                                    }
                                }
                                _ => {
                                    // Taken out for good, then put back from outside.
                                    let permit = semaphore.acquire_many(n).await.unwrap();
                                    held.take(n);
                                    held.give(n);
                                    permit.forget();
                                    semaphore.add_permits(n as usize);
                                }
                            }
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            assert_eq!(held.0.load(SeqCst), 0);
            assert_eq!(
                semaphore.available_permits(),
                PERMITS as usize,
                "permits lost"
            );
            assert!(
                semaphore.try_acquire_many(PERMITS).is_ok(),
                "all free, none queued"
            );
            assert!(
                DROPPED_WHILE_QUEUED.load(SeqCst) > 0,
                "no contention happened"
            );
        });
    })
}
