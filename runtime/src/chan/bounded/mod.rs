//! The MPMC channel behind `channel(cap)` and `unbounded()`: one mutex-protected state with a
//! value buffer and FIFO wait lists of parked senders (each holding its value) and receivers.
//! Unbounded channels keep their values in a lock-free queue instead ([`Unbounded`]), so that
//! a send or a receive that finds a value takes no lock; they use the mutex only to park and
//! wake receivers and to close.
//!
//! Values move only when a receiver takes them (from the buffer, or, unbuffered, straight from
//! a parked sender) or when a sender puts one into buffer room. A parked receiver is only
//! *notified*; it pulls the value itself when polled, so dropping a receive future never
//! loses a value, and a notified receiver that is dropped passes the notification on.

use super::error::{SendError, TryRecvError, TrySendError};
use super::unbounded::{Pushed, Unbounded};
use crate::coop;
use crate::loom::{lock, Mutex, MutexGuard};
use crate::park::{self, ParkReason};
use crate::waitlist::{refresh_waker, WaitKey, WaitList, Wakeups};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll, Waker};

struct Chan<T> {
    state: Mutex<State<T>>,
    flavor: Flavor<T>,
}

/// Where a channel keeps its values: each operation matches on this once, and each kind's
/// state is reachable only from its own arm.
enum Flavor<T> {
    /// `channel(n)`: values in `State::buffer`, under the lock; sends park while it is full.
    Buffered(Buffer),
    /// `unbounded()`: values in a lock-free queue, with a lock-free copy of the state senders
    /// need (`State::buffer` and `send_waiters` stay empty); the lock only to park and wake
    /// receivers and to close. Boxed: the queue's cache-padded ends are ~256 bytes, which
    /// every bounded channel (one per request, often) would otherwise carry.
    Unbounded(Box<Unbounded<T>>),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Buffer {
    /// Go's `make(chan T)`: a send completes when a receiver takes the value.
    Rendezvous,
    Bounded(usize),
}

struct State<T> {
    /// Buffered channels only.
    buffer: VecDeque<T>,
    senders: usize,
    receivers: usize,
    /// Parked senders, each with the value it is sending.
    send_waiters: WaitList<SendWaiter<T>>,
    /// Parked receivers; popped when notified.
    recv_waiters: WaitList<Waker>,
}

struct SendWaiter<T> {
    value: T,
    waker: Waker,
}

/// Creates a channel. `cap == 0` is unbuffered, with Go's rendezvous semantics: `send`
/// completes only once a receiver has taken the value. Otherwise up to `cap` values are
/// buffered and `send` parks while the buffer is full.
///
/// Both ends can be cloned (many producers, many consumers). `recv` returns `None` once every
/// `Sender` is dropped and the buffer is drained; `send` returns the value in `Err` once every
/// `Receiver` is dropped.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, rx) = runtime::chan::channel::<u32>(0);
/// let producer = runtime::spawn(async move {
///     tx.send(1).await.unwrap(); // parks until the receiver takes it
/// });
/// assert_eq!(rx.recv().await, Some(1));
/// producer.await.unwrap();
/// assert_eq!(rx.recv().await, None); // the only sender is gone
/// # });
/// ```
pub fn channel<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    let buffer = match cap {
        0 => Buffer::Rendezvous,
        cap => Buffer::Bounded(cap),
    };
    new(Flavor::Buffered(buffer))
}

/// Creates a channel whose `send` never parks.
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    new(Flavor::Unbounded(Box::new(Unbounded::new())))
}

fn new<T>(flavor: Flavor<T>) -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(Chan {
        state: Mutex::new(State {
            buffer: VecDeque::new(),
            senders: 1,
            receivers: 1,
            send_waiters: WaitList::new(),
            recv_waiters: WaitList::new(),
        }),
        flavor,
    });
    (Sender { chan: chan.clone() }, Receiver { chan })
}

/// The sending half of a channel. Clone it for more producers.
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

