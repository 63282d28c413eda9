//! The ingest gateway: HTTP bulk ingest into the bus.
//!
//! Delivery: a request is answered only after the bus has durably accepted every event the
//! answer reports as accepted (`Bus::produce` returns after `acks=all`). Lines that are
//! rejected are listed in the answer *and* written to the dead-letter topic, so nothing sent
//! is silently lost. Each event gets an ingest id here; with an `Idempotency-Key` header the id
//! is derived from (project, key, position), so a retried request overwrites instead of
//! duplicating downstream.

pub mod backlog;
mod body;
pub mod es;
mod error;
pub mod hec;
mod http;
mod ingest;
pub mod loki;
pub mod multiline;
pub mod otlp;
pub mod otlp_grpc;
mod otlp_wire;
pub mod quota;
pub mod redaction;
pub mod syslog;

pub use backlog::Backlog;
pub use body::{decompress, split_events, EventLine, LineError};
pub use error::GatewayError;
pub use http::{presented_key, router, Gateway, GatewayLimits};
pub use ingest::{Event, Ingest, IngestError, Refused};
pub use multiline::Multiline;
pub use redaction::Redactions;
