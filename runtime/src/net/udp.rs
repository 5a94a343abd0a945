//! UDP sockets: datagrams sent and received on the reactor's readiness.

use crate::io::{Direction, PollEvented};
use crate::net::addr;
use crate::park::IoDirection;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::panic::Location;
use std::task::{Context, Poll};

/// A UDP socket. Every method takes `&self`, so the socket can be shared (in an `Arc`) by a
/// task that sends and one that receives.
///
/// Receives park the task with reason `IO wait` (read) and sends with `IO wait` (write), at
/// the line of the call. Only one task may wait to receive, and one to send, at a time.
///
/// # Examples
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// use runtime::net::UdpSocket;
///
/// let a = UdpSocket::bind("127.0.0.1:0").await?;
/// let b = UdpSocket::bind("127.0.0.1:0").await?;
/// a.send_to(b"ping", b.local_addr()?).await?;
/// let mut buf = [0; 16];
/// let (n, from) = b.recv_from(&mut buf).await?;
/// assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr()?));
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub struct UdpSocket {
    io: PollEvented<mio::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds to `addr` (port 0 picks a free port), trying each address it resolves to until
    /// one succeeds. Binding does not wait; it is a future for symmetry with tokio.
    ///
    /// # Errors
    /// The last bind error, or `InvalidInput` if `addr` resolves to no address.
    ///
    /// # Panics
    /// When polled outside a Parkade runtime.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        addr::try_each(addr, |addr| {
            UdpSocket::from_mio(mio::net::UdpSocket::bind(addr)?)
        })
    }

    fn from_mio(socket: mio::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            io: PollEvented::new(socket)?,
        })
    }

    /// Wraps a bound std socket, switching it to nonblocking mode.
    ///
    /// # Errors
    /// If the socket cannot be made nonblocking or registered with the reactor.
    ///
    /// # Panics
    /// Outside a Parkade runtime.
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        UdpSocket::from_mio(mio::net::UdpSocket::from_std(socket))
    }

    /// Deregisters the socket and returns it as a std socket (still in nonblocking mode).
    ///
    /// # Errors
    /// If deregistering from the reactor fails.
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        self.io.into_inner().map(std::net::UdpSocket::from)
    }

    /// Sets the default destination of [`send`](UdpSocket::send) and the only source
    /// [`recv`](UdpSocket::recv) accepts, trying each address `addr` resolves to in turn.
    ///
    /// # Errors
    /// The last error, or `InvalidInput` if `addr` resolves to no address.
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        addr::try_each(addr, |addr| self.io.io().connect(addr))
    }

    /// Sends `buf` to the connected peer, returning the bytes sent.
    ///
    /// Parks with reason `IO wait` (write) at the caller while the send buffer is full.
    ///
    /// # Errors
    /// The socket's error, or `NotConnected` without [`connect`](UdpSocket::connect).
    #[track_caller]
    pub fn send<'a>(&'a self, buf: &'a [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        let site = Location::caller();
        poll_fn(move |cx| self.poll_send_at(cx, buf, site))
    }

    /// Receives a datagram from the connected peer into `buf`, returning its length (the
    /// rest of a datagram longer than `buf` is discarded).
    ///
    /// Parks with reason `IO wait` (read) at the caller until a datagram arrives.
    ///
    /// # Errors
    /// The socket's error, such as `ConnectionRefused` after an ICMP port-unreachable.
    #[track_caller]
    pub fn recv<'a>(&'a self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        let site = Location::caller();
        poll_fn(move |cx| self.poll_recv_at(cx, buf, site))
    }

    /// Sends `buf` to `target` (the first address it resolves to), returning the bytes sent.
    ///
    /// Parks with reason `IO wait` (write) at the caller while the send buffer is full.
    ///
    /// # Errors
    /// The socket's error, or `InvalidInput` if `target` resolves to no address.
    #[track_caller]
    pub fn send_to<'a, A: ToSocketAddrs>(
        &'a self,
        buf: &'a [u8],
        target: A,
    ) -> impl Future<Output = io::Result<usize>> + 'a {
        self.send_to_at(buf, addr::first(target), Location::caller())
    }

    fn send_to_at<'a>(
        &'a self,
        buf: &'a [u8],
        target: io::Result<SocketAddr>,
        site: &'static Location<'static>,
    ) -> impl Future<Output = io::Result<usize>> + 'a {
        let (addr, mut error) = match target {
            Ok(addr) => (Some(addr), None),
            Err(error) => (None, Some(error)),
        };
        poll_fn(move |cx| match addr {
            Some(addr) => self.poll_send_to_at(cx, buf, addr, site),
            None => Poll::Ready(Err(error
                .take()
                .unwrap_or_else(|| io::Error::other("`send_to` polled after completion")))),
        })
    }

    /// Receives a datagram into `buf`, returning its length and sender (the rest of a
    /// datagram longer than `buf` is discarded).
    ///
    /// Parks with reason `IO wait` (read) at the caller until a datagram arrives.
    ///
    /// # Errors
    /// The socket's error.
    #[track_caller]
    pub fn recv_from<'a>(
        &'a self,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<(usize, SocketAddr)>> + 'a {
        let site = Location::caller();
        poll_fn(move |cx| self.poll_recv_from_at(cx, buf, site))
    }

    /// Like [`recv_from`](UdpSocket::recv_from) but leaves the datagram queued.
    ///
    /// # Errors
    /// The socket's error.
    #[track_caller]
    pub fn peek_from<'a>(
        &'a self,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<(usize, SocketAddr)>> + 'a {
        let site = Location::caller();
        poll_fn(move |cx| self.poll_peek_from_at(cx, buf, site))
    }

    /// Polls a send to the connected peer, for hand-written futures; parks at the caller.
    ///
    /// # Errors
    /// As [`send`](UdpSocket::send).
    #[track_caller]
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_send_at(cx, buf, Location::caller())
    }

    /// Polls a receive from the connected peer, for hand-written futures; parks at the
    /// caller.
    ///
    /// # Errors
    /// As [`recv`](UdpSocket::recv).
    #[track_caller]
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_recv_at(cx, buf, Location::caller())
    }

    /// Polls a send to `target`, for hand-written futures; parks at the caller.
    ///
    /// # Errors
    /// The socket's error.
    #[track_caller]
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.poll_send_to_at(cx, buf, target, Location::caller())
    }

    /// Polls a receive, for hand-written futures; parks at the caller.
    ///
    /// # Errors
    /// The socket's error.
    #[track_caller]
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.poll_recv_from_at(cx, buf, Location::caller())
    }

    /// The local address, with the port chosen when binding port 0.
    ///
    /// # Errors
    /// If the OS cannot tell.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.io().local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    /// `NotConnected` without [`connect`](UdpSocket::connect).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.io().peer_addr()
    }

    /// Allows or forbids sending to broadcast addresses (`SO_BROADCAST`).
    ///
    /// # Errors
    /// If the OS rejects the option.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.io().set_broadcast(on)
    }

    /// Whether `SO_BROADCAST` is set.
    ///
    /// # Errors
    /// If the OS cannot tell.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.io().broadcast()
    }

    /// Sets the IP time-to-live of outgoing datagrams.
    ///
    /// # Errors
    /// If the OS rejects the value.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.io().set_ttl(ttl)
    }

    /// The IP time-to-live of outgoing datagrams.
    ///
    /// # Errors
    /// If the OS cannot tell.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.io().ttl()
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    ///
    /// # Errors
    /// If the OS cannot tell.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.io().take_error()
    }

    fn poll_send_at(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        site: &'static Location<'static>,
    ) -> Poll<io::Result<usize>> {
        let io = self.io.io();
        self.io
            .registration()
            .poll_io(cx, Direction::Write, IoDirection::Write, site, || {
                io.send(buf)
            })
    }

    fn poll_send_to_at(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
        site: &'static Location<'static>,
    ) -> Poll<io::Result<usize>> {
        let io = self.io.io();
        self.io
            .registration()
            .poll_io(cx, Direction::Write, IoDirection::Write, site, || {
                io.send_to(buf, target)
            })
    }

    fn poll_recv_at(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
        site: &'static Location<'static>,
    ) -> Poll<io::Result<usize>> {
        let io = self.io.io();
        self.io
            .registration()
            .poll_io(cx, Direction::Read, IoDirection::Read, site, || {
                io.recv(buf)
            })
    }

    fn poll_recv_from_at(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
        site: &'static Location<'static>,
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        let io = self.io.io();
        self.io
            .registration()
            .poll_io(cx, Direction::Read, IoDirection::Read, site, || {
                io.recv_from(buf)
            })
    }

    fn poll_peek_from_at(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
        site: &'static Location<'static>,
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        let io = self.io.io();
        self.io
            .registration()
            .poll_io(cx, Direction::Read, IoDirection::Read, site, || {
                io.peek_from(buf)
            })
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("io", self.io.io())
            .finish()
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.io().as_raw_fd()
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for UdpSocket {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.io.io().as_fd()
    }
}
