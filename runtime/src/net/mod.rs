//! TCP and UDP sockets driven by the runtime's reactor.
//!
//! The API follows tokio's, as inherent async methods: `TcpListener::bind(addr).await?`,
//! `listener.accept().await?`, `TcpStream::connect(addr).await?`,
//! `stream.read(&mut buf).await?`, `stream.write_all(&buf).await?`. Addresses are anything
//! `std::net::ToSocketAddrs` takes.
//!
//! A task waiting on a socket is parked with reason `IO wait` and the detail `read`, `write`
//! or `accept`, at the line of the call that waits, so a profile shows which `read` a stuck
//! connection handler is sitting in.
//!
//! # Examples
//!
//! An echo server and a client:
//!
//! ```
//! use runtime::net::{TcpListener, TcpStream};
//!
//! # runtime::Runtime::new().unwrap().block_on(async {
//! let listener = TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//!
//! runtime::spawn(async move {
//!     loop {
//!         let Ok((mut socket, _peer)) = listener.accept().await else { continue };
//!         runtime::spawn(async move {
//!             let mut buf = [0; 1024];
//!             // Echo until the client closes its write half.
//!             while let Ok(n @ 1..) = socket.read(&mut buf).await {
//!                 if socket.write_all(&buf[..n]).await.is_err() {
//!                     break;
//!                 }
//!             }
//!         });
//!     }
//! });
//!
//! let mut client = TcpStream::connect(addr).await?;
//! client.write_all(b"hello").await?;
//! let mut reply = [0; 5];
//! client.read_exact(&mut reply).await?;
//! assert_eq!(&reply, b"hello");
//! # Ok::<(), std::io::Error>(())
//! # }).unwrap();
//! ```

mod addr;
pub mod tcp;
mod udp;

pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;
