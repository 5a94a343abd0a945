//! `runtime::park::set_profile_rate`: Go's block-profile rate for the park-time table. The
//! rate is process-wide, so these tests run in their own binary, one at a time.

use test_support as support;

use std::sync::Mutex;
use std::time::Duration;

/// The rate is global: tests that set it take turns.
static RATE: Mutex<()> = Mutex::new(());

/// `parks` sleeps of 2 ms in a row, all at `line`.
async fn sleep_at_one_site(parks: u32) -> u32 {
    let line = line!() + 3;
    runtime::spawn(async move {
        for _ in 0..parks {
            runtime::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await
    .unwrap();
    line
}

#[test]
fn rate_zero_counts_every_park_exactly() {
    let _turn = RATE.lock().unwrap_or_else(|e| e.into_inner());
    runtime::park::set_profile_rate(Duration::ZERO);
    assert_eq!(runtime::park::profile_rate(), Duration::ZERO);
    let rt = runtime::Runtime::new().unwrap();
    let line = rt.block_on(sleep_at_one_site(20));
    if !runtime::park::ENABLED {
        return;
    }
    let profile = rt.profile();
    let row = support::park_row(&profile, file!(), line);
    assert_eq!(row.count, 20);
    assert!(row.total >= Duration::from_millis(20), "{:?}", row.total);
}

/// Every park shorter than the rate that is counted adds exactly `rate` to the total (and
/// rate/duration parks to the count): with a rate of an hour, 2 ms sleeps are almost never
/// sampled, and any that is weighs in at a whole hour.
#[test]
fn parks_shorter_than_the_rate_are_sampled_with_weight() {
    let _turn = RATE.lock().unwrap_or_else(|e| e.into_inner());
    let hour = Duration::from_secs(3600);
    runtime::park::set_profile_rate(hour);
    let rt = runtime::Runtime::new().unwrap();
    let line = rt.block_on(sleep_at_one_site(50));
    runtime::park::set_profile_rate(Duration::ZERO);
    let profile = rt.profile();
    for row in support::park_rows(&profile, file!(), line..line + 1) {
        assert_eq!(row.total.as_nanos() % hour.as_nanos(), 0, "{row:?}");
        // A 2 ms sleep is seen as at most 8 ms by the coarse clock: it weighs ≥ 1 h / 8 ms.
        assert!(row.count >= 450_000, "{row:?}");
    }
}

/// A rate of 1 ns: every park is at least that long (a park the coarse clock saw as 0 ns
/// counts as 1 ns), so every park counts once.
#[test]
fn parks_at_least_the_rate_always_count() {
    let _turn = RATE.lock().unwrap_or_else(|e| e.into_inner());
    runtime::park::set_profile_rate(Duration::from_nanos(1));
    let rt = runtime::Runtime::new().unwrap();
    let line = rt.block_on(sleep_at_one_site(20));
    runtime::park::set_profile_rate(Duration::ZERO);
    if !runtime::park::ENABLED {
        return;
    }
    let profile = rt.profile();
    assert_eq!(support::park_row(&profile, file!(), line).count, 20);
}
