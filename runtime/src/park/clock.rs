//! The clock park records are stamped with.
//!
//! `CLOCK_MONOTONIC_COARSE` is read from the vDSO: a few nanoseconds, no syscall, and the same
//! time base as `Instant` at the kernel tick's resolution (1–4 ms), which is plenty for park
//! durations measured in milliseconds to hours.

/// Nanoseconds on the coarse monotonic clock.
#[inline]
pub(crate) fn now() -> u64 {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const CLOCK: libc::clockid_t = libc::CLOCK_MONOTONIC_COARSE;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    const CLOCK: libc::clockid_t = libc::CLOCK_MONOTONIC;

    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and CLOCK is a clock every supported kernel has;
    // clock_gettime cannot fail with those arguments.
    unsafe { libc::clock_gettime(CLOCK, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}
