//! Go's `sync.WaitGroup`: a counter of outstanding work and a wait for it to reach zero.

use crate::coop;
use crate::loom::{lock, Arc, Mutex, MutexGuard};
use crate::park::{self, ParkReason};
use crate::waitlist::{refresh_waker, WaitKey, WaitList, Wakeups};
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};

/// Waits for a collection of tasks to finish, like Go's `sync.WaitGroup`.
///
/// [`add`](WaitGroup::add) the number of tasks, have each call [`done`](WaitGroup::done)
/// when it finishes, and [`wait`](WaitGroup::wait) (reason `waitgroup wait`) until the count
/// is back to zero. Clones share one counter, so a clone can move into each task.
///
/// ```
/// use runtime::sync::WaitGroup;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
///
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let wg = WaitGroup::new();
/// let finished = Arc::new(AtomicUsize::new(0));
/// for _ in 0..3 {
///     wg.add(1);
///     let (wg, finished) = (wg.clone(), finished.clone());
///     runtime::spawn(async move {
///         finished.fetch_add(1, Ordering::SeqCst);
///         wg.done();
///     });
/// }
/// wg.wait().await;
/// assert_eq!(finished.load(Ordering::SeqCst), 3);
/// # });
/// ```
#[derive(Clone)]
pub struct WaitGroup {
    inner: Arc<Mutex<State>>,
}

struct State {
    count: i64,
    /// Parked `wait`s; all popped and woken when `count` reaches zero.
    waiters: WaitList<Waker>,
}

impl WaitGroup {
    /// Creates a wait group with a count of zero.
    pub fn new() -> WaitGroup {
        WaitGroup {
            inner: Arc::new(Mutex::new(State {
                count: 0,
                waiters: WaitList::new(),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.inner)
    }

    /// Adds `delta` (which may be negative) to the count; when it reaches zero, every
    /// parked `wait` completes.
    ///
    /// # Panics
    /// With Go's message `sync: negative WaitGroup counter` if the count would go below zero
    /// (the count is left unchanged), or if it would overflow.
    ///
    /// ```should_panic
    /// let wg = runtime::sync::WaitGroup::new();
    /// wg.add(1);
    /// wg.done();
    /// wg.done(); // panics: sync: negative WaitGroup counter
    /// ```
    #[track_caller]
    pub fn add(&self, delta: i64) {
        let mut wakeups = Wakeups::new();
        {
            let mut state = self.lock();
            let count = state.count.checked_add(delta);
            match count {
                Some(count) if count >= 0 => state.count = count,
                Some(_) => {
                    drop(state);
                    panic!("sync: negative WaitGroup counter");
                }
                None => {
                    drop(state);
                    panic!("sync: WaitGroup counter overflow");
                }
            }
            if state.count == 0 {
                wakeups.extend(state.waiters.drain());
            }
        }
        wakeups.wake_all();
    }

    /// Decrements the count by one: `add(-1)`.
    ///
    /// # Panics
    /// With `sync: negative WaitGroup counter` if the count is already zero.
    #[track_caller]
    pub fn done(&self) {
        self.add(-1);
    }

    /// The count now.
    pub fn count(&self) -> i64 {
        self.lock().count
    }

    /// Waits until the count is zero, parking with reason `waitgroup wait`. As in Go, once
    /// the count has reached zero the wait completes even if `add` raises it again before the
    /// waiting task runs.
    ///
    /// Cancel safety: dropping the future only takes it out of the wait list.
    #[track_caller]
    pub fn wait(&self) -> Wait<'_> {
        Wait {
            group: self,
            key: None,
            site: Location::caller(),
        }
    }
}

/// The future of [`WaitGroup::wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<'a> {
    group: &'a WaitGroup,
    /// Our entry in `waiters` while parked; stale once the count reached zero.
    key: Option<WaitKey>,
    site: &'static Location<'static>,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let permit = ready!(coop::poll_proceed(cx));
        let poll = {
            let mut state = this.group.lock();
            match this.key {
                Some(key) => match state.waiters.get_mut(key) {
                    None => {
                        this.key = None;
                        Poll::Ready(())
                    }
                    Some(waker) => {
                        refresh_waker(waker, cx.waker());
                        Poll::Pending
                    }
                },
                None if state.count == 0 => Poll::Ready(()),
                None => {
                    this.key = Some(state.waiters.push_back(cx.waker().clone()));
                    Poll::Pending
                }
            }
        };
        match poll {
            Poll::Pending => park::record(ParkReason::WaitGroupWait, this.site),
            Poll::Ready(()) => permit.made_progress(),
        }
        poll
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.group.lock().waiters.remove(key);
        }
    }
}

impl Default for WaitGroup {
    fn default() -> Self {
        WaitGroup::new()
    }
}

impl fmt::Debug for WaitGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("WaitGroup")
            .field("count", &state.count)
            .field("waiters", &state.waiters.len())
            .finish()
    }
}

impl fmt::Debug for Wait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("site", &self.site)
            .finish_non_exhaustive()
    }
}

fn _assert_send_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<WaitGroup>();
    send_sync::<Wait<'_>>();
}
