//! The workloads of the `compare` binary, each written once as a function generic over
//! [`Rt`] and run on both runtimes.
//!
//! A workload function takes a fresh runtime and an iteration count `k`: it sets up its state
//! (background tasks, connections), runs one untimed warm-up iteration, then returns the
//! time taken by `k` timed iterations, and tears its state down.
//!
//! The first seven are tokio's `rt_multi_threaded` benches (as in
//! `benches/benches/rt_multi_threaded.rs`); the channel and lock workloads are those of
//! `benches/benches/sync.rs`; then timers, a TCP echo on loopback, and hyper's HTTP/1 and
//! HTTP/2 clients against its servers on loopback.

use crate::oneshot;
use crate::rt::{ChanRx, ChanTx, HelloFuture, Rt};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Bytes;
use hyper::{Request, Response};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// Runs the workload's warm-up and `k` timed iterations on a runtime; returns the time of
/// the `k` iterations.
pub type RunFn<R> = fn(&<R as Rt>::Runtime, u32) -> Duration;

/// One workload, for runtime `R`.
pub struct Workload<R: Rt> {
    /// Its name in tables.
    pub name: &'static str,
    /// Runs it.
    pub run: RunFn<R>,
}

/// Every workload, in table order (the same order for every `R`).
pub fn all<R: Rt>() -> Vec<Workload<R>> {
    let w = |name: &'static str, run: RunFn<R>| Workload { name, run };
    vec![
        w("spawn_many_local", spawn_many_local::<R>),
        w("spawn_many_remote_idle", spawn_many_remote_idle::<R>),
        w("spawn_many_remote_busy1", spawn_many_remote_busy1::<R>),
        w("spawn_many_remote_busy2", spawn_many_remote_busy2::<R>),
        w("ping_pong", ping_pong::<R>),
        w("yield_many", yield_many::<R>),
        w("chained_spawn", chained_spawn::<R>),
        w("contention_bounded", contention_bounded::<R>),
        w("contention_bounded_full", contention_bounded_full::<R>),
        w("contention_unbounded", contention_unbounded::<R>),
        w("uncontended_bounded", uncontended_bounded::<R>),
        w("chan_ping_pong", chan_ping_pong::<R>),
        w("oneshot_request_reply", oneshot_request_reply::<R>),
        w("mutex_contention", mutex_contention::<R>),
        w("semaphore_contention", semaphore_contention::<R>),
        w("timers_10k_sleep_1ms", timers::<R>),
        w("tcp_echo_64x1000", tcp_echo::<R>),
        w("http_hello_64x50", http_hello::<R>),
        w("http2_hello_8x64x10", http2_hello::<R>),
    ]
}

const NUM_SPAWN: usize = 10_000;
const STALL_DUR: Duration = Duration::from_micros(10);
const PRODUCERS: usize = 5;
const MESSAGES: usize = 1_000;

/// One untimed warm-up iteration, then `k` timed ones.
fn timed(k: u32, mut iteration: impl FnMut()) -> Duration {
    iteration();
    let start = Instant::now();
    for _ in 0..k {
        iteration();
    }
    start.elapsed()
}

fn stall() {
    let now = Instant::now();
    while now.elapsed() < STALL_DUR {
        std::thread::yield_now();
    }
}

/// 10,000 tasks spawned from a task.
fn spawn_many_local<R: Rt>(rt: &R::Runtime, k: u32) -> Duration {
    let (tx, rx) = mpsc::sync_channel(1000);
    let rem = Arc::new(AtomicUsize::new(0));
    timed(k, || {
        rem.store(NUM_SPAWN, Relaxed);
        R::block_on(rt, async {
            let (tx, rem) = (tx.clone(), rem.clone());
            R::detach(async move {
                for _ in 0..NUM_SPAWN {
                    let (tx, rem) = (tx.clone(), rem.clone());
                    R::detach(async move {
                        if 1 == rem.fetch_sub(1, Relaxed) {
                            tx.send(()).unwrap();
                        }
                    });
                }
            });
            rx.recv().unwrap();
        });
    })
}

/// 10,000 tasks spawned from outside the runtime, then joined.
fn spawn_many_remote<R: Rt>(rt: &R::Runtime, k: u32, tasks: usize) -> Duration {
    let mut handles = Vec::with_capacity(tasks);
    timed(k, || {
        for _ in 0..tasks {
            handles.push(R::spawn_on(rt, async {}));
        }
        R::block_on(rt, async {
            for handle in handles.drain(..) {
                handle.await;
            }
        });
    })
}

