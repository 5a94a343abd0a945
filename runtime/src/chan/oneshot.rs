//! A channel for exactly one value: the reply half of a request.

use super::error::{RecvError, TryRecvError};
use crate::coop;
use crate::loom::{lock, Mutex};
use crate::park::{self, ParkReason};
use crate::waitlist::refresh_waker;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll, Waker};

struct Inner<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    value: Option<T>,
    waker: Option<Waker>,
    sender_gone: bool,
    receiver_gone: bool,
}

/// Sends the one value. Dropping it unsent makes the receiver return `RecvError`.
pub struct Sender<T> {
    inner: Arc<Inner<T>>,
}

/// Awaits the one value; parks with reason `chan receive` at the `.await`.
pub struct Receiver<T> {
    inner: Arc<Inner<T>>,
}

/// Creates a oneshot channel.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let (reply, response) = runtime::chan::oneshot::<&str>();
/// runtime::spawn(async move { reply.send("pong").unwrap() });
/// assert_eq!(response.await, Ok("pong"));
/// # });
/// ```
pub fn oneshot<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: Mutex::new(State {
            value: None,
            waker: None,
            sender_gone: false,
            receiver_gone: false,
        }),
    });
    (
        Sender {
            inner: inner.clone(),
        },
        Receiver { inner },
    )
}

impl<T> Sender<T> {
    /// Sends the value; gives it back if the receiver is gone.
    pub fn send(self, value: T) -> Result<(), T> {
        let waker = {
            let mut state = lock(&self.inner.state);
            if state.receiver_gone {
                return Err(value);
            }
            state.value = Some(value);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// True once the receiver is gone.
    pub fn is_closed(&self) -> bool {
        lock(&self.inner.state).receiver_gone
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut state = lock(&self.inner.state);
            state.sender_gone = true;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// Takes the value if it has been sent.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut state = lock(&self.inner.state);
        match state.value.take() {
            Some(value) => Ok(value),
            None if state.sender_gone => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    /// `#[track_caller]`: the park site is the `.await` of the receiver.
    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let site = Location::caller();
        let permit = ready!(coop::poll_proceed(cx));
        let poll = {
            let mut state = lock(&self.inner.state);
            match state.value.take() {
                Some(value) => Poll::Ready(Ok(value)),
                None if state.sender_gone => Poll::Ready(Err(RecvError(()))),
                None => {
                    match &mut state.waker {
                        Some(waker) => refresh_waker(waker, cx.waker()),
                        None => state.waker = Some(cx.waker().clone()),
                    }
                    Poll::Pending
                }
            }
        };
        match poll {
            Poll::Pending => park::record(ParkReason::ChanReceive, site),
            Poll::Ready(_) => permit.made_progress(),
        }
        poll
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let (value, waker) = {
            let mut state = lock(&self.inner.state);
            state.receiver_gone = true;
            (state.value.take(), state.waker.take())
        };
        drop((value, waker));
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Receiver").finish_non_exhaustive()
    }
}
