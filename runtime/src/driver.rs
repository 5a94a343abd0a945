//! The driver: one `mio::Poll` for socket readiness plus the timer wheel, turned by whichever
//! idle worker holds it (see `scheduler::sleep`), and without blocking by busy workers
//! between tasks. No thread of its own, no thread per timer.

use crate::io::IoDriver;
use crate::time::TimeDriver;
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// How soon a pending timer must be due for a worker that leaves the driver with tasks to
/// wake another to take the driver over. Handing on costs a futex wake and a context switch
/// per driver turn (a busy server's every request): worth it only when a timer could be late.
/// Sockets that become ready while no worker turns the driver wait for the next turn, as on
/// tokio, whose workers never hand the driver on.
pub(crate) const HANDOFF_HORIZON: Duration = Duration::from_millis(250);

/// The token of the waker that interrupts a blocking poll.
const WAKE_TOKEN: mio::Token = mio::Token(usize::MAX);

pub(crate) struct Driver {
    poll: mio::Poll,
    events: mio::Events,
    handle: Arc<Handle>,
}

/// What leaf futures use to register sockets and timers.
pub(crate) struct Handle {
    pub(crate) io: IoDriver,
    pub(crate) time: TimeDriver,
    waker: mio::Waker,
}

impl Driver {
    pub(crate) fn new() -> io::Result<(Driver, Arc<Handle>)> {
        let poll = mio::Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), WAKE_TOKEN)?;
        let handle = Arc::new(Handle {
            io: IoDriver::new(poll.registry().try_clone()?),
            time: TimeDriver::new(),
            waker,
        });
        let driver = Driver {
            poll,
            events: mio::Events::with_capacity(1024),
            handle: handle.clone(),
        };
        Ok((driver, handle))
    }

    /// Waits for I/O, the next timer, an interrupt or `timeout`, whichever comes first, then
    /// wakes the tasks whose sockets became ready and whose timers expired. Returns whether a
    /// timer is due within [`HANDOFF_HORIZON`]: then a worker leaving the driver to run tasks
    /// hands it on, so that a long poll does not hold that timer up.
    pub(crate) fn turn(&mut self, timeout: Option<Duration>) -> bool {
        let handle = &*self.handle;
        let timeout = handle.time.before_turn(timeout);
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            // Nothing a task did can cause this; keep the runtime alive and report it.
            Err(error) => eprintln!("parkade: polling the I/O driver failed: {error}"),
        }
        handle.time.after_turn();
        handle.io.dispatch(&self.events, WAKE_TOKEN);
        handle.time.fire_expired(HANDOFF_HORIZON)
    }
}

impl Handle {
    /// Interrupts a worker blocked in `Driver::turn`.
    pub(crate) fn interrupt(&self) {
        if let Err(error) = self.waker.wake() {
            eprintln!("parkade: waking the I/O driver failed: {error}");
        }
    }
}
