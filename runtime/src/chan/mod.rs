//! Channels with Go's semantics that say why they park: `chan send` and `chan receive`, at
//! the user's call site.
//!
//! - [`channel(0)`](channel): unbuffered, Go's `make(chan T)`: a send completes only when a
//!   receiver takes the value.
//! - [`channel(n)`](channel): a buffer of `n`; sends park while it is full.
//! - [`unbounded()`](unbounded): sends never park.
//! - [`oneshot()`](oneshot()): one value, the reply half of a request.
//!
//! Both ends of `channel`/`unbounded` are `Clone` (many producers, many consumers). Closing is
//! by dropping: `recv` returns `None` once every `Sender` is gone and the buffer is drained, and
//! `send` returns `Err(SendError(value))` once every `Receiver` is gone; parked senders and
//! receivers are woken by the close. The last `Receiver` drops the values still buffered, so
//! that what they own (a reply sender a task awaits) is released then, not with the channel.
//!
//! # Cancel safety
//!
//! | operation | dropped while parked |
//! |---|---|
//! | `Receiver::recv` | cancel-safe: no value is lost; a wake it received passes to the next receiver |
//! | `Sender::send` | the value was not delivered and is dropped with the future |
//! | `oneshot::Receiver` (await) | cancel-safe until dropped: the value stays for a later poll |
//! | `try_send`, `try_recv`, `oneshot::Sender::send` | never park |
//!
//! So `recv` may be used in a `select!` loop freely; a `send` in a `select!` that another
//! branch wins did not happen, as in Go.

//!
//! # Layout
//!
//! `core` is what every channel shares (the ends' counts, parked receivers, the close);
//! `buffered` and `unbounded` are the two algorithms for keeping values; `endpoints` is the
//! public API over them.

mod buffered;
mod core;
mod endpoints;
mod error;
pub mod oneshot;
mod unbounded;

pub use endpoints::{channel, unbounded, Receiver, Recv, SendFuture, Sender};
pub use error::{RecvError, SendError, TryRecvError, TrySendError};
pub use oneshot::oneshot;

#[cfg(all(test, loom))]
mod loom_tests;

#[cfg(all(test, not(loom)))]
mod tests;
