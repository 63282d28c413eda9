use std::collections::BTreeMap;
use std::sync::OnceLock;

use apache_avro::types::Value;

use crate::avro::{self, avro_enum, AvroRecord, Compiled, Fields, SchemaError};

avro_enum!(
    /// Transport an event arrived on.
    SourceKind, default = Unknown, {
        Unknown => "UNKNOWN",
        Http => "HTTP",
        Syslog => "SYSLOG",
        EsBulk => "ES_BULK",
        Otlp => "OTLP",
    }
);

/// One event as the gateway received it (`raw_event.avsc`).
#[derive(Debug, Clone, PartialEq)]
pub struct RawEvent {
    pub ingest_id: String,
    pub project_id: String,
    pub source: SourceKind,
    /// Microseconds since the Unix epoch.
    pub received_at: i64,
    pub remote_addr: Option<String>,
    pub payload: Vec<u8>,
    pub metadata: BTreeMap<String, String>,
}

impl AvroRecord for RawEvent {
    const NAME: &'static str = "io.nexuslog.v1.RawEvent";

    fn compiled() -> &'static Compiled {
        static COMPILED: OnceLock<Compiled> = OnceLock::new();
        COMPILED.get_or_init(|| Compiled::new("raw_event", crate::avsc::RAW_EVENT))
    }

    fn to_value(&self) -> Value {
        avro::record(vec![
            ("ingest_id", Value::String(self.ingest_id.clone())),
            ("project_id", Value::String(self.project_id.clone())),
            ("source", self.source.to_value()),
            ("received_at", Value::TimestampMicros(self.received_at)),
            ("remote_addr", avro::opt_string(&self.remote_addr)),
            ("payload", Value::Bytes(self.payload.clone())),
            ("metadata", avro::string_map(&self.metadata)),
        ])
    }

    fn from_value(value: Value) -> Result<Self, SchemaError> {
        let mut f = Fields::new("RawEvent", value)?;
        Ok(Self {
            ingest_id: f.string("ingest_id")?,
            project_id: f.string("project_id")?,
            source: SourceKind::from_symbol(&f.symbol("source")?),
            received_at: f.micros("received_at")?,
            remote_addr: f.opt_string("remote_addr")?,
            payload: f.bytes("payload")?,
            metadata: f.string_map("metadata")?,
        })
    }
}
