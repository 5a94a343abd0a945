//! Other crates' I/O and runtime traits for Parkade's types, each behind a Cargo feature
//! (all off by default) that pulls in only the crate defining the traits:
//!
//! | feature | gives |
//! |---|---|
//! | `tokio-io` | `tokio::io::{AsyncRead, AsyncWrite}` for [`TcpStream`](crate::net::TcpStream) and its halves |
//! | `futures-io` | `futures_io::{AsyncRead, AsyncWrite}` for the same types |
//! | `hyper` | [`hyper`](mod@hyper)`::{Executor, Timer, Io}`: hyper 1.x's `rt` traits |
//!
//! With `tokio-io`, code written against tokio's traits (tokio-util codecs,
//! `tokio::io::BufReader`, TLS wrappers, hyper-util's `TokioIo`) runs on Parkade sockets
//! with no tokio runtime in the process: tokio is compiled with no features, for its traits.
//!
//! A task waiting in one of these adapters parks as `IO wait` like any Parkade read or write.
//! Through tokio's and futures' traits the park site is the line that polled the socket (in a
//! codec, that is a line of the codec's crate); hyper's [`Io`](hyper::Io) parks at the line
//! that wrapped the stream, which is where the application serves the connection.

/// `AsyncWrite` for [`TcpStream`](crate::net::TcpStream), [`WriteHalf`](crate::net::tcp::WriteHalf)
/// and [`OwnedWriteHalf`](crate::net::tcp::OwnedWriteHalf): tokio's and futures' traits have
/// the same methods but for the name of the one that shuts the writer down (`$close`) and
/// tokio's `is_write_vectored` (`$extra`). Writes park as `IO wait` (write) at the line that
/// polls; flushing has nothing to do (writes go straight to the socket); closing shuts down
/// the write direction, so that the peer reads end of stream.
#[cfg(any(feature = "tokio-io", feature = "futures-io"))]
macro_rules! async_write {
    ($trait:path, $close:ident, { $($extra:tt)* }) => {
        async_write!(@impl $trait, $close, { $($extra)* }, $crate::net::TcpStream);
        async_write!(@impl $trait, $close, { $($extra)* }, $crate::net::tcp::WriteHalf<'_>);
        async_write!(@impl $trait, $close, { $($extra)* }, $crate::net::tcp::OwnedWriteHalf);
    };
    (@impl $trait:path, $close:ident, { $($extra:tt)* }, $socket:ty) => {
        impl $trait for $socket {
            #[track_caller]
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let site = ::std::panic::Location::caller();
                $crate::net::tcp::Socket::tcp(self.get_mut()).poll_write_at(cx, buf, site)
            }

            #[track_caller]
            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let site = ::std::panic::Location::caller();
                let socket = $crate::net::tcp::Socket::tcp(self.get_mut());
                socket.poll_write_vectored_at(cx, bufs, site)
            }

            $($extra)*

            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                _: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(Ok(()))
            }

            fn $close(
                self: ::std::pin::Pin<&mut Self>,
                _: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                let socket = self.get_mut();
                ::std::task::Poll::Ready($crate::net::tcp::WriteSocket::shutdown_write(socket))
            }
        }
    };
}

#[cfg(feature = "futures-io")]
mod futures_io;
#[cfg(feature = "hyper")]
pub mod hyper;
#[cfg(feature = "tokio-io")]
mod tokio_io;
