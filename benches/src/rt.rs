//! The two runtimes behind one trait, so that a workload is written once (as a generic
//! function) and runs on Parkade and on tokio's multi-thread runtime: [`Parkade`] and
//! [`Tokio`] implement [`Rt`] with each runtime's own spawn, channels, locks, timers and
//! sockets, and hyper's `rt` traits (I/O, executor, timer) over each runtime's sockets.
//!
//! Handles returned by the spawn functions are futures of the task's output (a panic in the
//! task panics the awaiter); dropping one detaches the task.

use http_body_util::{Empty, Full};
use hyper::body::Bytes;
use hyper::rt::bounds::{Http2ClientConnExec, Http2ServerConnExec};
use std::convert::Infallible;
use std::future::{Future, Ready};
use std::io;
use std::net::SocketAddr;
use std::ops::DerefMut;
use std::time::Duration;

/// The future of the HTTP workloads' service (`hello, world` from `std::future::ready`): a
/// type that can be named, so that [`Rt::HyperExecutor`]'s HTTP/2 bounds can be stated once
/// in the trait rather than on every generic function up to `main`.
pub type HelloFuture = Ready<Result<hyper::Response<Full<Bytes>>, Infallible>>;

/// The sending end of a channel.
pub trait ChanTx<T>: Clone + Send + Sync + 'static {
    /// Sends `value`, waiting for room if the channel is bounded; panics if it is closed.
    fn send(&self, value: T) -> impl Future<Output = ()> + Send + '_;
}

/// The receiving end of a channel.
pub trait ChanRx<T>: Send + 'static {
    /// The next value, or `None` once every sender is gone.
    fn recv(&mut self) -> impl Future<Output = Option<T>> + Send + '_;
}

/// One async runtime: everything the workloads use.
pub trait Rt: 'static {
    /// Its name in tables.
    const NAME: &'static str;

    /// The runtime itself (dropping it shuts it down).
    type Runtime;
    /// Bounded sender (capacity 0: Parkade's rendezvous, tokio's capacity 1).
    type Tx<T: Send + 'static>: ChanTx<T>;
    /// Bounded receiver.
    type Rx<T: Send + 'static>: ChanRx<T>;
    /// Unbounded sender.
    type UTx<T: Send + 'static>: ChanTx<T>;
    /// Unbounded receiver.
    type URx<T: Send + 'static>: ChanRx<T>;
    /// The sending end of a oneshot.
    type OneshotTx<T: Send + 'static>: Send + 'static;
    /// An async mutex.
    type Mutex<T: Send + 'static>: Send + Sync + 'static;
    /// A counting semaphore.
    type Semaphore: Send + Sync + 'static;
    /// A listening TCP socket.
    type Listener: Send + Sync + 'static;
    /// A connected TCP socket.
    type Stream: Send + 'static;
    /// A connected TCP socket as hyper's `rt::Read` and `rt::Write`.
    type HyperIo: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static;
    /// hyper's `rt::Executor` on this runtime, with the bounds of the HTTP/2 server (serving
    /// [`HelloFuture`]) and client (sending empty requests over [`Rt::HyperIo`]).
    type HyperExecutor: Http2ServerConnExec<HelloFuture, Full<Bytes>>
        + Http2ClientConnExec<Empty<Bytes>, Self::HyperIo>
        + Clone
        + Unpin
        + Send
        + Sync
        + 'static;
    /// hyper's `rt::Timer` on this runtime.
    type HyperTimer: hyper::rt::Timer + Clone + Send + Sync + 'static;

    /// A multi-thread runtime with `workers` worker threads (timers and I/O enabled).
    fn build(workers: usize) -> Self::Runtime;
    /// Runs `future` on this thread to completion.
    fn block_on<F: Future>(rt: &Self::Runtime, future: F) -> F::Output;

    /// Spawns onto `rt` from outside it.
    fn spawn_on<F>(
        rt: &Self::Runtime,
        future: F,
    ) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;
    /// Spawns onto `rt` from outside it, without a handle.
    fn detach_on<F>(rt: &Self::Runtime, future: F)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;
    /// Spawns onto the current runtime.
    fn spawn<F>(future: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;
    /// Spawns onto the current runtime, without a handle.
    fn detach<F>(future: F)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;
    /// Yields to the scheduler once.
    fn yield_now() -> impl Future<Output = ()> + Send;
    /// Sleeps for `duration`.
    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send;

    /// A bounded channel; `cap == 0` is the closest each runtime has to a rendezvous.
    fn channel<T: Send + 'static>(cap: usize) -> (Self::Tx<T>, Self::Rx<T>);
    /// An unbounded channel.
    fn unbounded<T: Send + 'static>() -> (Self::UTx<T>, Self::URx<T>);
    /// A oneshot channel: the sender, and a future of the value (panics if the sender is
    /// dropped unsent).
    fn oneshot<T: Send + 'static>() -> (Self::OneshotTx<T>, impl Future<Output = T> + Send + 'static);
    /// Sends through a oneshot, ignoring a receiver that is gone.
    fn oneshot_send<T: Send + 'static>(tx: Self::OneshotTx<T>, value: T);

    /// A mutex around `value`.
    fn mutex<T: Send + 'static>(value: T) -> Self::Mutex<T>;
    /// Locks it.
    fn lock<T: Send + 'static>(
        mutex: &Self::Mutex<T>,
    ) -> impl Future<Output = impl DerefMut<Target = T> + Send + '_> + Send + '_;
    /// A semaphore with `permits` permits.
    fn semaphore(permits: usize) -> Self::Semaphore;
    /// Acquires one permit, held until the returned value is dropped.
    fn acquire(semaphore: &Self::Semaphore) -> impl Future<Output = impl Send + '_> + Send + '_;

    /// Binds a listener (inside the runtime).
    fn bind(addr: SocketAddr) -> impl Future<Output = Self::Listener> + Send;
    /// Its address.
    fn local_addr(listener: &Self::Listener) -> SocketAddr;
    /// Accepts one connection (with `TCP_NODELAY`).
    fn accept(listener: &Self::Listener) -> impl Future<Output = Self::Stream> + Send + '_;
    /// Connects (with `TCP_NODELAY`).
    fn connect(addr: SocketAddr) -> impl Future<Output = Self::Stream> + Send;
    /// Wraps a connected std stream (inside the runtime).
    fn from_std(stream: std::net::TcpStream) -> Self::Stream;
    /// Reads some bytes; 0 at end of stream.
    fn read<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a;
    /// Fills `buf`.
    fn read_exact<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a;
    /// Writes all of `buf`.
    fn write_all<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a;

    /// Wraps a connected stream for hyper.
    fn hyper_io(stream: Self::Stream) -> Self::HyperIo;
    /// hyper's executor, spawning on the current runtime.
    fn hyper_executor() -> Self::HyperExecutor;
    /// hyper's timer, on the current runtime.
    fn hyper_timer() -> Self::HyperTimer;
}

