//! Timestamps: RFC 3339 (RFC 5424 and rsyslog's RFC 3339 templates) and the BSD forms of
//! RFC 3164 and network devices, all turned into microseconds since the Unix epoch, UTC.

use chrono::{DateTime, Datelike, NaiveDate};

/// How far in the future a year-less BSD timestamp may lie relative to the receive time
/// before we decide it belongs to the previous year. A week absorbs clock skew and devices
/// logging in a local time zone ahead of UTC, while still rolling `Dec 31` received on
/// `Jan 1` back to the old year and `Jan 1` received on `Dec 31` forward to the new one.
const FUTURE_TOLERANCE_MICROS: i64 = 7 * 24 * 3600 * 1_000_000;

/// A timestamp recognised at the start of some bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    /// `None` when the syntax matched but the value is impossible (Feb 30, unknown zone).
    pub micros: Option<i64>,
    /// Bytes consumed.
    pub len: usize,
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Exactly `n` ASCII digits.
    fn digits(&mut self, n: usize) -> Option<u32> {
        let s = self.b.get(self.pos..self.pos + n)?;
        if !s.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.pos += n;
        Some(s.iter().fold(0, |acc, d| acc * 10 + u32::from(d - b'0')))
    }

    /// Between `min` and `max` ASCII digits.
    fn digits_range(&mut self, min: usize, max: usize) -> Option<u32> {
        let n = self.b[self.pos..]
            .iter()
            .take(max)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if n < min {
            return None;
        }
        self.digits(n)
    }

    /// One or more spaces.
    fn spaces(&mut self) -> bool {
        let start = self.pos;
        while self.eat(b' ') {}
        self.pos > start
    }

    /// `hh:mm:ss` and an optional `.fraction` (any number of digits, truncated to µs).
    fn time(&mut self) -> Option<(u32, u32, u32, u32)> {
        let h = self.digits(2)?;
        if !self.eat(b':') {
            return None;
        }
        let m = self.digits(2)?;
        if !self.eat(b':') {
            return None;
        }
        let s = self.digits(2)?;
        let mut micros = 0;
        if self.peek() == Some(b'.') && self.b.get(self.pos + 1).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
            let mut scale = 100_000;
            while let Some(d) = self.peek().filter(u8::is_ascii_digit) {
                micros += u32::from(d - b'0') * scale;
                scale /= 10;
                self.pos += 1;
            }
        }
        Some((h, m, s, micros))
    }

    /// `Z`, `+hh:mm`, `-hh:mm` or `+hhmm`: the offset east of UTC in seconds.
    fn numeric_offset(&mut self) -> Option<i64> {
        if self.eat(b'Z') || self.eat(b'z') {
            return Some(0);
        }
        let save = self.pos;
        let sign = match self.peek() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return None,
        };
        self.pos += 1;
        let parsed = (|| {
            let h = self.digits(2)?;
            self.eat(b':');
            let m = self.digits(2)?;
            (h <= 23 && m <= 59).then(|| sign * i64::from(h * 3600 + m * 60))
        })();
        if parsed.is_none() {
            self.pos = save;
        }
        parsed
    }
}

/// UTC microseconds for a calendar time; `None` for impossible dates. A leap second (`:60`)
/// is pinned to the last microsecond of the minute so ordering is kept.
fn to_micros(
    y: i32,
    mo: u32,
    d: u32,
    (h, mi, s, us): (u32, u32, u32, u32),
    offset_secs: i64,
) -> Option<i64> {
    let (s, us) = if s == 60 { (59, 999_999) } else { (s, us) };
    let naive = NaiveDate::from_ymd_opt(y, mo, d)?.and_hms_micro_opt(h, mi, s, us)?;
    naive
        .and_utc()
        .timestamp_micros()
        .checked_sub(offset_secs.checked_mul(1_000_000)?)
}

/// RFC 3339 at the start of `b`: `YYYY-MM-DDThh:mm:ss[.frac][Z|±hh:mm]`. A missing offset
/// means UTC (rsyslog and syslog-ng templates without zone do this).
pub(crate) fn rfc3339(b: &[u8]) -> Option<Stamp> {
    let mut c = Cursor { b, pos: 0 };
    let y = c.digits(4)?;
    if !c.eat(b'-') {
        return None;
    }
    let mo = c.digits(2)?;
    if !c.eat(b'-') {
        return None;
    }
    let d = c.digits(2)?;
    if !(c.eat(b'T') || c.eat(b't')) {
        return None;
    }
    let time = c.time()?;
    let offset = c.numeric_offset().unwrap_or(0);
    let y = i32::try_from(y).ok()?;
    Some(Stamp {
        micros: to_micros(y, mo, d, time, offset),
        len: c.pos,
    })
}