/// The receiving half of a channel. Clone it for more consumers.
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Chan<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        lock(&self.state)
    }

    /// Values buffered now.
    fn len(&self) -> usize {
        match &self.flavor {
            Flavor::Buffered(_) => self.lock().buffer.len(),
            Flavor::Unbounded(unbounded) => unbounded.len(),
        }
    }

    /// The buffer size given to `channel` (`None` for `unbounded`).
    fn capacity(&self) -> Option<usize> {
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
    fn publish(&self, state: &State<T>) {
        if let Flavor::Unbounded(unbounded) = &self.flavor {
            unbounded.publish(
                state.recv_waiters.len(),
                state.senders == 0,
                state.receivers == 0,
            );
        }
    }

    /// Unbounded send: a push, and the lock only if a receiver is parked.
    fn send_unbounded(&self, unbounded: &Unbounded<T>, value: T) -> Result<(), T> {
        match unbounded.push(value)? {
            Pushed::Done => {}
            Pushed::NotifyReceiver => {
                let waker = {
                    let mut state = self.lock();
                    let waker = state.recv_waiters.pop_front();
                    self.publish(&state);
                    waker
                };
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
        }
        Ok(())
    }

    /// Unbounded receive: a pop; the lock only to leave the wait list or to park.
    fn poll_recv_unbounded(
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

impl<T> State<T> {
    /// Notifies the longest-waiting receiver that a value is available.
    /// The waker to call once the lock is released.
    fn notify_receiver(&mut self) -> Option<Waker> {
        self.recv_waiters.pop_front()
    }

    /// Takes the next value for a receiver, refilling the buffer from a parked sender.
    /// Sets `wakeup` to the sender to wake once the lock is released, if any.
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
    fn has_room(&self, buffer: Buffer) -> bool {
        match buffer {
            Buffer::Bounded(cap) => self.buffer.len() < cap && self.send_waiters.is_empty(),
            // Unbuffered (`try_send` only; `send` always waits to be taken): as a hand-off to
            // a receiver already parked for it.
            Buffer::Rendezvous => self.recv_waiters.len() > self.buffer.len(),
        }
    }
}

/// Wakes the one waiter an operation released, if any (no `SmallVec` on the hot path: its
/// out-of-line drop was ~6% of a channel ping-pong's instructions).
#[inline]
fn wake(wakeup: Option<Waker>) {
    if let Some(waker) = wakeup {
        waker.wake();
    }
}

impl<T> Sender<T> {
    /// Sends `value`, parking (reason `chan send`) while the buffer is full or, unbuffered,
    /// until a receiver takes it. Gives the value back if every receiver is gone.
    ///
    /// Cancel safety: if the future is dropped before it completes, the value was not
    /// delivered and is dropped with the future; nothing else is lost.
    #[track_caller]
    pub fn send(&self, value: T) -> Send<'_, T> {
        Send {
            chan: &self.chan,
            value: Some(value),
            key: None,
            site: Location::caller(),
        }
    }

    /// Sends without parking: `Full` if the buffer is full (unbuffered: if no receiver is
    /// waiting), `Closed` if every receiver is gone.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let chan = &*self.chan;
        let buffer = match &chan.flavor {
            Flavor::Buffered(buffer) => *buffer,
            Flavor::Unbounded(unbounded) => {
                return chan
                    .send_unbounded(unbounded, value)
                    .map_err(TrySendError::Closed);
            }
        };
        let wakeup = {
            let mut state = chan.lock();
            if state.receivers == 0 {
                return Err(TrySendError::Closed(value));
            }
            if !state.has_room(buffer) {
                return Err(TrySendError::Full(value));
            }
            state.buffer.push_back(value);
            state.notify_receiver()
        };
        wake(wakeup);
        Ok(())
    }

    /// True once every receiver is gone.
    pub fn is_closed(&self) -> bool {
        self.chan.lock().receivers == 0
    }

    /// Values buffered now.
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// True if no value is buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The buffer size given to `channel` (`None` for `unbounded`).
    pub fn capacity(&self) -> Option<usize> {
        self.chan.capacity()
    }

    /// True if both senders belong to the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl<T> Receiver<T> {
    /// Receives the next value, parking (reason `chan receive`) while there is none.
    /// `None` once every sender is gone and the buffer is drained.
    ///
    /// Cancel safety: dropping the future before it completes loses no value.
    #[track_caller]
    pub fn recv(&self) -> Recv<'_, T> {
        Recv {
            chan: &self.chan,
            key: None,
            site: Location::caller(),
        }
    }

    /// Receives without parking.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        let chan = &*self.chan;
        let buffer = match &chan.flavor {
            Flavor::Buffered(buffer) => *buffer,
            Flavor::Unbounded(unbounded) => {
                if let Some(value) = unbounded.pop() {
                    return Ok(value);
                }
                // Once every sender is gone, everything they sent is visible to this pop.
                return match unbounded.senders_gone() {
                    false => Err(TryRecvError::Empty),
                    true => unbounded.pop().ok_or(TryRecvError::Closed),
                };
            }
        };
        let mut wakeup = None;
        let result = {
            let mut state = chan.lock();
            match state.take_value(buffer, &mut wakeup) {
                Some(value) => Ok(value),
                None if state.senders == 0 => Err(TryRecvError::Closed),
                None => Err(TryRecvError::Empty),
            }
        };
        wake(wakeup);
        result
    }

    /// True once every sender is gone (values may still be buffered).
    pub fn is_closed(&self) -> bool {
        self.chan.lock().senders == 0
    }

    /// Values buffered now.
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// True if no value is buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.lock().senders += 1;
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.chan.lock().receivers += 1;
        Receiver {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut wakeups = Wakeups::new();
        {
            let mut state = self.chan.lock();
            state.senders -= 1;
            if state.senders == 0 {
                // Close: every parked receiver must see `None` (after the buffer drains).
                wakeups.extend(state.recv_waiters.drain());
                self.chan.publish(&state);
            }
        }
        wakeups.wake_all();
    }
}

