//! Timestamp normalization: RFC 3339, epoch seconds/ms/µs/ns, and common log formats.

use chrono::{DateTime, NaiveDateTime};
use serde_json::Value;

/// Earliest and latest accepted event times: a parse that lands outside is a misreading.
const MIN_MICROS: i64 = 946_684_800_000_000; // 2000-01-01
const MAX_MICROS: i64 = 4_102_444_800_000_000; // 2100-01-01

/// Epoch number → microseconds, choosing the unit by magnitude.
fn from_epoch(n: f64) -> Option<i64> {
    let abs = n.abs();
    let micros = if abs < 1e11 {
        n * 1e6 // seconds
    } else if abs < 1e14 {
        n * 1e3 // milliseconds
    } else if abs < 1e17 {
        n // microseconds
    } else {
        n / 1e3 // nanoseconds
    };
    let micros = micros.round() as i64;
    (MIN_MICROS..MAX_MICROS).contains(&micros).then_some(micros)
}

const NAIVE_FORMATS: &[&str] = &["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y/%m/%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S,%3f"];
const ZONED_FORMATS: &[&str] = &["%d/%b/%Y:%H:%M:%S %z", "%Y-%m-%d %H:%M:%S%.f %z", "%Y-%m-%dT%H:%M:%S%.f%z"];

/// Parses a timestamp given as a JSON value; `None` when it is not a recognizable time.
pub fn parse_timestamp(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => from_epoch(n.as_f64()?),
        Value::String(s) => parse_str(s),
        _ => None,
    }
}

fn parse_str(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<f64>() {
        return from_epoch(n);
    }
    let micros = if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        dt.timestamp_micros()
    } else if let Some(dt) = ZONED_FORMATS.iter().find_map(|f| DateTime::parse_from_str(s, f).ok()) {
        dt.timestamp_micros()
    } else if let Some(dt) = NAIVE_FORMATS.iter().find_map(|f| NaiveDateTime::parse_from_str(s, f).ok()) {
        // No zone given: UTC, the only choice that does not depend on where the processor runs.
        dt.and_utc().timestamp_micros()
    } else if let Ok(dt) = DateTime::parse_from_rfc2822(s) {
        dt.timestamp_micros()
    } else {
        return None;
    };
    (MIN_MICROS..MAX_MICROS).contains(&micros).then_some(micros)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const T: i64 = 1_700_000_000_000_000; // 2023-11-14T22:13:20Z

    #[test]
    fn formats() {
        assert_eq!(parse_timestamp(&json!("2023-11-14T22:13:20Z")), Some(T));
        assert_eq!(parse_timestamp(&json!("2023-11-14T23:13:20.5+01:00")), Some(T + 500_000));
        assert_eq!(parse_timestamp(&json!("2023-11-14 22:13:20.250")), Some(T + 250_000));
        assert_eq!(parse_timestamp(&json!("14/Nov/2023:22:13:20 +0000")), Some(T));
        assert_eq!(parse_timestamp(&json!("Tue, 14 Nov 2023 22:13:20 +0000")), Some(T));
        assert_eq!(parse_timestamp(&json!("2023-11-14 22:13:20,123")), Some(T + 123_000));
    }

    #[test]
    fn epochs_by_magnitude() {
        assert_eq!(parse_timestamp(&json!(1_700_000_000)), Some(T));
        assert_eq!(parse_timestamp(&json!(1_700_000_000.25)), Some(T + 250_000));
        assert_eq!(parse_timestamp(&json!(1_700_000_000_000u64)), Some(T));
        assert_eq!(parse_timestamp(&json!(1_700_000_000_000_000u64)), Some(T));
        assert_eq!(parse_timestamp(&json!(1_700_000_000_000_000_000u64)), Some(T));
        assert_eq!(parse_timestamp(&json!("1700000000")), Some(T));
    }

    #[test]
    fn garbage_is_none() {
        assert_eq!(parse_timestamp(&json!("yesterday")), None);
        assert_eq!(parse_timestamp(&json!(true)), None);
        assert_eq!(parse_timestamp(&json!(5)), None, "1970 is a misreading, not an event time");
    }
}
