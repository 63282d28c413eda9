//! [`LogStore`] on Tantivy, for standalone mode.
//!
//! One Tantivy index per (project, day) under `<root>/<project>/<yyyy.mm.dd>/`: a query never
//! opens another project's files, and retention deletes whole directories. `index` deletes the
//! record's id term and adds the document in the same commit, so indexing a record again
//! replaces it; `index_unseen` skips the delete, which costs a term lookup per segment at each
//! commit (about 7 % of indexing). Both commit and reload the reader before returning: what
//! they report as indexed is durable and searchable. Each commit writes a segment that merges
//! later rewrite, so the sink commits large batches paced by time (`logstore.tantivy`).
//!
//! Extracted fields are one JSON field, and Tantivy indexes each JSON value with its own type,
//! so a field holding a number in one record and a string in another is no conflict here;
//! filters try the value as every type it can be read as. The types each field was indexed
//! with are kept per project in `<root>/<project>/fields.json` (see `catalog.rs`).
//!
//! Queries are the query AST compiled by `tantivy_query.rs`; messages are tokenized by the
//! tokenizer the in-memory evaluator uses. Keyword fields and extracted values are also fast
//! (columnar) fields, which Tantivy's Elasticsearch-compatible aggregations read; each day
//! index is aggregated apart and the partial results merged. A day index written by an older
//! version is opened with its own schema: searchable, counted, but not aggregated.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use nexuslog_query::FieldRef;
use nexuslog_schemas::{FieldValue, LogRecord};
use serde_json::Value;
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::aggregation::intermediate_agg_result::IntermediateAggregationResults;
use tantivy::aggregation::{AggContextParams, AggregationLimitsGuard, DistributedAggregationCollector};
use tantivy::collector::{Count, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery};
use tantivy::schema::{
    Field, IndexRecordOption, JsonObjectOptions, NumericOptions, OwnedValue, Schema, TextFieldIndexing, TextOptions, FAST, STORED,
};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, SegmentReader, TantivyDocument, Term};

use crate::aggs::Layout;
use crate::catalog::FieldCatalog;
use crate::document::{day_of, from_document, id_rank, is_day_name, stored_json};
use crate::tantivy_query::{compile, MessageTokenizer, MESSAGE_TOKENIZER};
use crate::{AggregateQuery, AggregationResult, BulkOutcome, FieldInfo, LogStore, LogStoreError, SearchQuery, SearchResult, SortOrder};

/// Indexing threads per writer, and threads building a batch's documents: one per core, at
/// most 8 (past that a day's single writer is no longer what limits indexing).
fn writer_threads() -> usize {
    // Read once: on Linux it reads the cgroup's CPU quota from files, and every batch asks.
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get).clamp(1, 8))
}

/// Memory of one index writer, split among its threads: 32 MB each (Tantivy wants at least
/// 15 MB per thread), 64 MB at least. Writers of idle days are closed, so usually only
/// today's is open.
fn writer_memory(threads: usize) -> usize {
    (threads * 32_000_000).max(64_000_000)
}

/// A batch shorter than this builds its documents on the sink's thread alone.
const PARALLEL_FROM: usize = 512;
/// A day index whose writer saw no write for this long releases it.
const WRITER_IDLE: Duration = Duration::from_secs(120);
/// Writers open at once: a batch spread over many days (late events, many projects) reuses
/// these instead of holding `writer_memory` per day; the least recently written closes first
/// (every writer is committed after each batch, so closing one loses nothing).
const MAX_OPEN_WRITERS: usize = 4;
/// Day indices kept open (readers, memory maps); past it, those without a writer are dropped
/// and reopened when next needed.
const MAX_OPEN_DAYS: usize = 256;

/// Sort position of a hit: (timestamp µs, id rank), newest first.
type SortKey = (i64, i64);

const STANDARD_STRING_FIELDS: &[&str] = &["level", "host", "service", "source", "parse_status", "timestamp_source", "trace_id", "span_id"];

