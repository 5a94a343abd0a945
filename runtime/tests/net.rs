//! `runtime::net`: TCP and UDP over loopback, and the `IO wait` parks they record.

use test_support as support;

use runtime::net::{TcpListener, TcpStream, UdpSocket};
use runtime::{Profile, TaskId, TaskSnapshot};
use std::future::{poll_fn, Future};
use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::pin::pin;
#[cfg_attr(not(feature = "profiling"), allow(unused_imports))] // the recording tests'
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

/// How long to wait for something that happens "soon" before failing the test.
const PATIENCE: Duration = Duration::from_secs(10);

/// Polls `runtime::profile()` until `found` picks something out of it.
async fn wait_for_profile<T>(what: &str, mut found: impl FnMut(&Profile) -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        let profile = runtime::profile();
        if let Some(value) = found(&profile) {
            return value;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "gave up waiting for {what}; profile:\n{profile}"
        );
        runtime::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The snapshot of task `id` once it is parked.
async fn parked(id: TaskId) -> TaskSnapshot {
    wait_for_profile("the task to park", |profile| {
        profile
            .task(id)
            .filter(|task| support::is_parked(task))
            .cloned()
    })
    .await
}

/// The 1-based column at which `needle` starts on line `line` of this file, as
/// `Location::column` counts.
#[cfg_attr(not(feature = "profiling"), allow(dead_code))] // used by the recording tests
fn column_of(line: u32, needle: &str) -> u32 {
    let text = include_str!("net.rs")
        .lines()
        .nth(line as usize - 1)
        .expect("line exists");
    let index = text.find(needle).expect("needle on the line");
    index as u32 + 1
}

/// Polls both futures until both complete, in the same task.
async fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut out_a, mut out_b) = (None, None);
    poll_fn(move |cx| {
        if out_a.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                out_a = Some(v);
            }
        }
        if out_b.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                out_b = Some(v);
            }
        }
        if out_a.is_some() && out_b.is_some() {
            Poll::Ready((out_a.take().unwrap(), out_b.take().unwrap()))
        } else {
            Poll::Pending
        }
    })
    .await
}

/// A listener on an ephemeral loopback port whose connections echo until the peer closes.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    runtime::spawn(async move {
        loop {
            let (mut socket, _) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(_) => continue,
            };
            runtime::spawn(async move {
                let mut buf = vec![0; 64 * 1024];
                loop {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if socket.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    }
                }
            });
        }
    });
    addr
}

/// A connected pair: (client side, server side).
async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, accepted) = join(TcpStream::connect(addr), listener.accept()).await;
    let client = client.unwrap();
    let (server, peer) = accepted.unwrap();
    assert_eq!(peer, client.local_addr().unwrap());
    assert_eq!(server.local_addr().unwrap(), addr);
    (client, server)
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[test]
fn types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<TcpListener>();
    send_sync::<TcpStream>();
    send_sync::<UdpSocket>();
    send_sync::<runtime::net::tcp::OwnedReadHalf>();
    send_sync::<runtime::net::tcp::OwnedWriteHalf>();
    send_sync::<runtime::net::tcp::ReadHalf<'static>>();
    send_sync::<runtime::net::tcp::WriteHalf<'static>>();
}

#[runtime::test]
async fn echo_round_trip() {
    let addr = echo_server().await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    assert_eq!(stream.peer_addr().unwrap(), addr);
    stream.set_nodelay(true).unwrap();
    assert!(stream.nodelay().unwrap());

    stream.write_all(b"hello, parkade").await.unwrap();
    stream.flush().await.unwrap();
    let mut reply = [0; 14];
    assert_eq!(stream.read_exact(&mut reply).await.unwrap(), 14);
    assert_eq!(&reply, b"hello, parkade");
}

#[runtime::test]
async fn bind_accepts_host_names_and_lists() {
    let listener = TcpListener::bind("localhost:0").await.unwrap();
    assert!(listener.local_addr().unwrap().ip().is_loopback());
    let addrs: &[SocketAddr] = &["127.0.0.1:0".parse().unwrap()];
    let listener = TcpListener::bind(addrs).await.unwrap();
    assert!(listener.local_addr().unwrap().ip().is_loopback());

    let empty: &[SocketAddr] = &[];
    let error = TcpListener::bind(empty).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    let error = TcpStream::connect(empty).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
}

