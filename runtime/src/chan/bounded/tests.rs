use super::*;

/// A program may keep a channel per request: the unbounded flavour's lock-free queue
/// (cache-padded, ~256 bytes) must not be part of every channel.
#[test]
fn a_bounded_channel_does_not_carry_the_unbounded_queue() {
    assert!(
        std::mem::size_of::<Chan<u64>>() <= 192,
        "{}",
        std::mem::size_of::<Chan<u64>>()
    );
}
