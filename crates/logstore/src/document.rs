//! How a [`LogRecord`] looks as a JSON document, shared by every log store.

use std::collections::BTreeMap;

use nexuslog_schemas::{FieldValue, Level, LogRecord, ParseStatus, SourceKind, TimestampSource};
use serde_json::{json, Map, Value};

/// Civil date (UTC) of a microsecond timestamp, as (year, month, day).
pub fn day_of(micros: i64) -> (i64, u32, u32) {
    // Howard Hinnant's days-to-civil algorithm: exact for the proleptic Gregorian calendar.
    let days = micros.div_euclid(86_400_000_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `2024-05-01T12:34:56.123456Z`.
pub fn rfc3339_micros(micros: i64) -> String {
    let (y, m, d) = day_of(micros);
    let in_day = micros.rem_euclid(86_400_000_000);
    let secs = in_day / 1_000_000;
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z", secs / 3600, secs / 60 % 60, secs % 60, in_day % 1_000_000)
}

/// The daily index a record belongs to: `<prefix><project>-<yyyy.mm.dd>`.
pub fn index_name(prefix: &str, project_id: &str, micros: i64) -> String {
    let (y, m, d) = day_of(micros);
    format!("{prefix}{}-{y:04}.{m:02}.{d:02}", project_id.to_lowercase())
}

/// A number derived from a record id that breaks ties between records of the same
/// microsecond, identically in every store (FNV-1a of the id, as a non-negative i64).
pub fn id_rank(id: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h >> 1) as i64
}

pub(crate) fn to_document(r: &LogRecord) -> Value {
    let mut fields = Map::new();
    for (k, v) in &r.fields {
        fields.insert(k.clone(), serde_json::to_value(v).unwrap_or(Value::Null));
    }
    json!({
        "id": r.id,
        "id_rank": id_rank(&r.id),
        "project_id": r.project_id,
        "@timestamp": rfc3339_micros(r.timestamp),
        "timestamp_us": r.timestamp,
        "timestamp_source": r.timestamp_source.symbol(),
        "received_at_us": r.received_at,
        "level": r.level.symbol(),
        "message": r.message,
        "host": r.host,
        "service": r.service,
        "source": r.source.symbol(),
        "fields": fields,
        "parse_status": r.parse_status.symbol(),
        "parse_errors": r.parse_errors,
        "trace_id": r.trace_id,
        "span_id": r.span_id,
    })
}

fn str_of(doc: &Value, key: &str) -> Option<String> {
    doc.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// Reads a document back; missing or odd values become defaults rather than errors, since a
/// search must still show a record indexed by an older version.
pub(crate) fn from_document(doc: &Value) -> LogRecord {
    let mut fields = BTreeMap::new();
    if let Some(Value::Object(m)) = doc.get("fields") {
        for (k, v) in m {
            let typed = match v {
                Value::Null => FieldValue::Null,
                Value::Bool(b) => FieldValue::Bool(*b),
                Value::Number(n) => n.as_i64().map(FieldValue::Long).unwrap_or_else(|| FieldValue::Double(n.as_f64().unwrap_or(0.0))),
                Value::String(s) => FieldValue::String(s.clone()),
                other => FieldValue::String(other.to_string()),
            };
            fields.insert(k.clone(), typed);
        }
    }
    LogRecord {
        id: str_of(doc, "id").unwrap_or_default(),
        project_id: str_of(doc, "project_id").unwrap_or_default(),
        timestamp: doc.get("timestamp_us").and_then(Value::as_i64).unwrap_or_default(),
        timestamp_source: TimestampSource::from_symbol(&str_of(doc, "timestamp_source").unwrap_or_default()),
        received_at: doc.get("received_at_us").and_then(Value::as_i64).unwrap_or_default(),
        level: Level::from_symbol(&str_of(doc, "level").unwrap_or_default()),
        message: str_of(doc, "message").unwrap_or_default(),
        host: str_of(doc, "host"),
        service: str_of(doc, "service"),
        source: SourceKind::from_symbol(&str_of(doc, "source").unwrap_or_default()),
        fields,
        parse_status: ParseStatus::from_symbol(&str_of(doc, "parse_status").unwrap_or_default()),
        parse_errors: doc
            .get("parse_errors")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default(),
        trace_id: str_of(doc, "trace_id"),
        span_id: str_of(doc, "span_id"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(day_of(0), (1970, 1, 1));
        assert_eq!(day_of(951_782_400_000_000), (2000, 2, 29));
        assert_eq!(day_of(-1), (1969, 12, 31));
        assert_eq!(rfc3339_micros(1_700_000_000_123_456), "2023-11-14T22:13:20.123456Z");
        assert_eq!(index_name("nexuslog-", "Default", 1_700_000_000_000_000), "nexuslog-default-2023.11.14");
    }

    #[test]
    fn document_roundtrip() {
        let r = LogRecord {
            id: "id1".into(),
            project_id: "p".into(),
            timestamp: 1_700_000_000_123_456,
            timestamp_source: TimestampSource::Event,
            received_at: 1_700_000_001_000_000,
            level: Level::Warn,
            message: "disk almost full".into(),
            host: Some("h".into()),
            service: None,
            source: SourceKind::Syslog,
            fields: BTreeMap::from([
                ("pct".into(), FieldValue::Double(97.5)),
                ("n".into(), FieldValue::Long(3)),
                ("ok".into(), FieldValue::Bool(false)),
                ("s".into(), FieldValue::String("x".into())),
            ]),
            parse_status: ParseStatus::Partial,
            parse_errors: vec!["e".into()],
            trace_id: None,
            span_id: Some("abc".into()),
        };
        assert_eq!(from_document(&to_document(&r)), r);
    }
}
