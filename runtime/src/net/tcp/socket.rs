//! The seam between sockets and the I/O trait adapters of `runtime::compat`: which streams
//! and halves can be read or written, so that each adapter is written once for all of them.

use super::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, TcpStream, WriteHalf};
use std::io;

mod sealed {
    pub trait Sealed {}
}

/// A Parkade TCP stream or one of its halves. Sealed: implemented by the types of
/// [`runtime::net::tcp`](crate::net::tcp) only.
pub trait Socket: sealed::Sealed + Unpin {
    /// The stream the half reads or writes.
    #[doc(hidden)]
    fn tcp(&self) -> &TcpStream;
}

/// A stream that can be read: [`TcpStream`], [`ReadHalf`] or [`OwnedReadHalf`].
pub trait ReadSocket: Socket {}

/// A stream that can be written: [`TcpStream`], [`WriteHalf`] or [`OwnedWriteHalf`].
pub trait WriteSocket: Socket {
    /// Shuts down the write direction now (the adapters' `poll_shutdown`/`poll_close`).
    #[doc(hidden)]
    fn shutdown_write(&mut self) -> io::Result<()>;
}

impl sealed::Sealed for TcpStream {}
impl Socket for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}
impl ReadSocket for TcpStream {}
impl WriteSocket for TcpStream {
    fn shutdown_write(&mut self) -> io::Result<()> {
        self.shutdown_std(std::net::Shutdown::Write)
    }
}

impl sealed::Sealed for ReadHalf<'_> {}
impl Socket for ReadHalf<'_> {
    fn tcp(&self) -> &TcpStream {
        self.as_ref()
    }
}
impl ReadSocket for ReadHalf<'_> {}

impl sealed::Sealed for WriteHalf<'_> {}
impl Socket for WriteHalf<'_> {
    fn tcp(&self) -> &TcpStream {
        self.as_ref()
    }
}
impl WriteSocket for WriteHalf<'_> {
    fn shutdown_write(&mut self) -> io::Result<()> {
        self.as_ref().shutdown_std(std::net::Shutdown::Write)
    }
}

impl sealed::Sealed for OwnedReadHalf {}
impl Socket for OwnedReadHalf {
    fn tcp(&self) -> &TcpStream {
        self.as_ref()
    }
}
impl ReadSocket for OwnedReadHalf {}

impl sealed::Sealed for OwnedWriteHalf {}
impl Socket for OwnedWriteHalf {
    fn tcp(&self) -> &TcpStream {
        self.as_ref()
    }
}
impl WriteSocket for OwnedWriteHalf {
    fn shutdown_write(&mut self) -> io::Result<()> {
        self.shutdown_now()
    }
}
