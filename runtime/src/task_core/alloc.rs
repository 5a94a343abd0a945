//! Task cells, recycled: per-thread caches of freed cells with a global depot behind them.
//!
//! A task is often freed on another thread than the one that allocated it (it was stolen, or
//! woken and finished elsewhere). glibc's malloc frees chunks above its fast-bin limit (128
//! bytes) under the lock of the arena that allocated them, which the allocating worker holds
//! for its own mallocs: a spawn-heavy workload ran at half speed as soon as its task cell
//! crossed that size (BENCHMARKS.md, "Recording cost"). Go recycles goroutine structs the same
//! way (`gfput`/`gfget`: a free list per P, a global list behind them).
//!
//! Cells up to `CLASSES * CLASS_BYTES` bytes are rounded up to a size class. Per class, each
//! thread keeps a magazine of up to `MAGAZINE` free blocks and one spare; freeing into two full
//! magazines moves one to the depot, allocating from two empty ones takes one from it (Bonwick's
//! magazines): one lock per `MAGAZINE` blocks that move between threads, none otherwise. What
//! is cached is bounded: the depot keeps `DEPOT_MAX` magazines per class and frees the rest
//! (512 blocks of a class: 64 KiB of 128-byte cells; 4.3 MiB if every one of the 32 classes
//! were full, and only as much as bursts of tasks left behind), and a thread keeps at most two
//! magazines per class until it exits, when its cache is freed. Classes are 16 bytes apart,
//! malloc's own granularity, so a cell takes no more memory than a plain allocation would.
//!
//! A block of a class is always allocated and freed with the class's layout, so a cell freed
//! where no cache is reachable (a thread-local destructor running after the cache's) goes
//! straight back to the global allocator.

#[cfg(not(loom))]
pub(super) use cache::{allocate, deallocate};

/// Under loom, plain boxes: the cache's thread-locals and static locks are outside the model.
#[cfg(loom)]
pub(super) fn allocate<T>(value: T) -> std::ptr::NonNull<T> {
    std::ptr::NonNull::from(Box::leak(Box::new(value)))
}

/// # Safety
/// As the cache's `deallocate`.
#[cfg(loom)]
pub(super) unsafe fn deallocate<T>(ptr: std::ptr::NonNull<T>) {
    // SAFETY: `allocate` boxed it; the caller's contract makes this the last use.
    drop(unsafe { Box::from_raw(ptr.as_ptr()) });
}

#[cfg(not(loom))]
mod cache {
    use std::alloc::{self, Layout};
    use std::cell::RefCell;
    use std::ptr::NonNull;
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    use std::sync::Mutex;

    const CLASS_BYTES: usize = 16;
    const CLASSES: usize = 32;
    /// Blocks moved between a thread and the depot at once.
    const MAGAZINE: usize = 32;
    /// Full magazines the depot keeps per class.
    const DEPOT_MAX: usize = 16;
    /// The largest alignment the classes serve (a block of 8 short of a multiple of 16 is
    /// 8-aligned); cells aligned more go to the allocator.
    const ALIGN: usize = 8;

    /// A free block of some class's layout.
    struct Block(NonNull<u8>);

    // SAFETY: a free block is plain memory that no one else references; any thread may reuse or
    // free it.
    unsafe impl Send for Block {}

    type Magazine = Vec<Block>;

    struct Depot {
        magazines: Mutex<Vec<Magazine>>,
        /// `magazines.len()`, written under the lock and read without it, so that a thread
        /// that spawns more than it frees does not take the lock on every allocation only to
        /// find the depot empty (Go's `gfget` checks its global list the same way).
        len: AtomicUsize,
    }

    static DEPOT: [Depot; CLASSES] = [const {
        Depot {
            magazines: Mutex::new(Vec::new()),
            len: AtomicUsize::new(0),
        }
    }; CLASSES];

