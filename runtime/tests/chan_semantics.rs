//! Go's channel and select semantics, as our own tests (after Go's test/chan and
//! crossbeam-channel's golang.rs): hand-off, FIFO, close, try ops, select fairness, default,
//! disabled branches, many producers and consumers.

use runtime::chan::{self, TryRecvError, TrySendError};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

async fn yield_until(mut cond: impl FnMut() -> bool) {
    for _ in 0..100_000 {
        if cond() {
            return;
        }
        runtime::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("condition never held");
}

#[runtime::test]
async fn unbuffered_send_completes_only_when_received() {
    let (tx, rx) = chan::channel::<u32>(0);
    let sent = Arc::new(AtomicUsize::new(0));
    let sent2 = sent.clone();
    let sender = runtime::spawn(async move {
        for i in 0..3 {
            tx.send(i).await.unwrap();
            sent2.fetch_add(1, SeqCst);
        }
    });
    // No receiver yet: the first send cannot complete however long we wait.
    runtime::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(sent.load(SeqCst), 0);
    for expected in 0..3 {
        assert_eq!(rx.recv().await, Some(expected));
        yield_until(|| sent.load(SeqCst) > expected as usize).await;
        // Not more than one send completes per receive.
        assert_eq!(sent.load(SeqCst), expected as usize + 1);
    }
    sender.await.unwrap();
}

#[runtime::test]
async fn buffered_channel_is_fifo_and_parks_when_full() {
    let (tx, rx) = chan::channel::<u32>(3);
    for i in 0..3 {
        tx.send(i).await.unwrap();
    }
    assert_eq!(tx.len(), 3);
    assert!(matches!(tx.try_send(3), Err(TrySendError::Full(3))));
    let late = {
        let tx = tx.clone();
        runtime::spawn(async move { tx.send(3).await })
    };
    for i in 0..4 {
        assert_eq!(rx.recv().await, Some(i));
    }
    late.await.unwrap().unwrap();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[runtime::test]
async fn dropping_every_sender_closes_after_the_buffer_drains_and_wakes_all_receivers() {
    let (tx, rx) = chan::channel::<u32>(4);
    let receivers: Vec<_> = (0..4)
        .map(|_| {
            let rx = rx.clone();
            runtime::spawn(async move { rx.recv().await })
        })
        .collect();
    runtime::time::sleep(Duration::from_millis(10)).await;
    tx.send(7).await.unwrap();
    let tx2 = tx.clone();
    drop(tx);
    drop(tx2);
    let mut got: Vec<_> = Vec::new();
    for receiver in receivers {
        got.push(receiver.await.unwrap());
    }
    got.sort();
    assert_eq!(got, vec![None, None, None, Some(7)]);
    assert_eq!(rx.recv().await, None);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[runtime::test]
async fn dropping_every_receiver_wakes_parked_senders_with_their_values() {
    let (tx, rx) = chan::channel::<String>(0);
    let senders: Vec<_> = (0..3)
        .map(|i| {
            let tx = tx.clone();
            runtime::spawn(async move { tx.send(format!("v{i}")).await })
        })
        .collect();
    runtime::time::sleep(Duration::from_millis(10)).await;
    drop(rx);
    let mut returned: Vec<String> = Vec::new();
    for sender in senders {
        returned.push(sender.await.unwrap().unwrap_err().into_inner());
    }
    returned.sort();
    assert_eq!(returned, vec!["v0", "v1", "v2"]);
    assert!(tx.is_closed());
    assert_eq!(tx.send("late".into()).await.unwrap_err().0, "late");
    assert!(matches!(
        tx.try_send("x".into()),
        Err(TrySendError::Closed(_))
    ));
}

#[runtime::test]
async fn dropping_every_receiver_drops_the_buffered_values_at_once() {
    for (name, (tx, rx)) in [
        ("buffered", chan::channel::<Arc<()>>(4)),
        ("unbounded", chan::unbounded::<Arc<()>>()),
    ] {
        let probe = Arc::new(());
        tx.send(probe.clone()).await.unwrap();
        tx.try_send(probe.clone()).unwrap();
        let rx2 = rx.clone();
        drop(rx);
        assert_eq!(Arc::strong_count(&probe), 3, "{name}: one receiver is left");
        drop(rx2);
        // Not when the last sender goes: the sender is still alive here.
        assert_eq!(
            Arc::strong_count(&probe),
            1,
            "{name}: dropped with the last receiver"
        );
        assert!(tx.is_empty(), "{name}");
        let late = tx.send(probe.clone()).await.unwrap_err().into_inner();
        assert!(
            Arc::ptr_eq(&late, &probe),
            "{name}: a late send gets its value back"
        );
    }
}

/// The leak it prevents: a request whose reply sender sits in the channel when the server
/// stops reading. Its client is woken with an error instead of waiting for as long as some
/// other sender of requests lives.
#[runtime::test]
async fn a_request_left_in_the_channel_fails_its_reply_when_the_server_goes() {
    let (requests, server) = chan::channel::<chan::oneshot::Sender<u32>>(8);
    let (reply_tx, reply_rx) = chan::oneshot();
    requests.send(reply_tx).await.unwrap();
    let client = runtime::spawn(reply_rx);
    drop(server);
    let reply = runtime::time::timeout(Duration::from_secs(10), client).await;
    assert!(reply.expect("the client was never woken").unwrap().is_err());
    assert!(requests.is_closed());
}

#[runtime::test]
async fn try_send_on_unbuffered_needs_a_waiting_receiver() {
    let (tx, rx) = chan::channel::<u32>(0);
    assert!(matches!(tx.try_send(1), Err(TrySendError::Full(1))));
    let receiver = {
        let rx = rx.clone();
        runtime::spawn(async move { rx.recv().await })
    };
    // Once the receiver is parked, a non-blocking send succeeds (Go's select-with-default send).
    let mut sent = false;
    for _ in 0..10_000 {
        if tx.try_send(2).is_ok() {
            sent = true;
            break;
        }
        runtime::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(sent);
    assert_eq!(receiver.await.unwrap(), Some(2));
    assert!(matches!(tx.try_send(3), Err(TrySendError::Full(3))));
}

#[runtime::test]
async fn unbounded_never_parks_the_sender() {
    let (tx, rx) = chan::unbounded::<usize>();
    for i in 0..10_000 {
        tx.send(i).await.unwrap();
    }
    assert_eq!(tx.capacity(), None);
    for i in 0..10_000 {
        assert_eq!(rx.try_recv(), Ok(i));
    }
}

#[runtime::test]
async fn unbounded_close_is_seen_by_try_ops_and_the_buffer_drains_first() {
    let (tx, rx) = chan::unbounded::<u32>();
    let tx2 = tx.clone();
    tx.send(1).await.unwrap();
    tx2.try_send(2).unwrap();
    drop(tx);
    assert!(!rx.is_closed());
    assert_eq!(rx.try_recv(), Ok(1));
    drop(tx2);
    assert!(rx.is_closed());
    assert_eq!(rx.len(), 1);
    assert_eq!(rx.try_recv(), Ok(2), "buffered values outlive the senders");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(rx.recv().await, None);

    let (tx, rx) = chan::unbounded::<u32>();
    let rx2 = rx.clone();
    drop(rx);
    tx.send(1).await.unwrap();
    drop(rx2);
    assert!(tx.is_closed());
    assert_eq!(tx.send(2).await.unwrap_err().0, 2);
    assert!(matches!(tx.try_send(3), Err(TrySendError::Closed(3))));
}

#[runtime::test]
async fn oneshot_delivers_once_and_reports_a_dropped_sender() {
    let (tx, rx) = chan::oneshot::<u32>();
    tx.send(1).unwrap();
    assert_eq!(rx.await, Ok(1));
    let (tx, rx) = chan::oneshot::<u32>();
    drop(tx);
    assert!(rx.await.is_err());
    let (tx, rx) = chan::oneshot::<u32>();
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(5), Err(5));
}

#[runtime::test]
async fn select_picks_fairly_among_ready_branches() {
    let (tx_a, rx_a) = chan::unbounded::<()>();
    let (tx_b, rx_b) = chan::unbounded::<()>();
    let (mut a, mut b) = (0, 0);
    for _ in 0..10_000 {
        tx_a.try_send(()).unwrap();
        tx_b.try_send(()).unwrap();
        runtime::select! {
            _ = rx_a.recv() => { a += 1; let _ = rx_b.try_recv(); }
            _ = rx_b.recv() => { b += 1; let _ = rx_a.try_recv(); }
        }
    }
    assert_eq!(a + b, 10_000);
    assert!((4_000..=6_000).contains(&a), "a chosen {a} times, b {b}");
}

#[runtime::test]
async fn biased_select_polls_in_order() {
    let (tx_a, rx_a) = chan::unbounded::<()>();
    let (tx_b, rx_b) = chan::unbounded::<()>();
    for _ in 0..100 {
        tx_a.try_send(()).unwrap();
        tx_b.try_send(()).unwrap();
        let first = runtime::select! {
            biased;
            _ = rx_a.recv() => 'a',
            _ = rx_b.recv() => 'b',
        };
        assert_eq!(first, 'a');
        rx_b.try_recv().unwrap();
    }
}

#[runtime::test]
async fn select_with_default_never_parks() {
    let (tx, rx) = chan::channel::<u32>(0);
    for _ in 0..1_000 {
        let got = runtime::select! {
            v = rx.recv() => v,
            default => None,
        };
        assert_eq!(got, None);
    }
    // A non-blocking send with no receiver takes the default branch too.
    let taken = runtime::select! {
        r = tx.send(1) => r.is_ok(),
        default => false,
    };
    assert!(!taken);
}

#[runtime::test]
async fn disabled_branches_are_never_polled() {
    let (tx, rx) = chan::unbounded::<u32>();
    tx.send(1).await.unwrap();
    let read = false;
    let got = runtime::select! {
        v = rx.recv(), if read => v.map(|v| v * 100),
        _ = runtime::time::sleep(Duration::from_millis(1)) => None,
    };
    assert_eq!(got, None);
    assert_eq!(rx.try_recv(), Ok(1), "the disabled branch took nothing");
}

#[runtime::test]
async fn a_value_not_matching_its_pattern_disables_the_branch() {
    let (tx, rx) = chan::channel::<u32>(1);
    drop(tx); // recv gives None: `Some(v)` fails, like receiving from a nil channel
    let got = runtime::select! {
        Some(v) = rx.recv() => v,
        _ = runtime::time::sleep(Duration::from_millis(5)) => 0,
    };
    assert_eq!(got, 0);
}

#[runtime::test]
async fn select_binds_mut_patterns_and_moves_values() {
    let (tx, rx) = chan::unbounded::<Vec<u32>>();
    tx.send(vec![1, 2]).await.unwrap();
    let len = runtime::select! {
        Some(mut v) = rx.recv() => { v.push(3); v.len() }
    };
    assert_eq!(len, 3);
}

#[runtime::test(worker_threads = 4)]
async fn four_producers_four_consumers_lose_and_duplicate_nothing() {
    const PER_PRODUCER: usize = 250_000; // 1,000,000 values in all
    let (tx, rx) = chan::channel::<usize>(64);
    let producers: Vec<_> = (0..4)
        .map(|p| {
            let tx = tx.clone();
            runtime::spawn(async move {
                for i in 0..PER_PRODUCER {
                    tx.send(p * PER_PRODUCER + i).await.unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let consumers: Vec<_> = (0..4)
        .map(|_| {
            let rx = rx.clone();
            runtime::spawn(async move {
                let mut seen = Vec::new();
                while let Some(v) = rx.recv().await {
                    seen.push(v);
                }
                seen
            })
        })
        .collect();
    drop(rx);
    for producer in producers {
        producer.await.unwrap();
    }
    let mut all = HashSet::with_capacity(4 * PER_PRODUCER);
    let mut count = 0;
    for consumer in consumers {
        let seen = consumer.await.unwrap();
        // Each producer's values arrive in order at any one consumer.
        let mut last = [None::<usize>; 4];
        for &v in &seen {
            let p = v / PER_PRODUCER;
            assert!(
                last[p].is_none_or(|l| l < v),
                "out of order from producer {p}"
            );
            last[p] = Some(v);
        }
        count += seen.len();
        all.extend(seen);
    }
    assert_eq!(count, 4 * PER_PRODUCER, "values lost or duplicated");
    assert_eq!(all.len(), 4 * PER_PRODUCER, "values duplicated");
}