fn month(b: &[u8]) -> Option<u32> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov",
        b"dec",
    ];
    let m = b.get(..3)?;
    MONTHS
        .iter()
        .position(|name| name.eq_ignore_ascii_case(m))
        .and_then(|i| u32::try_from(i + 1).ok())
}

/// Zone abbreviations devices print after the time (Cisco `show-timezone`). Only ones that
/// mean the same thing everywhere: `CST` or `IST` could be three different zones, and a
/// wrong guess is worse than falling back to the receive time.
fn zone_offset(name: &[u8]) -> Option<i64> {
    const ZONES: [(&[u8], i64); 14] = [
        (b"UTC", 0),
        (b"GMT", 0),
        (b"UT", 0),
        (b"Z", 0),
        (b"EST", -5),
        (b"EDT", -4),
        (b"MST", -7),
        (b"MDT", -6),
        (b"PST", -8),
        (b"PDT", -7),
        (b"CET", 1),
        (b"CEST", 2),
        (b"EET", 2),
        (b"EEST", 3),
    ];
    ZONES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, h)| h * 3600)
}

/// A BSD-style timestamp at the start of `b`, in any of the forms real senders use:
/// `Mmm dd hh:mm:ss`, `Mmm dd YYYY hh:mm:ss`, `YYYY Mmm dd hh:mm:ss`, each with optional
/// `.frac` and an optional zone (`UTC`, `+02:00`). `cisco` also accepts an unknown
/// upper-case zone directly followed by `:` (Cisco's `*Mar  1 00:00:12.345 AEST:`), whose
/// offset we cannot know, so the value is `None`.
pub(crate) fn bsd(b: &[u8], received_at_micros: i64, cisco: bool) -> Option<Stamp> {
    let mut c = Cursor { b, pos: 0 };
    let mut year = None;
    if let Some(y) = c.digits(4) {
        if !c.spaces() {
            return None;
        }
        year = Some(y);
    }
    let mo = month(&b[c.pos..])?;
    c.pos += 3;
    if !c.spaces() {
        return None;
    }
    let d = c.digits_range(1, 2)?;
    if !c.spaces() {
        return None;
    }
    if year.is_none() && b.get(c.pos + 4) == Some(&b' ') {
        if let Some(y) = c.digits(4) {
            year = Some(y);
            c.spaces();
        }
    }
    let time = c.time()?;

    // Optional zone after one space; never swallow a hostname, so only known forms.
    let mut offset = Some(0);
    let before_zone = c.pos;
    if c.eat(b' ') {
        let tok_len = b[c.pos..]
            .iter()
            .take_while(|&&ch| ch != b' ' && ch != b':')
            .count();
        let tok = &b[c.pos..c.pos + tok_len];
        if let Some(off) = zone_offset(tok) {
            offset = Some(off);
            c.pos += tok_len;
        } else if let Some((off, len)) = leading_numeric_offset(&b[c.pos..]) {
            offset = Some(off);
            c.pos += len;
        } else if cisco
            && (2..=6).contains(&tok_len)
            && tok.iter().all(u8::is_ascii_uppercase)
            && b.get(c.pos + tok_len) == Some(&b':')
        {
            offset = None;
            c.pos += tok_len;
        } else {
            c.pos = before_zone;
        }
    }

    let micros = offset.and_then(|off| match year {
        Some(y) => to_micros(i32::try_from(y).ok()?, mo, d, time, off),
        None => infer_year(mo, d, time, off, received_at_micros),
    });
    Some(Stamp { micros, len: c.pos })
}

/// `+hh:mm` or `-hhmm` ending at a space, `:` or the end; a bare `Z` is in the zone table
/// and a letter must never be taken from the start of a hostname.
fn leading_numeric_offset(b: &[u8]) -> Option<(i64, usize)> {
    if !matches!(b.first(), Some(b'+' | b'-')) {
        return None;
    }
    let mut c = Cursor { b, pos: 0 };
    let off = c.numeric_offset()?;
    matches!(c.peek(), None | Some(b' ' | b':')).then_some((off, c.pos))
}