    struct ClassCache {
        current: Magazine,
        spare: Magazine,
    }

    struct Cache {
        classes: [ClassCache; CLASSES],
    }

    impl Drop for Cache {
        fn drop(&mut self) {
            for (class, cache) in self.classes.iter_mut().enumerate() {
                for magazine in [&mut cache.current, &mut cache.spare] {
                    free_all(class, std::mem::take(magazine));
                }
            }
        }
    }

    thread_local! {
        static CACHE: RefCell<Cache> = const {
            RefCell::new(Cache {
                classes: [const {
                    ClassCache {
                        current: Vec::new(),
                        spare: Vec::new(),
                    }
                }; CLASSES],
            })
        };
    }

    /// Block sizes are 8 short of a multiple of 16 (8, 24, …, 504): with malloc's 8-byte
    /// chunk header, each block is exactly one of its chunk sizes, so a cell costs what a
    /// plain allocation of it would.
    fn class_size(class: usize) -> usize {
        (class + 1) * CLASS_BYTES - 8
    }

    fn class_of(layout: Layout) -> Option<usize> {
        if layout.align() > ALIGN || layout.size() > class_size(CLASSES - 1) {
            return None;
        }
        Some((layout.size() + 8).div_ceil(CLASS_BYTES) - 1)
    }

    fn class_layout(class: usize) -> Layout {
        // Cannot fail: a small size with a power-of-two alignment.
        Layout::from_size_align(class_size(class), ALIGN).expect("a valid class layout")
    }

    /// Moves `value` into a cell-cache block (or a plain allocation, for a large or over-aligned
    /// `T`). Free it with `deallocate::<T>`.
    pub(crate) fn allocate<T>(value: T) -> NonNull<T> {
        let layout = Layout::new::<T>();
        if layout.size() == 0 {
            std::mem::forget(value); // no memory needed: it lives at a dangling pointer
            return NonNull::dangling();
        }
        let block = match class_of(layout) {
            Some(class) => take(class).unwrap_or_else(|| raw_alloc(class_layout(class))),
            None => raw_alloc(layout),
        };
        let ptr = block.cast::<T>();
        // SAFETY: the block is unused memory of at least `layout`'s size and alignment.
        unsafe { ptr.as_ptr().write(value) };
        ptr
    }

    /// Drops the `T` at `ptr` and gives its block back.
    ///
    /// # Safety
    /// `ptr` came from `allocate::<T>`, holds a live `T`, and nothing uses it after this call.
    pub(crate) unsafe fn deallocate<T>(ptr: NonNull<T>) {
        /// Gives the block back even if `T`'s destructor panics.
        struct Release<T>(NonNull<T>);

        impl<T> Drop for Release<T> {
            fn drop(&mut self) {
                let block = self.0.cast::<u8>();
                let layout = Layout::new::<T>();
                if layout.size() == 0 {
                    return; // `allocate` allocated nothing
                }
                match class_of(layout) {
                    Some(class) => give(class, Block(block)),
                    // SAFETY: `allocate` took this block from the allocator with `layout`.
                    None => unsafe { alloc::dealloc(block.as_ptr(), layout) },
                }
            }
        }

        let release = Release(ptr);
        // SAFETY: the caller's contract: a live `T` that nothing else uses.
        unsafe { std::ptr::drop_in_place(ptr.as_ptr()) };
        drop(release);
    }

    fn raw_alloc(layout: Layout) -> NonNull<u8> {
        // SAFETY: `allocate` keeps zero-sized values out, and a class layout is not.
        let ptr = unsafe { alloc::alloc(layout) };
        NonNull::new(ptr).unwrap_or_else(|| alloc::handle_alloc_error(layout))
    }

