//! The request path without a runtime or a socket, for the fuzz target in `profiler/fuzz/`
//! (`cargo +nightly fuzz run request_path`). Not part of the API.
//!
//! It reads what [`serve`](super::serve) reads before it takes a snapshot: the request head,
//! the target's path and query, and each parameter as the routes read it. Every step answers
//! bad input with a 4xx; a panic anywhere here is a bug the fuzzer reports. (On a live
//! server `http::answer` would turn it into a `500`, hiding it.)

use super::http::{Request, Response, MAX_HEAD};
use super::query::Query;
use super::render;
use super::routes::split_target;

/// Runs the request path on `bytes`, taken as what a client sent on a connection.
///
/// Allocates at most a few times `bytes.len()`, capped as a connection caps its reads, and
/// does no I/O.
#[doc(hidden)]
pub fn request_path(bytes: &[u8]) {
    let _ = read(bytes);
}

/// What the request path decided about one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// The head has not ended yet: a connection would read on.
    Incomplete,
    /// Answered with this status before any parameter was read: a malformed or oversized
    /// head, a target that is not a path, a malformed query string.
    Rejected(u16),
    /// The query decoded; the status each parameter read answers (200 for a valid value).
    Read {
        /// `debug` as `goroutine` and `goroutineleak` read it (0 to 2).
        debug: u16,
        /// `debug` as `park` reads it (0 or 1).
        park_debug: u16,
        /// `min_parked`, defaulting as `goroutineleak` does.
        min_parked: u16,
    },
}

fn read(bytes: &[u8]) -> Outcome {
    // A connection stops reading one byte past the limit; longer inputs would only test
    // httparse on bytes a client can never get to it.
    let bytes = &bytes[..bytes.len().min(MAX_HEAD + 1)];
    let request = match Request::parse(bytes) {
        Ok(Some(request)) => request,
        Ok(None) => return Outcome::Incomplete,
        Err(response) => return Outcome::Rejected(status(&response)),
    };
    let Some((_path, query)) = split_target(&request.target) else {
        return Outcome::Rejected(400);
    };
    let query = match Query::parse(query) {
        Ok(query) => query,
        Err(response) => return Outcome::Rejected(status(&response)),
    };
    // `goroutineleak` looks at `debug` before deciding how to read it.
    let _ = query.get("debug");
    Outcome::Read {
        debug: answered(query.debug(2)),
        park_debug: answered(query.debug(1)),
        min_parked: answered(query.min_parked(render::default_min_parked())),
    }
}

/// The status of `response`, its head rendered as a transport would.
fn status(response: &Response) -> u16 {
    let _ = response.head(false);
    response.status.0
}

fn answered<T>(result: Result<T, Response>) -> u16 {
    result.map_or_else(|response| status(&response), |_| 200)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: Outcome = Outcome::Read {
        debug: 200,
        park_debug: 200,
        min_parked: 200,
    };

    /// The seed corpus: each seed must stay an input the path reads to the end (or, for
    /// the malformed one, rejects), or the fuzzer starts from nothing useful.
    #[test]
    fn seeds_are_read() {
        let seeds: &[(&str, &[u8], Outcome)] = &[
            (
                "index",
                include_bytes!("../../fuzz/corpus/request_path/index"),
                VALID,
            ),
            (
                "goroutine_debug0",
                include_bytes!("../../fuzz/corpus/request_path/goroutine_debug0"),
                VALID,
            ),
            (
                "goroutine_debug1",
                include_bytes!("../../fuzz/corpus/request_path/goroutine_debug1"),
                VALID,
            ),
            (
                "tasks_debug2",
                include_bytes!("../../fuzz/corpus/request_path/tasks_debug2"),
                Outcome::Read {
                    debug: 200,
                    park_debug: 400,
                    min_parked: 200,
                },
            ),
            (
                "goroutineleak",
                include_bytes!("../../fuzz/corpus/request_path/goroutineleak"),
                Outcome::Read {
                    debug: 200,
                    park_debug: 400,
                    min_parked: 200,
                },
            ),
            (
                "park_debug1",
                include_bytes!("../../fuzz/corpus/request_path/park_debug1"),
                VALID,
            ),
            (
                "metrics",
                include_bytes!("../../fuzz/corpus/request_path/metrics"),
                VALID,
            ),
            (
                "vars",
                include_bytes!("../../fuzz/corpus/request_path/vars"),
                VALID,
            ),
            (
                "head_index",
                include_bytes!("../../fuzz/corpus/request_path/head_index"),
                VALID,
            ),
            (
                "absolute_form",
                include_bytes!("../../fuzz/corpus/request_path/absolute_form"),
                VALID,
            ),
            (
                "malformed",
                include_bytes!("../../fuzz/corpus/request_path/malformed"),
                Outcome::Rejected(400),
            ),
        ];
        for &(name, bytes, expected) in seeds {
            assert_eq!(read(bytes), expected, "seed {name}");
            request_path(bytes);
        }
    }

    /// A whole part that brings the nanoseconds within a second of `u128::MAX`, then a
    /// fraction that crosses it: `parse_go_duration` added the two unchecked (a panic with
    /// overflow checks, a silent wrap to 0.13 s without).
    #[test]
    fn min_parked_near_u128_max_is_400() {
        let bytes = b"GET /debug/pprof/goroutineleak?min_parked=340282366920938463463374607431.9s HTTP/1.1\r\n\r\n";
        assert_eq!(
            read(bytes),
            Outcome::Read {
                debug: 200,
                park_debug: 200,
                min_parked: 400,
            }
        );
    }

    #[test]
    fn reads_like_a_connection() {
        assert_eq!(read(b""), Outcome::Incomplete);
        assert_eq!(read(b"GET / HTTP/1.1\r\n"), Outcome::Incomplete);
        assert_eq!(read(b"GET * HTTP/1.1\r\n\r\n"), Outcome::Rejected(400));
        assert_eq!(
            read(b"GET /?debug=%zz HTTP/1.1\r\n\r\n"),
            Outcome::Rejected(400)
        );
        let mut long = b"GET / HTTP/1.1\r\nX: ".to_vec();
        long.resize(2 * MAX_HEAD, b'v');
        long.extend_from_slice(b"\r\n\r\n");
        // Cut where a connection stops reading: incomplete there, so 431 from the caller.
        assert_eq!(read(&long), Outcome::Incomplete);
        assert_eq!(
            read(b"GET /debug/pprof/park?debug=3&min_parked=soon HTTP/1.1\r\n\r\n"),
            Outcome::Read {
                debug: 400,
                park_debug: 400,
                min_parked: 400,
            }
        );
    }
}
