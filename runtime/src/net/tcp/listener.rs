//! A TCP listener: accepts connections as the reactor reports them.

use super::TcpStream;
use crate::io::{Direction, PollEvented};
use crate::net::addr;
use crate::park::IoDirection;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::panic::Location;
use std::task::{ready, Context, Poll};

/// A TCP socket listening for connections.
///
/// A task waiting in [`accept`](TcpListener::accept) is parked with reason `IO wait`
/// (accept) at the line of the `accept` call.
pub struct TcpListener {
    io: PollEvented<mio::net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` (port 0 picks a free port), trying each address it resolves to until
    /// one succeeds. Binding does not wait; it is a future for symmetry with tokio.
    ///
    /// # Errors
    /// The last bind error (`AddrInUse`, `PermissionDenied`, …), or `InvalidInput` if `addr`
    /// resolves to no address.
    ///
    /// # Panics
    /// When polled outside a Parkade runtime.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        addr::try_each(addr, |addr| {
            TcpListener::from_mio(mio::net::TcpListener::bind(addr)?)
        })
    }

    fn from_mio(listener: mio::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: PollEvented::new(listener)?,
        })
    }

    /// Wraps a bound std listener, switching it to nonblocking mode.
    ///
    /// # Errors
    /// If the socket cannot be made nonblocking or registered with the reactor.
    ///
    /// # Panics
    /// Outside a Parkade runtime.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::from_mio(mio::net::TcpListener::from_std(listener))
    }

    /// Deregisters the socket and returns it as a std listener (still in nonblocking mode).
    ///
    /// # Errors
    /// If deregistering from the reactor fails.
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        self.io.into_inner().map(std::net::TcpListener::from)
    }

    /// Waits for the next connection and returns it with the peer's address.
    ///
    /// Parks with reason `IO wait` (accept) at the caller.
    ///
    /// # Errors
    /// What `accept(2)` reports, such as `ConnectionAborted` or running out of file
    /// descriptors; the listener stays usable.
    #[track_caller]
    pub fn accept(&self) -> impl Future<Output = io::Result<(TcpStream, SocketAddr)>> + '_ {
        let site = Location::caller();
        poll_fn(move |cx| self.poll_accept_at(cx, site))
    }

    /// Polls for the next connection, for hand-written futures; parks at the caller like
    /// [`accept`](TcpListener::accept).
    ///
    /// # Errors
    /// As [`accept`](TcpListener::accept).
    #[track_caller]
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        self.poll_accept_at(cx, Location::caller())
    }

    fn poll_accept_at(
        &self,
        cx: &mut Context<'_>,
        site: &'static Location<'static>,
    ) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let io = self.io.io();
        let (stream, peer) = ready!(self.io.registration().poll_io(
            cx,
            Direction::Read,
            IoDirection::Accept,
            site,
            || io.accept(),
        ))?;
        Poll::Ready(TcpStream::from_mio(stream).map(|stream| (stream, peer)))
    }

    /// The local address, with the port chosen when binding port 0.
    ///
    /// # Errors
    /// If the OS cannot tell.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.io().local_addr()
    }

    /// Sets the IP time-to-live of accepted connections' packets.
    ///
    /// # Errors
    /// If the OS rejects the value.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.io().set_ttl(ttl)
    }

    /// The IP time-to-live of accepted connections' packets.
    ///
    /// # Errors
    /// If the OS cannot tell.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.io().ttl()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("io", self.io.io())
            .finish()
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.io().as_raw_fd()
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for TcpListener {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.io.io().as_fd()
    }
}
