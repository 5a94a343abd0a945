//! The HTTP debug endpoint, driven by raw TCP clients: every path's status, content type and
//! content; bad requests answered with the right status while the server keeps serving;
//! many clients at once, stalled clients, and workers stuck in busy loops.

use profiler::{DebugServer, DebugServerBuilder};
use runtime::{JoinHandle, Runtime, TaskState};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

/// The read timeout of the test servers: short, so stalled-client tests finish quickly.
const READ_TIMEOUT: Duration = Duration::from_millis(500);

/// A parsed response.
struct Reply {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Reply {
    fn parse(raw: &[u8]) -> Reply {
        let end = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("no end of head in {:?}", String::from_utf8_lossy(raw)));
        let head = String::from_utf8(raw[..end].to_vec()).expect("an ASCII head");
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("no status in {head:?}"));
        Reply {
            status,
            head,
            body: raw[end + 4..].to_vec(),
        }
    }

    /// The value of header `name`, matched case-insensitively.
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, value) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    fn content_type(&self) -> &str {
        self.header("Content-Type").unwrap_or("")
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("a UTF-8 body")
    }

    /// Asserts the framing every response has.
    fn assert_well_formed(&self) {
        assert!(self.head.starts_with("HTTP/1.1 "), "{}", self.head);
        assert_eq!(self.header("Connection"), Some("close"), "{}", self.head);
        if let Some(length) = self.header("Content-Length") {
            assert_eq!(length.parse::<usize>().unwrap(), self.body.len());
        }
    }
}

/// Sends `request` as is, reads the response to the end (the server closes).
fn exchange(addr: SocketAddr, request: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request).expect("send the request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the response");
    let reply = Reply::parse(&raw);
    reply.assert_well_formed();
    reply
}

/// Sends a `HEAD` request: the response's `Content-Length` is that of the `GET` body, which
/// is not sent.
fn head(addr: SocketAddr, target: &str) -> Reply {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "HEAD {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the response");
    Reply::parse(&raw)
}

fn request(addr: SocketAddr, method: &str, target: &str) -> Reply {
    exchange(
        addr,
        format!(
            "{method} {target} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\n\
             Connection: close\r\n\r\n"
        )
        .as_bytes(),
    )
}

fn get(addr: SocketAddr, target: &str) -> Reply {
    request(addr, "GET", target)
}

/// Asserts the server still answers a good request.
fn assert_serves(addr: SocketAddr) {
    let reply = get(addr, "/debug/pprof/goroutine?debug=1");
    assert_eq!(reply.status, 200);
    assert!(reply.text().starts_with("task profile: total "));
}

/// Polls `done` until it holds, for at most 10 s.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(2));
    }
}

/// A runtime with 2 workers and 4 live tasks, all parked: 3 named `sleeper` (an hour's
/// sleep) and 1 named `stuck` (`std::future::pending`, a proven leak); plus one task that
/// slept 1 ms and finished, so the park-time table has a row. Served on an ephemeral port.
struct Fixture {
    server: DebugServer,
    _tasks: Vec<JoinHandle<()>>,
    _rt: Runtime,
}

