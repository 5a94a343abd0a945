//! Query strings and the endpoint's parameters: `debug` and `min_parked`.

use super::duration::parse_go_duration;
use super::http::{Response, Status};
use std::time::Duration;

/// Longest parameter value echoed back in an error message.
const MAX_ECHOED: usize = 64;

/// The decoded `name=value` pairs of a query string, in order. Like Go's `FormValue`, a
/// parameter given twice counts by its first value, and unknown ones are ignored.
#[derive(Debug, Default)]
pub(super) struct Query(Vec<(String, String)>);

impl Query {
    /// Decodes `query` (the part after `?`): `+` is a space, `%XX` a byte.
    pub(super) fn parse(query: &str) -> Result<Query, Response> {
        let mut pairs = Vec::new();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            match (percent_decode(name), percent_decode(value)) {
                (Some(name), Some(value)) => pairs.push((name, value)),
                _ => {
                    return Err(Response::text(
                        Status::BAD_REQUEST,
                        format!(
                            "400 bad request: malformed query string near {:?}: \
                             expected name=value pairs with valid %-escapes\n",
                            truncate(pair)
                        ),
                    ))
                }
            }
        }
        Ok(Query(pairs))
    }

    /// The first value of `name`, if given.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value.as_str())
    }

    /// `debug`: 0 (the default, as in Go, also for an empty value) up to `max`.
    pub(super) fn debug(&self, max: u8) -> Result<u8, Response> {
        let value = match self.get("debug") {
            None | Some("") => return Ok(0),
            Some(value) => value,
        };
        match value.parse::<u8>() {
            Ok(debug) if debug <= max => Ok(debug),
            _ => {
                let allowed = if max == 1 { "0 or 1" } else { "0, 1 or 2" };
                Err(Response::text(
                    Status::BAD_REQUEST,
                    format!(
                        "400 bad request: invalid debug={:?}: must be {allowed} \
                         (0: pprof, 1: grouped text{})\n",
                        truncate(value),
                        if max == 2 { ", 2: per-task text" } else { "" }
                    ),
                ))
            }
        }
    }

    /// A whole number `name` (`None` when absent or empty).
    pub(super) fn number(&self, name: &str) -> Result<Option<usize>, Response> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(value) => value.parse::<usize>().map(Some).map_err(|_| {
                Response::text(
                    Status::BAD_REQUEST,
                    format!(
                        "400 bad request: invalid {name}={:?}: must be a whole number\n",
                        truncate(value)
                    ),
                )
            }),
        }
    }

    /// `min_parked`: a Go duration (`30s`, `1m30s`, `500ms`, `0`); `default` when absent.
    pub(super) fn min_parked(&self, default: Duration) -> Result<Duration, Response> {
        match self.get("min_parked") {
            None | Some("") => Ok(default),
            Some(value) => parse_go_duration(value).map_err(|err| {
                Response::text(
                    Status::BAD_REQUEST,
                    format!(
                        "400 bad request: invalid min_parked={:?}: {err}; \
                         expected a duration such as 30s, 1m30s, 500ms or 0\n",
                        truncate(value)
                    ),
                )
            }),
        }
    }
}

/// `form` with `+` as space and `%XX` escapes decoded; `None` for a bad escape or bytes that
/// are not UTF-8.
fn percent_decode(form: &str) -> Option<String> {
    let bytes = form.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// `value`, cut to `MAX_ECHOED` characters for an error message.
fn truncate(value: &str) -> &str {
    value
        .char_indices()
        .nth(MAX_ECHOED)
        .map_or(value, |(end, _)| &value[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(s: &str) -> Query {
        Query::parse(s).unwrap_or_else(|_| panic!("{s:?} should parse"))
    }

    #[test]
    fn decodes_pairs() {
        let q = query("debug=1&min_parked=1m30s&name=a+b%2Fc&flag");
        assert_eq!(q.get("debug"), Some("1"));
        assert_eq!(q.get("min_parked"), Some("1m30s"));
        assert_eq!(q.get("name"), Some("a b/c"));
        assert_eq!(q.get("flag"), Some(""));
        assert_eq!(q.get("missing"), None);
        assert_eq!(query("debug=2&debug=1").get("debug"), Some("2"));
        assert_eq!(query("").get("debug"), None);
        assert_eq!(query("%64ebug=%31").get("debug"), Some("1"));
    }

    #[test]
    fn rejects_bad_escapes() {
        for bad in ["debug=%", "debug=%4", "debug=%zz", "debug=%ff", "%=1"] {
            assert!(Query::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn debug_is_bounded() {
        assert_eq!(query("").debug(2).ok(), Some(0));
        assert_eq!(query("debug=").debug(2).ok(), Some(0));
        assert_eq!(query("debug=2").debug(2).ok(), Some(2));
        assert!(query("debug=2").debug(1).is_err());
        for bad in ["debug=3", "debug=-1", "debug=x", "debug=1.0", "debug=999"] {
            assert!(query(bad).debug(2).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn min_parked_defaults_and_parses() {
        let default = Duration::from_secs(30);
        assert_eq!(query("").min_parked(default).ok(), Some(default));
        assert_eq!(
            query("min_parked=1m30s").min_parked(default).ok(),
            Some(Duration::from_secs(90))
        );
        assert!(query("min_parked=soon").min_parked(default).is_err());
    }

    #[test]
    fn echoed_values_are_truncated() {
        let long = "é".repeat(100);
        assert_eq!(truncate(&long).chars().count(), MAX_ECHOED);
        assert_eq!(truncate("short"), "short");
    }
}
