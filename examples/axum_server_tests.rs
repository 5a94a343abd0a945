//! Drives `examples/axum_server.rs` as its users would: the example runs in a process of its
//! own (this test binary started again with `AXUM_SERVER_CHILD` set, running the example's
//! `run`), clients nobody here wrote talk to it (curl for HTTP/1.1 keep-alive and HTTP/2,
//! ureq for idle pooled connections), the profile is read from the path the app mounts and
//! from the own-thread endpoint, and a real SIGINT drains it.
//!
//! The panic and disconnect tests serve the example's app in this process instead, so that
//! `profiler::LeakCheck` can see the connection tasks.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use test_support::{groups, site};

const LEAK_SERVER: &str = include_str!("leak_server.rs");
const AXUM_SERVER: &str = include_str!("axum_server.rs");
/// How long anything that should happen "soon" may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(20);

/// The example's process: run by the other tests, not on its own.
#[test]
#[ignore = "the example's process, started by the other tests with AXUM_SERVER_CHILD set"]
fn example_process() {
    if std::env::var_os("AXUM_SERVER_CHILD").is_none() {
        return;
    }
    let rt = runtime::Runtime::new().unwrap();
    rt.block_on(super::run("127.0.0.1:0", "127.0.0.1:0"))
        .unwrap();
}

/// The example running in a child process.
struct Example {
    child: Child,
    app: SocketAddr,
    debug: SocketAddr,
    /// What it printed after its two address lines, once it has exited.
    stdout: BufReader<std::process::ChildStdout>,
}

impl Example {
    fn start() -> Example {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "axum_server_tests::example_process",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("AXUM_SERVER_CHILD", "1")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (mut app, mut debug) = (None, None);
        while app.is_none() || debug.is_none() {
            let mut line = String::new();
            assert!(
                stdout.read_line(&mut line).unwrap() > 0,
                "the example exited early"
            );
            let addr = |prefix: &str| {
                // libtest may have printed `test example_process ... ` on the same line.
                let rest = &line[line.find(prefix)? + prefix.len()..];
                let rest = rest.trim();
                rest.trim_end_matches("/debug/pprof/")
                    .parse::<SocketAddr>()
                    .ok()
            };
            app = app.or_else(|| addr("application on http://"));
            debug = debug.or_else(|| addr("debug endpoint on http://"));
        }
        Example {
            child,
            app: app.unwrap(),
            debug: debug.unwrap(),
            stdout,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.app)
    }

    /// Sends SIGINT, as Ctrl-C in its terminal would.
    fn interrupt(&self) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: kill(2) with a pid we spawned and have not reaped.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    }

    /// Waits for the process to exit; returns its exit code and the rest of its output.
    fn wait(mut self) -> (Option<i32>, String) {
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the example did not exit after SIGINT");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).unwrap();
        (status.code(), rest)
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs curl with `args`; returns its exit code and standard output.
fn curl(args: &[&str]) -> (i32, String) {
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "20"])
        .args(args)
        .output()
        .expect("curl is installed (.ci/run installs it)");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
    )
}

/// curl with `options`, fetching `url` `times` times in one invocation (so on one
/// connection where the protocol allows), discarding the bodies.
fn curl_repeat(options: &[&str], url: &str, times: usize) -> (i32, String) {
    let mut args = options.to_vec();
    for _ in 0..times {
        args.extend(["--output", "/dev/null", url]);
    }
    curl(&args)
}

/// GETs `url` with curl and returns the body, failing on anything but 200.
fn get(url: &str) -> String {
    let (code, body) = curl(&["--fail", url]);
    assert_eq!(code, 0, "curl {url} failed");
    body
}

fn chan_send_group() -> String {
    let site = site(
        LEAK_SERVER,
        "examples/leak_server.rs",
        "fn handle_channel_leak",
        ".send(",
        "send(",
    );
    format!("[chan send] {site}")
}

/// Polls a debug=1 dump from `url` until `done` holds for its groups.
fn wait_for_groups(
    url: &str,
    done: impl Fn(&HashMap<String, usize>) -> bool,
) -> HashMap<String, usize> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let dump = get(url);
        let groups = groups(&dump);
        if done(&groups) {
            return groups;
        }
        assert!(Instant::now() < deadline, "gave up; last dump:\n{dump}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn leaks_over_http1_keep_alive_and_http2_count_exactly_at_the_handler() {
    let example = Example::start();
    let leak = example.url("/leak/channel");
    let mounted = example.url("/debug/pprof/goroutine?debug=1");
    let group = chan_send_group();

    // Three requests on one kept-alive HTTP/1.1 connection.
    let write_out = [
        "--write-out",
        "%{http_code} %{http_version} %{num_connects}\n",
    ];
    let (code, out) = curl_repeat(&write_out, &leak, 3);
    assert_eq!(code, 0);
    assert_eq!(
        out, "200 1.1 1\n200 1.1 0\n200 1.1 0\n",
        "not one kept-alive connection"
    );
    let found = wait_for_groups(&mounted, |g| g.get(&group) == Some(&3));
    assert_eq!(found.get(&group), Some(&3), "{found:?}");

    // Four more over HTTP/2 (h2c with prior knowledge), in parallel. (curl 7.88 cannot
    // reuse an h2c prior-knowledge connection for a second transfer: it fails with exit 16
    // before sending it, against hyper on tokio too; so one connection each.)
    let h2 = [
        "--http2-prior-knowledge",
        "--parallel",
        "--parallel-immediate",
        "--write-out",
        "%{http_code} %{http_version}\n",
    ];
    let (code, out) = curl_repeat(&h2, &leak, 4);
    assert_eq!(code, 0);
    assert_eq!(out, "200 2\n".repeat(4));
    // Exactly seven: the mounted path and the own-thread endpoint agree.
    wait_for_groups(&mounted, |g| g.get(&group) == Some(&7));
    let own_thread = format!("http://{}/debug/pprof/goroutine?debug=1", example.debug);
    assert_eq!(groups(&get(&own_thread)).get(&group), Some(&7));

    // The pprof file from the mounted path is gzip, as `go tool pprof` expects.
    let (code, out) = curl(&[
        "--write-out",
        "%{http_code} %{content_type}",
        "--output",
        "/dev/null",
        &example.url("/debug/pprof/goroutine"),
    ]);
    assert_eq!((code, out.as_str()), (0, "200 application/octet-stream"));
    // The app's own routes still win over the fallback; unknown paths get the profiler's 404.
    assert!(get(&example.url("/status")).starts_with("Current tasks: "));
    let (_, out) = curl(&[
        "--write-out",
        "%{http_code}",
        "--output",
        "/dev/null",
        &example.url("/nope"),
    ]);
    assert_eq!(out, "404");
}

