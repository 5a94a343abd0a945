//! What every channel shares, whatever keeps its values: the ends' counts, the parked
//! receivers, the lock over them, and the close.
//!
//! Values live in one of two places, chosen at creation ([`Flavor`]): a buffer under this
//! lock (`channel(n)`, [`super::buffered`]) or a lock-free queue beside it (`unbounded()`,
//! [`super::unbounded`]). Each operation of the public ends matches on the flavour once and
//! runs that algorithm; nothing here depends on which.
//!
//! A parked receiver is only *notified*; it pulls the value itself when polled, so dropping a
//! receive future never loses a value, and a notified receiver that is dropped passes the
//! notification on ([`Chan::cancel_recv`]).

use super::buffered::{Buffer, SendWaiter};
use super::unbounded::Unbounded;
use crate::loom::{lock, Mutex, MutexGuard};
use crate::waitlist::{WaitKey, WaitList, Wakeups};
use std::collections::VecDeque;
use std::task::Waker;

pub(super) struct Chan<T> {
    state: Mutex<State<T>>,
    pub(super) flavor: Flavor<T>,
}

/// Where a channel keeps its values: each operation matches on this once, and each kind's
/// state is reachable only from its own arm.
pub(super) enum Flavor<T> {
    /// `channel(n)`: values in `State::buffer`, under the lock; sends park while it is full.
    Buffered(Buffer),
    /// `unbounded()`: values in a lock-free queue, with a lock-free copy of the state senders
    /// need (`State::buffer` and `send_waiters` stay empty); the lock only to park and wake
    /// receivers and to close. Boxed: the queue's cache-padded ends are ~256 bytes, which
    /// every bounded channel (one per request, often) would otherwise carry.
    Unbounded(Box<Unbounded<T>>),
}

pub(super) struct State<T> {
    /// Buffered channels only.
    pub(super) buffer: VecDeque<T>,
    pub(super) senders: usize,
    pub(super) receivers: usize,
    /// Parked senders, each with the value it is sending. Buffered channels only.
    pub(super) send_waiters: WaitList<SendWaiter<T>>,
    /// Parked receivers; popped when notified.
    pub(super) recv_waiters: WaitList<Waker>,
}

impl<T> Chan<T> {
    /// A channel with one sender and one receiver.
    pub(super) fn new(flavor: Flavor<T>) -> Chan<T> {
        Chan {
            state: Mutex::new(State {
                buffer: VecDeque::new(),
                senders: 1,
                receivers: 1,
                send_waiters: WaitList::new(),
                recv_waiters: WaitList::new(),
            }),
            flavor,
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State<T>> {
        lock(&self.state)
    }

    /// Values buffered now.
    pub(super) fn len(&self) -> usize {
        match &self.flavor {
            Flavor::Buffered(_) => self.lock().buffer.len(),
            Flavor::Unbounded(unbounded) => unbounded.len(),
        }
    }

    /// The buffer size given to `channel` (`None` for `unbounded`).
    pub(super) fn capacity(&self) -> Option<usize> {
        match self.flavor {
            Flavor::Buffered(Buffer::Rendezvous) => Some(0),
            Flavor::Buffered(Buffer::Bounded(cap)) => Some(cap),
            Flavor::Unbounded(_) => None,
        }
    }

    /// True if a receiver that is woken now would find a value.
    fn has_value(&self, state: &State<T>) -> bool {
        match &self.flavor {
            Flavor::Buffered(_) => !state.buffer.is_empty() || !state.send_waiters.is_empty(),
            Flavor::Unbounded(unbounded) => !unbounded.is_empty(),
        }
    }

    /// Unbounded channels: copies what lock-free senders and receivers read out of `state`.
    /// Call under the lock after every change to `recv_waiters` or to whether either count
    /// is zero.
    pub(super) fn publish(&self, state: &State<T>) {
        if let Flavor::Unbounded(unbounded) = &self.flavor {
            unbounded.publish(
                state.recv_waiters.len(),
                state.senders == 0,
                state.receivers == 0,
            );
        }
    }

    pub(super) fn add_sender(&self) {
        self.lock().senders += 1;
    }

    pub(super) fn add_receiver(&self) {
        self.lock().receivers += 1;
    }

    /// The last sender closes the channel: every parked receiver is woken to see `None`
    /// (after the buffer drains).
    pub(super) fn drop_sender(&self) {
        let mut wakeups = Wakeups::new();
        {
            let mut state = self.lock();
            state.senders -= 1;
            if state.senders == 0 {
                wakeups.extend(state.recv_waiters.drain());
                self.publish(&state);
            }
        }
        wakeups.wake_all();
    }

    /// The last receiver closes the channel: parked senders are woken to take their values
    /// back, and the values already buffered are dropped now (as tokio does), not when the
    /// last sender goes, so that whatever they own (a reply's oneshot sender that a task
    /// awaits, say) is released at once.
    pub(super) fn drop_receiver(&self) {
        let mut wakeups = Wakeups::new();
        let buffered = {
            let mut state = self.lock();
            state.receivers -= 1;
            if state.receivers != 0 {
                return;
            }
            // Parked senders stay queued so that they find their values to take back.
            wakeups.extend(state.send_waiters.iter_mut().map(|w| w.waker.clone()));
            self.publish(&state);
            std::mem::take(&mut state.buffer)
        };
        wakeups.wake_all();
        if let Flavor::Unbounded(unbounded) = &self.flavor {
            unbounded.drop_values_after_close();
        }
        // Dropped outside the lock: a value's destructor may use the channel.
        drop(buffered);
    }

    /// A receive future dropped while parked leaves the wait list; if it had been notified,
    /// the notification passes to the next receiver, since it will take no value.
    pub(super) fn cancel_recv(&self, key: WaitKey) {
        let mut wakeup = None;
        {
            let mut state = self.lock();
            let notified = state.recv_waiters.remove(key).is_none();
            if notified && self.has_value(&state) {
                wakeup = state.notify_receiver();
            }
            self.publish(&state);
        }
        wake(wakeup);
    }
}

impl<T> State<T> {
    /// Notifies the longest-waiting receiver that a value is available.
    /// The waker to call once the lock is released.
    pub(super) fn notify_receiver(&mut self) -> Option<Waker> {
        self.recv_waiters.pop_front()
    }
}

/// Wakes the one waiter an operation released, if any (no `SmallVec` on the hot path: its
/// out-of-line drop was ~6% of a channel ping-pong's instructions).
#[inline]
pub(super) fn wake(wakeup: Option<Waker>) {
    if let Some(waker) = wakeup {
        waker.wake();
    }
}
