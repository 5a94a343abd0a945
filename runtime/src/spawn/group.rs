//! `Group`: Go's `errgroup` — spawn fallible tasks, wait for all of them, get the first
//! error, and cancel the rest through a shared [`Context`].
//!
//! Built on the runtime's own primitives, as Go's is on `sync.WaitGroup` and a semaphore:
//!
//! - a [`WaitGroup`] counts unfinished tasks, and [`wait`](Group::wait) is its wait;
//! - under a limit, each task holds one permit of a FIFO [`Semaphore`] while it runs, taken
//!   (or queued for) in spawn order;
//! - one mutex holds the rest: the first error and panic, the limit, and each unfinished
//!   task's `JoinHandle`, kept only to abort it when the group is dropped.
//!
//! Each spawned future runs inside a `GroupTask`, which reports its outcome when it finishes
//! (after the user's future has been dropped, so that its destructors have run by the time
//! `wait` returns), and also when it is dropped unfinished (aborted).

use crate::context::{CancelHandle, Context};
use crate::loom::{lock, Mutex, MutexGuard};
use crate::park::ParkReason;
use crate::scheduler::current;
use crate::sync::semaphore::PendingAcquire;
use crate::sync::{Semaphore, Wait, WaitGroup};
use crate::task_core::{JoinHandle, TaskId};
use crate::waitlist::{WaitKey, WaitList};
use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context as TaskContext, Poll};

/// Go's `errgroup.Group`: a set of tasks returning `Result<(), E>`, awaited together.
///
/// - [`spawn`](Group::spawn) starts a task (Go's `g.Go`); [`wait`](Group::wait) waits for all
///   of them and returns the first error.
/// - [`with_context`](Group::with_context) also derives a [`Context`] that is cancelled on the
///   first error (or panic), when `wait` returns, and when the group is dropped, so that
///   siblings can stop early by watching [`Context::done`].
/// - [`set_limit`](Group::set_limit) bounds how many spawned futures run at once.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// use runtime::context::Context;
/// use runtime::task::Group;
///
/// let (group, ctx) = Group::with_context(&Context::background());
/// for i in 0..4 {
///     let ctx = ctx.clone();
///     group.spawn(async move {
///         if i == 3 {
///             return Err(format!("task {i} failed"));
///         }
///         ctx.done().await; // the others run until the failure cancels them
///         Ok(())
///     });
/// }
/// assert_eq!(group.wait().await, Err("task 3 failed".to_string()));
/// assert!(ctx.is_done());
/// # });
/// ```
///
/// # Panics in tasks
///
/// A panic in a spawned task counts as a failure (it cancels the context at once), and
/// [`wait`](Group::wait) resumes it — the first one, once every task has finished — in the
/// waiting task, as `std::thread::scope` does, rather than returning it as a value: a panic is
/// a bug, and an `E` cannot carry it. It then reaches whoever awaits that task (as a
/// [`JoinError`](crate::JoinError) that [`is_panic`](crate::JoinError::is_panic)).
///
/// # Dropping
///
/// Dropping a `Group` **aborts** its unfinished tasks (as tokio's `JoinSet` does; Go's
/// errgroup cannot) and cancels its context, so a group abandoned on an early return or a
/// lost `select!` branch leaks no task.
pub struct Group<E> {
    shared: Arc<Shared<E>>,
}

struct Shared<E> {
    state: Mutex<State<E>>,
    /// One permit per running task. Without a limit it holds [`UNLIMITED`] permits.
    slots: Semaphore,
    /// Counts spawned tasks that have not finished, including those waiting for a slot.
    unfinished: WaitGroup,
    /// The context of `with_context`: cancelled on the first failure, when `wait` returns and
    /// when the group is dropped.
    cancel: Option<CancelHandle>,
}

struct State<E> {
    /// The join handle of every unfinished task, to abort it if the group is dropped. The
    /// entry is pushed (`None`) before the spawn and filled after it; a task that finishes
    /// first removes it, and the spawner then drops the handle. (A generation-checked list,
    /// so that a spawner filling in late never writes into a newer task's entry.)
    handles: WaitList<Option<JoinHandle<()>>>,
    /// The first error a task returned; taken by `wait`.
    error: Option<E>,
    /// The first panic a task raised; resumed by `wait`.
    panic: Option<Box<dyn Any + Send + 'static>>,
    /// At most this many slots are held at once (`None`: no limit).
    limit: Option<usize>,
    /// Permits still to be taken out of circulation after the limit was lowered below the
    /// slots held: the next releases forget their permit instead of giving it back. Always
    /// `free + held - debt == capacity`.
    debt: usize,
}

