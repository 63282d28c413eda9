//! Hand-written conversion between Avro [`Value`]s and the record types.

use std::collections::{BTreeMap, HashMap};

use apache_avro::types::Value;
use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::writer::datum::GenericDatumWriter;
use apache_avro::Schema;

use crate::binary::Reader;

/// Why a record could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("avro: {0}")]
    Avro(#[from] Box<apache_avro::Error>),
    #[error("record {record}: field `{field}` {problem}")]
    Field { record: &'static str, field: String, problem: String },
    #[error("wire format: {0}")]
    Wire(String),
    #[error("unknown schema id {0}")]
    UnknownSchemaId(u32),
    #[error("schema registry: {0}")]
    Registry(String),
    /// The registry did not answer (connection, timeout, 5xx): nothing is wrong with the
    /// record, so it is retried, never dead-lettered.
    #[error("schema registry unavailable: {0}")]
    RegistryUnavailable(String),
}

impl SchemaError {
    /// Whether the same call may succeed later: the record must then wait, not be given up on.
    pub fn is_transient(&self) -> bool {
        matches!(self, SchemaError::RegistryUnavailable(_))
    }
}

impl From<apache_avro::Error> for SchemaError {
    fn from(e: apache_avro::Error) -> Self {
        SchemaError::Avro(Box::new(e))
    }
}

/// A parsed schema with its datum writer and reader, built once per process: building them
/// resolves the schema, which costs far more than encoding one record.
pub struct Compiled {
    schema: &'static Schema,
    writer: GenericDatumWriter<'static>,
    reader: GenericDatumReader<'static>,
}

impl Compiled {
    pub(crate) fn new(name: &str, text: &str) -> Self {
        // Leaked once per record type, so the writer and reader can borrow it for 'static.
        let schema: &'static Schema = Box::leak(Box::new(parse_schema(name, text)));
        let writer = GenericDatumWriter::builder(schema)
            .build()
            .unwrap_or_else(|e| panic!("compiled-in schema {name} must resolve (covered by tests): {e}"));
        let reader = GenericDatumReader::builder(schema)
            .build()
            .unwrap_or_else(|e| panic!("compiled-in schema {name} must resolve (covered by tests): {e}"));
        Self { schema, writer, reader }
    }
}

/// A record type with an `.avsc` schema.
pub trait AvroRecord: Sized {
    /// Full name of the Avro record, e.g. `io.nexuslog.v1.LogRecord`.
    const NAME: &'static str;

    /// The current schema with its writer and reader.
    fn compiled() -> &'static Compiled;

    /// The current (reader and writer) schema.
    fn schema() -> &'static Schema {
        Self::compiled().schema
    }

    fn to_value(&self) -> Value;

    /// # Errors
    /// When the value does not have the shape of the current schema.
    fn from_value(value: Value) -> Result<Self, SchemaError>;

    /// Writes the datum of the current schema straight from the fields (see `binary`);
    /// `false` for types that leave it to the generic path.
    fn write_direct(&self, _out: &mut Vec<u8>) -> bool {
        false
    }

    /// Reads a datum of the current schema straight into the type; `None` for types that
    /// leave it to the generic path.
    fn read_direct(_r: &mut Reader<'_>) -> Option<Result<Self, SchemaError>> {
        None
    }

    /// Encodes as a bare Avro datum (no framing) with the current schema.
    ///
    /// # Errors
    /// When the value does not validate against the schema (a bug in `to_value`).
    fn to_datum(&self) -> Result<Vec<u8>, SchemaError> {
        let mut out = Vec::with_capacity(256);
        if self.write_direct(&mut out) {
            return Ok(out);
        }
        self.to_datum_generic()
    }

    /// [`AvroRecord::to_datum`] through `apache_avro`'s `Value`s: the reference the direct
    /// encoding is tested against.
    ///
    /// # Errors
    /// As [`AvroRecord::to_datum`].
    fn to_datum_generic(&self) -> Result<Vec<u8>, SchemaError> {
        Ok(Self::compiled().writer.write_value_to_vec(self.to_value())?)
    }

    /// Decodes a datum written with `writer` schema, resolving it to the current schema.
    ///
    /// # Errors
    /// When the bytes are not a valid datum of `writer`, or `writer` cannot be resolved.
    fn from_datum(bytes: &[u8], writer: &Schema) -> Result<Self, SchemaError> {
        if std::ptr::eq(writer, Self::schema()) {
            let mut r = Reader::new(bytes, Self::NAME);
            if let Some(record) = Self::read_direct(&mut r) {
                let record = record?;
                if r.remaining() > 0 {
                    return Err(SchemaError::Wire(format!("{} trailing bytes after datum", r.remaining())));
                }
                return Ok(record);
            }
        }
        Self::from_datum_generic(bytes, writer)
    }

    /// [`AvroRecord::from_datum`] through `apache_avro`'s `Value`s (schema resolution
    /// included): older writers' data, and the reference for the direct decoding.
    ///
    /// # Errors
    /// As [`AvroRecord::from_datum`].
    fn from_datum_generic(mut bytes: &[u8], writer: &Schema) -> Result<Self, SchemaError> {
        let value = if std::ptr::eq(writer, Self::schema()) {
            Self::compiled().reader.read_value(&mut bytes)?
        } else {
            // An older (or newer) writer: resolve against the current schema. Rare, so not cached.
            GenericDatumReader::builder(writer).reader_schema(Self::schema()).build()?.read_value(&mut bytes)?
        };
        if !bytes.is_empty() {
            return Err(SchemaError::Wire(format!("{} trailing bytes after datum", bytes.len())));
        }
        Self::from_value(value)
    }
}

