//! Wake one task or all waiting tasks, with tokio's semantics.
//!
//! Two structures under one mutex: `slots`, one per registered `Notified` future, which says
//! whether and how it was notified; and `queue`, the FIFO of not-yet-notified waiters with
//! their wakers. A notification moves a waiter out of `queue` and writes into its slot; the
//! future takes its slot out when it completes or is dropped. Keeping the slot until then is
//! what lets a dropped future tell a `notify_one` (which it must pass on) from a
//! `notify_waiters` (which it must not).

use crate::coop;
use crate::loom::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::{lock, Mutex, MutexGuard};
use crate::park::{self, ParkReason};
use crate::waitlist::{refresh_waker, WaitKey, WaitList, Wakeups};
use slab::Slab;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};

/// Notifies tasks, like tokio's `Notify`: [`notify_one`](Notify::notify_one) wakes the
/// longest waiter or, if none waits, stores one permit for the next
/// [`notified`](Notify::notified); [`notify_waiters`](Notify::notify_waiters) wakes every
/// current waiter and stores nothing.
///
/// A waiting task parks with reason `notify wait` at the caller of `notified`.
///
/// ```
/// use runtime::sync::Notify;
/// use std::sync::Arc;
///
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let ready = Arc::new(Notify::new());
/// let waiter = {
///     let ready = ready.clone();
///     runtime::spawn(async move { ready.notified().await })
/// };
/// ready.notify_one(); // wakes the waiter, or is kept until it calls `notified`
/// waiter.await.unwrap();
/// # });
/// ```
pub struct Notify {
    state: Mutex<State>,
    /// How many times `notify_waiters` was called; bumped under `state`. A `Notified` created
    /// before a call completes even if it had not been polled yet.
    waiters_calls: AtomicUsize,
}

struct State {
    /// A `notify_one` nobody was waiting for; at most one is kept.
    permit: bool,
    /// How each registered `Notified` stands, by slot index.
    slots: Slab<Slot>,
    /// Not-yet-notified waiters, longest first.
    queue: WaitList<Queued>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Slot {
    Waiting,
    /// Picked by `notify_one`: a drop before completion passes it on.
    NotifiedOne,
    /// Woken by `notify_waiters`.
    NotifiedAll,
}

struct Queued {
    slot: usize,
    waker: Waker,
}

impl State {
    /// `notify_one`: the longest waiter, else the stored permit.
    fn notify_one(&mut self) -> Option<Waker> {
        match self.queue.pop_front() {
            Some(waiter) => {
                self.slots[waiter.slot] = Slot::NotifiedOne;
                Some(waiter.waker)
            }
            None => {
                self.permit = true;
                None
            }
        }
    }
}

impl Notify {
    /// Creates a `Notify` with no stored permit.
    pub fn new() -> Notify {
        Notify {
            state: Mutex::new(State {
                permit: false,
                slots: Slab::new(),
                queue: WaitList::new(),
            }),
            waiters_calls: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Waits for a notification, parking with reason `notify wait`.
    ///
    /// Completes at once if a `notify_one` permit is stored (consuming it), or if
    /// `notify_waiters` has been called since this future was created.
    ///
    /// Cancel safety: a future dropped after `notify_one` picked it, but before it completed,
    /// passes the notification on to the next waiter (or stores it as the permit), so no
    /// `notify_one` is lost. Dropped before that, it just leaves the queue.
    #[track_caller]
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            state: Registration::Init {
                waiters_calls: self.waiters_calls.load(SeqCst),
            },
            site: Location::caller(),
        }
    }

