//! Raw event → normalized log record.
//!
//! JSON objects are recognized automatically: well-known keys become the standard fields
//! (timestamp, level, message, host, service, trace/span ids), everything else is kept typed
//! in `fields` (nested objects flattened to dotted keys, arrays as JSON text). Anything else is
//! a plain-text line: it becomes the message, with a level and timestamp sniffed from its start.

use std::collections::BTreeMap;

use nexuslog_schemas::{FieldValue, Level, LogRecord, ParseStatus, RawEvent, SourceKind, TimestampSource};
use serde_json::{Map, Value};

use crate::level::{level_from_number, parse_level, sniff_level};
use crate::timestamp::{parse_text, parse_timestamp_in, TimeContext};

const TIMESTAMP_KEYS: &[&str] = &["@timestamp", "timestamp", "time", "ts", "datetime", "date", "eventTime"];
const LEVEL_KEYS: &[&str] = &["level", "severity", "lvl", "loglevel", "log.level", "levelname", "severity_text"];
/// The keys a JSON event's message is read from, in order.
pub const MESSAGE_KEYS: &[&str] = &["message", "msg", "log", "text", "short_message", "body"];
const HOST_KEYS: &[&str] = &["host.name", "host.hostname", "host", "hostname"];
const SERVICE_KEYS: &[&str] = &["service.name", "service", "service_name", "app", "application"];
const TRACE_KEYS: &[&str] = &["trace_id", "traceId", "trace.id"];
const SPAN_KEYS: &[&str] = &["span_id", "spanId", "span.id"];

/// The standard field a key names under the aliases the normalizer reads JSON events with
/// (`msg` → `message`, `lvl` → `level`, `ts` → `timestamp`, `app` → `service`, …), so fields a
/// pipeline rule parses out of a line mean what they would in a JSON event.
pub(crate) fn standard_alias(key: &str) -> Option<&'static str> {
    [
        (TIMESTAMP_KEYS, "timestamp"),
        (LEVEL_KEYS, "level"),
        (MESSAGE_KEYS, "message"),
        (HOST_KEYS, "host"),
        (SERVICE_KEYS, "service"),
        (TRACE_KEYS, "trace_id"),
        (SPAN_KEYS, "span_id"),
    ]
    .into_iter()
    .find_map(|(keys, standard)| keys.contains(&key).then_some(standard))
}

/// Deepest nesting flattened into dotted keys; deeper values are kept as JSON text.
const MAX_DEPTH: usize = 8;

/// Why an event could not be normalized at all (it goes to the dead-letter topic).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NormalizeError {
    #[error("payload is not valid UTF-8")]
    NotUtf8,
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
}

impl NormalizeError {
    pub fn kind(&self) -> &'static str {
        match self {
            NormalizeError::NotUtf8 => "not_utf8",
            NormalizeError::InvalidJson(_) => "invalid_json",
        }
    }
}

/// Normalizes one raw event. The record keeps the raw event's ingest id as its id.
///
/// # Errors
/// When the payload is not text, or looks like a JSON object but does not parse.
pub fn normalize(raw: &RawEvent) -> Result<LogRecord, NormalizeError> {
    let text = std::str::from_utf8(&raw.payload).map_err(|_| NormalizeError::NotUtf8)?;
    let trimmed = text.trim();
    let mut record = LogRecord {
        id: raw.ingest_id.clone(),
        project_id: raw.project_id.clone(),
        timestamp: raw.received_at,
        timestamp_source: TimestampSource::Received,
        received_at: raw.received_at,
        level: Level::Unknown,
        message: String::new(),
        host: None,
        service: None,
        source: raw.source,
        fields: BTreeMap::new(),
        parse_status: ParseStatus::Ok,
        parse_errors: Vec::new(),
        trace_id: None,
        span_id: None,
    };
    if raw.source == SourceKind::Syslog {
        crate::syslog::fill(&mut record, nexuslog_syslog::parse(trimmed.as_bytes(), raw.received_at));
    } else if trimmed.starts_with('{') {
        let value: Value = serde_json::from_str(trimmed).map_err(|e| NormalizeError::InvalidJson(e.to_string()))?;
        match value {
            Value::Object(map) => from_object(&mut record, map, trimmed),
            _ => from_text(&mut record, trimmed),
        }
    } else {
        from_text(&mut record, trimmed);
    }
    stamp_provenance(&mut record, raw);
    Ok(record)
}

