//! NexusLog's record schemas.
//!
//! The `.avsc` files in `schemas/avro/` are the source of truth; they are compiled into the
//! binary (`include_str!`) and the Rust types here convert to and from Avro values by hand,
//! field by field, so a mismatch between a type and its schema fails a round-trip test instead
//! of being papered over by a generic serializer.
//!
//! Evolution rule: only changes that keep both directions readable (add a field *with a
//! default*, add an enum symbol at the end of an enum that has a default). Every released
//! version is kept in `avro/history/` and `tests/evolution.rs` checks the current schema
//! against each of them.
//!
//! Records travel in the Confluent wire format (magic byte 0, big-endian schema id, Avro
//! datum). In distributed mode the id comes from a schema registry ([`wire::RegistryCodec`]);
//! standalone mode uses the fixed ids of the compiled-in schemas ([`wire::EmbeddedCodec`]).

mod alert;
mod avro;
pub mod binary;
mod dead_letter;
mod log_record;
mod raw_event;
pub mod wire;

pub use alert::{AlertEvent, AlertSeverity, AlertState};
pub use avro::{AvroRecord, Compiled, SchemaError};
pub use dead_letter::{DeadLetter, Stage};
pub use log_record::{FieldValue, Level, LogRecord, ParseStatus, TimestampSource};
pub use raw_event::{RawEvent, SourceKind};

/// The field (and raw-event metadata entry) a later version of an event carries: `2`, `3`, …
/// A multiline event continued by a later request is written again under the same id with it;
/// sinks index such a record over the earlier version, and alert rules count the event once.
pub const REVISION_FIELD: &str = "ingest.revision";

/// The `.avsc` texts compiled into the binary, by file name.
pub mod avsc {
    pub const RAW_EVENT: &str = include_str!("../avro/raw_event.avsc");
    pub const LOG_RECORD: &str = include_str!("../avro/log_record.avsc");
    pub const ALERT_EVENT: &str = include_str!("../avro/alert_event.avsc");
    pub const DEAD_LETTER: &str = include_str!("../avro/dead_letter.avsc");
    /// Released versions that are no longer current, kept so old data stays readable.
    pub const LOG_RECORD_V1: &str = include_str!("../avro/history/log_record.v1.avsc");
    /// Before `SourceKind` gained `HEC` and `LOKI`.
    pub const LOG_RECORD_V2: &str = include_str!("../avro/history/log_record.v2.avsc");
    /// Before `SourceKind` gained `HEC` and `LOKI`.
    pub const RAW_EVENT_V1: &str = include_str!("../avro/history/raw_event.v1.avsc");
}
