//! The Confluent wire format and the two ways of resolving schema ids.
//!
//! Layout of every record on the bus: `[0x00][schema id: u32 big-endian][Avro datum]`.
//! Keeping the same framing in both modes means one decoder, and data written by standalone
//! mode stays readable if it is ever replayed into a registry-backed deployment (after the
//! embedded ids are registered).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use apache_avro::Schema;
use schema_registry_converter::async_impl::avro::{AvroDecoder, AvroEncoder};
use schema_registry_converter::async_impl::schema_registry::SrSettings;
use schema_registry_converter::avro_common::get_supplied_schema;
use schema_registry_converter::schema_registry_common::SubjectNameStrategy;

use crate::avro::{parse_schema, AvroRecord, SchemaError};
use crate::{avsc, AlertEvent, DeadLetter, LogRecord, RawEvent};

/// First byte of a framed record.
pub const MAGIC: u8 = 0;
const HEADER_LEN: usize = 5;

/// Prefixes an Avro datum with the magic byte and schema id.
pub fn frame(schema_id: u32, datum: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + datum.len());
    out.push(MAGIC);
    out.extend_from_slice(&schema_id.to_be_bytes());
    out.extend_from_slice(datum);
    out
}

/// Splits a framed record into its schema id and datum.
///
/// # Errors
/// When the record is shorter than the header or does not start with the magic byte.
pub fn unframe(bytes: &[u8]) -> Result<(u32, &[u8]), SchemaError> {
    if bytes.len() < HEADER_LEN {
        return Err(SchemaError::Wire(format!("record of {} bytes is shorter than the 5-byte header", bytes.len())));
    }
    if bytes[0] != MAGIC {
        return Err(SchemaError::Wire(format!("magic byte is {:#04x}, expected 0x00", bytes[0])));
    }
    let id = u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
    Ok((id, &bytes[HEADER_LEN..]))
}

/// A compiled-in schema version with its fixed embedded id. Ids are never reused: a new
/// version of a schema gets a new id and the old one moves to `avro/history/`.
struct EmbeddedSchema {
    id: u32,
    name: &'static str,
    text: &'static str,
    current: bool,
}

const EMBEDDED: &[EmbeddedSchema] = &[
    EmbeddedSchema { id: 1, name: RawEvent::NAME, text: avsc::RAW_EVENT_V1, current: false },
    EmbeddedSchema { id: 2, name: LogRecord::NAME, text: avsc::LOG_RECORD_V1, current: false },
    EmbeddedSchema { id: 3, name: AlertEvent::NAME, text: avsc::ALERT_EVENT, current: true },
    EmbeddedSchema { id: 4, name: DeadLetter::NAME, text: avsc::DEAD_LETTER, current: true },
    EmbeddedSchema { id: 5, name: LogRecord::NAME, text: avsc::LOG_RECORD_V2, current: false },
    EmbeddedSchema { id: 6, name: RawEvent::NAME, text: avsc::RAW_EVENT, current: true },
    EmbeddedSchema { id: 7, name: LogRecord::NAME, text: avsc::LOG_RECORD, current: true },
];

fn embedded_parsed() -> &'static [(u32, Schema)] {
    static PARSED: OnceLock<Vec<(u32, Schema)>> = OnceLock::new();
    PARSED.get_or_init(|| EMBEDDED.iter().map(|e| (e.id, parse_schema(e.name, e.text))).collect())
}

/// Schemas compiled into the binary, with fixed ids: standalone mode.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmbeddedCodec;

impl EmbeddedCodec {
    /// The embedded id of `T`'s current schema.
    pub fn current_id<T: AvroRecord>() -> u32 {
        EMBEDDED
            .iter()
            .find(|e| e.current && e.name == T::NAME)
            .map(|e| e.id)
            .expect("every record type has exactly one current embedded schema (see EMBEDDED)")
    }

    /// # Errors
    /// When the record does not validate against its schema.
    pub fn encode<T: AvroRecord>(&self, record: &T) -> Result<Vec<u8>, SchemaError> {
        Ok(frame(Self::current_id::<T>(), &record.to_datum()?))
    }

