//! The hand-off, close and refill paths, model-checked.
use super::*;
use loom::future::block_on;
use loom::thread;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Waker};

#[test]
fn loom_unbuffered_hand_off() {
    loom::model(|| {
        let (tx, rx) = channel::<u32>(0);
        let sender = thread::spawn(move || block_on(tx.send(1)).is_ok());
        assert_eq!(block_on(rx.recv()), Some(1));
        assert!(sender.join().unwrap());
    });
}

#[test]
fn loom_close_wakes_a_parked_receiver() {
    loom::model(|| {
        let (tx, rx) = channel::<u32>(1);
        let closer = thread::spawn(move || drop(tx));
        assert_eq!(block_on(rx.recv()), None);
        closer.join().unwrap();
    });
}

#[test]
fn loom_close_returns_the_value_to_a_parked_sender() {
    loom::model(|| {
        let (tx, rx) = channel::<u32>(0);
        let closer = thread::spawn(move || drop(rx));
        match block_on(tx.send(4)) {
            Ok(()) => panic!("nobody received"),
            Err(SendError(value)) => assert_eq!(value, 4),
        }
        closer.join().unwrap();
    });
}

#[test]
fn loom_full_buffer_refilled_from_a_parked_sender() {
    loom::model(|| {
        let (tx, rx) = channel::<u32>(1);
        let tx2 = tx.clone();
        let a = thread::spawn(move || block_on(tx.send(1)).unwrap());
        let b = thread::spawn(move || block_on(tx2.send(2)).unwrap());
        let mut got = [block_on(rx.recv()).unwrap(), block_on(rx.recv()).unwrap()];
        got.sort();
        assert_eq!(got, [1, 2]);
        a.join().unwrap();
        b.join().unwrap();
        assert_eq!(block_on(rx.recv()), None);
    });
}

// Unbounded channels: the push / parked-count / park / re-check protocol of
// `chan/unbounded.rs`. Loom sees the queue as a mutex-protected stand-in (crate::loom), so
// these check the protocol, not crossbeam's queue.

#[test]
fn loom_unbounded_receiver_parking_during_a_send_is_woken_or_sees_the_value() {
    loom::model(|| {
        let (tx, rx) = unbounded::<u32>();
        // The sender stays alive, so only the value's wake-up can end the receive.
        let sender = thread::spawn(move || {
            block_on(tx.send(1)).unwrap();
            tx
        });
        assert_eq!(block_on(rx.recv()), Some(1));
        drop(sender.join().unwrap());
    });
}

#[test]
fn loom_unbounded_close_wakes_a_parked_receiver() {
    loom::model(|| {
        let (tx, rx) = unbounded::<u32>();
        let closer = thread::spawn(move || drop(tx));
        assert_eq!(block_on(rx.recv()), None);
        closer.join().unwrap();
    });
}

#[test]
fn loom_unbounded_close_after_a_send_loses_nothing() {
    loom::model(|| {
        let (tx, rx) = unbounded::<u32>();
        let sender = thread::spawn(move || tx.try_send(1).unwrap());
        // Closed only after the value is taken, whatever the interleaving.
        match rx.try_recv() {
            Ok(value) => assert_eq!(value, 1),
            Err(TryRecvError::Empty) => assert_eq!(block_on(rx.recv()), Some(1)),
            Err(TryRecvError::Closed) => panic!("closed before the value was taken"),
        }
        assert_eq!(block_on(rx.recv()), None);
        sender.join().unwrap();
    });
}

#[test]
fn loom_unbounded_send_racing_the_last_receivers_drop_leaves_no_value_behind() {
    loom::model(|| {
        let probe = Arc::new(());
        let (tx, rx) = unbounded::<Arc<()>>();
        let value = probe.clone();
        // Ok (queued, then dropped by whichever side empties the queue) or Closed (given
        // back and dropped here); the sender stays alive either way.
        let sender = thread::spawn(move || {
            let _ = tx.try_send(value);
            tx
        });
        drop(rx);
        let tx = sender.join().unwrap();
        assert_eq!(Arc::strong_count(&probe), 1, "a value outlived the close");
        drop(tx);
    });
}

#[test]
fn loom_unbounded_notified_receiver_dropped_passes_the_wake_on() {
    loom::model(|| {
        let (tx, rx) = unbounded::<u32>();
        let rx2 = rx.clone();
        // First in the wait list, so the send notifies this one; nobody polls it again.
        let mut first = rx.recv();
        let mut cx = Context::from_waker(Waker::noop());
        assert!(Pin::new(&mut first).poll(&mut cx).is_pending());
        let second = thread::spawn(move || block_on(rx2.recv()));
        let sender = thread::spawn(move || {
            block_on(tx.send(7)).unwrap();
            tx
        });
        drop(first); // before, during or after the notification
        assert_eq!(second.join().unwrap(), Some(7));
        drop(sender.join().unwrap());
    });
}
