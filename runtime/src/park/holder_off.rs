//! Lock holders, empty twin (feature `profiling` off, or under loom): nothing is recorded.

pub(crate) struct Holder;

#[derive(Copy, Clone, Debug)]
pub(crate) struct ReaderSlot;

impl Holder {
    pub(crate) fn new() -> Holder {
        Holder
    }
    #[inline(always)]
    pub(crate) fn blocked_on(&self) -> u64 {
        0
    }
    #[inline(always)]
    pub(crate) fn acquired(&self, _task: u64) {}
    #[inline(always)]
    pub(crate) fn released(&self) {}
    #[inline(always)]
    pub(crate) fn read_acquired(&self, _task: u64) -> ReaderSlot {
        ReaderSlot
    }
    #[inline(always)]
    pub(crate) fn read_released(&self, _slot: ReaderSlot) {}
}

#[inline(always)]
pub(crate) fn blocked_on_task(_task: u64) -> u64 {
    0
}

pub(crate) fn holders(_blocked_on: u64, _out: &mut Vec<u64>) {}
