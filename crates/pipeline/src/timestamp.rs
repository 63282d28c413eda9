//! Timestamp normalization: RFC 3339, epoch seconds/ms/µs/ns, and the date formats that log
//! formats and the stock grok patterns produce (asctime, HTTPDATE, syslog without a year,
//! Catalina/Tomcat, log4j's short forms, RFC 822/2822).
//!
//! A time that does not name its zone is read in a [`Zone`] (a rule's `timezone`, UTC by
//! default); a time without a year gets the latest year that puts it at most a day after the
//! moment it was received.

use chrono::format::{Item, Parsed, StrftimeItems};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;

/// Earliest and latest accepted event times: a parse that lands outside is a misreading.
const MIN_MICROS: i64 = 946_684_800_000_000; // 2000-01-01
const MAX_MICROS: i64 = 4_102_444_800_000_000; // 2100-01-01

/// How far after its receipt a year-less time may lie before it is taken for last year's.
const YEARLESS_AHEAD_MICROS: i64 = 24 * 3600 * 1_000_000;

/// The zone of times that do not give one.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum Zone {
    #[default]
    Utc,
    /// A fixed offset, `+08:00`.
    Fixed(FixedOffset),
    /// An IANA zone, `Asia/Shanghai`: its offset follows daylight saving time.
    Named(chrono_tz::Tz),
}

impl Zone {
    /// `UTC`, `Z`, an offset (`+08:00`, `-0500`) or an IANA name (`Europe/Berlin`).
    ///
    /// # Errors
    /// A message saying what is accepted.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("utc") || s == "Z" || s.eq_ignore_ascii_case("gmt") {
            return Ok(Self::Utc);
        }
        if s.starts_with(['+', '-']) {
            let digits: String = s[1..].chars().filter(char::is_ascii_digit).collect();
            let (h, m) = match digits.len() {
                2 => (digits.parse::<i32>().ok(), Some(0)),
                4 => (digits[..2].parse::<i32>().ok(), digits[2..].parse::<i32>().ok()),
                _ => (None, None),
            };
            let sign = if s.starts_with('-') { -1 } else { 1 };
            if let (Some(h), Some(m)) = (h, m) {
                if let Some(offset) = FixedOffset::east_opt(sign * (h * 3600 + m * 60)) {
                    return Ok(Self::Fixed(offset));
                }
            }
        }
        s.parse::<chrono_tz::Tz>()
            .map(Self::Named)
            .map_err(|_| format!("{s:?} is not a time zone: use UTC, an offset like +08:00, or an IANA name like Asia/Shanghai"))
    }

    /// The instant of a wall-clock time in this zone; in a daylight-saving overlap the earlier
    /// one, in a gap the time just after it.
    pub(crate) fn instant(self, t: NaiveDateTime) -> Option<i64> {
        let micros = match self {
            Self::Utc => Some(t.and_utc().timestamp_micros()),
            Self::Fixed(o) => o.from_local_datetime(&t).earliest().map(|d| d.timestamp_micros()),
            Self::Named(tz) => tz
                .from_local_datetime(&t)
                .earliest()
                .or_else(|| tz.from_local_datetime(&(t + chrono::Duration::hours(1))).earliest())
                .map(|d| d.timestamp_micros()),
        };
        micros.filter(|m| (MIN_MICROS..MAX_MICROS).contains(m))
    }
}

/// What a time is read against: its zone when it gives none, and when it was received (for
/// times without a year).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TimeContext {
    pub zone: Zone,
    /// Microseconds since the epoch; 0 when unknown (year-less times are then refused).
    pub received_at: i64,
}

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

/// Formats that carry their zone.
const ZONED_FORMATS: &[&str] = &[
    "%d/%b/%Y:%H:%M:%S%.f %z",   // HTTPDATE (Apache, nginx access)
    "%Y-%m-%d %H:%M:%S%.f %z",   // TOMCAT_DATESTAMP, PostgreSQL with a numeric zone
    "%Y-%m-%d %H:%M:%S%.f%:z",   // ISO 8601 with a space and +01:00
    "%Y-%m-%dT%H:%M:%S%.f%z",    // ISO 8601 with +0100
    "%a %b %d %H:%M:%S%.f %Y %z", // asctime with a zone
];

