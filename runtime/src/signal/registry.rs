//! Process-wide signal state: one handler per signal, a count of its deliveries, and the
//! self-pipe that turns a delivery into readiness on every runtime's reactor.
//!
//! The handler does two things, both async-signal-safe: it bumps the signal's delivery count
//! and writes one byte to the pipe. Waiters never learn *which* byte is theirs: a waiter
//! drains the pipe when its registration reports it readable, then compares the count with
//! the one it saw when it was created. The count is the truth; the pipe is only the doorbell.
//!
//! Why no waiter can sleep through a delivery (registration is edge-triggered, and any waiter
//! may drain bytes meant for another): a waiter parks only after finding the count unchanged,
//! its registration in place since a moment when either an edge was pending for it (a
//! registration made while the pipe is not empty gets one at once) or the pipe was empty (it
//! had just drained it, or registered it empty). A later delivery bumps the count before it
//! writes, so its byte comes after that check. A pending edge wakes the waiter anyway;
//! otherwise the first byte written since the pipe was empty landed in an empty pipe, which
//! gives every registration an edge, this waiter's included. Woken, the waiter drains and
//! checks again. A full pipe (writes failing with `EAGAIN`) is not empty, so it already gave
//! that edge.
//!
//! The atomics are `std`'s, not the `crate::loom` facade's: a signal handler needs real,
//! statically initialised, lock-free atomics.

use crate::loom::lock_std as lock;
use mio::unix::pipe::{Receiver, Sender};
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering::*};
use std::sync::{Mutex, OnceLock};

/// Signals numbered below this have a slot: every standard signal on Linux, macOS and the
/// BSDs (real-time signals have none).
const SLOTS: usize = 32;

/// Signals whose default action cannot or must not be replaced by a handler that only counts:
/// `SIGKILL` and `SIGSTOP` cannot be caught, and returning from a handler for a synchronous
/// fault (`SIGILL`, `SIGFPE`, `SIGSEGV`) re-runs the faulting instruction forever.
const FORBIDDEN: [libc::c_int; 5] = [
    libc::SIGILL,
    libc::SIGFPE,
    libc::SIGKILL,
    libc::SIGSEGV,
    libc::SIGSTOP,
];

/// One signal's state. Indexed by signal number in [`SIGNALS`].
struct Slot {
    /// Deliveries since the handler was installed. Only the handler writes it; only grows.
    deliveries: AtomicU64,
    /// Set, under [`INSTALL`], once the handler is installed; never cleared (the handler stays
    /// for the life of the process).
    installed: AtomicBool,
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            deliveries: AtomicU64::new(0),
            installed: AtomicBool::new(false),
        }
    }
}

static SIGNALS: [Slot; SLOTS] = [const { Slot::new() }; SLOTS];

/// The self-pipe, created by the first install. Both ends stay open for the life of the
/// process (a read never sees end-of-file); both are non-blocking and close-on-exec.
struct SelfPipe {
    /// Written by the handler, through [`SENDER`].
    sender: Sender,
    /// Never read itself: each waiter registers and reads its own `dup`, so that every
    /// registration (on any runtime) gets its own edge.
    receiver: Receiver,
}

static PIPE: OnceLock<SelfPipe> = OnceLock::new();

/// The raw fd of the pipe's write end, or -1 before the pipe exists. Set before any handler is
/// installed. The handler reads this rather than [`PIPE`] so that it touches nothing but
/// lock-free atomics.
static SENDER: AtomicI32 = AtomicI32::new(-1);

/// Serialises installs (the first call for each signal; later calls never take it).
static INSTALL: Mutex<()> = Mutex::new(());

/// A signal whose handler is installed, and the pipe that announces its deliveries.
#[derive(Copy, Clone)]
pub(super) struct Installed {
    slot: &'static Slot,
    pipe: &'static SelfPipe,
}

impl Installed {
    /// Deliveries of the signal so far (since its handler was installed).
    #[inline]
    pub(super) fn deliveries(self) -> u64 {
        self.slot.deliveries.load(SeqCst)
    }

    /// A new read end of the self-pipe (a `dup`, non-blocking and close-on-exec), for one
    /// waiter to register with its runtime's reactor.
    pub(super) fn receiver(self) -> io::Result<Receiver> {
        Ok(Receiver::from(
            self.pipe.receiver.as_fd().try_clone_to_owned()?,
        ))
    }
}

