//! The lock-free part of an unbounded channel: its values, in a lock-free queue, and one word
//! that tells a sender, without the channel's lock, whether it must wake a receiver.
//!
//! A send is a push and two loads of [`Unbounded::state`]; a receive that finds a value is a
//! pop. The channel's mutex is taken only to park a receiver, to wake one, to close, and to
//! clone or drop an end. Bounded and unbuffered channels do not use this: their sends park, so
//! every operation needs the wait lists anyway.
//!
//! # Waking without losing a wake-up
//!
//! - A sender pushes, then loads `state` (`SeqCst`); if a receiver is parked it takes the
//!   lock and notifies the longest-waiting one.
//! - A receiver that found the queue empty takes the lock, registers its waker, publishes the
//!   new parked count, then (`SeqCst` fence) pops again before it returns `Pending`.
//!
//! Either the sender's load sees the receiver registered, or the receiver's second pop sees
//! the value, so a value pushed while a receiver parks is taken by it or announced to it. The
//! argument (C++20 [atomics.order] p4, which Rust follows): `SegQueue::push` claims its slot
//! with a `SeqCst` CAS on the tail index, and `SegQueue::pop` answers "empty" only from a tail
//! read after our fence. If the sender's `SeqCst` load missed the receiver's publish, it is
//! coherence-ordered before that store, which happens before the receiver's fence, so the
//! load, and the CAS sequenced before it, precede the fence in the `SeqCst` order; a tail read
//! after the fence then cannot miss the CAS. This leans on the CAS being `SeqCst` (it is in
//! crossbeam-queue 0.3, whose own empty check depends on it); a `SeqCst` fence between push
//! and load would not, but costs an `mfence` per send on x86 (measured: ~15% of
//! `contention_unbounded`). Loom checks the protocol with a mutex stand-in for the queue, not
//! this ordering argument.
//!
//! Closing by the senders needs no fence: `state` is only written under the channel's lock, a
//! sender pushes before its drop takes that lock, and so a receiver that sees [`SENDERS_GONE`]
//! (or reads the sender count under the lock) and then pops sees every value ever sent.
//!
//! Closing by the receivers drops the queued values, and a send racing the close must not
//! leave its value behind: the last receiver publishes [`RECEIVERS_GONE`], fences (`SeqCst`)
//! and pops until empty; a sender that passed the flag check pushes, and its `SeqCst` load
//! after the push (the same load as above) sees the flag, in which case it empties the queue
//! itself, or else, by the same argument, the receiver's pops see its value.

use super::core::Chan;
use crate::loom::atomic::{fence, AtomicUsize, Ordering};
use crate::loom::SegQueue;
use crate::waitlist::WaitKey;
use std::task::{Poll, Waker};

/// Set once every `Receiver` is gone, so that a send fails without the lock. Never cleared.
const RECEIVERS_GONE: usize = 1 << 0;
/// Set once every `Sender` is gone, so that an empty `try_recv` can say `Closed` without the
/// lock. Never cleared.
const SENDERS_GONE: usize = 1 << 1;
/// The bits above hold the number of parked receivers (the length of `recv_waiters`).
const PARKED_SHIFT: u32 = 2;

pub(super) struct Unbounded<T> {
    values: SegQueue<T>,
    /// `RECEIVERS_GONE | SENDERS_GONE | parked << PARKED_SHIFT`, a copy of facts the channel
    /// keeps under its lock. Written only under that lock, by [`Unbounded::publish`], after
    /// every change to them; read by anyone without it.
    state: AtomicUsize,
}

/// What a sender must do after [`Unbounded::push`].
#[must_use]
pub(super) enum Pushed {
    /// No receiver was parked when the value became visible: nothing to do.
    Done,
    /// A receiver may be parked: take the lock and notify one.
    NotifyReceiver,
}

impl<T> Unbounded<T> {
    pub(super) fn new() -> Unbounded<T> {
        Unbounded {
            values: SegQueue::new(),
            state: AtomicUsize::new(0),
        }
    }

