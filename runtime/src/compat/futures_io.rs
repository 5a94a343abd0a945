//! `futures_io::{AsyncRead, AsyncWrite}` for `TcpStream` and its four halves.

use crate::net::tcp::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, Socket, WriteHalf, WriteSocket};
use crate::net::TcpStream;
use futures_io::{AsyncRead, AsyncWrite};
use std::io::{self, IoSlice};
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

macro_rules! async_read {
    ($($socket:ty),*) => {$(
        impl AsyncRead for $socket {
            /// Parks as `IO wait` (read) at the line that polls.
            #[track_caller]
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.get_mut().tcp().poll_read_at(cx, buf, Location::caller())
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

            /// Ready at once: writes go straight to the socket.
            fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            /// Shuts down the write direction, so that the peer reads end of stream.
            fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(self.get_mut().shutdown_write())
            }
        }
    )*};
}

async_read!(TcpStream, ReadHalf<'_>, OwnedReadHalf);
async_write!(TcpStream, WriteHalf<'_>, OwnedWriteHalf);
