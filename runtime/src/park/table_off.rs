//! The park-time table, empty twin (feature `profiling` off).

pub(crate) struct ParkTable;

impl ParkTable {
    pub(crate) fn new() -> ParkTable {
        ParkTable
    }
    pub(crate) fn for_each(&self, _f: impl FnMut(u64, u64, u64)) {}
}
