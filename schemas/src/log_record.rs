use std::collections::BTreeMap;
use std::sync::OnceLock;

use apache_avro::types::Value;

use crate::avro::{self, avro_enum, AvroRecord, Compiled, Fields, SchemaError};
use crate::binary::{self, Reader};
use crate::SourceKind;

avro_enum!(
    /// Normalized severity. Syslog severities and the usual spellings map onto these.
    Level, default = Unknown, {
        Unknown => "UNKNOWN",
        Trace => "TRACE",
        Debug => "DEBUG",
        Info => "INFO",
        Warn => "WARN",
        Error => "ERROR",
        Fatal => "FATAL",
    }
);

avro_enum!(
    /// Where `LogRecord::timestamp` came from.
    TimestampSource, default = Received, {
        Event => "EVENT",
        Received => "RECEIVED",
    }
);

avro_enum!(
    /// How far parsing got: `Partial` keeps the record with `parse_errors` filled in.
    ParseStatus, default = Ok, {
        Ok => "OK",
        Partial => "PARTIAL",
        Failed => "FAILED",
    }
);

/// A typed field value. The order of variants is the order of the Avro union branches.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum FieldValue {
    Null,
    Bool(bool),
    Long(i64),
    Double(f64),
    String(String),
}

impl FieldValue {
    fn to_value(&self) -> Value {
        let (index, v) = match self {
            FieldValue::Null => (0, Value::Null),
            FieldValue::Bool(b) => (1, Value::Boolean(*b)),
            FieldValue::Long(l) => (2, Value::Long(*l)),
            FieldValue::Double(d) => (3, Value::Double(*d)),
            FieldValue::String(s) => (4, Value::String(s.clone())),
        };
        Value::Union(index, Box::new(v))
    }

    /// The union branch, then the value.
    fn write(&self, out: &mut Vec<u8>) {
        match self {
            FieldValue::Null => binary::put_long(out, 0),
            FieldValue::Bool(b) => {
                binary::put_long(out, 1);
                binary::put_bool(out, *b);
            }
            FieldValue::Long(l) => {
                binary::put_long(out, 2);
                binary::put_long(out, *l);
            }
            FieldValue::Double(d) => {
                binary::put_long(out, 3);
                binary::put_double(out, *d);
            }
            FieldValue::String(s) => {
                binary::put_long(out, 4);
                binary::put_str(out, s);
            }
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, SchemaError> {
        Ok(match r.index("fields", 5)? {
            0 => FieldValue::Null,
            1 => FieldValue::Bool(r.bool("fields")?),
            2 => FieldValue::Long(r.long("fields")?),
            3 => FieldValue::Double(r.double("fields")?),
            _ => FieldValue::String(r.string("fields")?),
        })
    }

    fn from_value(v: Value) -> Option<Self> {
        Some(match v {
            Value::Union(_, inner) => return Self::from_value(*inner),
            Value::Null => FieldValue::Null,
            Value::Boolean(b) => FieldValue::Bool(b),
            Value::Long(l) => FieldValue::Long(l),
            Value::Int(i) => FieldValue::Long(i64::from(i)),
            Value::Double(d) => FieldValue::Double(d),
            Value::Float(f) => FieldValue::Double(f64::from(f)),
            Value::String(s) => FieldValue::String(s),
            _ => return None,
        })
    }
}

/// A parsed, normalized log record (`log_record.avsc`).
#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    /// The ingest id of the raw event; also the document id in the log store.
    pub id: String,
    pub project_id: String,
    /// Microseconds since the Unix epoch.
    pub timestamp: i64,
    pub timestamp_source: TimestampSource,
    pub received_at: i64,
    pub level: Level,
    pub message: String,
    pub host: Option<String>,
    pub service: Option<String>,
    pub source: SourceKind,
    pub fields: BTreeMap<String, FieldValue>,
    pub parse_status: ParseStatus,
    pub parse_errors: Vec<String>,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
}

impl AvroRecord for LogRecord {
    const NAME: &'static str = "io.nexuslog.v1.LogRecord";

    fn compiled() -> &'static Compiled {
        static COMPILED: OnceLock<Compiled> = OnceLock::new();
        COMPILED.get_or_init(|| Compiled::new("log_record", crate::avsc::LOG_RECORD))
    }

