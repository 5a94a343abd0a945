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

#[cfg(feature = "futures-io")]
mod futures_io;
#[cfg(feature = "hyper")]
pub mod hyper;
#[cfg(feature = "tokio-io")]
mod tokio_io;
