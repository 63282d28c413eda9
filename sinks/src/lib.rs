//! Sinks: log records from the bus into the log store.
//!
//! Delivery: a batch's offsets are committed only after every record of it is either indexed
//! or written to the dead-letter topic (acknowledged). Documents are keyed by record id, so the
//! replay that follows a crash before the commit overwrites what was already indexed instead of
//! duplicating it. Retryable item failures (429, 5xx) are retried with exponential backoff;
//! permanent ones (mapping conflicts, malformed documents) go to the dead-letter topic.

mod indexer;

pub use indexer::{Indexer, IndexerConfig};