#[runtime::test]
async fn many_connections_round_trip_concurrently() {
    let addr = echo_server().await;
    let clients: Vec<_> = (0..64u32)
        .map(|client| {
            runtime::spawn(async move {
                let mut stream = TcpStream::connect(addr).await?;
                let mut reply = [0; 8];
                for round in 0..100u32 {
                    let mut message = [0; 8];
                    message[..4].copy_from_slice(&client.to_le_bytes());
                    message[4..].copy_from_slice(&round.to_le_bytes());
                    stream.write_all(&message).await?;
                    stream.read_exact(&mut reply).await?;
                    assert_eq!(reply, message);
                }
                io::Result::Ok(())
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap().unwrap();
    }
}

#[runtime::test]
async fn read_returns_zero_after_peer_shutdown_or_drop() {
    let (mut client, mut server) = pair().await;
    client.write_all(b"last words").await.unwrap();
    client.shutdown().await.unwrap();

    let mut buf = [0; 32];
    let mut received = Vec::new();
    loop {
        let n = server.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        received.extend_from_slice(&buf[..n]);
    }
    assert_eq!(received, b"last words");
    assert_eq!(server.read(&mut buf).await.unwrap(), 0, "EOF is sticky");

    // The other direction still works after a write shutdown.
    server.write_all(b"reply").await.unwrap();
    let mut reply = [0; 5];
    client.read_exact(&mut reply).await.unwrap();
    assert_eq!(&reply, b"reply");

    // A dropped peer also reads as end of stream, and `read_exact` reports it.
    drop(server);
    assert_eq!(client.read(&mut buf).await.unwrap(), 0);
    let error = client.read_exact(&mut buf).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::UnexpectedEof);
}

#[runtime::test]
async fn connect_to_closed_port_is_refused() {
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let error = TcpStream::connect(addr).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}");
}

#[runtime::test]
async fn split_halves_read_and_write_at_once() {
    // Far more than the socket buffers hold: unless the read half drains the echo while the
    // write half is still writing, both sides stall.
    const LEN: usize = 16 << 20;
    let addr = echo_server().await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let (mut reader, mut writer) = stream.split();
    let data = pattern(LEN);

    let write = async {
        for chunk in data.chunks(100_000) {
            writer.write_all(chunk).await.unwrap();
        }
    };
    let read = async {
        let mut received = vec![0; LEN];
        reader.read_exact(&mut received).await.unwrap();
        received
    };
    let ((), received) = join(write, read).await;
    assert!(received == data, "echoed bytes differ");
}

#[runtime::test]
async fn owned_halves_work_from_two_tasks() {
    const LEN: usize = 16 << 20;
    let addr = echo_server().await;
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();

    let writer_task = runtime::spawn(async move {
        let data = pattern(LEN);
        for chunk in data.chunks(100_000) {
            writer.write_all(chunk).await?;
        }
        // Dropping the write half shuts it down: the echo server sees EOF and closes.
        drop(writer);
        io::Result::Ok(())
    });
    let reader_task = runtime::spawn(async move {
        let mut received = Vec::with_capacity(LEN);
        let mut buf = vec![0; 64 * 1024];
        loop {
            let n = reader.read(&mut buf).await?;
            if n == 0 {
                return io::Result::Ok(received);
            }
            received.extend_from_slice(&buf[..n]);
        }
    });
    writer_task.await.unwrap().unwrap();
    let received = reader_task.await.unwrap().unwrap();
    assert!(received == pattern(LEN), "echoed bytes differ");
}

#[runtime::test]
async fn dropping_owned_write_half_sends_eof() {
    let (client, mut server) = pair().await;
    let (read, write) = client.into_split();
    drop(write);
    let mut buf = [0; 8];
    assert_eq!(server.read(&mut buf).await.unwrap(), 0);

    // The read half still receives.
    server.write_all(b"still here").await.unwrap();
    let mut read = read;
    let mut reply = [0; 10];
    read.read_exact(&mut reply).await.unwrap();
    assert_eq!(&reply, b"still here");
}

#[runtime::test]
async fn owned_halves_reunite() {
    let (a, _a_peer) = pair().await;
    let (b, _b_peer) = pair().await;
    let (a_read, a_write) = a.into_split();
    let (b_read, b_write) = b.into_split();
    let error = a_read.reunite(b_write).unwrap_err();
    assert!(error.to_string().contains("not from the same socket"));
    let (a_read, b_write) = (error.0, error.1);

    let mut a = a_read.reunite(a_write).unwrap();
    let _b = b_write.reunite(b_read).unwrap();
    // Reuniting did not shut the write direction down.
    a.write_all(b"x").await.unwrap();
}

#[runtime::test]
async fn udp_send_to_and_recv_from() {
    let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());

    assert_eq!(a.send_to(b"ping", b_addr).await.unwrap(), 4);
    let mut buf = [0; 16];
    let (n, from) = b.peek_from(&mut buf).await.unwrap();
    assert_eq!((&buf[..n], from), (&b"ping"[..], a_addr));
    let (n, from) = b.recv_from(&mut buf).await.unwrap();
    assert_eq!((&buf[..n], from), (&b"ping"[..], a_addr));

    // A string target resolves too.
    b.send_to(b"pong", a_addr.to_string()).await.unwrap();
    let (n, from) = a.recv_from(&mut buf).await.unwrap();
    assert_eq!((&buf[..n], from), (&b"pong"[..], b_addr));

    let empty: &[SocketAddr] = &[];
    let error = a.send_to(b"nowhere", empty).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
}

