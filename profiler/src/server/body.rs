//! [`Body`]: a response body of [`DebugService`](super::DebugService), known in full or
//! streamed from a writer on a render thread of its own.
//!
//! A streamed body (the `debug=2` dumps) is produced by a closure that renders into a
//! [`ChunkWriter`] on its own thread ([`spawn_render`], at nice +10): every [`CHUNK`] bytes it
//! hands one `Bytes` to a bounded channel, blocking while [`CHUNKS_IN_FLIGHT`] wait there,
//! and `Body::poll_frame` receives them. So a dump of a million tasks is never in memory
//! whole: at most the chunk being filled, the chunks in flight and the one the HTTP server
//! is writing. When the body is dropped (the client went away) the channel closes, the
//! writer's next send fails with `BrokenPipe`, the closure returns and its thread ends.

use super::thread::{spawn_render, Panicked, Rendering};
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use runtime::chan::{self, Receiver, Sender};
use runtime::Handle;
use std::fmt;
use std::future::Future;
use std::io::{self, Write};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// The size of a streamed body's chunks (the last one may be shorter).
const CHUNK: usize = 64 * 1024;
/// Chunks a writer may have waiting in the channel before its sends block.
const CHUNKS_IN_FLIGHT: usize = 2;
/// The name of the threads that write streamed bodies.
const STREAM_THREAD: &str = "parkade-stream";

/// The body of a [`DebugService`](super::DebugService) response: an
/// [`http_body::Body`] of [`Bytes`] that hyper and axum send as is.
///
/// A body known in full (every response but the `debug=2` dumps) reports its exact length
/// in [`size_hint`](http_body::Body::size_hint), so it is sent with `Content-Length`. A
/// streamed body has no length: it is rendered while it is sent, in 64 KiB frames, on a
/// thread of its own at nice +10 (Linux), and rendering stops early when the body is dropped.
/// An error frame means the dump could not be finished; the HTTP server then aborts the
/// response, so the client never mistakes a truncated dump for a whole one.
///
/// A streamed body's writer waits for the body to take its next chunk or to be dropped: a
/// body that is kept but never read keeps its thread, and a `goroutine?debug=2` body also its
/// render slot ([`DebugService::max_renders`](super::DebugService::max_renders)). The
/// writer's thread is not the runtime's: the runtime's shutdown neither waits for it nor
/// stops it, and a body may still be read, whole, after its runtime is dropped.
pub struct Body {
    kind: Kind,
}

enum Kind {
    /// The whole body, taken by the first poll; `None` once taken or when empty.
    Full(Option<Bytes>),
    Stream(Stream),
}

/// The receiving side of a streamed body.
struct Stream {
    /// Shared with the receive in progress, which borrows it.
    chunks: Arc<Receiver<Bytes>>,
    phase: Phase,
    /// The writer's outcome: read once the channel is drained and closed, so that a body
    /// whose writer failed (or panicked) ends with an error, not as if it were whole.
    writer: Rendering<io::Result<()>>,
}

/// A pending `Receiver::recv`. Boxed: it borrows the receiver behind `Stream::chunks`.
type NextChunk = Pin<Box<dyn Future<Output = Option<Bytes>> + Send + Sync>>;

enum Phase {
    /// Receiving chunks; the receive in progress, if one is.
    Receiving(Option<NextChunk>),
    /// Every chunk received: waiting for the writer's outcome.
    Finishing,
    /// The last frame (or the error) was returned.
    Done,
}

impl Body {
    /// A body known in full.
    pub(super) fn full(bytes: Vec<u8>) -> Body {
        Body {
            kind: Kind::Full((!bytes.is_empty()).then(|| Bytes::from(bytes))),
        }
    }

    /// A body with no content (the body of a `HEAD` response).
    pub(super) fn empty() -> Body {
        Body {
            kind: Kind::Full(None),
        }
    }

