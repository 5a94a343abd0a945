use crate::park;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Gives the worker to the other runnable tasks; this task runs again after them.
///
/// ```
/// # runtime::Runtime::new().unwrap().block_on(async {
/// runtime::yield_now().await;
/// # });
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future of [`yield_now`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        park::record_yield();
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
