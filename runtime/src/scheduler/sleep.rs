//! An idle worker's sleep: on the I/O-and-timer driver if no other worker holds it, on a
//! condition variable otherwise. A rouse before the sleep is never lost (ROUSED is a token
//! the next sleep consumes). ("Park" is kept for tasks: the park records of `crate::park`.)

use crate::driver::{self, Driver};
use crate::loom::atomic::{AtomicUsize, Ordering::*};
use crate::loom::{lock, Arc, Condvar, Mutex, MutexGuard};
use std::sync::TryLockError;
use std::time::Duration;

const EMPTY: usize = 0;
const ASLEEP_ON_CONDVAR: usize = 1;
const ASLEEP_ON_DRIVER: usize = 2;
const ROUSED: usize = 3;

/// The driver, owned by whichever sleeping worker holds the lock.
pub(crate) struct SharedDriver {
    driver: Mutex<Driver>,
    handle: std::sync::Arc<driver::Handle>,
}

impl SharedDriver {
    pub(crate) fn new(driver: Driver, handle: std::sync::Arc<driver::Handle>) -> SharedDriver {
        SharedDriver {
            driver: Mutex::new(driver),
            handle,
        }
    }

    /// Processes ready I/O and expired timers without blocking, if no worker sleeps on
    /// the driver. Workers call this between tasks so that timers fire under load.
    pub(crate) fn poll_now(&self) {
        self.poll_for(Duration::ZERO);
    }

    /// Turns the driver, blocking at most `timeout`, if no other thread holds it.
    pub(crate) fn poll_for(&self, timeout: Duration) {
        if let Some(mut driver) = self.try_lock() {
            driver.turn(Some(timeout));
        }
    }

    /// The driver if no other worker holds it. A poisoned lock (a panic while turning the
    /// driver) is taken over: the driver's state is consistent between turns.
    fn try_lock(&self) -> Option<MutexGuard<'_, Driver>> {
        match self.driver.try_lock() {
            Ok(driver) => Some(driver),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }
}

pub(crate) struct Sleeper {
    inner: Arc<Inner>,
}

#[derive(Clone)]
pub(crate) struct Rouser {
    inner: Arc<Inner>,
}

struct Inner {
    state: AtomicUsize,
    mutex: Mutex<()>,
    condvar: Condvar,
    shared: Arc<SharedDriver>,
}

impl Sleeper {
    pub(crate) fn new(shared: Arc<SharedDriver>) -> Sleeper {
        Sleeper {
            inner: Arc::new(Inner {
                state: AtomicUsize::new(EMPTY),
                mutex: Mutex::new(()),
                condvar: Condvar::new(),
                shared,
            }),
        }
    }

    pub(crate) fn rouser(&self) -> Rouser {
        Rouser {
            inner: self.inner.clone(),
        }
    }

    /// Blocks until roused (or, on the driver, until I/O or a timer needs the worker).
    /// Returns whether it turned the driver and left a timer due soon (`Driver::turn`).
    pub(crate) fn sleep(&mut self) -> bool {
        let inner = &*self.inner;
        for _ in 0..3 {
            if inner
                .state
                .compare_exchange(ROUSED, EMPTY, SeqCst, SeqCst)
                .is_ok()
            {
                return false;
            }
            std::hint::spin_loop();
        }
        if let Some(mut driver) = inner.shared.try_lock() {
            inner.sleep_on_driver(&mut driver)
        } else {
            inner.sleep_on_condvar();
            false
        }
    }
}

impl Inner {
    fn sleep_on_driver(&self, driver: &mut Driver) -> bool {
        match self
            .state
            .compare_exchange(EMPTY, ASLEEP_ON_DRIVER, SeqCst, SeqCst)
        {
            Ok(_) => {}
            Err(ROUSED) => {
                self.state.swap(EMPTY, SeqCst);
                return false;
            }
            Err(actual) => panic!("invariant: a sleeper going to sleep in state {actual}"),
        }
        let timer_due_soon = driver.turn(None);
        match self.state.swap(EMPTY, SeqCst) {
            ROUSED | ASLEEP_ON_DRIVER => {}
            actual => panic!("invariant: a sleeper woke in state {actual}"),
        }
        timer_due_soon
    }

    fn sleep_on_condvar(&self) {
        let mut guard = lock(&self.mutex);
        match self
            .state
            .compare_exchange(EMPTY, ASLEEP_ON_CONDVAR, SeqCst, SeqCst)
        {
            Ok(_) => {}
            Err(ROUSED) => {
                self.state.swap(EMPTY, SeqCst);
                return;
            }
            Err(actual) => panic!("invariant: a sleeper going to sleep in state {actual}"),
        }
        loop {
            guard = match self.condvar.wait(guard) {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
            if self
                .state
                .compare_exchange(ROUSED, EMPTY, SeqCst, SeqCst)
                .is_ok()
            {
                return;
            }
            // Spurious wakeup: keep waiting.
        }
    }
}

impl Rouser {
    pub(crate) fn rouse(&self) {
        let inner = &*self.inner;
        match inner.state.swap(ROUSED, SeqCst) {
            EMPTY | ROUSED => {}
            ASLEEP_ON_CONDVAR => {
                // Taking the lock orders this notify after the sleeper's wait began.
                drop(lock(&inner.mutex));
                inner.condvar.notify_one();
            }
            ASLEEP_ON_DRIVER => inner.shared.handle.interrupt(),
            actual => panic!("invariant: rousing a sleeper in state {actual}"),
        }
    }
}