pub(crate) fn parse_schema(name: &str, text: &str) -> Schema {
    Schema::parse_str(text)
        .unwrap_or_else(|e| panic!("compiled-in schema {name} must parse (covered by tests): {e}"))
}

/// Reads named fields out of a record value.
pub(crate) struct Fields {
    record: &'static str,
    map: HashMap<String, Value>,
}

fn unwrap_union(v: Value) -> Value {
    match v {
        Value::Union(_, inner) => *inner,
        other => other,
    }
}

impl Fields {
    pub fn new(record: &'static str, value: Value) -> Result<Self, SchemaError> {
        match unwrap_union(value) {
            Value::Record(fields) => Ok(Self { record, map: fields.into_iter().collect() }),
            other => Err(SchemaError::Field {
                record,
                field: String::new(),
                problem: format!("expected a record, got {other:?}"),
            }),
        }
    }

    fn err(&self, field: &str, problem: impl Into<String>) -> SchemaError {
        SchemaError::Field { record: self.record, field: field.to_owned(), problem: problem.into() }
    }

    fn take(&mut self, field: &str) -> Result<Value, SchemaError> {
        self.map.remove(field).map(unwrap_union).ok_or_else(|| self.err(field, "is missing"))
    }

    pub fn string(&mut self, field: &str) -> Result<String, SchemaError> {
        match self.take(field)? {
            Value::String(s) => Ok(s),
            other => Err(self.err(field, format!("expected string, got {other:?}"))),
        }
    }

