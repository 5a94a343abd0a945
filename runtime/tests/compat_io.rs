//! The `tokio-io` and `futures-io` features: code written against tokio's and futures'
//! I/O traits (tokio-util codecs, futures' `copy`) over Parkade sockets.

#![cfg(all(feature = "tokio-io", feature = "futures-io"))]

use test_support as support;

use futures_util::io::{AsyncReadExt as _, AsyncWriteExt as _};
use futures_util::{SinkExt as _, StreamExt as _};
use runtime::net::{TcpListener, TcpStream};
use std::future::poll_fn;
use std::io::IoSlice;
use std::pin::Pin;
use tokio_util::codec::{Framed, FramedRead, FramedWrite, LinesCodec};

/// A connected pair over loopback: (client, server).
async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let client = runtime::spawn(async move { TcpStream::connect(addr).await.unwrap() });
    let (server, _) = listener.accept().await.unwrap();
    (client.await.unwrap(), server)
}

#[runtime::test]
async fn tokio_util_framed_lines_round_trip() {
    let (client, server) = pair().await;
    // The server answers each line upper-cased, until the client closes.
    let echo = runtime::spawn(async move {
        let mut lines = Framed::new(server, LinesCodec::new());
        let mut answered = 0;
        while let Some(line) = lines.next().await {
            lines.send(line.unwrap().to_uppercase()).await.unwrap();
            answered += 1;
        }
        answered
    });
    let mut lines = Framed::new(client, LinesCodec::new());
    for word in ["parkade", "runs", "tokio-util codecs"] {
        lines.send(word).await.unwrap();
        assert_eq!(lines.next().await.unwrap().unwrap(), word.to_uppercase());
    }
    // A line longer than one read, split by the kernel however it likes.
    let long = "x".repeat(200_000);
    lines.send(long.as_str()).await.unwrap();
    assert_eq!(lines.next().await.unwrap().unwrap(), long.to_uppercase());
    drop(lines);
    assert_eq!(echo.await.unwrap(), 4);
}

#[runtime::test]
async fn tokio_traits_on_owned_and_borrowed_halves() {
    let (client, mut server) = pair().await;
    let (read, write) = client.into_split();
    let mut sink = FramedWrite::new(write, LinesCodec::new());
    let mut stream = FramedRead::new(read, LinesCodec::new());
    {
        let (read, write) = TcpStream::split(&mut server);
        let mut server_lines = FramedRead::new(read, LinesCodec::new());
        let mut server_sink = FramedWrite::new(write, LinesCodec::new());
        sink.send("ping").await.unwrap();
        let line = server_lines.next().await.unwrap().unwrap();
        server_sink.send(format!("{line} pong")).await.unwrap();
    }
    assert_eq!(stream.next().await.unwrap().unwrap(), "ping pong");
    // Shutting down the write half through tokio's trait ends the peer's stream.
    let mut write = sink.into_inner();
    poll_fn(|cx| tokio::io::AsyncWrite::poll_shutdown(Pin::new(&mut write), cx))
        .await
        .unwrap();
    let mut server_lines = FramedRead::new(server, LinesCodec::new());
    assert!(server_lines.next().await.is_none());
}

#[runtime::test]
async fn tokio_vectored_write_sends_every_slice() {
    let (mut client, mut server) = pair().await;
    let slices = [
        IoSlice::new(b"head "),
        IoSlice::new(b"and "),
        IoSlice::new(b"body"),
    ];
    let n = poll_fn(|cx| {
        tokio::io::AsyncWrite::poll_write_vectored(Pin::new(&mut client), cx, &slices)
    })
    .await
    .unwrap();
    assert_eq!(n, 13);
    let mut got = [0; 13];
    server.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"head and body");
}

#[runtime::test]
async fn futures_io_copy_echoes_a_megabyte() {
    let (client, server) = pair().await;
    let echo = runtime::spawn(async move {
        let (mut read, mut write) = server.into_split();
        let copied = futures_util::io::copy(&mut read, &mut write).await.unwrap();
        write.close().await.unwrap();
        copied
    });
    let data: Vec<u8> = (0..1 << 20).map(|i: u32| (i * 7 % 251) as u8).collect();
    let (mut read, mut write) = client.into_split();
    let sent = data.clone();
    let writer = runtime::spawn(async move {
        write.write_all(&sent).await.unwrap();
        write.close().await.unwrap();
    });
    let mut echoed = Vec::new();
    read.read_to_end(&mut echoed).await.unwrap();
    writer.await.unwrap();
    assert_eq!(echo.await.unwrap(), data.len() as u64);
    assert!(echoed == data, "the echo differs from what was sent");
}

#[cfg(feature = "profiling")] // asserts the recorded park
#[runtime::test]
async fn a_codec_waiting_for_a_line_parks_as_io_wait_read() {
    let (client, server) = pair().await;
    let reader = runtime::spawn(async move {
        let mut lines = FramedRead::new(server, LinesCodec::new());
        lines.next().await
    });
    let profile = support::wait_for(|p| support::parked(p, reader.id())).await;
    let park = profile.task(reader.id()).unwrap().park().unwrap().clone();
    assert_eq!(format!("{:#}", park.reason()), "IO wait (read)");
    // Through tokio's trait the site is the line that polled the socket: tokio-util's.
    assert!(
        park.site().file().contains("tokio-util"),
        "site {} is not in the codec",
        park.site()
    );
    let mut client = client;
    client.write_all(b"done\n").await.unwrap();
    assert_eq!(reader.await.unwrap().unwrap().unwrap(), "done");
}
