//! The article's leaky HTTP service (§3.1) and its fixes (§3.4), on Parkade.
//!
//! ```sh
//! cargo run --release --example leak_server            # app on :8080, debug endpoint on :6060
//! curl http://127.0.0.1:8080/leak/channel              # leaks one task, forever
//! curl http://127.0.0.1:8080/status                    # the live task count grows
//! curl 'http://127.0.0.1:6060/debug/pprof/goroutine?debug=1'
//! go tool pprof -top http://127.0.0.1:6060/debug/pprof/goroutine
//! ```
//!
//! Routes (each leaks exactly what the article's Go handler leaks, the same way):
//! - `/leak/channel`: a task sends on an unbuffered channel nobody receives from.
//! - `/leak/context`: a task waits on a context nobody cancels, or a 10-hour timer.
//! - `/leak/loop`: a task sleeps in a loop with no way out.
//! - `/leak/mixed`: a send nobody receives and an endless loop (its context waiter exits
//!   when the handler cancels, as in Go).
//! - `/fixed/channel`, `/fixed/context`, `/fixed/loop`: the article's fixes — a non-blocking
//!   send with `default`, a request-scoped context with a timeout that the handler cancels, a
//!   loop that watches `done()`.
//! - `/status`: the live task count. `/stuck?ms=N`: blocks a worker (see `handle_stuck`).

use runtime::chan::{self, Receiver, Sender};
use runtime::context::Context;
use runtime::net::{TcpListener, TcpStream};
use std::io;
use std::sync::OnceLock;
use std::time::Duration;

/// The Go program's package-level unbuffered channels, `leakyChan1` and `leakyChan2`: nobody
/// ever receives from them (the receivers are kept, so a send parks instead of failing).
struct LeakyChannels {
    chan1: (Sender<()>, Receiver<()>),
    chan2: (Sender<String>, Receiver<String>),
}

fn leaky() -> &'static LeakyChannels {
    static CHANNELS: OnceLock<LeakyChannels> = OnceLock::new();
    CHANNELS.get_or_init(|| LeakyChannels {
        chan1: chan::channel(0),
        chan2: chan::channel(0),
    })
}

/// `/leak/channel`: a send nobody will ever receive.
pub(crate) fn handle_channel_leak() -> &'static str {
    runtime::spawn(async {
        let _ = leaky().chan1.0.send(()).await; // parks forever
    });
    "Triggered a channel leak. Task count will increase.\n"
}

/// `/leak/context`: a context nobody cancels, raced against a 10-hour timer.
pub(crate) fn handle_context_leak() -> &'static str {
    let ctx = Context::background();
    runtime::spawn(async move {
        runtime::select! {
            _ = ctx.done() => {}
            _ = runtime::time::sleep(Duration::from_secs(10 * 3600)) => {}
        }
    });
    "Triggered a context leak. Task count will increase.\n"
}

/// `/leak/loop`: a loop with no exit.
pub(crate) fn handle_loop_leak() -> &'static str {
    runtime::spawn(async {
        loop {
            runtime::time::sleep(Duration::from_millis(10)).await;
        }
    });
    "Triggered a loop leak. Task count will increase.\n"
}

/// `/leak/mixed`: two leaks and one waiter that the handler's cancel releases.
pub(crate) fn handle_mixed_leak() -> &'static str {
    runtime::spawn(async {
        let _ = leaky().chan2.0.send("data".to_string()).await; // parks forever
    });

    let (ctx, cancel) = Context::background().with_timeout(Duration::from_secs(60));
    let _cancel = cancel.cancel_on_drop(); // Go's `defer cancel()`
    runtime::spawn(async move {
        runtime::select! {
            _ = ctx.done() => {}
            _ = runtime::time::sleep(Duration::from_secs(120)) => {}
        }
    });

    runtime::spawn(async {
        loop {
            runtime::time::sleep(Duration::from_millis(20)).await;
        }
    });
    "Triggered a mixed leak. Task count will increase.\n"
}

/// `/fixed/channel`: send only if a receiver is waiting right now.
pub(crate) fn handle_channel_fixed() -> &'static str {
    runtime::spawn(async {
        runtime::select! {
            _ = leaky().chan1.0.send(()) => {}
            default => {} // nobody waiting: don't block
        }
    });
    "Triggered a fixed channel operation. Task count should not increase.\n"
}

/// `/fixed/context`: a request-scoped context with a 5 s timeout, cancelled when the
/// handler returns.
pub(crate) fn handle_context_fixed(request: &Context) -> &'static str {
    let (ctx, cancel) = request.with_timeout(Duration::from_secs(5));
    let _cancel = cancel.cancel_on_drop();
    runtime::spawn(async move {
        runtime::select! {
            _ = ctx.done() => {}
            _ = runtime::time::sleep(Duration::from_secs(60)) => {}
        }
    });
    "Triggered a fixed context operation. Task count should not increase.\n"
}

