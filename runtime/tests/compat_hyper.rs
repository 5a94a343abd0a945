//! The `hyper` feature: hyper's and hyper-util's servers and clients on Parkade, and what
//! their tasks look like in a profile.

#![cfg(feature = "hyper")]

use test_support as support;

use http_body_util::{BodyExt as _, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use runtime::compat::hyper::{Executor, Io, Timer};
use runtime::net::TcpListener;
use runtime::net::TcpStream;
use runtime::sync::Notify;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::OnceLock;
use std::time::Duration;

/// Released by the tests holding requests to `/wait` in the handler.
static GATE: OnceLock<Notify> = OnceLock::new();

/// Answers `hello <path>`; requests to `/wait` first wait for `GATE`.
async fn hello(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if request.uri().path() == "/wait" {
        GATE.get_or_init(Notify::new).notified().await;
    }
    let body = format!("hello {}", request.uri().path());
    Ok(Response::new(Full::new(Bytes::from(body))))
}

/// The line of `server` that wraps accepted streams in `Io::new`.
static IO_LINE: AtomicU32 = AtomicU32::new(0);
/// The line of `server` that makes the connection's executor.
static EXECUTOR_LINE: AtomicU32 = AtomicU32::new(0);

/// An HTTP/1-and-2 server (hyper-util's auto builder) serving `hello`.
async fn server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    runtime::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (line, io) = (line!(), Io::new(stream));
            IO_LINE.store(line, SeqCst);
            runtime::spawn(async move {
                let (line, executor) = (line!(), Executor::new());
                EXECUTOR_LINE.store(line, SeqCst);
                let mut builder = hyper_util::server::conn::auto::Builder::new(executor);
                builder.http1().timer(Timer::new());
                builder.http2().timer(Timer::new());
                let _ = builder
                    .serve_connection(io, hyper::service::service_fn(hello))
                    .await;
            });
        }
    });
    addr
}

/// The 1-based column at which `needle` starts on line `line` of this file.
fn column_of(line: u32, needle: &str) -> u32 {
    let source = include_str!("compat_hyper.rs");
    let text = source.lines().nth(line as usize - 1).unwrap();
    text.find(needle).unwrap() as u32 + 1
}