fn spawn_many_remote_idle<R: Rt>(rt: &R::Runtime, k: u32) -> Duration {
    spawn_many_remote::<R>(rt, k, NUM_SPAWN)
}

/// Remote spawns while every worker runs a task that yields in a loop.
fn spawn_many_remote_busy1<R: Rt>(rt: &R::Runtime, k: u32) -> Duration {
    let flag = Arc::new(AtomicBool::new(true));
    for _ in 0..crate::workers() {
        let flag = flag.clone();
        R::detach_on(rt, async move {
            while flag.load(Relaxed) {
                R::yield_now().await;
            }
        });
    }
    let elapsed = spawn_many_remote::<R>(rt, k, NUM_SPAWN);
    flag.store(false, Relaxed);
    elapsed
}

/// 1,000 remote spawns while every worker runs a self-respawning 10 µs task.
fn spawn_many_remote_busy2<R: Rt>(rt: &R::Runtime, k: u32) -> Duration {
    fn iter<R: Rt>(flag: Arc<AtomicBool>) {
        R::detach(async {
            if flag.load(Relaxed) {
                stall();
                iter::<R>(flag);
            }
        });
    }
    let flag = Arc::new(AtomicBool::new(true));
    for _ in 0..crate::workers() {
        let flag = flag.clone();
        R::detach_on(rt, async {
            iter::<R>(flag);
        });
    }
    let elapsed = spawn_many_remote::<R>(rt, k, 1_000);
    flag.store(false, Relaxed);
    elapsed
}

/// 1,000 pairs of tasks exchanging a ping and a pong through a runtime-agnostic oneshot.
fn ping_pong<R: Rt>(rt: &R::Runtime, k: u32) -> Duration {
    const NUM_PINGS: usize = 1_000;
    let (done_tx, done_rx) = mpsc::sync_channel(1000);
    let rem = Arc::new(AtomicUsize::new(0));
    timed(k, || {
        let done_tx = done_tx.clone();
        let rem = rem.clone();
        rem.store(NUM_PINGS, Relaxed);
        R::block_on(rt, async {
            R::detach(async move {
                for _ in 0..NUM_PINGS {
                    let rem = rem.clone();
                    let done_tx = done_tx.clone();
                    R::detach(async move {
                        let (tx1, rx1) = oneshot::channel();
                        let (tx2, rx2) = oneshot::channel();
                        R::detach(async move {
                            rx1.await.unwrap();
                            tx2.send(()).unwrap();
                        });
                        tx1.send(()).unwrap();
                        rx2.await.unwrap();
                        if 1 == rem.fetch_sub(1, Relaxed) {
                            done_tx.send(()).unwrap();
                        }
                    });
                }
            });
            done_rx.recv().unwrap();
        });
    })
}

/// 200 tasks yielding 1,000 times each.
fn yield_many<R: Rt>(rt: &R::Runtime, k: u32) -> Duration {
    const NUM_YIELD: usize = 1_000;
    const TASKS: usize = 200;
    let (tx, rx) = mpsc::sync_channel(TASKS);
    timed(k, || {
        for _ in 0..TASKS {
            let tx = tx.clone();
            R::detach_on(rt, async move {
                for _ in 0..NUM_YIELD {
                    R::yield_now().await;
                }
                tx.send(()).unwrap();
            });
        }
        for _ in 0..TASKS {
            rx.recv().unwrap();
        }
    })
}

/// A chain of 1,000 tasks, each spawning the next.
fn chained_spawn<R: Rt>(rt: &R::Runtime, k: u32) -> Duration {
    fn iter<R: Rt>(done_tx: mpsc::SyncSender<()>, n: usize) {
        if n == 0 {
            done_tx.send(()).unwrap();
        } else {
            R::detach(async move {
                iter::<R>(done_tx, n - 1);
            });
        }
    }
    let (done_tx, done_rx) = mpsc::sync_channel(1000);
    timed(k, || {
        let done_tx = done_tx.clone();
        R::block_on(rt, async {
            R::detach(async move {
                iter::<R>(done_tx, 1_000);
            });
            done_rx.recv().unwrap();
        });
    })
}