    /// A free block of `class` from this thread's cache or the depot.
    fn take(class: usize) -> Option<NonNull<u8>> {
        CACHE
            .try_with(|cache| {
                let mut cache = cache.try_borrow_mut().ok()?;
                let cache = &mut cache.classes[class];
                if let Some(Block(block)) = cache.current.pop() {
                    return Some(block);
                }
                if !cache.spare.is_empty() {
                    std::mem::swap(&mut cache.current, &mut cache.spare);
                } else {
                    let full = depot_pop(class)?;
                    let empty = std::mem::replace(&mut cache.current, full);
                    // Keep the emptied buffer for the next full spare rather than freeing it
                    // (it was most likely allocated on another thread).
                    if cache.spare.capacity() == 0 {
                        cache.spare = empty;
                    }
                }
                cache.current.pop().map(|Block(block)| block)
            })
            .ok()
            .flatten()
    }

    /// Returns a free block of `class` to this thread's cache (or the depot, or the allocator).
    fn give(class: usize, block: Block) {
        let mut block = Some(block);
        let _ = CACHE.try_with(|cache| {
            let Ok(mut cache) = cache.try_borrow_mut() else {
                return;
            };
            let cache = &mut cache.classes[class];
            if cache.current.len() == MAGAZINE {
                if cache.spare.is_empty() {
                    std::mem::swap(&mut cache.current, &mut cache.spare);
                } else {
                    // Both full: the spare goes to the depot, the full current becomes the spare.
                    let full =
                        std::mem::replace(&mut cache.spare, std::mem::take(&mut cache.current));
                    if let Err(full) = depot_push(class, full) {
                        free_all(class, full);
                    }
                }
            }
            if cache.current.capacity() == 0 {
                cache.current.reserve_exact(MAGAZINE);
            }
            cache.current.extend(block.take());
        });
        // No cache on this thread any more (it is exiting), or it is busy: to the allocator.
        if let Some(Block(block)) = block {
            free_block(class, block);
        }
    }

    fn free_block(class: usize, block: NonNull<u8>) {
        // SAFETY: every block of `class` was allocated with `class_layout(class)`.
        unsafe { alloc::dealloc(block.as_ptr(), class_layout(class)) };
    }

    fn free_all(class: usize, magazine: Magazine) {
        for Block(block) in magazine {
            free_block(class, block);
        }
    }

