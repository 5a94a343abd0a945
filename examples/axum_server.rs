//! The article's leaky service as an axum app on Parkade, with the profiles mounted on the
//! app's own router and graceful shutdown on Ctrl-C.
//!
//! ```sh
//! cargo run --release --example axum_server           # app on :8080, debug endpoint on :6060
//! curl http://127.0.0.1:8080/leak/channel             # leaks one task, forever
//! curl --http2-prior-knowledge http://127.0.0.1:8080/leak/channel   # same, over HTTP/2
//! curl 'http://127.0.0.1:8080/debug/pprof/goroutine?debug=1'        # the app's own router
//! curl 'http://127.0.0.1:6060/debug/pprof/goroutine?debug=1'        # the own-thread endpoint
//! go tool pprof -top http://127.0.0.1:8080/debug/pprof/goroutine
//! ```
//!
//! The handlers are `leak_server.rs`'s (the article's, §3.1 and §3.4), so their leaks show
//! at the same `examples/leak_server.rs` lines whichever server runs them. What is new here:
//!
//! - hyper-util's HTTP/1-and-2 server drives axum's `Router` through
//!   `runtime::compat::hyper`: no tokio runtime in the process;
//! - `profiler::DebugService` answers `/debug/pprof/*`, `/metrics` and `/debug/vars` as the
//!   router's fallback, beside `profiler::serve` on its own thread (which still answers when
//!   every worker is stuck);
//! - `/stuck?ms=N` blocks its worker, and the watchdog `run` starts reports it on stderr;
//! - Ctrl-C stops accepting, lets in-flight requests finish (`/slow?ms=N` holds one open),
//!   closes idle keep-alive connections, and exits 0.

mod leak_server;

use axum::extract::Query;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use runtime::compat::hyper::{Executor, Io, Timer};
use runtime::context::Context;
use runtime::net::TcpListener;
use runtime::sync::WaitGroup;
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::time::Duration;

/// How long in-flight requests get to finish after Ctrl-C before the process exits anyway.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// The application: the article's routes, then the profiles for every other path.
pub fn app() -> Router {
    Router::new()
        .route(
            "/leak/channel",
            get(|| async { leak_server::handle_channel_leak() }),
        )
        .route(
            "/leak/context",
            get(|| async { leak_server::handle_context_leak() }),
        )
        .route(
            "/leak/loop",
            get(|| async { leak_server::handle_loop_leak() }),
        )
        .route(
            "/leak/mixed",
            get(|| async { leak_server::handle_mixed_leak() }),
        )
        .route(
            "/fixed/channel",
            get(|| async { leak_server::handle_channel_fixed() }),
        )
        .route(
            "/fixed/context",
            get(|| async { with_request_context(leak_server::handle_context_fixed) }),
        )
        .route(
            "/fixed/loop",
            get(|| async { with_request_context(leak_server::handle_loop_fixed) }),
        )
        .route("/status", get(|| async { leak_server::handle_status() }))
        .route("/slow", get(slow))
        .route("/stuck", get(stuck))
        .fallback_service(profiler::DebugService::new())
}