    /// A body that `write` renders on a thread of its own while it is received; `handle`
    /// drives the writer's sends.
    ///
    /// # Errors
    /// When no thread can be started for the writer; `write` is then dropped unrun.
    pub(super) fn stream<W>(handle: &Handle, write: W) -> io::Result<Body>
    where
        W: FnOnce(&mut dyn Write) -> io::Result<()> + Send + 'static,
    {
        let (tx, rx) = chan::channel(CHUNKS_IN_FLIGHT);
        let mut out = ChunkWriter {
            chunk: Vec::with_capacity(CHUNK),
            chunks: tx,
            handle: handle.clone(),
        };
        // The closure owns the sender: when it returns (or unwinds) the channel closes, and
        // the body turns to the writer's outcome.
        let writer = spawn_render(STREAM_THREAD, move || {
            write(&mut out)?;
            out.flush()
        })?;
        Ok(Body {
            kind: Kind::Stream(Stream {
                chunks: Arc::new(rx),
                phase: Phase::Receiving(None),
                writer,
            }),
        })
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match &mut self.get_mut().kind {
            Kind::Full(bytes) => Poll::Ready(bytes.take().map(|bytes| Ok(Frame::data(bytes)))),
            Kind::Stream(stream) => stream.poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(bytes) => bytes.is_none(),
            Kind::Stream(stream) => matches!(stream.phase, Phase::Done),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Stream(_) => SizeHint::default(),
        }
    }
}

impl Stream {
    fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if let Phase::Receiving(next) = &mut self.phase {
            let next = next.get_or_insert_with(|| {
                let chunks = self.chunks.clone();
                Box::pin(async move { chunks.recv().await })
            });
            match ready!(next.as_mut().poll(cx)) {
                Some(chunk) => {
                    self.phase = Phase::Receiving(None);
                    return Poll::Ready(Some(Ok(Frame::data(chunk))));
                }
                None => self.phase = Phase::Finishing,
            }
        }
        if let Phase::Done = self.phase {
            return Poll::Ready(None);
        }
        let outcome = ready!(Pin::new(&mut self.writer).poll(cx));
        self.phase = Phase::Done;
        match outcome {
            Ok(Ok(())) => Poll::Ready(None),
            Ok(Err(err)) => Poll::Ready(Some(Err(err))),
            Err(err) => Poll::Ready(Some(Err(writer_failed(&err)))),
        }
    }
}

/// The error frame of a writer that panicked.
fn writer_failed(panicked: &Panicked) -> io::Error {
    io::Error::other(format!(
        "the profile dump was cut short: its writer {panicked}"
    ))
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Full(bytes) => f
                .debug_struct("Body")
                .field("len", &bytes.as_ref().map_or(0, Bytes::len))
                .finish(),
            Kind::Stream(stream) => f
                .debug_struct("Body")
                .field("streamed", &true)
                .field("done", &matches!(stream.phase, Phase::Done))
                .finish(),
        }
    }
}

/// The writer side of a streamed body, on its render thread: fills a chunk, then sends it,
/// blocking while the channel is full.
struct ChunkWriter {
    /// Never holds `CHUNK` bytes or more between calls: a full chunk is sent at once.
    chunk: Vec<u8>,
    chunks: Sender<Bytes>,
    /// Drives the blocking sends. A render thread is not a worker, so `Handle::block_on` is
    /// allowed there.
    handle: Handle,
}

impl ChunkWriter {
    /// Sends the bytes gathered so far, if any.
    fn send_chunk(&mut self) -> io::Result<()> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK));
        self.handle
            .block_on(self.chunks.send(Bytes::from(chunk)))
            .map_err(|_| {
                io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the response body was dropped (the client went away)",
                )
            })
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let n = bytes.len().min(CHUNK - self.chunk.len());
        self.chunk.extend_from_slice(&bytes[..n]);
        if self.chunk.len() == CHUNK {
            self.send_chunk()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_chunk()
    }
}

/// `Body` goes wherever hyper and axum take it: across threads, into `BoxBody` (`Sync`).
fn _assert_send_sync() {
    fn check<T: Send + Sync + 'static>() {}
    check::<Body>();
}
