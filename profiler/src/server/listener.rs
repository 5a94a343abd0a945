//! The listener thread, its connection limits, and the [`DebugServer`] handle that stops it.

use super::connection::{self, Mode};
use super::renders::{Profiles, DEFAULT_MAX_RENDERS, DEFAULT_RENDER_WAIT};
use super::thread::lower_priority;
use runtime::Handle;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// Default time a client has to send its whole request head.
const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time one write of a response may block on a client that does not read.
const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default number of connections served at once.
const DEFAULT_MAX_CONNECTIONS: usize = 256;
/// Connections over the limit that still get a `503`; past these they are closed unanswered.
const MAX_REJECTING: usize = 16;
/// Pause after an accept error other than a vanished client (say, out of file descriptors)
/// so the listener thread does not spin.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(50);

/// Serves the debug endpoint for the current runtime on `addr`.
///
/// Bind `127.0.0.1` (or `[::1]`) unless the endpoint must be reachable from other hosts: it
/// shows every task's name, future type and source location and has no authentication. The
/// address is bound as given; port 0 picks a free port, see [`DebugServer::local_addr`].
///
/// The server answers on threads of its own (see the [module docs](super)) until the
/// returned [`DebugServer`] is dropped or [shut down](DebugServer::shutdown).
///
/// # Errors
/// Outside a Parkade runtime (use [`serve_handle`] from other threads), or when `addr` cannot
/// be resolved or bound.
///
/// # Examples
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let server = profiler::serve("127.0.0.1:0").unwrap();
/// let addr = server.local_addr();
/// assert!(addr.ip().is_loopback());
/// server.shutdown();
/// # });
/// ```
pub fn serve(addr: impl ToSocketAddrs) -> io::Result<DebugServer> {
    DebugServerBuilder::new().serve(addr)
}

/// Serves the debug endpoint for the runtime of `handle` on `addr`, from any thread.
///
/// # Errors
/// When `addr` cannot be resolved or bound.
pub fn serve_handle(addr: impl ToSocketAddrs, handle: Handle) -> io::Result<DebugServer> {
    DebugServerBuilder::new().serve_handle(addr, handle)
}

/// Settings of a debug server: timeouts and the connection limit.
///
/// ```
/// use std::time::Duration;
/// # let rt = runtime::Runtime::new().unwrap();
/// let server = profiler::DebugServerBuilder::new()
///     .read_timeout(Duration::from_secs(1))
///     .serve_handle("127.0.0.1:0", rt.handle().clone())
///     .unwrap();
/// # drop(server);
/// ```
#[derive(Debug, Clone)]
pub struct DebugServerBuilder {
    config: Config,
}

/// What every connection thread needs to know.
#[derive(Debug, Clone, Copy)]
pub(super) struct Config {
    /// Deadline for each request head, measured from the accept or from the previous answer
    /// on a kept-alive connection.
    pub(super) read_timeout: Duration,
    /// Bound on each blocking write of a response.
    pub(super) write_timeout: Duration,
    /// Connections served at once; never 0.
    pub(super) max_connections: usize,
    /// Heavy profiles rendered at once; never 0.
    pub(super) max_renders: usize,
    /// How long a request waits for a render slot before its `503`.
    pub(super) render_wait: Duration,
}

impl Default for DebugServerBuilder {
    fn default() -> DebugServerBuilder {
        DebugServerBuilder::new()
    }
}

impl DebugServerBuilder {
    /// The defaults: 5 s to send a request head, 10 s per blocked write, 256 connections.
    pub fn new() -> DebugServerBuilder {
        DebugServerBuilder {
            config: Config {
                read_timeout: DEFAULT_READ_TIMEOUT,
                write_timeout: DEFAULT_WRITE_TIMEOUT,
                max_connections: DEFAULT_MAX_CONNECTIONS,
                max_renders: DEFAULT_MAX_RENDERS,
                render_wait: DEFAULT_RENDER_WAIT,
            },
        }
    }