/// Runs `handler` with a request context that is cancelled when it returns (Go's
/// `r.Context()`).
fn with_request_context(handler: fn(&Context) -> &'static str) -> &'static str {
    let (request, cancel) = Context::background().with_cancel();
    let _cancel = cancel.cancel_on_drop();
    handler(&request)
}

/// `/slow?ms=N`: answers after N milliseconds (default 1000): a request in flight.
async fn slow(Query(query): Query<HashMap<String, String>>) -> String {
    let ms = query
        .get("ms")
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(1000);
    runtime::time::sleep(Duration::from_millis(ms)).await;
    format!("slept {ms} ms\n")
}

/// `/stuck?ms=N`: blocks its worker for N ms (default 2000): what the watchdog reports.
async fn stuck(Query(query): Query<HashMap<String, String>>) -> (StatusCode, String) {
    let query = query.get("ms").map(|ms| format!("ms={ms}"));
    match leak_server::stuck_ms(query.as_deref()) {
        Some(ms) => (StatusCode::OK, leak_server::handle_stuck(ms)),
        None => (
            StatusCode::BAD_REQUEST,
            "ms must be a whole number of milliseconds\n".to_string(),
        ),
    }
}

/// Serves `app` on `listener` over HTTP/1 and HTTP/2 (h2c) until `shutdown` completes, then
/// lets the connections finish their requests (for at most `DRAIN_TIMEOUT`).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let (connections_done, stop_connections) = Context::background().with_cancel();
    let open = WaitGroup::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, _peer) = runtime::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors, a connection reset before accept: keep serving.
                Err(error) => {
                    eprintln!("accept: {error}");
                    continue;
                }
            },
            _ = shutdown.as_mut() => break,
        };
        let _ = stream.set_nodelay(true);
        let io = Io::new(stream);
        let service = TowerToHyperService::new(app.clone());
        let stop = connections_done.clone();
        let open = OpenConnection::new(&open);
        runtime::spawn(async move {
            let builder = connection_builder();
            let connection = builder.serve_connection_with_upgrades(io, service);
            let mut connection = std::pin::pin!(connection);
            let mut stopping = std::pin::pin!(stop.done());
            let mut stopped = false;
            // Not a `select!`: the connection is what the task waits on (an idle one shows
            // as `IO wait` at `Io::new`), the stop is only a flag to check. The stop is polled
            // first so that the connection's park is the one recorded.
            let _ = std::future::poll_fn(|cx| {
                if !stopped && stopping.as_mut().poll(cx).is_ready() {
                    // Finish the request in flight (if any), then close.
                    connection.as_mut().graceful_shutdown();
                    stopped = true;
                }
                connection.as_mut().poll(cx)
            })
            .await;
            drop(open);
        });
    }
    drop(listener);
    stop_connections.cancel();
    if runtime::time::timeout(DRAIN_TIMEOUT, open.wait())
        .await
        .is_err()
    {
        eprintln!("shutdown: connections still open after {DRAIN_TIMEOUT:?}; exiting anyway");
    }
    Ok(())
}

/// One connection counted in a `WaitGroup` until dropped, even by a panicking handler
/// (hyper then drops the connection, as it does on tokio).
struct OpenConnection(WaitGroup);

impl OpenConnection {
    fn new(open: &WaitGroup) -> OpenConnection {
        open.add(1);
        OpenConnection(open.clone())
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.done();
    }
}

/// hyper-util's server that speaks HTTP/1.1 or HTTP/2, whichever the client starts with.
fn connection_builder() -> auto::Builder<Executor> {
    let mut builder = auto::Builder::new(Executor::new());
    builder.http1().timer(Timer::new());
    builder.http2().timer(Timer::new());
    builder
}

/// The example's whole life: the own-thread debug endpoint, the app, Ctrl-C, the drain.
pub async fn run(addr: &str, debug_addr: &str) -> io::Result<()> {
    let debug = profiler::serve(debug_addr)?;
    // Reports, on stderr, any poll that holds its worker for 100 ms or more (`/stuck`).
    let _watchdog = profiler::Watchdog::start(Duration::from_millis(100));
    println!(
        "debug endpoint on http://{}/debug/pprof/",
        debug.local_addr()
    );
    let listener = TcpListener::bind(addr).await?;
    println!("application on http://{}", listener.local_addr()?);
    serve(listener, app(), async {
        match runtime::signal::ctrl_c().await {
            Ok(()) => println!("shutting down: finishing in-flight requests"),
            Err(error) => eprintln!("cannot listen for Ctrl-C ({error}); serving until killed"),
        }
    })
    .await?;
    println!("bye");
    Ok(())
}

#[runtime::main]
async fn main() -> io::Result<()> {
    let addr = leak_server::arg("--addr", "127.0.0.1:8080");
    let debug_addr = leak_server::arg("--debug-addr", "127.0.0.1:6060");
    run(&addr, &debug_addr).await
}

// The tests of both servers: they drive each app as its users would. `leak_server.rs` is a
// module of this crate, so its tests live here too.
#[cfg(test)]
mod axum_server_tests;
#[cfg(test)]
mod leak_server_tests;
