//! The HTTP debug endpoint: Go's `net/http/pprof` for a Parkade runtime.
//!
//! [`serve`] binds a listener and answers on OS threads of its own, never on the runtime's
//! workers, so it keeps answering while every worker is stuck in a busy loop — the moment a
//! dump is most wanted.
//!
//! | path | serves |
//! |---|---|
//! | `/debug/pprof/` | HTML index: each profile with its count and links |
//! | `/debug/pprof/goroutine?debug=0\|1\|2` | the task profile (alias `/debug/pprof/tasks`) |
//! | `/debug/pprof/goroutineleak?debug=1\|2&min_parked=30s` | only proven and suspected leaks |
//! | `/debug/pprof/park?debug=0\|1` | cumulative park time and count by site and reason |
//! | `/metrics` | Prometheus text format 0.0.4 |
//! | `/debug/vars` | JSON, expvar-like |
//!
//! `debug=0` (the default, as in Go) is a gzipped `profile.proto` for `go tool pprof`;
//! `debug=1` the grouped text dump; `debug=2` one traceback per task.
//!
//! ```no_run
//! # runtime::Runtime::new().unwrap().block_on(async {
//! let server = profiler::serve("127.0.0.1:6060")?;
//! println!("go tool pprof http://{}/debug/pprof/goroutine", server.local_addr());
//! # Ok::<(), std::io::Error>(())
//! # });
//! ```
//!
//! # Threads, limits and timeouts
//!
//! One thread accepts; each connection gets a thread of its own, up to
//! [`DebugServerBuilder::max_connections`] (256) at once. Beyond that a connection is told
//! `503 Service Unavailable` by one of a few extra threads, or closed if those are busy too.
//! A client has [`DebugServerBuilder::read_timeout`] (5 s) to send its request head, which
//! may be at most 8 KiB (`431` beyond); one that stalls is dropped without an answer. An
//! HTTP/1.1 connection is kept alive after an answer with a length and a status below 400
//! (`Connection: keep-alive`), for a next request within the same `read_timeout`; a streamed
//! dump, an error, `Connection: close` or HTTP/1.0 without `keep-alive` close it.
//!
//! `/metrics` and `/debug/vars` read counters ([`runtime::Handle::task_counts`]) and take no
//! snapshot. The heavy profiles (`goroutine`, `goroutineleak`, `park`, the index) take one:
//! at most [`DebugServerBuilder::max_renders`] (2) are rendered at once, requests that
//! overlap share one snapshot, and a request beyond waits up to
//! [`DebugServerBuilder::render_wait`] (5 s), then gets `503` with `Retry-After: 1`. Memory
//! so stays within two snapshots whatever the number of clients.
//!
//! Bad input gets a status and a message naming what was wrong, and the server keeps
//! serving: `400` for a malformed request or query value, `404` for an unknown path, `405`
//! for a method other than `GET` or `HEAD`, and `500` should a handler ever panic.
//!
//! # On the application's own server
//!
//! [`DebugService`] is the same endpoint as a `tower_service::Service` over `http` types, for
//! an application that serves HTTP with hyper or axum: mounted on its router (say with axum's
//! `fallback_service`), it gives the same answers as [`serve`], with a [`Body`] that streams
//! the `debug=2` dumps. It renders each request on a thread of its own (also the writer of a
//! streamed body), never on the runtime's workers nor on its blocking pool.
//!
//! # Priority
//!
//! Both [`serve`] and [`DebugService`] render at nice +10 (Linux's per-thread priority): the
//! threads of `serve`, and the threads `DebugService` renders on, run below the runtime's
//! workers, so that a burst of scrapes slows the scrapes rather than the service. Only the
//! endpoint's own threads are lowered, never the runtime's: without `CAP_SYS_NICE` a thread
//! cannot raise its priority back. On other systems, or where Linux refuses the change (a
//! process already above nice 10), the threads keep the priority they started with.

mod body;
mod connection;
mod duration;
#[doc(hidden)]
pub mod fuzz;
mod http;
mod index;
mod leak_dump;
mod listener;
mod metrics;
mod query;
mod render;
mod renders;
mod routes;
mod service;
mod thread;
mod vars;

pub use body::Body;
pub use listener::{serve, serve_handle, DebugServer, DebugServerBuilder};
pub use service::{DebugService, ResponseFuture};
