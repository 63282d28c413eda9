//! Time bounds in queries: RFC 3339, epoch milliseconds, `now`, and `now-15m` style offsets.

use chrono::DateTime;

/// Parses a time bound relative to `now` (microseconds since the epoch).
///
/// # Errors
/// A message naming the accepted forms.
pub fn parse_time(s: &str, now: i64) -> Result<i64, String> {
    let s = s.trim();
    if s == "now" {
        return Ok(now);
    }
    if let Some(rest) = s.strip_prefix("now-") {
        return relative(rest).map(|d| now - d);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Ok(dt.timestamp_micros());
    }
    if let Ok(ms) = s.parse::<i64>() {
        return Ok(ms.saturating_mul(1000));
    }
    Err(format!("invalid time {s:?}: expected RFC 3339 (2024-05-01T12:00:00Z), epoch milliseconds, now, or now-<n><s|m|h|d|w>"))
}

fn relative(s: &str) -> Result<i64, String> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: i64 = n.parse().map_err(|_| format!("invalid relative time now-{s}"))?;
    let unit_micros: i64 = match unit {
        "s" => 1_000_000,
        "m" => 60_000_000,
        "h" => 3_600_000_000,
        "d" => 86_400_000_000,
        "w" => 604_800_000_000,
        _ => return Err(format!("invalid unit {unit:?} in now-{s}: use s, m, h, d or w")),
    };
    Ok(n.saturating_mul(unit_micros))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let now = 1_700_000_000_000_000;
        assert_eq!(parse_time("now", now), Ok(now));
        assert_eq!(parse_time("now-15m", now), Ok(now - 900_000_000));
        assert_eq!(parse_time("now-2d", now), Ok(now - 172_800_000_000));
        assert_eq!(parse_time("2023-11-14T22:13:20Z", now), Ok(1_700_000_000_000_000));
        assert_eq!(parse_time("1700000000000", now), Ok(1_700_000_000_000_000));
        assert!(parse_time("now-5y", now).is_err());
        assert!(parse_time("yesterday", now).is_err());
    }
}
