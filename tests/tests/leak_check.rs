//! Goroutine-leak tests (the article's §4.6), ported: instead of comparing
//! `runtime.NumGoroutine()` before and after with a tolerance, `profiler::LeakCheck` names
//! each task spawned since the start that is still alive, why it is parked and where.

use profiler::LeakCheck;
use runtime::chan::{self, Receiver};
use runtime::context::Context;

/// The line of the `send` in `leaky_operation`, found in this file so the test states the
/// exact site a user would read in the report.
fn send_site() -> String {
    let source = include_str!("leak_check.rs");
    let (index, line) = source
        .lines()
        .enumerate()
        .find(|(_, line)| line.trim_start().starts_with("let _ = tx.send(result)"))
        .expect("the send is in this file");
    let column = line.find("send(").expect("the call") + 1;
    format!("tests/tests/leak_check.rs:{}:{column}", index + 1)
}

/// Starts work whose result nobody will read: the caller keeps the receiver (say, in a
/// struct) but never receives, so the sender parks forever on the unbuffered channel.
fn leaky_operation() -> Receiver<u32> {
    let (tx, rx) = chan::channel::<u32>(0);
    runtime::spawn(async move {
        let result = 42;
        let _ = tx.send(result).await;
    });
    rx
}

/// The same work, fixed with a one-slot buffer: the send completes whether or not anyone
/// ever receives.
fn buffered_operation() -> Receiver<u32> {
    let (tx, rx) = chan::channel::<u32>(1);
    runtime::spawn(async move {
        let _ = tx.send(42).await;
    });
    rx
}

/// The same work, fixed with Go's non-blocking send: `select` with `default` drops the
/// result when nobody is ready to take it.
fn non_blocking_operation() -> Receiver<u32> {
    let (tx, rx) = chan::channel::<u32>(0);
    runtime::spawn(async move {
        runtime::select! {
            _ = tx.send(42) => {},
            default => {},
        }
    });
    rx
}

#[runtime::test]
async fn leaking_operation_is_reported_with_reason_and_site() {
    let check = LeakCheck::start();
    let results = leaky_operation();
    let report = check.check().await.expect_err("the sender leaked");
    assert_eq!(report.tasks().len(), 1, "{report}");
    let text = report.to_string();
    assert!(text.starts_with("found 1 leaked task(s)"), "{text}");
    assert!(text.contains("[chan send, "), "{text}");
    assert!(
        text.contains(&format!("\tparked at {}\n", send_site())),
        "{text}"
    );
    // The receiver is alive, so the channel holds the sender's waker: suspected, not proven.
    assert_eq!(report.proven().count(), 0);
    drop(results);
}

#[runtime::test]
async fn buffered_twin_does_not_leak() {
    let check = LeakCheck::start();
    let results = buffered_operation();
    check.check().await.unwrap();
    drop(results);
}

#[runtime::test]
async fn select_default_twin_does_not_leak() {
    let check = LeakCheck::start();
    let results = non_blocking_operation();
    check.check().await.unwrap();
    drop(results);
}

/// The article's fixed test: `defer cancel()` releases the task waiting on `ctx.Done()`.
#[runtime::test(leak_check)]
async fn cancelled_context_leaves_no_task_behind() {
    let (ctx, cancel) = Context::background().with_cancel();
    let _cancel = cancel.cancel_on_drop();
    runtime::spawn(async move { ctx.done().await });
    let results = buffered_operation();
    assert_eq!(results.recv().await, Some(42));
}

/// The article's leaking test: the cancel func is never called (Go's "lostcancel"), so the
/// task waiting on `ctx.Done()` outlives the test, and `leak_check` fails it.
#[runtime::test(leak_check)]
#[should_panic(expected = "leaked task(s)")]
async fn lost_cancel_fails_the_test() {
    let (ctx, cancel) = Context::background().with_cancel();
    drop(cancel);
    runtime::spawn(async move { ctx.done().await });
}

/// A leak from the unbuffered send also fails a `leak_check` test, naming the wait.
#[runtime::test(leak_check)]
#[should_panic(expected = "[chan send, ")]
async fn leaking_send_fails_the_test() {
    // Kept, never read: a receiver that outlives the test body (here, forgotten).
    std::mem::forget(leaky_operation());
}
