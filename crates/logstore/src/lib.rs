//! The log store: where normalized records are indexed and searched.
//!
//! Contract every implementation keeps:
//! - Documents are keyed by the record id (the ingest id), so indexing the same record twice
//!   replaces it: a replay after a crash never duplicates.
//! - Records live in time-partitioned indices per project (`<prefix><project>-<yyyy.mm.dd>`),
//!   so retention drops whole indices and a query never crosses projects by accident.
//! - `index` reports failures item by item, classified retryable or not, so the caller can
//!   retry some and dead-letter the rest.

mod document;
pub mod conformance;
mod opensearch;
mod tantivy_store;

use async_trait::async_trait;
use nexuslog_schemas::LogRecord;

pub use crate::document::{day_of, id_rank, index_name, rfc3339_micros};
pub use crate::opensearch::{OpenSearchConfig, OpenSearchLogStore};
pub use crate::tantivy_store::TantivyLogStore;

/// Why a log store operation failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum LogStoreError {
    #[error("log store unavailable: {0}")]
    Unavailable(String),
    #[error("log store refused the request: {0}")]
    Rejected(String),
    #[error("log store configuration: {0}")]
    Config(String),
}

/// One document the store did not accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemFailure {
    pub id: String,
    pub status: u16,
    pub reason: String,
    /// 429 and 5xx: try again later. Other 4xx: the document itself is bad.
    pub retryable: bool,
}

/// Result of a bulk write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkOutcome {
    pub indexed: usize,
    pub failures: Vec<ItemFailure>,
}

/// A search within one project.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchQuery {
    pub project_id: String,
    /// Full-text query over the message; `None` matches everything.
    pub text: Option<String>,
    /// Exact matches: standard field names (`level`, `host`, `service`, `source`, `id`, ...)
    /// or `fields.<name>` for extracted fields.
    pub filters: Vec<(String, String)>,
    /// Continue after this sort position (timestamp µs, id), from [`SearchResult::next`].
    pub after: Option<(i64, String)>,
    /// Inclusive lower bound, microseconds since the epoch.
    pub from_micros: i64,
    /// Exclusive upper bound, microseconds since the epoch.
    pub to_micros: i64,
    pub limit: usize,
}

/// Hits newest first (by timestamp, then by [`id_rank`] for records of the same microsecond).
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResult {
    /// Number of matching documents (exact).
    pub total: u64,
    pub hits: Vec<LogRecord>,
    /// Sort position of the last hit when the page was full: pass it as `after` for the next page.
    pub next: Option<(i64, String)>,
}

/// Standard fields a filter may name directly; every other name is an extracted field.
pub const STANDARD_FIELDS: &[&str] = &["id", "level", "host", "service", "source", "parse_status", "timestamp_source", "trace_id", "span_id"];

/// The stored field a filter name refers to, and the value as stored (enum symbols are upper case).
pub fn filter_target(name: &str, value: &str) -> (String, String) {
    match name {
        "level" | "source" | "parse_status" | "timestamp_source" => (name.to_owned(), value.to_ascii_uppercase()),
        n if STANDARD_FIELDS.contains(&n) => (n.to_owned(), value.to_owned()),
        n if n.starts_with("fields.") => (n.to_owned(), value.to_owned()),
        n => (format!("fields.{n}"), value.to_owned()),
    }
}

/// A log store. Implementations: [`OpenSearchLogStore`] and [`TantivyLogStore`].
#[async_trait]
pub trait LogStore: Send + Sync + 'static {
    /// Installs index templates and mappings (idempotent).
    async fn prepare(&self) -> Result<(), LogStoreError>;

    /// Indexes (inserts or replaces) records by id.
    async fn index(&self, records: &[LogRecord]) -> Result<BulkOutcome, LogStoreError>;

    /// Makes everything indexed so far searchable.
    async fn refresh(&self) -> Result<(), LogStoreError>;

    async fn search(&self, query: &SearchQuery) -> Result<SearchResult, LogStoreError>;

    /// Deletes whole daily partitions older than `keep_days` before `now_micros`; returns how
    /// many were deleted.
    async fn drop_older_than(&self, now_micros: i64, keep_days: i64) -> Result<usize, LogStoreError>;

    /// Succeeds when the store answers and can take writes.
    async fn health(&self) -> Result<(), LogStoreError>;
}