    /// Queues `value`, or gives it back if every receiver is gone.
    pub(super) fn push(&self, value: T) -> Result<Pushed, T> {
        if self.state.load(Ordering::Acquire) & RECEIVERS_GONE != 0 {
            return Err(value);
        }
        self.values.push(value);
        // `SeqCst`, after the push's `SeqCst` CAS: pairs with the fences of
        // `fence_after_park` and `drop_values_after_close` (module doc).
        let state = self.state.load(Ordering::SeqCst);
        if state & RECEIVERS_GONE != 0 {
            // The last receiver left while we pushed; its pops may have missed our value.
            self.drop_values();
            return Ok(Pushed::Done);
        }
        match state >> PARKED_SHIFT {
            0 => Ok(Pushed::Done),
            _ => Ok(Pushed::NotifyReceiver),
        }
    }

    /// Called by the last receiver after it published [`RECEIVERS_GONE`]: drops every queued
    /// value, and (module doc) leaves none behind for a send that raced the close.
    pub(super) fn drop_values_after_close(&self) {
        fence(Ordering::SeqCst);
        self.drop_values();
    }

    fn drop_values(&self) {
        while let Some(value) = self.values.pop() {
            drop(value);
        }
    }

    pub(super) fn pop(&self) -> Option<T> {
        self.values.pop()
    }

    /// True once every sender is gone. A pop after this returns `None` only if the channel is
    /// drained for good.
    pub(super) fn senders_gone(&self) -> bool {
        self.state.load(Ordering::Acquire) & SENDERS_GONE != 0
    }

    pub(super) fn len(&self) -> usize {
        self.values.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Makes the lock-held facts visible to lock-free readers. Call with the channel's lock
    /// held, after any change to the parked receivers or the sender and receiver counts.
    pub(super) fn publish(&self, parked: usize, senders_gone: bool, receivers_gone: bool) {
        let mut state = parked << PARKED_SHIFT;
        if senders_gone {
            state |= SENDERS_GONE;
        }
        if receivers_gone {
            state |= RECEIVERS_GONE;
        }
        self.state.store(state, Ordering::Release);
    }

    /// A receiver that has just registered and published itself calls this before its last
    /// pop: pairs with the `SeqCst` load in `push` (see the module doc).
    pub(super) fn fence_after_park(&self) {
        fence(Ordering::SeqCst);
    }
}

impl<T> Chan<T> {
    /// A send: a push, and the lock only if a receiver is parked.
    #[inline]
    pub(super) fn send_unbounded(&self, unbounded: &Unbounded<T>, value: T) -> Result<(), T> {
        match unbounded.push(value)? {
            Pushed::Done => {}
            Pushed::NotifyReceiver => {
                let waker = {
                    let mut state = self.lock();
                    let waker = state.notify_receiver();
                    self.publish(&state);
                    waker
                };
                super::core::wake(waker);
            }
        }
        Ok(())
    }

    /// Receives without parking: the value, or `Err(true)` if the channel is closed and
    /// drained, `Err(false)` if it is empty.
    #[inline]
    pub(super) fn try_recv_unbounded(&self, unbounded: &Unbounded<T>) -> Result<T, bool> {
        if let Some(value) = unbounded.pop() {
            return Ok(value);
        }
        // Once every sender is gone, everything they sent is visible to this pop.
        match unbounded.senders_gone() {
            false => Err(false),
            true => unbounded.pop().ok_or(true),
        }
    }

    /// One poll of a receive: a pop; the lock only to leave the wait list or to park.
    #[inline]
    pub(super) fn poll_recv_unbounded(
        &self,
        unbounded: &Unbounded<T>,
        key: &mut Option<WaitKey>,
        waker: &Waker,
    ) -> Poll<Option<T>> {
        if key.is_none() {
            if let Some(value) = unbounded.pop() {
                return Poll::Ready(Some(value));
            }
        }
        let mut state = self.lock();
        if let Some(key) = key.take() {
            // Still queued (spurious poll) or already popped (notified): start over.
            state.recv_waiters.remove(key);
            self.publish(&state);
            if let Some(value) = unbounded.pop() {
                return Poll::Ready(Some(value));
            }
        }
        // Every sender that is gone pushed before it took the lock to say so: an empty queue
        // now, with no sender left, stays empty.
        if state.senders == 0 {
            return Poll::Ready(unbounded.pop());
        }
        let parked = state.recv_waiters.push_back(waker.clone());
        self.publish(&state);
        unbounded.fence_after_park();
        match unbounded.pop() {
            Some(value) => {
                state.recv_waiters.remove(parked);
                self.publish(&state);
                Poll::Ready(Some(value))
            }
            None => {
                *key = Some(parked);
                Poll::Pending
            }
        }
    }
}