    /// # Errors
    /// When the framing is wrong, the id unknown, or the datum does not decode.
    pub fn decode<T: AvroRecord>(&self, bytes: &[u8]) -> Result<T, SchemaError> {
        let (id, datum) = unframe(bytes)?;
        if id == Self::current_id::<T>() {
            return T::from_datum(datum, T::schema());
        }
        let (_, writer) = embedded_parsed()
            .iter()
            .find(|(eid, _)| *eid == id)
            .ok_or(SchemaError::UnknownSchemaId(id))?;
        T::from_datum(datum, writer)
    }
}

/// Schemas registered in and resolved through a Confluent-compatible schema registry:
/// distributed mode. Subjects follow the topic name strategy (`<topic>-value`). Ids are cached
/// by the client, so the registry is asked once per subject and once per unknown id.
#[derive(Clone)]
pub struct RegistryCodec {
    encoder: Arc<AvroEncoder>,
    decoder: Arc<AvroDecoder>,
    /// Whether a registry id's schema is the current schema of a record type: then the
    /// compiled reader is used instead of resolving per record.
    current: Arc<Mutex<HashMap<(u32, &'static str), bool>>>,
    /// Registered id per (topic, record type): encoding asks the registry once, then never.
    ids: Arc<Mutex<HashMap<(String, &'static str), u32>>>,
}

impl std::fmt::Debug for RegistryCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryCodec").finish_non_exhaustive()
    }
}

/// A registry error as ours: a 4xx answer (no such id, incompatible schema) is about the
/// record or schema, and final; anything else (connection refused, timeout, 5xx) is the
/// registry being away, and transient.
fn registry_error(e: &schema_registry_converter::error::SRCError, context: String) -> SchemaError {
    let text = format!("{} {}", e.error, e.cause.as_deref().unwrap_or_default());
    if !e.retriable && text.contains("failed with status 4") {
        SchemaError::Registry(format!("{context}: {e}"))
    } else {
        SchemaError::RegistryUnavailable(format!("{context}: {e}"))
    }
}

impl RegistryCodec {
    /// `url` is the registry's base URL (for Apicurio: `http://host:port/apis/ccompat/v7`).
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(url: &str) -> Result<Self, SchemaError> {
        Self::with_ca(url, None)
    }

    /// As [`RegistryCodec::new`]; with an `https://` URL the registry's certificate must be
    /// signed by the CA in `ca_pem` (or, without one, by a root the system trusts).
    ///
    /// # Errors
    /// When the CA does not parse or the HTTP client cannot be built.
    pub fn with_ca(url: &str, ca_pem: Option<&[u8]>) -> Result<Self, SchemaError> {
        let mut client = reqwest::Client::builder();
        if let Some(pem) = ca_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem).map_err(|e| SchemaError::Registry(format!("CA: {e}")))? {
                client = client.add_root_certificate(cert);
            }
        }
        let settings = SrSettings::new_builder(url.trim_end_matches('/').to_owned())
            .set_timeout(std::time::Duration::from_secs(10))
            .build_with(client)
            .map_err(|e| SchemaError::Registry(e.to_string()))?;
        Ok(Self {
            encoder: Arc::new(AvroEncoder::new(settings.clone())),
            decoder: Arc::new(AvroDecoder::new(settings)),
            current: Arc::default(),
            ids: Arc::default(),
        })
    }

    /// Registers `T`'s current schema under `<topic>-value` (idempotent) and returns its id.
    ///
    /// # Errors
    /// When the registry refuses the schema (e.g. incompatible) or cannot be reached.
    pub async fn schema_id<T: AvroRecord>(&self, topic: &str) -> Result<u32, SchemaError> {
        let key = (topic.to_owned(), T::NAME);
        if let Some(id) = self.ids.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&key) {
            return Ok(*id);
        }
        let strategy = SubjectNameStrategy::TopicNameStrategyWithSchema(
            topic.to_owned(),
            false,
            get_supplied_schema(T::schema()),
        );
        let subject = strategy.get_subject().map_err(|e| SchemaError::Registry(e.to_string()))?;
        let schema = self.encoder.get_schema_and_id(&subject, strategy).await.map_err(|e| {
            let e = registry_error(&e, format!("subject {subject}"));
            if e.is_transient() {
                self.encoder.remove_errors_from_cache();
            }
            e
        })?;
        self.ids.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(key, schema.id);
        Ok(schema.id)
    }

    /// # Errors
    /// As [`RegistryCodec::schema_id`], or when the record does not validate.
    pub async fn encode<T: AvroRecord>(&self, topic: &str, record: &T) -> Result<Vec<u8>, SchemaError> {
        let id = self.schema_id::<T>(topic).await?;
        Ok(frame(id, &record.to_datum()?))
    }

    /// Decodes with the writer's schema fetched by id, resolved to `T`'s current schema.
    ///
    /// # Errors
    /// When the framing is wrong, the id unknown to the registry, or the datum does not decode.
    pub async fn decode<T: AvroRecord>(&self, bytes: &[u8]) -> Result<T, SchemaError> {
        let (id, datum) = unframe(bytes)?;
        let writer = self.decoder.get_schema(id).await.map_err(|e| {
            let e = registry_error(&e, format!("schema id {id}"));
            if e.is_transient() {
                // The converter caches some failures as answers; the registry being away is not one.
                self.decoder.remove_errors_from_cache();
            }
            e
        })?;
        let key = (id, T::NAME);
        let cached = self.current.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&key).copied();
        let is_current = match cached {
            Some(c) => c,
            None => {
                let c = writer.parsed.canonical_form() == T::schema().canonical_form();
                self.current.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(key, c);
                c
            }
        };
        if is_current {
            return T::from_datum(datum, T::schema());
        }
        T::from_datum(datum, &writer.parsed)
    }
}

