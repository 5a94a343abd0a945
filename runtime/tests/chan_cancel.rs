//! Dropping a parked `send` or `recv` future mid-wait loses no value and leaves no stale
//! waker: the next waiter gets what the dropped one would have. Polled by hand with counting
//! wakers, so every interleaving here is exact.

use runtime::chan;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn waker() -> (Arc<CountingWaker>, Waker) {
    let counter = Arc::new(CountingWaker::default());
    (counter.clone(), Waker::from(counter))
}

fn poll<F: Future + Unpin>(future: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(waker))
}

#[test]
fn a_notified_receiver_that_is_dropped_passes_the_value_on() {
    let (tx, rx) = chan::channel::<u32>(1);
    let (count1, waker1) = waker();
    let (count2, waker2) = waker();
    let mut first = rx.recv();
    let mut second = rx.recv();
    assert!(poll(&mut first, &waker1).is_pending());
    assert!(poll(&mut second, &waker2).is_pending());

    tx.try_send(7).unwrap();
    assert_eq!(count1.0.load(SeqCst), 1, "the first waiter is notified");
    assert_eq!(count2.0.load(SeqCst), 0);

    drop(first); // cancelled before it took the value
    assert_eq!(
        count2.0.load(SeqCst),
        1,
        "the wake passes to the next waiter"
    );
    assert_eq!(poll(&mut second, &waker2), Poll::Ready(Some(7)));
}

#[test]
fn a_dropped_unnotified_receiver_leaves_no_waker_behind() {
    let (tx, rx) = chan::channel::<u32>(1);
    let (count1, waker1) = waker();
    let (count2, waker2) = waker();
    let mut first = rx.recv();
    assert!(poll(&mut first, &waker1).is_pending());
    drop(first);
    let mut second = rx.recv();
    assert!(poll(&mut second, &waker2).is_pending());
    tx.try_send(1).unwrap();
    assert_eq!(
        count1.0.load(SeqCst),
        0,
        "the dropped waiter's waker is gone"
    );
    assert_eq!(count2.0.load(SeqCst), 1);
    assert_eq!(poll(&mut second, &waker2), Poll::Ready(Some(1)));
}

#[test]
fn a_dropped_parked_send_delivers_nothing_and_frees_its_place() {
    let (tx, rx) = chan::channel::<&str>(1);
    tx.try_send("buffered").unwrap();
    let (count_a, waker_a) = waker();
    let (count_b, waker_b) = waker();
    let mut a = tx.send("a");
    let mut b = tx.send("b");
    assert!(poll(&mut a, &waker_a).is_pending());
    assert!(poll(&mut b, &waker_b).is_pending());
    drop(a); // cancelled: "a" is not sent
    assert_eq!(rx.try_recv(), Ok("buffered"));
    assert_eq!(count_a.0.load(SeqCst), 0);
    assert_eq!(
        count_b.0.load(SeqCst),
        1,
        "b moves into the freed buffer slot"
    );
    assert_eq!(poll(&mut b, &waker_b), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok("b"));
    assert!(rx.try_recv().is_err());
}

#[test]
fn a_dropped_unbuffered_send_is_never_received() {
    let (tx, rx) = chan::channel::<u32>(0);
    let (_, waker_s) = waker();
    let mut send = tx.send(1);
    assert!(poll(&mut send, &waker_s).is_pending());
    drop(send);
    assert!(
        rx.try_recv().is_err(),
        "a cancelled unbuffered send delivers nothing"
    );
}

#[test]
fn an_unbuffered_send_completes_once_its_value_is_taken() {
    let (tx, rx) = chan::channel::<u32>(0);
    let (count, waker_s) = waker();
    let mut send = tx.send(5);
    assert!(poll(&mut send, &waker_s).is_pending());
    assert_eq!(rx.try_recv(), Ok(5));
    assert_eq!(count.0.load(SeqCst), 1, "the sender is woken by the take");
    assert_eq!(poll(&mut send, &waker_s), Poll::Ready(Ok(())));
}

#[test]
fn a_oneshot_receiver_polled_then_dropped_leaves_no_waker() {
    let (tx, mut rx) = chan::oneshot::<u32>();
    let (count, w) = waker();
    assert!(poll(&mut rx, &w).is_pending());
    drop(rx);
    assert_eq!(tx.send(1), Err(1));
    assert_eq!(count.0.load(SeqCst), 0);
}
