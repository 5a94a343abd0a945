//! A foreign waker that panics when the driver wakes it must not take down the driver: the
//! runtime's other timers and sockets keep being serviced.

use std::future::Future;
use std::pin::pin;
use std::sync::{mpsc, Arc};
use std::task::{Context, Wake, Waker};
use std::time::Duration;

struct PanickingWaker;
impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        panic!("user waker panicked");
    }
}

#[test]
fn a_panicking_foreign_waker_does_not_stop_all_timers() {
    let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
    // A runtime timer polled by a foreign executor whose waker panics.
    {
        let _enter = rt.enter();
        let sleep = runtime::time::sleep(Duration::from_millis(10));
        let waker = Waker::from(Arc::new(PanickingWaker));
        let mut cx = Context::from_waker(&waker);
        let mut sleep = pin!(sleep);
        assert!(sleep.as_mut().poll(&mut cx).is_pending());
        std::thread::sleep(Duration::from_millis(200));
        // Keep `sleep` alive until it fired.
    }
    let (tx, rx) = mpsc::channel();
    rt.spawn(async move {
        runtime::time::sleep(Duration::from_millis(20)).await;
        let _ = tx.send(());
    });
    rx.recv_timeout(Duration::from_secs(5))
        .expect("timers are dead after a waker panicked in the driver");
    std::mem::forget(rt); // a dead worker's parker would make the drop noisy; not the point here
}
