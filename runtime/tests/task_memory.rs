//! 100,000 tasks spawned and completed: none left in the profile, their memory returned.
//! Alone in its binary so that the allocation count sees no other test.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

/// Counts live heap bytes, so the test can see task memory come back.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const TASKS: usize = 100_000;

#[test]
fn spawned_and_completed_tasks_leave_nothing_behind() {
    let rt = runtime::Builder::new().worker_threads(2).build().unwrap();
    // Warm up queues, thread-locals and the registry once.
    rt.block_on(async {
        for _ in 0..1000 {
            runtime::spawn(async {}).await.unwrap();
        }
    });
    let before = LIVE.load(Relaxed);
    rt.block_on(async {
        let handles: Vec<_> = (0..TASKS)
            .map(|i| {
                runtime::spawn(async move {
                    runtime::yield_now().await;
                    i
                })
            })
            .collect();
        let mut sum = 0;
        for handle in handles {
            sum += handle.await.unwrap();
        }
        assert_eq!(sum, TASKS * (TASKS - 1) / 2);
        assert_eq!(runtime::profile().len(), 0);
    });
    let after = LIVE.load(Relaxed);
    // Each task is a few hundred bytes: 100,000 leaked would be tens of MB. Allow what the
    // work-stealing queues keep as buffers.
    assert!(
        after - before < 1 << 20,
        "{} bytes still allocated after {TASKS} tasks completed",
        after - before
    );
}