/// The semaphore's capacity without a limit: more tasks than can exist.
const UNLIMITED: usize = Semaphore::MAX_PERMITS;

/// A task's claim on a run slot: one permit of `Shared::slots`.
enum Slot {
    /// Holds one; released when the task finishes.
    Held,
    /// Queued for one, in the order of the claim.
    Queued(PendingAcquire),
    /// Holds none (given back, or handed on to a spawned task).
    Released,
}

impl<E> State<E> {
    fn capacity(&self) -> usize {
        self.limit.unwrap_or(UNLIMITED)
    }
}

impl<E> Shared<E> {
    fn lock(&self) -> MutexGuard<'_, State<E>> {
        lock(&self.state)
    }

    fn cancel(&self) {
        if let Some(cancel) = &self.cancel {
            cancel.cancel();
        }
    }

    /// Takes a slot now or queues for one, in call order, without parking anybody: the
    /// spawned task waits for it on its first poll, parked at `site`.
    fn claim_slot(&self, site: &'static Location<'static>) -> Slot {
        let mut pending = PendingAcquire::new(1, ParkReason::SemaphoreAcquire, site);
        match self.slots.take_or_enqueue(&mut pending) {
            Ok(true) => Slot::Held,
            Ok(false) => Slot::Queued(pending),
            Err(_) => unreachable!("a group never closes its semaphore"),
        }
    }

    /// Waits for a queued claim, parking with reason `semaphore acquire` at its site.
    fn poll_slot(&self, slot: &mut Slot, cx: &mut TaskContext<'_>) -> Poll<()> {
        if let Slot::Queued(pending) = slot {
            let granted = ready!(self.slots.poll_acquire(pending, cx));
            granted.expect("a group never closes its semaphore");
            *slot = Slot::Held;
        }
        Poll::Ready(())
    }

    /// Gives a claim up: a held or granted slot goes back to the semaphore (to the next
    /// waiter), or out of circulation if a lowered limit is still owed.
    fn release_slot(&self, slot: &mut Slot) {
        let held = match std::mem::replace(slot, Slot::Released) {
            Slot::Held => true,
            Slot::Queued(mut pending) => self.slots.withdraw(&mut pending),
            Slot::Released => false,
        };
        if held {
            let mut state = self.lock();
            if state.debt > 0 {
                state.debt -= 1;
            } else {
                self.slots.release(1);
            }
        }
    }

    /// Changes the limit: a raise pays what is owed and frees the rest at once (waking
    /// waiters in order); a cut takes free permits away now and owes the rest.
    fn set_limit(&self, limit: Option<usize>) {
        let mut state = self.lock();
        let (old, new) = (state.capacity(), limit.unwrap_or(UNLIMITED));
        state.limit = limit;
        if new >= old {
            let paid = (new - old).min(state.debt);
            state.debt -= paid;
            self.slots.release(new - old - paid);
        } else {
            let cut = old - new;
            state.debt += cut - self.slots.forget_permits(cut);
        }
    }
}

impl<E> Default for Group<E> {
    fn default() -> Self {
        Group::new()
    }
}

impl<E> Group<E> {
    /// An empty group with no context and no limit. Go's `new(errgroup.Group)`.
    pub fn new() -> Group<E> {
        Group::with_cancel(None)
    }

    /// An empty group and a context derived from `ctx` that is cancelled the first time a
    /// task fails (returns `Err` or panics), when [`wait`](Group::wait) returns, or when the
    /// group is dropped, whichever comes first. Go's `errgroup.WithContext`.
    pub fn with_context(ctx: &Context) -> (Group<E>, Context) {
        let (derived, cancel) = ctx.with_cancel();
        (Group::with_cancel(Some(cancel)), derived)
    }

