use crate::scheduler::{current, Handle};
use crate::task_core::JoinHandle;
use std::future::Future;
use std::panic::Location;
use std::sync::Arc;

/// Spawns a task with options; the name shows in every profile.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let handle = runtime::task::Builder::new().name("worker").spawn(async { 7 });
/// assert_eq!(handle.await.unwrap(), 7);
/// # });
/// ```
#[derive(Debug, Default, Clone)]
pub struct Builder {
    name: Option<Arc<str>>,
}

impl Builder {
    /// A builder with no name.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the task.
    pub fn name(mut self, name: &str) -> Builder {
        self.name = Some(Arc::from(name));
        self
    }

    /// Spawns on the current runtime.
    ///
    /// # Panics
    /// Outside a Parkade runtime.
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let site = Location::caller();
        current::current().spawn_with(future, self.name, site)
    }

    /// Spawns on the runtime of `handle`.
    #[track_caller]
    pub fn spawn_on<F>(self, future: F, handle: &Handle) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        handle.spawn_with(future, self.name, Location::caller())
    }

    /// Runs a blocking closure on the current runtime's blocking pool.
    ///
    /// # Panics
    /// Outside a Parkade runtime.
    #[track_caller]
    pub fn spawn_blocking<F, R>(self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let site = Location::caller();
        let handle = current::current();
        handle.shared.blocking.spawn(&handle, f, self.name, site)
    }
}
