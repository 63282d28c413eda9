//! The hand-off every receiver shares: events → `RawEvent`s on the raw topic, refused input →
//! dead letters, both acknowledged by the bus before the caller goes on.

use std::collections::BTreeMap;
use std::sync::Arc;

use nexuslog_bus::{trace, Bus, BusError, OutRecord, Topics};
use nexuslog_schemas::wire::Codec;
use nexuslog_schemas::{DeadLetter, RawEvent, SchemaError, SourceKind, Stage};
use tracing::Instrument;

use crate::backlog::Backlog;
use crate::multiline::{Multiline, Pending};
use crate::redaction::{RedactionUnavailable, Redactions, REDACTED_FIELD};

/// One event to write: its ingest id, project and bytes.
#[derive(Debug, Clone)]
pub struct Event {
    pub ingest_id: String,
    pub project_id: String,
    pub payload: Vec<u8>,
    pub metadata: BTreeMap<String, String>,
}

/// Something refused, with why.
#[derive(Debug, Clone)]
pub struct Refused {
    pub project_id: Option<String>,
    pub reason: String,
    pub error_kind: &'static str,
    pub original: Vec<u8>,
}

/// Why a hand-off failed.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error("encoding: {0}")]
    Encode(#[from] SchemaError),
    /// An event would make a record above `bus.max_record_bytes`; nothing of the call was
    /// written (configuration keeps accepted events below it, so this is a last guard).
    #[error("event {index} encodes to {size} bytes, above the bus record limit of {max} bytes (bus.max_record_bytes); nothing was written")]
    TooLarge { index: usize, size: usize, max: usize },
    /// A project's redaction rules could not be loaded: nothing is written in clear instead.
    #[error(transparent)]
    Redaction(#[from] RedactionUnavailable),
}

/// Writes events and dead letters to the bus.
#[derive(Clone)]
pub struct Ingest {
    bus: Arc<dyn Bus>,
    codec: Codec,
    topics: Topics,
    max_record_bytes: usize,
    backlog: Backlog,
    redactions: Option<Arc<Redactions>>,
    multiline: Option<Arc<Multiline>>,
}

impl Ingest {
    /// `max_record_bytes`: the largest record the bus takes (`bus.max_record_bytes`).
    pub fn new(bus: Arc<dyn Bus>, codec: Codec, topics: Topics, max_record_bytes: usize) -> Self {
        Self { bus, codec, topics, max_record_bytes, backlog: Backlog::new(0), redactions: None, multiline: None }
    }

    /// Applies each project's redaction rules to events and dead letters before they are
    /// written; without it nothing is redacted (tools that re-submit already redacted records).
    #[must_use]
    pub fn with_redaction(mut self, redactions: Arc<Redactions>) -> Self {
        self.redactions = Some(redactions);
        self
    }

    /// Joins continuation lines by each project's `multiline` rule steps before events are
    /// written; without it every line is an event.
    #[must_use]
    pub fn with_multiline(mut self, multiline: Arc<Multiline>) -> Self {
        self.multiline = Some(multiline);
        self
    }

    /// Holds ingest to `backlog`'s bound (see [`Backlog`]); without it ingest is never held.
    #[must_use]
    pub fn with_backlog(mut self, backlog: Backlog) -> Self {
        self.backlog = backlog;
        self
    }

    /// The pipeline backlog ingest is held to.
    pub fn backlog(&self) -> &Backlog {
        &self.backlog
    }

    /// Writes `events` as raw events from `source`; returns once the bus acknowledged all.
    ///
    /// # Errors
    /// When the bus refuses or cannot be reached: nothing may be acknowledged to the sender.
    pub async fn send(&self, source: SourceKind, remote: Option<&str>, events: Vec<Event>) -> Result<usize, IngestError> {
        self.send_received_at(source, remote, events, nexuslog_common::now_micros()).await
    }

    /// [`Ingest::send`] with the receive time given: a retried request reuses the time of its
    /// first attempt, so its events land in the same daily index and overwrite, not duplicate.
    ///
    /// # Errors
    /// As [`Ingest::send`].
    pub async fn send_received_at(&self, source: SourceKind, remote: Option<&str>, events: Vec<Event>, received_at: i64) -> Result<usize, IngestError> {
        if events.is_empty() {
            return Ok(0);
        }
        // Traced (when on): one producer span for the request, its context in every record's
        // headers, so the processor's span for these records is its child.
        let span = if trace::is_enabled() {
            tracing::info_span!(
                "gateway.produce",
                otel.kind = "producer",
                messaging.destination.name = %self.topics.raw,
                messaging.batch.message_count = i64::try_from(events.len()).unwrap_or(i64::MAX),
            )
        } else {
            tracing::Span::none()
        };
        let headers = trace::inject(&span);
        // Every line is accepted, joined or not.
        let accepted = events.len();
        let (events, pending) = match &self.multiline {
            Some(m) => m.join(source, remote, events, received_at).await,
            None => (events.into_iter().map(|e| (e, received_at)).collect(), Pending::default()),
        };
        let written = self.write(source, remote, events, &headers).instrument(span).await;
        if let Some(m) = &self.multiline {
            m.settle(pending, written.is_ok());
        }
        written.map(|()| accepted)
    }

    /// Redacts, encodes and produces events, each with its receive time.
    async fn write(&self, source: SourceKind, remote: Option<&str>, events: Vec<(Event, i64)>, headers: &nexuslog_bus::Headers) -> Result<(), IngestError> {
        let mut records = Vec::with_capacity(events.len());
        let mut redactor: Option<(String, Arc<nexuslog_redact::Redactor>)> = None;
        for (mut e, received_at) in events {
            if let Some(redactions) = &self.redactions {
                // Requests carry one project's events; the lookup is made once per project run.
                if redactor.as_ref().is_none_or(|(p, _)| *p != e.project_id) {
                    redactor = Some((e.project_id.clone(), redactions.for_project(&e.project_id).await?));
                }
                if let Some((_, r)) = &redactor {
                    redact_event(r, &mut e);
                }
            }
            let raw = RawEvent {
                ingest_id: e.ingest_id,
                project_id: e.project_id,
                source,
                received_at,
                remote_addr: remote.map(str::to_owned),
                payload: e.payload,
                metadata: e.metadata,
            };
            let payload = self.codec.encode(&self.topics.raw, &raw).await?;
            // Checked before anything is produced: one record the bus refuses must not leave
            // the others of the request written while the sender is told it failed.
            if payload.len() > self.max_record_bytes {
                return Err(IngestError::TooLarge { index: records.len(), size: payload.len(), max: self.max_record_bytes });
            }
            records.push(OutRecord { topic: self.topics.raw.clone(), key: Some(raw.ingest_id.into_bytes()), payload, headers: headers.clone() });
        }
        self.bus.produce(records).await?;
        Ok(())
    }

    /// Writes refused input to the dead-letter topic (stage GATEWAY); returns once acknowledged.
    ///
    /// # Errors
    /// When the bus refuses or cannot be reached.
    pub async fn dead_letter(&self, refused: Vec<Refused>) -> Result<(), IngestError> {
        if refused.is_empty() {
            return Ok(());
        }
        let mut records = Vec::with_capacity(refused.len());
        for mut r in refused {
            if let Some(redactions) = &self.redactions {
                let redactor = redactions.for_project(r.project_id.as_deref().unwrap_or_default()).await?;
                if let std::borrow::Cow::Owned(b) = redactor.apply(&r.original).bytes {
                    r.original = b;
                }
                if let std::borrow::Cow::Owned(reason) = redactor.apply_str(&r.reason) {
                    r.reason = reason;
                }
            }
            let dl = DeadLetter {
                id: nexuslog_common::new_ingest_id(),
                project_id: r.project_id,
                stage: Stage::Gateway,
                reason: r.reason,
                error_kind: r.error_kind.to_owned(),
                original: r.original,
                topic: None,
                partition: None,
                offset: None,
                failed_at: nexuslog_common::now_micros(),
            };
            let payload = self.codec.encode(&self.topics.deadletter, &dl).await?;
            records.push(OutRecord { topic: self.topics.deadletter.clone(), payload, ..Default::default() });
        }
        self.bus.produce(records).await?;
        Ok(())
    }
}

/// Redacts one event's payload in place and records which rules fired.
fn redact_event(redactor: &nexuslog_redact::Redactor, e: &mut Event) {
    let out = redactor.apply(&e.payload);
    if out.fired.is_empty() {
        return;
    }
    let fired = out.fired.join(",");
    if let std::borrow::Cow::Owned(bytes) = out.bytes {
        e.payload = bytes;
    }
    e.metadata.insert(REDACTED_FIELD.to_owned(), fired);
}
