//! `profiler::DebugService`, driven directly as a `tower` service (no network) and mounted on
//! an axum `Router`: each path's status, header fields and body, the same as `serve`'s over a
//! socket; `debug=2` streamed in chunks; a body dropped half-way stops its writer; renders on
//! threads of its own at nice 10, never on the runtime's blocking pool.

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body::Body as _;
use http_body_util::BodyExt;
use profiler::DebugService;
use runtime::chan::Sender;
use runtime::{Runtime, TaskState};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use tower::ServiceExt;

/// The largest frame a streamed body sends.
const CHUNK: usize = 64 * 1024;

/// A runtime whose blocking pool has one thread: a blocking closure that never ends would
/// keep every later one from running, which `the_blocking_pool_is_never_used` uses.
fn runtime() -> Runtime {
    runtime::Builder::new()
        .worker_threads(2)
        .max_blocking_threads(1)
        .build()
        .unwrap()
}

/// Spawns `n` tasks that park receiving on one channel (the line marked `PARKED`) and waits
/// until all are parked. The tasks end when the returned sender is dropped.
fn park_tasks(rt: &Runtime, n: usize) -> Sender<()> {
    let (tx, rx) = runtime::chan::channel::<()>(0);
    for _ in 0..n {
        let rx = rx.clone();
        rt.spawn(async move { rx.recv().await }); // PARKED
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let profile = rt.profile();
        let parked = profile
            .tasks()
            .iter()
            .filter(|task| task.state() == TaskState::Parked)
            .count();
        if parked == n {
            return tx;
        }
        assert!(
            Instant::now() < deadline,
            "only {parked} of {n} tasks parked"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// `file!():line:col` of the `needle` on the line marked `marker` in this file.
fn site_of(marker: &str, needle: &str) -> String {
    let (index, text) = include_str!("service.rs")
        .lines()
        .enumerate()
        .find(|(_, line)| line.contains(marker) && !line.contains("site_of("))
        .expect("marker in file");
    let column = text.find(needle).expect("needle on the marked line") + 1;
    format!("{}:{}:{column}", file!(), index + 1)
}

/// The grouped dump's line for `n` tasks of `park_tasks`.
fn group_line(n: usize) -> String {
    if runtime::park::ENABLED {
        format!("\n{n} @ [chan receive] {}\n", site_of("// PARKED", "recv("))
    } else {
        format!("\n{n} @ [parked] {}\n", site_of("// PARKED", "spawn("))
    }
}

/// Calls a fresh service of the current runtime with an empty request body of type `()`.
async fn call(method: Method, target: &str) -> Response<profiler::Body> {
    let request = Request::builder()
        .method(method)
        .uri(target)
        .body(())
        .unwrap();
    DebugService::new().oneshot(request).await.unwrap()
}

/// The status, header fields and whole body of a response.
async fn collect<B>(response: Response<B>) -> (StatusCode, HeaderMap, Vec<u8>)
where
    B: http_body::Body<Data = Bytes>,
    B::Error: std::fmt::Debug,
{
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes().to_vec();
    (parts.status, parts.headers, body)
}

async fn get(target: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    collect(call(Method::GET, target).await).await
}

fn text(body: Vec<u8>) -> String {
    String::from_utf8(body).expect("a UTF-8 body")
}

/// The header fields as `name: value` lines, sorted, names in lower case.
fn fields(headers: &HeaderMap) -> Vec<String> {
    let mut fields: Vec<String> = headers
        .iter()
        .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap()))
        .collect();
    fields.sort();
    fields
}

/// Replaces the park duration in each task header of a `debug=2` dump (`[chan receive,
/// 12ms]:` → `[chan receive, <dur>]:`): it grows between two renderings.
fn without_durations(dump: &str) -> String {
    dump.split_inclusive('\n')
        .map(|line| match (line.starts_with("task "), line.rfind(", ")) {
            (true, Some(comma)) if line.ends_with("]:\n") => {
                format!("{}, <dur>]:\n", &line[..comma])
            }
            _ => line.to_string(),
        })
        .collect()
}

/// A raw `GET` to `serve`'s endpoint: status line and header fields (sorted, lower-case
/// names), and the body.
fn serve_get(addr: SocketAddr, target: &str) -> (u16, Vec<String>, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = std::str::from_utf8(&raw[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let mut fields: Vec<String> = lines
        .map(|line| {
            let (name, value) = line.split_once(": ").unwrap();
            format!("{}: {value}", name.to_ascii_lowercase())
        })
        .collect();
    fields.sort();
    (status, fields, raw[end + 4..].to_vec())
}

#[test]
fn goroutine_debug1_is_the_grouped_dump() {
    let rt = runtime();
    let _release = park_tasks(&rt, 3);
    rt.block_on(async {
        let (status, headers, body) = get("/debug/pprof/goroutine?debug=1").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["content-length"], body.len().to_string().as_str());
        assert!(headers.get("connection").is_none());
        let dump = text(body);
        assert!(dump.starts_with("task profile: total 3\n"), "{dump}");
        assert!(dump.contains(&group_line(3)), "{dump}");
    });
}

#[test]
fn goroutine_debug2_streams_in_chunks_without_a_length() {
    let rt = runtime();
    let _release = park_tasks(&rt, 20_000);
    rt.block_on(async {
        let response = call(Method::GET, "/debug/pprof/goroutine?debug=2").await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; charset=utf-8"
        );
        assert!(response.headers().get("content-length").is_none());
        assert_eq!(response.body().size_hint().exact(), None);
        let mut body = response.into_body();
        let mut frames = 0;
        let mut dump = Vec::new();
        while let Some(frame) = body.frame().await {
            let data = frame.unwrap().into_data().expect("only data frames");
            assert!(
                !data.is_empty() && data.len() <= CHUNK,
                "{} bytes",
                data.len()
            );
            frames += 1;
            dump.extend_from_slice(&data);
        }
        assert!(body.is_end_stream());
        assert!(frames > 1, "{frames} frame(s) of {} bytes", dump.len());

        let mut expected = Vec::new();
        profiler::text::write_tasks(&mut expected, &rt.profile()).unwrap();
        let (dump, expected) = (text(dump), text(expected));
        assert_eq!(dump.matches("\n\ntask ").count(), 20_000 - 1);
        assert!(without_durations(&dump) == without_durations(&expected));
    });
}

#[test]
fn goroutine_debug0_is_a_gzipped_pprof_attachment() {
    let rt = runtime();
    let _release = park_tasks(&rt, 3);
    rt.block_on(async {
        let response = call(Method::GET, "/debug/pprof/goroutine?debug=0").await;
        let length = response.body().size_hint().exact();
        let (status, headers, body) = collect(response).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["content-type"], "application/octet-stream");
        assert_eq!(
            headers["content-disposition"],
            "attachment; filename=\"goroutine\""
        );
        assert_eq!(length, Some(body.len() as u64));
        assert_eq!(headers["content-length"], body.len().to_string().as_str());
        assert_eq!(&body[..2], [0x1f, 0x8b]);
    });
}

