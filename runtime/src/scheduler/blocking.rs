//! The blocking pool: threads for `spawn_blocking`, started on demand up to a bound, kept
//! alive for a while when idle, joined at shutdown.

use super::{current, Handle};
use crate::loom::lock_std as lock;
use crate::park::ParkReason;
use crate::task_core::{self as task, JoinHandle, Meta, Notified, Schedule, Task};
use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::ptr;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

thread_local! {
    /// The pool this thread belongs to, if it is a pool thread (compared, never dereferenced).
    static CURRENT_POOL: Cell<*const Inner> = const { Cell::new(ptr::null()) };
}

#[derive(Clone)]
pub(crate) struct BlockingPool {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    condvar: Condvar,
    max_threads: usize,
    keep_alive: Duration,
    thread_name: String,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Notified<BlockingSchedule>>,
    num_threads: usize,
    num_idle: usize,
    /// Idle threads notified but not yet awake.
    num_notify: usize,
    shutdown: bool,
    threads: HashMap<usize, thread::JoinHandle<()>>,
    next_thread_id: usize,
}

/// The scheduler of blocking tasks: they run once, on a pool thread, and are not in the
/// task registry (they are not async tasks; their joiners show `blocking`).
struct BlockingSchedule {
    inner: Arc<Inner>,
}

impl Schedule for BlockingSchedule {
    fn release(&self, _task: &Task<Self>) -> Option<Task<Self>> {
        None
    }

    fn schedule(&self, task: Notified<Self>) {
        // Only reached by `abort` before the closure ran: run it now to cancel it.
        BlockingPool {
            inner: self.inner.clone(),
        }
        .push(task, None);
    }
}

/// A closure as a future that completes on its first poll.
struct BlockingTask<F>(Option<F>);

impl<F> Unpin for BlockingTask<F> {}

impl<F: FnOnce() -> R, R> Future for BlockingTask<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self
            .0
            .take()
            .expect("blocking task polled after completion");
        // A blocking closure may run its own executor: it must not inherit a task's budget.
        Poll::Ready(crate::coop::unconstrained(f))
    }
}

impl BlockingPool {
    pub(crate) fn new(
        max_threads: usize,
        keep_alive: Duration,
        thread_name: String,
    ) -> BlockingPool {
        BlockingPool {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                condvar: Condvar::new(),
                max_threads,
                keep_alive,
                thread_name,
            }),
        }
    }

    pub(crate) fn spawn<F, R>(
        &self,
        handle: &Handle,
        f: F,
        name: Option<Arc<str>>,
        site: &'static Location<'static>,
    ) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let meta = Meta::new(site, name);
        let schedule = BlockingSchedule {
            inner: self.inner.clone(),
        };
        let (task, notified, join) =
            task::new_task(BlockingTask(Some(f)), schedule, meta, ParkReason::Blocking);
        // Not registered anywhere: only the `Notified` and the join handle keep it.
        drop(task);
        self.push(notified, Some(handle));
        join
    }

    fn push(&self, task: Notified<BlockingSchedule>, handle: Option<&Handle>) {
        let inner = &self.inner;
        let mut state = lock(&inner.state);
        if state.shutdown {
            drop(state);
            // Runs the cancellation path: the future is dropped without calling the closure.
            task.cancel_and_run();
            return;
        }
        state.queue.push_back(task);
        if state.num_idle > state.num_notify {
            state.num_notify += 1;
            inner.condvar.notify_one();
            return;
        }
        if state.num_threads >= inner.max_threads {
            // Queued until a thread frees up.
            return;
        }
        let Some(handle) = handle.cloned().or_else(current::try_current) else {
            return;
        };
        let id = state.next_thread_id;
        state.next_thread_id += 1;
        let pool = self.clone();
        let spawned = thread::Builder::new()
            .name(inner.thread_name.clone())
            .spawn(move || pool.run(id, handle));
        match spawned {
            Ok(thread) => {
                state.num_threads += 1;
                state.threads.insert(id, thread);
            }
            // The queued task waits for a running thread; with none, it runs at shutdown's
            // cancellation. Out of threads is the OS's word, not ours to panic on.
            Err(error) => eprintln!("parkade: cannot start a blocking thread: {error}"),
        }
    }

    fn run(&self, id: usize, handle: Handle) {
        CURRENT_POOL.with(|pool| pool.set(Arc::as_ptr(&self.inner)));
        let _enter = current::enter(handle);
        let inner = &*self.inner;
        let mut state = lock(&inner.state);
        loop {
            if state.shutdown {
                break;
            }
            if let Some(task) = state.queue.pop_front() {
                drop(state);
                task.run();
                state = lock(&inner.state);
                continue;
            }
            state.num_idle += 1;
            let (next, timeout) = match inner.condvar.wait_timeout(state, inner.keep_alive) {
                Ok(result) => result,
                Err(poisoned) => poisoned.into_inner(),
            };
            state = next;
            state.num_idle -= 1;
            if state.num_notify > 0 {
                state.num_notify -= 1;
                continue;
            }
            if timeout.timed_out() && state.queue.is_empty() && !state.shutdown {
                // Idle for `keep_alive`: retire.
                state.threads.remove(&id);
                break;
            }
        }
        state.num_threads -= 1;
    }

    /// Cancels queued closures and tells idle threads to exit; running closures finish.
    pub(crate) fn begin_shutdown(&self) {
        let inner = &*self.inner;
        let queued: Vec<_> = {
            let mut state = lock(&inner.state);
            state.shutdown = true;
            inner.condvar.notify_all();
            state.queue.drain(..).collect()
        };
        for task in queued {
            task.cancel_and_run();
        }
    }

    /// True while a pool thread other than the caller is still running (a closure that has
    /// not returned yet). The caller may itself be a pool thread dropping the runtime.
    pub(crate) fn has_threads(&self) -> bool {
        let me = CURRENT_POOL.with(|pool| pool.get() == Arc::as_ptr(&self.inner));
        lock(&self.inner.state).num_threads > usize::from(me)
    }

    /// Joins every pool thread; call after `begin_shutdown`.
    pub(crate) fn join(&self) {
        let threads: Vec<_> = lock(&self.inner.state)
            .threads
            .drain()
            .map(|(_, t)| t)
            .collect();
        let current = thread::current().id();
        for thread in threads {
            if thread.thread().id() != current {
                let _ = thread.join();
            }
        }
    }
}