impl Fixture {
    fn new() -> Fixture {
        let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
        let mut tasks = Vec::new();
        for _ in 0..3 {
            tasks.push(runtime::task::Builder::new().name("sleeper").spawn_on(
                async { runtime::time::sleep(Duration::from_secs(3600)).await },
                rt.handle(),
            ));
        }
        tasks.push(
            runtime::task::Builder::new()
                .name("stuck")
                .spawn_on(std::future::pending::<()>(), rt.handle()),
        );
        rt.spawn(async { runtime::time::sleep(Duration::from_millis(1)).await });
        wait_until("4 parked tasks and a park-time row", || {
            let profile = rt.profile();
            profile.len() == 4
                && profile.tasks().iter().all(|task| task.park().is_some())
                && profile.completed_total() == 1
                && !profile.park_sites().is_empty()
        });
        let server = DebugServerBuilder::new()
            .read_timeout(READ_TIMEOUT)
            .serve_handle("127.0.0.1:0", rt.handle().clone())
            .unwrap();
        Fixture {
            server,
            _tasks: tasks,
            _rt: rt,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.server.local_addr()
    }
}

// --- Paths ---------------------------------------------------------------------------------

#[test]
fn index_lists_each_profile_with_its_count_and_links() {
    let fx = Fixture::new();
    for path in ["/debug/pprof/", "/debug/pprof"] {
        let reply = get(fx.addr(), path);
        assert_eq!(reply.status, 200);
        assert_eq!(reply.content_type(), "text/html; charset=utf-8");
        let page = reply.text();
        assert!(page.contains(
            "<tr><td>4</td><td><a href='/debug/pprof/goroutine?debug=1'>goroutine</a></td></tr>"
        ));
        // Only `stuck` is a leak at the default min_parked (30 s): it is proven.
        assert!(page.contains(
            "<tr><td>1</td><td><a href='/debug/pprof/goroutineleak?debug=1'>goroutineleak</a>"
        ));
        assert!(page.contains("<a href='/debug/pprof/park?debug=1'>park</a>"));
        assert!(page.contains("href=\"/debug/pprof/goroutine?debug=2\""));
        assert!(page.contains("href=\"/metrics\""));
        assert!(page.contains("href=\"/debug/vars\""));
    }
}

#[test]
fn goroutine_debug0_is_a_gzipped_pprof_attachment() {
    let fx = Fixture::new();
    for target in [
        "/debug/pprof/goroutine",
        "/debug/pprof/goroutine?debug=0",
        "/debug/pprof/tasks?debug=0",
    ] {
        let reply = get(fx.addr(), target);
        assert_eq!(reply.status, 200, "{target}");
        assert_eq!(reply.content_type(), "application/octet-stream");
        assert_eq!(
            reply.header("Content-Disposition"),
            Some("attachment; filename=\"goroutine\"")
        );
        assert!(reply.header("Content-Length").is_some());
        assert_eq!(reply.body[..2], [0x1f, 0x8b], "gzip magic");
        let profile = profiler::pprof::decode(&reply.body).unwrap();
        let tasks: i64 = profile.sample.iter().map(|sample| sample.value[0]).sum();
        assert_eq!(tasks, 4);
    }
}

#[test]
fn goroutine_debug1_is_the_grouped_dump() {
    let fx = Fixture::new();
    for target in [
        "/debug/pprof/goroutine?debug=1",
        "/debug/pprof/tasks?debug=1",
    ] {
        let reply = get(fx.addr(), target);
        assert_eq!(reply.status, 200);
        assert_eq!(reply.content_type(), "text/plain; charset=utf-8");
        assert!(reply.header("Content-Length").is_some());
        let text = reply.text();
        assert!(text.starts_with("task profile: total 4\n"), "{text}");
        assert!(text.contains("\n3 @ [sleep] "), "{text}");
        assert!(text.contains("\n1 @ [unknown] "), "{text}");
    }
}

#[test]
fn goroutine_debug2_streams_every_task() {
    let fx = Fixture::new();
    let reply = get(fx.addr(), "/debug/pprof/goroutine?debug=2");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type(), "text/plain; charset=utf-8");
    assert_eq!(
        reply.header("Content-Length"),
        None,
        "streamed, close-delimited"
    );
    let text = reply.text();
    assert_eq!(text.matches(" \"sleeper\" [sleep, ").count(), 3, "{text}");
    assert_eq!(text.matches(" \"stuck\" [unknown, ").count(), 1, "{text}");
    assert_eq!(text.matches("\tparked at ").count(), 4, "{text}");
}