#[test]
fn bad_requests_get_404_405_and_400() {
    let rt = runtime();
    rt.block_on(async {
        let (status, headers, body) = get("/debug/pprof/heap").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
        assert_eq!(text(body), "404 page not found\n");

        let response = call(Method::POST, "/debug/pprof/goroutine").await;
        let (status, headers, body) = collect(response).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(headers["allow"], "GET, HEAD");
        assert_eq!(
            text(body),
            "405 method not allowed: /debug/pprof/goroutine answers GET (and HEAD) only\n"
        );

        let (status, _, body) = get("/debug/pprof/goroutine?debug=x").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let body = text(body);
        assert!(body.starts_with("400 bad request: "), "{body}");
        assert!(body.contains("debug"), "{body}");
    });
}

#[test]
fn head_has_the_headers_of_get_and_an_empty_body() {
    let rt = runtime();
    let _release = park_tasks(&rt, 3);
    rt.block_on(async {
        for target in [
            "/debug/pprof/goroutine?debug=0",
            "/debug/pprof/goroutine?debug=1",
            "/debug/pprof/goroutine?debug=2",
            "/debug/pprof/nowhere",
        ] {
            let head = call(Method::HEAD, target).await;
            assert_eq!(head.body().size_hint().exact(), Some(0), "{target}");
            assert!(head.body().is_end_stream(), "{target}");
            let (head_status, head_headers, head_body) = collect(head).await;
            let (get_status, get_headers, _) = get(target).await;
            assert_eq!(head_status, get_status, "{target}");
            // A pprof profile's length changes between two renderings (its park durations
            // are numbers): compare that the field is there.
            let length_of_any_profile = |fields: Vec<String>| -> Vec<String> {
                let profile = target.ends_with("debug=0");
                fields
                    .into_iter()
                    .map(|field| {
                        if profile && field.starts_with("content-length: ") {
                            "content-length: N".to_string()
                        } else {
                            field
                        }
                    })
                    .collect()
            };
            assert_eq!(
                length_of_any_profile(fields(&head_headers)),
                length_of_any_profile(fields(&get_headers)),
                "{target}"
            );
            assert!(head_body.is_empty(), "{target}");
        }
    });
}

