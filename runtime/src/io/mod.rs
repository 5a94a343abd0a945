//! The I/O reactor: sockets registered with the driver's `mio::Poll`, edge-triggered, and the
//! readiness that tasks wait on.

mod registration;
mod scheduled;

pub(crate) use registration::PollEvented;
pub(crate) use scheduled::{Direction, ScheduledIo};

use crate::keyed_slab::{Key, KeyedSlab};
use crate::loom::lock_std as lock;
use std::sync::{Arc, Mutex};

/// Registered sockets, addressed by mio token. A token is the socket's [`Key`] as one word, so
/// an event for a socket that was deregistered and whose slot was reused is ignored.
pub(crate) struct IoDriver {
    registry: mio::Registry,
    sockets: Mutex<Sockets>,
}

struct Sockets {
    slab: KeyedSlab<Arc<ScheduledIo>>,
    /// Bumped at every dispatch; stamped into readiness so a stale clear can be detected.
    tick: u16,
}

impl IoDriver {
    pub(crate) fn new(registry: mio::Registry) -> IoDriver {
        IoDriver {
            registry,
            sockets: Mutex::new(Sockets {
                slab: KeyedSlab::new(),
                tick: 0,
            }),
        }
    }

    pub(crate) fn registry(&self) -> &mio::Registry {
        &self.registry
    }

    fn allocate(&self) -> (mio::Token, Arc<ScheduledIo>) {
        let shared = Arc::new(ScheduledIo::new());
        let key = lock(&self.sockets).slab.insert(shared.clone());
        (token_of(key), shared)
    }

    fn release(&self, token: mio::Token) {
        let io = lock(&self.sockets).slab.remove(key_of(token));
        drop(io);
    }

    /// Drops every waiting task's waker (runtime shutdown).
    pub(crate) fn clear(&self) {
        let sockets: Vec<_> = lock(&self.sockets).slab.iter().cloned().collect();
        for io in sockets {
            io.clear_wakers();
        }
    }

    /// Applies a batch of events and wakes the waiting tasks (outside the lock).
    pub(crate) fn dispatch(&self, events: &mio::Events, wake_token: mio::Token) {
        let mut wakers = crate::waitlist::Wakeups::new();
        {
            let mut sockets = lock(&self.sockets);
            sockets.tick = sockets.tick.wrapping_add(1);
            let tick = sockets.tick;
            for event in events.iter() {
                let token = event.token();
                if token == wake_token {
                    continue;
                }
                if let Some(io) = sockets.slab.get(key_of(token)) {
                    io.set_readiness(tick, event);
                    io.take_wakers(event, &mut wakers);
                }
            }
        }
        wakers.wake_all_contained();
    }
}

fn token_of(key: Key) -> mio::Token {
    mio::Token(key.to_bits() as usize)
}

fn key_of(token: mio::Token) -> Key {
    Key::from_bits(token.0 as u64)
}
