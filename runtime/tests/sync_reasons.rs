//! Every `runtime::sync` wait shows its reason and the exact call site of the waiting future
//! in `runtime::profile()`, and the task leaves the profile once released.
// Park reasons are what this file checks: nothing to check with recording compiled out.
#![cfg(feature = "profiling")]

use support::{parked, wait_for};
use test_support as support;

use runtime::sync::{Mutex, Notify, RwLock, Semaphore, WaitGroup};
use runtime::JoinHandle;
use std::sync::Arc;

/// The 1-based column of `method` on line `line` of this file: where `#[track_caller]`
/// places a method call (at the method name, just after the dot).
fn column_of(line: u32, method: &str) -> u32 {
    let text = include_str!("sync_reasons.rs")
        .lines()
        .nth(line as usize - 1)
        .expect("line in file");
    let dot = text
        .find(&format!(".{method}("))
        .unwrap_or_else(|| panic!("`.{method}(` on line {line}: {text:?}"));
    dot as u32 + 2
}

/// Waits until `task` parks, then checks its reason and that its site is `method` on `line`.
async fn assert_parked_at(task: &JoinHandle<()>, reason: &str, line: u32, method: &str) {
    let id = task.id();
    let profile = wait_for(|p| parked(p, id)).await;
    let park = profile.task(id).unwrap().park().unwrap();
    assert_eq!(park.reason().to_string(), reason, "profile:\n{profile}");
    let site = park.site();
    assert_eq!(
        (site.file(), site.line(), site.column()),
        (file!(), line, column_of(line, method)),
        "wrong park site; profile:\n{profile}"
    );
}

/// Awaits `task` and checks it is gone from the profile.
async fn assert_released(task: JoinHandle<()>) {
    let id = task.id();
    task.await.expect("waiter finished");
    wait_for(|p| p.task(id).is_none_or(|t| t.park().is_none())).await;
}

#[runtime::test]
async fn semaphore_acquire() {
    let semaphore = Arc::new(Semaphore::new(1));
    let held = semaphore.acquire().await.unwrap();
    let line = line!() + 3;
    let waiter = runtime::spawn({
        let semaphore = semaphore.clone();
        async move { drop(semaphore.acquire().await.unwrap()) }
    });
    assert_parked_at(&waiter, "semaphore acquire", line, "acquire").await;
    drop(held);
    assert_released(waiter).await;
}

#[runtime::test]
async fn semaphore_acquire_many() {
    let semaphore = Arc::new(Semaphore::new(2));
    let held = semaphore.acquire().await.unwrap();
    let line = line!() + 3;
    let waiter = runtime::spawn({
        let semaphore = semaphore.clone();
        async move { drop(semaphore.acquire_many(2).await.unwrap()) }
    });
    assert_parked_at(&waiter, "semaphore acquire", line, "acquire_many").await;
    drop(held);
    assert_released(waiter).await;
}

#[runtime::test]
async fn semaphore_acquire_owned_and_many_owned() {
    let semaphore = Arc::new(Semaphore::new(0));
    let line = line!() + 3;
    let one = runtime::spawn({
        let semaphore = semaphore.clone();
        async move { drop(semaphore.acquire_owned().await.unwrap()) }
    });
    assert_parked_at(&one, "semaphore acquire", line, "acquire_owned").await;
    let line = line!() + 3;
    let many = runtime::spawn({
        let semaphore = semaphore.clone();
        async move { drop(semaphore.acquire_many_owned(3).await.unwrap()) }
    });
    assert_parked_at(&many, "semaphore acquire", line, "acquire_many_owned").await;
    semaphore.add_permits(3);
    assert_released(one).await;
    assert_released(many).await;
}

#[runtime::test]
async fn mutex_lock() {
    let mutex = Arc::new(Mutex::new(0));
    let held = mutex.lock().await;
    let line = line!() + 3;
    let waiter = runtime::spawn({
        let mutex = mutex.clone();
        async move { *mutex.lock().await += 1 }
    });
    assert_parked_at(&waiter, "mutex lock", line, "lock").await;
    drop(held);
    assert_released(waiter).await;
    assert_eq!(*mutex.lock().await, 1);
}

#[runtime::test]
async fn mutex_lock_owned() {
    let mutex = Arc::new(Mutex::new(0));
    let held = mutex.clone().lock_owned().await;
    let line = line!() + 3;
    let waiter = runtime::spawn({
        let mutex = mutex.clone();
        async move { *mutex.lock_owned().await += 1 }
    });
    assert_parked_at(&waiter, "mutex lock", line, "lock_owned").await;
    drop(held);
    assert_released(waiter).await;
}

#[runtime::test]
async fn mutex_site_is_where_the_future_is_created() {
    let mutex = Arc::new(Mutex::new(()));
    let held = mutex.lock().await;
    let line = line!() + 4;
    let waiter = runtime::spawn({
        let mutex = mutex.clone();
        async move {
            let lock = mutex.lock();
            runtime::yield_now().await;
            drop(lock.await);
        }
    });
    assert_parked_at(&waiter, "mutex lock", line, "lock").await;
    drop(held);
    assert_released(waiter).await;
}

#[runtime::test]
async fn rwlock_read() {
    let lock = Arc::new(RwLock::new(0));
    let writer = lock.write().await;
    let line = line!() + 3;
    let waiter = runtime::spawn({
        let lock = lock.clone();
        async move { assert_eq!(*lock.read().await, 1) }
    });
    assert_parked_at(&waiter, "rwlock read", line, "read").await;
    let mut writer = writer;
    *writer = 1;
    drop(writer);
    assert_released(waiter).await;
}

#[runtime::test]
async fn rwlock_write() {
    let lock = Arc::new(RwLock::new(0));
    let reader = lock.read().await;
    let line = line!() + 3;
    let waiter = runtime::spawn({
        let lock = lock.clone();
        async move { *lock.write().await += 1 }
    });
    assert_parked_at(&waiter, "rwlock write", line, "write").await;
    drop(reader);
    assert_released(waiter).await;
    assert_eq!(*lock.read().await, 1);
}

#[runtime::test]
async fn notify_wait() {
    let notify = Arc::new(Notify::new());
    let line = line!() + 3;
    let waiter = runtime::spawn({
        let notify = notify.clone();
        async move { notify.notified().await }
    });
    assert_parked_at(&waiter, "notify wait", line, "notified").await;
    notify.notify_one();
    assert_released(waiter).await;
}

#[runtime::test]
async fn waitgroup_wait() {
    let wg = WaitGroup::new();
    wg.add(1);
    let line = line!() + 3;
    let waiter = runtime::spawn({
        let wg = wg.clone();
        async move { wg.wait().await }
    });
    assert_parked_at(&waiter, "waitgroup wait", line, "wait").await;
    wg.done();
    assert_released(waiter).await;
}