#[test]
fn idle_keep_alive_connections_show_io_wait_and_ctrl_c_drains_in_flight_requests() {
    let example = Example::start();
    let own_thread = format!("http://{}/debug/pprof/goroutine?debug=1", example.debug);

    // Three clients, each leaving its connection idle in its pool after one request.
    let agents: Vec<ureq::Agent> = (0..3)
        .map(|_| {
            let agent = ureq::Agent::new_with_defaults();
            let mut response = agent.get(&example.url("/status")).call().unwrap();
            assert!(response
                .body_mut()
                .read_to_string()
                .unwrap()
                .starts_with("Current tasks"));
            agent
        })
        .collect();
    let io_wait = format!(
        "[IO wait] {}",
        site(
            AXUM_SERVER,
            "examples/axum_server.rs",
            "pub async fn serve(",
            "Io::new(",
            "Io::new("
        )
    );
    let found = wait_for_groups(&own_thread, |g| g.get(&io_wait) == Some(&3));
    assert_eq!(found.get(&io_wait), Some(&3), "{found:?}");

    // A request in flight when Ctrl-C comes finishes; then the process exits 0.
    let slow_url = example.url("/slow?ms=2000");
    let slow = std::thread::spawn(move || curl(&["--write-out", " %{http_code}", &slow_url]));
    let sleeping = format!(
        "[sleep] {}",
        site(
            AXUM_SERVER,
            "examples/axum_server.rs",
            "async fn slow(",
            "sleep(",
            "runtime::time::sleep"
        )
    );
    wait_for_groups(&own_thread, |g| g.get(&sleeping) == Some(&1));
    example.interrupt();
    assert_eq!(slow.join().unwrap(), (0, "slept 2000 ms\n 200".to_string()));
    let (code, rest) = example.wait();
    assert!(
        rest.contains("shutting down") && rest.ends_with("bye\n") || rest.contains("bye\n"),
        "{rest}"
    );
    assert_eq!(code, Some(0), "{rest}");
    drop(agents);
}

/// Serves the example's app, plus a route that panics, in this process.
async fn serve_in_process() -> (SocketAddr, runtime::context::CancelHandle) {
    let listener = runtime::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let app = super::app().route(
        "/panic",
        axum::routing::get(|| async {
            panic!("handler bug (this panic is expected by the test)");
            #[allow(unreachable_code)]
            ""
        }),
    );
    let (stop, cancel) = runtime::context::Context::background().with_cancel();
    runtime::spawn(
        async move { super::serve(listener, app, async move { stop.done().await }).await },
    );
    (addr, cancel)
}

/// curl, run on the blocking pool so that the runtime keeps serving.
async fn curl_async(args: Vec<String>) -> (i32, String) {
    runtime::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        curl(&args)
    })
    .await
    .unwrap()
}

#[runtime::test]
async fn a_panicking_handler_fails_its_request_and_the_server_keeps_serving() {
    let (addr, _stop) = serve_in_process().await;
    let check = profiler::LeakCheck::start();
    // hyper on tokio closes the connection when a handler panics: curl sees an empty reply.
    let (code, out) = curl_async(vec![format!("http://{addr}/panic")]).await;
    assert_eq!(
        (code, out.as_str()),
        (52, ""),
        "curl exit 52: empty reply from server"
    );
    for _ in 0..3 {
        let (code, out) = curl_async(vec![format!("http://{addr}/status")]).await;
        assert_eq!(code, 0);
        assert!(out.starts_with("Current tasks: "), "{out}");
    }
    check.assert_none().await;
}

#[runtime::test]
async fn clients_that_disconnect_mid_request_leak_no_task() {
    let (addr, _stop) = serve_in_process().await;
    let check = profiler::LeakCheck::start();
    runtime::spawn_blocking(move || {
        // Half a request head, then gone.
        let mut socket = std::net::TcpStream::connect(addr).unwrap();
        socket
            .write_all(b"GET /status HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        drop(socket);
        // A body announced and never sent.
        let mut socket = std::net::TcpStream::connect(addr).unwrap();
        socket
            .write_all(b"POST /status HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc")
            .unwrap();
        drop(socket);
        // A request whose handler is still running when the client leaves.
        let mut socket = std::net::TcpStream::connect(addr).unwrap();
        socket
            .write_all(b"GET /slow?ms=50 HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        drop(socket);
    })
    .await
    .unwrap();
    check.assert_none().await;
    // And the server still answers.
    let (code, _) = curl_async(vec![format!("http://{addr}/status")]).await;
    assert_eq!(code, 0);
}
