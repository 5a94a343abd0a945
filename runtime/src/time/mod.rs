//! Time: `sleep`, `sleep_until`, `timeout` and `interval` on a hierarchical timer wheel
//! (`wheel.rs`) that the workers service (see `driver`): millisecond resolution, no thread
//! per timer, O(1) insert and cancel.

mod interval;
pub(crate) mod sleep;
mod timeout;
mod wheel;

pub use interval::{interval, interval_at, Interval, Tick};
pub use sleep::{sleep, sleep_until, Sleep};
pub use std::time::{Duration, Instant};
pub use timeout::{timeout, Elapsed, Timeout};

/// How dumps and reports print a duration (a park's, a leak's).
pub use crate::profile::format_duration;

use crate::loom::lock_std as lock;
use crate::waitlist::replace_waker;
use std::sync::Mutex;
use std::task::Waker;
pub(crate) use wheel::TimerKey;
use wheel::Wheel;

/// The runtime's timers. Deadlines are whole milliseconds since `start`, rounded up, so a
/// timer never fires before its deadline.
pub(crate) struct TimeDriver {
    start: Instant,
    inner: Mutex<Inner>,
}

struct Inner {
    wheel: Box<Wheel<Waker>>,
    /// While a worker blocks in the driver: the tick it will wake at (`u64::MAX`: never).
    /// A timer inserted before it must interrupt the poll.
    blocked_until: Option<u64>,
}

impl TimeDriver {
    pub(crate) fn new() -> TimeDriver {
        TimeDriver {
            start: Instant::now(),
            inner: Mutex::new(Inner {
                wheel: Box::new(Wheel::new()),
                blocked_until: None,
            }),
        }
    }

    fn deadline_tick(&self, deadline: Instant) -> u64 {
        let since = deadline.saturating_duration_since(self.start);
        let ms = since.as_millis();
        let ms = if since > Duration::from_millis(ms as u64) {
            ms + 1
        } else {
            ms
        };
        u64::try_from(ms).unwrap_or(u64::MAX)
    }

    fn now_tick(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Registers a timer. Returns the key and whether the driver must be interrupted to notice
    /// it in time.
    pub(crate) fn insert(&self, deadline: Instant, waker: Waker) -> (TimerKey, bool) {
        let tick = self.deadline_tick(deadline);
        let mut inner = lock(&self.inner);
        let key = inner.wheel.insert(tick, waker);
        let interrupt = inner.blocked_until.is_some_and(|until| tick < until);
        if interrupt {
            // One interrupt is enough until the driver blocks again.
            inner.blocked_until = Some(tick);
        }
        (key, interrupt)
    }

    /// Cancels a timer; false if it already fired.
    pub(crate) fn remove(&self, key: TimerKey) -> bool {
        let waker = lock(&self.inner).wheel.remove(key);
        waker.is_some()
    }

    /// Moves a pending timer. Returns whether it was still pending, and whether the driver must
    /// be interrupted to notice the new deadline in time.
    pub(crate) fn reset(&self, key: TimerKey, deadline: Instant) -> (bool, bool) {
        let tick = self.deadline_tick(deadline);
        let mut inner = lock(&self.inner);
        if !inner.wheel.reset(key, tick) {
            return (false, false);
        }
        let interrupt = inner.blocked_until.is_some_and(|until| tick < until);
        if interrupt {
            inner.blocked_until = Some(tick);
        }
        (true, interrupt)
    }

    /// Replaces a pending timer's waker. Returns false if the timer already fired.
    pub(crate) fn update_waker(&self, key: TimerKey, waker: &Waker) -> bool {
        let mut inner = lock(&self.inner);
        match inner.wheel.get_mut(key) {
            Some(stored) => {
                let old = replace_waker(stored, waker);
                drop(inner);
                drop(old);
                true
            }
            None => false,
        }
    }

    /// Drops every pending timer's waker (runtime shutdown), breaking task → handle cycles.
    pub(crate) fn clear(&self) {
        let wheel = std::mem::replace(&mut lock(&self.inner).wheel, Box::new(Wheel::new()));
        drop(wheel);
    }

    /// Called by the driver before it blocks: how long it may block.
    pub(crate) fn before_turn(&self, timeout: Option<Duration>) -> Option<Duration> {
        let mut inner = lock(&self.inner);
        let next = inner.wheel.next_expiration();
        inner.blocked_until = Some(next.unwrap_or(u64::MAX));
        let until_timer = next.map(|tick| {
            (self.start + Duration::from_millis(tick)).saturating_duration_since(Instant::now())
        });
        match (timeout, until_timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub(crate) fn after_turn(&self) {
        lock(&self.inner).blocked_until = None;
    }

    /// Wakes every timer whose deadline has passed (the wakers run outside the lock); returns
    /// whether one of the timers left is due within `horizon`.
    pub(crate) fn fire_expired(&self, horizon: Duration) -> bool {
        let now = self.now_tick();
        let soon = now.saturating_add(u64::try_from(horizon.as_millis()).unwrap_or(u64::MAX));
        let mut expired = crate::waitlist::Wakeups::new();
        let next = {
            let mut inner = lock(&self.inner);
            let mut next = inner.wheel.next_expiration();
            if next.is_some_and(|next| next <= now) {
                inner.wheel.advance(now, |waker| expired.push(waker));
                next = inner.wheel.next_expiration();
            }
            next
        };
        expired.wake_all_contained();
        next.is_some_and(|next| next <= soon)
    }
}