fn err(e: impl std::fmt::Display) -> LogStoreError {
    LogStoreError::Unavailable(format!("tantivy: {e}"))
}

/// The fields of one day index, found by name in its own schema: an index written by an older
/// version keeps its schema (and is read with it) until retention drops it.
#[derive(Clone)]
pub(crate) struct Fields {
    pub(crate) id: Field,
    pub(crate) rank: Field,
    pub(crate) ts: Field,
    pub(crate) message: Field,
    pub(crate) fields: Field,
    pub(crate) source_doc: Field,
    pub(crate) strings: HashMap<&'static str, Field>,
    /// Written with fast fields (by this version): aggregations can read it. Older day indices
    /// are counted but give no other aggregation, until retention drops them.
    pub(crate) aggregatable: bool,
}

impl Fields {
    fn of(schema: &Schema) -> Result<Self, LogStoreError> {
        let get = |name: &str| schema.get_field(name).map_err(err);
        let mut strings = HashMap::new();
        for n in STANDARD_STRING_FIELDS {
            strings.insert(*n, get(n)?);
        }
        let level = get("level")?;
        Ok(Self {
            aggregatable: schema.get_field_entry(level).is_fast(),
            id: get("id")?,
            rank: get("id_rank")?,
            ts: get("timestamp_us")?,
            message: get("message")?,
            fields: get("fields")?,
            source_doc: get("_source")?,
            strings,
        })
    }
}

/// The schema of new day indices. Messages are tokenized by `nexuslog_query::tokenize` (the
/// words every store and the evaluator share); keyword fields and extracted values are fast
/// fields too, for aggregations.
///
/// No field keeps norms (a byte per document and field, 8 to 11 bytes per event): hits are
/// ordered by time, never by relevance, so nothing reads them.
fn schema() -> Schema {
    let keyword = || TextOptions::default().set_indexing_options(TextFieldIndexing::default().set_tokenizer("raw").set_fieldnorms(false));
    let mut b = Schema::builder();
    b.add_text_field("id", keyword());
    b.add_i64_field("id_rank", FAST);
    // Kept indexed although ranges run on the column: without the index, queries of the
    // agreement test hit an overflow in Tantivy 0.27's fast-field range scorer
    // (`is_last_seek_distance_large`, a debug-build panic). Measured: the index costs 4 bytes
    // and no visible CPU per event.
    b.add_i64_field("timestamp_us", NumericOptions::default().set_indexed().set_fast());
    let message = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(MESSAGE_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions)
            .set_fieldnorms(false),
    );
    b.add_text_field("message", message);
    let json = JsonObjectOptions::default()
        .set_indexing_options(TextFieldIndexing::default().set_tokenizer("raw").set_index_option(IndexRecordOption::Basic).set_fieldnorms(false))
        .set_fast("raw");
    b.add_json_field("fields", json);
    b.add_text_field("_source", STORED);
    for n in STANDARD_STRING_FIELDS {
        b.add_text_field(n, keyword() | FAST);
    }
    b.build()
}

/// The value of one of `STANDARD_STRING_FIELDS`, as the document names it.
fn standard_string<'a>(r: &'a LogRecord, name: &str) -> Option<&'a str> {
    match name {
        "level" => Some(r.level.symbol()),
        "host" => r.host.as_deref(),
        "service" => r.service.as_deref(),
        "source" => Some(r.source.symbol()),
        "parse_status" => Some(r.parse_status.symbol()),
        "timestamp_source" => Some(r.timestamp_source.symbol()),
        "trace_id" => r.trace_id.as_deref(),
        "span_id" => r.span_id.as_deref(),
        _ => None,
    }
}

