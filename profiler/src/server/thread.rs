//! The endpoint's own threads, below the runtime's workers in priority: [`lower_priority`]
//! for `serve`'s listener and connections, and [`spawn_render`] for [`DebugService`]'s
//! renders.
//!
//! `DebugService` cannot render on the runtime's blocking pool at a lower priority: those
//! threads are the application's, and a thread that lowers its priority cannot raise it back
//! without `CAP_SYS_NICE`. So each render gets a thread of its own, which ends with it. The
//! render slots ([`Profiles::render`](super::renders::Profiles::render)) bound how many
//! snapshots are rendered at once; a request waiting for a slot waits on its render thread.
//!
//! [`DebugService`]: super::DebugService

use runtime::chan::oneshot::{self, Receiver};
use std::any::Any;
use std::fmt;
use std::future::Future;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::thread;

/// Runs this thread below the runtime's workers (nice +10, Linux's per-thread priority), so
/// that a burst of scrapes slows the scrapes rather than the service. Only ever lowers it: a
/// process already at nice 10 or more (which a privileged one could otherwise be raised
/// from) keeps its own. Best effort: where the call is refused, the thread keeps its priority.
pub(super) fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        const NICE: libc::c_int = 10;
        // SAFETY: gettid has no preconditions. getpriority and setpriority with PRIO_PROCESS
        // and a thread id read and change only that thread's nice value; errno is this
        // thread's, cleared first because -1 is both a nice value and getpriority's error.
        unsafe {
            let tid = libc::gettid() as libc::id_t;
            *libc::__errno_location() = 0;
            let current = libc::getpriority(libc::PRIO_PROCESS, tid);
            let failed = current == -1 && *libc::__errno_location() != 0;
            if !failed && current < NICE {
                libc::setpriority(libc::PRIO_PROCESS, tid, NICE);
            }
        }
    }
}

/// Runs `f` on a new thread named `name`, at [lower priority](lower_priority), and returns
/// the future of its outcome: awaiting it parks the awaiting task (`chan receive`) rather than
/// blocking its worker.
///
/// The thread runs `f` to its end whether or not the [`Rendering`] is still awaited; what `f`
/// returns to nobody is dropped on the thread.
///
/// # Errors
/// When the OS gives no new thread (`EAGAIN`: the thread limit, or no memory for a stack);
/// `f` is then dropped unrun.
pub(super) fn spawn_render<R, F>(name: &str, f: F) -> io::Result<Rendering<R>>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let (outcome, rendering) = oneshot::oneshot();
    thread::Builder::new().name(name.into()).spawn(move || {
        lower_priority();
        let result = panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| Panicked {
            message: panic_message(&*payload),
        });
        // `Err` when the `Rendering` was dropped: nobody wants the outcome any more.
        let _ = outcome.send(result);
    })?;
    Ok(Rendering { outcome: rendering })
}

/// The outcome of a [`spawn_render`]: what its closure returned, or that it panicked.
#[must_use = "futures do nothing unless polled"]
pub(super) struct Rendering<R> {
    outcome: Receiver<Result<R, Panicked>>,
}

impl<R> Future for Rendering<R> {
    type Output = Result<R, Panicked>;

    /// `#[track_caller]`: the task parks at the site that awaits the render, not here.
    #[track_caller]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.outcome).poll(cx).map(|outcome| {
            // The thread always sends, unless something panics outside `f` (dropping the
            // payload of `f`'s panic, say): that too is a panic of the render.
            outcome.unwrap_or_else(|_closed| Err(Panicked { message: None }))
        })
    }
}

impl<R> fmt::Debug for Rendering<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rendering").finish_non_exhaustive()
    }
}

/// A render whose closure panicked: a bug, whose report the panic hook has printed already
/// (to stderr, by default).
#[derive(Debug)]
pub(super) struct Panicked {
    /// The panic's message, when its payload was a string.
    message: Option<String>,
}

impl fmt::Display for Panicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(message) => write!(f, "panicked with message {message:?}"),
            None => f.write_str("panicked"),
        }
    }
}

/// The message of a panic raised by `panic!` (a `&str` or a `String`).
fn panic_message(payload: &(dyn Any + Send)) -> Option<String> {
    payload
        .downcast_ref::<&str>()
        .map(|message| (*message).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Awaits `rendering` on a runtime, failing the test rather than hanging.
    fn outcome<R: Send + 'static>(rendering: Rendering<R>) -> Result<R, Panicked> {
        let rt = runtime::Runtime::new().unwrap();
        rt.block_on(async { runtime::time::timeout(Duration::from_secs(10), rendering).await })
            .expect("the render's outcome never arrived")
    }

    #[test]
    fn renders_run_on_a_named_thread_of_their_own() {
        let caller = thread::current().id();
        let rendering = spawn_render("parkade-test", move || {
            let me = thread::current();
            (me.id() != caller, me.name().map(str::to_owned))
        })
        .unwrap();
        let (elsewhere, name) = outcome(rendering).unwrap();
        assert!(elsewhere);
        assert_eq!(name.as_deref(), Some("parkade-test"));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn renders_run_at_nice_10() {
        /// The nice value of the calling thread.
        fn my_nice() -> i32 {
            // SAFETY: gettid has no preconditions; getpriority with PRIO_PROCESS and a thread
            // id only reads that thread's nice value.
            unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) }
        }
        let before = my_nice();
        if before >= 10 {
            println!("skipped: the test already runs at nice {before}, no lower than a render");
            return;
        }
        let nice = outcome(spawn_render("parkade-test", my_nice).unwrap()).unwrap();
        assert_eq!(nice, 10);
        // Only the render's own thread was lowered.
        assert_eq!(my_nice(), before);
    }

    #[test]
    fn a_panicking_render_gives_its_panic() {
        let rendering = spawn_render("parkade-test", || -> u32 {
            panic!("render bug (expected)")
        })
        .unwrap();
        let panicked = outcome(rendering).unwrap_err();
        assert_eq!(
            panicked.to_string(),
            "panicked with message \"render bug (expected)\""
        );
        let formatted = spawn_render("parkade-test", || -> u32 { panic!("{} bugs", 2) }).unwrap();
        assert_eq!(
            outcome(formatted).unwrap_err().to_string(),
            "panicked with message \"2 bugs\""
        );
    }

    #[test]
    fn a_render_nobody_awaits_still_runs() {
        let (ran, saw) = std::sync::mpsc::channel();
        drop(spawn_render("parkade-test", move || ran.send(()).unwrap()).unwrap());
        saw.recv_timeout(Duration::from_secs(10))
            .expect("the render never ran");
    }
}