#[runtime::test]
async fn udp_connected_send_and_recv() {
    let a = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    assert_eq!(a.peer_addr().unwrap_err().kind(), ErrorKind::NotConnected);
    a.connect(b.local_addr().unwrap()).await.unwrap();
    b.connect(a.local_addr().unwrap()).await.unwrap();
    assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());

    // A receiver parked in another task is woken by the datagram.
    let receiver = runtime::spawn({
        let a = a.clone();
        async move {
            let mut buf = [0; 16];
            let n = a.recv(&mut buf).await?;
            io::Result::Ok(buf[..n].to_vec())
        }
    });
    parked(receiver.id()).await;
    b.send(b"hello").await.unwrap();
    assert_eq!(receiver.await.unwrap().unwrap(), b"hello");

    a.send(b"back").await.unwrap();
    let mut buf = [0; 16];
    let n = b.recv(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"back");
}

#[cfg(feature = "profiling")] // asserts the recorded park
#[runtime::test]
async fn big_write_parks_on_writability_until_the_peer_reads() {
    const LEN: usize = 8 << 20;
    let (mut client, mut server) = pair().await;
    let site_line = Arc::new(AtomicU32::new(0));
    let writer = runtime::spawn({
        let site_line = site_line.clone();
        async move {
            let data = pattern(LEN);
            let (line, write) = (line!(), client.write_all(&data));
            site_line.store(line, SeqCst);
            write.await?;
            io::Result::Ok(client)
        }
    });

    // Nobody reads yet, so the writer fills the socket buffers and parks.
    let task = parked(writer.id()).await;
    let park = task.park().unwrap();
    assert_eq!(park.reason().to_string(), "IO wait");
    assert_eq!(park.reason().detail(), Some("write"));
    assert_eq!(park.site().file(), file!());
    assert_eq!(park.site().line(), site_line.load(SeqCst));
    assert_eq!(
        park.site().column(),
        column_of(park.site().line(), "write_all(")
    );

    // Read slowly, yielding between small reads.
    let mut received = Vec::with_capacity(LEN);
    let mut buf = [0; 16 * 1024];
    while received.len() < LEN {
        let n = server.read(&mut buf).await.unwrap();
        assert_ne!(n, 0, "unexpected EOF");
        received.extend_from_slice(&buf[..n]);
        runtime::yield_now().await;
    }
    writer.await.unwrap().unwrap();
    assert!(received == pattern(LEN), "received bytes differ");
}

