//! Why a task is parked: the reasons, their wire codes and their Go-style spelling.

use std::fmt;

/// Which readiness an `IO wait` park is for.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IoDirection {
    /// Waiting for a socket to become readable.
    Read,
    /// Waiting for a socket to become writable.
    Write,
    /// Waiting for a listener to have a connection to accept.
    Accept,
}

/// Why a task is parked. `Display` gives the reason string of DESIGN.md, in Go's spelling where
/// Go has the same wait (`chan receive`, `select`, `sleep`, `IO wait`, …).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ParkReason {
    /// Sending on a channel whose buffer is full, or an unbuffered channel with no receiver.
    ChanSend,
    /// Receiving from an empty channel.
    ChanReceive,
    /// A `select!` none of whose cases is ready; `Park::cases` lists them.
    Select,
    /// `select! {}`: parked forever.
    SelectNoCases,
    /// A timer: `sleep`, `sleep_until`, `interval`, `timeout`.
    Sleep,
    /// Waiting for socket readiness.
    IoWait(IoDirection),
    /// `Mutex::lock`.
    MutexLock,
    /// `RwLock::read`.
    RwLockRead,
    /// `RwLock::write`.
    RwLockWrite,
    /// `Semaphore::acquire`.
    SemaphoreAcquire,
    /// `Notify::notified`.
    NotifyWait,
    /// `WaitGroup::wait`.
    WaitGroupWait,
    /// Awaiting another task's `JoinHandle`.
    JoinWait,
    /// `Context::done`.
    ContextDone,
    /// Awaiting a `spawn_blocking` closure.
    Blocking,
    /// A future the runtime does not know returned `Pending`; see `runtime::park::label`.
    Unknown,
    /// `runtime::signal::ctrl_c`: waiting for the process to receive a signal.
    SignalWait,
    /// A name given with `runtime::park::label`.
    Label(&'static str),
}

impl ParkReason {
    /// The reason string without detail (`IO wait` for every direction).
    pub fn as_str(&self) -> &'static str {
        match self {
            ParkReason::ChanSend => "chan send",
            ParkReason::ChanReceive => "chan receive",
            ParkReason::Select => "select",
            ParkReason::SelectNoCases => "select (no cases)",
            ParkReason::Sleep => "sleep",
            ParkReason::IoWait(_) => "IO wait",
            ParkReason::MutexLock => "mutex lock",
            ParkReason::RwLockRead => "rwlock read",
            ParkReason::RwLockWrite => "rwlock write",
            ParkReason::SemaphoreAcquire => "semaphore acquire",
            ParkReason::NotifyWait => "notify wait",
            ParkReason::WaitGroupWait => "waitgroup wait",
            ParkReason::JoinWait => "join wait",
            ParkReason::ContextDone => "context done",
            ParkReason::Blocking => "blocking",
            ParkReason::Unknown => "unknown",
            ParkReason::SignalWait => "signal wait",
            ParkReason::Label(label) => label,
        }
    }

    /// The detail of an `IO wait`: `read`, `write` or `accept`.
    pub fn detail(&self) -> Option<&'static str> {
        match self {
            ParkReason::IoWait(IoDirection::Read) => Some("read"),
            ParkReason::IoWait(IoDirection::Write) => Some("write"),
            ParkReason::IoWait(IoDirection::Accept) => Some("accept"),
            _ => None,
        }
    }

    /// The 15-bit code stored in a park record. 0 means "no park recorded".
    #[inline(always)]
    pub(crate) fn code(self) -> u16 {
        match self {
            ParkReason::ChanSend => 1,
            ParkReason::ChanReceive => 2,
            ParkReason::Select => 3,
            ParkReason::SelectNoCases => 4,
            ParkReason::Sleep => 5,
            ParkReason::IoWait(IoDirection::Read) => 6,
            ParkReason::IoWait(IoDirection::Write) => 7,
            ParkReason::IoWait(IoDirection::Accept) => 8,
            ParkReason::MutexLock => 9,
            ParkReason::RwLockRead => 10,
            ParkReason::RwLockWrite => 11,
            ParkReason::SemaphoreAcquire => 12,
            ParkReason::NotifyWait => 13,
            ParkReason::WaitGroupWait => 14,
            ParkReason::JoinWait => 15,
            ParkReason::ContextDone => 16,
            ParkReason::Blocking => 17,
            ParkReason::Unknown => 18,
            ParkReason::SignalWait => 19,
            ParkReason::Label(label) => super::label::intern(label),
        }
    }

    pub(crate) fn from_code(code: u16) -> Option<ParkReason> {
        Some(match code {
            1 => ParkReason::ChanSend,
            2 => ParkReason::ChanReceive,
            3 => ParkReason::Select,
            4 => ParkReason::SelectNoCases,
            5 => ParkReason::Sleep,
            6 => ParkReason::IoWait(IoDirection::Read),
            7 => ParkReason::IoWait(IoDirection::Write),
            8 => ParkReason::IoWait(IoDirection::Accept),
            9 => ParkReason::MutexLock,
            10 => ParkReason::RwLockRead,
            11 => ParkReason::RwLockWrite,
            12 => ParkReason::SemaphoreAcquire,
            13 => ParkReason::NotifyWait,
            14 => ParkReason::WaitGroupWait,
            15 => ParkReason::JoinWait,
            16 => ParkReason::ContextDone,
            17 => ParkReason::Blocking,
            18 => ParkReason::Unknown,
            19 => ParkReason::SignalWait,
            code => ParkReason::Label(super::label::lookup(code)?),
        })
    }
}

impl fmt::Display for ParkReason {
    /// `{}` prints the reason string (`IO wait`); `{:#}` adds the detail (`IO wait (read)`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())?;
        match self.detail() {
            Some(detail) if f.alternate() => write!(f, " ({detail})"),
            _ => Ok(()),
        }
    }
}
