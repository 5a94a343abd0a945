//! Several tasks waiting on one socket through `&self` (UDP, a listener) are all woken.

use support::finishes_within;
use test_support as support;

use std::sync::Arc;
use std::time::Duration;

#[test]
fn two_tasks_receiving_on_one_udp_socket_both_get_datagrams() {
    finishes_within(10, || {
        let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
        rt.block_on(async {
            let sock = Arc::new(runtime::net::UdpSocket::bind("127.0.0.1:0").await.unwrap());
            let addr = sock.local_addr().unwrap();
            let mut tasks = Vec::new();
            for _ in 0..2 {
                let sock = sock.clone();
                tasks.push(runtime::spawn(async move {
                    let mut buf = [0u8; 16];
                    sock.recv(&mut buf).await.unwrap()
                }));
            }
            // Let both park on the socket.
            runtime::time::sleep(Duration::from_millis(100)).await;
            let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            for _ in 0..10 {
                sender.send_to(b"hi", addr).unwrap();
                runtime::time::sleep(Duration::from_millis(20)).await;
            }
            for t in tasks {
                assert_eq!(t.await.unwrap(), 2);
            }
        });
    });
}

#[test]
fn two_tasks_accepting_on_one_listener_both_get_connections() {
    finishes_within(10, || {
        let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
        rt.block_on(async {
            let listener = Arc::new(
                runtime::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .unwrap(),
            );
            let addr = listener.local_addr().unwrap();
            let mut tasks = Vec::new();
            for _ in 0..2 {
                let listener = listener.clone();
                tasks.push(runtime::spawn(
                    async move { listener.accept().await.unwrap().1 },
                ));
            }
            runtime::time::sleep(Duration::from_millis(100)).await;
            let mut conns = Vec::new();
            for _ in 0..4 {
                conns.push(std::net::TcpStream::connect(addr).unwrap());
                runtime::time::sleep(Duration::from_millis(20)).await;
            }
            for t in tasks {
                t.await.unwrap();
            }
        });
    });
}