#[test]
fn goroutineleak_lists_proven_and_suspected_leaks() {
    let fx = Fixture::new();

    // Default min_parked (30 s): only the proven leak; no `debug` means the grouped text.
    let reply = get(fx.addr(), "/debug/pprof/goroutineleak");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type(), "text/plain; charset=utf-8");
    let text = reply.text();
    assert!(
        text.starts_with("task leak profile: total 1 (1 proven, 0 suspected at min_parked=30s)\n"),
        "{text}"
    );
    assert!(text.contains("\n1 @ [unknown] "), "{text}");
    assert!(
        text.contains("#\tleak        proven: nothing can wake it\n"),
        "{text}"
    );

    // min_parked=0: every parked task with a waker is suspected too.
    let reply = get(fx.addr(), "/debug/pprof/goroutineleak?debug=1&min_parked=0");
    assert_eq!(reply.status, 200);
    let text = reply.text();
    assert!(
        text.starts_with("task leak profile: total 4 (1 proven, 3 suspected at min_parked=0s)\n"),
        "{text}"
    );
    assert!(text.contains("\n3 @ [sleep] "), "{text}");
    assert!(
        text.contains("#\tleak        suspected: parked up to "),
        "{text}"
    );

    // debug=2: each leaked task in the per-task format, under its kind.
    let reply = get(
        fx.addr(),
        "/debug/pprof/goroutineleak?debug=2&min_parked=1m30s",
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type(), "text/plain; charset=utf-8");
    let text = reply.text();
    assert!(
        text.contains("(1 proven, 0 suspected at min_parked=1m30s)"),
        "{text}"
    );
    assert!(
        text.contains("\nproven leaks: nothing can wake these tasks\n"),
        "{text}"
    );
    assert!(text.contains(" \"stuck\" [unknown, "), "{text}");
    assert!(!text.contains("sleeper"), "{text}");

    let reply = get(
        fx.addr(),
        "/debug/pprof/goroutineleak?debug=2&min_parked=0s",
    );
    let text = reply.text();
    assert_eq!(text.matches(" \"sleeper\" [sleep, ").count(), 3, "{text}");
    assert!(text.contains("\nsuspected leaks: "), "{text}");

    // debug=0: a pprof profile of the leaked tasks only (the proven one at 30 s).
    let reply = get(fx.addr(), "/debug/pprof/goroutineleak?debug=0");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type(), "application/octet-stream");
    let decoded = profiler::pprof::decode(&reply.body).unwrap();
    let tasks: i64 = decoded.sample.iter().map(|s| s.value[0]).sum();
    assert_eq!(tasks, 1, "only the proven leak");
    let reply = get(fx.addr(), "/debug/pprof/goroutineleak?debug=0&min_parked=0");
    let decoded = profiler::pprof::decode(&reply.body).unwrap();
    let tasks: i64 = decoded.sample.iter().map(|s| s.value[0]).sum();
    assert_eq!(tasks, 4, "the proven leak and the three suspected sleepers");
    assert_serves(fx.addr());
}

#[test]
fn park_serves_pprof_and_text() {
    let fx = Fixture::new();
    for target in ["/debug/pprof/park", "/debug/pprof/park?debug=0"] {
        let reply = get(fx.addr(), target);
        assert_eq!(reply.status, 200);
        assert_eq!(reply.content_type(), "application/octet-stream");
        assert_eq!(
            reply.header("Content-Disposition"),
            Some("attachment; filename=\"park\"")
        );
        assert_eq!(reply.body[..2], [0x1f, 0x8b], "gzip magic");
        let profile = profiler::pprof::decode(&reply.body).unwrap();
        assert!(!profile.sample.is_empty());
    }
    let reply = get(fx.addr(), "/debug/pprof/park?debug=1");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type(), "text/plain; charset=utf-8");
    let text = reply.text();
    assert!(text.starts_with("park profile: "), "{text}");
    assert!(text.contains("sleep"), "{text}");
}

#[test]
fn metrics_are_prometheus_text() {
    let fx = Fixture::new();
    let reply = get(fx.addr(), "/metrics");
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.content_type(),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = reply.text();
    for line in [
        "# TYPE parkade_tasks gauge",
        "parkade_tasks{state=\"parked\",reason=\"sleep\"} 3",
        "parkade_tasks{state=\"parked\",reason=\"unknown\"} 1",
        "parkade_tasks{state=\"running\",reason=\"\"} 0",
        "# TYPE parkade_tasks_spawned_total counter",
        "parkade_tasks_spawned_total 5",
        "# TYPE parkade_tasks_completed_total counter",
        "parkade_tasks_completed_total 1",
        "# TYPE parkade_workers gauge",
        "parkade_workers 2",
        "# TYPE parkade_park_seconds_total counter",
        "# TYPE parkade_parks_total counter",
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
    }
    let parks = text
        .lines()
        .find(|l| l.starts_with("parkade_parks_total{reason=\"sleep\",site=\""))
        .unwrap_or_else(|| panic!("no sleep park row in\n{text}"));
    assert!(parks.contains("server.rs:"), "{parks}");
    assert!(text
        .lines()
        .any(|l| l.starts_with("parkade_park_seconds_total{reason=\"sleep\",site=\"")));
    // Every family has its HELP line, and every non-comment line is `name[{labels}] value`.
    assert_eq!(
        text.matches("# HELP ").count(),
        text.matches("# TYPE ").count()
    );
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let value = line.rsplit(' ').next().unwrap();
        assert!(value.parse::<f64>().is_ok(), "{line}");
    }
}