    pub fn opt_string(&mut self, field: &str) -> Result<Option<String>, SchemaError> {
        match self.take(field)? {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s)),
            other => Err(self.err(field, format!("expected null or string, got {other:?}"))),
        }
    }

    pub fn bytes(&mut self, field: &str) -> Result<Vec<u8>, SchemaError> {
        match self.take(field)? {
            Value::Bytes(b) => Ok(b),
            other => Err(self.err(field, format!("expected bytes, got {other:?}"))),
        }
    }

    pub fn double(&mut self, field: &str) -> Result<f64, SchemaError> {
        match self.take(field)? {
            Value::Double(d) => Ok(d),
            other => Err(self.err(field, format!("expected double, got {other:?}"))),
        }
    }

    pub fn opt_int(&mut self, field: &str) -> Result<Option<i32>, SchemaError> {
        match self.take(field)? {
            Value::Null => Ok(None),
            Value::Int(i) => Ok(Some(i)),
            other => Err(self.err(field, format!("expected null or int, got {other:?}"))),
        }
    }

    pub fn opt_long(&mut self, field: &str) -> Result<Option<i64>, SchemaError> {
        match self.take(field)? {
            Value::Null => Ok(None),
            Value::Long(i) => Ok(Some(i)),
            other => Err(self.err(field, format!("expected null or long, got {other:?}"))),
        }
    }

    /// A `timestamp-micros` field (also accepts a plain long from a schema without the logical type).
    pub fn micros(&mut self, field: &str) -> Result<i64, SchemaError> {
        match self.take(field)? {
            Value::TimestampMicros(t) | Value::Long(t) => Ok(t),
            other => Err(self.err(field, format!("expected timestamp-micros, got {other:?}"))),
        }
    }

    pub fn symbol(&mut self, field: &str) -> Result<String, SchemaError> {
        match self.take(field)? {
            Value::Enum(_, s) => Ok(s),
            other => Err(self.err(field, format!("expected enum, got {other:?}"))),
        }
    }

    pub fn string_array(&mut self, field: &str) -> Result<Vec<String>, SchemaError> {
        let Value::Array(items) = self.take(field)? else {
            return Err(self.err(field, "expected array"));
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match unwrap_union(item) {
                Value::String(s) => out.push(s),
                other => return Err(self.err(field, format!("expected string item, got {other:?}"))),
            }
        }
        Ok(out)
    }

    pub fn map(&mut self, field: &str) -> Result<HashMap<String, Value>, SchemaError> {
        match self.take(field)? {
            Value::Map(m) => Ok(m),
            other => Err(self.err(field, format!("expected map, got {other:?}"))),
        }
    }

    pub fn string_map(&mut self, field: &str) -> Result<BTreeMap<String, String>, SchemaError> {
        let mut out = BTreeMap::new();
        for (k, v) in self.map(field)? {
            match unwrap_union(v) {
                Value::String(s) => {
                    out.insert(k, s);
                }
                other => return Err(self.err(field, format!("expected string value, got {other:?}"))),
            }
        }
        Ok(out)
    }
}

pub(crate) fn opt_string(v: &Option<String>) -> Value {
    match v {
        None => Value::Union(0, Box::new(Value::Null)),
        Some(s) => Value::Union(1, Box::new(Value::String(s.clone()))),
    }
}

pub(crate) fn string_map(m: &BTreeMap<String, String>) -> Value {
    Value::Map(m.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
}

pub(crate) fn string_array(items: &[String]) -> Value {
    Value::Array(items.iter().cloned().map(Value::String).collect())
}

pub(crate) fn record(fields: Vec<(&str, Value)>) -> Value {
    Value::Record(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// Declares a fieldless enum mirrored by an Avro enum: the symbols, in schema order, and the
/// conversions. Unknown symbols (from a newer writer) decode to the enum's default.
macro_rules! avro_enum {
    ($(#[$meta:meta])* $name:ident, default = $default:ident, { $($variant:ident => $symbol:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The Avro symbol.
            pub fn symbol(self) -> &'static str {
                match self { $($name::$variant => $symbol),+ }
            }

            pub fn from_symbol(s: &str) -> Self {
                match s { $($symbol => $name::$variant,)+ _ => $name::$default }
            }

            /// The symbol's position in the schema: its binary encoding.
            #[allow(dead_code, reason = "only the records with a direct encoding use it")]
            pub(crate) fn index(self) -> i64 {
                $name::ALL.iter().position(|v| *v == self).unwrap_or(0) as i64
            }

            #[allow(dead_code, reason = "only the records with a direct encoding use it")]
            pub(crate) fn read(r: &mut crate::binary::Reader<'_>, field: &str) -> Result<Self, crate::avro::SchemaError> {
                Ok($name::ALL[r.index(field, $name::ALL.len())?])
            }

            pub(crate) fn to_value(self) -> apache_avro::types::Value {
                let index = $name::ALL.iter().position(|v| *v == self).unwrap_or(0);
                apache_avro::types::Value::Enum(index as u32, self.symbol().to_owned())
            }
        }

        impl Default for $name {
            fn default() -> Self { $name::$default }
        }
    };
}
pub(crate) use avro_enum;
