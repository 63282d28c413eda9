//! How a [`LogRecord`] looks as a JSON document, shared by every log store.

use std::collections::BTreeMap;

use nexuslog_schemas::{FieldValue, Level, LogRecord, ParseStatus, SourceKind, TimestampSource};
use serde_json::Value;

use crate::FieldType;

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

/// Whether `s` is a day as it ends index names and names Tantivy day directories: `yyyy.mm.dd`.
pub(crate) fn is_day_name(s: &str) -> bool {
    s.len() == 10 && s.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'.' } else { b.is_ascii_digit() })
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

/// Where extracted values go in a document, by type. OpenSearch maps a field by the first value
/// it sees; with one object per type, a value only ever meets a mapping of its own type, so
/// `status` = 200 in one record and "abc" in the next are both indexed (as
/// `fields_long.status` and `fields.status`) instead of the second being refused.
///
/// `fields` holds strings, and nulls: a null has no type, OpenSearch maps nothing for it (so it
/// cannot conflict), and keeping it lets the record read back unchanged. Doubles JSON cannot
/// carry (NaN, infinities) are stored as null too.
pub(crate) const STRING_FIELDS: &str = "fields";
pub(crate) const LONG_FIELDS: &str = "fields_long";
pub(crate) const DOUBLE_FIELDS: &str = "fields_double";
pub(crate) const BOOL_FIELDS: &str = "fields_bool";

/// The document object holding values of type `t`.
pub(crate) fn typed_object(t: FieldType) -> &'static str {
    match t {
        FieldType::String => STRING_FIELDS,
        FieldType::Long => LONG_FIELDS,
        FieldType::Double => DOUBLE_FIELDS,
        FieldType::Bool => BOOL_FIELDS,
    }
}

/// The record as one JSON value tree: the document shape, against which the writers that go
/// straight from the record (`stored_json`, OpenSearch's `write_search_document`) are tested.
#[cfg(test)]
pub(crate) fn to_document(r: &LogRecord) -> Value {
    use serde_json::{json, Map};
    let mut typed: BTreeMap<&'static str, Map<String, Value>> =
        [STRING_FIELDS, LONG_FIELDS, DOUBLE_FIELDS, BOOL_FIELDS].into_iter().map(|o| (o, Map::new())).collect();
    for (name, value) in &r.fields {
        let (object, json) = placed(value);
        let json = match json {
            Scalar::Null => Value::Null,
            Scalar::Str(s) => Value::String(s.to_owned()),
            Scalar::Long(i) => Value::from(i),
            Scalar::Double(x) => Value::from(x),
            Scalar::Bool(b) => Value::Bool(b),
        };
        typed.entry(object).or_default().insert(name.clone(), json);
    }
    let mut doc = json!({
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
        "parse_status": r.parse_status.symbol(),
        "parse_errors": r.parse_errors,
        "trace_id": r.trace_id,
        "span_id": r.span_id,
    });
    for (object, values) in typed {
        doc[object] = Value::Object(values);
    }
    doc
}

/// Where a value goes in a document and how it is written there: its typed object, or
/// `fields` as null for a value of no type (null, or a double JSON cannot carry).
fn placed(value: &FieldValue) -> (&'static str, Scalar<'_>) {
    match (FieldType::of(value), value) {
        (Some(t), FieldValue::String(s)) => (typed_object(t), Scalar::Str(s)),
        (Some(t), FieldValue::Long(i)) => (typed_object(t), Scalar::Long(*i)),
        (Some(t), FieldValue::Double(x)) => (typed_object(t), Scalar::Double(*x)),
        (Some(t), FieldValue::Bool(b)) => (typed_object(t), Scalar::Bool(*b)),
        _ => (STRING_FIELDS, Scalar::Null),
    }
}

/// A field value as JSON, borrowed.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum Scalar<'a> {
    Null,
    Str(&'a str),
    Long(i64),
    Double(f64),
    Bool(bool),
}

/// The values of one typed object, written as a JSON object without building it.
pub(crate) struct Typed<'a> {
    fields: &'a BTreeMap<String, FieldValue>,
    object: &'static str,
}

