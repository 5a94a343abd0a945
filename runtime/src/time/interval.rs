use super::sleep::{sleep_until_at, Sleep};
use crate::park::{self, ParkReason};
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

/// Ticks every `period`, the first tick at once. Missed ticks fire in a burst to catch up,
/// as tokio's default.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// use std::time::Duration;
/// let mut ticks = runtime::time::interval(Duration::from_millis(2));
/// for _ in 0..3 {
///     ticks.tick().await;
/// }
/// # });
/// ```
///
/// # Panics
/// If `period` is zero, or outside a Parkade runtime.
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks every `period`, the first tick at `start`.
///
/// # Panics
/// If `period` is zero, or outside a Parkade runtime.
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        period > Duration::ZERO,
        "`interval` period must be non-zero"
    );
    Interval {
        period,
        delay: sleep_until_at(start, Location::caller()),
    }
}

/// The stream of ticks of [`interval`].
#[derive(Debug)]
pub struct Interval {
    period: Duration,
    delay: Sleep,
}

impl Interval {
    /// Completes at the next tick, returning its scheduled time. Parks with reason `sleep`
    /// at the caller.
    #[track_caller]
    pub fn tick(&mut self) -> Tick<'_> {
        self.delay.site = Location::caller();
        Tick { interval: self }
    }

    /// Polls for the next tick.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if self.delay.poll_elapsed(cx).is_pending() {
            park::record(ParkReason::Sleep, self.delay.site);
            return Poll::Pending;
        }
        let scheduled = self.delay.deadline();
        let next = scheduled.checked_add(self.period).unwrap_or(scheduled);
        self.delay.reset(next);
        Poll::Ready(scheduled)
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Restarts the ticks one period from now.
    pub fn reset(&mut self) {
        self.delay.reset(Instant::now() + self.period);
    }
}

/// The future of [`Interval::tick`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Tick<'a> {
    interval: &'a mut Interval,
}

impl Future for Tick<'_> {
    type Output = Instant;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Instant> {
        let instant = ready!(self.get_mut().interval.poll_tick(cx));
        Poll::Ready(instant)
    }
}
