//! Owned halves of a `TcpStream`, sharing the socket through an `Arc` so that one task can
//! read while another writes.

use super::TcpStream;
use std::error::Error;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::panic::Location;
use std::sync::Arc;
use std::task::{Context, Poll};

/// The read half of a [`TcpStream`] made by [`TcpStream::into_split`].
#[derive(Debug)]
pub struct OwnedReadHalf {
    inner: Arc<TcpStream>,
}

/// The write half of a [`TcpStream`] made by [`TcpStream::into_split`]; dropping it shuts
/// down the write direction (unless [`forget`](OwnedWriteHalf::forget) is used).
#[derive(Debug)]
pub struct OwnedWriteHalf {
    inner: Arc<TcpStream>,
    /// Cleared once the write direction was shut down explicitly, or by `forget`/`reunite`.
    shutdown_on_drop: bool,
}

/// The halves given to [`OwnedReadHalf::reunite`] came from different streams; both are
/// given back.
#[derive(Debug)]
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

pub(crate) fn split_owned(stream: TcpStream) -> (OwnedReadHalf, OwnedWriteHalf) {
    let inner = Arc::new(stream);
    let read = OwnedReadHalf {
        inner: inner.clone(),
    };
    let write = OwnedWriteHalf {
        inner,
        shutdown_on_drop: true,
    };
    (read, write)
}

fn reunite(read: OwnedReadHalf, mut write: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
    if !Arc::ptr_eq(&read.inner, &write.inner) {
        return Err(ReuniteError(read, write));
    }
    write.shutdown_on_drop = false;
    drop(write);
    match Arc::try_unwrap(read.inner) {
        Ok(stream) => Ok(stream),
        Err(_) => unreachable!("the two halves hold the only references to the stream"),
    }
}

impl OwnedReadHalf {
    /// Puts the stream back together.
    ///
    /// # Errors
    /// [`ReuniteError`] if `other` comes from a different stream.
    pub fn reunite(self, other: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
        reunite(self, other)
    }

    /// Reads into `buf`; see [`TcpStream::read`].
    ///
    /// # Errors
    /// The socket's error.
    #[track_caller]
    pub fn read<'a>(
        &'a mut self,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + 'a {
        self.inner.read_at(buf, Location::caller())
    }

    /// Reads exactly `buf.len()` bytes; see [`TcpStream::read_exact`].
    ///
    /// # Errors
    /// `UnexpectedEof` if the peer closes first, or the socket's error.
    #[track_caller]
    pub fn read_exact<'a>(
        &'a mut self,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + 'a {
        self.inner.read_exact_at(buf, Location::caller())
    }

    /// Reads without consuming; see [`TcpStream::peek`].
    ///
    /// # Errors
    /// The socket's error.
    #[track_caller]
    pub fn peek<'a>(
        &'a mut self,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + 'a {
        self.inner.peek_at(buf, Location::caller())
    }

    /// Polls a read; see [`TcpStream::poll_read`].
    ///
    /// # Errors
    /// The socket's error.
    #[track_caller]
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.inner.poll_read_at(cx, buf, Location::caller())
    }

    /// The remote address.
    ///
    /// # Errors
    /// `NotConnected` once the connection is gone.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// The local address.
    ///
    /// # Errors
    /// If the OS cannot tell.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl OwnedWriteHalf {
    /// Puts the stream back together.
    ///
    /// # Errors
    /// [`ReuniteError`] if `other` comes from a different stream.
    pub fn reunite(self, other: OwnedReadHalf) -> Result<TcpStream, ReuniteError> {
        reunite(other, self)
    }

    /// Drops the half without shutting down the write direction.
    pub fn forget(mut self) {
        self.shutdown_on_drop = false;
    }

    /// Writes some of `buf`; see [`TcpStream::write`].
    ///
    /// # Errors
    /// The socket's error.
    #[track_caller]
    pub fn write<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<usize>> + 'a {
        self.inner.write_at(buf, Location::caller())
    }

    /// Writes all of `buf`; see [`TcpStream::write_all`].
    ///
    /// # Errors
    /// The socket's error, or `WriteZero`.
    #[track_caller]
    pub fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<()>> + 'a {
        self.inner.write_all_at(buf, Location::caller())
    }

    /// Does nothing: writes go straight to the socket.
    ///
    /// # Errors
    /// Never.
    pub fn flush(&mut self) -> impl Future<Output = io::Result<()>> + '_ {
        std::future::ready(Ok(()))
    }

    /// Shuts down the write direction now, so that the peer reads end of stream.
    ///
    /// # Errors
    /// If the socket is not connected.
    pub fn shutdown(&mut self) -> impl Future<Output = io::Result<()>> + '_ {
        poll_fn(move |_| Poll::Ready(self.shutdown_now()))
    }

    /// Shuts down the write direction; dropping the half then does nothing more.
    pub(crate) fn shutdown_now(&mut self) -> io::Result<()> {
        let result = self.inner.shutdown_std(Shutdown::Write);
        if result.is_ok() {
            self.shutdown_on_drop = false;
        }
        result
    }

    /// Polls a write; see [`TcpStream::poll_write`].
    ///
    /// # Errors
    /// The socket's error.
    #[track_caller]
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.inner.poll_write_at(cx, buf, Location::caller())
    }

    /// The remote address.
    ///
    /// # Errors
    /// `NotConnected` once the connection is gone.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// The local address.
    ///
    /// # Errors
    /// If the OS cannot tell.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // The peer may already be gone; there is nobody to tell.
            let _ = self.inner.shutdown_std(Shutdown::Write);
        }
    }
}

impl AsRef<TcpStream> for OwnedReadHalf {
    fn as_ref(&self) -> &TcpStream {
        &self.inner
    }
}

impl AsRef<TcpStream> for OwnedWriteHalf {
    fn as_ref(&self) -> &TcpStream {
        &self.inner
    }
}

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same socket")
    }
}

impl Error for ReuniteError {}