    fn with_cancel(cancel: Option<CancelHandle>) -> Group<E> {
        Group {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    handles: WaitList::new(),
                    error: None,
                    panic: None,
                    limit: None,
                    debt: 0,
                }),
                slots: Semaphore::new(UNLIMITED),
                unfinished: WaitGroup::new(),
                cancel,
            }),
        }
    }

    /// Limits the group to `limit` futures running at once. Go's `g.SetLimit`.
    ///
    /// Beyond the limit, [`spawn`](Group::spawn) still spawns at once but the task parks
    /// (reason `semaphore acquire`, at the `spawn` call) before starting its future;
    /// [`spawn_limited`](Group::spawn_limited) waits to spawn, giving the spawner back
    /// pressure like Go's `g.Go`; [`try_spawn`](Group::try_spawn) declines. Slots are granted
    /// in FIFO order.
    ///
    /// Unlike Go, the limit may change while tasks run: raising it starts waiting tasks at
    /// once; lowering it takes effect as running tasks finish. A limit of 0 starts nothing.
    pub fn set_limit(&self, limit: usize) {
        self.shared.set_limit(Some(limit));
    }

    /// Removes the limit; every waiting task starts. Go's `g.SetLimit(-1)`.
    pub fn remove_limit(&self) {
        self.shared.set_limit(None);
    }

    /// The limit set with [`set_limit`](Group::set_limit), if any.
    pub fn limit(&self) -> Option<usize> {
        self.shared.lock().limit
    }

    /// The number of spawned tasks that have not finished (including any waiting for a slot).
    pub fn len(&self) -> usize {
        self.shared.unfinished.count() as usize
    }

    /// True if every spawned task has finished.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits for every spawned task to finish and returns the first error, if any. Parks the
    /// caller with reason `waitgroup wait` (Go's errgroup waits on a `sync.WaitGroup`) at the
    /// call. Go's `g.Wait`.
    ///
    /// It returns once every task's future has completed (or panicked) and been dropped; the
    /// tasks themselves leave the runtime's task list a moment later. Then it cancels the
    /// group's context (if it has one). The error is handed out once: a later `wait` (after
    /// more spawns) reports only errors that came after it.
    ///
    /// # Panics
    /// Resumes the first panic of a spawned task, once every task has finished.
    #[track_caller]
    pub fn wait(&self) -> GroupWait<'_, E> {
        GroupWait {
            shared: &self.shared,
            unfinished: self.shared.unfinished.wait(),
        }
    }
}

impl<E: Send + 'static> Group<E> {
    /// Spawns `future` as a task of the group, with the caller as its spawn site. Go's `g.Go`.
    ///
    /// Its `Err` becomes the group's error if it is the first (and cancels the context of
    /// [`with_context`](Group::with_context)). Under a [limit](Group::set_limit) that is
    /// reached, the task is spawned now but parks (reason `semaphore acquire`, at this call)
    /// until a slot frees; use [`spawn_limited`](Group::spawn_limited) to wait before
    /// spawning instead.
    ///
    /// # Panics
    /// Outside a Parkade runtime.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> TaskId
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
    {
        let site = Location::caller();
        assert_runtime();
        let slot = self.shared.claim_slot(site);
        self.spawn_task(future, slot, site)
    }

    /// Spawns `future` only if a slot is free now under the [limit](Group::set_limit) (and no
    /// task is queued for one); otherwise gives it back. Go's `g.TryGo`.
    ///
    /// # Panics
    /// Outside a Parkade runtime.
    #[track_caller]
    pub fn try_spawn<F>(&self, future: F) -> Result<TaskId, F>
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
    {
        let site = Location::caller();
        assert_runtime();
        if self.shared.slots.try_take(1).is_err() {
            return Err(future);
        }
        Ok(self.spawn_task(future, Slot::Held, site))
    }

    /// Waits for a free slot under the [limit](Group::set_limit), parking the caller with
    /// reason `semaphore acquire` at this call, then spawns `future` with this call as its
    /// spawn site. Go's `g.Go` under `g.SetLimit`: the spawner is held back, so no task
    /// exists for work that cannot run yet. Without a limit it spawns on the first poll.
    ///
    /// Cancel-safe: dropped before it completes, nothing was spawned (and `future` is
    /// dropped); a slot granted to it passes to the next waiter.
    ///
    /// # Panics
    /// Polled outside a Parkade runtime.
    #[track_caller]
    pub fn spawn_limited<F>(&self, future: F) -> SpawnLimited<'_, F, E>
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
    {
        SpawnLimited {
            group: self,
            future: Some(future),
            slot: Slot::Released,
            site: Location::caller(),
        }
    }

    fn spawn_task<F>(&self, future: F, slot: Slot, site: &'static Location<'static>) -> TaskId
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
    {
        self.shared.unfinished.add(1);
        let handle_key = self.shared.lock().handles.push_back(None);
        let task = GroupTask {
            future: Some(future),
            member: Member {
                shared: self.shared.clone(),
                handle_key,
                slot,
                finished: false,
            },
        };
        // No lock is held: a task refused by a closing runtime is dropped right here, and
        // its `Member` reports in.
        let join = current::with_current(|handle| handle.spawn_with(task, None, site))
            .expect(current::NO_RUNTIME);
        let id = join.id();
        let mut state = self.shared.lock();
        match state.handles.get_mut(handle_key) {
            Some(entry) => *entry = Some(join),
            None => {
                // Already finished.
                drop(state);
                drop(join);
            }
        }
        id
    }
}

