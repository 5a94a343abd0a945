use super::*;
use std::collections::HashMap;

/// The runtime's xorshift, seeded, so failures reproduce without a rand crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = crate::poll_context::xorshift64(self.0);
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Log-uniform in `[0, 2^max_bits)`, so every wheel level gets hits.
    fn spread(&mut self, max_bits: u64) -> u64 {
        let bits = self.below(max_bits + 1);
        if bits == 0 {
            0
        } else {
            self.next() & ((1u64 << bits) - 1)
        }
    }
}

fn advance_collect<T>(wheel: &mut Wheel<T>, now: u64) -> Vec<T> {
    let mut fired = Vec::new();
    wheel.advance(now, |value| fired.push(value));
    fired
}

#[test]
fn fires_exactly_at_deadline() {
    for deadline in [0, 1, 63, 64, 65, 4095, 4096, 262_143, 262_144, 1 << 30] {
        let mut wheel = Wheel::new();
        wheel.insert(deadline, deadline);
        if deadline > 0 {
            assert!(advance_collect(&mut wheel, deadline - 1).is_empty());
            assert_eq!(wheel.len(), 1);
        }
        assert_eq!(advance_collect(&mut wheel, deadline), vec![deadline]);
        assert!(wheel.is_empty());
        assert_eq!(wheel.next_expiration(), None);
    }
}

#[test]
fn random_deadlines_fire_once_in_order() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut wheel = Wheel::new();
    let mut deadlines = Vec::new();
    for id in 0..20_000usize {
        let deadline = rng.spread(38);
        deadlines.push(deadline);
        wheel.insert(deadline, id);
    }
    let max = *deadlines.iter().max().expect("non-empty");
    let mut fired_at = vec![None; deadlines.len()];
    let mut last_deadline = 0;
    let mut previous_now = 0;
    let mut now = 0;
    loop {
        let mut batch = Vec::new();
        wheel.advance(now, |id| batch.push(id));
        for id in batch {
            let deadline = deadlines[id];
            assert!(fired_at[id].is_none(), "fired twice");
            fired_at[id] = Some(now);
            assert!(deadline <= now, "fired early");
            assert!(deadline >= last_deadline, "out of order");
            // At the first advance that reached it.
            assert!(now == 0 || deadline > previous_now, "fired late");
            last_deadline = deadline;
        }
        if now >= max {
            break;
        }
        previous_now = now;
        now = (now + 1 + rng.spread(34)).min(max);
    }
    assert!(fired_at.iter().all(Option::is_some));
    assert!(wheel.is_empty());
}

#[test]
fn big_jumps_and_single_steps_agree() {
    const END: u64 = 1_500_000;
    let mut rng = Rng(42);
    let deadlines: Vec<u64> = (0..5_000).map(|_| rng.spread(21) % (END + 1)).collect();
    // Beyond END, must not fire in either run.
    let far: Vec<u64> = (0..200).map(|_| END + 1 + rng.spread(40)).collect();

    let run = |steps: &mut dyn FnMut(u64) -> u64| {
        let mut wheel = Wheel::new();
        for (id, &d) in deadlines.iter().chain(&far).enumerate() {
            wheel.insert(d, id);
        }
        let mut fired = Vec::new();
        let mut now = 0;
        loop {
            wheel.advance(now, |id| fired.push((deadlines[id], id)));
            if now == END {
                break;
            }
            now = (now + steps(now)).min(END);
        }
        assert_eq!(wheel.len(), far.len());
        fired
    };

    let stepped = run(&mut |_| 1);
    let mut jump_rng = Rng(7);
    let jumped = run(&mut |_| 1 + jump_rng.spread(20));
    // Both are in deadline order; within one millisecond the order may
    // legitimately differ, so compare deadline sequences and sets.
    let seq = |v: &[(u64, usize)]| v.iter().map(|&(d, _)| d).collect::<Vec<_>>();
    assert_eq!(seq(&stepped), seq(&jumped));
    let (mut a, mut b) = (stepped.clone(), jumped);
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b);
    assert_eq!(a.len(), deadlines.len());
}

#[test]
fn remove_before_and_after_firing() {
    let mut wheel = Wheel::new();
    let a = wheel.insert(100, 'a');
    let b = wheel.insert(100, 'b');
    let c = wheel.insert(5_000, 'c');
    assert_eq!(wheel.remove(a), Some('a'));
    assert_eq!(wheel.remove(a), None);
    assert_eq!(wheel.remove(c), Some('c'));
    assert_eq!(advance_collect(&mut wheel, 10_000), vec!['b']);
    assert_eq!(wheel.remove(b), None);
    assert_eq!(wheel.get_mut(b), None);
    assert!(!wheel.reset(b, 20_000));
    assert!(wheel.is_empty());
}

