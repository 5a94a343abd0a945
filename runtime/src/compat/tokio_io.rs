//! `tokio::io::{AsyncRead, AsyncWrite}` for `TcpStream` and its four halves.

use crate::net::tcp::{
    OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReadSocket, Socket, WriteHalf, WriteSocket,
};
use crate::net::TcpStream;
use std::io::{self, IoSlice};
use std::panic::Location;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Reads into the unfilled part of `buf` without zeroing it first.
#[track_caller]
fn poll_read(
    socket: &impl ReadSocket,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    let site = Location::caller();
    // SAFETY: the unfilled part is only handed to read(2), which writes and never
    // de-initialises bytes.
    let unfilled = unsafe { buf.unfilled_mut() };
    let n = ready!(socket.tcp().poll_read_uninit_at(cx, unfilled, site))?;
    // SAFETY: read(2) returned `n`, so it initialised the first `n` bytes of `unfilled`.
    unsafe { buf.assume_init(n) };
    buf.advance(n);
    Poll::Ready(Ok(()))
}

macro_rules! async_read {
    ($($socket:ty),*) => {$(
        impl AsyncRead for $socket {
            /// Parks as `IO wait` (read) at the line that polls.
            #[track_caller]
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                poll_read(self.get_mut(), cx, buf)
            }
        }
    )*};
}

macro_rules! async_write {
    ($($socket:ty),*) => {$(
        impl AsyncWrite for $socket {
            /// Parks as `IO wait` (write) at the line that polls.
            #[track_caller]
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.get_mut().tcp().poll_write_at(cx, buf, Location::caller())
            }

            #[track_caller]
            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                self.get_mut().tcp().poll_write_vectored_at(cx, bufs, Location::caller())
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
                Poll::Ready(self.get_mut().shutdown_write())
            }
        }
    )*};
}

async_read!(TcpStream, ReadHalf<'_>, OwnedReadHalf);
async_write!(TcpStream, WriteHalf<'_>, OwnedWriteHalf);