/// Installs the process's handler for `signum` on first use (the pipe too, on the very first),
/// and returns it. From then on the signal's default action (for `SIGINT`: terminating the
/// process) no longer happens.
///
/// # Errors
/// `InvalidInput` for a signal that has no slot or cannot be handled; the OS error if the pipe
/// cannot be created or `sigaction` fails (nothing is installed then, and a later call tries
/// again).
pub(super) fn install(signum: libc::c_int) -> io::Result<Installed> {
    let slot = usize::try_from(signum)
        .ok()
        .and_then(|index| SIGNALS.get(index))
        .filter(|_| signum != 0 && !FORBIDDEN.contains(&signum))
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("signal {signum} cannot be waited for"),
            )
        })?;
    if slot.installed.load(Acquire) {
        if let Some(pipe) = PIPE.get() {
            return Ok(Installed { slot, pipe });
        }
    }
    let _guard = lock(&INSTALL);
    let pipe = match PIPE.get() {
        Some(pipe) => pipe,
        None => {
            let (sender, receiver) = mio::unix::pipe::new()?;
            let pipe = PIPE.get_or_init(|| SelfPipe { sender, receiver });
            SENDER.store(pipe.sender.as_raw_fd(), SeqCst);
            pipe
        }
    };
    if !slot.installed.load(Acquire) {
        set_handler(signum)?;
        slot.installed.store(true, Release);
    }
    Ok(Installed { slot, pipe })
}

/// Reads the pipe (through `receiver`, one of its read ends) until it is empty.
///
/// # Errors
/// A read error other than `WouldBlock` (none is expected from a pipe).
pub(super) fn drain(receiver: &Receiver) -> io::Result<()> {
    let mut bytes = [0u8; 256];
    let mut receiver = receiver;
    loop {
        match receiver.read(&mut bytes) {
            // End-of-file cannot happen (the write end is never closed); stop rather than spin.
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
}

/// Makes [`on_signal`] the handler of `signum`, restarting interrupted system calls.
fn set_handler(signum: libc::c_int) -> io::Result<()> {
    // SAFETY: `sigaction` is a plain C struct of integers, a signal set and (on some targets)
    // an optional function pointer, for all of which all-zero bytes are a valid value.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    action.sa_flags = libc::SA_RESTART;
    // SAFETY: `sa_mask` is a valid, exclusively borrowed `sigset_t` to initialise.
    if unsafe { libc::sigemptyset(&mut action.sa_mask) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `action` is fully initialised and outlives the call; the old action is not
    // asked for (null). The handler it installs is async-signal-safe (see `on_signal`).
    if unsafe { libc::sigaction(signum, &action, std::ptr::null_mut()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The handler of every installed signal. Async-signal-safe: it touches only lock-free atomics
/// (Rust's atomics always are) and calls only `write`, and it leaves `errno` as it found it
/// for the code it interrupted. It cannot panic.
extern "C" fn on_signal(signum: libc::c_int) {
    let saved = errno::get();
    if let Some(slot) = usize::try_from(signum)
        .ok()
        .and_then(|index| SIGNALS.get(index))
    {
        // Before the write: a waiter that reads the byte must see the new count.
        slot.deliveries.fetch_add(1, SeqCst);
    }
    let sender = SENDER.load(SeqCst);
    if sender >= 0 {
        let byte = 1u8;
        // SAFETY: `sender` is the pipe's write end, open for the life of the process, and
        // `byte` is valid for a one-byte read. `EAGAIN` (the pipe is full) is ignored: a full
        // pipe is readable already, so every waiter has had its edge (see the module doc).
        let _ = unsafe { libc::write(sender, std::ptr::from_ref(&byte).cast(), 1) };
    }
    errno::set(saved);
}

/// Saving and restoring `errno` around the handler's `write`, through each libc's accessor.
mod errno {
    #[cfg(any(
        target_os = "linux",
        target_os = "emscripten",
        target_os = "hurd",
        target_os = "dragonfly",
        target_os = "redox",
    ))]
    use libc::__errno_location as location;

    #[cfg(any(
        target_os = "android",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "cygwin",
        target_os = "nuttx",
    ))]
    use libc::__errno as location;

    #[cfg(any(target_vendor = "apple", target_os = "freebsd"))]
    use libc::__error as location;

    #[cfg(any(target_os = "solaris", target_os = "illumos"))]
    use libc::___errno as location;

    /// Targets without a known accessor: `errno` is not preserved there (an interrupted call
    /// could then see `EAGAIN`, and only when the pipe is full).
    ///
    /// # Safety
    /// None needed; `unsafe` only to match the libc accessors.
    #[cfg(not(any(
        target_os = "linux",
        target_os = "emscripten",
        target_os = "hurd",
        target_os = "dragonfly",
        target_os = "redox",
        target_os = "android",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "cygwin",
        target_os = "nuttx",
        target_vendor = "apple",
        target_os = "freebsd",
        target_os = "solaris",
        target_os = "illumos",
    )))]
    unsafe fn location() -> *mut libc::c_int {
        std::ptr::null_mut()
    }

    /// The calling thread's `errno`.
    pub(super) fn get() -> libc::c_int {
        // SAFETY: the accessor takes nothing and returns the calling thread's `errno`
        // location, valid for the thread's lifetime (or null, where unknown).
        let errno = unsafe { location() };
        if errno.is_null() {
            return 0;
        }
        // SAFETY: a non-null location is this thread's `errno`, valid and only used by it.
        unsafe { *errno }
    }

    /// Sets the calling thread's `errno`.
    pub(super) fn set(value: libc::c_int) {
        // SAFETY: as in `get`.
        let errno = unsafe { location() };
        if !errno.is_null() {
            // SAFETY: as in `get`.
            unsafe { *errno = value };
        }
    }
}