#[test]
fn vars_are_json() {
    let fx = Fixture::new();
    let reply = get(fx.addr(), "/debug/vars");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type(), "application/json; charset=utf-8");
    let vars: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(vars["tasks"], 4);
    assert_eq!(vars["tasks_by_state"]["parked"], 4);
    assert_eq!(vars["tasks_by_state"]["running"], 0);
    assert_eq!(vars["tasks_by_reason"]["sleep"], 3);
    assert_eq!(vars["tasks_by_reason"]["unknown"], 1);
    assert_eq!(vars["spawned_total"], 5);
    assert_eq!(vars["completed_total"], 1);
    assert_eq!(vars["workers"], 2);
}

#[test]
fn head_gets_the_head_only() {
    let fx = Fixture::new();
    let reply = head(fx.addr(), "/debug/vars");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type(), "application/json; charset=utf-8");
    let length: usize = reply.header("Content-Length").unwrap().parse().unwrap();
    assert!(length > 0);
    assert!(reply.body.is_empty());
    assert_eq!(reply.header("Connection"), Some("close"));
    assert_eq!(length, get(fx.addr(), "/debug/vars").body.len());
}

#[test]
fn absolute_targets_and_http_1_0_are_served() {
    let fx = Fixture::new();
    let reply = exchange(
        fx.addr(),
        b"GET http://localhost/debug/pprof/goroutine?debug=1 HTTP/1.0\r\n\r\n",
    );
    assert_eq!(reply.status, 200);
    assert!(reply.text().starts_with("task profile: total 4\n"));
}

/// Reads one response whose body has a `Content-Length` off a kept-alive connection.
fn read_one(stream: &mut TcpStream) -> Reply {
    let mut reply = Reply::parse(&read_head(stream));
    let length: usize = reply.header("Content-Length").unwrap().parse().unwrap();
    reply.body = vec![0; length];
    stream.read_exact(&mut reply.body).expect("read the body");
    reply
}

/// Reads a response head, byte by byte so as to read nothing past it.
fn read_head(stream: &mut TcpStream) -> Vec<u8> {
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        assert_eq!(
            stream.read(&mut byte).expect("read a head"),
            1,
            "closed mid-head"
        );
        raw.push(byte[0]);
    }
    raw
}

