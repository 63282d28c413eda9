use std::collections::BTreeMap;
use std::sync::OnceLock;

use apache_avro::types::Value;

use crate::avro::{self, avro_enum, AvroRecord, Compiled, Fields, SchemaError};
use crate::binary::{self, Reader};

avro_enum!(
    /// Transport an event arrived on.
    SourceKind, default = Unknown, {
        Unknown => "UNKNOWN",
        Http => "HTTP",
        Syslog => "SYSLOG",
        EsBulk => "ES_BULK",
        Otlp => "OTLP",
        Hec => "HEC",
        Loki => "LOKI",
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

    fn write_direct(&self, out: &mut Vec<u8>) -> bool {
        binary::put_str(out, &self.ingest_id);
        binary::put_str(out, &self.project_id);
        binary::put_long(out, self.source.index());
        binary::put_long(out, self.received_at);
        binary::put_opt_str(out, self.remote_addr.as_deref());
        binary::put_bytes(out, &self.payload);
        binary::put_block(out, self.metadata.iter(), |out, (k, v)| {
            binary::put_str(out, k);
            binary::put_str(out, v);
        });
        true
    }

    fn read_direct(r: &mut Reader<'_>) -> Option<Result<Self, SchemaError>> {
        let read = |r: &mut Reader<'_>| {
            let mut e = Self {
                ingest_id: r.string("ingest_id")?,
                project_id: r.string("project_id")?,
                source: SourceKind::read(r, "source")?,
                received_at: r.long("received_at")?,
                remote_addr: r.opt_string("remote_addr")?,
                payload: r.bytes("payload")?.to_vec(),
                metadata: BTreeMap::new(),
            };
            r.blocks("metadata", |r| {
                let k = r.string("metadata")?;
                let v = r.string("metadata")?;
                e.metadata.insert(k, v);
                Ok(())
            })?;
            Ok(e)
        };
        Some(read(r))
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
