//! The unbounded channel's lock-free path under load: many producers, several receivers (one
//! of them cancelling its receive whenever it would park), a million values. Nothing lost,
//! nothing duplicated, each producer's values in order at every receiver, and no receiver left
//! parked by a lost wake-up (the test would hang, and `within` fails it instead).
//! Run it in release mode too (`cargo test -p runtime --release --test chan_unbounded_stress`):
//! that is where the races are.

use support::finishes_within;
use test_support as support;

use runtime::chan;
use std::collections::HashSet;

const PRODUCERS: usize = 8;
const PER_PRODUCER: usize = 125_000; // 1,000,000 values in all
const RECEIVERS: usize = 4;

#[test]
fn many_producers_several_receivers_lose_and_duplicate_nothing() {
    let seen = finishes_within(120, || {
        let rt = runtime::Builder::new().worker_threads(4).build().unwrap();
        rt.block_on(async {
            let (tx, rx) = chan::unbounded::<usize>();
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|p| {
                    let tx = tx.clone();
                    runtime::spawn(async move {
                        for i in 0..PER_PRODUCER {
                            let value = p * PER_PRODUCER + i;
                            // Both send paths; `try_send` on an unbounded channel never fails
                            // while a receiver is alive.
                            if i % 2 == 0 {
                                tx.send(value).await.unwrap();
                            } else {
                                tx.try_send(value).unwrap();
                            }
                        }
                    })
                })
                .collect();
            drop(tx);
            let receivers: Vec<_> = (0..RECEIVERS)
                .map(|r| {
                    let rx = rx.clone();
                    runtime::spawn(async move {
                        let mut seen = Vec::new();
                        if r == 0 {
                            // Parks and is cancelled over and over: every `Pending` registers
                            // a waiter that the `select!` then drops, maybe after a sender
                            // notified it.
                            loop {
                                runtime::select! {
                                    v = rx.recv() => match v {
                                        Some(v) => seen.push(v),
                                        None => break,
                                    },
                                    default => runtime::yield_now().await,
                                }
                            }
                        } else {
                            while let Some(v) = rx.recv().await {
                                seen.push(v);
                            }
                        }
                        seen
                    })
                })
                .collect();
            drop(rx);
            for producer in producers {
                producer.await.unwrap();
            }
            let mut all = Vec::new();
            for receiver in receivers {
                all.push(receiver.await.unwrap());
            }
            all
        })
    });

    let mut distinct = HashSet::with_capacity(PRODUCERS * PER_PRODUCER);
    let mut count = 0;
    for values in &seen {
        let mut last = [None::<usize>; PRODUCERS];
        for &v in values {
            let p = v / PER_PRODUCER;
            assert!(
                last[p].is_none_or(|l| l < v),
                "out of order from producer {p}"
            );
            last[p] = Some(v);
        }
        count += values.len();
        distinct.extend(values.iter().copied());
    }
    assert_eq!(count, PRODUCERS * PER_PRODUCER, "values lost or duplicated");
    assert_eq!(
        distinct.len(),
        PRODUCERS * PER_PRODUCER,
        "values duplicated"
    );
}

/// Sends racing the last receiver's drop, on real threads, many times: every value is dropped
/// by the time both sides are done (given back to the sender, or dropped by whichever side
/// emptied the queue), while a sender is still alive to keep the channel.
#[test]
fn sends_racing_the_close_leave_no_value_behind() {
    use std::sync::{Arc, Barrier};
    finishes_within(120, || {
        for round in 0..2_000 {
            let probe = Arc::new(());
            let (tx, rx) = chan::unbounded::<Arc<()>>();
            let start = Arc::new(Barrier::new(2));
            let sender = std::thread::spawn({
                let (probe, start) = (probe.clone(), start.clone());
                move || {
                    start.wait();
                    for _ in 0..16 {
                        if tx.try_send(probe.clone()).is_err() {
                            break;
                        }
                    }
                    tx
                }
            });
            start.wait();
            drop(rx);
            let tx = sender.join().unwrap();
            assert_eq!(
                Arc::strong_count(&probe),
                1,
                "round {round}: a value outlived the close"
            );
            drop(tx);
        }
    });
}