#[cfg(feature = "profiling")] // asserts the recorded park
#[runtime::test]
async fn read_park_is_recorded_at_the_read_call() {
    let (mut client, server) = pair().await;
    let site_line = Arc::new(AtomicU32::new(0));
    let reader = runtime::spawn({
        let site_line = site_line.clone();
        let mut server = server;
        async move {
            let mut buf = [0; 16];
            let (line, read) = (line!(), server.read(&mut buf));
            site_line.store(line, SeqCst);
            read.await
        }
    });

    let task = parked(reader.id()).await;
    assert_eq!(task.state(), runtime::TaskState::Parked);
    let park = task.park().unwrap();
    assert_eq!(park.reason().to_string(), "IO wait");
    assert_eq!(format!("{:#}", park.reason()), "IO wait (read)");
    assert_eq!(park.reason().detail(), Some("read"));
    assert_eq!(park.site().file(), file!());
    assert_eq!(park.site().line(), site_line.load(SeqCst));
    assert_eq!(park.site().column(), column_of(park.site().line(), "read("));

    // Data wakes it.
    client.write_all(b"wake").await.unwrap();
    assert_eq!(reader.await.unwrap().unwrap(), 4);
}

#[cfg(feature = "profiling")] // asserts the recorded park
#[runtime::test]
async fn accept_park_is_recorded_at_the_accept_call() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let site_line = Arc::new(AtomicU32::new(0));
    let acceptor = runtime::spawn({
        let site_line = site_line.clone();
        async move {
            let (line, accept) = (line!(), listener.accept());
            site_line.store(line, SeqCst);
            let (_stream, peer) = accept.await?;
            io::Result::Ok(peer)
        }
    });

    let task = parked(acceptor.id()).await;
    let park = task.park().unwrap();
    assert_eq!(park.reason().to_string(), "IO wait");
    assert_eq!(park.reason().detail(), Some("accept"));
    assert_eq!(park.site().file(), file!());
    assert_eq!(park.site().line(), site_line.load(SeqCst));
    assert_eq!(
        park.site().column(),
        column_of(park.site().line(), "accept(")
    );

    let client = TcpStream::connect(addr).await.unwrap();
    assert_eq!(
        acceptor.await.unwrap().unwrap(),
        client.local_addr().unwrap()
    );
}

#[runtime::test]
async fn std_conversions_round_trip() {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = std_listener.local_addr().unwrap();
    let listener = TcpListener::from_std(std_listener).unwrap();
    let std_client = std::net::TcpStream::connect(addr).unwrap();
    let mut client = TcpStream::from_std(std_client).unwrap();
    let (mut server, _) = listener.accept().await.unwrap();
    client.write_all(b"std").await.unwrap();
    let mut buf = [0; 3];
    server.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"std");

    let std_server = server.into_std().unwrap();
    assert_eq!(
        std_server.peer_addr().unwrap(),
        client.local_addr().unwrap()
    );
    assert_eq!(listener.into_std().unwrap().local_addr().unwrap(), addr);
}

#[cfg(feature = "profiling")] // asserts the recorded park
/// A connected UDP socket that got an ICMP port-unreachable reports `ConnectionRefused` once,
/// then waits for datagrams again like any other socket.
///
/// Ignored until the reactor clears error readiness on `WouldBlock`: `ScheduledIo` keeps the
/// `ERROR` bit for good, so the second `recv` finds the socket "ready", gets `WouldBlock`,
/// and `Registration::poll_io` loops forever inside one poll, pinning a worker.
#[test]
fn udp_error_is_reported_once_then_recv_waits() {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    // On its own thread, so that a spinning worker fails this test instead of hanging it.
    std::thread::spawn(move || {
        let rt = runtime::Runtime::new().unwrap();
        let result = rt.block_on(async {
            let closed = std::net::UdpSocket::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap();
            let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
            socket.connect(closed).await.unwrap();
            socket.send(b"anyone?").await.unwrap();
            let mut buf = [0; 16];
            let error = socket.recv(&mut buf).await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::ConnectionRefused);

            let receiver = runtime::spawn({
                let socket = socket.clone();
                async move {
                    let mut buf = [0; 16];
                    let n = socket.recv(&mut buf).await?;
                    io::Result::Ok(buf[..n].to_vec())
                }
            });
            let task = parked(receiver.id()).await;
            assert_eq!(task.park().unwrap().reason().detail(), Some("read"));
            socket.connect(peer.local_addr().unwrap()).await.unwrap();
            peer.send_to(b"late", socket.local_addr().unwrap())
                .await
                .unwrap();
            receiver.await.unwrap().unwrap()
        });
        let _ = done_tx.send(result);
    });
    let received = done_rx
        .recv_timeout(PATIENCE + Duration::from_secs(5))
        .expect("the runtime is stuck (a worker spinning in poll_io?)");
    assert_eq!(received, b"late");
}
