//! A TCP connection: nonblocking syscalls on a mio socket, parking on the reactor's readiness
//! in between.

use super::split::{split, ReadHalf, WriteHalf};
use super::split_owned::{split_owned, OwnedReadHalf, OwnedWriteHalf};
use crate::io::{Direction, PollEvented};
use crate::net::addr;
use crate::park::IoDirection;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io::{self, Write};
use std::mem::MaybeUninit;
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};
use std::panic::Location;
use std::task::{ready, Context, Poll};

/// A TCP connection between a local and a remote socket.
///
/// Reads park the task with reason `IO wait` (read) and writes with `IO wait` (write), at the
/// line of the `read`/`write` call. Use [`split`](TcpStream::split) or
/// [`into_split`](TcpStream::into_split) to read and write at the same time.
pub struct TcpStream {
    io: PollEvented<mio::net::TcpStream>,
}

impl TcpStream {
    /// Opens a connection to `addr`, trying each address it resolves to in turn.
    ///
    /// Parks with reason `IO wait` (write) at the caller while the handshake is in flight.
    ///
    /// # Errors
    /// The last connection error (`ConnectionRefused`, `TimedOut`, …), or `InvalidInput` if
    /// `addr` resolves to no address.
    ///
    /// # Panics
    /// When polled outside a Parkade runtime.
    #[track_caller]
    pub fn connect<A: ToSocketAddrs>(addr: A) -> impl Future<Output = io::Result<TcpStream>> {
        let site = Location::caller();
        async move {
            let mut last_error = None;
            for addr in addr::resolve(addr)? {
                match TcpStream::connect_addr(addr, site).await {
                    Ok(stream) => return Ok(stream),
                    Err(error) => last_error = Some(error),
                }
            }
            Err(last_error.unwrap_or_else(addr::no_addresses))
        }
    }

    async fn connect_addr(
        addr: SocketAddr,
        site: &'static Location<'static>,
    ) -> io::Result<TcpStream> {
        let stream = TcpStream::from_mio(mio::net::TcpStream::connect(addr)?)?;
        poll_fn(|cx| stream.poll_connected(cx, site)).await?;
        Ok(stream)
    }

    /// Ready once the nonblocking connect has finished, following mio's recipe: wait for
    /// writability, then `take_error`, then `peer_addr`.
    fn poll_connected(
        &self,
        cx: &mut Context<'_>,
        site: &'static Location<'static>,
    ) -> Poll<io::Result<()>> {
        let io = self.io.io();
        // A second attempt within one poll means the readiness could not be cleared (the
        // socket is closed or in error): report what `peer_addr` says instead of spinning.
        let mut attempts = 0;
        let registration = self.io.registration();
        registration.poll_io(cx, Direction::Write, IoDirection::Write, site, || {
            attempts += 1;
            if let Some(error) = io.take_error()? {
                return Err(error);
            }
            match io.peer_addr() {
                Ok(_) => Ok(()),
                Err(error) if attempts == 1 && is_in_progress(&error) => {
                    Err(io::ErrorKind::WouldBlock.into())
                }
                Err(error) => Err(error),
            }
        })
    }

