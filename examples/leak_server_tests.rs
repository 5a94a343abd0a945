//! Drives the leak_server example over real TCP: every leak route adds exactly the tasks the
//! article's handler leaks, with the right reasons at `examples/leak_server.rs` sites, and
//! the fixed routes leave the count where it was.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;
use test_support::groups;

const HITS: usize = 3;
const SOURCE: &str = include_str!("leak_server.rs");

/// A blocking HTTP/1.1 GET, run off the workers. Returns (status, body).
async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    runtime::spawn_blocking(move || raw(addr, request.as_bytes()))
        .await
        .unwrap()
}

fn raw(addr: SocketAddr, request: &[u8]) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    (status, body)
}

/// `examples/leak_server.rs:L:C` of `needle` on the first line containing `marker` after the
/// line containing `anchor`.
fn site(anchor: &str, marker: &str, needle: &str) -> String {
    test_support::site(SOURCE, "examples/leak_server.rs", anchor, marker, needle)
}

fn delta(
    before: &HashMap<String, usize>,
    after: &HashMap<String, usize>,
) -> HashMap<String, usize> {
    after
        .iter()
        .filter_map(|(key, &n)| {
            let grown = n.saturating_sub(before.get(key).copied().unwrap_or(0));
            (grown > 0).then(|| (key.clone(), grown))
        })
        .collect()
}

async fn dump(debug: SocketAddr) -> String {
    let (status, body) = get(debug, "/debug/pprof/goroutine?debug=1").await;
    assert_eq!(status, 200);
    body
}

async fn task_count(app: SocketAddr) -> usize {
    let (status, body) = get(app, "/status").await;
    assert_eq!(status, 200);
    body.trim()
        .trim_start_matches("Current tasks: ")
        .parse()
        .unwrap()
}

/// Waits (up to 10 s) for the dump to show `expected` more tasks than `before` in these groups.
async fn settled(
    debug: SocketAddr,
    before: &HashMap<String, usize>,
    expected: &HashMap<String, usize>,
) {
    let mut last = HashMap::new();
    for _ in 0..1000 {
        last = delta(before, &groups(&dump(debug).await));
        if &last == expected {
            return;
        }
        runtime::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("groups grew by {last:#?}, expected {expected:#?}");
}

#[test]
fn leak_routes_leak_exactly_what_the_article_leaks_and_fixed_routes_do_not() {
    let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
    rt.block_on(async {
        let debug = profiler::serve("127.0.0.1:0").unwrap();
        let debug_addr = debug.local_addr();
        let listener = runtime::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let app = listener.local_addr().unwrap();
        runtime::spawn(super::leak_server::serve_app(listener));

        let base_count = task_count(app).await;

        let cases: [(&str, Vec<(String, usize)>); 4] = [
            (
                "/leak/channel",
                vec![(
                    format!(
                        "[chan send] {}",
                        site("fn handle_channel_leak", ".send(", "send(")
                    ),
                    HITS,
                )],
            ),
            (
                "/leak/context",
                vec![(
                    format!(
                        "[select] {}",
                        site("fn handle_context_leak", "select!", "runtime::select!")
                    ),
                    HITS,
                )],
            ),
            (
                "/leak/loop",
                vec![(
                    format!(
                        "[sleep] {}",
                        site("fn handle_loop_leak", "sleep(", "runtime::time::sleep")
                    ),
                    HITS,
                )],
            ),
            (
                "/leak/mixed",
                vec![
                    (
                        format!(
                            "[chan send] {}",
                            site("fn handle_mixed_leak", ".send(", "send(")
                        ),
                        HITS,
                    ),
                    (
                        format!(
                            "[sleep] {}",
                            site(
                                "fn handle_mixed_leak",
                                "from_millis(20)",
                                "runtime::time::sleep"
                            )
                        ),
                        HITS,
                    ),
                ],
            ),
        ];
        for (route, expected) in cases {
            let before = groups(&dump(debug_addr).await);
            for _ in 0..HITS {
                let (status, body) = get(app, route).await;
                assert_eq!(status, 200, "{route}: {body}");
            }
            let expected: HashMap<String, usize> = expected.into_iter().collect();
            settled(debug_addr, &before, &expected).await;
        }
        let leaked = 5 * HITS;
        assert_eq!(task_count(app).await, base_count + leaked);

        // The fixes leave the count where it was once their tasks are done.
        for route in ["/fixed/channel", "/fixed/context", "/fixed/loop"] {
            for _ in 0..HITS {
                assert_eq!(get(app, route).await.0, 200);
            }
        }
        let mut count = 0;
        for _ in 0..1000 {
            count = task_count(app).await;
            if count == base_count + leaked {
                break;
            }
            runtime::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(count, base_count + leaked, "fixed routes must not leak");

        // Bad requests get a status, not a panic, and the server keeps serving.
        let (status, _) = runtime::spawn_blocking(move || raw(app, b"NONSENSE\r\n\r\n"))
            .await
            .unwrap();
        assert_eq!(status, 400);
        assert_eq!(get(app, "/nope").await.0, 404);
        let (status, _) =
            runtime::spawn_blocking(move || raw(app, b"POST /status HTTP/1.1\r\n\r\n"))
                .await
                .unwrap();
        assert_eq!(status, 405);
        assert_eq!(task_count(app).await, base_count + leaked);
    });
}

#[test]
fn stuck_holds_a_worker_and_the_watchdog_names_the_connection_task() {
    let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
    let (tx, reports) = std::sync::mpsc::channel();
    let _watchdog = profiler::Watchdog::builder(Duration::from_millis(100))
        .handle(rt.handle().clone())
        .on_stuck(move |stuck| {
            let _ = tx.send(stuck.clone());
        })
        .start()
        .unwrap();
    rt.block_on(async {
        let listener = runtime::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let app = listener.local_addr().unwrap();
        runtime::spawn(super::leak_server::serve_app(listener));

        assert_eq!(get(app, "/stuck?ms=abc").await.0, 400);
        let (status, body) = get(app, "/stuck?ms=400").await;
        assert_eq!(
            (status, body.as_str()),
            (
                200,
                "Held a worker for 400 ms. The watchdog reported it on stderr.\n"
            )
        );
    });
    let stuck = reports.recv_timeout(Duration::from_secs(20)).unwrap();
    assert_eq!(stuck.name(), Some("conn"));
    assert!(
        stuck.future_type().contains("handle_connection"),
        "{stuck:?}"
    );
    assert!(stuck.elapsed() >= Duration::from_millis(100));
    let released = reports.recv_timeout(Duration::from_secs(20)).unwrap();
    assert!(released.released() && released.task() == stuck.task());
}