/// Parkade.
pub struct Parkade;

/// tokio's multi-thread runtime.
pub struct Tokio;

impl<T: Send + 'static> ChanTx<T> for runtime::chan::Sender<T> {
    fn send(&self, value: T) -> impl Future<Output = ()> + Send + '_ {
        let send = runtime::chan::Sender::send(self, value);
        async move {
            if send.await.is_err() {
                panic!("channel closed");
            }
        }
    }
}

impl<T: Send + 'static> ChanRx<T> for runtime::chan::Receiver<T> {
    fn recv(&mut self) -> impl Future<Output = Option<T>> + Send + '_ {
        runtime::chan::Receiver::recv(self)
    }
}

impl Rt for Parkade {
    const NAME: &'static str = "Parkade";

    type Runtime = runtime::Runtime;
    type Tx<T: Send + 'static> = runtime::chan::Sender<T>;
    type Rx<T: Send + 'static> = runtime::chan::Receiver<T>;
    type UTx<T: Send + 'static> = runtime::chan::Sender<T>;
    type URx<T: Send + 'static> = runtime::chan::Receiver<T>;
    type OneshotTx<T: Send + 'static> = runtime::chan::oneshot::Sender<T>;
    type Mutex<T: Send + 'static> = runtime::sync::Mutex<T>;
    type Semaphore = runtime::sync::Semaphore;
    type Listener = runtime::net::TcpListener;
    type Stream = runtime::net::TcpStream;
    type HyperIo = runtime::compat::hyper::Io<runtime::net::TcpStream>;
    type HyperExecutor = runtime::compat::hyper::Executor;
    type HyperTimer = runtime::compat::hyper::Timer;

    fn build(workers: usize) -> runtime::Runtime {
        runtime::Builder::new()
            .worker_threads(workers)
            .build()
            .unwrap()
    }

    fn block_on<F: Future>(rt: &runtime::Runtime, future: F) -> F::Output {
        rt.block_on(future)
    }