fn kept_stream(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

#[test]
fn http_1_1_connections_are_kept_alive_and_pipelined() {
    let fx = Fixture::new();
    let mut stream = kept_stream(fx.addr());
    for _ in 0..3 {
        write!(stream, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let reply = read_one(&mut stream);
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("Connection"), Some("keep-alive"));
        assert!(reply
            .text()
            .contains("parkade_tasks{state=\"parked\",reason=\"sleep\"} 3\n"));
    }
    // Two requests in one write: answered in order.
    stream
        .write_all(b"GET /debug/vars HTTP/1.1\r\n\r\nHEAD /metrics HTTP/1.1\r\n\r\n")
        .unwrap();
    let vars = read_one(&mut stream);
    assert_eq!(vars.content_type(), "application/json; charset=utf-8");
    // A HEAD's answer has the length of the GET body it leaves out: only the head comes.
    let head = Reply::parse(&read_head(&mut stream));
    assert_eq!(head.header("Connection"), Some("keep-alive"));
    // A streamed dump is delimited by the close, and so ends the connection.
    write!(
        stream,
        "GET /debug/pprof/goroutine?debug=2 HTTP/1.1\r\n\r\n"
    )
    .unwrap();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();
    let dump = Reply::parse(&rest);
    assert_eq!(dump.header("Connection"), Some("close"));
    assert!(dump.text().starts_with("task "), "{}", dump.text());
}

#[test]
fn a_kept_connection_closes_when_asked_on_error_and_when_idle() {
    let fx = Fixture::new();
    let one_then = |second: &[u8]| {
        let mut stream = kept_stream(fx.addr());
        write!(stream, "GET /metrics HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(read_one(&mut stream).status, 200);
        stream.write_all(second).unwrap();
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).unwrap();
        rest
    };
    let closed = Reply::parse(&one_then(
        b"GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n",
    ));
    assert_eq!(
        (closed.status, closed.header("Connection")),
        (200, Some("close"))
    );
    let error = Reply::parse(&one_then(b"GET /nowhere HTTP/1.1\r\n\r\n"));
    assert_eq!(
        (error.status, error.header("Connection")),
        (404, Some("close"))
    );
    // Idle for the read timeout: closed without a word.
    let started = Instant::now();
    assert!(one_then(b"").is_empty());
    let idle = started.elapsed();
    assert!(idle >= READ_TIMEOUT && idle < READ_TIMEOUT * 10, "{idle:?}");
}

#[test]
fn blank_lines_between_requests_are_ignored() {
    let fx = Fixture::new();
    let mut stream = kept_stream(fx.addr());
    // An extra CRLF after a request, and before the next (RFC 9112, 2.2), then a half-close:
    // two answers, and no `400` for the blank line.
    stream
        .write_all(b"GET /debug/vars HTTP/1.1\r\n\r\n\r\n\r\nGET /debug/vars HTTP/1.1\r\n\r\n\r\n")
        .unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut all = Vec::new();
    stream.read_to_end(&mut all).unwrap();
    let all = String::from_utf8_lossy(&all);
    assert_eq!(all.matches("HTTP/1.1 200 OK").count(), 2, "{all}");
    assert_eq!(all.matches("HTTP/1.1 ").count(), 2, "{all}");
}

#[test]
fn a_kept_connection_stops_at_shutdown() {
    let rt = runtime::Builder::new().worker_threads(1).build().unwrap();
    let server = DebugServerBuilder::new()
        .read_timeout(Duration::from_secs(30))
        .serve_handle("127.0.0.1:0", rt.handle().clone())
        .unwrap();
    let mut stream = kept_stream(server.local_addr());
    write!(stream, "GET /metrics HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!(read_one(&mut stream).status, 200);
    server.shutdown();
    // The next request on the kept connection is not answered: the connection closes.
    write!(stream, "GET /metrics HTTP/1.1\r\n\r\n").unwrap();
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
}

// --- Bad input -----------------------------------------------------------------------------

#[test]
fn malformed_requests_get_400() {
    let fx = Fixture::new();
    for raw in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET /metrics HTTP/9.9\r\n\r\n",
        b"GET /metrics\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n",
        b"\x00\x01\x02\xff\xfe garbage \r\n\r\n",
        b"GET * HTTP/1.1\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nHost: a",
    ] {
        let mut stream = TcpStream::connect(fx.addr()).unwrap();
        stream.write_all(raw).unwrap();
        // A request cut short: say so by closing our side.
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut out = Vec::new();
        stream.read_to_end(&mut out).unwrap();
        let reply = Reply::parse(&out);
        reply.assert_well_formed();
        assert_eq!(reply.status, 400, "{:?}", String::from_utf8_lossy(raw));
        assert!(reply.text().starts_with("400 bad request: "));
        assert_serves(fx.addr());
    }
}

#[test]
fn unknown_paths_get_404() {
    let fx = Fixture::new();
    for target in [
        "/",
        "/debug/pprof/heap",
        "/debug/pprof/goroutine/",
        "/metrics/x",
        "/debug/vars2",
    ] {
        let reply = get(fx.addr(), target);
        assert_eq!(reply.status, 404, "{target}");
        assert_eq!(reply.text(), "404 page not found\n");
        assert_serves(fx.addr());
    }
}

#[test]
fn methods_other_than_get_get_405() {
    let fx = Fixture::new();
    for method in ["POST", "PUT", "DELETE", "OPTIONS", "get"] {
        let reply = request(fx.addr(), method, "/debug/pprof/goroutine");
        assert_eq!(reply.status, 405, "{method}");
        let allow = reply.header("Allow").unwrap();
        assert!(allow.split(", ").any(|m| m == "GET"), "{allow}");
        assert_serves(fx.addr());
    }
}

#[test]
fn oversized_headers_get_431() {
    let fx = Fixture::new();
    let big = format!(
        "GET /metrics HTTP/1.1\r\nHost: localhost\r\nX-Big: {}\r\n\r\n",
        "a".repeat(9 * 1024)
    );
    let reply = exchange(fx.addr(), big.as_bytes());
    assert_eq!(reply.status, 431);
    assert_serves(fx.addr());

    let many: String = (0..200).map(|i| format!("X-{i}: v\r\n")).collect();
    let reply = exchange(
        fx.addr(),
        format!("GET /metrics HTTP/1.1\r\n{many}\r\n").as_bytes(),
    );
    assert_eq!(reply.status, 431);
    assert_serves(fx.addr());

    // Just under the limit is fine.
    let fits = format!(
        "GET /debug/vars HTTP/1.1\r\nConnection: close\r\nX-Big: {}\r\n\r\n",
        "a".repeat(7 * 1024)
    );
    assert_eq!(exchange(fx.addr(), fits.as_bytes()).status, 200);
}

#[test]
fn bad_parameter_values_get_400_naming_the_parameter() {
    let fx = Fixture::new();
    for (target, parameter) in [
        ("/debug/pprof/goroutine?debug=3", "debug"),
        ("/debug/pprof/goroutine?debug=x", "debug"),
        ("/debug/pprof/goroutine?debug=-1", "debug"),
        ("/debug/pprof/tasks?debug=1.5", "debug"),
        ("/debug/pprof/park?debug=2", "debug"),
        ("/debug/pprof/goroutineleak?debug=7", "debug"),
        ("/debug/pprof/goroutineleak?min_parked=soon", "min_parked"),
        ("/debug/pprof/goroutineleak?min_parked=30", "min_parked"),
        (
            "/debug/pprof/goroutineleak?debug=1&min_parked=-1s",
            "min_parked",
        ),
        ("/debug/pprof/goroutine?debug=%zz", "query"),
    ] {
        let reply = get(fx.addr(), target);
        assert_eq!(reply.status, 400, "{target}");
        assert_eq!(reply.content_type(), "text/plain; charset=utf-8");
        let text = reply.text();
        assert!(text.contains(parameter), "{target}: {text}");
        assert_serves(fx.addr());
    }
    // Unknown parameters are ignored, as Go does; percent-escapes are decoded.
    assert_eq!(get(fx.addr(), "/metrics?x=1").status, 200);
    let reply = get(
        fx.addr(),
        "/debug/pprof/goroutineleak?debug=%31&min_parked=1m%330s",
    );
    assert_eq!(reply.status, 200);
    assert!(reply.text().contains("min_parked=1m30s"));
}

#[test]
fn clients_that_vanish_do_not_hurt() {
    let fx = Fixture::new();
    // Connect and close at once.
    drop(TcpStream::connect(fx.addr()).unwrap());
    assert_serves(fx.addr());
    // Send half a request line and close.
    let mut stream = TcpStream::connect(fx.addr()).unwrap();
    stream.write_all(b"GET /debug/pp").unwrap();
    drop(stream);
    assert_serves(fx.addr());
    // Ask for the big streamed dump and close without reading.
    let mut stream = TcpStream::connect(fx.addr()).unwrap();
    stream
        .write_all(b"GET /debug/pprof/goroutine?debug=2 HTTP/1.1\r\n\r\n")
        .unwrap();
    drop(stream);
    assert_serves(fx.addr());
}

// --- Load and stalls -----------------------------------------------------------------------

#[test]
fn two_hundred_concurrent_clients_are_all_answered() {
    let fx = Fixture::new();
    let addr = fx.addr();
    let start = Arc::new(Barrier::new(200));
    let clients: Vec<_> = (0..200)
        .map(|i| {
            let start = start.clone();
            thread::spawn(move || {
                start.wait();
                let target = match i % 4 {
                    0 => "/debug/pprof/goroutine?debug=1",
                    1 => "/metrics",
                    2 => "/debug/vars",
                    _ => "/debug/pprof/goroutine?debug=2",
                };
                let reply = get(addr, target);
                assert_eq!(reply.status, 200, "{target}");
                assert!(!reply.body.is_empty());
            })
        })
        .collect();
    for client in clients {
        client.join().expect("every client is answered");
    }
    assert_serves(addr);
}

#[test]
fn a_stalled_client_blocks_nobody_and_is_dropped_after_the_timeout() {
    let fx = Fixture::new();
    let mut stalled = TcpStream::connect(fx.addr()).unwrap();
    let connected = Instant::now();

    // Others are served meanwhile.
    assert_serves(fx.addr());
    assert_eq!(get(fx.addr(), "/metrics").status, 200);

    // The stalled client is dropped, unanswered, once the read timeout has passed.
    stalled
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 64];
    let read = stalled.read(&mut buf);
    let waited = connected.elapsed();
    assert!(
        matches!(read, Ok(0)) || read.is_err(),
        "expected the connection closed, got {read:?}"
    );
    assert!(
        waited >= READ_TIMEOUT - Duration::from_millis(50),
        "{waited:?}"
    );
    assert!(waited < READ_TIMEOUT + Duration::from_secs(5), "{waited:?}");
    assert_serves(fx.addr());
}

