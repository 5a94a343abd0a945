//! The cross-crate integration tests live in `tests/tests/`; their helpers are the
//! `test-support` crate's, shared with every other crate's tests.