#[test]
fn stale_key_after_slot_reuse() {
    let mut wheel = Wheel::new();
    let old = wheel.insert(10, 1);
    assert_eq!(wheel.remove(old), Some(1));
    let new = wheel.insert(10, 2);
    assert_eq!(old.index(), new.index(), "slab slot is reused");
    assert_eq!(wheel.remove(old), None);
    assert_eq!(wheel.get_mut(old), None);
    assert!(!wheel.reset(old, 1));
    assert_eq!(wheel.len(), 1);

    // Same after firing rather than removal.
    assert_eq!(advance_collect(&mut wheel, 10), vec![2]);
    let newer = wheel.insert(20, 3);
    assert_eq!(newer.index(), new.index());
    assert_eq!(wheel.remove(new), None);
    assert_eq!(wheel.remove(newer), Some(3));
}

#[test]
fn get_mut_replaces_value() {
    let mut wheel = Wheel::new();
    let key = wheel.insert(70, 1);
    *wheel.get_mut(key).expect("pending") = 2;
    assert_eq!(advance_collect(&mut wheel, 70), vec![2]);
}

#[test]
fn reset_earlier_and_later() {
    let mut wheel = Wheel::new();
    let early = wheel.insert(100_000, "early");
    let late = wheel.insert(50, "late");
    assert!(wheel.reset(early, 30));
    assert!(wheel.reset(late, 200_000));
    assert_eq!(wheel.next_expiration(), Some(30));
    assert!(advance_collect(&mut wheel, 29).is_empty());
    assert_eq!(advance_collect(&mut wheel, 30), vec!["early"]);
    assert!(advance_collect(&mut wheel, 199_999).is_empty());
    // Reset after a cascade moved it, and into the past.
    assert!(wheel.reset(late, 1_000_000));
    assert!(advance_collect(&mut wheel, 999_999).is_empty());
    assert!(wheel.reset(late, 3));
    assert_eq!(advance_collect(&mut wheel, 999_999), vec!["late"]);
    assert!(!wheel.reset(late, 5));
}

#[test]
fn next_expiration_bounds() {
    let mut wheel: Wheel<()> = Wheel::new();
    assert_eq!(wheel.next_expiration(), None);
    let key = wheel.insert(1_000_000, ());
    let first = wheel.next_expiration().expect("non-empty");
    assert!(first <= 1_000_000);
    wheel.remove(key);
    assert_eq!(wheel.next_expiration(), None);

    // Driving the wheel by next_expiration alone fires each entry exactly
    // at its deadline, after at most one cascade stop per level.
    let mut rng = Rng(3);
    for _ in 0..2_000 {
        let start = wheel.elapsed();
        let deadline = start + rng.spread(36);
        wheel.insert(deadline, ());
        let mut stops = 0;
        loop {
            let at = wheel.next_expiration().expect("pending");
            assert!(at <= deadline && at >= wheel.elapsed());
            stops += 1;
            if !advance_collect(&mut wheel, at).is_empty() {
                assert_eq!(at, deadline);
                break;
            }
        }
        assert!(stops <= LEVELS + 1, "{stops} stops");
    }
}

#[test]
fn past_deadline_fires_on_next_advance() {
    let mut wheel = Wheel::new();
    wheel.advance(10_000, |_: u32| unreachable!());
    wheel.insert(5, 1);
    wheel.insert(10_000, 2);
    assert_eq!(wheel.next_expiration(), Some(10_000));
    // Going backwards is a no-op and fires nothing.
    assert!(advance_collect(&mut wheel, 9_000).is_empty());
    assert_eq!(wheel.elapsed(), 10_000);
    assert_eq!(advance_collect(&mut wheel, 10_000), vec![1, 2]);

    wheel.insert(0, 3);
    assert_eq!(advance_collect(&mut wheel, 10_001), vec![3]);
    assert_eq!(wheel.elapsed(), 10_001);
}

#[test]
fn far_future_entries_survive() {
    let mut wheel = Wheel::new();
    let deadlines = [
        TOP_RANGE - 1,
        TOP_RANGE,
        TOP_RANGE + 1,
        3 * TOP_RANGE + 17,
        100 * TOP_RANGE + 12_345,
        u64::MAX - 1,
        u64::MAX,
    ];
    for (id, &d) in deadlines.iter().enumerate() {
        wheel.insert(d, id);
    }
    for (id, &d) in deadlines.iter().enumerate() {
        assert!(advance_collect(&mut wheel, d - 1).is_empty(), "{d}");
        assert!(wheel.next_expiration().expect("pending") <= d);
        assert_eq!(advance_collect(&mut wheel, d), vec![id]);
    }
    assert!(wheel.is_empty());

    // One huge jump fires them all, in order.
    let mut wheel = Wheel::new();
    for (id, &d) in deadlines.iter().enumerate() {
        wheel.insert(d, id);
    }
    let all: Vec<usize> = (0..deadlines.len()).collect();
    assert_eq!(advance_collect(&mut wheel, u64::MAX), all);
}

