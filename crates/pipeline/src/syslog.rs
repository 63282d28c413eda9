//! Syslog raw events → log records: severity → level, HOSTNAME → host, APP-NAME (or the 3164
//! tag) → service, facility/procid/msgid and structured data → typed fields.

use nexuslog_schemas::{FieldValue, Level, LogRecord, ParseStatus, TimestampSource};
use nexuslog_syslog::{facility_name, severity_name, Format, SyslogMessage};

/// Syslog severity (0 emergency … 7 debug) → normalized level.
pub fn level_of(severity: u8) -> Level {
    match severity {
        0..=2 => Level::Fatal,
        3 => Level::Error,
        4 => Level::Warn,
        5 | 6 => Level::Info,
        _ => Level::Debug,
    }
}

/// Fills `r` (already carrying id, project, source, received_at) from a parsed message.
pub fn fill(r: &mut LogRecord, msg: SyslogMessage) {
    if let Some(ts) = msg.timestamp_micros {
        r.timestamp = ts;
        r.timestamp_source = TimestampSource::Event;
    }
    if let Some(sev) = msg.severity {
        r.level = level_of(sev);
        r.fields.insert("syslog.severity".into(), FieldValue::String(severity_name(sev).into()));
    }
    if let Some(fac) = msg.facility {
        r.fields.insert("syslog.facility".into(), FieldValue::String(facility_name(fac).into()));
    }
    r.host = msg.hostname;
    r.service = msg.app_name;
    for (name, value) in [("syslog.procid", msg.proc_id), ("syslog.msgid", msg.msg_id)] {
        if let Some(v) = value {
            r.fields.insert(name.into(), FieldValue::String(v));
        }
    }
    if let Some(seq) = msg.sequence {
        r.fields.insert("syslog.sequence".into(), FieldValue::Long(i64::try_from(seq).unwrap_or(i64::MAX)));
    }
    for sd in msg.structured_data {
        for (name, value) in sd.params {
            // The API key that routed the message is a secret: never stored.
            if sd.id.starts_with("nexuslog@") && name == "key" {
                continue;
            }
            r.fields.insert(format!("sd.{}.{name}", sd.id), FieldValue::String(value));
        }
    }
    r.fields.insert(
        "syslog.format".into(),
        FieldValue::String(match msg.format {
            Format::Rfc5424 => "rfc5424",
            Format::Rfc3164 => "rfc3164",
            Format::Unparsed => "unparsed",
        }
        .into()),
    );
    if matches!(msg.format, Format::Unparsed) {
        r.parse_status = ParseStatus::Partial;
        r.parse_errors.push("not recognized as RFC 5424 or RFC 3164; kept as text".into());
    }
    r.message = msg.message;
}
