//! Model checks of the task protocol: state word transitions, wakers racing with polls,
//! `abort` and `JoinHandle` racing with completion, and the hand-off of a `Notified` from a
//! waking thread through a run queue to the thread that polls it.
//!
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p runtime --lib --release loom`
//!
//! loom also fails a model that leaks a `loom::sync::Arc`: every test's future holds one, so
//! a reference-count bug that leaks a task fails here.

use super::{new_task, Meta, Notified, Schedule, Task};
use crate::loom::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::{lock, Arc, Mutex};
use crate::park::ParkReason;
use loom::thread;
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::panic::Location;
use std::task::{Poll, Waker};

/// A run queue and a one-task registry: the minimum a task needs from a scheduler.
#[derive(Clone)]
struct TestScheduler(Arc<Inner>);

struct Inner {
    queue: Mutex<VecDeque<Notified<TestScheduler>>>,
    owned: Mutex<Option<Task<TestScheduler>>>,
}

impl Schedule for TestScheduler {
    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        let mut owned = lock(&self.0.owned);
        match owned.as_ref() {
            Some(held) if held.ptr_eq(task) => owned.take(),
            _ => None,
        }
    }

    fn schedule(&self, task: Notified<Self>) {
        lock(&self.0.queue).push_back(task);
    }
}

impl TestScheduler {
    fn new() -> TestScheduler {
        TestScheduler(Arc::new(Inner {
            queue: Mutex::new(VecDeque::new()),
            owned: Mutex::new(None),
        }))
    }

    fn pop(&self) -> Option<Notified<TestScheduler>> {
        lock(&self.0.queue).pop_front()
    }

    fn spawn<F>(&self, future: F) -> (Notified<TestScheduler>, super::JoinHandle<F::Output>)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let meta = Meta::new(Location::caller(), None);
        let (task, notified, join) = new_task(future, self.clone(), meta, ParkReason::JoinWait);
        *lock(&self.0.owned) = Some(task);
        (notified, join)
    }

    /// Runs queued tasks until `done`; yields to the model while the queue is empty.
    fn run_until(&self, done: impl Fn() -> bool) {
        while !done() {
            match self.pop() {
                Some(task) => task.run(),
                None => thread::yield_now(),
            }
        }
    }

    /// Breaks the scheduler → task → scheduler cycle at the end of a model.
    fn shutdown(&self) {
        while self.pop().is_some() {}
        if let Some(task) = lock(&self.0.owned).take() {
            task.shutdown();
        }
    }
}

/// A value whose drops are counted.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Pending on the first poll (handing its waker out through `slot`), ready on the second.
fn wake_once(slot: Arc<Mutex<Option<Waker>>>, polls: Arc<AtomicUsize>) -> impl Future<Output = ()> {
    poll_fn(move |cx| {
        if polls.fetch_add(1, SeqCst) == 0 {
            *lock(&slot) = Some(cx.waker().clone());
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
}

#[test]
fn loom_wake_from_another_thread_races_the_poll() {
    loom::model(|| {
        let scheduler = TestScheduler::new();
        let slot = Arc::new(Mutex::new(None::<Waker>));
        let polls = Arc::new(AtomicUsize::new(0));
        let (notified, join) = scheduler.spawn(wake_once(slot.clone(), polls.clone()));

        let waker_thread = thread::spawn(move || loop {
            if let Some(waker) = lock(&slot).take() {
                waker.wake();
                return;
            }
            thread::yield_now();
        });

        notified.run();
        scheduler.run_until(|| join.is_finished());
        waker_thread.join().unwrap();
        assert_eq!(
            polls.load(SeqCst),
            2,
            "woken exactly once, polled exactly twice"
        );
        drop(join);
        scheduler.shutdown();
    });
}

#[test]
fn loom_wake_by_ref_and_clone_drop_race_the_poll() {
    loom::model(|| {
        let scheduler = TestScheduler::new();
        let slot = Arc::new(Mutex::new(None::<Waker>));
        let polls = Arc::new(AtomicUsize::new(0));
        let (notified, join) = scheduler.spawn(wake_once(slot.clone(), polls.clone()));

        let waker_thread = thread::spawn(move || loop {
            if let Some(waker) = lock(&slot).take() {
                let clone = waker.clone();
                waker.wake_by_ref();
                drop(waker);
                drop(clone);
                return;
            }
            thread::yield_now();
        });

        notified.run();
        scheduler.run_until(|| join.is_finished());
        waker_thread.join().unwrap();
        assert_eq!(polls.load(SeqCst), 2);
        drop(join);
        scheduler.shutdown();
    });
}

#[test]
fn loom_abort_races_completion() {
    loom::model(|| {
        let scheduler = TestScheduler::new();
        let output_drops = Arc::new(AtomicUsize::new(0));
        let future_drops = Arc::new(AtomicUsize::new(0));
        let output = Counted(output_drops.clone());
        let guard = Counted(future_drops.clone());
        let (notified, join) = scheduler.spawn(async move {
            let _guard = guard;
            output
        });

        let runner = {
            let scheduler = scheduler.clone();
            thread::spawn(move || {
                notified.run();
                // An abort may have queued a second `Notified`; running it is a no-op.
                while let Some(task) = scheduler.pop() {
                    task.run();
                }
            })
        };
        join.abort();
        let result = loom::future::block_on(join);
        runner.join().unwrap();
        scheduler.run_until(|| true);
        match result {
            Ok(output) => drop(output),
            Err(error) => assert!(error.is_cancelled()),
        }
        scheduler.shutdown();
        assert_eq!(
            future_drops.load(SeqCst),
            1,
            "the future is dropped exactly once"
        );
        assert_eq!(
            output_drops.load(SeqCst),
            1,
            "the output is dropped exactly once"
        );
    });
}

#[test]
fn loom_join_handle_drop_races_completion() {
    loom::model(|| {
        let scheduler = TestScheduler::new();
        let output_drops = Arc::new(AtomicUsize::new(0));
        let output = Counted(output_drops.clone());
        let (notified, join) = scheduler.spawn(async move { output });

        let runner = thread::spawn(move || notified.run());
        drop(join);
        runner.join().unwrap();
        scheduler.shutdown();
        assert_eq!(output_drops.load(SeqCst), 1);
    });
}

#[test]
fn loom_join_waker_registration_races_completion() {
    loom::model(|| {
        let scheduler = TestScheduler::new();
        let (notified, join) = scheduler.spawn(async { 7 });

        let runner = thread::spawn(move || notified.run());
        // block_on polls, registers its waker and parks until the completer wakes it: a lost
        // join wake-up deadlocks the model, which loom reports.
        assert_eq!(loom::future::block_on(join).unwrap(), 7);
        runner.join().unwrap();
        scheduler.shutdown();
    });
}

#[test]
fn loom_join_waker_replaced_while_completing() {
    loom::model(|| {
        let scheduler = TestScheduler::new();
        let slot = Arc::new(Mutex::new(None::<Waker>));
        let polls = Arc::new(AtomicUsize::new(0));
        let (notified, join) = scheduler.spawn(wake_once(slot.clone(), polls));
        notified.run(); // parked, waker in `slot`

        let waker = lock(&slot).take().unwrap();
        let runner = {
            let scheduler = scheduler.clone();
            thread::spawn(move || {
                waker.wake();
                while let Some(task) = scheduler.pop() {
                    task.run();
                }
            })
        };
        // Polls the handle from two different wakers (first a noop, then block_on's), so the
        // second registration must replace the first while the task may be completing.
        let mut join = join;
        let noop = Waker::noop();
        let mut cx = std::task::Context::from_waker(noop);
        let first = std::pin::Pin::new(&mut join).poll(&mut cx);
        runner.join().unwrap();
        let result = match first {
            Poll::Ready(result) => result,
            Poll::Pending => loom::future::block_on(join),
        };
        assert!(result.is_ok());
        scheduler.shutdown();
    });
}
