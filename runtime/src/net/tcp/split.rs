//! Borrowed halves of a `TcpStream`, for reading and writing at once within one task.

use super::TcpStream;
use std::future::{poll_fn, Future};
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::panic::Location;
use std::task::{Context, Poll};

/// The read half of a [`TcpStream`] borrowed by [`TcpStream::split`].
#[derive(Debug)]
pub struct ReadHalf<'a>(&'a TcpStream);

/// The write half of a [`TcpStream`] borrowed by [`TcpStream::split`].
#[derive(Debug)]
pub struct WriteHalf<'a>(&'a TcpStream);

pub(crate) fn split(stream: &mut TcpStream) -> (ReadHalf<'_>, WriteHalf<'_>) {
    (ReadHalf(stream), WriteHalf(stream))
}

impl ReadHalf<'_> {
    /// Reads into `buf`; see [`TcpStream::read`].
    ///
    /// # Errors
    /// The socket's error.
    #[track_caller]
    pub fn read<'b>(
        &'b mut self,
        buf: &'b mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + 'b {
        self.0.read_at(buf, Location::caller())
    }

    /// Reads exactly `buf.len()` bytes; see [`TcpStream::read_exact`].
    ///
    /// # Errors
    /// `UnexpectedEof` if the peer closes first, or the socket's error.
    #[track_caller]
    pub fn read_exact<'b>(
        &'b mut self,
        buf: &'b mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + 'b {
        self.0.read_exact_at(buf, Location::caller())
    }

    /// Reads without consuming; see [`TcpStream::peek`].
    ///
    /// # Errors
    /// The socket's error.
    #[track_caller]
    pub fn peek<'b>(
        &'b mut self,
        buf: &'b mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + 'b {
        self.0.peek_at(buf, Location::caller())
    }

    /// Polls a read; see [`TcpStream::poll_read`].
    ///
    /// # Errors
    /// The socket's error.
    #[track_caller]
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.0.poll_read_at(cx, buf, Location::caller())
    }

    /// The remote address.
    ///
    /// # Errors
    /// `NotConnected` once the connection is gone.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.peer_addr()
    }

    /// The local address.
    ///
    /// # Errors
    /// If the OS cannot tell.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

impl WriteHalf<'_> {
    /// Writes some of `buf`; see [`TcpStream::write`].
    ///
    /// # Errors
    /// The socket's error.
    #[track_caller]
    pub fn write<'b>(&'b mut self, buf: &'b [u8]) -> impl Future<Output = io::Result<usize>> + 'b {
        self.0.write_at(buf, Location::caller())
    }

    /// Writes all of `buf`; see [`TcpStream::write_all`].
    ///
    /// # Errors
    /// The socket's error, or `WriteZero`.
    #[track_caller]
    pub fn write_all<'b>(&'b mut self, buf: &'b [u8]) -> impl Future<Output = io::Result<()>> + 'b {
        self.0.write_all_at(buf, Location::caller())
    }

    /// Does nothing: writes go straight to the socket.
    ///
    /// # Errors
    /// Never.
    pub fn flush(&mut self) -> impl Future<Output = io::Result<()>> + '_ {
        std::future::ready(Ok(()))
    }

    /// Shuts down the write direction of the stream, so that the peer reads end of stream.
    ///
    /// # Errors
    /// If the socket is not connected.
    pub fn shutdown(&mut self) -> impl Future<Output = io::Result<()>> + '_ {
        let stream: &TcpStream = self.0;
        poll_fn(move |_| Poll::Ready(stream.shutdown_std(Shutdown::Write)))
    }

    /// Polls a write; see [`TcpStream::poll_write`].
    ///
    /// # Errors
    /// The socket's error.
    #[track_caller]
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.0.poll_write_at(cx, buf, Location::caller())
    }

    /// The remote address.
    ///
    /// # Errors
    /// `NotConnected` once the connection is gone.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.peer_addr()
    }

    /// The local address.
    ///
    /// # Errors
    /// If the OS cannot tell.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

impl AsRef<TcpStream> for ReadHalf<'_> {
    fn as_ref(&self) -> &TcpStream {
        self.0
    }
}

impl AsRef<TcpStream> for WriteHalf<'_> {
    fn as_ref(&self) -> &TcpStream {
        self.0
    }
}
