//! Leaf futures polled under combinators that wrap the task's waker (`FuturesUnordered` gives
//! each future its own) or pass it through (`futures_util::future::select`) still record
//! their reason and site, and their parks are counted when they resume: the record must not
//! depend on `cx.waker()` being the task's own.

use support::{parked, wait_for};
use test_support as support;

use futures_util::stream::{FuturesUnordered, StreamExt};
use runtime::ParkReason;
use std::time::Duration;

#[runtime::test]
async fn a_leaf_under_futures_unordered_records_its_park() {
    let (tx, rx) = runtime::chan::channel::<u32>(0);
    let line = line!() + 3;
    let task = runtime::spawn(async move {
        let mut set = FuturesUnordered::new();
        set.push(rx.recv());
        set.next().await.flatten()
    });
    let id = task.id();
    let profile = wait_for(|p| parked(p, id)).await;
    if runtime::park::ENABLED {
        let park = profile.task(id).unwrap().park().unwrap();
        assert_eq!(park.reason(), ParkReason::ChanReceive);
        assert_eq!((park.site().file(), park.site().line()), (file!(), line));
    }
    tx.send(5).await.unwrap();
    assert_eq!(task.await.unwrap(), Some(5));
    if runtime::park::ENABLED {
        let profile = runtime::profile();
        let row = support::park_row(&profile, file!(), line);
        assert_eq!(row.count, 1, "the park was counted once");
    }
}

#[runtime::test]
async fn a_leaf_under_futures_select_records_the_last_branch_polled() {
    let (_tx, rx) = runtime::chan::channel::<u32>(0);
    let sleep_line = line!() + 3;
    let task = runtime::spawn(async move {
        let recv = std::pin::pin!(rx.recv());
        let sleep = std::pin::pin!(runtime::time::sleep(Duration::from_secs(3600)));
        futures_util::future::select(recv, sleep).await;
    });
    let id = task.id();
    let profile = wait_for(|p| parked(p, id)).await;
    if runtime::park::ENABLED {
        // `select` polls its first future, then its second: the second's park is the last
        // recorded, and a foreign combinator is not a `select!` that gathers cases.
        let park = profile.task(id).unwrap().park().unwrap();
        assert_eq!(park.reason(), ParkReason::Sleep);
        assert_eq!(
            (park.site().file(), park.site().line()),
            (file!(), sleep_line)
        );
        assert!(park.cases().is_empty());
    }
    task.abort();
}
