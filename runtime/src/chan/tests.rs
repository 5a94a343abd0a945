use super::core::Chan;
use super::*;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::Wake;
use std::task::{Context, Poll, Waker};

/// A program may keep a channel per request: the unbounded flavour's lock-free queue
/// (cache-padded, ~256 bytes) must not be part of every channel.
#[test]
fn a_bounded_channel_does_not_carry_the_unbounded_queue() {
    assert!(
        std::mem::size_of::<Chan<u64>>() <= 192,
        "{}",
        std::mem::size_of::<Chan<u64>>()
    );
}

// The channel's state machine driven by hand, with no runtime: no driver, no threads, so
// that miri runs them (see `.ci/run`). Outside a task, recording and the coop budget are
// inert; wakes go to counting wakers.

/// A waker that counts its wakes.
#[derive(Default)]
struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn waker() -> (Arc<Counter>, Waker) {
    let counter = Arc::new(Counter::default());
    (counter.clone(), Waker::from(counter))
}

fn poll<F: Future + Unpin>(future: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(waker))
}

#[test]
fn a_rendezvous_send_parks_with_its_value_until_a_receiver_takes_it() {
    let (tx, rx) = channel::<String>(0);
    let (sender_woken, sender) = waker();
    let mut send = tx.send("hello".to_string());
    assert!(poll(&mut send, &sender).is_pending());
    assert_eq!(rx.try_recv().as_deref(), Ok("hello"));
    assert_eq!(sender_woken.0.load(SeqCst), 1, "the taken sender is woken");
    assert_eq!(poll(&mut send, &sender), Poll::Ready(Ok(())));
}

#[test]
fn a_parked_receiver_is_woken_and_pulls_the_value_itself() {
    let (tx, rx) = channel::<u32>(1);
    let (receiver_woken, receiver) = waker();
    let mut recv = rx.recv();
    assert!(poll(&mut recv, &receiver).is_pending());
    tx.try_send(7).unwrap();
    assert_eq!(receiver_woken.0.load(SeqCst), 1);
    assert_eq!(poll(&mut recv, &receiver), Poll::Ready(Some(7)));
}

#[test]
fn a_dropped_parked_send_takes_its_value_back_and_drops_it_once() {
    let (tx, rx) = channel::<Arc<()>>(0);
    let value = Arc::new(());
    let (_, sender) = waker();
    let mut send = tx.send(value.clone());
    assert!(poll(&mut send, &sender).is_pending());
    assert_eq!(Arc::strong_count(&value), 2);
    drop(send);
    assert_eq!(
        Arc::strong_count(&value),
        1,
        "the parked value was dropped with its future"
    );
    assert!(rx.try_recv().is_err());
}

#[test]
fn closing_returns_the_value_to_a_parked_sender_and_wakes_receivers() {
    let (tx, rx) = channel::<u32>(0);
    let (_, sender) = waker();
    let mut send = tx.send(5);
    assert!(poll(&mut send, &sender).is_pending());
    drop(rx);
    match poll(&mut send, &sender) {
        Poll::Ready(Err(SendError(value))) => assert_eq!(value, 5),
        other => panic!("expected the value back, got {other:?}"),
    }

    let (tx, rx) = channel::<u32>(4);
    let (receiver_woken, receiver) = waker();
    let mut recv = rx.recv();
    assert!(poll(&mut recv, &receiver).is_pending());
    drop(tx);
    assert_eq!(receiver_woken.0.load(SeqCst), 1);
    assert_eq!(poll(&mut recv, &receiver), Poll::Ready(None));
}

#[test]
fn unbounded_values_survive_a_close_and_drain_in_order() {
    let (tx, rx) = unbounded::<Box<u32>>();
    for i in 0..100 {
        tx.try_send(Box::new(i)).unwrap();
    }
    drop(tx);
    let drained: Vec<u32> = std::iter::from_fn(|| rx.try_recv().ok())
        .map(|b| *b)
        .collect();
    assert_eq!(drained, (0..100).collect::<Vec<_>>());
}