/// Settings of new day indices: stored documents (`_source`) in 64 KiB zstd blocks instead of
/// Tantivy's 16 KiB LZ4 ones; log lines repeat their field names and values, which zstd over
/// larger blocks stores in well under half the space. Existing indices keep their settings.
fn index_settings() -> tantivy::IndexSettings {
    tantivy::IndexSettings {
        docstore_compression: tantivy::store::Compressor::Zstd(tantivy::store::ZstdCompressor { compression_level: Some(3) }),
        docstore_blocksize: 64 * 1024,
        ..Default::default()
    }
}

struct DayIndex {
    index: Index,
    f: Fields,
    reader: IndexReader,
    writer: Mutex<Option<(IndexWriter, Instant)>>,
}

/// Tantivy as the log store. Cheap to clone.
#[derive(Clone)]
pub struct TantivyLogStore {
    inner: Arc<Inner>,
}

struct Inner {
    root: PathBuf,
    schema: Schema,
    days: Mutex<HashMap<(String, String), Arc<DayIndex>>>,
    catalog: FieldCatalog,
}

impl std::fmt::Debug for TantivyLogStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TantivyLogStore").field("root", &self.inner.root).finish_non_exhaustive()
    }
}

fn day_name(micros: i64) -> String {
    let (y, m, d) = day_of(micros);
    format!("{y:04}.{m:02}.{d:02}")
}