/// Fields only a receiver sets: which key (and data source) sent an event, which syslog
/// listener took it. Event content and pipeline rules cannot write them.
pub const RESERVED_FIELDS: &[&str] = &["ingest.api_key", "ingest.data_source", "syslog.listener"];

/// Whether `field` is one only receivers set (`ingest.*` is kept for them as a whole).
pub fn is_reserved(field: &str) -> bool {
    field.starts_with("ingest.") || RESERVED_FIELDS.contains(&field)
}

/// Sets the receiver's fields (the API key and data source, the syslog listener) from the raw
/// event's metadata and removes any other reserved field the event claims. Done when the record
/// is made, so rule conditions see them, and again after the rules, so no step can forge them.
pub fn stamp_provenance(record: &mut LogRecord, raw: &RawEvent) {
    record.fields.retain(|k, _| !is_reserved(k) || raw.metadata.contains_key(k));
    for (k, v) in &raw.metadata {
        record.fields.insert(k.clone(), FieldValue::String(v.clone()));
    }
}

/// Removes the first present scalar under one of `keys` (also looking one level into `a.b`
/// nesting) and returns it. Objects stay in place to be flattened into fields.
fn take(map: &mut Map<String, Value>, keys: &[&str]) -> Option<Value> {
    for k in keys {
        match map.get(*k) {
            Some(Value::Null | Value::Object(_)) | None => {}
            Some(_) => return map.remove(*k),
        }
        if let Some((outer, inner)) = k.split_once('.') {
            if let Some(Value::Object(nested)) = map.get_mut(outer) {
                if nested.get(inner).is_some_and(|v| !v.is_null() && !v.is_object()) {
                    let v = nested.remove(inner);
                    if nested.is_empty() {
                        map.remove(outer);
                    }
                    return v;
                }
            }
        }
    }
    None
}

