//! Unix signals as futures, for graceful shutdown: [`ctrl_c`] completes when the process
//! receives `SIGINT`.
//!
//! A task waiting for a signal is parked with reason `signal wait` at the line that called
//! [`ctrl_c`], so a profile of a server shows its shutdown watcher for what it is.
//!
//! The first call installs a process-wide handler for the signal that stays installed for the
//! life of the process (as tokio's does): from then on Ctrl-C no longer terminates the
//! process, and the program must act on it itself. The handler counts deliveries and writes a
//! byte to a self-pipe; each waiting future registers its own copy of the pipe's read end with
//! the reactor of the runtime it runs on, so a delivery wakes every waiter, on every runtime,
//! with no thread of its own.
//!
//! # Examples
//!
//! A server that stops accepting connections on Ctrl-C:
//!
//! ```
//! use runtime::net::TcpListener;
//!
//! # runtime::Runtime::new().unwrap().block_on(async {
//! let listener = TcpListener::bind("127.0.0.1:0").await?;
//! let mut shutdown = runtime::signal::ctrl_c();
//! # // SAFETY: `SIGINT` is handled from the `ctrl_c` call above: this only counts it.
//! # unsafe { libc::raise(libc::SIGINT) };
//! loop {
//!     runtime::select! {
//!         accepted = listener.accept() => {
//!             let (socket, _peer) = accepted?;
//!             runtime::spawn(async move { drop(socket) });
//!         }
//!         signalled = &mut shutdown => {
//!             signalled?;
//!             println!("Ctrl-C: shutting down");
//!             break;
//!         }
//!     }
//! }
//! # Ok::<(), std::io::Error>(())
//! # }).unwrap();
//! ```

mod registry;

use crate::io::{Direction, PollEvented};
use crate::park::ParkReason;
use mio::unix::pipe::Receiver;
use mio::Interest;
use registry::Installed;
use std::fmt;
use std::future::Future;
use std::io;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Completes when the process receives `SIGINT` (Ctrl-C in a terminal) after this call.
/// Parks the task with reason `signal wait` at the caller.
///
/// A `SIGINT` that arrives any time after the call completes the future, even before it is
/// first polled; one `SIGINT` completes every future waiting at the time, on every runtime.
///
/// The first call installs a handler for `SIGINT` that is never removed: from then on Ctrl-C
/// no longer terminates the process (deliveries while nothing waits are counted and dropped).
///
/// ```no_run
/// # runtime::Runtime::new().unwrap().block_on(async {
/// runtime::signal::ctrl_c().await?;
/// println!("Ctrl-C received");
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
///
/// # Errors
/// The future completes with the OS error if the handler could not be installed (the self-pipe
/// or `sigaction` failed; a later call tries again), or if registering with the runtime's
/// reactor failed.
///
/// # Panics
/// When polled outside a Parkade runtime (unless the signal has already arrived).
#[track_caller]
pub fn ctrl_c() -> CtrlC {
    CtrlC {
        signal: Signal::new(libc::SIGINT, Location::caller()),
    }
}

/// The future of [`ctrl_c`].
#[must_use = "futures do nothing unless awaited"]
pub struct CtrlC {
    signal: Signal,
}

impl Future for CtrlC {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().signal.poll_delivered(cx)
    }
}

impl fmt::Debug for CtrlC {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CtrlC")
            .field("site", &self.signal.site)
            .finish_non_exhaustive()
    }
}

/// Waits for a delivery of one signal after its creation: the core of every signal future.
struct Signal {
    state: State,
    /// The user's call site, recorded with each park.
    site: &'static Location<'static>,
}

enum State {
    /// Installing the handler failed; the error is returned by the first poll (`None` after).
    Failed(Option<io::Error>),
    Waiting {
        installed: Installed,
        /// The signal's delivery count when the future was created: any other value means
        /// the signal has arrived since.
        seen: u64,
        /// This future's own read end of the self-pipe, registered with the reactor of the
        /// runtime that first polled it before the signal arrived.
        pipe: Option<PollEvented<Receiver>>,
    },
}

impl Signal {
    fn new(signum: libc::c_int, site: &'static Location<'static>) -> Signal {
        let state = match registry::install(signum) {
            Ok(installed) => State::Waiting {
                installed,
                seen: installed.deliveries(),
                pipe: None,
            },
            Err(error) => State::Failed(Some(error)),
        };
        Signal { state, site }
    }

    fn poll_delivered(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let (installed, seen, pipe) = match &mut self.state {
            State::Failed(error) => {
                return Poll::Ready(Err(error
                    .take()
                    .unwrap_or_else(|| io::Error::other("signal future polled after failing"))))
            }
            State::Waiting {
                installed,
                seen,
                pipe,
            } => (*installed, *seen, pipe),
        };
        let delivered = move || installed.deliveries() != seen;
        if delivered() {
            return Poll::Ready(Ok(()));
        }
        let pipe = match pipe {
            Some(pipe) => pipe,
            None => {
                let registered = installed
                    .receiver()
                    .and_then(|receiver| PollEvented::with_interest(receiver, Interest::READABLE));
                let pipe = match registered {
                    Ok(registered) => pipe.insert(registered),
                    Err(error) => return Poll::Ready(Err(error)),
                };
                // A delivery between the check above and the registration may have had its
                // byte drained by another waiter: look again, now that every later byte
                // reaches this registration.
                if delivered() {
                    return Poll::Ready(Ok(()));
                }
                pipe
            }
        };
        let receiver = pipe.io();
        pipe.registration().poll_io_as(
            cx,
            Direction::Read,
            ParkReason::SignalWait,
            self.site,
            || {
                // Drain first, then look at the count: whoever is woken first drains the
                // bytes meant for all, so the count is what tells (see `registry`).
                registry::drain(receiver)?;
                if delivered() {
                    Ok(())
                } else {
                    Err(io::ErrorKind::WouldBlock.into())
                }
            },
        )
    }
}

fn _assert_send_sync_unpin() {
    fn send_sync_unpin<T: Send + Sync + Unpin + fmt::Debug>() {}
    send_sync_unpin::<CtrlC>();
}