impl<'a> Typed<'a> {
    /// The values of `fields` that go in `object` (one of `STRING_FIELDS` … `BOOL_FIELDS`).
    pub(crate) fn new(fields: &'a BTreeMap<String, FieldValue>, object: &'static str) -> Self {
        Self { fields, object }
    }
}

impl Typed<'_> {
    fn entries(&self) -> impl Iterator<Item = (&str, Scalar<'_>)> {
        self.fields.iter().filter_map(move |(name, v)| {
            let (object, json) = placed(v);
            (object == self.object).then_some((name.as_str(), json))
        })
    }

    fn is_empty(&self) -> bool {
        self.entries().next().is_none()
    }
}

impl serde::Serialize for Typed<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.entries())
    }
}

/// The document as the Tantivy store keeps it (`_source`): `to_document` without what reading
/// it back does not need — `id_rank` (a hash of the id: 19 random digits, about 8 bytes per event
/// after compression, and a column of its own already), `@timestamp` (OpenSearch's name for
/// `timestamp_us`) and empty values (nulls, empty typed objects and error lists), which
/// [`from_document`] reads as missing. Written straight from the record: building
/// `to_document`'s value tree (a map entry and a string per value) cost more than the text.
pub(crate) fn stored_json(r: &LogRecord) -> String {
    #[derive(serde::Serialize)]
    struct Stored<'a> {
        id: &'a str,
        project_id: &'a str,
        timestamp_us: i64,
        timestamp_source: &'static str,
        received_at_us: i64,
        level: &'static str,
        message: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        host: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        service: Option<&'a str>,
        source: &'static str,
        parse_status: &'static str,
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        parse_errors: &'a [String],
        #[serde(skip_serializing_if = "Option::is_none")]
        trace_id: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        span_id: Option<&'a str>,
        #[serde(rename = "fields", skip_serializing_if = "Typed::is_empty")]
        strings: Typed<'a>,
        #[serde(rename = "fields_long", skip_serializing_if = "Typed::is_empty")]
        longs: Typed<'a>,
        #[serde(rename = "fields_double", skip_serializing_if = "Typed::is_empty")]
        doubles: Typed<'a>,
        #[serde(rename = "fields_bool", skip_serializing_if = "Typed::is_empty")]
        bools: Typed<'a>,
    }
    let typed = |object| Typed::new(&r.fields, object);
    let doc = Stored {
        id: &r.id,
        project_id: &r.project_id,
        timestamp_us: r.timestamp,
        timestamp_source: r.timestamp_source.symbol(),
        received_at_us: r.received_at,
        level: r.level.symbol(),
        message: &r.message,
        host: r.host.as_deref(),
        service: r.service.as_deref(),
        source: r.source.symbol(),
        parse_status: r.parse_status.symbol(),
        parse_errors: &r.parse_errors,
        trace_id: r.trace_id.as_deref(),
        span_id: r.span_id.as_deref(),
        strings: typed(STRING_FIELDS),
        longs: typed(LONG_FIELDS),
        doubles: typed(DOUBLE_FIELDS),
        bools: typed(BOOL_FIELDS),
    };
    // Serializing borrowed strings and numbers into a String cannot fail.
    serde_json::to_string(&doc).unwrap_or_default()
}

/// Reads a value of one typed object.
type ReadValue = fn(&Value) -> FieldValue;

/// A JSON value as a field value, by its JSON type: how `fields` was read when it held every
/// type, and the fallback for a value in a typed object that is not of that type.
fn any_field_value(v: &Value) -> FieldValue {
    match v {
        Value::Null => FieldValue::Null,
        Value::Bool(b) => FieldValue::Bool(*b),
        Value::Number(n) => n.as_i64().map(FieldValue::Long).unwrap_or_else(|| FieldValue::Double(n.as_f64().unwrap_or(0.0))),
        Value::String(s) => FieldValue::String(s.clone()),
        other => FieldValue::String(other.to_string()),
    }
}