/// Formats without a zone: read in the context's zone.
const NAIVE_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S%.f",    // TIMESTAMP_ISO8601 with a space, log4j ISO8601
    "%Y-%m-%dT%H:%M:%S%.f",    // TIMESTAMP_ISO8601
    "%Y/%m/%d %H:%M:%S%.f",    // nginx error log
    "%a %b %d %H:%M:%S%.f %Y", // HTTPDERROR_DATE / asctime (Apache 2.2; 2.4 adds µs)
    "%a %b %d %Y %H:%M:%S%.f", // DATESTAMP_RFC822 without its zone
    "%d/%b/%Y:%H:%M:%S%.f",    // HTTPDATE without a zone
    "%d %b %Y %H:%M:%S%.f",    // Redis (`14 Nov 2023 22:13:20.123`)
    "%b %d, %Y %I:%M:%S %p",   // CATALINA_DATESTAMP (Tomcat 7)
    "%d-%b-%Y %H:%M:%S%.f",    // Tomcat 8+ (`14-Nov-2023 22:13:20.123`)
    "%y/%m/%d %H:%M:%S%.f",    // log4j `yy/MM/dd HH:mm:ss` (Spark, Hadoop)
    "%y%m%d %H%M%S",           // log4j `yyMMdd HHmmss` (HDFS)
    "%d.%m.%Y %H:%M:%S%.f",    // European dotted dates
    "%m/%d/%Y %H:%M:%S%.f",    // US dates (Windows)
];

/// Formats without a year: the year comes from the time of receipt.
const YEARLESS_FORMATS: &[&str] = &[
    "%b %d %H:%M:%S%.f", // SYSLOGTIMESTAMP (`Nov 14 22:13:20`, `Nov  4 ...`)
    "%m-%d %H:%M:%S%.f", // Android logcat threadtime (`11-14 22:13:20.123`)
];

/// The formats above compiled once: chrono re-reads a format string on every parse, which
/// was a fifth of a preset's time per line.
struct Compiled {
    zoned: Vec<Vec<Item<'static>>>,
    naive: Vec<Vec<Item<'static>>>,
    /// Year-less formats (the year is supplied after parsing).
    yearless: Vec<Vec<Item<'static>>>,
    /// The one naive format without a colon (log4j's `yyMMdd HHmmss`).
    colonless: Option<usize>,
}

fn compiled() -> &'static Compiled {
    static C: std::sync::OnceLock<Compiled> = std::sync::OnceLock::new();
    C.get_or_init(|| {
        // The formats are this file's constants, checked by its tests.
        let items = |f: &str| StrftimeItems::new(f).parse_to_owned().unwrap_or_default();
        Compiled {
            zoned: ZONED_FORMATS.iter().map(|f| items(f)).collect(),
            naive: NAIVE_FORMATS.iter().map(|f| items(f)).collect(),
            yearless: YEARLESS_FORMATS.iter().map(|f| items(f)).collect(),
            colonless: NAIVE_FORMATS.iter().position(|f| !f.contains(':')),
        }
    })
}