    fn lock(class: usize) -> std::sync::MutexGuard<'static, Vec<Magazine>> {
        // The depot's lists stay consistent across a panic (none can happen while it is held).
        crate::loom::lock_std(&DEPOT[class].magazines)
    }

    fn depot_pop(class: usize) -> Option<Magazine> {
        let depot = &DEPOT[class];
        if depot.len.load(Relaxed) == 0 {
            return None;
        }
        let mut magazines = lock(class);
        let full = magazines.pop();
        depot.len.store(magazines.len(), Relaxed);
        full
    }

    /// Gives the magazine back if the depot is full.
    fn depot_push(class: usize, full: Magazine) -> Result<(), Magazine> {
        let mut magazines = lock(class);
        if magazines.len() == DEPOT_MAX {
            return Err(full);
        }
        magazines.push(full);
        DEPOT[class].len.store(magazines.len(), Relaxed);
        Ok(())
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
        use std::sync::Arc;

        struct Counted<const N: usize>(Arc<AtomicUsize>, [u8; N]);

        /// A block handed to another thread to free. A pointer, not its address as an
        /// integer: the block keeps its provenance, so miri can follow it into the depot.
        struct Handed<T>(NonNull<T>);

        // SAFETY: the allocating thread uses the block no more once it is handed over.
        unsafe impl<T> Send for Handed<T> {}

        /// Frees every handed block on a fresh thread, which exits (and flushes its cache)
        /// before this returns.
        fn free_on_another_thread<T: 'static>(handed: Vec<Handed<T>>) {
            std::thread::spawn(move || {
                for Handed(ptr) in handed {
                    // SAFETY: allocated by the test thread, handed over, used no more.
                    unsafe { deallocate(ptr) };
                }
            })
            .join()
            .unwrap();
        }

        impl<const N: usize> Drop for Counted<N> {
            fn drop(&mut self) {
                self.0.fetch_add(1, Relaxed);
            }
        }

        fn round_trip<const N: usize>(drops: &Arc<AtomicUsize>) {
            let ptr = allocate(Counted(drops.clone(), [7; N]));
            // SAFETY: just allocated and written.
            assert_eq!(unsafe { ptr.as_ref() }.1, [7; N]);
            // SAFETY: from `allocate`, used no more.
            unsafe { deallocate(ptr) };
        }

        #[test]
        fn every_size_keeps_its_value_and_is_dropped_once() {
            let drops = Arc::new(AtomicUsize::new(0));
            round_trip::<1>(&drops);
            round_trip::<48>(&drops); // exactly a class's size (56 bytes) with the Arc
            round_trip::<57>(&drops);
            round_trip::<300>(&drops);
            round_trip::<496>(&drops); // the largest class (504 bytes)
            round_trip::<504>(&drops); // just past it: the allocator's
            round_trip::<4000>(&drops); // too large: the allocator's
            assert_eq!(drops.load(Relaxed), 7);
        }

        #[test]
        fn a_freed_block_is_reused_by_the_same_thread() {
            let drops = Arc::new(AtomicUsize::new(0));
            let first = allocate(Counted(drops.clone(), [0; 100]));
            let address = first.as_ptr() as usize;
            // SAFETY: from `allocate`, used no more.
            unsafe { deallocate(first) };
            // The allocator itself would hand the freed chunk to the next request of its size
            // (glibc's tcache): one of the class's size, straight from it, must not get it.
            let class = class_of(Layout::new::<Counted<100>>()).unwrap();
            let decoy = raw_alloc(class_layout(class));
            assert_ne!(decoy.as_ptr() as usize, address);
            let second = allocate(Counted(drops.clone(), [1; 100]));
            assert_eq!(second.as_ptr() as usize, address);
            free_block(class, decoy);
            // SAFETY: as above.
            unsafe { deallocate(second) };
        }

        #[test]
        fn blocks_freed_on_one_thread_flow_to_another_through_the_depot() {
            // One thread allocates, another frees: the freeing thread's full magazines go to
            // the depot, and the allocating thread's next blocks come from there.
            const N: usize = MAGAZINE * 8;
            let drops = Arc::new(AtomicUsize::new(0));
            let handed: Vec<Handed<Counted<200>>> = (0..N)
                .map(|_| Handed(allocate(Counted(drops.clone(), [3; 200]))))
                .collect();
            let first: Vec<usize> = handed.iter().map(|p| p.0.as_ptr() as usize).collect();
            free_on_another_thread(handed);
            assert_eq!(drops.load(Relaxed), N);
            // The freeing thread kept at most two magazines (freed at its exit); the other
            // six went to the depot.
            let class = class_of(Layout::new::<Counted<200>>()).unwrap();
            let in_depot = lock(class).len();
            assert!((1..=DEPOT_MAX).contains(&in_depot), "{in_depot} magazines");

            let second: Vec<NonNull<Counted<200>>> = (0..N)
                .map(|_| allocate(Counted(drops.clone(), [4; 200])))
                .collect();
            let taken = in_depot.saturating_sub(lock(class).len());
            assert!(taken >= 1, "no magazine taken from the depot");
            let reused = second
                .iter()
                .filter(|p| first.contains(&(p.as_ptr() as usize)))
                .count();
            assert!(reused >= taken * MAGAZINE, "{reused} of {N} blocks reused");
            for ptr in second {
                // SAFETY: from `allocate`, used no more.
                unsafe { deallocate(ptr) };
            }
            assert_eq!(drops.load(Relaxed), 2 * N);
        }

        #[test]
        fn the_depot_keeps_at_most_its_bound_and_frees_the_rest() {
            // A class no other test (and no task cell of these tests) uses, so that the depot's
            // count is this test's alone.
            type Cell = Counted<424>;
            const N: usize = MAGAZINE * (DEPOT_MAX + 6);
            let class = class_of(Layout::new::<Cell>()).unwrap();
            let drops = Arc::new(AtomicUsize::new(0));
            let handed: Vec<Handed<Cell>> = (0..N)
                .map(|_| Handed(allocate(Counted::<424>(drops.clone(), [5; 424]))))
                .collect();
            free_on_another_thread(handed);
            assert_eq!(drops.load(Relaxed), N);
            // 22 magazines' worth freed on a thread that allocated none: two stayed with it
            // (freed when it exited), DEPOT_MAX went to the depot, the rest to the allocator.
            assert_eq!(lock(class).len(), DEPOT_MAX);
            assert_eq!(DEPOT[class].len.load(Relaxed), DEPOT_MAX);
        }

        #[test]
        fn a_block_freed_after_the_threads_cache_is_gone_goes_to_the_allocator() {
            use std::cell::Cell as StdCell;
            use std::sync::atomic::AtomicBool;
            static CACHE_WAS_GONE: AtomicBool = AtomicBool::new(false);

            /// Frees its block from a thread-local destructor that runs after the cache's.
            struct FreeAtExit(StdCell<Option<NonNull<Counted<40>>>>);
            impl Drop for FreeAtExit {
                fn drop(&mut self) {
                    CACHE_WAS_GONE.store(CACHE.try_with(|_| ()).is_err(), Relaxed);
                    if let Some(ptr) = self.0.take() {
                        // SAFETY: from `allocate`, used no more.
                        unsafe { deallocate(ptr) };
                    }
                }
            }
            thread_local! {
                static LATE: FreeAtExit = const { FreeAtExit(StdCell::new(None)) };
            }

            let drops = Arc::new(AtomicUsize::new(0));
            let drops2 = drops.clone();
            std::thread::spawn(move || {
                // Registered before the cache's destructor, so (last in, first out) run after it.
                LATE.with(|_| ());
                let ptr = allocate(Counted(drops2, [9; 40]));
                LATE.with(|late| late.0.set(Some(ptr)));
            })
            .join()
            .unwrap();
            assert!(
                CACHE_WAS_GONE.load(Relaxed),
                "the cache outlived the late destructor"
            );
            assert_eq!(
                drops.load(Relaxed),
                1,
                "dropped once, and the thread exited cleanly"
            );
        }

        #[test]
        fn a_panicking_destructor_still_gives_the_block_back() {
            struct Bomb(#[allow(dead_code)] [u8; 80]);
            impl Drop for Bomb {
                fn drop(&mut self) {
                    panic!("boom");
                }
            }
            let ptr = allocate(Bomb([0; 80]));
            let address = ptr.as_ptr() as usize;
            let handed = Handed(ptr);
            let result = std::panic::catch_unwind(move || {
                let Handed(ptr) = handed;
                // SAFETY: from `allocate`, used no more.
                unsafe { deallocate(ptr) }
            });
            assert!(result.is_err());
            // Released to this thread's cache: the next block of the class is the same one.
            let again = allocate([0u8; 80]);
            assert_eq!(again.as_ptr() as usize, address);
            // SAFETY: from `allocate`, used no more.
            unsafe { deallocate(again) };
        }

        #[test]
        fn over_aligned_values_bypass_the_classes() {
            #[repr(align(64))]
            struct Wide(#[allow(dead_code)] [u8; 64]);
            let ptr = allocate(Wide([1; 64]));
            assert_eq!(ptr.as_ptr() as usize % 64, 0);
            // SAFETY: from `allocate`, used no more.
            unsafe { deallocate(ptr) };
            assert_eq!(class_of(Layout::new::<Wide>()), None);
        }
    }
}
