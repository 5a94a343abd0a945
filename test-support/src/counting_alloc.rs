//! A global allocator that counts live heap bytes, for tests that check memory comes back.
//! A test binary installs it with
//! `#[global_allocator] static ALLOCATOR: CountingAlloc = CountingAlloc;`; it then counts
//! every allocation of the binary, so such tests live alone in theirs.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

/// The system allocator, counting the bytes it has live.
pub struct CountingAlloc;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for CountingAlloc {
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

/// Heap bytes allocated and not yet freed through [`CountingAlloc`], process-wide (0 if the
/// binary did not install it).
pub fn live_bytes() -> isize {
    LIVE.load(Relaxed)
}