#[test]
fn a_client_dripping_its_head_is_dropped_at_the_deadline() {
    let fx = Fixture::new();
    let mut slow = TcpStream::connect(fx.addr()).unwrap();
    let connected = Instant::now();
    slow.write_all(b"GET /metrics HTTP/1.1\r\n").unwrap();
    // One header byte every 50 ms would keep a per-read timeout happy forever; the head has
    // a deadline instead.
    let mut dropped = false;
    while connected.elapsed() < READ_TIMEOUT * 6 {
        if slow.write_all(b"X").is_err() {
            dropped = true;
            break;
        }
        thread::sleep(Duration::from_millis(50));
    }
    if !dropped {
        slow.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 64];
        let read = slow.read(&mut buf);
        assert!(
            matches!(read, Ok(0))
                || read
                    .as_ref()
                    .is_err_and(|e| e.kind() != ErrorKind::WouldBlock),
            "still open after {:?}: {read:?}",
            connected.elapsed()
        );
    }
    assert_serves(fx.addr());
}

#[test]
fn connections_over_the_limit_get_503() {
    let rt = runtime::Builder::new().worker_threads(1).build().unwrap();
    let server = DebugServerBuilder::new()
        .max_connections(2)
        .read_timeout(Duration::from_secs(10))
        .serve_handle("127.0.0.1:0", rt.handle().clone())
        .unwrap();
    let addr = server.local_addr();
    let first = TcpStream::connect(addr).unwrap();
    let second = TcpStream::connect(addr).unwrap();
    let reply = get(addr, "/debug/vars");
    assert_eq!(reply.status, 503);
    assert!(reply.text().starts_with("503 "));

    // The stalled clients leave; their places free up.
    drop((first, second));
    wait_until("a free connection slot", || {
        get(addr, "/debug/vars").status == 200
    });
}