/// Project ids become directory names: keep them to a safe alphabet.
fn safe(project: &str) -> String {
    project.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

impl TantivyLogStore {
    /// Opens (or creates) the store under `root`.
    ///
    /// # Errors
    /// When the directory cannot be created.
    pub fn open(root: &Path) -> Result<Self, LogStoreError> {
        std::fs::create_dir_all(root).map_err(|e| LogStoreError::Config(format!("{}: {e}", root.display())))?;
        let catalog = FieldCatalog::new(root);
        Ok(Self { inner: Arc::new(Inner { root: root.to_owned(), schema: schema(), days: Mutex::new(HashMap::new()), catalog }) })
    }

    async fn write(&self, records: &[LogRecord], replace: bool) -> Result<BulkOutcome, LogStoreError> {
        if records.is_empty() {
            return Ok(BulkOutcome::default());
        }
        // A sink batch is tens of thousands of records: copying it to move it onto a blocking
        // thread doubles the sink's memory and costs a pass over every record, so a
        // multi-thread runtime (every server) indexes in place; its other tasks move on.
        if tokio::runtime::Handle::current().runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread {
            return tokio::task::block_in_place(|| self.inner.index_blocking(records, replace));
        }
        let this = self.inner.clone();
        let records = records.to_vec();
        tokio::task::spawn_blocking(move || this.index_blocking(&records, replace)).await.map_err(err)?
    }
}

/// A field's fast-field name. Extracted values share one JSON field, every type under one path.
fn tantivy_field_name(f: &FieldRef) -> String {
    match f {
        FieldRef::Extracted(n) => format!("fields.{}", n.replace('\\', "\\\\").replace('.', "\\.")),
        FieldRef::Timestamp => "timestamp_us".into(),
        other => other.name(),
    }
}

/// Extracted values of every type share one fast-field path; time buckets over `timestamp_us`.
const TANTIVY_LAYOUT: Layout = Layout {
    typed: |f| vec![(tantivy_field_name(f), false)],
    numeric: tantivy_field_name,
    histogram: crate::aggs::micros_histogram,
    histogram_key_micros: 1,
};

/// `query` within [from, to) on a day index.
pub(crate) fn within(f: &Fields, query: &nexuslog_query::Query, from: i64, to: i64) -> BooleanQuery {
    let range = RangeQuery::new(Bound::Included(Term::from_field_i64(f.ts, from)), Bound::Excluded(Term::from_field_i64(f.ts, to)));
    BooleanQuery::new(vec![(Occur::Must, Box::new(range) as Box<dyn Query>), (Occur::Must, compile(query, f))])
}

impl Inner {
    fn day(&self, project: &str, day: &str, create: bool) -> Result<Option<Arc<DayIndex>>, LogStoreError> {
        let key = (safe(project), day.to_owned());
        let mut days = self.days.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(d) = days.get(&key) {
            return Ok(Some(d.clone()));
        }
        let dir = self.root.join(&key.0).join(day);
        if !dir.exists() {
            if !create {
                return Ok(None);
            }
            std::fs::create_dir_all(&dir).map_err(err)?;
        }
        let directory = MmapDirectory::open(&dir).map_err(err)?;
        // An existing index is opened with the schema it was written with.
        let index = if Index::exists(&directory).map_err(err)? {
            Index::open(directory).map_err(err)?
        } else {
            Index::create(directory, self.schema.clone(), index_settings()).map_err(err)?
        };
        index.tokenizers().register(MESSAGE_TOKENIZER, MessageTokenizer);
        let f = Fields::of(&index.schema())?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map_err(err)?;
        let d = Arc::new(DayIndex { index, f, reader, writer: Mutex::new(None) });
        if days.len() >= MAX_OPEN_DAYS {
            days.retain(|_, d| d.writer.try_lock().is_ok_and(|w| w.is_some()));
        }
        days.insert(key, d.clone());
        Ok(Some(d))
    }

    /// Day indices of `project` that may hold records in [from, to).
    fn days_between(&self, project: &str, from: i64, to: i64) -> Result<Vec<Arc<DayIndex>>, LogStoreError> {
        let dir = self.root.join(safe(project));
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(Vec::new());
        };
        // Day names compare as text only for four-digit years.
        const YEAR_10000: i64 = 253_402_300_800_000_000;
        let (first, last) = (day_name(from.clamp(0, YEAR_10000 - 1)), day_name(to.saturating_sub(1).clamp(0, YEAR_10000 - 1)));
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| is_day_name(n) && n.as_str() >= first.as_str() && n.as_str() <= last.as_str())
            .collect();
        names.sort();
        let mut out = Vec::new();
        for n in names.iter().rev() {
            if let Some(d) = self.day(project, n, false)? {
                out.push(d);
            }
        }
        Ok(out)
    }

    fn document(f: &Fields, r: &LogRecord) -> TantivyDocument {
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &r.id);
        doc.add_i64(f.rank, id_rank(&r.id));
        doc.add_i64(f.ts, r.timestamp);
        doc.add_text(f.message, &r.message);
        for (name, field) in &f.strings {
            if let Some(v) = standard_string(r, name) {
                doc.add_text(*field, v);
            }
        }
        // Indexed from the record, not from the document's typed objects: one JSON field with
        // each value under its own name and type. Left out, as OpenSearch leaves them out: nulls,
        // doubles JSON cannot carry, and text over `ignore_above` (`MAX_INDEXED_VALUE_CHARS`);
        // the record still shows them.
        let mut fields = BTreeMap::new();
        for (name, value) in &r.fields {
            let v = match value {
                FieldValue::Null => continue,
                FieldValue::Bool(b) => OwnedValue::Bool(*b),
                FieldValue::Long(i) => OwnedValue::I64(*i),
                FieldValue::Double(x) if x.is_finite() => OwnedValue::F64(*x),
                FieldValue::Double(_) => continue,
                FieldValue::String(s) if nexuslog_query::is_indexed_text(s) => OwnedValue::Str(s.clone()),
                FieldValue::String(_) => continue,
            };
            fields.insert(name.clone(), v);
        }
        doc.add_object(f.fields, fields);
        doc.add_text(f.source_doc, stored_json(r));
        doc
    }

    /// Builds the records' documents and hands them to `writer`, on several threads for a
    /// large batch: building a document (its JSON source, its fields) costs about as much as
    /// indexing it, and one thread building them would cap indexing at one core whatever the
    /// writer's threads could take. A record's delete precedes its add on the same thread, so
    /// their order holds; a batch holds each id once (the sink keeps the newest version).
    fn add_all(writer: &IndexWriter, f: &Fields, recs: &[&LogRecord], replace: bool) -> Result<(), LogStoreError> {
        let add = |chunk: &[&LogRecord]| -> Result<(), LogStoreError> {
            for r in chunk {
                if replace {
                    writer.delete_term(Term::from_field_text(f.id, &r.id));
                }
                writer.add_document(Self::document(f, r)).map_err(err)?;
            }
            Ok(())
        };
        let threads = writer_threads();
        if threads < 2 || recs.len() < PARALLEL_FROM {
            return add(recs);
        }
        std::thread::scope(|s| {
            let builders: Vec<_> = recs.chunks(recs.len().div_ceil(threads)).map(|chunk| s.spawn(move || add(chunk))).collect();
            builders.into_iter().try_for_each(|b| b.join().map_err(|_| err("a thread building documents panicked"))?)
        })
    }

    /// `replace`: delete each id before adding it, for records that may be indexed already.
    fn index_blocking(&self, records: &[LogRecord], replace: bool) -> Result<BulkOutcome, LogStoreError> {
        let mut by_day: HashMap<(String, String), Vec<&LogRecord>> = HashMap::new();
        for r in records {
            by_day.entry((r.project_id.clone(), day_name(r.timestamp))).or_default().push(r);
        }
        for ((project, day), recs) in by_day {
            let d = self.day(&project, &day, true)?.ok_or_else(|| err("day index vanished"))?;
            let mut guard = d.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if guard.is_none() {
                let threads = writer_threads();
                *guard = Some((d.index.writer_with_num_threads(threads, writer_memory(threads)).map_err(err)?, Instant::now()));
            }
            let Some((writer, last)) = guard.as_mut() else {
                return Err(err("writer missing"));
            };
            let written = (|| {
                Self::add_all(writer, &d.f, &recs, replace)?;
                // Before the commit: a crash in between over-reports a type, never hides one.
                self.catalog.note(&safe(&project), &recs)?;
                writer.commit().map_err(err)
            })();
            if let Err(e) = written {
                // Dropping the writer discards what it holds uncommitted: the caller's retry
                // starts from the last commit instead of committing those documents twice.
                *guard = None;
                return Err(e);
            }
            *last = Instant::now();
            drop(guard);
            d.reader.reload().map_err(err)?;
            self.close_writers(MAX_OPEN_WRITERS);
        }
        self.close_writers(MAX_OPEN_WRITERS);
        Ok(BulkOutcome { indexed: records.len(), failures: Vec::new() })
    }

    /// Closes writers idle past `WRITER_IDLE`, then the least recently written ones beyond
    /// `keep`.
    fn close_writers(&self, keep: usize) {
        let days: Vec<Arc<DayIndex>> = self.days.lock().unwrap_or_else(std::sync::PoisonError::into_inner).values().cloned().collect();
        let mut open: Vec<(Instant, Arc<DayIndex>)> = Vec::new();
        for d in days {
            let mut w = d.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            match w.as_ref() {
                Some((_, last)) if last.elapsed() > WRITER_IDLE => *w = None,
                Some((_, last)) => open.push((*last, d.clone())),
                None => {}
            }
        }
        if open.len() > keep {
            open.sort_by_key(|(last, _)| std::cmp::Reverse(*last));
            for (_, d) in open.drain(keep..) {
                *d.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
            }
        }
    }

    #[cfg(test)]
    fn open_writers(&self) -> usize {
        let days = self.days.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        days.values().filter(|d| d.writer.lock().is_ok_and(|w| w.is_some())).count()
    }

    fn search_blocking(&self, q: &SearchQuery) -> Result<SearchResult, LogStoreError> {
        let mut total = 0u64;
        let mut hits: Vec<(SortKey, LogRecord)> = Vec::new();
        let newest_first = q.order == SortOrder::NewestFirst;
        // Keys are ordered so that the wanted hits are the largest: oldest-first negates them.
        let key_of = move |ts: i64, rank: i64| {
            if newest_first {
                (ts, rank)
            } else {
                (-ts, -rank)
            }
        };
        let after = q.after.as_ref().map(|(ts, id)| key_of(*ts, id_rank(id)));
        for d in self.days_between(&q.project_id, q.from_micros, q.to_micros)? {
            let query = within(&d.f, &q.query, q.from_micros, q.to_micros);
            let top = TopDocs::with_limit(q.limit.max(1)).tweak_score(move |seg: &SegmentReader| {
                let ts = seg.fast_fields().i64("timestamp_us").ok().map(|c| c.first_or_default_col(i64::MIN));
                let rank = seg.fast_fields().i64("id_rank").ok().map(|c| c.first_or_default_col(0));
                move |doc: tantivy::DocId, _score: tantivy::Score| -> SortKey {
                    let key = key_of(ts.as_ref().map_or(i64::MIN, |c| c.get_val(doc)), rank.as_ref().map_or(0, |c| c.get_val(doc)));
                    // Records at or before the cursor sink to the bottom and are dropped below.
                    match after {
                        Some(a) if key >= a => (i64::MIN, i64::MIN),
                        _ => key,
                    }
                }
            });
            let searcher = d.reader.searcher();
            let (docs, count): (Vec<(SortKey, DocAddress)>, usize) = searcher.search(&query, &(top, Count)).map_err(err)?;
            total += count as u64;
            for (key, addr) in docs {
                if key == (i64::MIN, i64::MIN) {
                    continue;
                }
                let doc: TantivyDocument = searcher.doc(addr).map_err(err)?;
                let source = doc.get_first(d.f.source_doc).and_then(|v| tantivy::schema::Value::as_str(&v)).unwrap_or("{}");
                let json: Value = serde_json::from_str(source).map_err(err)?;
                hits.push((key, from_document(&json)));
            }
        }
        hits.sort_by_key(|h| std::cmp::Reverse(h.0));
        hits.truncate(q.limit);
        Ok(SearchResult::new(total, hits.into_iter().map(|(_, r)| r).collect(), q.limit))
    }

    fn aggregate_blocking(&self, q: &AggregateQuery) -> Result<Vec<(String, AggregationResult)>, LogStoreError> {
        let request = serde_json::Value::Object(crate::aggs::request(q, &TANTIVY_LAYOUT));
        let aggs: Aggregations = serde_json::from_value(request).map_err(err)?;
        let mut total = 0u64;
        let mut merged: Option<IntermediateAggregationResults> = None;
        for d in self.days_between(&q.project_id, q.from_micros, q.to_micros)? {
            let query = within(&d.f, &q.query, q.from_micros, q.to_micros);
            if !d.f.aggregatable {
                tracing::warn!(project = %q.project_id, "a day index written before aggregations: counted, not aggregated");
                total += d.reader.searcher().search(&query, &Count).map_err(err)? as u64;
                continue;
            }
            let collector = DistributedAggregationCollector::from_aggs(aggs.clone(), AggContextParams::default());
            let (count, part) = d.reader.searcher().search(&query, &(Count, collector)).map_err(err)?;
            total += count as u64;
            match merged.as_mut() {
                Some(m) => m.merge_fruits(part).map_err(err)?,
                None => merged = Some(part),
            }
        }
        let answer = match merged {
            Some(m) => serde_json::to_value(m.into_final_result(aggs, AggregationLimitsGuard::default()).map_err(err)?).map_err(err)?,
            None => Value::Null,
        };
        Ok(crate::aggs::results(q, &answer, total, &TANTIVY_LAYOUT))
    }

    fn drop_older_than(&self, now_micros: i64, keep_days: i64) -> Result<usize, LogStoreError> {
        let cutoff = day_name(now_micros - keep_days * 86_400_000_000);
        let mut dropped = 0;
        let Ok(projects) = std::fs::read_dir(&self.root) else {
            return Ok(0);
        };
        for p in projects.filter_map(Result::ok) {
            let Ok(days) = std::fs::read_dir(p.path()) else {
                continue;
            };
            for d in days.filter_map(Result::ok) {
                let name = d.file_name().to_string_lossy().into_owned();
                // Only day directories: the field catalog beside them stays (see `catalog.rs`).
                if is_day_name(&name) && name < cutoff {
                    let project = p.file_name().to_string_lossy().into_owned();
                    self.days.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&(project, name));
                    std::fs::remove_dir_all(d.path()).map_err(err)?;
                    dropped += 1;
                }
            }
        }
        Ok(dropped)
    }
}