/// 5 producer tasks × 1,000 messages into one consumer.
fn contention<R: Rt, Tx: ChanTx<usize>, Rx: ChanRx<usize>>(
    rt: &R::Runtime,
    k: u32,
    make: impl Fn() -> (Tx, Rx),
) -> Duration {
    timed(k, || {
        R::block_on(rt, async {
            let (tx, mut rx) = make();
            for _ in 0..PRODUCERS {
                let tx = tx.clone();
                R::detach(async move {
                    for i in 0..MESSAGES {
                        tx.send(i).await;
                    }
                });
            }
            drop(tx);
            let mut n = 0;
            while rx.recv().await.is_some() {
                n += 1;
            }
            assert_eq!(n, PRODUCERS * MESSAGES);
        })
    })
}

fn contention_bounded<R: Rt>(rt: &R::Runtime, k: u32) -> Duration {
    contention::<R, _, _>(rt, k, || R::channel(1_000_000))
}

fn contention_bounded_full<R: Rt>(rt: &R::Runtime, k: u32) -> Duration {
    contention::<R, _, _>(rt, k, || R::channel(100))
}

fn contention_unbounded<R: Rt>(rt: &R::Runtime, k: u32) -> Duration {
    contention::<R, _, _>(rt, k, R::unbounded)
}

/// One task sends 1,000 values into a roomy channel, then receives them.
fn uncontended_bounded<R: Rt>(rt: &R::Runtime, k: u32) -> Duration {
    timed(k, || {
        R::block_on(rt, async {
            let (tx, mut rx) = R::channel::<usize>(1_000_000);
            for i in 0..MESSAGES {
                tx.send(i).await;
            }
            for _ in 0..MESSAGES {
                rx.recv().await.unwrap();
            }
        })
    })
}

/// Two tasks bounce a value 1,000 times: Parkade's rendezvous channel (capacity 0) against
/// tokio's channel of capacity 1.
fn chan_ping_pong<R: Rt>(rt: &R::Runtime, k: u32) -> Duration {
    timed(k, || {
        R::block_on(
            rt,
            R::spawn_on(rt, async {
                let (ping_tx, mut ping_rx) = R::channel::<usize>(0);
                let (pong_tx, mut pong_rx) = R::channel::<usize>(0);
                let echo = R::spawn(async move {
                    while let Some(v) = ping_rx.recv().await {
                        pong_tx.send(v).await;
                    }
                });
                for i in 0..MESSAGES {
                    ping_tx.send(i).await;
                    assert_eq!(pong_rx.recv().await, Some(i));
                }
                drop(ping_tx);
                echo.await;
            }),
        )
    })
}

/// 1,000 requests from a client task to a server task, each answered through a oneshot.
fn oneshot_request_reply<R: Rt>(rt: &R::Runtime, k: u32) -> Duration {
    timed(k, || {
        R::block_on(
            rt,
            R::spawn_on(rt, async {
                let (tx, mut rx) = R::channel::<(usize, R::OneshotTx<usize>)>(16);
                let server = R::spawn(async move {
                    while let Some((v, reply)) = rx.recv().await {
                        R::oneshot_send(reply, v + 1);
                    }
                });
                for i in 0..MESSAGES {
                    let (reply, response) = R::oneshot();
                    tx.send((i, reply)).await;
                    assert_eq!(response.await, i + 1);
                }
                drop(tx);
                server.await;
            }),
        )
    })
}

