//! `tokio::io::{AsyncRead, AsyncWrite}` for `TcpStream` and its four halves.

use crate::net::tcp::{OwnedReadHalf, ReadHalf, ReadSocket};
use crate::net::TcpStream;
use std::io;
use std::panic::Location;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

/// Reads into the unfilled part of `buf` without zeroing it first.
#[track_caller]
fn poll_read(
    socket: &impl ReadSocket,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    let site = Location::caller();
    // SAFETY: the unfilled part is only handed to recv(2), which writes and never
    // de-initialises bytes.
    let unfilled = unsafe { buf.unfilled_mut() };
    let n = ready!(socket.tcp().poll_read_uninit_at(cx, unfilled, site))?;
    // SAFETY: recv(2) returned `n`, so it initialised the first `n` bytes of `unfilled`.
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

async_read!(TcpStream, ReadHalf<'_>, OwnedReadHalf);
async_write!(tokio::io::AsyncWrite, poll_shutdown, {
    fn is_write_vectored(&self) -> bool {
        true
    }
});
