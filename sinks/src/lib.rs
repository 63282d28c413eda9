//! Sinks: log records from the bus into the log store.
//!
//! Delivery: a batch's offsets are committed only after every record of it is either indexed
//! or written to the dead-letter topic (acknowledged). Documents are keyed by record id, so the
//! replay that follows a crash before the commit overwrites what was already indexed instead of
//! duplicating it. Retryable item failures (429, 5xx) are retried with exponential backoff;
//! permanent ones (mapping conflicts, malformed documents, a document too large for the store
//! even alone) go to the dead-letter topic. A refusal of the request as a whole (401/403, a
//! wrong URL) says nothing about the records: the batch waits, retried with backoff, and the
//! process reports `logstore` not ready meanwhile. Batches are bounded by records and bytes.

mod indexer;

pub use indexer::{Indexer, IndexerConfig};