/// The same request gets the same answer from the service as from `serve` over a socket,
/// less `Connection: close`.
#[test]
fn answers_as_serve_does() {
    let rt = runtime();
    let _release = park_tasks(&rt, 3);
    rt.block_on(async {
        let server = profiler::serve("127.0.0.1:0").unwrap();
        for target in [
            "/debug/pprof/goroutine?debug=1",
            "/debug/pprof/nowhere",
            "/debug/pprof/goroutine?debug=x",
        ] {
            let (status, headers, body) = get(target).await;
            let (served_status, mut served_fields, served_body) =
                serve_get(server.local_addr(), target);
            served_fields.retain(|field| field != "connection: close");
            assert_eq!(status.as_u16(), served_status, "{target}");
            assert_eq!(fields(&headers), served_fields, "{target}");
            assert!(body == served_body, "{target}:\n{}", text(body));
        }
    });
}

#[test]
fn answers_through_an_axum_router() {
    let rt = runtime();
    let _release = park_tasks(&rt, 3);
    rt.block_on(async {
        let app: axum::Router = axum::Router::new()
            .route("/", axum::routing::get(|| async { "the application" }))
            .route_service("/metrics", DebugService::new())
            .nest_service("/internal", DebugService::new())
            .fallback_service(DebugService::new());
        for target in [
            "/debug/pprof/goroutine?debug=1",
            "/internal/debug/pprof/goroutine?debug=1",
        ] {
            let request = Request::get(target)
                .body(axum::body::Body::empty())
                .unwrap();
            let (status, headers, body) =
                collect(app.clone().oneshot(request).await.unwrap()).await;
            assert_eq!(status, StatusCode::OK, "{target}");
            assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
            assert!(text(body).contains(&group_line(3)), "{target}");
        }

        let request = Request::get("/metrics")
            .body(axum::body::Body::empty())
            .unwrap();
        let (status, headers, _) = collect(app.clone().oneshot(request).await.unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            headers["content-type"],
            "text/plain; version=0.0.4; charset=utf-8"
        );

        let request = Request::get("/").body(axum::body::Body::empty()).unwrap();
        let (status, _, body) = collect(app.oneshot(request).await.unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(text(body), "the application");
    });
}

/// A client that goes away mid-dump drops the body: the writer's next send fails and it
/// returns, giving back the render slot it held. With one slot, a later render proves it by
/// getting that slot (it would get `503` after the wait otherwise); and no task is left
/// behind.
#[test]
fn a_body_dropped_half_way_stops_its_writer() {
    let rt = runtime();
    let _release = park_tasks(&rt, 20_000);
    rt.block_on(async {
        let check = profiler::LeakCheck::start();
        let service = DebugService::new().max_renders(1, Duration::from_secs(30));
        let mut body = service
            .clone()
            .oneshot(
                Request::get("/debug/pprof/goroutine?debug=2")
                    .body(())
                    .unwrap(),
            )
            .await
            .unwrap()
            .into_body();
        let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(first.len(), CHUNK);
        drop(body);

        let request = Request::get("/debug/pprof/goroutine?debug=1")
            .body(())
            .unwrap();
        let (status, _, body) = collect(service.oneshot(request).await.unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{}", text(body));
        check.assert_none().await;
    });
}

/// The service's routes and body writers run on threads of their own: with the runtime's
/// only blocking thread taken for good, it still answers, streamed dumps included.
#[test]
fn the_blocking_pool_is_never_used() {
    let rt = runtime();
    let _release = park_tasks(&rt, 20_000);
    let (unblock, blocked) = std::sync::mpsc::channel::<()>();
    let pool_taken = rt.spawn_blocking(move || blocked.recv());
    rt.block_on(async {
        for target in [
            "/debug/pprof/goroutine?debug=1",
            "/debug/pprof/goroutine?debug=2",
            "/metrics",
        ] {
            let (status, _, body) = runtime::time::timeout(Duration::from_secs(30), get(target))
                .await
                .unwrap_or_else(|_| panic!("{target}: no answer with the blocking pool taken"));
            assert_eq!(status, StatusCode::OK, "{target}");
            assert!(!body.is_empty(), "{target}");
        }
    });
    unblock.send(()).unwrap();
    rt.block_on(pool_taken).unwrap().unwrap();
}

/// A streamed body's writer is not on the runtime: the runtime can be dropped while the body
/// is unread (its shutdown waits for no render), and the body is still read whole after.
#[test]
fn a_streamed_body_outlives_its_runtime() {
    let rt = runtime();
    let release = park_tasks(&rt, 20_000);
    let body = rt.block_on(async {
        call(Method::GET, "/debug/pprof/goroutine?debug=2")
            .await
            .into_body()
    });
    drop(release);
    drop(rt);

    let other = runtime();
    let dump = other.block_on(async {
        runtime::time::timeout(Duration::from_secs(30), body.collect())
            .await
            .expect("the body's writer stopped with its runtime")
            .unwrap()
            .to_bytes()
    });
    let dump = text(dump.to_vec());
    assert!(
        dump.starts_with("task "),
        "{}",
        &dump[..dump.len().min(200)]
    );
    assert_eq!(dump.matches("\n\ntask ").count(), 20_000 - 1);
}

/// The nice value (field 19 of `stat`) of each of this process's threads named `name`.
#[cfg(target_os = "linux")]
fn nice_of_threads(name: &str) -> Vec<i64> {
    let mut nices = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let dir = task.unwrap().path();
        // A thread may end between the listing and the reads.
        let (Ok(comm), Ok(stat)) = (
            std::fs::read_to_string(dir.join("comm")),
            std::fs::read_to_string(dir.join("stat")),
        ) else {
            continue;
        };
        if comm.trim_end() == name {
            nices.push(nice_in_stat(&stat));
        }
    }
    nices
}

/// Field 19 of a `/proc/…/stat` line; the fields after the command name, which is in
/// parentheses and may hold spaces, start at field 3.
#[cfg(target_os = "linux")]
fn nice_in_stat(stat: &str) -> i64 {
    let after_comm = &stat[stat.rfind(')').unwrap() + 1..];
    after_comm
        .split_whitespace()
        .nth(19 - 3)
        .unwrap()
        .parse()
        .unwrap()
}

/// A request's route and a streamed body's writer run at nice 10, below the workers: seen in
/// `/proc` while each is held up, the writer by a body nobody reads and the route by waiting
/// for the render slot that writer holds.
#[cfg(target_os = "linux")]
#[test]
fn renders_run_at_nice_10() {
    let nice_here = nice_in_stat(&std::fs::read_to_string("/proc/thread-self/stat").unwrap());
    if nice_here >= 10 {
        println!("skipped: the test already runs at nice {nice_here}, no lower than a render");
        return;
    }
    let rt = runtime();
    let _release = park_tasks(&rt, 20_000);
    let service =
        DebugService::with_handle(rt.handle().clone()).max_renders(1, Duration::from_secs(30));
    let unread = rt.block_on(
        service.clone().oneshot(
            Request::get("/debug/pprof/goroutine?debug=2")
                .body(())
                .unwrap(),
        ),
    );
    let waiting = rt.spawn(
        service.oneshot(
            Request::get("/debug/pprof/goroutine?debug=1")
                .body(())
                .unwrap(),
        ),
    );

    // Other tests of this binary render too: a thread of theirs may be seen before it lowers
    // its priority, so wait for one of each name at nice 10 (ours stay blocked until then).
    let deadline = Instant::now() + Duration::from_secs(10);
    for name in ["parkade-stream", "parkade-render"] {
        loop {
            let nices = nice_of_threads(name);
            if nices.contains(&10) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no {name} thread at nice 10 (this thread: {nice_here}); seen: {nices:?}"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    drop(unread);
    let response = rt.block_on(waiting).unwrap().unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[test]
fn with_handle_serves_another_runtime_from_any_thread() {
    let rt = runtime();
    let _release = park_tasks(&rt, 2);
    let service = DebugService::with_handle(rt.handle().clone());
    let other = runtime();
    let (status, _, body) = other.block_on(async {
        let request = Request::get("/debug/pprof/goroutine?debug=1")
            .body(())
            .unwrap();
        collect(service.oneshot(request).await.unwrap()).await
    });
    assert_eq!(status, StatusCode::OK);
    assert!(text(body).contains(&group_line(2)));
}
