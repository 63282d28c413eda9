//! The log store: where normalized records are indexed and searched.
//!
//! Contract every implementation keeps:
//! - Documents are keyed by the record id (the ingest id), so indexing the same record twice
//!   replaces it: a replay after a crash never duplicates.
//! - Records live in time-partitioned indices per project (`<prefix><project>-<yyyy.mm.dd>`),
//!   so retention drops whole indices and a query never crosses projects by accident.
//! - `index` reports failures item by item, classified retryable or not, so the caller can
//!   retry some and dead-letter the rest.
//! - Extracted fields keep their types, and one field may hold values of several types across
//!   records (`status` = 200 here, "abc" there): every such record is indexed, reads back with
//!   its own types, and [`LogStore::fields`] reports the field with all its types, so the
//!   conflict is shown to users instead of failing writes.

mod catalog;
mod document;
pub mod conformance;
mod opensearch;
mod tantivy_store;

use async_trait::async_trait;
use nexuslog_schemas::{FieldValue, LogRecord};

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
    /// or `<name>` / `fields.<name>` for extracted fields. An extracted field matches when its
    /// value equals the filter value as a string, or as a number or boolean when the filter
    /// value parses as one (`status:200` finds both 200 and "200"; `status:200.0` finds 200).
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

/// What a filter name refers to, from [`filter_target`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterTarget {
    /// A standard field, by its stored name, with the value as stored (enum symbols upper case).
    Standard { field: String, value: String },
    /// An extracted field, by its name in [`LogRecord::fields`] (without `fields.`). Stores
    /// match the value against every type it can be read as.
    Extracted { name: String, value: String },
}

/// The field a filter name refers to, and the value as stored.
pub fn filter_target(name: &str, value: &str) -> FilterTarget {
    match name {
        "level" | "source" | "parse_status" | "timestamp_source" => {
            FilterTarget::Standard { field: name.to_owned(), value: value.to_ascii_uppercase() }
        }
        n if STANDARD_FIELDS.contains(&n) => FilterTarget::Standard { field: n.to_owned(), value: value.to_owned() },
        n => FilterTarget::Extracted { name: n.strip_prefix("fields.").unwrap_or(n).to_owned(), value: value.to_owned() },
    }
}

/// The type an extracted field was indexed with. Declared in name order, so sorting a list of
/// types sorts it by name (`[Long, String]`), the same in every store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Bool,
    Double,
    Long,
    String,
}

impl FieldType {
    /// The type of a value; `None` for null, which has no type and is not indexed.
    pub fn of(value: &FieldValue) -> Option<Self> {
        match value {
            FieldValue::Null => None,
            FieldValue::Bool(_) => Some(Self::Bool),
            FieldValue::Long(_) => Some(Self::Long),
            // JSON cannot carry NaN or infinities: such a value is stored as null (see document.rs).
            FieldValue::Double(x) if !x.is_finite() => None,
            FieldValue::Double(_) => Some(Self::Double),
            FieldValue::String(_) => Some(Self::String),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bool => "bool",
            Self::Double => "double",
            Self::Long => "long",
            Self::String => "string",
        }
    }
}

/// An extracted field of a project and every type it was indexed with in the retained data.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldInfo {
    pub name: String,
    /// Sorted, without duplicates, never empty.
    pub types: Vec<FieldType>,
}

impl FieldInfo {
    /// More than one type: records disagree on what this field is (e.g. a number in some, a
    /// string in others). Every record is still indexed and searchable; users should be told.
    pub fn is_conflict(&self) -> bool {
        self.types.len() > 1
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

    /// The extracted fields of a project in the retained data, sorted by name, each with every
    /// type it was indexed with (a field with several types [`FieldInfo::is_conflict`]). Null
    /// values have no type and do not list a field. A store may still list a field or type whose
    /// last records retention removed (see each implementation).
    ///
    /// # Errors
    /// When the store cannot be read.
    async fn fields(&self, project_id: &str) -> Result<Vec<FieldInfo>, LogStoreError>;

    /// Deletes whole daily partitions older than `keep_days` before `now_micros`; returns how
    /// many were deleted.
    async fn drop_older_than(&self, now_micros: i64, keep_days: i64) -> Result<usize, LogStoreError>;

    /// Succeeds when the store answers and can take writes.
    async fn health(&self) -> Result<(), LogStoreError>;
}
