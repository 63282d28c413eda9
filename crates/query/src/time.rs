//! Times as users write them: RFC 3339, epoch milliseconds, and date math as in Kibana and
//! Grafana (`now`, `now-15m`, `now+5m`, `now-1d/d`, `now/w`).

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};

const SECOND: i64 = 1_000_000;

/// Reads a time relative to `now` (microseconds since the epoch) into microseconds.
///
/// Date math: `now`, then any number of `+<n><unit>` / `-<n><unit>`, then optionally
/// `/<unit>` to round down to the start of that unit (UTC). Units: `s`, `m`, `h`, `d`, `w`
/// (weeks start on Monday), `M` (months), `y` (years).
///
/// # Errors
/// A message naming the accepted forms.
pub fn parse_time(s: &str, now: i64) -> Result<i64, String> {
    let s = s.trim();
    if let Some(math) = s.strip_prefix("now") {
        return date_math(math, now).map_err(|e| format!("invalid time {s:?}: {e}"));
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Ok(dt.timestamp_micros());
    }
    if let Ok(ms) = s.parse::<i64>() {
        return Ok(ms.saturating_mul(1000));
    }
    Err(format!(
        "invalid time {s:?}: expected RFC 3339 (2024-05-01T12:00:00Z), epoch milliseconds, or date math (now, now-15m, now+5m, now-1d/d)"
    ))
}

fn date_math(mut rest: &str, now: i64) -> Result<i64, String> {
    let mut t = now;
    while !rest.is_empty() {
        // By character, not byte: `now` followed by a multi-byte character must be an error,
        // not a slice inside it (found by the search_params fuzz target).
        let Some(first) = rest.chars().next() else { break };
        if !first.is_ascii() {
            return Err(format!("unexpected {first:?} in date math: use now-15m, now+1h or now/d"));
        }
        let op = first as u8;
        rest = &rest[1..];
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let (n, after) = rest.split_at(digits);
        let unit = after.chars().next().ok_or("missing unit: use s, m, h, d, w, M or y")?;
        rest = &after[unit.len_utf8()..];
        match op {
            b'+' | b'-' => {
                let n: i64 = n.parse().map_err(|_| format!("expected a number after `{}`", op as char))?;
                let n = if op == b'-' { -n } else { n };
                t = shift(t, n, unit)?;
            }
            b'/' if n.is_empty() => t = round_down(t, unit)?,
            _ => return Err(format!("unexpected `{}`: use +<n><unit>, -<n><unit> or /<unit>", op as char)),
        }
    }
    Ok(t)
}

fn to_datetime(t: i64) -> Result<DateTime<Utc>, String> {
    DateTime::from_timestamp_micros(t).ok_or_else(|| "time out of range".to_owned())
}

fn fixed_unit(unit: char) -> Option<i64> {
    Some(match unit {
        's' => SECOND,
        'm' => 60 * SECOND,
        'h' => 3600 * SECOND,
        'd' => 86_400 * SECOND,
        'w' => 7 * 86_400 * SECOND,
        _ => return None,
    })
}

fn shift(t: i64, n: i64, unit: char) -> Result<i64, String> {
    if let Some(u) = fixed_unit(unit) {
        return n.checked_mul(u).and_then(|d| t.checked_add(d)).ok_or_else(|| "time out of range".to_owned());
    }
    let months = match unit {
        'M' => n,
        'y' => n.checked_mul(12).ok_or("time out of range")?,
        _ => return Err(format!("unknown unit {unit:?}: use s, m, h, d, w, M or y")),
    };
    let dt = to_datetime(t)?;
    let months = i32::try_from(months).map_err(|_| "time out of range")?;
    let shifted = if months >= 0 {
        dt.checked_add_months(chrono::Months::new(months.unsigned_abs()))
    } else {
        dt.checked_sub_months(chrono::Months::new(months.unsigned_abs()))
    };
    shifted.map(|d| d.timestamp_micros()).ok_or_else(|| "time out of range".to_owned())
}

