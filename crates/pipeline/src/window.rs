//! The window of event times a record is indexed at.
//!
//! The log store partitions by the event's own day and retention drops whole days, so an event
//! stamped 2000-01-01 (a device whose clock reset) would be acknowledged, indexed into a day
//! the next retention run deletes, and a sender with many distinct dates would open one
//! partition (an OpenSearch index, shards) per date. Outside the window the record keeps its
//! time as a field and is indexed at its receipt time instead.

use chrono::{DateTime, SecondsFormat};
use nexuslog_schemas::{FieldValue, LogRecord, TimestampSource};

/// The field that keeps an out-of-window event's own time (RFC 3339).
pub const ORIGINAL_TIMESTAMP_FIELD: &str = "event.original_timestamp";

/// How far before and after its receipt an event's own time may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    pub max_age_micros: i64,
    pub max_ahead_micros: i64,
}

impl TimeWindow {
    pub fn new(max_age_days: i64, max_ahead_secs: i64) -> Self {
        Self { max_age_micros: max_age_days.saturating_mul(86_400_000_000), max_ahead_micros: max_ahead_secs.saturating_mul(1_000_000) }
    }

    /// Re-times `r` at its receipt when its own time is outside the window; returns whether
    /// it did.
    pub fn apply(&self, r: &mut LogRecord) -> bool {
        let earliest = r.received_at.saturating_sub(self.max_age_micros);
        let latest = r.received_at.saturating_add(self.max_ahead_micros);
        if (earliest..=latest).contains(&r.timestamp) {
            return false;
        }
        let own = DateTime::from_timestamp_micros(r.timestamp).map_or_else(|| r.timestamp.to_string(), |t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true));
        r.parse_errors.push(format!("event time {own} is outside the accepted window around its receipt; indexed at the receipt time"));
        r.fields.insert(ORIGINAL_TIMESTAMP_FIELD.to_owned(), FieldValue::String(own));
        r.timestamp = r.received_at;
        r.timestamp_source = TimestampSource::Received;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize;
    use nexuslog_schemas::{RawEvent, SourceKind};

    const NOW: i64 = 1_800_000_000_000_000;

    fn record(event: &str) -> LogRecord {
        let raw = RawEvent {
            ingest_id: "id".into(),
            project_id: "p".into(),
            source: SourceKind::Http,
            received_at: NOW,
            remote_addr: None,
            payload: event.as_bytes().to_vec(),
            metadata: Default::default(),
        };
        normalize(&raw).expect("normalizes")
    }

    #[test]
    fn a_reset_clock_and_a_far_future_are_indexed_at_receipt_keeping_their_time() {
        let w = TimeWindow::new(14, 86_400);
        for (event, own) in [
            (r#"{"message":"m","timestamp":"2000-01-01T00:00:00Z"}"#, "2000-01-01T00:00:00Z"),
            (r#"{"message":"m","timestamp":"2099-12-31T00:00:00Z"}"#, "2099-12-31T00:00:00Z"),
        ] {
            let mut r = record(event);
            assert!(w.apply(&mut r), "{event}");
            assert_eq!((r.timestamp, r.timestamp_source), (NOW, TimestampSource::Received));
            assert_eq!(r.fields[ORIGINAL_TIMESTAMP_FIELD], FieldValue::String(own.into()));
            assert!(r.parse_errors[0].contains("outside the accepted window"));
        }
    }

    #[test]
    fn times_inside_the_window_are_kept() {
        let w = TimeWindow::new(14, 86_400);
        for offset in [-13 * 86_400, -60, 0, 3600, 86_399] {
            let secs = NOW / 1_000_000 + offset;
            let mut r = record(&format!(r#"{{"message":"m","timestamp":{secs}}}"#));
            assert!(!w.apply(&mut r), "{offset}");
            assert_eq!(r.timestamp, secs * 1_000_000);
            assert!(!r.fields.contains_key(ORIGINAL_TIMESTAMP_FIELD));
        }
    }
}