    #[track_caller]
    fn spawn_on<F>(
        rt: &runtime::Runtime,
        future: F,
    ) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = rt.spawn(future);
        async move { handle.await.unwrap() }
    }

    #[track_caller]
    fn detach_on<F>(rt: &runtime::Runtime, future: F)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        rt.spawn(future);
    }

    #[track_caller]
    fn spawn<F>(future: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = runtime::spawn(future);
        async move { handle.await.unwrap() }
    }

    #[track_caller]
    fn detach<F>(future: F)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        runtime::spawn(future);
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        runtime::yield_now()
    }

    #[track_caller]
    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
        runtime::time::sleep(duration)
    }

    fn channel<T: Send + 'static>(cap: usize) -> (Self::Tx<T>, Self::Rx<T>) {
        runtime::chan::channel(cap)
    }

    fn unbounded<T: Send + 'static>() -> (Self::UTx<T>, Self::URx<T>) {
        runtime::chan::unbounded()
    }

    fn oneshot<T: Send + 'static>() -> (Self::OneshotTx<T>, impl Future<Output = T> + Send + 'static)
    {
        let (tx, rx) = runtime::chan::oneshot();
        (tx, async move { rx.await.unwrap() })
    }

    fn oneshot_send<T: Send + 'static>(tx: Self::OneshotTx<T>, value: T) {
        let _ = tx.send(value);
    }

    fn mutex<T: Send + 'static>(value: T) -> Self::Mutex<T> {
        runtime::sync::Mutex::new(value)
    }

    fn lock<T: Send + 'static>(
        mutex: &Self::Mutex<T>,
    ) -> impl Future<Output = impl DerefMut<Target = T> + Send + '_> + Send + '_ {
        mutex.lock()
    }

    fn semaphore(permits: usize) -> Self::Semaphore {
        runtime::sync::Semaphore::new(permits)
    }

    async fn acquire(semaphore: &Self::Semaphore) -> impl Send + '_ {
        semaphore.acquire().await.unwrap()
    }

    async fn bind(addr: SocketAddr) -> Self::Listener {
        runtime::net::TcpListener::bind(addr).await.unwrap()
    }

    fn local_addr(listener: &Self::Listener) -> SocketAddr {
        listener.local_addr().unwrap()
    }

    async fn accept(listener: &Self::Listener) -> Self::Stream {
        let (stream, _) = listener.accept().await.unwrap();
        stream.set_nodelay(true).unwrap();
        stream
    }

    async fn connect(addr: SocketAddr) -> Self::Stream {
        let stream = runtime::net::TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        stream
    }

    fn from_std(stream: std::net::TcpStream) -> Self::Stream {
        runtime::net::TcpStream::from_std(stream).unwrap()
    }

    #[track_caller]
    fn read<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a {
        stream.read(buf)
    }

    #[track_caller]
    fn read_exact<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a {
        let read = stream.read_exact(buf);
        async move { read.await.map(drop) }
    }

    #[track_caller]
    fn write_all<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a {
        stream.write_all(buf)
    }

    #[track_caller]
    fn hyper_io(stream: Self::Stream) -> Self::HyperIo {
        runtime::compat::hyper::Io::new(stream)
    }

    #[track_caller]
    fn hyper_executor() -> Self::HyperExecutor {
        runtime::compat::hyper::Executor::new()
    }

    #[track_caller]
    fn hyper_timer() -> Self::HyperTimer {
        runtime::compat::hyper::Timer::new()
    }
}

impl<T: Send + 'static> ChanTx<T> for tokio::sync::mpsc::Sender<T> {
    fn send(&self, value: T) -> impl Future<Output = ()> + Send + '_ {
        let send = tokio::sync::mpsc::Sender::send(self, value);
        async move {
            if send.await.is_err() {
                panic!("channel closed");
            }
        }
    }
}

impl<T: Send + 'static> ChanRx<T> for tokio::sync::mpsc::Receiver<T> {
    fn recv(&mut self) -> impl Future<Output = Option<T>> + Send + '_ {
        tokio::sync::mpsc::Receiver::recv(self)
    }
}

impl<T: Send + 'static> ChanTx<T> for tokio::sync::mpsc::UnboundedSender<T> {
    fn send(&self, value: T) -> impl Future<Output = ()> + Send + '_ {
        if tokio::sync::mpsc::UnboundedSender::send(self, value).is_err() {
            panic!("channel closed");
        }
        std::future::ready(())
    }
}

impl<T: Send + 'static> ChanRx<T> for tokio::sync::mpsc::UnboundedReceiver<T> {
    fn recv(&mut self) -> impl Future<Output = Option<T>> + Send + '_ {
        tokio::sync::mpsc::UnboundedReceiver::recv(self)
    }
}

