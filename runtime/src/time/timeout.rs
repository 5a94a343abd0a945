use super::sleep::{sleep_until_at, Sleep};
use crate::coop;
use crate::park::{self, ParkReason};
use std::fmt;
use std::future::{Future, IntoFuture};
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Runs `future` until it completes or `duration` elapses, whichever is first.
///
/// While waiting, the task shows the park reason of the wrapped future; a foreign future
/// shows `sleep` at the `timeout` call.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// use std::time::Duration;
/// let slow = runtime::time::sleep(Duration::from_secs(60));
/// assert!(runtime::time::timeout(Duration::from_millis(5), slow).await.is_err());
/// # });
/// ```
///
/// # Panics
/// Outside a Parkade runtime.
#[track_caller]
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    let site = Location::caller();
    let deadline = Instant::now()
        .checked_add(duration)
        .unwrap_or_else(|| Instant::now() + Duration::from_secs(86400 * 365 * 30));
    Timeout {
        future: future.into_future(),
        delay: sleep_until_at(deadline, site),
    }
}

/// The future of [`timeout`].
#[must_use = "futures do nothing unless awaited"]
pub struct Timeout<F> {
    future: F,
    delay: Sleep,
}

/// The error of a [`timeout`] whose deadline passed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(_: Elapsed) -> std::io::Error {
        std::io::ErrorKind::TimedOut.into()
    }
}

impl<F> Timeout<F> {
    /// The wrapped future.
    pub fn get_ref(&self) -> &F {
        &self.future
    }

    /// Gives the wrapped future back.
    pub fn into_inner(self) -> F {
        self.future
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    /// `#[track_caller]` so that a wrapped `JoinHandle` records the `.await` of the timeout.
    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `future` is structurally pinned: it is never moved out of a pinned
        // `Timeout` (`into_inner` takes `self` by value, which requires `Unpin` or no pin),
        // and `Timeout` has no `Drop` impl. `delay` is `Unpin` and not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: as above: `future` is structurally pinned.
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        let had_budget = coop::has_budget_remaining();
        if let Poll::Ready(output) = future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        let inner_recorded = park::recorded_this_poll();
        // If the wrapped future spent the budget, the deadline must still be checked, or a
        // busy future would never time out.
        let delay = if had_budget && !coop::has_budget_remaining() {
            coop::unconstrained(|| this.delay.poll_elapsed(cx))
        } else {
            this.delay.poll_elapsed(cx)
        };
        match delay {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => {
                if !inner_recorded {
                    park::record(ParkReason::Sleep, this.delay.site);
                }
                Poll::Pending
            }
        }
    }
}

impl<F: fmt::Debug> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("future", &self.future)
            .field("delay", &self.delay)
            .finish()
    }
}