#[test]
fn overflow_entry_beats_later_wheel_entry() {
    // `elapsed` crosses into the overflow entry's rotation without
    // reaching its deadline; a later entry then lands in the levels.
    let mut wheel = Wheel::new();
    wheel.insert(TOP_RANGE + 1_000, "overflow");
    assert!(advance_collect(&mut wheel, TOP_RANGE + 10).is_empty());
    wheel.insert(TOP_RANGE + 2_000, "wheel");
    assert!(wheel.next_expiration().expect("pending") <= TOP_RANGE + 1_000);
    assert_eq!(
        advance_collect(&mut wheel, TOP_RANGE + 1_500),
        vec!["overflow"]
    );
    assert_eq!(
        advance_collect(&mut wheel, TOP_RANGE + 2_000),
        vec!["wheel"]
    );
}

#[test]
fn removed_overflow_entry_only_costs_a_spurious_stop() {
    let mut wheel = Wheel::new();
    let gone = wheel.insert(2 * TOP_RANGE, 1);
    wheel.insert(7 * TOP_RANGE, 2);
    assert_eq!(wheel.remove(gone), Some(1));
    let stop = wheel.next_expiration().expect("pending");
    assert!(advance_collect(&mut wheel, stop).is_empty());
    assert_eq!(advance_collect(&mut wheel, 7 * TOP_RANGE), vec![2]);
}

#[test]
fn many_inserts_and_removes_leave_empty() {
    let mut wheel = Wheel::new();
    let mut rng = Rng(99);
    let keys: Vec<TimerKey> = (0..100_000)
        .map(|i| wheel.insert(rng.spread(40), i))
        .collect();
    assert_eq!(wheel.len(), 100_000);
    for (i, key) in keys.into_iter().enumerate() {
        assert_eq!(wheel.remove(key), Some(i));
    }
    assert_eq!(wheel.len(), 0);
    assert!(wheel.is_empty());
    assert_eq!(wheel.next_expiration(), None);
    assert!(wheel.levels.iter().all(|l| l.occupied == 0));

    for i in 0..100_000 {
        let key = wheel.insert(rng.spread(40), i);
        assert_eq!(wheel.remove(key), Some(i));
    }
    assert!(wheel.is_empty());
    assert!(advance_collect(&mut wheel, u64::MAX).is_empty());
}

/// Random insert/remove/reset/advance against a simple model, from
/// several starting points including rotation edges and near `u64::MAX`.
#[test]
fn matches_model() {
    let starts = [
        0,
        TOP_RANGE - 3,
        5 * TOP_RANGE - 1,
        4095,
        u64::MAX - (1 << 38),
    ];
    for (seed, &start) in starts.iter().enumerate() {
        let mut rng = Rng(0xdead_beef + seed as u64);
        let mut wheel = Wheel::new();
        wheel.advance(start, |_: u64| unreachable!());
        let mut model: HashMap<u64, (TimerKey, u64)> = HashMap::new();
        let mut ids: Vec<u64> = Vec::new();
        let mut next_id = 0u64;
        for _ in 0..40_000 {
            let elapsed = wheel.elapsed();
            match rng.below(10) {
                0..=3 => {
                    let deadline = if rng.below(8) == 0 {
                        elapsed.saturating_sub(rng.spread(10))
                    } else {
                        elapsed.saturating_add(rng.spread(40))
                    };
                    let key = wheel.insert(deadline, next_id);
                    model.insert(next_id, (key, deadline));
                    ids.push(next_id);
                    next_id += 1;
                }
                4 | 5 if !ids.is_empty() => {
                    let id = ids.swap_remove(rng.below(ids.len() as u64) as usize);
                    let (key, _) = model.remove(&id).expect("model has it");
                    assert_eq!(wheel.remove(key), Some(id));
                    assert_eq!(wheel.remove(key), None);
                }
                6 if !ids.is_empty() => {
                    let id = ids[rng.below(ids.len() as u64) as usize];
                    let deadline = elapsed.saturating_add(rng.spread(38));
                    let entry = model.get_mut(&id).expect("model has it");
                    assert!(wheel.reset(entry.0, deadline));
                    entry.1 = deadline;
                }
                _ => {
                    let now = elapsed.saturating_add(rng.spread(37));
                    let mut fired = Vec::new();
                    wheel.advance(now, |id| fired.push(id));
                    let mut last = 0;
                    for id in &fired {
                        let (_, deadline) = model.remove(id).expect("fired once");
                        assert!(deadline <= now);
                        let effective = deadline.max(elapsed);
                        assert!(effective >= last, "out of order");
                        last = effective;
                    }
                    ids.retain(|id| model.contains_key(id));
                    assert!(
                        model.values().all(|&(_, d)| d > now),
                        "a due entry did not fire"
                    );
                }
            }
            assert_eq!(wheel.len(), model.len());
            let earliest = model.values().map(|&(_, d)| d.max(wheel.elapsed())).min();
            match (wheel.next_expiration(), earliest) {
                (None, None) => {}
                (Some(at), Some(earliest)) => {
                    assert!(at >= wheel.elapsed() && at <= earliest);
                }
                other => panic!("next_expiration mismatch: {other:?}"),
            }
        }
        let mut rest = Vec::new();
        wheel.advance(u64::MAX, |id| rest.push(id));
        assert_eq!(rest.len(), model.len());
        assert!(wheel.is_empty());
    }
}
