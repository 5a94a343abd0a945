//! A socket (or the signal self-pipe) registered with the driver: the bridge from mio's
//! readiness to a task's park.

use super::scheduled::ScheduledIo;
use super::Direction;
use crate::driver;
use crate::park::{self, IoDirection, ParkReason};
use crate::{coop, scheduler};
use std::io;
use std::panic::Location;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

pub(crate) struct Registration {
    handle: Arc<driver::Handle>,
    shared: Arc<ScheduledIo>,
    token: mio::Token,
}

impl Registration {
    fn new<S: mio::event::Source>(
        source: &mut S,
        interest: mio::Interest,
    ) -> io::Result<Registration> {
        let handle = scheduler::current::driver_handle();
        let (token, shared) = handle.io.allocate();
        if let Err(error) = handle.io.registry().register(source, token, interest) {
            handle.io.release(token);
            return Err(error);
        }
        Ok(Registration {
            handle,
            shared,
            token,
        })
    }

    /// Runs `op` until it does not say `WouldBlock`, parking on readiness in between with
    /// reason `IO wait` (`detail`) at `site`.
    #[inline]
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        detail: IoDirection,
        site: &'static Location<'static>,
        op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io_as(cx, direction, ParkReason::IoWait(detail), site, op)
    }

    /// [`poll_io`](Self::poll_io) for a source that is not a socket: parks with `reason`.
    #[inline]
    pub(crate) fn poll_io_as<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        reason: ParkReason,
        site: &'static Location<'static>,
        op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_until(cx, direction, reason, site, op, |_| false)
    }

    /// [`poll_io`](Self::poll_io) for a stream read or write of `len` bytes. A short one
    /// (`0 < n < len`) emptied the receive buffer or filled the send buffer, so the readiness
    /// is cleared at once instead of by the next attempt's `WouldBlock`: one syscall less per
    /// read of a request, as tokio does. The reactor is edge-triggered, so the next change is
    /// reported whatever was cleared.
    #[inline]
    pub(crate) fn poll_transfer(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        detail: IoDirection,
        site: &'static Location<'static>,
        len: usize,
        op: impl FnMut() -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let reason = ParkReason::IoWait(detail);
        self.poll_until(cx, direction, reason, site, op, |&n| n > 0 && n < len)
    }

    /// Runs `op` until it does not say `WouldBlock`, parking on readiness in between with
    /// `reason` at `site`; clears the readiness after a result for which `drained` holds.
    fn poll_until<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        reason: ParkReason,
        site: &'static Location<'static>,
        mut op: impl FnMut() -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        let permit = ready!(coop::poll_proceed(cx));
        loop {
            let event = match self.shared.poll_ready(cx, direction) {
                Poll::Ready(event) => event,
                Poll::Pending => {
                    park::record(reason, site);
                    return Poll::Pending;
                }
            };
            match op() {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    self.shared.clear_readiness(event);
                }
                result => {
                    if result.as_ref().is_ok_and(&drained) {
                        self.shared.clear_readiness(event);
                    }
                    permit.made_progress();
                    return Poll::Ready(result);
                }
            }
        }
    }

    fn deregister<S: mio::event::Source>(&self, source: &mut S) -> io::Result<()> {
        let result = self.handle.io.registry().deregister(source);
        self.handle.io.release(self.token);
        self.shared.clear_wakers();
        result
    }
}

/// A mio socket and its registration; deregistered on drop.
pub(crate) struct PollEvented<S: mio::event::Source> {
    io: Option<S>,
    registration: Registration,
}

impl<S: mio::event::Source> PollEvented<S> {
    /// Registers `io` for reading and writing.
    ///
    /// # Panics
    /// Outside a Parkade runtime.
    pub(crate) fn new(io: S) -> io::Result<PollEvented<S>> {
        PollEvented::with_interest(io, mio::Interest::READABLE | mio::Interest::WRITABLE)
    }

    /// Registers for `interest` only (a pipe's read end has no writability to watch).
    ///
    /// # Panics
    /// Outside a Parkade runtime.
    pub(crate) fn with_interest(mut io: S, interest: mio::Interest) -> io::Result<PollEvented<S>> {
        let registration = Registration::new(&mut io, interest)?;
        Ok(PollEvented {
            io: Some(io),
            registration,
        })
    }

    pub(crate) fn io(&self) -> &S {
        self.io
            .as_ref()
            .expect("invariant: socket present until drop")
    }

    pub(crate) fn registration(&self) -> &Registration {
        &self.registration
    }

    /// Deregisters and returns the socket.
    pub(crate) fn into_inner(mut self) -> io::Result<S> {
        let mut io = self
            .io
            .take()
            .expect("invariant: socket present until drop");
        self.registration.deregister(&mut io)?;
        Ok(io)
    }
}

impl<S: mio::event::Source> Drop for PollEvented<S> {
    fn drop(&mut self) {
        if let Some(mut io) = self.io.take() {
            let _ = self.registration.deregister(&mut io);
        }
    }
}
