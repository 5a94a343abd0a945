use super::TimerKey;
use crate::driver;
use crate::park::{self, ParkReason};
use crate::{coop, scheduler};
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

/// Waits until `duration` has elapsed. Parks the task with reason `sleep` at the caller.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// use std::time::Duration;
/// runtime::time::sleep(Duration::from_millis(10)).await;
/// # });
/// ```
///
/// # Panics
/// Outside a Parkade runtime.
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    sleep_at(duration, Location::caller())
}

/// Waits until `deadline`. Parks the task with reason `sleep` at the caller.
///
/// # Panics
/// Outside a Parkade runtime.
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    sleep_until_at(deadline, Location::caller())
}

pub(crate) fn sleep_at(duration: Duration, site: &'static Location<'static>) -> Sleep {
    let deadline = Instant::now()
        .checked_add(duration)
        .unwrap_or_else(far_future);
    sleep_until_at(deadline, site)
}

pub(crate) fn sleep_until_at(deadline: Instant, site: &'static Location<'static>) -> Sleep {
    Sleep {
        deadline,
        handle: scheduler::current::driver_handle(),
        key: None,
        site,
    }
}

/// About 30 years: "never" for a timer, still representable as an `Instant`.
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86400 * 365 * 30)
}

/// The future of [`sleep`] and [`sleep_until`].
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    deadline: Instant,
    handle: Arc<driver::Handle>,
    /// The wheel entry, once registered by a first `Pending` poll.
    key: Option<TimerKey>,
    pub(crate) site: &'static Location<'static>,
}

impl Sleep {
    /// When it completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// True once the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Moves the deadline (earlier or later); the sleep is pending again if it had completed.
    pub fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
        if let Some(key) = self.key {
            let (pending, interrupt) = self.handle.time.reset(key, deadline);
            if !pending {
                self.key = None;
            } else if interrupt {
                self.handle.interrupt();
            }
        }
    }

    fn cancel(&mut self) {
        if let Some(key) = self.key.take() {
            self.handle.time.remove(key);
        }
    }

    /// Polls without recording a park (for combinators that record their own reason).
    pub(crate) fn poll_elapsed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let permit = ready!(coop::poll_proceed(cx));
        if Instant::now() >= self.deadline {
            self.cancel();
            permit.made_progress();
            return Poll::Ready(());
        }
        let registered = match self.key {
            Some(key) => self.handle.time.update_waker(key, cx.waker()),
            None => false,
        };
        if !registered {
            // First poll, or the wheel fired a tick early relative to `Instant`: (re)arm.
            let (key, interrupt) = self.handle.time.insert(self.deadline, cx.waker().clone());
            self.key = Some(key);
            if interrupt {
                self.handle.interrupt();
            }
        }
        Poll::Pending
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let poll = this.poll_elapsed(cx);
        if poll.is_pending() {
            park::record(ParkReason::Sleep, this.site);
        }
        poll
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel();
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("site", &self.site)
            .finish()
    }
}
