//! How a snapshot reads a park record that the polling thread keeps writing: the protocol on
//! its own, so that the loom build, which compiles the record itself out, can model-check it.
//!
//! The polling thread, in the harness's order: the state word says running, the poll count
//! is bumped at the poll's start;
//! the record's word (reason, site, PARKED) is stored with `Release` by whoever writes it
//! (the poll's start clearing PARKED, a leaf recording a park, the poll's end recording
//! `unknown`); `since` is stamped with `Release` after the word, before the task goes idle.
//! A reader reads the task's state before and after the record and brackets all of it with
//! two loads of the poll count, retrying if either moved ([`stable`]), and reads the word
//! before and after `since`, retrying if it changed ([`read_words`]). A reader that sees the
//! task idle and parked then sees that park's own `since`: the model below checks it. (With
//! the state read once, a reader could pair a stale "idle" with the new poll's count and
//! park: the poll count is a relaxed store, so seeing it says nothing about the state.)

use crate::loom::atomic::{AtomicU32, AtomicU64, Ordering::Acquire};

/// The task's state (as `state` reads it) and `read`'s value, taken again until neither the
/// state nor the poll count moved across `read`: a state paired with the record it goes with.
#[inline]
pub(crate) fn stable<S: PartialEq, T>(
    polls: &AtomicU32,
    mut state: impl FnMut() -> S,
    mut read: impl FnMut() -> T,
) -> (S, T) {
    loop {
        let before = polls.load(Acquire);
        let first = state();
        let value = read();
        if state() == first && polls.load(Acquire) == before {
            return (first, value);
        }
    }
}

/// (word, since), read so that both belong to the same store of the word. `between` runs
/// between the two loads of the word (the record reads a `select`'s cases there) and may run
/// again on a retry.
#[cfg_attr(not(all(feature = "profiling", not(loom))), allow(dead_code))]
#[inline]
pub(crate) fn read_words(
    word: &AtomicU64,
    since: &AtomicU64,
    mut between: impl FnMut(u64),
) -> (u64, u64) {
    loop {
        let first = word.load(Acquire);
        let stamp = since.load(Acquire);
        between(first);
        if word.load(Acquire) == first {
            return (first, stamp);
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::atomic::{AtomicBool, Ordering::*};
    use crate::loom::Arc;
    use loom::thread;

    const PARKED: u64 = 1 << 63;
    /// Two parks' words (reason and site stand-ins) and their stamps.
    const FIRST: u64 = 0x11;
    const SECOND: u64 = 0x22;

    struct Task {
        polls: AtomicU32,
        running: AtomicBool,
        word: AtomicU64,
        since: AtomicU64,
    }

    /// A snapshot races one poll that resumes a park and records the next one. Whatever it
    /// sees, a task it reports idle and parked has the `since` of that very park.
    #[test]
    fn a_snapshot_pairs_each_park_with_its_own_since() {
        loom::model(|| {
            // Parked at FIRST since 10, idle.
            let task = Arc::new(Task {
                polls: AtomicU32::new(1),
                running: AtomicBool::new(false),
                word: AtomicU64::new(FIRST | PARKED),
                since: AtomicU64::new(10),
            });
            let poller = {
                let task = task.clone();
                thread::spawn(move || {
                    // The harness: running, then the poll's start (count, resume), a leaf's
                    // park, the stamp, idle.
                    task.running.store(true, SeqCst);
                    let polls = task.polls.load(Relaxed);
                    task.polls.store(polls + 1, Release);
                    let word = task.word.load(Relaxed);
                    task.word.store(word & !PARKED, Release);
                    task.word.store(SECOND | PARKED, Release);
                    task.since.store(20, Release);
                    task.running.store(false, Release);
                })
            };
            let (running, (word, since)) = stable(
                &task.polls,
                || task.running.load(Acquire),
                || read_words(&task.word, &task.since, |_| {}),
            );
            if !running && word & PARKED != 0 {
                match word & !PARKED {
                    FIRST => assert_eq!(since, 10, "the first park with a later stamp"),
                    SECOND => assert_eq!(since, 20, "the second park with the first's stamp"),
                    other => panic!("no such park: {other:#x}"),
                }
            }
            poller.join().unwrap();
        });
    }
}
