//! The readiness of one registered socket, and the tasks waiting on it.

use crate::loom::lock_std as lock;
use smallvec::SmallVec;
use std::sync::atomic::{AtomicUsize, Ordering::*};
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

const READABLE: usize = 0b0_0001;
const WRITABLE: usize = 0b0_0010;
const READ_CLOSED: usize = 0b0_0100;
const WRITE_CLOSED: usize = 0b0_1000;
const ERROR: usize = 0b1_0000;
const READINESS_MASK: usize = 0b1_1111;
/// Waiters per direction before stale ones are flushed (see `poll_ready`).
const MAX_WAITERS: usize = 64;
/// The dispatch tick that last set readiness, above the readiness bits.
const TICK_SHIFT: usize = 16;

/// Which half of a socket an operation uses.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    /// Readiness bits that let an operation in this direction proceed (an error or a closed
    /// half must wake the waiter so that the syscall reports it).
    fn mask(self) -> usize {
        match self {
            Direction::Read => READABLE | READ_CLOSED | ERROR,
            Direction::Write => WRITABLE | WRITE_CLOSED | ERROR,
        }
    }
}

/// Readiness observed by a `poll_ready`, to be cleared if the syscall says `WouldBlock`.
#[derive(Copy, Clone, Debug)]
pub(crate) struct ReadyEvent {
    tick: u16,
    ready: usize,
}

pub(crate) struct ScheduledIo {
    /// `tick << TICK_SHIFT | readiness bits`.
    readiness: AtomicUsize,
    waiters: Mutex<Waiters>,
}

/// Tasks waiting for each direction. Usually one (a socket owned by one task, or one per
/// split half); a socket shared through `&self` (UDP, a listener) can have several, and all
/// are woken on readiness. A waiter whose future was dropped stays until the next event for
/// its direction, then gets one spurious wake.
#[derive(Default)]
struct Waiters {
    reader: SmallVec<[Waker; 1]>,
    writer: SmallVec<[Waker; 1]>,
}

impl ScheduledIo {
    pub(super) fn new() -> ScheduledIo {
        ScheduledIo {
            readiness: AtomicUsize::new(0),
            waiters: Mutex::new(Waiters::default()),
        }
    }

    pub(super) fn set_readiness(&self, tick: u16, event: &mio::event::Event) {
        let mut ready = 0;
        if event.is_readable() {
            ready |= READABLE;
        }
        if event.is_writable() {
            ready |= WRITABLE;
        }
        if event.is_read_closed() {
            ready |= READ_CLOSED;
        }
        if event.is_write_closed() {
            ready |= WRITE_CLOSED;
        }
        if event.is_error() {
            ready |= ERROR;
        }
        let _ = self.readiness.fetch_update(AcqRel, Acquire, |current| {
            Some((tick as usize) << TICK_SHIFT | (current & READINESS_MASK) | ready)
        });
    }

    pub(super) fn take_wakers(
        &self,
        event: &mio::event::Event,
        out: &mut crate::waitlist::Wakeups,
    ) {
        let mut waiters = lock(&self.waiters);
        let readable = event.is_readable() || event.is_read_closed() || event.is_error();
        let writable = event.is_writable() || event.is_write_closed() || event.is_error();
        if readable {
            out.extend(waiters.reader.drain(..));
        }
        if writable {
            out.extend(waiters.writer.drain(..));
        }
    }

    /// Ready if the socket may proceed in `direction`; otherwise the task's waker is stored.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<ReadyEvent> {
        let current = self.readiness.load(Acquire);
        if current & direction.mask() != 0 {
            return Poll::Ready(Self::event(current, direction));
        }
        let stale = {
            let mut waiters = lock(&self.waiters);
            let slot = match direction {
                Direction::Read => &mut waiters.reader,
                Direction::Write => &mut waiters.writer,
            };
            let mut stale = SmallVec::<[Waker; 1]>::new();
            if !slot.iter().any(|waker| waker.will_wake(cx.waker())) {
                if slot.len() >= MAX_WAITERS {
                    // Wakers of dropped futures accumulate on an idle socket: wake them all
                    // (live waiters poll again and re-register, stale ones are gone for good).
                    stale = std::mem::take(slot);
                }
                slot.push(cx.waker().clone());
            }
            stale
        };
        for waker in stale {
            waker.wake();
        }
        // Readiness may have arrived between the load and storing the waker.
        let current = self.readiness.load(Acquire);
        if current & direction.mask() != 0 {
            return Poll::Ready(Self::event(current, direction));
        }
        Poll::Pending
    }

    fn event(current: usize, direction: Direction) -> ReadyEvent {
        ReadyEvent {
            tick: (current >> TICK_SHIFT) as u16,
            ready: current & direction.mask(),
        }
    }

    /// The syscall said `WouldBlock`: forget the readiness it was attempted on, unless a newer
    /// event set it again meanwhile.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        // A closed half is final; an error is reported once by the syscall that returns it
        // (as tokio does), so it is cleared with the readiness it came with.
        let clear = event.ready & !(READ_CLOSED | WRITE_CLOSED);
        let _ = self.readiness.fetch_update(AcqRel, Acquire, |current| {
            if (current >> TICK_SHIFT) as u16 != event.tick {
                return None;
            }
            Some(current & !clear)
        });
    }

    /// Drops the stored wakers (the socket is going away).
    pub(crate) fn clear_wakers(&self) {
        let waiters = std::mem::take(&mut *lock(&self.waiters));
        drop(waiters);
    }
}
