//! Parking an idle worker: on the I/O-and-timer driver if no other worker holds it, on a
//! condition variable otherwise. An unpark before the park is never lost (NOTIFIED is a
//! token the next park consumes).

use crate::driver::{self, Driver};
use crate::loom::atomic::{AtomicUsize, Ordering::*};
use crate::loom::{lock, Arc, Condvar, Mutex, MutexGuard};
use std::sync::TryLockError;
use std::time::Duration;

const EMPTY: usize = 0;
const PARKED_CONDVAR: usize = 1;
const PARKED_DRIVER: usize = 2;
const NOTIFIED: usize = 3;

/// The driver, owned by whichever parked worker holds the lock.
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

    /// Processes ready I/O and expired timers without blocking, if no worker is parked on
    /// the driver. Workers call this between tasks so that timers fire under load.
    pub(crate) fn poll_now(&self) {
        self.poll_for(Duration::ZERO);
    }

    /// Turns the driver, blocking at most `timeout`, if no other thread holds it.
    pub(crate) fn poll_for(&self, timeout: Duration) {
        if let Some(mut driver) = self.try_lock() {
            driver.park(Some(timeout));
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

pub(crate) struct Parker {
    inner: Arc<Inner>,
}

#[derive(Clone)]
pub(crate) struct Unparker {
    inner: Arc<Inner>,
}

struct Inner {
    state: AtomicUsize,
    mutex: Mutex<()>,
    condvar: Condvar,
    shared: Arc<SharedDriver>,
}

impl Parker {
    pub(crate) fn new(shared: Arc<SharedDriver>) -> Parker {
        Parker {
            inner: Arc::new(Inner {
                state: AtomicUsize::new(EMPTY),
                mutex: Mutex::new(()),
                condvar: Condvar::new(),
                shared,
            }),
        }
    }

    pub(crate) fn unparker(&self) -> Unparker {
        Unparker {
            inner: self.inner.clone(),
        }
    }

    /// Blocks until unparked (or, on the driver, until I/O or a timer needs the worker).
    /// Returns whether it turned the driver and left a timer due soon (`Driver::park`).
    pub(crate) fn park(&mut self) -> bool {
        let inner = &*self.inner;
        for _ in 0..3 {
            if inner
                .state
                .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
                .is_ok()
            {
                return false;
            }
            std::hint::spin_loop();
        }
        if let Some(mut driver) = inner.shared.try_lock() {
            inner.park_driver(&mut driver)
        } else {
            inner.park_condvar();
            false
        }
    }
}

impl Inner {
    fn park_driver(&self, driver: &mut Driver) -> bool {
        match self
            .state
            .compare_exchange(EMPTY, PARKED_DRIVER, SeqCst, SeqCst)
        {
            Ok(_) => {}
            Err(NOTIFIED) => {
                self.state.swap(EMPTY, SeqCst);
                return false;
            }
            Err(actual) => panic!("invariant: parking a parker in state {actual}"),
        }
        let timer_due_soon = driver.park(None);
        match self.state.swap(EMPTY, SeqCst) {
            NOTIFIED | PARKED_DRIVER => {}
            actual => panic!("invariant: parker woke in state {actual}"),
        }
        timer_due_soon
    }

    fn park_condvar(&self) {
        let mut guard = lock(&self.mutex);
        match self
            .state
            .compare_exchange(EMPTY, PARKED_CONDVAR, SeqCst, SeqCst)
        {
            Ok(_) => {}
            Err(NOTIFIED) => {
                self.state.swap(EMPTY, SeqCst);
                return;
            }
            Err(actual) => panic!("invariant: parking a parker in state {actual}"),
        }
        loop {
            guard = match self.condvar.wait(guard) {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
            if self
                .state
                .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
                .is_ok()
            {
                return;
            }
            // Spurious wakeup: keep waiting.
        }
    }
}

impl Unparker {
    pub(crate) fn unpark(&self) {
        let inner = &*self.inner;
        match inner.state.swap(NOTIFIED, SeqCst) {
            EMPTY | NOTIFIED => {}
            PARKED_CONDVAR => {
                // Taking the lock orders this notify after the parker's wait began.
                drop(lock(&inner.mutex));
                inner.condvar.notify_one();
            }
            PARKED_DRIVER => inner.shared.handle.unpark(),
            actual => panic!("invariant: unparking a parker in state {actual}"),
        }
    }
}
