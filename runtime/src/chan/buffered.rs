//! The algorithm of `channel(n)`: values in a buffer under the channel's lock, with FIFO wait
//! lists of parked senders (each holding its value) and receivers.
//!
//! Values move only when a receiver takes them (from the buffer, or, unbuffered, straight from
//! a parked sender) or when a sender puts one into buffer room. A receiver that takes a value
//! from a full buffer refills it from the longest-parked sender, so that sends complete in
//! FIFO order.

use super::core::{Chan, State};
use crate::waitlist::{refresh_waker, WaitKey};
use std::task::{Poll, Waker};

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Buffer {
    /// Go's `make(chan T)`: a send completes when a receiver takes the value.
    Rendezvous,
    Bounded(usize),
}

pub(super) struct SendWaiter<T> {
    value: T,
    pub(super) waker: Waker,
}

/// Why a send did not complete.
pub(super) enum SendFailed {
    Full,
    Closed,
}

impl<T> State<T> {
    /// Takes the next value for a receiver, refilling the buffer from a parked sender.
    /// Sets `wakeup` to the sender to wake once the lock is released, if any.
    #[inline]
    fn take_value(&mut self, buffer: Buffer, wakeup: &mut Option<Waker>) -> Option<T> {
        if let Some(value) = self.buffer.pop_front() {
            if let Buffer::Bounded(_) = buffer {
                if let Some(waiter) = self.send_waiters.pop_front() {
                    self.buffer.push_back(waiter.value);
                    *wakeup = Some(waiter.waker);
                }
            }
            return Some(value);
        }
        let waiter = self.send_waiters.pop_front()?;
        *wakeup = Some(waiter.waker);
        Some(waiter.value)
    }

    /// Whether a new value may go into the buffer without parking.
    #[inline]
    fn has_room(&self, buffer: Buffer) -> bool {
        match buffer {
            Buffer::Bounded(cap) => self.buffer.len() < cap && self.send_waiters.is_empty(),
            // Unbuffered (`try_send` only; `send` always waits to be taken): as a hand-off to
            // a receiver already parked for it.
            Buffer::Rendezvous => self.recv_waiters.len() > self.buffer.len(),
        }
    }
}

impl<T> Chan<T> {
    /// Sends without parking. Gives the value back with the reason if it could not.
    /// The waker to call once the lock is released is the receiver notified, if any.
    #[inline]
    pub(super) fn try_send_buffered(
        &self,
        buffer: Buffer,
        value: T,
    ) -> Result<Option<Waker>, (T, SendFailed)> {
        let mut state = self.lock();
        if state.receivers == 0 {
            return Err((value, SendFailed::Closed));
        }
        if !state.has_room(buffer) {
            return Err((value, SendFailed::Full));
        }
        state.buffer.push_back(value);
        Ok(state.notify_receiver())
    }

    /// One poll of a send. `value` is the value not yet handed over (taken on the first poll);
    /// `key` our entry in `send_waiters` while parked. Sets `wakeup` to the waiter to wake
    /// once the lock is released.
    #[inline]
    pub(super) fn poll_send_buffered(
        &self,
        buffer: Buffer,
        value: &mut Option<T>,
        key: &mut Option<WaitKey>,
        waker: &Waker,
        wakeup: &mut Option<Waker>,
    ) -> Poll<Result<(), T>> {
        let mut state = self.lock();
        if let Some(parked) = *key {
            let receivers = state.receivers;
            return match state.send_waiters.get_mut(parked) {
                // Gone from the queue: a receiver took the value.
                None => {
                    *key = None;
                    Poll::Ready(Ok(()))
                }
                Some(_) if receivers == 0 => {
                    *key = None;
                    let waiter = state.send_waiters.remove(parked);
                    let waiter = waiter.expect("invariant: waiter just seen");
                    Poll::Ready(Err(waiter.value))
                }
                Some(waiter) => {
                    refresh_waker(&mut waiter.waker, waker);
                    Poll::Pending
                }
            };
        }
        let value = value.take().expect("`SendFuture` polled after completion");
        if state.receivers == 0 {
            return Poll::Ready(Err(value));
        }
        if buffer != Buffer::Rendezvous && state.has_room(buffer) {
            state.buffer.push_back(value);
            *wakeup = state.notify_receiver();
            return Poll::Ready(Ok(()));
        }
        *key = Some(state.send_waiters.push_back(SendWaiter {
            value,
            waker: waker.clone(),
        }));
        // Unbuffered: a parked receiver can now take this value.
        if buffer == Buffer::Rendezvous {
            *wakeup = state.notify_receiver();
        }
        Poll::Pending
    }

    /// A send future dropped while parked takes its undelivered value back; it is dropped
    /// here, after the lock is released.
    #[inline]
    pub(super) fn cancel_send(&self, key: WaitKey) {
        let waiter = self.lock().send_waiters.remove(key);
        drop(waiter);
    }

    /// Receives without parking: the value, or `Err(true)` if the channel is closed and
    /// drained, `Err(false)` if it is empty.
    #[inline]
    pub(super) fn try_recv_buffered(
        &self,
        buffer: Buffer,
        wakeup: &mut Option<Waker>,
    ) -> Result<T, bool> {
        let mut state = self.lock();
        match state.take_value(buffer, wakeup) {
            Some(value) => Ok(value),
            None => Err(state.senders == 0),
        }
    }

    /// One poll of a receive; `key` is our entry in `recv_waiters` while parked (stale once
    /// we were notified). Sets `wakeup` to the sender to wake once the lock is released.
    #[inline]
    pub(super) fn poll_recv_buffered(
        &self,
        buffer: Buffer,
        key: &mut Option<WaitKey>,
        waker: &Waker,
        wakeup: &mut Option<Waker>,
    ) -> Poll<Option<T>> {
        let mut state = self.lock();
        if let Some(key) = key.take() {
            // Still queued (spurious poll) or already popped (notified): start over.
            state.recv_waiters.remove(key);
        }
        match state.take_value(buffer, wakeup) {
            Some(value) => Poll::Ready(Some(value)),
            None if state.senders == 0 => Poll::Ready(None),
            None => {
                *key = Some(state.recv_waiters.push_back(waker.clone()));
                Poll::Pending
            }
        }
    }
}