#[track_caller]
fn assert_runtime() {
    if current::with_current(|_| ()).is_none() {
        panic!("{}", current::NO_RUNTIME);
    }
}

impl<E> Drop for Group<E> {
    fn drop(&mut self) {
        let handles: Vec<JoinHandle<()>> = self.shared.lock().handles.drain().flatten().collect();
        for handle in &handles {
            handle.abort();
        }
        drop(handles);
        self.shared.cancel();
    }
}

impl<E> fmt::Debug for Group<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("Group")
            .field("unfinished", &self.shared.unfinished.count())
            .field("limit", &state.limit)
            .field("failed", &(state.error.is_some() || state.panic.is_some()))
            .finish_non_exhaustive()
    }
}

/// How a group task ended.
enum Outcome<E> {
    Returned(Result<(), E>),
    Panicked(Box<dyn Any + Send + 'static>),
    /// Dropped unfinished: aborted (group dropped) or the runtime shut down.
    Dropped,
}

/// The future a group spawns around the user's: waits for a slot, runs the future (catching
/// a panic), drops it, then reports to the group.
struct GroupTask<F, E> {
    /// Structurally pinned; set to `None` (dropped in place) as soon as it completes.
    future: Option<F>,
    /// Not pinned. Declared after `future`, so that an aborted task drops the user's future
    /// before `Member::drop` reports it finished.
    member: Member<E>,
}

/// A task's membership of its group; reports the task finished exactly once.
struct Member<E> {
    shared: Arc<Shared<E>>,
    handle_key: WaitKey,
    /// Queued (parked at the spawn site) until a slot is free.
    slot: Slot,
    finished: bool,
}

impl<F, E> Future for GroupTask<F, E>
where
    F: Future<Output = Result<(), E>>,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        // SAFETY: `future` is structurally pinned: it is only polled and dropped in place
        // (`Pin::set`), never moved, and `GroupTask` has no `Drop` impl that could move it.
        // `member` is never pinned.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: as above.
        let mut future = unsafe { Pin::new_unchecked(&mut this.future) };
        if this.member.finished {
            return Poll::Ready(());
        }
        let member = &mut this.member;
        ready!(member.shared.poll_slot(&mut member.slot, cx));
        let Some(running) = future.as_mut().as_pin_mut() else {
            return Poll::Ready(());
        };
        let mut outcome = match panic::catch_unwind(AssertUnwindSafe(|| running.poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(result)) => Outcome::Returned(result),
            Err(payload) => Outcome::Panicked(payload),
        };
        // Its destructors run before `wait` can return.
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| future.set(None))) {
            if !matches!(outcome, Outcome::Panicked(_)) {
                outcome = Outcome::Panicked(payload);
            }
        }
        this.member.finish(outcome);
        Poll::Ready(())
    }
}

impl<E> Member<E> {
    fn finish(&mut self, outcome: Outcome<E>) {
        self.finished = true;
        // User values (a second error, a payload, our join handle) are dropped after unlock.
        let mut unused = None;
        let failed = matches!(outcome, Outcome::Returned(Err(_)) | Outcome::Panicked(_));
        let handle = {
            let mut state = self.shared.lock();
            match outcome {
                Outcome::Returned(Err(error)) if state.error.is_none() => {
                    state.error = Some(error);
                }
                Outcome::Panicked(payload) if state.panic.is_none() => {
                    state.panic = Some(payload);
                }
                other => unused = Some(other),
            }
            state.handles.remove(self.handle_key)
        };
        self.shared.release_slot(&mut self.slot);
        if failed {
            self.shared.cancel();
        }
        // Last: `wait` may return as soon as this runs, and finds the outcome recorded.
        self.shared.unfinished.done();
        drop(handle);
        drop(unused);
    }
}

impl<E> Drop for Member<E> {
    fn drop(&mut self) {
        if !self.finished {
            self.finish(Outcome::Dropped);
        }
    }
}

/// The future of [`Group::wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct GroupWait<'a, E> {
    shared: &'a Shared<E>,
    /// Parks with reason `waitgroup wait` at the caller of [`Group::wait`].
    unfinished: Wait<'a>,
}

impl<E> Future for GroupWait<'_, E> {
    type Output = Result<(), E>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<(), E>> {
        let this = self.get_mut();
        ready!(Pin::new(&mut this.unfinished).poll(cx));
        let (error, panic) = {
            let mut state = this.shared.lock();
            (state.error.take(), state.panic.take())
        };
        this.shared.cancel();
        if let Some(payload) = panic {
            drop(error);
            panic::resume_unwind(payload);
        }
        Poll::Ready(error.map_or(Ok(()), Err))
    }
}