fn round_down(t: i64, unit: char) -> Result<i64, String> {
    let dt = to_datetime(t)?;
    let day_start = |d: NaiveDate| Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default()).timestamp_micros();
    Ok(match unit {
        's' | 'm' | 'h' | 'd' => {
            let u = fixed_unit(unit).unwrap_or(SECOND);
            t.div_euclid(u) * u
        }
        'w' => day_start(dt.date_naive() - chrono::Days::new(u64::from(dt.weekday().num_days_from_monday()))),
        'M' => day_start(dt.date_naive().with_day(1).ok_or("time out of range")?),
        'y' => day_start(NaiveDate::from_ymd_opt(dt.year(), 1, 1).ok_or("time out of range")?),
        _ => return Err(format!("unknown unit {unit:?} after `/`: use s, m, h, d, w, M or y")),
    })
}

/// `2024-05-01T12:34:56.123456Z`, or without the fraction when it is zero.
pub fn format_rfc3339(micros: i64) -> String {
    match DateTime::from_timestamp_micros(micros) {
        Some(dt) if micros % SECOND == 0 => dt.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Some(dt) => dt.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        None => micros.to_string(),
    }
}

/// Reads an interval such as `10s`, `1m`, `1h`, `1d`, `1w` into microseconds.
///
/// # Errors
/// When it is not a positive number followed by s, m, h, d or w.
pub fn parse_interval(s: &str) -> Result<i64, String> {
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(digits);
    let n: i64 = n.parse().map_err(|_| format!("invalid interval {s:?}: expected a number and a unit, like 10s, 1m, 1h or 1d"))?;
    let mut chars = unit.chars();
    let u = match (chars.next(), chars.next()) {
        (Some(u), None) => fixed_unit(u),
        _ => None,
    }
    .ok_or_else(|| format!("invalid interval {s:?}: the unit is one of s, m, h, d, w"))?;
    match n.checked_mul(u) {
        Some(v) if v > 0 => Ok(v),
        _ => Err(format!("invalid interval {s:?}: must be positive")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_123_456; // 2023-11-14T22:13:20.123456Z, a Tuesday

    #[test]
    fn forms() {
        assert_eq!(parse_time("now", NOW), Ok(NOW));
        assert_eq!(parse_time("now-15m", NOW), Ok(NOW - 900 * SECOND));
        assert_eq!(parse_time("now+5m", NOW), Ok(NOW + 300 * SECOND));
        assert_eq!(parse_time("now-2d", NOW), Ok(NOW - 2 * 86_400 * SECOND));
        assert_eq!(parse_time("2023-11-14T22:13:20Z", NOW), Ok(1_700_000_000 * SECOND));
        assert_eq!(parse_time("2023-11-14T23:13:20+01:00", NOW), Ok(1_700_000_000 * SECOND));
        assert_eq!(parse_time("1700000000000", NOW), Ok(1_700_000_000 * SECOND));
        // "now\u{fffd}…": a multi-byte character after `now` (a fuzz finding) is an error, not a panic.
        for bad in ["now-5x", "yesterday", "now-", "now-m", "now/", "now*2d", "now/5d", "now\u{fffd}qw+0+", "now-1é"] {
            assert!(parse_time(bad, NOW).is_err(), "{bad}");
        }
    }

    #[test]
    fn rounding() {
        let day = |s: &str| parse_time(s, NOW).map(format_rfc3339);
        assert_eq!(day("now/d"), Ok("2023-11-14T00:00:00Z".into()));
        assert_eq!(day("now-1d/d"), Ok("2023-11-13T00:00:00Z".into()));
        assert_eq!(day("now/h"), Ok("2023-11-14T22:00:00Z".into()));
        assert_eq!(day("now/w"), Ok("2023-11-13T00:00:00Z".into()));
        assert_eq!(day("now/M"), Ok("2023-11-01T00:00:00Z".into()));
        assert_eq!(day("now-1M/M"), Ok("2023-10-01T00:00:00Z".into()));
        assert_eq!(day("now/y"), Ok("2023-01-01T00:00:00Z".into()));
        assert_eq!(day("now-1y+2h"), Ok("2022-11-15T00:13:20.123456Z".into()));
    }

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("10s"), Ok(10 * SECOND));
        assert_eq!(parse_interval("1h"), Ok(3600 * SECOND));
        assert!(parse_interval("0s").is_err());
        assert!(parse_interval("5").is_err());
        assert!(parse_interval("5ms").is_err());
    }
}