/// Picks the year for a year-less timestamp: the latest of received year + 1, received year,
/// received year - 1 that does not put the message more than [`FUTURE_TOLERANCE_MICROS`]
/// after its receive time. Handles the Dec/Jan rollover in both directions and Feb 29.
fn infer_year(
    mo: u32,
    d: u32,
    time: (u32, u32, u32, u32),
    offset: i64,
    received_at_micros: i64,
) -> Option<i64> {
    let received_year = DateTime::from_timestamp_micros(received_at_micros)?.year();
    let limit = received_at_micros.checked_add(FUTURE_TOLERANCE_MICROS)?;
    for y in [
        received_year.checked_add(1)?,
        received_year,
        received_year.checked_sub(1)?,
    ] {
        if let Some(t) = to_micros(y, mo, d, time, offset) {
            if t <= limit {
                return Some(t);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
        to_micros(y, mo, d, (h, mi, s, 0), 0).expect("valid test date")
    }

    #[test]
    fn rfc3339_forms() {
        let s = rfc3339(b"2003-10-11T22:14:15.003Z rest").expect("parses");
        assert_eq!(s.len, 24);
        assert_eq!(s.micros, Some(utc(2003, 10, 11, 22, 14, 15) + 3_000));
        let s = rfc3339(b"2003-08-24T05:14:15.000003-07:00").expect("parses");
        assert_eq!(s.micros, Some(utc(2003, 8, 24, 12, 14, 15) + 3));
        let s = rfc3339(b"1985-04-12T23:20:50.52Z").expect("parses");
        assert_eq!(s.micros, Some(utc(1985, 4, 12, 23, 20, 50) + 520_000));
        // Nanoseconds are truncated, not rejected.
        let s = rfc3339(b"2024-01-01T00:00:00.123456789+0100").expect("parses");
        assert_eq!(s.micros, Some(utc(2023, 12, 31, 23, 0, 0) + 123_456));
        assert_eq!(
            rfc3339(b"2024-02-30T00:00:00Z").expect("syntax ok").micros,
            None
        );
        assert!(rfc3339(b"2024-01-01 00:00:00").is_none());
    }

    #[test]
    fn bsd_forms() {
        let recv = utc(2024, 10, 5, 0, 0, 0);
        assert_eq!(
            bsd(b"Oct  3 12:00:00 host", recv, false),
            Some(Stamp {
                micros: Some(utc(2024, 10, 3, 12, 0, 0)),
                len: 15
            })
        );
        assert_eq!(
            bsd(b"Oct 3 2024 12:00:00 host", recv, false).and_then(|s| s.micros),
            Some(utc(2024, 10, 3, 12, 0, 0))
        );
        assert_eq!(
            bsd(b"2023 Oct 3 12:00:00 host", recv, false).and_then(|s| s.micros),
            Some(utc(2023, 10, 3, 12, 0, 0))
        );
        let s = bsd(b"Mar  1 00:00:12.345 UTC: %SYS", recv, true).expect("parses");
        assert_eq!(s.len, 23);
        assert_eq!(s.micros, Some(utc(2024, 3, 1, 0, 0, 12) + 345_000));
        let s = bsd(b"Mar  1 00:00:12 CEST: x", recv, true).expect("parses");
        assert_eq!(s.micros, Some(utc(2024, 2, 29, 22, 0, 12)));
        let s = bsd(b"Mar  1 00:00:12 AEST: x", recv, true).expect("parses");
        assert_eq!((s.micros, s.len), (None, 20));
        // Without the Cisco context an unknown token is a hostname, not a zone.
        assert_eq!(
            bsd(b"Mar  1 00:00:12 AEST: x", recv, false).map(|s| s.len),
            Some(15)
        );
        assert!(bsd(b"Octopus 3 12:00:00", recv, false).is_none());
    }

    #[test]
    fn year_rollover() {
        // Dec 31 received just after new year: last year.
        let recv = utc(2025, 1, 1, 0, 0, 5);
        assert_eq!(
            bsd(b"Dec 31 23:59:59", recv, false).and_then(|s| s.micros),
            Some(utc(2024, 12, 31, 23, 59, 59))
        );
        // Jan 1 from a fast clock received on Dec 31: next year.
        let recv = utc(2024, 12, 31, 23, 59, 0);
        assert_eq!(
            bsd(b"Jan  1 00:00:05", recv, false).and_then(|s| s.micros),
            Some(utc(2025, 1, 1, 0, 0, 5))
        );
        // A message from last spring received in autumn stays in this year.
        let recv = utc(2024, 10, 1, 0, 0, 0);
        assert_eq!(
            bsd(b"Apr  1 00:00:00", recv, false).and_then(|s| s.micros),
            Some(utc(2024, 4, 1, 0, 0, 0))
        );
        // Feb 29 in 2025 belongs to 2024.
        let recv = utc(2025, 3, 1, 0, 0, 0);
        assert_eq!(
            bsd(b"Feb 29 10:00:00", recv, false).and_then(|s| s.micros),
            Some(utc(2024, 2, 29, 10, 0, 0))
        );
        // An out-of-range receive time gives no timestamp rather than a panic.
        assert_eq!(
            bsd(b"Feb 29 10:00:00", i64::MAX, false).and_then(|s| s.micros),
            None
        );
    }
}
