//! `#[runtime::main]` and `#[runtime::test]` against the real runtime.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Returns `Pending` once (waking itself) before completing, so `block_on` has to handle a
/// wake-up instead of finishing on the first poll.
struct YieldOnce {
    yielded: bool,
}

fn yield_once() -> YieldOnce {
    YieldOnce { yielded: false }
}

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            Poll::Ready(())
        } else {
            self.yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

async fn add_after_yield(a: u64, b: u64) -> u64 {
    yield_once().await;
    a + b
}

// `#[runtime::main]` functions may have any name; each call builds its own runtime.
#[runtime::main(worker_threads = 2)]
async fn compute() -> u64 {
    let _handle = runtime::Handle::current();
    add_after_yield(40, 2).await
}

#[runtime::main]
async fn parse_doubled() -> Result<u32, std::num::ParseIntError> {
    yield_once().await;
    let n: u32 = "21".parse()?;
    Ok(n * 2)
}

#[runtime::main]
async fn parse_invalid() -> Result<u32, std::num::ParseIntError> {
    yield_once().await;
    let n: u32 = "not a number".parse()?;
    Ok(n)
}

#[test]
fn main_returns_body_output() {
    assert_eq!(compute(), 42);
}

#[test]
fn main_builds_a_fresh_runtime_per_call() {
    assert_eq!(compute(), 42);
    assert_eq!(compute(), 42);
}

#[test]
fn main_can_be_called_from_another_thread() {
    let value = std::thread::spawn(compute).join().unwrap();
    assert_eq!(value, 42);
}

#[test]
fn main_returns_result() {
    assert_eq!(parse_doubled(), Ok(42));
    assert!(parse_invalid().is_err());
}

#[runtime::test]
async fn test_runs_body_to_completion() {
    assert_eq!(add_after_yield(1, 2).await, 3);
}

#[runtime::test]
async fn test_has_a_current_handle() {
    let _handle = runtime::Handle::current();
    yield_once().await;
    let _again = runtime::Handle::current();
}

#[runtime::test(worker_threads = 4)]
async fn test_with_worker_threads() {
    let _handle = runtime::Handle::current();
    assert_eq!(add_after_yield(2, 2).await, 4);
}

#[runtime::test]
#[should_panic(expected = "boom from an async test")]
async fn test_panic_fails_the_test() {
    yield_once().await;
    panic!("boom from an async test");
}

#[runtime::test]
async fn test_returning_result() -> Result<(), io::Error> {
    yield_once().await;
    let value: Result<u64, io::Error> = Ok(add_after_yield(5, 5).await);
    assert_eq!(value?, 10);
    Ok(())
}

#[runtime::test]
async fn test_early_return() -> Result<(), String> {
    if add_after_yield(1, 1).await == 2 {
        return Ok(());
    }
    Err("1 + 1 != 2".to_string())
}

/// `leak_check` expands to the runtime's own `LeakCheck`: this crate's tests do not depend on
/// the profiler.
#[runtime::test(leak_check)]
async fn leak_check_needs_only_the_runtime() {
    runtime::spawn(async { 7 }).await.unwrap();
}

#[runtime::test(leak_check)]
#[should_panic(expected = "found 1 leaked task(s)\n\ntask ")]
async fn leak_check_fails_a_test_whose_task_outlives_it() {
    runtime::spawn(std::future::pending::<()>());
}
