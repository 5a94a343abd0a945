//! `futures_io::{AsyncRead, AsyncWrite}` for `TcpStream` and its four halves.

use crate::net::tcp::{OwnedReadHalf, ReadHalf, Socket};
use crate::net::TcpStream;
use futures_io::AsyncRead;
use std::io;
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

async_read!(TcpStream, ReadHalf<'_>, OwnedReadHalf);
async_write!(futures_io::AsyncWrite, poll_close, {});
