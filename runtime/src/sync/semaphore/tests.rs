use super::*;
use std::task::Waker;

fn poll<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn head_is_assigned_permits_piecemeal_and_blocks_later_waiters() {
    let semaphore = Semaphore::new(1);
    let mut big = semaphore.acquire_many(3);
    assert!(poll(&mut big).is_pending());
    assert_eq!(
        semaphore.available_permits(),
        0,
        "the head took the free one"
    );
    let mut small = semaphore.acquire();
    assert!(poll(&mut small).is_pending());
    semaphore.add_permits(1);
    assert!(poll(&mut small).is_pending(), "behind the head");
    assert!(poll(&mut big).is_pending(), "2 of 3 assigned");
    semaphore.add_permits(2);
    let permit = match poll(&mut big) {
        Poll::Ready(Ok(permit)) => permit,
        other => panic!("big not granted: {other:?}"),
    };
    assert_eq!(permit.num_permits(), 3);
    assert!(
        poll(&mut small).is_ready(),
        "the spare permit went to the next waiter"
    );
}

#[test]
fn dropping_a_partially_assigned_head_passes_its_permits_on() {
    let semaphore = Semaphore::new(2);
    let mut big = semaphore.acquire_many(5);
    assert!(poll(&mut big).is_pending());
    let mut small = semaphore.acquire_many(2);
    assert!(poll(&mut small).is_pending());
    drop(big);
    assert!(matches!(poll(&mut small), Poll::Ready(Ok(_))));
    drop(small);
    assert_eq!(semaphore.available_permits(), 2);
}

#[test]
fn dropping_a_granted_but_unpolled_acquire_gives_the_permits_back() {
    let semaphore = Semaphore::new(0);
    let mut first = semaphore.acquire_many(2);
    assert!(poll(&mut first).is_pending());
    semaphore.add_permits(2);
    drop(first); // granted (popped and woken) but never polled again
    assert_eq!(semaphore.available_permits(), 2);
}

#[test]
fn close_fails_queued_waiters_and_returns_their_partial_permits() {
    let semaphore = Semaphore::new(1);
    let mut waiter = semaphore.acquire_many(2);
    assert!(poll(&mut waiter).is_pending());
    semaphore.close();
    assert!(matches!(
        poll(&mut waiter),
        Poll::Ready(Err(AcquireError(())))
    ));
    assert_eq!(semaphore.available_permits(), 1);
    assert_eq!(
        semaphore.try_acquire().unwrap_err(),
        TryAcquireError::Closed
    );
}

#[test]
fn acquire_of_zero_is_immediate() {
    let semaphore = Semaphore::new(0);
    assert!(matches!(
        poll(&mut semaphore.acquire_many(0)),
        Poll::Ready(Ok(_))
    ));
}

#[test]
fn forget_permits_takes_only_free_ones() {
    let semaphore = Semaphore::new(5);
    let held = semaphore.try_acquire_many(2).unwrap();
    assert_eq!(semaphore.forget_permits(10), 3, "only the free permits");
    assert_eq!(semaphore.available_permits(), 0);
    let mut queued = semaphore.acquire();
    assert!(poll(&mut queued).is_pending());
    assert_eq!(
        semaphore.forget_permits(1),
        0,
        "none is free while one is queued"
    );
    drop(held);
    let Poll::Ready(Ok(granted)) = poll(&mut queued) else {
        panic!("held permits still come back to the queue");
    };
    assert_eq!(semaphore.available_permits(), 1);
    drop(granted);
    assert_eq!(semaphore.available_permits(), 2);
}

#[test]
fn a_withdrawn_grant_belongs_to_the_caller() {
    let semaphore = Semaphore::new(1);
    let held = semaphore.try_acquire().unwrap();
    let mut pending = PendingAcquire::new(1, ParkReason::SemaphoreAcquire, Location::caller());
    assert_eq!(semaphore.take_or_enqueue(&mut pending), Ok(false));
    drop(held);
    assert!(semaphore.withdraw(&mut pending), "granted in full");
    assert_eq!(
        semaphore.available_permits(),
        0,
        "nothing given back for it"
    );
    semaphore.release(1);

    let mut pending = PendingAcquire::new(2, ParkReason::SemaphoreAcquire, Location::caller());
    let held = semaphore.try_acquire().unwrap();
    assert_eq!(semaphore.take_or_enqueue(&mut pending), Ok(false));
    assert!(!semaphore.withdraw(&mut pending));
    drop(held);
    assert_eq!(
        semaphore.available_permits(),
        1,
        "the queue is gone, the permit free"
    );
}
