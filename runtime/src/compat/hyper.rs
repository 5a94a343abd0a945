//! hyper 1.x on Parkade: [`Executor`], [`Timer`] and [`Io`], hyper's `rt` traits.
//!
//! With these, hyper's HTTP/1 and HTTP/2 servers and clients, hyper-util's
//! `server::conn::auto::Builder` and axum (through hyper-util's `TowerToHyperService`) run
//! on Parkade with no tokio runtime in the process. Each piece shows in profiles:
//!
//! - tasks hyper spawns through [`Executor`] (HTTP/2 streams and connection drivers) are
//!   ordinary Parkade tasks, listed under their future type
//!   (`hyper::proto::h2::server::H2Stream<…>`) and spawned at the line that made the
//!   executor;
//! - hyper's timers (header-read timeouts, keep-alive pings) park as `sleep` at the line that
//!   made the [`Timer`], unless the same poll also waited on the socket: a timeout is then the
//!   deadline of that wait, which is what shows;
//! - a connection waiting for its client parks as `IO wait` (read) at the line that wrapped
//!   the stream in [`Io::new`]: in a server, where the application serves the connection.
//!
//! # Examples
//!
//! An HTTP/1 server answering every request with "hello":
//!
//! ```no_run
//! use runtime::compat::hyper::{Io, Timer};
//! use runtime::net::TcpListener;
//!
//! # runtime::Runtime::new().unwrap().block_on(async {
//! let listener = TcpListener::bind("127.0.0.1:8080").await?;
//! loop {
//!     let (stream, _) = listener.accept().await?;
//!     runtime::spawn(async move {
//!         let service = hyper::service::service_fn(|_request| async {
//!             Ok::<_, std::convert::Infallible>(hyper::Response::new(String::from("hello")))
//!         });
//!         let _ = hyper::server::conn::http1::Builder::new()
//!             .timer(Timer::new())
//!             .serve_connection(Io::new(stream), service)
//!             .await;
//!     });
//! }
//! # Ok::<(), std::io::Error>(())
//! # }).unwrap();
//! ```

use crate::net::tcp::{ReadSocket, WriteSocket};
use crate::park::{self, ParkReason};
use crate::scheduler::{current, Handle};
use crate::time::sleep::{sleep_at, sleep_until_at};
use crate::time::Sleep;
use std::fmt;
use std::future::Future;
use std::io::{self, IoSlice};
use std::panic::Location;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

/// hyper's `rt::Executor`: spawns the futures hyper hands it as Parkade tasks.
///
/// Spawns on the runtime current where hyper calls it (hyper calls it from the connection's
/// task), or on the runtime of [`Executor::with_handle`].
#[derive(Clone)]
pub struct Executor {
    handle: Option<Handle>,
    /// The spawn site of every task this executor spawns.
    site: &'static Location<'static>,
}

impl Executor {
    /// An executor spawning on the current runtime; its tasks show as spawned at the caller.
    #[track_caller]
    pub fn new() -> Executor {
        Executor {
            handle: None,
            site: Location::caller(),
        }
    }

    /// An executor spawning on the runtime of `handle`, from any thread.
    #[track_caller]
    pub fn with_handle(handle: Handle) -> Executor {
        Executor {
            handle: Some(handle),
            site: Location::caller(),
        }
    }
}

impl Default for Executor {
    #[track_caller]
    fn default() -> Executor {
        Executor::new()
    }
}

impl fmt::Debug for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Executor")
            .field("handle", &self.handle)
            .field("site", &self.site)
            .finish()
    }
}

impl<F> hyper::rt::Executor<F> for Executor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    /// Spawns `future` as a detached task.
    ///
    /// # Panics
    /// If the executor has no handle and hyper calls it outside a Parkade runtime.
    fn execute(&self, future: F) {
        match &self.handle {
            Some(handle) => drop(handle.spawn_with(future, None, self.site)),
            None => drop(
                current::with_current(|handle| handle.spawn_with(future, None, self.site))
                    .expect(current::NO_RUNTIME),
            ),
        }
    }
}

/// hyper's `rt::Timer`: Parkade's timer wheel. hyper's sleeps park as `sleep` at the line
/// that made the timer.
#[derive(Clone)]
pub struct Timer {
    site: &'static Location<'static>,
}

impl Timer {
    /// A timer whose sleeps use the runtime current when hyper first polls them.
    #[track_caller]
    pub fn new() -> Timer {
        Timer {
            site: Location::caller(),
        }
    }
}

impl Default for Timer {
    #[track_caller]
    fn default() -> Timer {
        Timer::new()
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer").field("site", &self.site).finish()
    }
}

/// A sleep of hyper's [`Timer`]. hyper's timers are mostly deadlines on another wait (a
/// header-read timeout on a connection's read, a keep-alive timeout), so a poll that also
/// waited on something else records that wait, as Go shows a read with a deadline as
/// `IO wait`; a poll that waits on the timer alone parks as `sleep` at the timer's line.
struct Deadline(Sleep);

impl Future for Deadline {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let sleep = &mut self.get_mut().0;
        let poll = sleep.poll_elapsed(cx);
        if poll.is_pending() && !park::recorded_this_poll() {
            park::record(ParkReason::Sleep, sleep.site);
        }
        poll
    }
}

impl hyper::rt::Sleep for Deadline {}

impl hyper::rt::Timer for Timer {
    /// # Panics
    /// Outside a Parkade runtime.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(Deadline(sleep_at(duration, self.site)))
    }

    /// # Panics
    /// Outside a Parkade runtime.
    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(Deadline(sleep_until_at(deadline, self.site)))
    }

    /// Moves a sleep of this timer in place (no new allocation or wheel entry).
    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<Deadline>() {
            Some(ours) => ours.get_mut().0.reset(deadline),
            None => *sleep = self.sleep_until(deadline),
        }
    }
}

/// A Parkade stream or half with hyper's `rt::Read` and `rt::Write`.
///
/// Its reads and writes park as `IO wait` at the line that called [`Io::new`].
#[derive(Debug)]
pub struct Io<S> {
    socket: S,
    site: &'static Location<'static>,
}

impl<S> Io<S> {
    /// Wraps `socket` (a [`TcpStream`](crate::net::TcpStream) or a half); waits on it show
    /// at the caller.
    #[track_caller]
    pub fn new(socket: S) -> Io<S> {
        Io {
            socket,
            site: Location::caller(),
        }
    }

    /// The wrapped socket.
    pub fn get_ref(&self) -> &S {
        &self.socket
    }

    /// The wrapped socket, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.socket
    }

    /// Unwraps the socket.
    pub fn into_inner(self) -> S {
        self.socket
    }
}

impl<S: ReadSocket> hyper::rt::Read for Io<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // SAFETY: the cursor's unfilled part is only handed to recv(2), which writes and
        // never de-initialises bytes.
        let unfilled = unsafe { buf.as_mut() };
        let n = ready!(this
            .socket
            .tcp()
            .poll_read_uninit_at(cx, unfilled, this.site))?;
        // SAFETY: recv(2) returned `n`, so it initialised the first `n` unfilled bytes.
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl<S: WriteSocket> hyper::rt::Write for Io<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.socket.tcp().poll_write_at(cx, buf, this.site)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.socket
            .tcp()
            .poll_write_vectored_at(cx, bufs, this.site)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    /// Ready at once: writes go straight to the socket.
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Shuts down the write direction, so that the peer reads end of stream.
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.get_mut().socket.shutdown_write())
    }
}
