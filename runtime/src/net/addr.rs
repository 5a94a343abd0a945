//! Resolving `ToSocketAddrs` arguments the way tokio does: every address is tried in turn and
//! the last error is reported.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// Runs `attempt` on each address `addr` resolves to, returning the first success or the
/// last error.
///
/// Host names are resolved with the system resolver on the calling thread (std's
/// `ToSocketAddrs`); literal addresses are parsed without a lookup.
pub(crate) fn try_each<A, T>(
    addr: A,
    mut attempt: impl FnMut(SocketAddr) -> io::Result<T>,
) -> io::Result<T>
where
    A: ToSocketAddrs,
{
    let mut last_error = None;
    for addr in addr.to_socket_addrs()? {
        match attempt(addr) {
            Ok(value) => return Ok(value),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.unwrap_or_else(no_addresses))
}

/// Every address `addr` resolves to, for callers that must await between attempts.
pub(crate) fn resolve<A: ToSocketAddrs>(addr: A) -> io::Result<Vec<SocketAddr>> {
    Ok(addr.to_socket_addrs()?.collect())
}

/// The first address `addr` resolves to (the destination of a datagram).
pub(crate) fn first<A: ToSocketAddrs>(addr: A) -> io::Result<SocketAddr> {
    addr.to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no addresses to send data to"))
}

/// The error for an address that resolved to nothing.
pub(crate) fn no_addresses() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "could not resolve to any address",
    )
}