#[async_trait]
impl LogStore for TantivyLogStore {
    async fn prepare(&self) -> Result<(), LogStoreError> {
        Ok(())
    }

    async fn index(&self, records: &[LogRecord]) -> Result<BulkOutcome, LogStoreError> {
        self.write(records, true).await
    }

    async fn index_unseen(&self, records: &[LogRecord]) -> Result<BulkOutcome, LogStoreError> {
        self.write(records, false).await
    }

    async fn refresh(&self) -> Result<(), LogStoreError> {
        // `index` reloads readers before returning: everything indexed is already searchable.
        Ok(())
    }

    async fn search(&self, query: &SearchQuery) -> Result<SearchResult, LogStoreError> {
        let this = self.inner.clone();
        let q = query.clone();
        tokio::task::spawn_blocking(move || this.search_blocking(&q)).await.map_err(err)?
    }

    async fn aggregate(&self, query: &AggregateQuery) -> Result<Vec<(String, AggregationResult)>, LogStoreError> {
        let this = self.inner.clone();
        let q = query.clone();
        tokio::task::spawn_blocking(move || this.aggregate_blocking(&q)).await.map_err(err)?
    }

    /// From the project's field catalog, which retention does not shrink: a field or type whose
    /// last records expired stays listed.
    async fn fields(&self, project_id: &str) -> Result<Vec<FieldInfo>, LogStoreError> {
        let this = self.inner.clone();
        let project = safe(project_id);
        tokio::task::spawn_blocking(move || this.catalog.list(&project)).await.map_err(err)?
    }