/// The codec a deployment uses, chosen by configuration.
#[derive(Debug, Clone)]
pub enum Codec {
    Embedded(EmbeddedCodec),
    Registry(RegistryCodec),
}

impl Codec {
    /// Registers `T`'s schema for `topic` ahead of time, so later encodes need no network and a
    /// registry that cannot be reached is reported at start-up, not on the first record.
    ///
    /// # Errors
    /// When the registry refuses the schema or cannot be reached.
    pub async fn prepare<T: AvroRecord>(&self, topic: &str) -> Result<(), SchemaError> {
        match self {
            Codec::Embedded(_) => Ok(()),
            Codec::Registry(c) => c.schema_id::<T>(topic).await.map(|_| ()),
        }
    }

    /// # Errors
    /// See [`EmbeddedCodec::encode`] and [`RegistryCodec::encode`].
    pub async fn encode<T: AvroRecord>(&self, topic: &str, record: &T) -> Result<Vec<u8>, SchemaError> {
        match self {
            Codec::Embedded(c) => c.encode(record),
            Codec::Registry(c) => c.encode(topic, record).await,
        }
    }

    /// # Errors
    /// See [`EmbeddedCodec::decode`] and [`RegistryCodec::decode`].
    pub async fn decode<T: AvroRecord>(&self, bytes: &[u8]) -> Result<T, SchemaError> {
        match self {
            Codec::Embedded(c) => c.decode(bytes),
            Codec::Registry(c) => c.decode(bytes).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_then_unframe_gives_back_id_and_datum() {
        let framed = frame(0x0102_0304, b"abc");
        assert_eq!(framed, vec![0, 1, 2, 3, 4, b'a', b'b', b'c']);
        let (id, datum) = unframe(&framed).expect("valid frame");
        assert_eq!(id, 0x0102_0304);
        assert_eq!(datum, b"abc");
    }

    #[test]
    fn unframe_rejects_short_and_bad_magic() {
        assert!(matches!(unframe(&[0, 0, 0]), Err(SchemaError::Wire(_))));
        assert!(matches!(unframe(&[1, 0, 0, 0, 1, 2]), Err(SchemaError::Wire(_))));
    }

    #[test]
    fn embedded_ids_are_unique_and_each_type_has_one_current() {
        let mut ids: Vec<u32> = EMBEDDED.iter().map(|e| e.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), EMBEDDED.len());
        for name in [RawEvent::NAME, LogRecord::NAME, AlertEvent::NAME, DeadLetter::NAME] {
            assert_eq!(EMBEDDED.iter().filter(|e| e.current && e.name == name).count(), 1, "{name}");
        }
    }

    #[test]
    fn embedded_decode_of_unknown_id_is_an_error() {
        let bytes = frame(999, &[]);
        assert!(matches!(EmbeddedCodec.decode::<RawEvent>(&bytes), Err(SchemaError::UnknownSchemaId(999))));
    }
}