// --- Runtimes ------------------------------------------------------------------------------

#[test]
fn answers_while_every_worker_spins() {
    let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let spinners: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            rt.spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
            })
        })
        .collect();
    wait_until("both workers stuck in a busy loop", || {
        rt.profile()
            .tasks()
            .iter()
            .filter(|task| task.state() == TaskState::Running)
            .count()
            == 2
    });
    let server = DebugServerBuilder::new()
        .read_timeout(READ_TIMEOUT)
        .serve_handle("127.0.0.1:0", rt.handle().clone())
        .unwrap();

    let reply = get(server.local_addr(), "/debug/pprof/goroutine?debug=1");
    assert_eq!(reply.status, 200);
    let text = reply.text();
    assert!(text.starts_with("task profile: total 2\n"), "{text}");
    assert!(text.contains("\n2 @ [running] "), "{text}");
    let reply = get(server.local_addr(), "/metrics");
    assert!(reply
        .text()
        .contains("parkade_tasks{state=\"running\",reason=\"\"} 2\n"));

    stop.store(true, Ordering::Relaxed);
    for spinner in spinners {
        rt.block_on(spinner).unwrap();
    }
    server.shutdown();
}

#[test]
fn serve_takes_the_current_runtime() {
    let rt = runtime::Builder::new().worker_threads(3).build().unwrap();
    let server = rt
        .block_on(async { profiler::serve("127.0.0.1:0") })
        .unwrap();
    assert!(server.local_addr().ip().is_loopback());
    assert_ne!(server.local_addr().port(), 0);
    let vars: serde_json::Value =
        serde_json::from_slice(&get(server.local_addr(), "/debug/vars").body).unwrap();
    assert_eq!(vars["workers"], 3);
}