impl<T> Drop for Receiver<T> {
    /// The last receiver closes the channel: parked senders are woken to take their values
    /// back, and the values already buffered are dropped now (as tokio does), not when the
    /// last sender goes, so that whatever they own (a reply's oneshot sender that a task
    /// awaits, say) is released at once.
    fn drop(&mut self) {
        let mut wakeups = Wakeups::new();
        let buffered = {
            let mut state = self.chan.lock();
            state.receivers -= 1;
            if state.receivers != 0 {
                return;
            }
            // Parked senders stay queued so that they find their values to take back.
            wakeups.extend(state.send_waiters.iter_mut().map(|w| w.waker.clone()));
            self.chan.publish(&state);
            std::mem::take(&mut state.buffer)
        };
        wakeups.wake_all();
        if let Flavor::Unbounded(unbounded) = &self.chan.flavor {
            unbounded.drop_values_after_close();
        }
        // Dropped outside the lock: a value's destructor may use the channel.
        drop(buffered);
    }
}

/// The future of [`Sender::send`].
#[must_use = "futures do nothing unless awaited"]
pub struct Send<'a, T> {
    chan: &'a Chan<T>,
    value: Option<T>,
    /// Our entry in `send_waiters` while parked.
    key: Option<WaitKey>,
    site: &'static Location<'static>,
}

impl<T> Unpin for Send<'_, T> {}

