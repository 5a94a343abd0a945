//! Go's duration syntax (`time.ParseDuration`), for `min_parked=1m30s`.

use std::fmt;
use std::time::Duration;

/// Why a duration did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct DurationError(&'static str);

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Nanoseconds per unit, Go's units and spellings.
const UNITS: &[(&str, u128)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("μs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Fraction digits kept; further ones are below a nanosecond for every unit.
const MAX_FRACTION_DIGITS: u32 = 18;

/// Parses a sequence of decimal numbers, each with an optional fraction and a unit: `30s`,
/// `1m30s`, `1.5h`, `500ms`, `250us`; `0` needs no unit. A leading `+` is allowed; negative
/// durations are not (there is no negative park time). Like Go, the total is limited to
/// `i64::MAX` nanoseconds (about 292 years).
pub(super) fn parse_go_duration(s: &str) -> Result<Duration, DurationError> {
    let s = match s.as_bytes().first() {
        Some(b'-') => return Err(DurationError("negative duration")),
        Some(b'+') => &s[1..],
        Some(_) => s,
        None => return Err(DurationError("empty duration")),
    };
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        return Err(DurationError("missing number"));
    }
    let too_large = DurationError("duration too large");
    let mut rest = s;
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let (whole, after_whole) = split_digits(rest);
        let (fraction, after_number) = match after_whole.strip_prefix('.') {
            Some(after_dot) => split_digits(after_dot),
            None => ("", after_whole),
        };
        if whole.is_empty() && fraction.is_empty() {
            return Err(DurationError("expected a number"));
        }
        let unit_len = after_number
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after_number.len());
        let (unit, after_unit) = after_number.split_at(unit_len);
        if unit.is_empty() {
            return Err(DurationError("missing unit (ns, us, ms, s, m or h)"));
        }
        let &(_, nanos_per_unit) =
            UNITS
                .iter()
                .find(|(name, _)| *name == unit)
                .ok_or(DurationError(
                    "unknown unit (expected ns, us, ms, s, m or h)",
                ))?;

        let whole = parse_digits(whole).ok_or(too_large)?;
        let mut nanos = whole.checked_mul(nanos_per_unit).ok_or(too_large)?;
        let fraction = &fraction[..fraction.len().min(MAX_FRACTION_DIGITS as usize)];
        if !fraction.is_empty() {
            let numerator = parse_digits(fraction).ok_or(too_large)?;
            let scale = 10u128.pow(fraction.len() as u32);
            // Both factors are below 10^18 and 3.6·10^12: no overflow in u128. The sum
            // can overflow: `whole` alone may bring `nanos` within a unit of u128::MAX.
            nanos = nanos
                .checked_add(numerator * nanos_per_unit / scale)
                .ok_or(too_large)?;
        }
        total = total.checked_add(nanos).ok_or(too_large)?;
        if total > i64::MAX as u128 {
            return Err(too_large);
        }
        rest = after_unit;
    }
    // At most i64::MAX nanoseconds, checked above.
    Ok(Duration::from_nanos(total as u64))
}

/// The leading ASCII digits of `s`, and the rest.
fn split_digits(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    s.split_at(end)
}

/// `digits` (ASCII digits only) as a number; `None` on overflow. Empty is 0.
fn parse_digits(digits: &str) -> Option<u128> {
    digits.bytes().try_fold(0u128, |n, digit| {
        n.checked_mul(10)?.checked_add(u128::from(digit - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Duration {
        parse_go_duration(s).unwrap_or_else(|err| panic!("{s:?}: {err}"))
    }

    #[test]
    fn parses_go_durations() {
        assert_eq!(ok("0"), Duration::ZERO);
        assert_eq!(ok("+0"), Duration::ZERO);
        assert_eq!(ok("0s"), Duration::ZERO);
        assert_eq!(ok("30s"), Duration::from_secs(30));
        assert_eq!(ok("1m30s"), Duration::from_secs(90));
        assert_eq!(ok("500ms"), Duration::from_millis(500));
        assert_eq!(ok("250us"), Duration::from_micros(250));
        assert_eq!(ok("250µs"), Duration::from_micros(250));
        assert_eq!(ok("250μs"), Duration::from_micros(250));
        assert_eq!(ok("7ns"), Duration::from_nanos(7));
        assert_eq!(ok("2h"), Duration::from_secs(7200));
        assert_eq!(ok("1.5h"), Duration::from_secs(5400));
        assert_eq!(ok(".5s"), Duration::from_millis(500));
        assert_eq!(ok("5.s"), Duration::from_secs(5));
        assert_eq!(ok("+5s"), Duration::from_secs(5));
        assert_eq!(ok("1.000000001s"), Duration::new(1, 1));
        assert_eq!(ok("1h2m3s4ms5us6ns"), Duration::new(3723, 4_005_006),);
        assert_eq!(ok("1.0000000000000000000009s"), Duration::from_secs(1));
        assert_eq!(ok("100000h"), Duration::from_secs(360_000_000));
    }

    #[test]
    fn rejects_malformed_and_negative_durations() {
        for bad in [
            "",
            "+",
            "-1s",
            "-0",
            "s",
            "5",
            "00",
            "1x",
            "1s2",
            "abc",
            ".",
            ".s",
            "1..5s",
            "1 s",
            "1S",
            "1sec",
            "10000000h",
            "99999999999999999999999999999999999999999s",
        ] {
            assert!(parse_go_duration(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert_eq!(
            parse_go_duration("5").unwrap_err().to_string(),
            "missing unit (ns, us, ms, s, m or h)"
        );
        assert_eq!(
            parse_go_duration("-5s").unwrap_err().to_string(),
            "negative duration"
        );
    }
}
