//! The I/O reactor: sockets registered with the driver's `mio::Poll`, edge-triggered, and the
//! readiness that tasks wait on.

mod registration;
mod scheduled;

pub(crate) use registration::PollEvented;
pub(crate) use scheduled::{Direction, ScheduledIo};

use crate::loom::lock_std as lock;
use slab::Slab;
use std::sync::{Arc, Mutex};

/// Registered sockets, addressed by mio token. A token is `generation << 32 | slab key`, so
/// an event for a socket that was deregistered and whose slot was reused is ignored.
pub(crate) struct IoDriver {
    registry: mio::Registry,
    sockets: Mutex<Sockets>,
}

struct Sockets {
    slab: Slab<Arc<ScheduledIo>>,
    generation: u32,
    /// Bumped at every dispatch; stamped into readiness so a stale clear can be detected.
    tick: u16,
}

impl IoDriver {
    pub(crate) fn new(registry: mio::Registry) -> IoDriver {
        IoDriver {
            registry,
            sockets: Mutex::new(Sockets {
                slab: Slab::new(),
                generation: 0,
                tick: 0,
            }),
        }
    }

    pub(crate) fn registry(&self) -> &mio::Registry {
        &self.registry
    }

    fn allocate(&self) -> (mio::Token, Arc<ScheduledIo>) {
        let mut sockets = lock(&self.sockets);
        sockets.generation = sockets.generation.wrapping_add(1);
        let generation = sockets.generation;
        let shared = Arc::new(ScheduledIo::new(generation));
        let key = sockets.slab.insert(shared.clone());
        let token = mio::Token((generation as usize) << 32 | key);
        (token, shared)
    }

    fn release(&self, token: mio::Token) {
        let key = token.0 & 0xffff_ffff;
        let generation = (token.0 >> 32) as u32;
        let mut sockets = lock(&self.sockets);
        if sockets
            .slab
            .get(key)
            .is_some_and(|io| io.generation() == generation)
        {
            sockets.slab.remove(key);
        }
    }

    /// Drops every waiting task's waker (runtime shutdown).
    pub(crate) fn clear(&self) {
        let sockets: Vec<_> = lock(&self.sockets)
            .slab
            .iter()
            .map(|(_, io)| io.clone())
            .collect();
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
                let key = token.0 & 0xffff_ffff;
                let generation = (token.0 >> 32) as u32;
                if let Some(io) = sockets.slab.get(key) {
                    if io.generation() == generation {
                        io.set_readiness(tick, event);
                        io.take_wakers(event, &mut wakers);
                    }
                }
            }
        }
        wakers.wake_all_contained();
    }
}
