//! Dropping a runtime returns even while blocking closures use its timers, and from inside
//! its own blocking pool; blocking closures are never throttled by a task's budget.

use std::sync::mpsc;
use std::time::Duration;

#[test]
fn dropping_the_runtime_while_a_blocking_closure_sleeps_on_a_runtime_timer() {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
        let handle = rt.handle().clone();
        let (started_tx, started_rx) = mpsc::channel();
        let _join = rt.spawn_blocking(move || {
            handle.block_on(async {
                let _ = started_tx.send(());
                runtime::time::sleep(Duration::from_millis(300)).await;
            })
        });
        started_rx.recv().unwrap();
        drop(rt);
        let _ = tx.send(());
    });
    rx.recv_timeout(Duration::from_secs(5)).expect(
        "Runtime::drop hung: the blocking closure's timer is never fired after the workers exit",
    );
}
