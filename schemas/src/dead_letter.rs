use std::sync::OnceLock;

use apache_avro::types::Value;

use crate::avro::{self, avro_enum, AvroRecord, Compiled, Fields, SchemaError};

avro_enum!(
    /// The pipeline stage that gave up on a record.
    Stage, default = Unknown, {
        Gateway => "GATEWAY",
        Processor => "PROCESSOR",
        Sink => "SINK",
        Unknown => "UNKNOWN",
    }
);

/// A record that could not be processed, with its original bytes (`dead_letter.avsc`).
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    pub id: String,
    pub project_id: Option<String>,
    pub stage: Stage,
    pub reason: String,
    pub error_kind: String,
    pub original: Vec<u8>,
    pub topic: Option<String>,
    pub partition: Option<i32>,
    pub offset: Option<i64>,
    pub failed_at: i64,
}

impl AvroRecord for DeadLetter {
    const NAME: &'static str = "io.nexuslog.v1.DeadLetter";

    fn compiled() -> &'static Compiled {
        static COMPILED: OnceLock<Compiled> = OnceLock::new();
        COMPILED.get_or_init(|| Compiled::new("dead_letter", crate::avsc::DEAD_LETTER))
    }

    fn to_value(&self) -> Value {
        let partition = match self.partition {
            None => Value::Union(0, Box::new(Value::Null)),
            Some(p) => Value::Union(1, Box::new(Value::Int(p))),
        };
        let offset = match self.offset {
            None => Value::Union(0, Box::new(Value::Null)),
            Some(o) => Value::Union(1, Box::new(Value::Long(o))),
        };
        avro::record(vec![
            ("id", Value::String(self.id.clone())),
            ("project_id", avro::opt_string(&self.project_id)),
            ("stage", self.stage.to_value()),
            ("reason", Value::String(self.reason.clone())),
            ("error_kind", Value::String(self.error_kind.clone())),
            ("original", Value::Bytes(self.original.clone())),
            ("topic", avro::opt_string(&self.topic)),
            ("partition", partition),
            ("offset", offset),
            ("failed_at", Value::TimestampMicros(self.failed_at)),
        ])
    }

    fn from_value(value: Value) -> Result<Self, SchemaError> {
        let mut f = Fields::new("DeadLetter", value)?;
        Ok(Self {
            id: f.string("id")?,
            project_id: f.opt_string("project_id")?,
            stage: Stage::from_symbol(&f.symbol("stage")?),
            reason: f.string("reason")?,
            error_kind: f.string("error_kind")?,
            original: f.bytes("original")?,
            topic: f.opt_string("topic")?,
            partition: f.opt_int("partition")?,
            offset: f.opt_long("offset")?,
            failed_at: f.micros("failed_at")?,
        })
    }
}