    /// How long a client may take to send its whole request head (after connecting, or after
    /// the previous answer on a kept-alive connection) before it is dropped unanswered. A zero
    /// duration is raised to 1 ms.
    pub fn read_timeout(mut self, timeout: Duration) -> DebugServerBuilder {
        self.config.read_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How long one write of a response may block on a client that does not read. A zero
    /// duration is raised to 1 ms.
    pub fn write_timeout(mut self, timeout: Duration) -> DebugServerBuilder {
        self.config.write_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How many connections are served at once, each on its own thread; connections beyond
    /// get `503 Service Unavailable`. At least 1.
    pub fn max_connections(mut self, max: usize) -> DebugServerBuilder {
        self.config.max_connections = max.max(1);
        self
    }

    /// How many heavy profiles (`goroutine`, `goroutineleak`, `park`, the index) are
    /// rendered at once (default 2, at least 1). Requests that overlap share one snapshot;
    /// requests beyond wait for a slot up to [`render_wait`](Self::render_wait), then get
    /// `503 Service Unavailable` with `Retry-After: 1`. The endpoint's memory so stays
    /// within `max` snapshots whatever the number of clients. `/metrics` and `/debug/vars`
    /// take no snapshot and are never held up.
    pub fn max_renders(mut self, max: usize) -> DebugServerBuilder {
        self.config.max_renders = max.max(1);
        self
    }

    /// How long a request for a heavy profile waits for a render slot (default 5 s).
    pub fn render_wait(mut self, wait: Duration) -> DebugServerBuilder {
        self.config.render_wait = wait;
        self
    }

    /// Like [`serve`], with these settings.
    ///
    /// # Errors
    /// Outside a Parkade runtime, or when `addr` cannot be resolved or bound.
    pub fn serve(self, addr: impl ToSocketAddrs) -> io::Result<DebugServer> {
        let handle = Handle::try_current().map_err(|_| {
            io::Error::other(
                "profiler::serve must be called inside a Parkade runtime (a task or block_on); \
                 from other threads use profiler::serve_handle(addr, runtime.handle().clone())",
            )
        })?;
        self.serve_handle(addr, handle)
    }

    /// Like [`serve_handle`], with these settings.
    ///
    /// # Errors
    /// When `addr` cannot be resolved or bound.
    pub fn serve_handle(self, addr: impl ToSocketAddrs, handle: Handle) -> io::Result<DebugServer> {
        let listener = TcpListener::bind(addr)?;
        let local_addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = Acceptor {
            listener,
            stop: stop.clone(),
            profiles: Profiles::new(handle, self.config.max_renders, self.config.render_wait),
            config: self.config,
            serving: Arc::new(AtomicUsize::new(0)),
            rejecting: Arc::new(AtomicUsize::new(0)),
        };
        let thread = thread::Builder::new()
            .name("parkade-debug-server".into())
            .spawn(move || {
                lower_priority();
                acceptor.run()
            })?;
        Ok(DebugServer {
            local_addr,
            stop,
            thread: Some(thread),
        })
    }
}

/// A running debug endpoint. Dropping it stops the listener, like [`DebugServer::shutdown`].
#[derive(Debug)]
#[must_use = "the server stops when the DebugServer is dropped"]
pub struct DebugServer {
    local_addr: SocketAddr,
    /// Set once, by `stop`; the listener thread exits at its next accept.
    stop: Arc<AtomicBool>,
    /// `None` once joined (or detached because it could not be woken).
    thread: Option<thread::JoinHandle<()>>,
}

impl DebugServer {
    /// The address the server is bound to, with the port the OS picked for port 0.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting connections and joins the listener thread. Requests already being
    /// answered finish on their own threads (within the read and write timeouts); a
    /// kept-alive connection is closed at its next request, or after the read timeout.
    pub fn shutdown(self) {
        drop(self);
    }

    fn stop(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        self.stop.store(true, Ordering::Release);
        // The listener blocks in `accept`: a connection of our own wakes it to see `stop`.
        // Should even that fail, the thread is left blocked rather than hanging this one.
        if TcpStream::connect_timeout(&wake_addr(self.local_addr), Duration::from_secs(1)).is_ok() {
            let _ = thread.join();
        }
    }
}

impl Drop for DebugServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Where to connect to reach a listener bound to `addr`: its own address, or loopback for a
/// wildcard one.
fn wake_addr(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}

/// The listener thread's state.
struct Acceptor {
    listener: TcpListener,
    stop: Arc<AtomicBool>,
    profiles: Arc<Profiles>,
    config: Config,
    /// Connections being served; at most `config.max_connections`.
    serving: Arc<AtomicUsize>,
    /// Connections being told `503`; at most `MAX_REJECTING`.
    rejecting: Arc<AtomicUsize>,
}

impl Acceptor {
    fn run(self) {
        loop {
            let accepted = self.listener.accept();
            if self.stop.load(Ordering::Acquire) {
                return;
            }
            match accepted {
                Ok((stream, _peer)) => self.dispatch(stream),
                Err(err) if is_transient(&err) => {}
                Err(_) => thread::sleep(ACCEPT_ERROR_BACKOFF),
            }
        }
    }

    /// Hands `stream` to a thread of its own, or drops it when every slot is taken.
    fn dispatch(&self, stream: TcpStream) {
        let (slot, mode) =
            if let Some(slot) = Slot::acquire(&self.serving, self.config.max_connections) {
                (slot, Mode::Serve)
            } else if let Some(slot) = Slot::acquire(&self.rejecting, MAX_REJECTING) {
                (slot, Mode::Reject)
            } else {
                return;
            };
        let profiles = self.profiles.clone();
        let config = self.config;
        let stop = self.stop.clone();
        // If the thread cannot be spawned the closure, its slot and the stream are dropped:
        // the client sees the connection close.
        let _ = thread::Builder::new()
            .name("parkade-debug-conn".into())
            .spawn(move || {
                let _slot = slot;
                lower_priority();
                connection::serve(stream, &profiles, &config, mode, &stop);
            });
    }
}

/// Errors of `accept` that concern one connection, not the listener.
fn is_transient(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::Interrupted
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::WouldBlock
    )
}

/// One taken place under a counter's limit, given back on drop.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn acquire(counter: &Arc<AtomicUsize>, limit: usize) -> Option<Slot> {
        counter
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(counter.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_and_given_back() {
        let counter = Arc::new(AtomicUsize::new(0));
        let a = Slot::acquire(&counter, 2).unwrap();
        let _b = Slot::acquire(&counter, 2).unwrap();
        assert!(Slot::acquire(&counter, 2).is_none());
        drop(a);
        assert!(Slot::acquire(&counter, 2).is_some());
        assert_eq!(counter.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn wildcard_addresses_are_woken_through_loopback() {
        let v4: SocketAddr = "0.0.0.0:80".parse().unwrap();
        assert_eq!(wake_addr(v4), "127.0.0.1:80".parse().unwrap());
        let v6: SocketAddr = "[::]:80".parse().unwrap();
        assert_eq!(wake_addr(v6), "[::1]:80".parse().unwrap());
        let named: SocketAddr = "10.1.2.3:80".parse().unwrap();
        assert_eq!(wake_addr(named), named);
    }
}
