//! TCP: [`TcpListener`], [`TcpStream`] and the halves a stream splits into.

mod listener;
mod socket;
mod split;
mod split_owned;
mod stream;

pub use listener::TcpListener;
pub use socket::{ReadSocket, Socket, WriteSocket};
pub use split::{ReadHalf, WriteHalf};
pub use split_owned::{OwnedReadHalf, OwnedWriteHalf, ReuniteError};
pub use stream::TcpStream;