/// The future of [`Group::spawn_limited`]: the spawned task's id once it is spawned.
#[must_use = "nothing is spawned unless the future is awaited"]
pub struct SpawnLimited<'a, F, E> {
    group: &'a Group<E>,
    /// `None` once spawned.
    future: Option<F>,
    /// `Released` until queued; a granted slot is handed on to the task.
    slot: Slot,
    site: &'static Location<'static>,
}

// `future` is only moved, never polled, here.
impl<F, E> Unpin for SpawnLimited<'_, F, E> {}

impl<F, E> Future for SpawnLimited<'_, F, E>
where
    F: Future<Output = Result<(), E>> + Send + 'static,
    E: Send + 'static,
{
    type Output = TaskId;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<TaskId> {
        let this = self.get_mut();
        assert_runtime();
        let shared = &this.group.shared;
        if let Slot::Released = this.slot {
            let pending = PendingAcquire::new(1, ParkReason::SemaphoreAcquire, this.site);
            this.slot = Slot::Queued(pending);
        }
        ready!(shared.poll_slot(&mut this.slot, cx));
        // The slot is ours now and passes to the task.
        this.slot = Slot::Released;
        let future = this
            .future
            .take()
            .expect("`SpawnLimited` polled after completion");
        Poll::Ready(this.group.spawn_task(future, Slot::Held, this.site))
    }
}

impl<F, E> Drop for SpawnLimited<'_, F, E> {
    fn drop(&mut self) {
        self.group.shared.release_slot(&mut self.slot);
    }
}

impl<E> fmt::Debug for GroupWait<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupWait")
            .field("unfinished", &self.unfinished)
            .finish_non_exhaustive()
    }
}

impl<F, E> fmt::Debug for SpawnLimited<'_, F, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpawnLimited")
            .field("site", &self.site)
            .field("spawned", &self.future.is_none())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn public_types_are_send_and_sync() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Group<String>>();
        send_sync::<GroupWait<'static, String>>();
    }

    #[test]
    fn slots_are_granted_in_fifo_order() {
        let group = Group::<()>::new();
        let shared = &group.shared;
        group.set_limit(1);
        let site = Location::caller();
        let mut first = shared.claim_slot(site);
        assert!(matches!(first, Slot::Held));
        let mut second = shared.claim_slot(site);
        let mut third = shared.claim_slot(site);
        assert!(matches!(second, Slot::Queued(_)));
        assert!(
            shared.slots.try_take(1).is_err(),
            "a newcomer queues behind waiters"
        );
        shared.release_slot(&mut first);
        let mut cx = TaskContext::from_waker(std::task::Waker::noop());
        assert!(shared.poll_slot(&mut third, &mut cx).is_pending());
        assert!(shared.poll_slot(&mut second, &mut cx).is_ready());
        // A granted-but-unused slot passes on when its claim is dropped.
        let mut fourth = shared.claim_slot(site);
        shared.release_slot(&mut third);
        shared.release_slot(&mut second);
        assert!(shared.poll_slot(&mut fourth, &mut cx).is_ready());
        assert_eq!(shared.slots.available_permits(), 0);
        shared.release_slot(&mut fourth);
        assert_eq!(shared.slots.available_permits(), 1);
    }

    #[test]
    fn a_lowered_limit_is_paid_by_the_next_releases() {
        let group = Group::<()>::new();
        let shared = &group.shared;
        group.set_limit(3);
        let site = Location::caller();
        let mut held: Vec<Slot> = (0..3).map(|_| shared.claim_slot(site)).collect();
        assert!(held.iter().all(|slot| matches!(slot, Slot::Held)));
        group.set_limit(1);
        assert_eq!(shared.lock().debt, 2);
        let mut waiting = shared.claim_slot(site);
        let mut cx = TaskContext::from_waker(std::task::Waker::noop());
        shared.release_slot(&mut held[0]);
        shared.release_slot(&mut held[1]);
        assert!(
            shared.poll_slot(&mut waiting, &mut cx).is_pending(),
            "two releases pay the debt; one slot is still held"
        );
        shared.release_slot(&mut held[2]);
        assert!(shared.poll_slot(&mut waiting, &mut cx).is_ready());
        shared.release_slot(&mut waiting);
        assert_eq!(shared.slots.available_permits(), 1);
        group.remove_limit();
        assert_eq!(shared.slots.available_permits(), UNLIMITED);
    }
}