fn parsed(s: &str, items: &[Item<'static>]) -> Option<Parsed> {
    let mut p = Parsed::new();
    chrono::format::parse(&mut p, s, items.iter()).ok()?;
    Some(p)
}

/// As `DateTime::parse_from_str`, with compiled items.
fn zoned(s: &str, items: &[Item<'static>]) -> Option<DateTime<FixedOffset>> {
    parsed(s, items)?.to_datetime().ok()
}

/// As `NaiveDateTime::parse_from_str`, with compiled items.
fn naive(s: &str, items: &[Item<'static>]) -> Option<NaiveDateTime> {
    parsed(s, items)?.to_naive_datetime_with_offset(0).ok()
}

/// Zone names that may end a time and mean UTC.
const UTC_SUFFIXES: &[&str] = &[" UTC", " GMT", " Z", "Z"];

/// Parses a timestamp given as a JSON value, in UTC and without a receipt time; `None` when it
/// is not a recognizable time.
pub fn parse_timestamp(v: &Value) -> Option<i64> {
    parse_timestamp_in(v, &TimeContext::default())
}

/// Parses a timestamp given as a JSON value, reading zone-less times in `cx.zone` and year-less
/// ones against `cx.received_at`.
pub fn parse_timestamp_in(v: &Value, cx: &TimeContext) -> Option<i64> {
    match v {
        Value::Number(n) => from_epoch(n.as_f64()?),
        Value::String(s) => parse_text(s, cx),
        _ => None,
    }
}

/// `22:13:20,123` → `22:13:20.123`: log4j and Python write the fraction after a comma, and
/// chrono reads only a dot. Only a comma between digits changes (`Nov 14, 2023` keeps its own).
fn fraction_dot(s: &str) -> std::borrow::Cow<'_, str> {
    let b = s.as_bytes();
    match (1..b.len().saturating_sub(1)).find(|&i| b[i] == b',' && b[i - 1].is_ascii_digit() && b[i + 1].is_ascii_digit()) {
        Some(i) => format!("{}.{}", &s[..i], &s[i + 1..]).into(),
        None => s.into(),
    }
}

fn in_range(micros: i64) -> Option<i64> {
    (MIN_MICROS..MAX_MICROS).contains(&micros).then_some(micros)
}

/// Which compiled format read a time last on this thread. A source's lines share one format,
/// so it is tried first, before the ordered scan (which was ~8 % of a grok preset's time per
/// line, most of it formats failing). Only a hint: a miss falls back to the scan, and the
/// formats are exclusive (no string is read in range by two of them differently, tested), so
/// the order changes no result.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Hint {
    Zoned(usize),
    Naive(usize),
    Yearless(usize),
}

thread_local! {
    static LAST: std::cell::Cell<Option<Hint>> = const { std::cell::Cell::new(None) };
}

/// Reads `s` (the whole time) or `bare` (without a UTC suffix, in `zone`) with one format.
fn read_with(h: Hint, s: &str, bare: &str, zone: Zone, received_at: i64) -> Option<i64> {
    let c = compiled();
    match h {
        Hint::Zoned(i) => zoned(s, c.zoned.get(i)?).and_then(|dt| in_range(dt.timestamp_micros())),
        Hint::Naive(i) => naive(bare, c.naive.get(i)?).and_then(|t| zone.instant(t)),
        Hint::Yearless(i) => yearless(bare, c.yearless.get(i)?, zone, received_at),
    }
}

/// Parses a time written as text, as [`parse_timestamp_in`] does a JSON string.
pub(crate) fn parse_text(s: &str, cx: &TimeContext) -> Option<i64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<f64>() {
        return from_epoch(n);
    }
    let s = fraction_dot(s);
    let s = s.as_ref();
    // A trailing UTC/GMT names the zone of the zone-less formats; otherwise the context's applies.
    let (bare, zone) = match UTC_SUFFIXES.iter().find_map(|z| s.strip_suffix(z)) {
        Some(bare) => (bare.trim_end(), Zone::Utc),
        None => (s, cx.zone),
    };
    let c = compiled();
    if !s.contains(':') {
        // Every format but one writes the time with colons, and most colon-free strings that
        // reach here are not times at all (the first tokens of a text line: an IP address):
        // trying every format on them was a tenth of a grok preset's time per line.
        return read_with(Hint::Naive(c.colonless?), s, bare, zone, cx.received_at);
    }
    if let Some(micros) = LAST.get().and_then(|h| read_with(h, s, bare, zone, cx.received_at)) {
        return Some(micros);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return in_range(dt.timestamp_micros());
    }
    let scan = |mut hints: Box<dyn Iterator<Item = Hint>>| {
        let (h, micros) = hints.find_map(|h| read_with(h, s, bare, zone, cx.received_at).map(|m| (h, m)))?;
        LAST.set(Some(h));
        Some(micros)
    };
    // A two-digit year can read as year 23 under a four-digit format: keep the first reading
    // that lands in range.
    if let Some(micros) = scan(Box::new((0..c.zoned.len()).map(Hint::Zoned))) {
        return Some(micros);
    }
    if let Ok(dt) = DateTime::parse_from_rfc2822(s) {
        return in_range(dt.timestamp_micros());
    }
    scan(Box::new((0..c.naive.len()).map(Hint::Naive).chain((0..c.yearless.len()).map(Hint::Yearless))))
}

