//! Helpers shared by the tests of every crate in the workspace: waiting on the profile
//! without assuming the machine's speed, failing instead of hanging, reading park rows,
//! locating `#[track_caller]` sites in source, counting live heap bytes.

mod counting_alloc;
mod text;

pub use counting_alloc::{live_bytes, CountingAlloc};
pub use text::{groups, site};

use runtime::{ParkReason, ParkSite, Profile, TaskId, TaskSnapshot, TaskState};
use std::future::Future;
use std::ops::Range;
use std::time::Duration;

/// Polls the profile until `done` holds: at most ~10 s, so a bug fails instead of hanging,
/// and without any assumption about how fast the machine is.
pub async fn wait_for(mut done: impl FnMut(&Profile) -> bool) -> Profile {
    for _ in 0..5_000 {
        let profile = runtime::profile();
        if done(&profile) {
            return profile;
        }
        runtime::time::sleep(Duration::from_millis(2)).await;
    }
    panic!(
        "condition not reached; last profile:\n{}",
        runtime::profile()
    );
}

/// [`wait_for`] from a thread that is not a task: checks `done` until it holds, at most
/// ~10 s.
pub fn wait_until(mut done: impl FnMut() -> bool) {
    for _ in 0..10_000 {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("condition not reached in 10 s");
}

/// A blocking HTTP/1.1 GET of `path` (`Connection: close`): the whole reply, head and body.
pub fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    reply
}

/// The classic deadlock, in the current runtime: two tasks take two mutexes in opposite
/// orders. Returns both once each holds one and waits for the other (`mutex lock`).
pub async fn two_mutexes_in_opposite_orders() -> (runtime::JoinHandle<()>, runtime::JoinHandle<()>)
{
    use runtime::sync::Mutex;
    use std::sync::Arc;
    let (m1, m2) = (Arc::new(Mutex::new(())), Arc::new(Mutex::new(())));
    let (a_has, a_holds) = runtime::chan::oneshot::<()>();
    let (b_has, b_holds) = runtime::chan::oneshot::<()>();
    let (x1, x2) = (m1.clone(), m2.clone());
    let a = runtime::spawn(async move {
        let _first = x1.lock().await;
        a_has.send(()).unwrap();
        let _ = b_holds.await;
        drop(x2.lock().await);
    });
    let b = runtime::spawn(async move {
        let _first = m2.lock().await;
        b_has.send(()).unwrap();
        let _ = a_holds.await;
        drop(m1.lock().await);
    });
    let (ia, ib) = (a.id(), b.id());
    wait_for(|p| {
        task_parked_for(p, ia, ParkReason::MutexLock)
            && task_parked_for(p, ib, ParkReason::MutexLock)
    })
    .await;
    (a, b)
}

/// True if task `id` is parked with a recorded park (with recording compiled out, parked).
pub fn parked(profile: &Profile, id: TaskId) -> bool {
    profile.task(id).is_some_and(is_parked)
}

/// Parked, and (when recording is compiled in) with its park recorded: a task can be idle for
/// a moment before its poll has stamped the park.
pub fn is_parked(task: &TaskSnapshot) -> bool {
    task.state() == TaskState::Parked && (task.park().is_some() || !runtime::park::ENABLED)
}

/// Parked for `reason` (with recording compiled out, which cannot tell: parked).
pub fn parked_for(task: &TaskSnapshot, reason: ParkReason) -> bool {
    task.state() == TaskState::Parked
        && (!runtime::park::ENABLED || task.park().is_some_and(|p| p.reason() == reason))
}

/// Task `id` of `profile` is parked for `reason` (see [`parked_for`]).
pub fn task_parked_for(profile: &Profile, id: TaskId, reason: ParkReason) -> bool {
    profile
        .task(id)
        .is_some_and(|task| parked_for(task, reason))
}

/// Runs `f` on a thread and fails (instead of hanging) if it does not finish in `secs`: for
/// tests whose failure mode is a deadlock of the whole runtime.
pub fn finishes_within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs))
        .expect("hung: did not finish in time")
}

/// Awaits `future` on the runtime's timer, failing instead of hanging if it takes more than
/// 10 s: for tests whose failure mode is a lost permit or wake-up.
pub async fn within<F: Future>(future: F) -> F::Output {
    runtime::time::timeout(Duration::from_secs(10), future)
        .await
        .expect("did not complete within 10 s: a permit or wake-up was lost")
}

/// The park-time table's rows for sites of `file` on `lines`.
pub fn park_rows<'a>(profile: &'a Profile, file: &str, lines: Range<u32>) -> Vec<&'a ParkSite> {
    profile
        .park_sites()
        .iter()
        .filter(|row| {
            row.site
                .is_some_and(|site| site.file() == file && lines.contains(&site.line()))
        })
        .collect()
}

/// The park-time table's one row for the site of `file` on `line`.
pub fn park_row<'a>(profile: &'a Profile, file: &str, line: u32) -> &'a ParkSite {
    match park_rows(profile, file, line..line + 1)[..] {
        [row] => row,
        _ => panic!("not one row for {file}:{line}: {:?}", profile.park_sites()),
    }
}