impl Rt for Tokio {
    const NAME: &'static str = "tokio";

    type Runtime = tokio::runtime::Runtime;
    type Tx<T: Send + 'static> = tokio::sync::mpsc::Sender<T>;
    type Rx<T: Send + 'static> = tokio::sync::mpsc::Receiver<T>;
    type UTx<T: Send + 'static> = tokio::sync::mpsc::UnboundedSender<T>;
    type URx<T: Send + 'static> = tokio::sync::mpsc::UnboundedReceiver<T>;
    type OneshotTx<T: Send + 'static> = tokio::sync::oneshot::Sender<T>;
    type Mutex<T: Send + 'static> = tokio::sync::Mutex<T>;
    type Semaphore = tokio::sync::Semaphore;
    type Listener = tokio::net::TcpListener;
    type Stream = tokio::net::TcpStream;
    type HyperIo = hyper_util::rt::TokioIo<tokio::net::TcpStream>;
    type HyperExecutor = hyper_util::rt::TokioExecutor;
    type HyperTimer = hyper_util::rt::TokioTimer;

    fn build(workers: usize) -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
            .unwrap()
    }

    fn block_on<F: Future>(rt: &tokio::runtime::Runtime, future: F) -> F::Output {
        rt.block_on(future)
    }

    fn spawn_on<F>(
        rt: &tokio::runtime::Runtime,
        future: F,
    ) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = rt.spawn(future);
        async move { handle.await.unwrap() }
    }

    fn detach_on<F>(rt: &tokio::runtime::Runtime, future: F)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        rt.spawn(future);
    }

    fn spawn<F>(future: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = tokio::spawn(future);
        async move { handle.await.unwrap() }
    }

    fn detach<F>(future: F)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tokio::spawn(future);
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(duration)
    }

    fn channel<T: Send + 'static>(cap: usize) -> (Self::Tx<T>, Self::Rx<T>) {
        tokio::sync::mpsc::channel(cap.max(1))
    }

    fn unbounded<T: Send + 'static>() -> (Self::UTx<T>, Self::URx<T>) {
        tokio::sync::mpsc::unbounded_channel()
    }

    fn oneshot<T: Send + 'static>() -> (Self::OneshotTx<T>, impl Future<Output = T> + Send + 'static)
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        (tx, async move { rx.await.unwrap() })
    }

    fn oneshot_send<T: Send + 'static>(tx: Self::OneshotTx<T>, value: T) {
        let _ = tx.send(value);
    }

    fn mutex<T: Send + 'static>(value: T) -> Self::Mutex<T> {
        tokio::sync::Mutex::new(value)
    }

    fn lock<T: Send + 'static>(
        mutex: &Self::Mutex<T>,
    ) -> impl Future<Output = impl DerefMut<Target = T> + Send + '_> + Send + '_ {
        mutex.lock()
    }

    fn semaphore(permits: usize) -> Self::Semaphore {
        tokio::sync::Semaphore::new(permits)
    }

    async fn acquire(semaphore: &Self::Semaphore) -> impl Send + '_ {
        semaphore.acquire().await.unwrap()
    }

    async fn bind(addr: SocketAddr) -> Self::Listener {
        tokio::net::TcpListener::bind(addr).await.unwrap()
    }

    fn local_addr(listener: &Self::Listener) -> SocketAddr {
        listener.local_addr().unwrap()
    }

    async fn accept(listener: &Self::Listener) -> Self::Stream {
        let (stream, _) = listener.accept().await.unwrap();
        stream.set_nodelay(true).unwrap();
        stream
    }

    async fn connect(addr: SocketAddr) -> Self::Stream {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        stream
    }

    fn from_std(stream: std::net::TcpStream) -> Self::Stream {
        stream.set_nonblocking(true).unwrap();
        tokio::net::TcpStream::from_std(stream).unwrap()
    }

    fn read<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a {
        tokio::io::AsyncReadExt::read(stream, buf)
    }

    fn read_exact<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a {
        let read = tokio::io::AsyncReadExt::read_exact(stream, buf);
        async move { read.await.map(drop) }
    }

    fn write_all<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a {
        tokio::io::AsyncWriteExt::write_all(stream, buf)
    }

    fn hyper_io(stream: Self::Stream) -> Self::HyperIo {
        hyper_util::rt::TokioIo::new(stream)
    }

    fn hyper_executor() -> Self::HyperExecutor {
        hyper_util::rt::TokioExecutor::new()
    }

    fn hyper_timer() -> Self::HyperTimer {
        hyper_util::rt::TokioTimer::new()
    }
}