/// 5 tasks × 1,000 lock/increment/unlock of one mutex.
fn mutex_contention<R: Rt>(rt: &R::Runtime, k: u32) -> Duration {
    timed(k, || {
        R::block_on(
            rt,
            R::spawn_on(rt, async {
                let m = Arc::new(R::mutex(0usize));
                let tasks: Vec<_> = (0..PRODUCERS)
                    .map(|_| {
                        let m = m.clone();
                        R::spawn(async move {
                            for _ in 0..MESSAGES {
                                *R::lock(&m).await += 1;
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await;
                }
                assert_eq!(*R::lock(&m).await, PRODUCERS * MESSAGES);
            }),
        )
    })
}

/// 5 tasks × 1,000 acquire/yield/release of one of 2 permits.
fn semaphore_contention<R: Rt>(rt: &R::Runtime, k: u32) -> Duration {
    timed(k, || {
        R::block_on(
            rt,
            R::spawn_on(rt, async {
                let s = Arc::new(R::semaphore(2));
                let tasks: Vec<_> = (0..PRODUCERS)
                    .map(|_| {
                        let s = s.clone();
                        R::spawn(async move {
                            for _ in 0..MESSAGES {
                                let _permit = R::acquire(&s).await;
                                R::yield_now().await;
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await;
                }
            }),
        )
    })
}

/// 10,000 tasks each sleeping 1 ms at once, joined.
fn timers<R: Rt>(rt: &R::Runtime, k: u32) -> Duration {
    const SLEEPERS: usize = 10_000;
    timed(k, || {
        R::block_on(
            rt,
            R::spawn_on(rt, async {
                let sleepers: Vec<_> = (0..SLEEPERS)
                    .map(|_| R::spawn(async { R::sleep(Duration::from_millis(1)).await }))
                    .collect();
                for sleeper in sleepers {
                    sleeper.await;
                }
            }),
        )
    })
}

/// 64 connections on loopback, each doing 1,000 round trips of 64 bytes (write, then read
/// the echo) concurrently against echo tasks on the same runtime. The connections are made
/// once per runtime, outside the timing.
fn tcp_echo<R: Rt>(rt: &R::Runtime, k: u32) -> Duration {
    const CONNECTIONS: usize = 64;
    const ROUND_TRIPS: usize = 1_000;
    const SIZE: usize = 64;
    let mut streams = R::block_on(rt, async {
        let listener = R::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await;
        let addr = R::local_addr(&listener);
        R::detach(async move {
            for _ in 0..CONNECTIONS {
                let mut stream = R::accept(&listener).await;
                R::detach(async move {
                    let mut buf = [0u8; SIZE];
                    loop {
                        let n = R::read(&mut stream, &mut buf).await.unwrap();
                        if n == 0 {
                            break;
                        }
                        R::write_all(&mut stream, &buf[..n]).await.unwrap();
                    }
                });
            }
        });
        let mut streams = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            streams.push(R::connect(addr).await);
        }
        streams
    });
    let elapsed = timed(k, || {
        let clients: Vec<_> = streams
            .drain(..)
            .map(|mut stream| {
                R::spawn_on(rt, async move {
                    let request = [7u8; SIZE];
                    let mut response = [0u8; SIZE];
                    for _ in 0..ROUND_TRIPS {
                        R::write_all(&mut stream, &request).await.unwrap();
                        R::read_exact(&mut stream, &mut response).await.unwrap();
                    }
                    assert_eq!(response, request);
                    stream
                })
            })
            .collect();
        streams = R::block_on(rt, async {
            let mut streams = Vec::with_capacity(CONNECTIONS);
            for client in clients {
                streams.push(client.await);
            }
            streams
        });
    });
    drop(streams);
    elapsed
}

/// The body of every HTTP response.
const HELLO: &[u8] = b"hello, world";

/// The service of the HTTP servers: `hello, world` to every request.
fn hello(_: Request<hyper::body::Incoming>) -> HelloFuture {
    std::future::ready(Ok(Response::new(Full::new(Bytes::from_static(HELLO)))))
}

/// A GET of `/`.
fn get() -> Request<Empty<Bytes>> {
    Request::get("/")
        .header(hyper::header::HOST, "127.0.0.1")
        .body(Empty::new())
        .unwrap()
}

/// Sends one GET and checks that the answer is `hello, world`.
async fn get_hello<B>(send: impl Future<Output = hyper::Result<Response<B>>>)
where
    B: hyper::body::Body,
    B::Error: std::fmt::Debug,
{
    let response = send.await.unwrap();
    assert!(response.status().is_success());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], HELLO);
}

/// A listener on loopback whose accepted connections are each served by `serve` in a task of
/// their own (`connections` of them); its address.
///
/// The servers and the clients' connection drivers ignore their connection's result: when
/// the runtime is dropped, each side's tasks are dropped in an order of the runtime's
/// choosing, and the side still running sees a broken pipe or a reset. Every request checks
/// its own response, so a failure while timing still panics.
async fn http_server<R: Rt, F>(connections: usize, serve: fn(R::HyperIo) -> F) -> SocketAddr
where
    F: Future<Output = ()> + Send + 'static,
{
    listen::<R, F>(SocketAddr::from(([127, 0, 0, 1], 0)), connections, serve).await
}

/// Binds `addr` and serves its first `connections` connections with `serve`, each in a task
/// of its own; the bound address.
async fn listen<R: Rt, F>(
    addr: SocketAddr,
    connections: usize,
    serve: fn(R::HyperIo) -> F,
) -> SocketAddr
where
    F: Future<Output = ()> + Send + 'static,
{
    let listener = R::bind(addr).await;
    let addr = R::local_addr(&listener);
    R::detach(async move {
        for _ in 0..connections {
            let stream = R::accept(&listener).await;
            R::detach(serve(R::hyper_io(stream)));
        }
    });
    addr
}

/// hyper's HTTP/1 server answering `hello, world`, as `http_hello` serves it.
async fn serve_hello_http1<R: Rt>(io: R::HyperIo) {
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(R::hyper_timer())
        .serve_connection(io, hyper::service::service_fn(hello))
        .await;
}

/// `http_hello`'s server on `addr`, for every connection that comes: what
/// `bin/http_server.rs` puts in front of an outside load generator. Returns the bound address.
pub async fn serve_hello<R: Rt>(addr: SocketAddr) -> SocketAddr {
    listen::<R, _>(addr, usize::MAX, serve_hello_http1::<R>).await
}

/// 64 keep-alive HTTP/1.1 connections on loopback, each sending 50 GETs one after the other
/// (hyper's client: `ready`, `send_request`, the body collected and checked) to hyper's
/// HTTP/1 server on the same runtime, one server task per connection. TCP_NODELAY on both
/// sides; the connections are made once per runtime, outside the timing.
fn http_hello<R: Rt>(rt: &R::Runtime, k: u32) -> Duration {
    const CONNECTIONS: usize = 64;
    const REQUESTS: usize = 50;
    let mut senders = R::block_on(rt, async {
        let addr = http_server::<R, _>(CONNECTIONS, serve_hello_http1::<R>).await;
        let mut senders = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            let io = R::hyper_io(R::connect(addr).await);
            let (sender, connection) = hyper::client::conn::http1::handshake(io).await.unwrap();
            R::detach(async move { drop(connection.await) });
            senders.push(sender);
        }
        senders
    });
    let elapsed = timed(k, || {
        let clients: Vec<_> = senders
            .drain(..)
            .map(|mut sender| {
                R::spawn_on(rt, async move {
                    for _ in 0..REQUESTS {
                        sender.ready().await.unwrap();
                        get_hello(sender.send_request(get())).await;
                    }
                    sender
                })
            })
            .collect();
        senders = R::block_on(rt, async {
            let mut senders = Vec::with_capacity(CONNECTIONS);
            for client in clients {
                senders.push(client.await);
            }
            senders
        });
    });
    drop(senders);
    elapsed
}

/// 8 HTTP/2 connections on loopback, each carrying 64 concurrent client tasks that send 10
/// GETs one after the other, to hyper's HTTP/2 server on the same runtime (hyper spawns each
/// stream through the runtime's executor). TCP_NODELAY on both sides; the connections are
/// made once per runtime, outside the timing.
fn http2_hello<R: Rt>(rt: &R::Runtime, k: u32) -> Duration {
    const CONNECTIONS: usize = 8;
    const STREAMS: usize = 64;
    const REQUESTS: usize = 10;
    let senders = R::block_on(rt, async {
        let addr = http_server::<R, _>(CONNECTIONS, |io| async move {
            let _ = hyper::server::conn::http2::Builder::new(R::hyper_executor())
                .timer(R::hyper_timer())
                .serve_connection(io, hyper::service::service_fn(hello))
                .await;
        })
        .await;
        let mut senders = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            let io = R::hyper_io(R::connect(addr).await);
            let (sender, connection) =
                hyper::client::conn::http2::Builder::new(R::hyper_executor())
                    .timer(R::hyper_timer())
                    .handshake(io)
                    .await
                    .unwrap();
            R::detach(async move { drop(connection.await) });
            senders.push(sender);
        }
        senders
    });
    let elapsed = timed(k, || {
        let clients: Vec<_> = senders
            .iter()
            .flat_map(|sender| (0..STREAMS).map(move |_| sender.clone()))
            .map(|mut sender| {
                R::spawn_on(rt, async move {
                    for _ in 0..REQUESTS {
                        sender.ready().await.unwrap();
                        get_hello(sender.send_request(get())).await;
                    }
                })
            })
            .collect();
        R::block_on(rt, async {
            for client in clients {
                client.await;
            }
        });
    });
    drop(senders);
    elapsed
}