fn as_text(v: Value) -> String {
    match v {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

fn from_object(r: &mut LogRecord, mut map: Map<String, Value>, original: &str) {
    if let Some(ts) = take(&mut map, TIMESTAMP_KEYS) {
        match parse_timestamp_in(&ts, &TimeContext { received_at: r.received_at, ..TimeContext::default() }) {
            Some(micros) => {
                r.timestamp = micros;
                r.timestamp_source = TimestampSource::Event;
            }
            None => {
                r.parse_status = ParseStatus::Partial;
                r.parse_errors.push(format!("unrecognized timestamp {ts}; using received_at"));
                r.fields.insert("original_timestamp".into(), FieldValue::String(as_text(ts)));
            }
        }
    }
    if let Some(level) = take(&mut map, LEVEL_KEYS) {
        let parsed = match &level {
            Value::Number(n) => n.as_i64().and_then(level_from_number),
            Value::String(s) => parse_level(s),
            _ => None,
        };
        match parsed {
            Some(l) => r.level = l,
            None => {
                r.fields.insert("original_level".into(), FieldValue::String(as_text(level)));
            }
        }
    }
    r.message = match take(&mut map, MESSAGE_KEYS) {
        Some(m) => as_text(m),
        // No message key: show the whole event rather than an empty line.
        None => original.to_owned(),
    };
    r.host = take(&mut map, HOST_KEYS).map(as_text);
    r.service = take(&mut map, SERVICE_KEYS).map(as_text);
    r.trace_id = take(&mut map, TRACE_KEYS).map(as_text);
    r.span_id = take(&mut map, SPAN_KEYS).map(as_text);
    for (k, v) in map {
        flatten(&mut r.fields, k, v, 0);
    }
}

pub(crate) fn flatten(out: &mut BTreeMap<String, FieldValue>, key: String, v: Value, depth: usize) {
    let typed = match v {
        Value::Object(m) if depth < MAX_DEPTH => {
            for (k, v) in m {
                flatten(out, format!("{key}.{k}"), v, depth + 1);
            }
            return;
        }
        Value::Null => FieldValue::Null,
        Value::Bool(b) => FieldValue::Bool(b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => FieldValue::Long(i),
            None => FieldValue::Double(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => FieldValue::String(s),
        other => FieldValue::String(other.to_string()),
    };
    out.insert(key, typed);
}

fn from_text(r: &mut LogRecord, line: &str) {
    r.message = line.to_owned();
    if let Some(l) = sniff_level(line) {
        r.level = l;
    }
    // A leading timestamp: the first one or two whitespace-separated tokens.
    let mut tokens = line.split_whitespace();
    let first = tokens.next().unwrap_or_default();
    let second = tokens.next().unwrap_or_default();
    let two = format!("{first} {second}");
    let first_clean = first.trim_matches(|c| c == '[' || c == ']');
    let two_clean = two.trim_matches(|c| c == '[' || c == ']');
    // Two tokens are one time only when the second is its time of day (`22:13:20`, HDFS's
    // `203615`) or its zone (`+0100`); otherwise (`INFO`, `"GET`, a thread id) reading them
    // fails through every format, which cost each such line as much as its grok preset, and
    // the first token alone reads the same.
    let b = second.as_bytes();
    let continued = second.contains(':')
        || (b.len() == 6 && b.iter().all(u8::is_ascii_digit))
        || (matches!(b.first(), Some(b'+' | b'-')) && b.get(1).is_some_and(u8::is_ascii_digit));
    let candidates: &[&str] = if continued { &[two_clean, first_clean] } else { &[first_clean] };
    for candidate in candidates {
        if candidate.len() >= 10 && candidate.as_bytes()[0].is_ascii_digit() {
            if let Some(micros) = parse_text(candidate, &TimeContext { received_at: r.received_at, ..TimeContext::default() }) {
                r.timestamp = micros;
                r.timestamp_source = TimestampSource::Event;
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn raw(payload: &str) -> RawEvent {
        RawEvent {
            ingest_id: "id".into(),
            project_id: "p".into(),
            source: SourceKind::Http,
            received_at: 1_800_000_000_000_000,
            remote_addr: None,
            payload: payload.as_bytes().to_vec(),
            metadata: Default::default(),
        }
    }

    #[test]
    fn json_standard_fields_and_typed_rest() {
        let r = normalize(&raw(
            r#"{"ts":"2023-11-14T22:13:20Z","level":"WARNING","msg":"slow query","host":{"name":"db-1"},"service":"orders","duration_ms":1532,"ratio":0.5,"ok":false,"tags":["a","b"],"http":{"status":200,"method":"GET"},"trace_id":"abc"}"#,
        ))
        .expect("normalizes");
        assert_eq!(r.timestamp, 1_700_000_000_000_000);
        assert_eq!(r.timestamp_source, TimestampSource::Event);
        assert_eq!(r.level, Level::Warn);
        assert_eq!(r.message, "slow query");
        assert_eq!(r.host.as_deref(), Some("db-1"));
        assert_eq!(r.service.as_deref(), Some("orders"));
        assert_eq!(r.trace_id.as_deref(), Some("abc"));
        assert_eq!(r.fields["duration_ms"], FieldValue::Long(1532));
        assert_eq!(r.fields["ratio"], FieldValue::Double(0.5));
        assert_eq!(r.fields["ok"], FieldValue::Bool(false));
        assert_eq!(r.fields["tags"], FieldValue::String(r#"["a","b"]"#.into()));
        assert_eq!(r.fields["http.status"], FieldValue::Long(200));
        assert_eq!(r.parse_status, ParseStatus::Ok);
        assert!(!r.fields.contains_key("host.name"));
    }

    #[test]
    fn missing_or_bad_timestamp_falls_back_and_is_marked() {
        let r = normalize(&raw(r#"{"message":"x"}"#)).expect("ok");
        assert_eq!((r.timestamp, r.timestamp_source), (1_800_000_000_000_000, TimestampSource::Received));
        let r = normalize(&raw(r#"{"message":"x","timestamp":"last tuesday"}"#)).expect("ok");
        assert_eq!(r.timestamp_source, TimestampSource::Received);
        assert_eq!(r.parse_status, ParseStatus::Partial);
        assert_eq!(r.fields["original_timestamp"], FieldValue::String("last tuesday".into()));
    }

    #[test]
    fn plain_text_lines() {
        let r = normalize(&raw("2023-11-14 22:13:20 ERROR payment gateway timeout")).expect("ok");
        assert_eq!(r.level, Level::Error);
        assert_eq!(r.timestamp, 1_700_000_000_000_000);
        assert_eq!(r.message, "2023-11-14 22:13:20 ERROR payment gateway timeout");
        let r = normalize(&raw("just words")).expect("ok");
        assert_eq!((r.level, r.timestamp_source), (Level::Unknown, TimestampSource::Received));
    }

    #[test]
    fn a_leading_time_with_its_zone_in_the_second_token() {
        let r = normalize(&raw("2023-11-14T23:13:20 +0100 started")).expect("ok");
        assert_eq!(r.timestamp, 1_700_000_000_000_000);
        let r = normalize(&raw("[2023-11-14T22:13:20.500Z] \"GET /a HTTP/1.1\" 200")).expect("ok");
        assert_eq!(r.timestamp, 1_700_000_000_500_000);
        let r = normalize(&raw("1700000000 12 ticks")).expect("ok");
        assert_eq!(r.timestamp, 1_700_000_000_000_000);
        let r = normalize(&raw("231114 221320 148 INFO dfs.DataNode: served")).expect("ok");
        assert_eq!(r.timestamp, 1_700_000_000_000_000);
    }

    #[test]
    fn numeric_levels_and_no_message_key() {
        let r = normalize(&raw(r#"{"level":50,"time":1700000000000,"a":1}"#)).expect("ok");
        assert_eq!(r.level, Level::Error);
        assert_eq!(r.timestamp, 1_700_000_000_000_000);
        assert_eq!(r.message, r#"{"level":50,"time":1700000000000,"a":1}"#);
    }

    #[test]
    fn receiver_metadata_becomes_fields_and_wins_over_the_event() {
        let mut r = raw(r#"{"msg":"x","ingest.api_key":"spoofed"}"#);
        r.metadata = [("ingest.api_key".to_owned(), "agent".to_owned()), ("ingest.data_source".to_owned(), "fluent-bit".to_owned())]
            .into_iter()
            .collect();
        let rec = normalize(&r).expect("ok");
        assert_eq!(rec.fields["ingest.api_key"], FieldValue::String("agent".into()));
        assert_eq!(rec.fields["ingest.data_source"], FieldValue::String("fluent-bit".into()));
    }

    #[test]
    fn reserved_fields_the_receiver_did_not_set_are_removed() {
        // A syslog relay or a key without a data source: the event may not claim one.
        let mut r = raw(r#"{"msg":"x","ingest.data_source":"spoofed","syslog.listener":"tls","ingest":{"other":"y"}}"#);
        r.metadata = [("ingest.api_key".to_owned(), "agent".to_owned())].into_iter().collect();
        let rec = normalize(&r).expect("ok");
        let reserved: Vec<&String> = rec.fields.keys().filter(|k| is_reserved(k)).collect();
        assert_eq!(reserved, ["ingest.api_key"], "{:?}", rec.fields);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert_eq!(normalize(&raw("{\"a\":")).map_err(|e| e.kind()), Err("invalid_json"));
        let mut r = raw("");
        r.payload = vec![0xff, 0xfe];
        assert_eq!(normalize(&r), Err(NormalizeError::NotUtf8));
    }

    proptest! {
        #[test]
        fn never_panics_and_keeps_the_id(payload in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut r = raw("");
            r.payload = payload;
            if let Ok(rec) = normalize(&r) {
                prop_assert_eq!(rec.id, "id");
            }
        }

        #[test]
        fn any_json_object_normalizes(obj in proptest::collection::btree_map("[a-z@._]{1,10}", "[ -~]{0,20}", 0..8)) {
            let text = serde_json::to_string(&obj).expect("json");
            prop_assert!(normalize(&raw(&text)).is_ok());
        }
    }
}