/// `/fixed/loop`: the loop watches the request context and returns once it is cancelled.
pub(crate) fn handle_loop_fixed(request: &Context) -> &'static str {
    let (ctx, cancel) = request.with_cancel();
    let _cancel = cancel.cancel_on_drop();
    runtime::spawn(async move {
        loop {
            runtime::select! {
                _ = ctx.done() => return,
                default => runtime::time::sleep(Duration::from_millis(10)).await,
            }
        }
    });
    "Triggered a fixed loop operation. Task count should not increase.\n"
}

/// `/status`: the live task count (Go's `runtime.NumGoroutine()`).
pub(crate) fn handle_status() -> String {
    format!("Current tasks: {}\n", runtime::profile().len())
}

/// `/stuck?ms=N`: blocks this worker for N ms (a `std::thread::sleep` where an `.await`
/// belongs), so every task queued behind it on the worker waits too. Not a leak but its
/// cousin: the watchdog `main` starts reports it on stderr after 100 ms, and again when it
/// is released.
pub(crate) fn handle_stuck(ms: u64) -> String {
    std::thread::sleep(Duration::from_millis(ms));
    format!("Held a worker for {ms} ms. The watchdog reported it on stderr.\n")
}

/// The `ms` of a `/stuck?ms=N` query: default 2000, at most a minute; `None` if it is not
/// a number.
pub(crate) fn stuck_ms(query: Option<&str>) -> Option<u64> {
    let ms = query
        .into_iter()
        .flat_map(|query| query.split('&'))
        .find_map(|pair| pair.strip_prefix("ms="));
    match ms {
        None => Some(2000),
        Some(ms) => ms.parse::<u64>().ok().map(|ms| ms.min(60_000)),
    }
}

/// Accepts connections forever, one task each.
pub async fn serve_app(listener: TcpListener) -> io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        runtime::task::Builder::new()
            .name("conn")
            .spawn(handle_connection(stream));
    }
}

/// The largest request head we read.
const MAX_HEAD: usize = 8 * 1024;

async fn handle_connection(mut stream: TcpStream) {
    let (status, body) = match read_request(&mut stream).await {
        Ok(Some(path)) => route(&path),
        Ok(None) => (400, "Bad Request\n".to_string()),
        Err(_) => return,
    };
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Error",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Reads one request head. `Ok(None)` for anything that is not a well-formed GET.
async fn read_request(stream: &mut TcpStream) -> io::Result<Option<String>> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        head.extend_from_slice(&buf[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&head) {
            Ok(httparse::Status::Complete(_)) => {
                return Ok(match (request.method, request.path) {
                    (Some("GET"), Some(path)) => Some(path.to_string()),
                    (Some(_), Some(_)) => Some(String::from("\0method")),
                    _ => None,
                });
            }
            Ok(httparse::Status::Partial) if head.len() < MAX_HEAD => continue,
            _ => return Ok(None),
        }
    }
}

fn route(path: &str) -> (u16, String) {
    // The request's context: cancelled when the handler returns (Go's `r.Context()`).
    let (request, cancel) = Context::background().with_cancel();
    let _cancel = cancel.cancel_on_drop();
    let (path, query) = match path.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path, None),
    };
    let body = match path {
        "\0method" => return (405, "Method Not Allowed\n".to_string()),
        "/leak/channel" => handle_channel_leak().to_string(),
        "/leak/context" => handle_context_leak().to_string(),
        "/leak/loop" => handle_loop_leak().to_string(),
        "/leak/mixed" => handle_mixed_leak().to_string(),
        "/fixed/channel" => handle_channel_fixed().to_string(),
        "/fixed/context" => handle_context_fixed(&request).to_string(),
        "/fixed/loop" => handle_loop_fixed(&request).to_string(),
        "/status" => handle_status(),
        "/stuck" => match stuck_ms(query) {
            Some(ms) => handle_stuck(ms),
            None => {
                return (
                    400,
                    "ms must be a whole number of milliseconds\n".to_string(),
                )
            }
        },
        _ => return (404, "Not Found\n".to_string()),
    };
    (200, body)
}

pub(crate) fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_string())
}

#[allow(dead_code)] // axum_server.rs includes this file as a module
#[runtime::main]
async fn main() -> io::Result<()> {
    let addr = arg("--addr", "127.0.0.1:8080");
    let debug_addr = arg("--debug-addr", "127.0.0.1:6060");
    let debug = profiler::serve(&debug_addr)?;
    println!(
        "debug endpoint on http://{}/debug/pprof/",
        debug.local_addr()
    );
    // Reports, on stderr, any poll that holds its worker for 100 ms or more (`/stuck`).
    let _watchdog = profiler::Watchdog::start(Duration::from_millis(100));
    let listener = TcpListener::bind(&addr).await?;
    println!("application on http://{}", listener.local_addr()?);
    serve_app(listener).await
}
