//! The debug endpoint's request path on arbitrary bytes: head, target, query, parameters.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    profiler::server::fuzz::request_path(data);
});
