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

mod aggs;
mod catalog;
pub mod conformance;
mod document;
mod opensearch;
mod opensearch_query;
mod tantivy_query;
mod tantivy_store;

use async_trait::async_trait;
use nexuslog_query::Query;
use nexuslog_schemas::{FieldValue, LogRecord};

pub use crate::aggs::{
    auto_interval, AggregateQuery, Aggregation, AggregationResult, HistogramBucket, Series, TermBucket, TermKey, MAX_BUCKETS, TERMS_FETCH,
};
pub use crate::document::{day_of, id_rank, index_name, rfc3339_micros};
pub use crate::opensearch::{OpenSearchConfig, OpenSearchLogStore, DEFAULT_BULK_MAX_BYTES};
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

/// The order of search hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// Newest first (by timestamp, then by [`id_rank`] for records of the same microsecond).
    #[default]
    NewestFirst,
    OldestFirst,
}

/// A search within one project.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchQuery {
    pub project_id: String,
    /// What to find (see `nexuslog_query`); the store adds the project and time filters.
    pub query: Query,
    /// Continue after this sort position (timestamp µs, id), from [`SearchResult::next`].
    pub after: Option<(i64, String)>,
    /// Inclusive lower bound, microseconds since the epoch.
    pub from_micros: i64,
    /// Exclusive upper bound, microseconds since the epoch.
    pub to_micros: i64,
    pub limit: usize,
    pub order: SortOrder,
}

/// Totals are counted exactly below this many matches; from it on, stores report this number
/// as a lower bound (as OpenSearch does with `track_total_hits`).
pub const EXACT_TOTAL_LIMIT: u64 = 10_000;

/// Hits in the requested order.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResult {
    /// Number of matching documents: exact below [`EXACT_TOTAL_LIMIT`], else that number with
    /// [`SearchResult::total_is_lower_bound`] set. Every store reports the same.
    pub total: u64,
    pub total_is_lower_bound: bool,
    pub hits: Vec<LogRecord>,
    /// Sort position of the last hit when the page was full: pass it as `after` for the next page.
    pub next: Option<(i64, String)>,
}

impl SearchResult {
    /// A page of `hits` out of `total` matches (counted exactly at least up to the limit).
    pub(crate) fn new(total: u64, hits: Vec<LogRecord>, limit: usize) -> Self {
        let next = (hits.len() == limit).then(|| hits.last().map(|h| (h.timestamp, h.id.clone()))).flatten();
        Self { total: total.min(EXACT_TOTAL_LIMIT), total_is_lower_bound: total >= EXACT_TOTAL_LIMIT, hits, next }
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

    /// Indexes (inserts or replaces) records by id. A record the store refuses (including one
    /// too large for it) is an item failure; an error means the write as a whole failed and
    /// should be retried (part of it may be indexed already, which the retry overwrites).
    ///
    /// # Errors
    /// [`LogStoreError::Unavailable`] when the store cannot take writes now (connection, 429,
    /// 5xx); [`LogStoreError::Rejected`] when it refuses the request as a whole for a reason
    /// that is not about the records (401/403 credentials, a wrong URL).
    async fn index(&self, records: &[LogRecord]) -> Result<BulkOutcome, LogStoreError>;

    /// [`index`](Self::index) for records the caller knows were never given to this store
    /// before (the sink proves it from offsets, see `nexuslog_sinks`): a store whose
    /// replace-by-id costs work of its own (Tantivy deletes each id before adding it) may skip
    /// that work. Same errors as `index`; after an error the caller must send the records
    /// again with `index`, since part of them may be indexed.
    async fn index_unseen(&self, records: &[LogRecord]) -> Result<BulkOutcome, LogStoreError> {
        self.index(records).await
    }

    /// Makes everything indexed so far searchable.
    async fn refresh(&self) -> Result<(), LogStoreError>;

    async fn search(&self, query: &SearchQuery) -> Result<SearchResult, LogStoreError>;

    /// Runs aggregations over the records of one project matching a query in a time range; the
    /// results come in the order asked, by name.
    ///
    /// # Errors
    /// When the store cannot be read.
    async fn aggregate(&self, query: &AggregateQuery) -> Result<Vec<(String, AggregationResult)>, LogStoreError>;

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