    pub(crate) fn from_mio(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: PollEvented::new(stream)?,
        })
    }

    /// Wraps a connected std stream, switching it to nonblocking mode.
    ///
    /// # Errors
    /// If the socket cannot be made nonblocking or registered with the reactor.
    ///
    /// # Panics
    /// Outside a Parkade runtime.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::from_mio(mio::net::TcpStream::from_std(stream))
    }

    /// Deregisters the socket and returns it as a std stream (still in nonblocking mode).
    ///
    /// # Errors
    /// If deregistering from the reactor fails.
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        self.io.into_inner().map(std::net::TcpStream::from)
    }

    /// Reads into `buf`, returning how many bytes were read; 0 means the peer closed its
    /// write half (or `buf` is empty).
    ///
    /// Parks with reason `IO wait` (read) at the caller until data arrives.
    ///
    /// # Errors
    /// The socket's error, such as `ConnectionReset`.
    #[track_caller]
    pub fn read<'a>(
        &'a mut self,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + 'a {
        self.read_at(buf, Location::caller())
    }

    /// Reads exactly `buf.len()` bytes, returning that length.
    ///
    /// # Errors
    /// `UnexpectedEof` if the peer closes first, or the socket's error.
    #[track_caller]
    pub fn read_exact<'a>(
        &'a mut self,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + 'a {
        self.read_exact_at(buf, Location::caller())
    }

    /// Reads into `buf` without removing the data from the socket's receive queue.
    ///
    /// # Errors
    /// The socket's error.
    #[track_caller]
    pub fn peek<'a>(
        &'a mut self,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + 'a {
        self.peek_at(buf, Location::caller())
    }

    /// Writes some of `buf`, returning how many bytes were written.
    ///
    /// Parks with reason `IO wait` (write) at the caller while the send buffer is full.
    ///
    /// # Errors
    /// The socket's error, such as `BrokenPipe` or `ConnectionReset`.
    #[track_caller]
    pub fn write<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        self.write_at(buf, Location::caller())
    }

    /// Writes all of `buf`.
    ///
    /// # Errors
    /// The socket's error, or `WriteZero` if the socket accepts no more bytes.
    #[track_caller]
    pub fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<()>> + 'a {
        self.write_all_at(buf, Location::caller())
    }

    /// Does nothing: writes go straight to the socket.
    ///
    /// # Errors
    /// Never.
    pub fn flush(&mut self) -> impl Future<Output = io::Result<()>> + '_ {
        std::future::ready(Ok(()))
    }

    /// Shuts down the write half, so that the peer reads end of stream (tokio's
    /// `AsyncWriteExt::shutdown`).
    ///
    /// # Errors
    /// If the socket is not connected.
    pub fn shutdown(&mut self) -> impl Future<Output = io::Result<()>> + '_ {
        poll_fn(move |_| Poll::Ready(self.shutdown_std(Shutdown::Write)))
    }

    /// Shuts down the read half, the write half or both, now.
    ///
    /// # Errors
    /// If the socket is not connected.
    pub fn shutdown_std(&self, how: Shutdown) -> io::Result<()> {
        self.io.io().shutdown(how)
    }

    /// Polls a read into `buf`, for hand-written futures; parks at the caller like
    /// [`read`](TcpStream::read).
    ///
    /// Only one task may wait to read a given socket at a time.
    ///
    /// # Errors
    /// The socket's error.
    #[track_caller]
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_read_at(cx, buf, Location::caller())
    }

    /// Polls a peek into `buf`, for hand-written futures; parks at the caller.
    ///
    /// # Errors
    /// The socket's error.
    #[track_caller]
    pub fn poll_peek(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_peek_at(cx, buf, Location::caller())
    }

    /// Polls a write of `buf`, for hand-written futures; parks at the caller like
    /// [`write`](TcpStream::write).
    ///
    /// Only one task may wait to write a given socket at a time.
    ///
    /// # Errors
    /// The socket's error.
    #[track_caller]
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_write_at(cx, buf, Location::caller())
    }

    /// Borrows the stream as a read half and a write half that can be used at the same time
    /// (for instance in two branches of a `select!` or a join).
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split(self)
    }

    /// Splits the stream into halves that can move to different tasks. Dropping the write
    /// half shuts down the write direction; `reunite` puts them back together.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split_owned(self)
    }

    /// The remote address.
    ///
    /// # Errors
    /// `NotConnected` once the connection is gone.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.io().peer_addr()
    }

    /// The local address.
    ///
    /// # Errors
    /// If the OS cannot tell.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.io().local_addr()
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm when `true`).
    ///
    /// # Errors
    /// If the OS rejects the option.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.io().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    /// If the OS cannot tell.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.io().nodelay()
    }

    /// Sets the IP time-to-live of outgoing packets.
    ///
    /// # Errors
    /// If the OS rejects the value.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.io().set_ttl(ttl)
    }

    /// The IP time-to-live of outgoing packets.
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

    // The operations, shared with the split halves, parked at `site`.

    pub(crate) fn poll_read_at(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
        site: &'static Location<'static>,
    ) -> Poll<io::Result<usize>> {
        // SAFETY: `MaybeUninit<u8>` has the layout of `u8`, and the slice is only written
        // by recv(2), which writes initialised bytes: `buf` stays initialised.
        let buf = unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
        self.poll_read_uninit_at(cx, buf, site)
    }

    pub(crate) fn poll_peek_at(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
        site: &'static Location<'static>,
    ) -> Poll<io::Result<usize>> {
        let io = self.io.io();
        self.io
            .registration()
            .poll_io(cx, Direction::Read, IoDirection::Read, site, || {
                retry_interrupted(|| io.peek(buf))
            })
    }

    pub(crate) fn poll_write_at(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        site: &'static Location<'static>,
    ) -> Poll<io::Result<usize>> {
        let mut io = self.io.io();
        let len = buf.len();
        self.io.registration().poll_transfer(
            cx,
            Direction::Write,
            IoDirection::Write,
            site,
            len,
            || retry_interrupted(|| io.write(buf)),
        )
    }

    /// Polls a read into memory that may be uninitialised (tokio's `ReadBuf`, hyper's
    /// `ReadBufCursor`), so that the I/O adapters need not zero a buffer before every read.
    pub(crate) fn poll_read_uninit_at(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
        site: &'static Location<'static>,
    ) -> Poll<io::Result<usize>> {
        let fd = self.io.io().as_raw_fd();
        let len = buf.len();
        self.io.registration().poll_transfer(
            cx,
            Direction::Read,
            IoDirection::Read,
            site,
            len,
            || retry_interrupted(|| read_uninit(fd, buf)),
        )
    }

    /// Polls a gathering write (`writev`): hyper sends a response's head and body in one.
    #[cfg(any(feature = "tokio-io", feature = "futures-io", feature = "hyper"))]
    pub(crate) fn poll_write_vectored_at(
        &self,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
        site: &'static Location<'static>,
    ) -> Poll<io::Result<usize>> {
        let mut io = self.io.io();
        let len = bufs.iter().map(|buf| buf.len()).sum();
        self.io.registration().poll_transfer(
            cx,
            Direction::Write,
            IoDirection::Write,
            site,
            len,
            || retry_interrupted(|| io.write_vectored(bufs)),
        )
    }

    pub(crate) fn read_at<'a>(
        &'a self,
        buf: &'a mut [u8],
        site: &'static Location<'static>,
    ) -> impl Future<Output = io::Result<usize>> + 'a {
        poll_fn(move |cx| self.poll_read_at(cx, buf, site))
    }

    pub(crate) fn read_exact_at<'a>(
        &'a self,
        buf: &'a mut [u8],
        site: &'static Location<'static>,
    ) -> impl Future<Output = io::Result<usize>> + 'a {
        let mut filled = 0;
        poll_fn(move |cx| {
            while filled < buf.len() {
                let n = ready!(self.poll_read_at(cx, &mut buf[filled..], site))?;
                if n == 0 {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the peer closed the connection before the buffer was filled",
                    )));
                }
                filled += n;
            }
            Poll::Ready(Ok(filled))
        })
    }

    pub(crate) fn peek_at<'a>(
        &'a self,
        buf: &'a mut [u8],
        site: &'static Location<'static>,
    ) -> impl Future<Output = io::Result<usize>> + 'a {
        poll_fn(move |cx| self.poll_peek_at(cx, buf, site))
    }

    pub(crate) fn write_at<'a>(
        &'a self,
        buf: &'a [u8],
        site: &'static Location<'static>,
    ) -> impl Future<Output = io::Result<usize>> + 'a {
        poll_fn(move |cx| self.poll_write_at(cx, buf, site))
    }

    pub(crate) fn write_all_at<'a>(
        &'a self,
        buf: &'a [u8],
        site: &'static Location<'static>,
    ) -> impl Future<Output = io::Result<()>> + 'a {
        let mut written = 0;
        poll_fn(move |cx| {
            while written < buf.len() {
                let n = ready!(self.poll_write_at(cx, &buf[written..], site))?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                written += n;
            }
            Poll::Ready(Ok(()))
        })
    }
}

/// Whether `peer_addr` says the handshake has not finished yet.
fn is_in_progress(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::NotConnected || error.raw_os_error() == Some(libc::EINPROGRESS)
}

/// `recv(2)` into possibly uninitialised memory (what std's and mio's `read` call).
fn read_uninit(fd: RawFd, buf: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the duration of the call,
    // and recv(2) only writes to it (never reads), so uninitialised bytes are never read.
    let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
    // A negative return is -1 with errno set; otherwise it is at most `buf.len()`.
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

/// Repeats a syscall interrupted by a signal.
fn retry_interrupted<R>(mut op: impl FnMut() -> io::Result<R>) -> io::Result<R> {
    loop {
        match op() {
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            result => return result,
        }
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("io", self.io.io())
            .finish()
    }
}

#[cfg(unix)]
impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.io().as_raw_fd()
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for TcpStream {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.io.io().as_fd()
    }
}
