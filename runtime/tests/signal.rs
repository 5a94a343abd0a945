//! `runtime::signal::ctrl_c` as a server's shutdown watcher sees it: parked as `signal wait` at
//! its call, and woken by a `SIGINT` to the process, on any runtime, however many wait.
//!
//! Its own test binary: the first `ctrl_c` call replaces the process's `SIGINT` disposition.
//! Every test holds [`serial`], so that one test's `SIGINT` cannot complete another's waiter,
//! and calls `ctrl_c` before sending any (until then `SIGINT` would kill the process).
#![cfg(unix)]

use support::{parked, wait_for};
use test_support as support;

use runtime::signal::ctrl_c;
use runtime::time::timeout;
use runtime::{JoinHandle, ParkReason, Runtime};
use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard};
use std::task::Poll;
use std::time::Duration;

/// A bound on every wait for a wake-up: a lost wake-up fails the test instead of hanging it.
const WAKE_LIMIT: Duration = Duration::from_secs(10);

fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Sends `SIGINT` to the process, as Ctrl-C in a terminal does: any thread may run the handler,
/// possibly after `kill` returns.
fn kill_sigint() {
    // SAFETY: `kill` has no memory-safety preconditions; a handler is installed by then.
    let sent = unsafe { libc::kill(libc::getpid(), libc::SIGINT) };
    assert_eq!(sent, 0, "kill: {}", io::Error::last_os_error());
}

/// Sends `SIGINT` to this thread: the handler has run when `raise` returns.
fn raise_sigint() {
    // SAFETY: `raise` has no memory-safety preconditions; a handler is installed by then.
    let sent = unsafe { libc::raise(libc::SIGINT) };
    assert_eq!(sent, 0, "raise: {}", io::Error::last_os_error());
}

/// The waiter's result, failing the test if it is not woken in time.
async fn woken(waiter: JoinHandle<io::Result<()>>) -> io::Result<()> {
    timeout(WAKE_LIMIT, waiter)
        .await
        .expect("waiter not woken by SIGINT")
        .expect("waiter panicked")
}

#[test]
fn waiter_parks_as_signal_wait_at_its_call_until_sigint() {
    let _serial = serial();
    Runtime::new().unwrap().block_on(async {
        // The site a user reads: the next line, at the column where `ctrl_c()` starts.
        let (line, column) = (line!() + 1, 45);
        let waiter = runtime::spawn(async { ctrl_c().await });
        let id = waiter.id();
        let profile = wait_for(|p| parked(p, id)).await;
        if runtime::park::ENABLED {
            let park = profile.task(id).unwrap().park().unwrap();
            assert_eq!(park.reason(), ParkReason::SignalWait);
            assert_eq!(park.reason().to_string(), "signal wait");
            let site = park.site();
            assert_eq!(
                (site.file(), site.line(), site.column()),
                (file!(), line, column)
            );
        }
        kill_sigint();
        woken(waiter).await.unwrap();
    });
}

#[test]
fn one_sigint_wakes_every_waiter() {
    let _serial = serial();
    Runtime::new().unwrap().block_on(async {
        let first = runtime::spawn(async { ctrl_c().await });
        let second = runtime::spawn(async { ctrl_c().await });
        let (a, b) = (first.id(), second.id());
        wait_for(|p| parked(p, a) && parked(p, b)).await;
        kill_sigint();
        woken(first).await.unwrap();
        woken(second).await.unwrap();
    });
}

#[test]
fn sigint_between_call_and_first_poll_completes_at_once() {
    let _serial = serial();
    Runtime::new().unwrap().block_on(async {
        let mut signal = ctrl_c();
        raise_sigint();
        let first = poll_fn(|cx| Poll::Ready(Pin::new(&mut signal).poll(cx))).await;
        assert!(
            matches!(first, Poll::Ready(Ok(()))),
            "first poll after the signal: {first:?}"
        );
    });
}

#[test]
fn waiters_on_two_runtimes_both_wake() {
    let _serial = serial();
    let (one, two) = (Runtime::new().unwrap(), Runtime::new().unwrap());
    let on_one = one.handle().spawn(async { ctrl_c().await });
    let on_two = two.handle().spawn(async { ctrl_c().await });
    let (a, b) = (on_one.id(), on_two.id());
    one.block_on(wait_for(|p| parked(p, a)));
    two.block_on(wait_for(|p| parked(p, b)));
    kill_sigint();
    one.block_on(woken(on_one)).unwrap();
    two.block_on(woken(on_two)).unwrap();
}

#[test]
fn dropped_waiter_does_not_stop_later_ones() {
    let _serial = serial();
    Runtime::new().unwrap().block_on(async {
        let mut dropped = ctrl_c();
        poll_fn(|cx| {
            assert!(Pin::new(&mut dropped).poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
        drop(dropped);

        let waiter = runtime::spawn(async { ctrl_c().await });
        let id = waiter.id();
        wait_for(|p| parked(p, id)).await;
        kill_sigint();
        woken(waiter).await.unwrap();
    });
}

#[test]
fn every_sigint_wakes_every_waiter_on_every_runtime() {
    let _serial = serial();
    let runtimes = [Runtime::new().unwrap(), Runtime::new().unwrap()];
    for round in 0..20 {
        let waiters: Vec<(&Runtime, JoinHandle<io::Result<()>>)> = (0..6)
            .map(|i| {
                let rt = &runtimes[i % 2];
                (rt, rt.handle().spawn(async { ctrl_c().await }))
            })
            .collect();
        for (rt, waiter) in &waiters {
            let id = waiter.id();
            rt.block_on(wait_for(|p| parked(p, id)));
        }
        kill_sigint();
        for (rt, waiter) in waiters {
            rt.block_on(woken(waiter))
                .unwrap_or_else(|error| panic!("round {round}: {error}"));
        }
    }
}

#[test]
fn sigints_while_nobody_waits_do_not_wedge_later_waiters() {
    let _serial = serial();
    Runtime::new().unwrap().block_on(async {
        // Installs the handler; then more deliveries than a default pipe (64 KiB) holds bytes,
        // with no registration to drain them: the handler's writes end up failing.
        drop(ctrl_c());
        for _ in 0..70_000 {
            raise_sigint();
        }
        let waiter = runtime::spawn(async { ctrl_c().await });
        let id = waiter.id();
        wait_for(|p| parked(p, id)).await;
        kill_sigint();
        woken(waiter).await.unwrap();
    });
}