async fn get<B>(sender: &mut hyper::client::conn::http1::SendRequest<B>, path: &str) -> String
where
    B: hyper::body::Body + Default + 'static,
{
    sender.ready().await.unwrap();
    let request = Request::get(path)
        .header("host", "localhost")
        .body(B::default())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

#[test]
fn the_adapters_are_what_hyper_and_users_need() {
    fn executor_and_timer<T: Clone + Default + Send + Sync + 'static>() {}
    fn io<T: hyper::rt::Read + hyper::rt::Write + Send + Sync + Unpin + 'static>() {}
    executor_and_timer::<Executor>();
    executor_and_timer::<Timer>();
    io::<Io<TcpStream>>();
    fn read<T: hyper::rt::Read>() {}
    fn write<T: hyper::rt::Write>() {}
    read::<Io<runtime::net::tcp::OwnedReadHalf>>();
    write::<Io<runtime::net::tcp::OwnedWriteHalf>>();
    read::<Io<runtime::net::tcp::ReadHalf<'static>>>();
    write::<Io<runtime::net::tcp::WriteHalf<'static>>>();
}

#[runtime::test]
async fn http1_keep_alive_requests_on_one_connection() {
    let addr = server().await;
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::Builder::new()
        .handshake::<_, Empty<Bytes>>(Io::new(stream))
        .await
        .unwrap();
    let driver = runtime::spawn(connection);
    for i in 0..20 {
        assert_eq!(
            get(&mut sender, &format!("/{i}")).await,
            format!("hello /{i}")
        );
    }
    drop(sender);
    driver.await.unwrap().unwrap();
}

#[runtime::test]
async fn http2_concurrent_streams_run_as_parkade_tasks() {
    let addr = server().await;
    let stream = TcpStream::connect(addr).await.unwrap();
    let (client_line, executor) = (line!(), Executor::new());
    let (sender, connection) = hyper::client::conn::http2::Builder::new(executor)
        .timer(Timer::new())
        .handshake::<_, Empty<Bytes>>(Io::new(stream))
        .await
        .unwrap();
    let driver = runtime::spawn(connection);
    let requests: Vec<_> = (0..50)
        .map(|i| {
            let mut sender = sender.clone();
            runtime::spawn(async move {
                let request = Request::get(format!("http://localhost/{i}"))
                    .body(Empty::new())
                    .unwrap();
                let response = sender.send_request(request).await.unwrap();
                assert_eq!(response.version(), hyper::Version::HTTP_2);
                let body = response.into_body().collect().await.unwrap().to_bytes();
                assert_eq!(body, format!("hello /{i}"));
            })
        })
        .collect();
    for request in requests {
        request.await.unwrap();
    }
    // The client's HTTP/2 connection runs as a task its executor spawned: a Parkade task
    // named by hyper's future type, spawned where the executor was made.
    let profile = runtime::profile();
    assert!(
        profile.tasks().iter().any(|task| {
            task.future_type().starts_with("hyper::") && task.spawn_site().line() == client_line
        }),
        "no task of hyper's spawned at line {client_line}:\n{profile}"
    );

    // Requests held in the handler: one server stream task each (hyper's `H2Stream`),
    // spawned by the server's executor, parked in the handler.
    let held: Vec<_> = (0..8)
        .map(|_| {
            let mut sender = sender.clone();
            runtime::spawn(async move {
                let request = Request::get("http://localhost/wait")
                    .body(Empty::new())
                    .unwrap();
                sender.send_request(request).await.unwrap().status()
            })
        })
        .collect();
    let server_line = EXECUTOR_LINE.load(SeqCst);
    let streams = |profile: &runtime::Profile| {
        profile
            .tasks()
            .iter()
            .filter(|task| {
                task.future_type().contains("H2Stream")
                    && task.spawn_site().file() == file!()
                    && task.spawn_site().line() == server_line
                    && support::parked_for(task, runtime::ParkReason::NotifyWait)
            })
            .count()
    };
    support::wait_for(|p| streams(p) == 8).await;
    GATE.get_or_init(Notify::new).notify_waiters();
    for request in held {
        assert_eq!(request.await.unwrap(), 200);
    }
    drop(sender);
    driver.await.unwrap().unwrap();
}

#[cfg(feature = "profiling")] // asserts the recorded park
#[runtime::test]
async fn an_idle_keep_alive_connection_parks_as_io_wait_at_io_new() {
    let addr = server().await;
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(Io::new(stream))
            .await
            .unwrap();
    let driver = runtime::spawn(connection);
    assert_eq!(get(&mut sender, "/first").await, "hello /first");
    // The server's connection task now waits for the next request on the kept-alive socket.
    let line = IO_LINE.load(SeqCst);
    let profile = support::wait_for(|p| {
        p.tasks().iter().any(|task| {
            task.park()
                .is_some_and(|park| park.site().file() == file!() && park.site().line() == line)
        })
    })
    .await;
    let task = profile
        .tasks()
        .iter()
        .find(|task| task.park().is_some_and(|park| park.site().line() == line))
        .unwrap();
    let park = task.park().unwrap();
    assert_eq!(format!("{:#}", park.reason()), "IO wait (read)");
    assert_eq!(park.site().column(), column_of(line, "Io::new("));
    drop(sender);
    driver.await.unwrap().unwrap();
}

#[cfg(feature = "profiling")] // asserts the recorded park
#[runtime::test]
async fn a_hyper_timer_sleep_parks_as_sleep_at_the_timer_line() {
    use hyper::rt::Timer as _;
    let (line, timer) = (line!(), Timer::new());
    let sleeper = runtime::spawn(async move { timer.sleep(Duration::from_secs(3600)).await });
    let profile = support::wait_for(|p| support::parked(p, sleeper.id())).await;
    let park = profile.task(sleeper.id()).unwrap().park().unwrap().clone();
    assert_eq!(park.reason().to_string(), "sleep");
    assert_eq!(park.site().file(), file!());
    assert_eq!(park.site().line(), line);
    assert_eq!(park.site().column(), column_of(line, "Timer::new("));
    sleeper.abort();
}

#[runtime::test]
async fn hyper_header_read_timeout_fires_on_parkade_timers() {
    // A client that connects and never sends a request: hyper's header-read timeout (a sleep
    // of its `Timer`, reset in place as hyper does) ends the connection with a timeout error.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut client = TcpStream::connect(addr).await.unwrap();
    let (stream, _) = listener.accept().await.unwrap();
    let connection = runtime::spawn(async move {
        hyper::server::conn::http1::Builder::new()
            .timer(Timer::new())
            .header_read_timeout(Duration::from_millis(50))
            .serve_connection(Io::new(stream), hyper::service::service_fn(hello))
            .await
    });
    let error = connection.await.unwrap().unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    let mut rest = Vec::new();
    let mut buf = [0; 512];
    while let Ok(n @ 1..) = client.read(&mut buf).await {
        rest.extend_from_slice(&buf[..n]);
    }
    // hyper answers what it can before closing: nothing, or a 408.
    assert!(
        rest.is_empty() || rest.starts_with(b"HTTP/1.1 408"),
        "{rest:?}"
    );
}