    /// Wakes the longest-waiting task; if none is waiting, stores a permit that the next
    /// `notified()` consumes (at most one permit is stored).
    ///
    /// ```
    /// # runtime::Runtime::new().unwrap().block_on(async {
    /// let notify = runtime::sync::Notify::new();
    /// notify.notify_one();
    /// notify.notify_one(); // permits do not add up
    /// notify.notified().await; // completes at once
    /// # });
    /// ```
    pub fn notify_one(&self) {
        let waker = self.lock().notify_one();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Wakes every task waiting now (and every `Notified` created but not yet polled); stores
    /// no permit, so a later `notified()` waits for the next notification.
    pub fn notify_waiters(&self) {
        let mut wakeups = Wakeups::new();
        {
            let mut state = self.lock();
            self.waiters_calls.fetch_add(1, SeqCst);
            let State { slots, queue, .. } = &mut *state;
            for waiter in queue.drain() {
                slots[waiter.slot] = Slot::NotifiedAll;
                wakeups.push(waiter.waker);
            }
        }
        wakeups.wake_all();
    }
}

/// Where a `Notified` future stands.
#[derive(Copy, Clone, Debug)]
enum Registration {
    /// Not polled yet; `notify_waiters` calls seen at creation.
    Init {
        waiters_calls: usize,
    },
    /// Registered: our slot, and our queue entry (stale once notified).
    Waiting {
        slot: usize,
        key: WaitKey,
    },
    Done,
}

/// The future of [`Notify::notified`].
#[must_use = "futures do nothing unless awaited"]
pub struct Notified<'a> {
    notify: &'a Notify,
    state: Registration,
    site: &'static Location<'static>,
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let permit = ready!(coop::poll_proceed(cx));
        let notify = this.notify;
        let poll = {
            let mut state = notify.lock();
            match this.state {
                Registration::Init { waiters_calls } => {
                    if notify.waiters_calls.load(SeqCst) != waiters_calls {
                        Poll::Ready(())
                    } else if state.permit {
                        state.permit = false;
                        Poll::Ready(())
                    } else {
                        let slot = state.slots.insert(Slot::Waiting);
                        let key = state.queue.push_back(Queued {
                            slot,
                            waker: cx.waker().clone(),
                        });
                        this.state = Registration::Waiting { slot, key };
                        Poll::Pending
                    }
                }
                Registration::Waiting { slot, key } => match state.slots[slot] {
                    Slot::Waiting => {
                        let queued = state.queue.get_mut(key);
                        let queued = queued.expect("invariant: a waiting slot is queued");
                        refresh_waker(&mut queued.waker, cx.waker());
                        Poll::Pending
                    }
                    Slot::NotifiedOne | Slot::NotifiedAll => {
                        state.slots.remove(slot);
                        Poll::Ready(())
                    }
                },
                Registration::Done => panic!("`Notified` polled after completion"),
            }
        };
        match poll {
            Poll::Pending => park::record(ParkReason::NotifyWait, this.site),
            Poll::Ready(()) => {
                this.state = Registration::Done;
                permit.made_progress();
            }
        }
        poll
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        let Registration::Waiting { slot, key } = self.state else {
            return;
        };
        let waker = {
            let mut state = self.notify.lock();
            match state.slots.remove(slot) {
                Slot::Waiting => {
                    state.queue.remove(key);
                    None
                }
                // Picked by `notify_one` but never completed: pass it on.
                Slot::NotifiedOne => state.notify_one(),
                Slot::NotifiedAll => None,
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Default for Notify {
    fn default() -> Self {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Notify")
            .field("permit", &state.permit)
            .field("waiters", &state.queue.len())
            .finish()
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("site", &self.site)
            .finish_non_exhaustive()
    }
}

fn _assert_send_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Notify>();
    send_sync::<Notified<'_>>();
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn poll(future: &mut Notified<'_>) -> Poll<()> {
        Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn dropped_pick_of_notify_one_passes_to_next_waiter() {
        let notify = Notify::new();
        let mut first = notify.notified();
        let mut second = notify.notified();
        assert!(poll(&mut first).is_pending());
        assert!(poll(&mut second).is_pending());
        notify.notify_one();
        drop(first);
        assert!(poll(&mut second).is_ready());
        assert!(!notify.lock().permit);
    }

    #[test]
    fn dropped_pick_with_nobody_behind_stores_the_permit() {
        let notify = Notify::new();
        let mut first = notify.notified();
        assert!(poll(&mut first).is_pending());
        notify.notify_one();
        drop(first);
        assert!(poll(&mut notify.notified()).is_ready());
    }

    #[test]
    fn dropped_after_notify_waiters_passes_nothing_on() {
        let notify = Notify::new();
        let mut first = notify.notified();
        assert!(poll(&mut first).is_pending());
        notify.notify_waiters();
        drop(first);
        let mut later = notify.notified();
        assert!(poll(&mut later).is_pending());
        let state = notify.lock();
        assert!(!state.permit);
        assert_eq!(state.slots.len(), 1, "only `later`'s slot remains");
    }

    #[test]
    fn notify_waiters_completes_created_but_unpolled_futures() {
        let notify = Notify::new();
        let mut created = notify.notified();
        notify.notify_waiters();
        assert!(poll(&mut created).is_ready());
        assert!(poll(&mut notify.notified()).is_pending());
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! A `notify_one` racing a waiter that is dropped: the notification reaches the other
    //! waiter (directly or passed on), or `block_on` deadlocks and loom reports it.

    use super::*;
    use crate::loom::Arc;
    use loom::thread;

    #[test]
    fn loom_notify_one_races_dropped_waiter() {
        loom::model(|| {
            let notify = Arc::new(Notify::new());
            let dropped = {
                let notify = notify.clone();
                thread::spawn(move || {
                    let mut notified = notify.notified();
                    let poll =
                        Pin::new(&mut notified).poll(&mut Context::from_waker(Waker::noop()));
                    poll.is_ready() // consumed the permit before dropping
                })
            };
            let waiter = {
                let notify = notify.clone();
                thread::spawn(move || loom::future::block_on(notify.notified()))
            };
            notify.notify_one();
            if dropped.join().unwrap() {
                notify.notify_one();
            }
            waiter.join().unwrap();
            assert!(!lock(&notify.state).permit, "one notification, one wake");
        });
    }
}
