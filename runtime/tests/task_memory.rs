//! 100,000 tasks spawned and completed: none left in the profile, their memory returned.
//! Alone in its binary so that the allocation count sees no other test.

use test_support::{live_bytes, CountingAlloc};

#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

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
    let before = live_bytes();
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
    let after = live_bytes();
    // Each task is a few hundred bytes: 100,000 leaked would be tens of MB. Allow what the
    // work-stealing queues keep as buffers and what the task cell cache keeps (at most 512
    // cells of one class in its depot plus two magazines per thread: well under 1 MiB here).
    assert!(
        after - before < 1 << 20,
        "{} bytes still allocated after {TASKS} tasks completed",
        after - before
    );
}
