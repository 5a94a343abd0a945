//! The article's §4.6 HTTP handler test, ported: serve one request on a local server and
//! check with `LeakCheck` that the handler left no task behind — and that its leaky twin is
//! caught, with the reason and site of the leaked task.

use profiler::LeakCheck;
use runtime::context::Context;
use runtime::net::{TcpListener, TcpStream};
use std::time::Duration;

/// A handler that does background work bounded by the request: a 100 ms context that is
/// cancelled when the handler returns.
async fn handler_fixed(request: &Context) {
    let (ctx, cancel) = request.with_timeout(Duration::from_millis(100));
    let _cancel = cancel.cancel_on_drop();
    runtime::spawn(async move {
        runtime::select! {
            _ = ctx.done() => {}
            _ = runtime::time::sleep(Duration::from_secs(3600)) => {}
        }
    });
}

/// The same work on a context nobody cancels: the task outlives the request.
async fn handler_leaky(_request: &Context) {
    let ctx = Context::background();
    runtime::spawn(async move {
        runtime::select! { // LEAK
            _ = ctx.done() => {}
            _ = runtime::time::sleep(Duration::from_secs(3600)) => {}
        }
    });
}

/// Serves exactly one request with `handler` on a fresh local server and returns the
/// response's status line.
async fn one_request<F, Fut>(handler: F) -> String
where
    F: FnOnce(Context) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = runtime::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 1024];
        let _ = stream.read(&mut buf).await.unwrap();
        let (request, cancel) = Context::background().with_cancel();
        handler(request).await;
        cancel.cancel(); // the request is over
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
    });
    let mut client = TcpStream::connect(addr).await.unwrap();
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let mut response = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        let n = client.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        response.extend_from_slice(&buf[..n]);
    }
    server.await.unwrap();
    String::from_utf8_lossy(&response)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[runtime::test]
async fn an_http_handler_that_bounds_its_work_leaks_nothing() {
    let check = LeakCheck::start();
    let status = one_request(|request| async move { handler_fixed(&request).await }).await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    check
        .check()
        .await
        .expect("the fixed handler leaves no task");
}

#[runtime::test]
async fn an_http_handler_that_leaks_is_caught_with_reason_and_site() {
    let check = LeakCheck::start();
    let status = one_request(|request| async move { handler_leaky(&request).await }).await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    let report = check
        .check()
        .await
        .expect_err("the leaky handler leaves its task");
    assert_eq!(report.tasks().len(), 1, "{report}");
    let text = report.to_string();
    let line = include_str!("http_handler_leaks.rs")
        .lines()
        .position(|l| l.contains("// LEAK"))
        .unwrap()
        + 1;
    assert!(text.contains("[select, "), "{text}");
    assert!(
        text.contains(&format!(
            "parked at tests/tests/http_handler_leaks.rs:{line}:9"
        )),
        "{text}"
    );
    // Clean up so the runtime shuts down quickly.
    drop(report);
}