/// A time without a year, read with one year-less format: the latest year that puts it no more
/// than a day after its receipt.
fn yearless(s: &str, f: &[Item<'static>], zone: Zone, received_at: i64) -> Option<i64> {
    if received_at == 0 {
        return None;
    }
    let received = Utc.timestamp_micros(received_at).single()?;
    // chrono needs a year to build a date: parse once, then supply the candidate years.
    let p = parsed(s, f)?;
    for year in [received.year() + 1, received.year(), received.year() - 1] {
        let mut p = p.clone();
        // `Feb 29` is a date only in leap years: try the others all the same.
        let Some(t) = p.set_year(i64::from(year)).ok().and_then(|()| p.to_naive_datetime_with_offset(0).ok()) else { continue };
        if let Some(micros) = zone.instant(t) {
            if micros <= received_at + YEARLESS_AHEAD_MICROS {
                return Some(micros);
            }
        }
    }
    None
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

    /// One line per date format the stock grok patterns and common layouts produce.
    #[test]
    fn every_stock_date_format() {
        let cases = [
            ("Tue Nov 14 22:13:20 2023", T, "HTTPDERROR_DATE (Apache 2.2)"),
            ("Tue Nov 14 22:13:20.123456 2023", T + 123_456, "Apache 2.4 error log"),
            ("14/Nov/2023:22:13:20 +0000", T, "HTTPDATE"),
            ("14/Nov/2023:23:13:20 +0100", T, "HTTPDATE with an offset"),
            ("2023-11-14T22:13:20,123Z", T + 123_000, "TIMESTAMP_ISO8601 with a comma"),
            ("2023-11-14T22:13:20.123Z", T + 123_000, "TIMESTAMP_ISO8601 with a dot"),
            ("2023-11-14 23:13:20,5+01:00", T + 500_000, "ISO 8601, comma and offset"),
            ("Tue, 14 Nov 2023 22:13:20 GMT", T, "DATESTAMP_RFC2822"),
            ("Tue Nov 14 2023 22:13:20 UTC", T, "DATESTAMP_RFC822"),
            ("Nov 14, 2023 10:13:20 PM", T, "CATALINA_DATESTAMP"),
            ("14-Nov-2023 22:13:20.123", T + 123_000, "Tomcat 8 CATALINA8_DATESTAMP"),
            ("2023-11-14 22:13:20 +0000", T, "TOMCAT_DATESTAMP"),
            ("23/11/14 22:13:20", T, "log4j yy/MM/dd HH:mm:ss"),
            ("231114 221320", T, "log4j yyMMdd HHmmss"),
            ("2023/11/14 22:13:20", T, "nginx error log"),
            ("1700000000", T, "epoch seconds"),
            ("1700000000123", T + 123_000, "epoch milliseconds"),
            ("1700000000123456", T + 123_456, "epoch microseconds"),
            ("1700000000123456789", T + 123_457, "epoch nanoseconds"),
        ];
        for (text, want, what) in cases {
            assert_eq!(parse_timestamp(&json!(text)), Some(want), "{what}: {text}");
        }
    }

    /// Trying the last format first changes no reading: with every format as the hint, each
    /// time reads as the ordered scan reads it (the formats are exclusive in range).
    #[test]
    fn the_last_format_tried_first_changes_no_reading() {
        let received = TimeContext { zone: Zone::Fixed(FixedOffset::east_opt(3600).expect("offset")), received_at: T };
        let texts = [
            "Tue Nov 14 22:13:20 2023", "Tue Nov 14 22:13:20.123456 2023", "14/Nov/2023:22:13:20 +0000", "14/Nov/2023:22:13:20",
            "2023-11-14T22:13:20,123Z", "2023-11-14T22:13:20+01:00", "2023-11-14 23:13:20,5+01:00", "2023-11-14 22:13:20 +0000",
            "2023-11-14 22:13:20", "2023-11-14T22:13:20", "2023/11/14 22:13:20", "Tue, 14 Nov 2023 22:13:20 GMT",
            "Tue Nov 14 2023 22:13:20 UTC", "Tue Nov 14 2023 22:13:20", "Nov 14, 2023 10:13:20 PM", "14-Nov-2023 22:13:20.123",
            "14 Nov 2023 22:13:20.123", "23/11/14 22:13:20", "231114 221320", "14.11.2023 22:13:20", "11/14/2023 22:13:20",
            "Tue Nov 14 22:13:20 2023 +0100", "Nov 14 22:13:20", "Nov  4 22:13:20 UTC", "11-14 22:13:20.123", "Feb 29 10:00:00",
            "23/11/2014 22:13:20", "2023-11-14", "yesterday",
        ];
        let c = compiled();
        let hints: Vec<Hint> = (0..c.zoned.len())
            .map(Hint::Zoned)
            .chain((0..c.naive.len()).map(Hint::Naive))
            .chain((0..c.yearless.len()).map(Hint::Yearless))
            .collect();
        for text in texts {
            LAST.set(None);
            let want = parse_timestamp_in(&json!(text), &received);
            for &h in &hints {
                LAST.set(Some(h));
                assert_eq!(parse_timestamp_in(&json!(text), &received), want, "{text} with {h:?} tried first");
            }
        }
        // And the hint is the format that read the last time.
        LAST.set(None);
        parse_timestamp_in(&json!("23/11/14 22:13:20"), &received);
        assert_eq!(LAST.get(), Some(Hint::Naive(NAIVE_FORMATS.iter().position(|f| f.starts_with("%y/")).expect("format"))));
    }

    #[test]
    fn zoneless_times_are_read_in_the_rules_zone() {
        let shanghai = TimeContext { zone: Zone::parse("Asia/Shanghai").expect("zone"), received_at: 0 };
        assert_eq!(parse_timestamp_in(&json!("2023-11-15 06:13:20"), &shanghai), Some(T));
        let fixed = TimeContext { zone: Zone::parse("+08:00").expect("offset"), received_at: 0 };
        assert_eq!(parse_timestamp_in(&json!("Wed Nov 15 06:13:20 2023"), &fixed), Some(T));
        // A time that names its zone keeps it.
        assert_eq!(parse_timestamp_in(&json!("2023-11-14T22:13:20Z"), &shanghai), Some(T));
        assert_eq!(parse_timestamp_in(&json!("Tue Nov 14 2023 22:13:20 UTC"), &shanghai), Some(T));
        // Berlin in summer is UTC+2, in winter UTC+1.
        let berlin = TimeContext { zone: Zone::parse("Europe/Berlin").expect("zone"), received_at: 0 };
        assert_eq!(parse_timestamp_in(&json!("2023-11-14 23:13:20"), &berlin), Some(T));
        assert_eq!(parse_timestamp_in(&json!("2023-07-01 02:00:00"), &berlin), parse_timestamp(&json!("2023-07-01T00:00:00Z")));
        assert!(Zone::parse("Mars/Olympus").is_err());
        assert_eq!(Zone::parse("-0530"), Ok(Zone::Fixed(FixedOffset::west_opt(5 * 3600 + 1800).expect("offset"))));
    }

    #[test]
    fn yearless_times_take_the_latest_year_at_most_a_day_ahead() {
        let at = |s: &str| parse_timestamp(&json!(s)).expect("time");
        let cx = |received: &str| TimeContext { zone: Zone::Utc, received_at: at(received) };
        // The common case: this year.
        assert_eq!(parse_timestamp_in(&json!("Nov 14 22:13:20"), &cx("2023-11-14T22:13:21Z")), Some(T));
        assert_eq!(parse_timestamp_in(&json!("Nov  4 22:13:20"), &cx("2023-11-14T22:13:21Z")), Some(at("2023-11-04T22:13:20Z")));
        // Around New Year: a December line received on January 1st is last year's...
        assert_eq!(parse_timestamp_in(&json!("Dec 31 23:59:59"), &cx("2024-01-01T00:00:05Z")), Some(at("2023-12-31T23:59:59Z")));
        // ...and a January line received on December 31st (a clock a little ahead) is next year's.
        assert_eq!(parse_timestamp_in(&json!("Jan  1 00:00:10"), &cx("2023-12-31T23:59:00Z")), Some(at("2024-01-01T00:00:10Z")));
        // Two days ahead is too far: that is last year's.
        assert_eq!(parse_timestamp_in(&json!("Nov 16 22:13:20"), &cx("2023-11-14T22:13:20Z")), Some(at("2022-11-16T22:13:20Z")));
        // Android logcat's threadtime.
        assert_eq!(parse_timestamp_in(&json!("11-14 22:13:20.123"), &cx("2023-11-14T22:13:21Z")), Some(T + 123_000));
        // Without a receipt time, a year-less time is not guessed.
        assert_eq!(parse_timestamp(&json!("Nov 14 22:13:20")), None);
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