impl<T> Future for Send<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let permit = ready!(coop::poll_proceed(cx));
        let chan = this.chan;
        let buffer = match &chan.flavor {
            Flavor::Buffered(buffer) => *buffer,
            Flavor::Unbounded(unbounded) => {
                let value = this.value.take().expect("`Send` polled after completion");
                permit.made_progress();
                return Poll::Ready(chan.send_unbounded(unbounded, value).map_err(SendError));
            }
        };
        let mut wakeup = None;
        let poll = {
            let mut state = chan.lock();
            match this.key {
                Some(key) => {
                    let receivers = state.receivers;
                    match state.send_waiters.get_mut(key) {
                        // Gone from the queue: a receiver took the value.
                        None => {
                            this.key = None;
                            Poll::Ready(Ok(()))
                        }
                        Some(_) if receivers == 0 => {
                            this.key = None;
                            let waiter = state.send_waiters.remove(key);
                            let waiter = waiter.expect("invariant: waiter just seen");
                            Poll::Ready(Err(SendError(waiter.value)))
                        }
                        Some(waiter) => {
                            refresh_waker(&mut waiter.waker, cx.waker());
                            Poll::Pending
                        }
                    }
                }
                None => {
                    let value = this.value.take().expect("`Send` polled after completion");
                    if state.receivers == 0 {
                        Poll::Ready(Err(SendError(value)))
                    } else if buffer != Buffer::Rendezvous && state.has_room(buffer) {
                        state.buffer.push_back(value);
                        wakeup = state.notify_receiver();
                        Poll::Ready(Ok(()))
                    } else {
                        this.key = Some(state.send_waiters.push_back(SendWaiter {
                            value,
                            waker: cx.waker().clone(),
                        }));
                        // Unbuffered: a parked receiver can now take this value.
                        if buffer == Buffer::Rendezvous {
                            wakeup = state.notify_receiver();
                        }
                        Poll::Pending
                    }
                }
            }
        };
        wake(wakeup);
        match poll {
            Poll::Pending => park::record(ParkReason::ChanSend, this.site),
            Poll::Ready(_) => permit.made_progress(),
        }
        poll
    }
}

impl<T> Drop for Send<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // Not delivered: take the value back (it is dropped after the lock is released).
            let waiter = self.chan.lock().send_waiters.remove(key);
            drop(waiter);
        }
    }
}

/// The future of [`Receiver::recv`].
#[must_use = "futures do nothing unless awaited"]
pub struct Recv<'a, T> {
    chan: &'a Chan<T>,
    /// Our entry in `recv_waiters` while parked (stale once we were notified).
    key: Option<WaitKey>,
    site: &'static Location<'static>,
}

impl<T> Future for Recv<'_, T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        let permit = ready!(coop::poll_proceed(cx));
        let chan = this.chan;
        let poll = match &chan.flavor {
            Flavor::Buffered(buffer) => {
                let mut wakeup = None;
                let poll = {
                    let mut state = chan.lock();
                    if let Some(key) = this.key.take() {
                        // Still queued (spurious poll) or already popped (notified): start over.
                        state.recv_waiters.remove(key);
                    }
                    match state.take_value(*buffer, &mut wakeup) {
                        Some(value) => Poll::Ready(Some(value)),
                        None if state.senders == 0 => Poll::Ready(None),
                        None => {
                            this.key = Some(state.recv_waiters.push_back(cx.waker().clone()));
                            Poll::Pending
                        }
                    }
                };
                wake(wakeup);
                poll
            }
            Flavor::Unbounded(unbounded) => {
                chan.poll_recv_unbounded(unbounded, &mut this.key, cx.waker())
            }
        };
        match poll {
            Poll::Pending => park::record(ParkReason::ChanReceive, this.site),
            Poll::Ready(_) => permit.made_progress(),
        }
        poll
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let mut wakeup = None;
        {
            let mut state = self.chan.lock();
            let notified = state.recv_waiters.remove(key).is_none();
            if notified && self.chan.has_value(&state) {
                // We were woken for a value we will never take: pass the wake on.
                wakeup = state.notify_receiver();
            }
            self.chan.publish(&state);
        }
        wake(wakeup);
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("capacity", &self.chan.capacity())
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("capacity", &self.chan.capacity())
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Send<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Send")
            .field("site", &self.site)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recv")
            .field("site", &self.site)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, loom))]
mod loom_tests;

#[cfg(all(test, not(loom)))]
mod tests;