    fn to_value(&self) -> Value {
        let fields = self.fields.iter().map(|(k, v)| (k.clone(), v.to_value())).collect();
        avro::record(vec![
            ("id", Value::String(self.id.clone())),
            ("project_id", Value::String(self.project_id.clone())),
            ("timestamp", Value::TimestampMicros(self.timestamp)),
            ("timestamp_source", self.timestamp_source.to_value()),
            ("received_at", Value::TimestampMicros(self.received_at)),
            ("level", self.level.to_value()),
            ("message", Value::String(self.message.clone())),
            ("host", avro::opt_string(&self.host)),
            ("service", avro::opt_string(&self.service)),
            ("source", self.source.to_value()),
            ("fields", Value::Map(fields)),
            ("parse_status", self.parse_status.to_value()),
            ("parse_errors", avro::string_array(&self.parse_errors)),
            ("trace_id", avro::opt_string(&self.trace_id)),
            ("span_id", avro::opt_string(&self.span_id)),
        ])
    }

    fn write_direct(&self, out: &mut Vec<u8>) -> bool {
        binary::put_str(out, &self.id);
        binary::put_str(out, &self.project_id);
        binary::put_long(out, self.timestamp);
        binary::put_long(out, self.timestamp_source.index());
        binary::put_long(out, self.received_at);
        binary::put_long(out, self.level.index());
        binary::put_str(out, &self.message);
        binary::put_opt_str(out, self.host.as_deref());
        binary::put_opt_str(out, self.service.as_deref());
        binary::put_long(out, self.source.index());
        binary::put_block(out, self.fields.iter(), |out, (k, v)| {
            binary::put_str(out, k);
            v.write(out);
        });
        binary::put_long(out, self.parse_status.index());
        binary::put_block(out, self.parse_errors.iter(), |out, e| binary::put_str(out, e));
        binary::put_opt_str(out, self.trace_id.as_deref());
        binary::put_opt_str(out, self.span_id.as_deref());
        true
    }

    fn read_direct(r: &mut Reader<'_>) -> Option<Result<Self, SchemaError>> {
        let read = |r: &mut Reader<'_>| {
            let (id, project_id, timestamp) = (r.string("id")?, r.string("project_id")?, r.long("timestamp")?);
            let (timestamp_source, received_at) = (TimestampSource::read(r, "timestamp_source")?, r.long("received_at")?);
            let (level, message) = (Level::read(r, "level")?, r.string("message")?);
            let (host, service) = (r.opt_string("host")?, r.opt_string("service")?);
            let source = SourceKind::read(r, "source")?;
            let mut fields = BTreeMap::new();
            r.blocks("fields", |r| {
                let k = r.string("fields")?;
                let v = FieldValue::read(r)?;
                fields.insert(k, v);
                Ok(())
            })?;
            let parse_status = ParseStatus::read(r, "parse_status")?;
            let mut parse_errors = Vec::new();
            r.blocks("parse_errors", |r| {
                parse_errors.push(r.string("parse_errors")?);
                Ok(())
            })?;
            let (trace_id, span_id) = (r.opt_string("trace_id")?, r.opt_string("span_id")?);
            Ok(Self { id, project_id, timestamp, timestamp_source, received_at, level, message, host, service, source, fields, parse_status, parse_errors, trace_id, span_id })
        };
        Some(read(r))
    }

    fn from_value(value: Value) -> Result<Self, SchemaError> {
        let mut f = Fields::new("LogRecord", value)?;
        let mut fields = BTreeMap::new();
        for (k, v) in f.map("fields")? {
            let typed = FieldValue::from_value(v).ok_or_else(|| SchemaError::Field {
                record: "LogRecord",
                field: format!("fields.{k}"),
                problem: "is not null, boolean, long, double or string".into(),
            })?;
            fields.insert(k, typed);
        }
        Ok(Self {
            id: f.string("id")?,
            project_id: f.string("project_id")?,
            timestamp: f.micros("timestamp")?,
            timestamp_source: TimestampSource::from_symbol(&f.symbol("timestamp_source")?),
            received_at: f.micros("received_at")?,
            level: Level::from_symbol(&f.symbol("level")?),
            message: f.string("message")?,
            host: f.opt_string("host")?,
            service: f.opt_string("service")?,
            source: SourceKind::from_symbol(&f.symbol("source")?),
            fields,
            parse_status: ParseStatus::from_symbol(&f.symbol("parse_status")?),
            parse_errors: f.string_array("parse_errors")?,
            trace_id: f.opt_string("trace_id")?,
            span_id: f.opt_string("span_id")?,
        })
    }
}