    async fn drop_older_than(&self, now_micros: i64, keep_days: i64) -> Result<usize, LogStoreError> {
        let this = self.inner.clone();
        tokio::task::spawn_blocking(move || this.drop_older_than(now_micros, keep_days)).await.map_err(err)?
    }

    async fn health(&self) -> Result<(), LogStoreError> {
        std::fs::metadata(&self.inner.root).map(|_| ()).map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::to_document;

    fn record(id: usize, day: i64) -> LogRecord {
        LogRecord {
            id: format!("r{id}"),
            project_id: "p".into(),
            timestamp: 1_700_000_000_000_000 + day * 86_400_000_000,
            timestamp_source: nexuslog_schemas::TimestampSource::Event,
            received_at: 1_700_000_000_000_000,
            level: nexuslog_schemas::Level::Info,
            message: format!("event {id}"),
            host: None,
            service: None,
            source: nexuslog_schemas::SourceKind::Http,
            fields: BTreeMap::new(),
            parse_status: nexuslog_schemas::ParseStatus::Ok,
            parse_errors: Vec::new(),
            trace_id: None,
            span_id: None,
        }
    }

    #[test]
    fn a_batch_over_many_days_keeps_a_bounded_number_of_writers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = TantivyLogStore::open(dir.path()).expect("open");
        let records: Vec<LogRecord> = (0..20).map(|i| record(i, i as i64)).collect();
        let out = store.inner.index_blocking(&records, true).expect("index");
        assert_eq!(out.indexed, 20);
        assert!(store.inner.open_writers() <= MAX_OPEN_WRITERS, "{} writers open", store.inner.open_writers());
        // Every day is searchable although most writers were closed.
        let q = SearchQuery {
            project_id: "p".into(),
            query: nexuslog_query::parse("").expect("query"),
            after: None,
            from_micros: 0,
            to_micros: i64::MAX,
            limit: 100,
            order: SortOrder::NewestFirst,
        };
        assert_eq!(store.inner.search_blocking(&q).expect("search").total, 20);
    }