#[test]
fn serve_outside_a_runtime_is_an_error() {
    let err = profiler::serve("127.0.0.1:0").unwrap_err();
    assert!(err.to_string().contains("runtime"), "{err}");
}

#[test]
fn binding_a_taken_address_is_an_error() {
    let rt = runtime::Builder::new().worker_threads(1).build().unwrap();
    let server = profiler::serve_handle("127.0.0.1:0", rt.handle().clone()).unwrap();
    assert!(profiler::serve_handle(server.local_addr(), rt.handle().clone()).is_err());
}

#[test]
fn shutdown_stops_the_listener_promptly() {
    let rt = runtime::Builder::new().worker_threads(1).build().unwrap();
    let server = DebugServerBuilder::new()
        .read_timeout(Duration::from_secs(30))
        .serve_handle("127.0.0.1:0", rt.handle().clone())
        .unwrap();
    let addr = server.local_addr();
    assert_serves(addr);
    // A stalled client does not hold the shutdown up.
    let _stalled = TcpStream::connect(addr).unwrap();
    let started = Instant::now();
    server.shutdown();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(TcpStream::connect(addr).is_err(), "still accepting");

    // Dropping does the same, also for a server bound to every interface.
    let server = profiler::serve_handle("0.0.0.0:0", rt.handle().clone()).unwrap();
    let port = server.local_addr().port();
    drop(server);
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "still accepting"
    );
}

// --- Under load ----------------------------------------------------------------------------

#[test]
fn heavy_profiles_beyond_max_renders_get_503_and_metrics_are_never_held_up() {
    let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
    // 100,000 parked tasks: a debug=2 dump of ~15 MB, more than loopback's socket buffers
    // hold, so a client that reads none of it keeps its render (and the only slot) busy.
    const TASKS: usize = 100_000;
    let (_keep, rx) = runtime::chan::channel::<()>(0);
    for _ in 0..TASKS {
        let rx = rx.clone();
        rt.spawn(async move { rx.recv().await });
    }
    wait_until("the tasks to park", || {
        rt.handle().task_counts().parked() == TASKS as u64
    });
    let server = DebugServerBuilder::new()
        .max_renders(1)
        .render_wait(Duration::from_millis(100))
        .serve_handle("127.0.0.1:0", rt.handle().clone())
        .unwrap();
    let addr = server.local_addr();

    let mut stalled = TcpStream::connect(addr).unwrap();
    stalled
        .write_all(b"GET /debug/pprof/goroutine?debug=2 HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    // Once its render holds the slot, the next heavy request waits 100 ms and gives up.
    let mut busy = None;
    wait_until("a 503", || {
        let reply = get(addr, "/debug/pprof/goroutine?debug=1");
        assert!(matches!(reply.status, 200 | 503), "{}", reply.head);
        busy = (reply.status == 503).then_some(reply);
        busy.is_some()
    });
    let busy = busy.unwrap();
    assert_eq!(busy.header("Retry-After"), Some("1"));
    assert!(busy
        .text()
        .starts_with("503 service unavailable: 1 profiles"));
    // Counters take no snapshot and no slot.
    let metrics = get(addr, "/metrics");
    assert_eq!(metrics.status, 200);
    assert!(metrics.text().contains(&format!(
        "parkade_tasks{{state=\"parked\",reason=\"{}\"}} {TASKS}\n",
        {
            if runtime::park::ENABLED {
                "chan receive"
            } else {
                ""
            }
        }
    )));
    assert_eq!(get(addr, "/debug/vars").status, 200);

    // The stalled client goes away: its render ends and the slot is free again.
    drop(stalled);
    wait_until("a 200 after the slot is freed", || {
        get(addr, "/debug/pprof/goroutine?debug=1").status == 200
    });
}
