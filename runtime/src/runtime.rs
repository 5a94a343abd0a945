//! `Runtime` and its `Builder`.

use crate::driver::Driver;
use crate::loom::Arc as LoomArc;
use crate::profile::Profile;
use crate::scheduler::worker::Worker;
use crate::scheduler::{current, BlockingPool, EnterGuard, Handle, Shared, SharedDriver, Sleeper};
use crate::task_core::JoinHandle;
use std::future::Future;
use std::io;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

/// Configures and builds a [`Runtime`].
///
/// ```
/// let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
/// assert_eq!(rt.block_on(async { 40 + 2 }), 42);
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    worker_threads: Option<usize>,
    max_blocking_threads: usize,
    thread_keep_alive: Duration,
    thread_name: String,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl Builder {
    /// Defaults: one worker per available core, up to 512 blocking threads kept 10 s.
    pub fn new() -> Builder {
        Builder {
            worker_threads: None,
            max_blocking_threads: 512,
            thread_keep_alive: Duration::from_secs(10),
            thread_name: "parkade-worker".to_string(),
        }
    }

    /// The number of worker threads.
    ///
    /// # Panics
    /// If `n` is 0.
    #[track_caller]
    pub fn worker_threads(mut self, n: usize) -> Builder {
        assert!(n > 0, "worker_threads must be at least 1");
        self.worker_threads = Some(n);
        self
    }

    /// The most threads `spawn_blocking` may use at once; further closures queue.
    ///
    /// # Panics
    /// If `n` is 0.
    #[track_caller]
    pub fn max_blocking_threads(mut self, n: usize) -> Builder {
        assert!(n > 0, "max_blocking_threads must be at least 1");
        self.max_blocking_threads = n;
        self
    }

    /// How long an idle blocking thread waits for work before it exits.
    pub fn thread_keep_alive(mut self, keep_alive: Duration) -> Builder {
        self.thread_keep_alive = keep_alive;
        self
    }

    /// The name of the worker threads (blocking threads get `NAME-blocking`).
    pub fn thread_name(mut self, name: impl Into<String>) -> Builder {
        self.thread_name = name.into();
        self
    }

    /// Starts the worker threads.
    ///
    /// # Errors
    /// If the OS refuses the poller or a thread.
    pub fn build(self) -> io::Result<Runtime> {
        let workers = self
            .worker_threads
            .unwrap_or_else(|| thread::available_parallelism().map_or(1, |n| n.get()));
        let (driver, driver_handle) = Driver::new()?;
        let shared_driver = LoomArc::new(SharedDriver::new(driver, driver_handle.clone()));
        let blocking = BlockingPool::new(
            self.max_blocking_threads,
            self.thread_keep_alive,
            format!("{}-blocking", self.thread_name),
        );

        let queues: Vec<_> = (0..workers)
            .map(|_| crossbeam_deque::Worker::new_fifo())
            .collect();
        let sleepers: Vec<_> = (0..workers)
            .map(|_| Sleeper::new(shared_driver.clone()))
            .collect();
        let shared = Shared::new(
            queues.iter().map(|q| q.stealer()).collect(),
            sleepers.iter().map(|p| p.rouser()).collect(),
            driver_handle,
            shared_driver,
            blocking,
        );
        let handle = Handle {
            shared: Arc::new(shared),
        };

        let mut runtime = Runtime {
            handle: handle.clone(),
            threads: Vec::with_capacity(workers),
        };
        for (index, (queue, sleeper)) in queues.into_iter().zip(sleepers).enumerate() {
            let handle = handle.clone();
            let thread = thread::Builder::new()
                .name(self.thread_name.clone())
                .spawn(move || Worker::new(handle, index, queue, sleeper).run())?;
            // On error `runtime` drops here and shuts down the threads already started.
            runtime.threads.push(thread);
        }
        Ok(runtime)
    }
}

/// A work-stealing runtime whose scheduler records why every task is parked.
///
/// Dropping it shuts it down: workers stop after the poll they are in, every task's future
/// is dropped, blocking closures already running finish, and every thread is joined.
pub struct Runtime {
    handle: Handle,
    threads: Vec<thread::JoinHandle<()>>,
}

impl Runtime {
    /// A runtime with the default [`Builder`].
    ///
    /// # Errors
    /// As [`Builder::build`].
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// Runs `future` to completion on this thread, with the runtime current (so it can
    /// spawn, sleep and use sockets), while the workers run the spawned tasks.
    ///
    /// # Panics
    /// If called from a worker thread of a runtime (it would block a worker).
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// The runtime's handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Spawns a task.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn_with(future, None, Location::caller())
    }

    /// Runs a blocking closure on the blocking pool.
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// Makes the runtime current on this thread until the guard drops.
    pub fn enter(&self) -> EnterGuard {
        self.handle.enter()
    }

    /// A snapshot of every live task.
    pub fn profile(&self) -> Profile {
        self.handle.profile()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let shared = &self.handle.shared;
        if !shared.begin_shutdown() {
            return;
        }
        let current = thread::current().id();
        for thread in self.threads.drain(..) {
            // Dropping the runtime from one of its own tasks must not join that worker.
            if thread.thread().id() != current {
                let _ = thread.join();
            }
        }
        let _enter = current::enter(self.handle.clone());
        shared.finish_shutdown();
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("handle", &self.handle)
            .finish()
    }
}

/// Wakes a thread blocked in `block_on`.
struct ThreadWaker {
    thread: thread::Thread,
    notified: AtomicBool,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.notified.swap(true, Ordering::Release) {
            self.thread.unpark();
        }
    }
}

impl Handle {
    /// Runs `future` to completion on this thread with this runtime current.
    ///
    /// # Panics
    /// If called from a worker thread of a runtime (it would block a worker).
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        assert!(
            !current::is_worker(),
            "cannot block_on from a runtime worker thread: this would block the worker \
             that drives other tasks; `.await` the future instead"
        );
        let _enter = current::enter(self.clone());
        let waker_state = Arc::new(ThreadWaker {
            thread: thread::current(),
            notified: AtomicBool::new(false),
        });
        let waker = Waker::from(waker_state.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = std::pin::pin!(future);
        loop {
            if let Poll::Ready(output) =
                crate::coop::unconstrained(|| future.as_mut().poll(&mut cx))
            {
                return output;
            }
            while !waker_state.notified.swap(false, Ordering::Acquire) {
                thread::park();
            }
        }
    }
}