    /// A batch large enough to be built on several threads: each record once, replaced (not
    /// added again) when the batch is indexed a second time, every one searchable.
    #[test]
    fn a_large_batch_built_in_parallel_replaces_and_finds_every_record() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = TantivyLogStore::open(dir.path()).expect("open");
        let records: Vec<LogRecord> = (0..PARALLEL_FROM * 4).map(|i| record(i, 0)).collect();
        store.inner.index_blocking(&records, false).expect("index");
        store.inner.index_blocking(&records, true).expect("index again");
        let q = |text: &str| SearchQuery {
            project_id: "p".into(),
            query: nexuslog_query::parse(text).expect("query"),
            after: None,
            from_micros: 0,
            to_micros: i64::MAX,
            limit: 10,
            order: SortOrder::NewestFirst,
        };
        assert_eq!(store.inner.search_blocking(&q("")).expect("search").total, records.len() as u64, "no record twice");
        for i in [0, PARALLEL_FROM, records.len() - 1] {
            assert_eq!(store.inner.search_blocking(&q(&format!("\"event {i}\""))).expect("search").total, 1, "record {i}");
        }
    }

    /// What `_source` leaves out reads back as it was: a record with every value set and one
    /// with none both come back equal (a NaN as the null JSON makes of it), the stored text is
    /// the OpenSearch document less the rank, the duplicate timestamp and empty values, and the
    /// keyword fields hold what the document shows.
    #[test]
    fn the_slimmed_source_reads_back_every_record_unchanged() {
        let sparse = record(1, 0);
        let mut full = record(2, 0);
        full.host = Some("web-1".into());
        full.service = Some("checkout".into());
        full.trace_id = Some("4bf92f3577b34da6a3ce929d0e0e4736".into());
        full.span_id = Some("00f067aa0ba902b7".into());
        full.parse_status = nexuslog_schemas::ParseStatus::Partial;
        full.parse_errors = vec!["grok: no match".into()];
        full.fields = BTreeMap::from([
            ("status".into(), FieldValue::Long(503)),
            ("ratio".into(), FieldValue::Double(0.5)),
            ("cached".into(), FieldValue::Bool(false)),
            ("user".into(), FieldValue::String("u-1".into())),
            ("gone".into(), FieldValue::Null),
        ]);
        full.fields.insert("not_a_number".into(), FieldValue::Double(f64::NAN));
        let mut nan_free = full.clone();
        nan_free.fields.insert("not_a_number".into(), FieldValue::Null);
        for (r, reads_as) in [(sparse.clone(), sparse), (full, nan_free)] {
            let stored: Value = serde_json::from_str(&stored_json(&r)).expect("JSON");
            assert!(stored.get("id_rank").is_none() && stored.get("@timestamp").is_none(), "{stored}");
            assert!(stored.as_object().is_some_and(|m| m.values().all(|v| !v.is_null())), "{stored}");
            assert_eq!(from_document(&stored), reads_as);
            // The OpenSearch document less what the store leaves out: one format, not two.
            let mut full_doc = to_document(&r);
            if let Some(m) = full_doc.as_object_mut() {
                m.remove("id_rank");
                m.remove("@timestamp");
                m.retain(|_, v| !(v.is_null() || v.as_object().is_some_and(|o| o.is_empty()) || v.as_array().is_some_and(|a| a.is_empty())));
            }
            assert_eq!(stored, full_doc);
            // The keyword fields are indexed with the values the document shows.
            for n in STANDARD_STRING_FIELDS {
                assert_eq!(standard_string(&r, n), to_document(&r)[*n].as_str(), "{n}");
            }
        }
    }
}
