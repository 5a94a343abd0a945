//! The public ends of `channel(n)` and `unbounded()`, and their futures. Each operation
//! matches on the channel's [`Flavor`] once and runs that algorithm ([`super::buffered`] or
//! [`super::unbounded`]); this file only adds what the user sees: the coop budget, the park
//! record (`chan send` / `chan receive`, at the call), and the errors.

use super::buffered::{Buffer, SendFailed};
use super::core::{wake, Chan, Flavor};
use super::error::{SendError, TryRecvError, TrySendError};
use super::unbounded::Unbounded;
use crate::coop;
use crate::park::{self, ParkReason};
use crate::waitlist::WaitKey;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

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
    let chan = Arc::new(Chan::new(flavor));
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

impl<T> Sender<T> {
    /// Sends `value`, parking (reason `chan send`) while the buffer is full or, unbuffered,
    /// until a receiver takes it. Gives the value back if every receiver is gone.
    ///
    /// Cancel safety: if the future is dropped before it completes, the value was not
    /// delivered and is dropped with the future; nothing else is lost.
    #[track_caller]
    pub fn send(&self, value: T) -> SendFuture<'_, T> {
        SendFuture {
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
        match &chan.flavor {
            Flavor::Buffered(buffer) => match chan.try_send_buffered(*buffer, value) {
                Ok(wakeup) => {
                    wake(wakeup);
                    Ok(())
                }
                Err((value, SendFailed::Full)) => Err(TrySendError::Full(value)),
                Err((value, SendFailed::Closed)) => Err(TrySendError::Closed(value)),
            },
            Flavor::Unbounded(unbounded) => chan
                .send_unbounded(unbounded, value)
                .map_err(TrySendError::Closed),
        }
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
        let result = match &chan.flavor {
            Flavor::Buffered(buffer) => {
                let mut wakeup = None;
                let result = chan.try_recv_buffered(*buffer, &mut wakeup);
                wake(wakeup);
                result
            }
            Flavor::Unbounded(unbounded) => chan.try_recv_unbounded(unbounded),
        };
        result.map_err(|closed| match closed {
            true => TryRecvError::Closed,
            false => TryRecvError::Empty,
        })
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
        self.chan.add_sender();
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.chan.add_receiver();
        Receiver {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.chan.drop_receiver();
    }
}

/// The future of [`Sender::send`].
#[must_use = "futures do nothing unless awaited"]
pub struct SendFuture<'a, T> {
    chan: &'a Chan<T>,
    value: Option<T>,
    /// Our entry in `send_waiters` while parked.
    key: Option<WaitKey>,
    site: &'static Location<'static>,
}

impl<T> Unpin for SendFuture<'_, T> {}

impl<T> Future for SendFuture<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let permit = ready!(coop::poll_proceed(cx));
        let chan = this.chan;
        let buffer = match &chan.flavor {
            Flavor::Buffered(buffer) => *buffer,
            Flavor::Unbounded(unbounded) => {
                let value = this
                    .value
                    .take()
                    .expect("`SendFuture` polled after completion");
                permit.made_progress();
                return Poll::Ready(chan.send_unbounded(unbounded, value).map_err(SendError));
            }
        };
        let mut wakeup = None;
        let poll = chan.poll_send_buffered(
            buffer,
            &mut this.value,
            &mut this.key,
            cx.waker(),
            &mut wakeup,
        );
        wake(wakeup);
        match poll {
            Poll::Pending => park::record(ParkReason::ChanSend, this.site),
            Poll::Ready(_) => permit.made_progress(),
        }
        poll.map_err(SendError)
    }
}

impl<T> Drop for SendFuture<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.chan.cancel_send(key);
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
                let poll = chan.poll_recv_buffered(*buffer, &mut this.key, cx.waker(), &mut wakeup);
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
        if let Some(key) = self.key.take() {
            self.chan.cancel_recv(key);
        }
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

impl<T> fmt::Debug for SendFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendFuture")
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
