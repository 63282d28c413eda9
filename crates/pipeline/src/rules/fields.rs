//! Reading and writing a record's fields by name. The standard fields (`message`, `level`,
//! `timestamp`, `host`, `service`, `trace_id`, `span_id`, `source`) are addressed by those
//! names; every other name is an extracted field in `LogRecord::fields`.

use nexuslog_schemas::{FieldValue, LogRecord, TimestampSource};

use crate::parse_level;
use crate::timestamp::{parse_timestamp_in, TimeContext, Zone};

/// Text of a field for parsing and matching; `None` when absent.
pub(crate) fn text(r: &LogRecord, name: &str) -> Option<String> {
    match name {
        "message" => Some(r.message.clone()),
        "level" => Some(r.level.symbol().to_ascii_lowercase()),
        "source" => Some(r.source.symbol().to_ascii_lowercase()),
        "host" => r.host.clone(),
        "service" => r.service.clone(),
        "trace_id" => r.trace_id.clone(),
        "span_id" => r.span_id.clone(),
        "timestamp" | "@timestamp" => Some(r.timestamp.to_string()),
        other => r.fields.get(other).map(value_text),
    }
}

pub(crate) fn value_text(v: &FieldValue) -> String {
    match v {
        FieldValue::Null => String::new(),
        FieldValue::Bool(b) => b.to_string(),
        FieldValue::Long(l) => l.to_string(),
        FieldValue::Double(d) => d.to_string(),
        FieldValue::String(s) => s.clone(),
    }
}

pub(crate) fn exists(r: &LogRecord, name: &str) -> bool {
    match name {
        "message" | "level" | "source" | "timestamp" | "@timestamp" => true,
        "host" => r.host.is_some(),
        "service" => r.service.is_some(),
        "trace_id" => r.trace_id.is_some(),
        "span_id" => r.span_id.is_some(),
        other => r.fields.contains_key(other),
    }
}

fn as_json(v: &FieldValue) -> serde_json::Value {
    match v {
        FieldValue::Null => serde_json::Value::Null,
        FieldValue::Bool(b) => (*b).into(),
        FieldValue::Long(l) => (*l).into(),
        FieldValue::Double(d) => (*d).into(),
        FieldValue::String(s) => s.as_str().into(),
    }
}

/// Sets a field. Standard fields take the value in their own type; a value that does not fit
/// (an unknown level word, an unreadable time) is an error and changes nothing.
pub(crate) fn assign(r: &mut LogRecord, name: &str, v: FieldValue, zone: Zone) -> Result<(), String> {
    match name {
        "message" => r.message = value_text(&v),
        "host" => r.host = Some(value_text(&v)),
        "service" => r.service = Some(value_text(&v)),
        "trace_id" => r.trace_id = Some(value_text(&v)),
        "span_id" => r.span_id = Some(value_text(&v)),
        "level" => r.level = parse_level(&value_text(&v)).ok_or_else(|| format!("{:?} is not a level", value_text(&v)))?,
        "timestamp" | "@timestamp" => {
            let text = value_text(&v);
            r.timestamp = parse_timestamp_in(&as_json(&v), &TimeContext { zone, received_at: r.received_at })
                .or_else(|| nexuslog_syslog::bsd_timestamp(&text, r.received_at))
                .ok_or_else(|| format!("cannot read {text:?} as a time"))?;
            r.timestamp_source = TimestampSource::Event;
        }
        "source" => return Err("`source` is set by the transport and cannot be changed".into()),
        other => {
            r.fields.insert(other.to_owned(), v);
        }
    }
    Ok(())
}

/// Removes a field; standard fields are cleared where they can be, kept where they cannot.
pub(crate) fn remove(r: &mut LogRecord, name: &str) -> Option<FieldValue> {
    match name {
        "host" => r.host.take().map(FieldValue::String),
        "service" => r.service.take().map(FieldValue::String),
        "trace_id" => r.trace_id.take().map(FieldValue::String),
        "span_id" => r.span_id.take().map(FieldValue::String),
        "message" => Some(FieldValue::String(std::mem::take(&mut r.message))),
        "level" | "source" | "timestamp" | "@timestamp" => None,
        other => r.fields.remove(other),
    }
}

/// The value of a field for moving it elsewhere (rename).
pub(crate) fn take(r: &mut LogRecord, name: &str) -> Option<FieldValue> {
    match name {
        "level" | "source" | "timestamp" | "@timestamp" => text(r, name).map(FieldValue::String),
        _ => remove(r, name),
    }
}
