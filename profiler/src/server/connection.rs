//! One connection: read a request head within the deadline, answer it; again while the
//! client keeps the connection alive and the answer has a length; then close gracefully.

use super::http::{answer, Body, Request, Response, Status, MAX_HEAD};
use super::listener::Config;
use super::renders::Profiles;
use super::routes;
use std::io::{self, BufWriter, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a closed connection keeps reading what the client still sends, so that closing
/// with unread bytes does not reset the connection before the client has read the answer.
const LINGER: Duration = Duration::from_millis(500);
/// How much a lingering close reads before giving up on the client.
const LINGER_MAX_BYTES: usize = 256 * 1024;
/// How long a connection over the limit may take to send its request before its `503`.
const REJECT_READ_TIMEOUT: Duration = Duration::from_millis(200);

/// What a connection thread does with its client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Answer the request.
    Serve,
    /// Answer `503`: the server is at its connection limit.
    Reject,
}

/// Serves the requests of `stream` until the client or a response ends it (or `stop` is set
/// between two requests), then closes it. Never panics on client input.
pub(super) fn serve(
    mut stream: TcpStream,
    profiles: &Arc<Profiles>,
    config: &Config,
    mode: Mode,
    stop: &AtomicBool,
) {
    // A listener's non-blocking flag is inherited on some platforms; ours is blocking, but
    // make sure, since every read and write below relies on timeouts.
    if stream.set_nonblocking(false).is_err()
        || stream
            .set_write_timeout(Some(config.write_timeout))
            .is_err()
    {
        return;
    }
    let _ = stream.set_nodelay(true);
    // Each head must arrive within this of the accept or of the previous answer: an idle
    // kept-alive connection gives its slot back as soon as a slow one would.
    let read_timeout = match mode {
        Mode::Serve => config.read_timeout,
        Mode::Reject => config.read_timeout.min(REJECT_READ_TIMEOUT),
    };
    // What the client sent past the last head (a pipelined request).
    let mut buf = Vec::with_capacity(1024);
    loop {
        let (response, head_only, keep_alive) =
            match read_request(&mut stream, &mut buf, read_timeout) {
                // A request on a connection kept from before the server stopped: closed
                // unanswered, as a client of a kept-alive connection expects one to be.
                Ok(_) if stop.load(Ordering::Acquire) => {
                    linger_close(&mut stream);
                    return;
                }
                Ok(request) => match mode {
                    Mode::Serve => {
                        let head_only = request.method == "HEAD";
                        let response = answer(|| routes::route(&request, profiles));
                        // A streamed body is delimited by the close; an error closes too
                        // (a client that got one may be confused, and a `503` sheds load).
                        let keep_alive = request.keep_alive
                            && response.content_length().is_some()
                            && response.status.0 < 400;
                        (response, head_only, keep_alive)
                    }
                    Mode::Reject => (unavailable(), false, false),
                },
                Err(ReadError::Respond(response)) => (response, false, false),
                Err(ReadError::Gone) if mode == Mode::Reject => (unavailable(), false, false),
                Err(ReadError::Gone) => return,
            };
        if write_response(&mut stream, response, head_only, keep_alive).is_err() {
            return;
        }
        if !keep_alive {
            linger_close(&mut stream);
            return;
        }
    }
}

fn unavailable() -> Response {
    Response::text(
        Status::SERVICE_UNAVAILABLE,
        "503 service unavailable: too many connections to the debug endpoint, retry later\n",
    )
}

/// Why no request came out of a connection.
enum ReadError {
    /// The client went away, stalled past the deadline, or the socket failed: nothing to
    /// answer.
    Gone,
    /// The request is unacceptable; this says why.
    Respond(Response),
}

/// Reads and parses one request head, which must arrive within `timeout` and fit in
/// `MAX_HEAD` bytes. `buf` holds what was read past the previous head and keeps what is
/// read past this one; a request's body is never read (such a request closes the
/// connection).
fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    timeout: Duration,
) -> Result<Request, ReadError> {
    let deadline = Instant::now() + timeout;
    let mut chunk = [0u8; 4096];
    loop {
        // Empty lines before a request line are ignored (RFC 9112, 2.2): some clients end a
        // request with an extra CRLF, which would otherwise be taken for a next request.
        let blank = buf
            .iter()
            .take_while(|&&byte| byte == b'\r' || byte == b'\n')
            .count();
        buf.drain(..blank);
        if !buf.is_empty() {
            match Request::parse(buf) {
                Ok(Some(request)) => {
                    buf.drain(..request.head_len);
                    return Ok(request);
                }
                Ok(None) if buf.len() > MAX_HEAD => {
                    return Err(ReadError::Respond(Response::text(
                        Status::HEADERS_TOO_LARGE,
                        "431 request header fields too large: the request head exceeds 8 KiB\n",
                    )))
                }
                Ok(None) => {}
                Err(response) => return Err(ReadError::Respond(response)),
            }
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() || stream.set_read_timeout(Some(remaining)).is_err() {
            return Err(ReadError::Gone);
        }
        // Read at most one byte past the limit: enough to know it was exceeded.
        let want = (MAX_HEAD + 1 - buf.len()).min(chunk.len());
        let n = match stream.read(&mut chunk[..want]) {
            Ok(0) if buf.is_empty() => return Err(ReadError::Gone),
            Ok(0) => {
                return Err(ReadError::Respond(Response::text(
                    Status::BAD_REQUEST,
                    "400 bad request: the connection ended inside the request head\n",
                )))
            }
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return Err(ReadError::Gone),
        };
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Writes `response`; its body too unless the request was `HEAD`.
fn write_response(
    stream: &mut TcpStream,
    response: Response,
    head_only: bool,
    keep_alive: bool,
) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(16 * 1024, &mut *stream);
    out.write_all(&response.head(keep_alive))?;
    if !head_only {
        match response.body {
            Body::Full(bytes) => out.write_all(&bytes)?,
            Body::Stream(write) => {
                // The head is out, so a panic can only cut the body short: the client sees
                // the connection close early instead of a 500.
                match panic::catch_unwind(AssertUnwindSafe(|| write(&mut out))) {
                    Ok(result) => result?,
                    Err(_) => return Err(io::Error::other("streamed body panicked")),
                }
            }
        }
    }
    out.flush()
}

/// Closes our side, then reads (and discards) what the client still sends until it closes
/// too, briefly: closing a socket with unread input makes the OS send a reset, which can
/// destroy the response before the client reads it (Go's `closeWriteAndWait`).
fn linger_close(stream: &mut TcpStream) {
    if stream.shutdown(Shutdown::Write).is_err() {
        return;
    }
    let deadline = Instant::now() + LINGER;
    let mut drained = 0;
    let mut chunk = [0u8; 4096];
    while drained < LINGER_MAX_BYTES {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() || stream.set_read_timeout(Some(remaining)).is_err() {
            return;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => drained += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}