fn str_of(doc: &Value, key: &str) -> Option<String> {
    doc.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// Reads a document back; missing or odd values become defaults rather than errors, since a
/// search must still show a record indexed by an older version.
pub(crate) fn from_document(doc: &Value) -> LogRecord {
    // The typed object says the type (a double 2.0 may read back from JSON as the integer 2).
    // One record has one value per name, so a name is in one object only; should a document
    // hold it in several anyway, the first object in this order wins, so reading stays total.
    let readers: [(&str, ReadValue); 4] = [
        // Also documents written before typed objects existed, where `fields` held every type.
        (STRING_FIELDS, any_field_value),
        (LONG_FIELDS, |v| v.as_i64().map_or_else(|| any_field_value(v), FieldValue::Long)),
        (DOUBLE_FIELDS, |v| v.as_f64().map_or_else(|| any_field_value(v), FieldValue::Double)),
        (BOOL_FIELDS, |v| v.as_bool().map_or_else(|| any_field_value(v), FieldValue::Bool)),
    ];
    let mut fields = BTreeMap::new();
    for (object, read) in readers {
        if let Some(Value::Object(m)) = doc.get(object) {
            for (name, v) in m {
                fields.entry(name.clone()).or_insert_with(|| read(v));
            }
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
    use serde_json::json;

    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(day_of(0), (1970, 1, 1));
        assert_eq!(day_of(951_782_400_000_000), (2000, 2, 29));
        assert_eq!(day_of(-1), (1969, 12, 31));
        assert_eq!(rfc3339_micros(1_700_000_000_123_456), "2023-11-14T22:13:20.123456Z");
        assert_eq!(index_name("nexuslog-", "Default", 1_700_000_000_000_000), "nexuslog-default-2023.11.14");
        assert!(is_day_name("2023.11.14"));
        assert!(!is_day_name("fields.json") && !is_day_name("x-2023.11.14") && !is_day_name("2023-11-14"));
    }

    fn sample() -> LogRecord {
        LogRecord {
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
        }
    }

    #[test]
    fn document_roundtrip() {
        let r = sample();
        assert_eq!(from_document(&to_document(&r)), r);
    }

    #[test]
    fn each_value_goes_to_the_object_of_its_type() {
        let r = LogRecord {
            fields: BTreeMap::from([
                ("n".into(), FieldValue::Long(200)),
                ("s".into(), FieldValue::String("200".into())),
                ("x".into(), FieldValue::Double(2.0)),
                ("b".into(), FieldValue::Bool(true)),
                ("gone".into(), FieldValue::Null),
                ("nan".into(), FieldValue::Double(f64::NAN)),
            ]),
            ..sample()
        };
        let doc = to_document(&r);
        assert_eq!(doc["fields"], json!({ "s": "200", "gone": null, "nan": null }));
        assert_eq!(doc["fields_long"], json!({ "n": 200 }));
        assert_eq!(doc["fields_double"], json!({ "x": 2.0 }));
        assert_eq!(doc["fields_bool"], json!({ "b": true }));
        // Through text, as a store returns it: 2.0 stays a double because of its object.
        let back = from_document(&serde_json::from_str(&doc.to_string()).expect("json"));
        assert_eq!(back.fields["x"], FieldValue::Double(2.0));
        assert_eq!(back.fields["n"], FieldValue::Long(200));
        assert_eq!(back.fields["gone"], FieldValue::Null);
        assert_eq!(back.fields["nan"], FieldValue::Null, "JSON has no NaN");
    }

    #[test]
    fn reading_is_total() {
        // Written before typed objects: every type under `fields`.
        let old = json!({ "fields": { "n": 3, "x": 0.5, "b": false, "s": "a", "o": { "k": 1 } } });
        let f = from_document(&old).fields;
        assert_eq!(f["n"], FieldValue::Long(3));
        assert_eq!(f["x"], FieldValue::Double(0.5));
        assert_eq!(f["b"], FieldValue::Bool(false));
        assert_eq!(f["o"], FieldValue::String(r#"{"k":1}"#.into()));
        // A value of another type in a typed object, and a name in two objects.
        let odd = json!({ "fields": { "dup": "s" }, "fields_long": { "dup": 1, "f": 1.5 }, "fields_double": { "i": 2 }, "fields_bool": { "t": "yes" } });
        let f = from_document(&odd).fields;
        assert_eq!(f["dup"], FieldValue::String("s".into()), "`fields` comes first");
        assert_eq!(f["f"], FieldValue::Double(1.5));
        assert_eq!(f["i"], FieldValue::Double(2.0));
        assert_eq!(f["t"], FieldValue::String("yes".into()));
    }
}
