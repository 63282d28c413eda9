//! [`LogStore`] on Tantivy, for standalone mode.
//!
//! One Tantivy index per (project, day) under `<root>/<project>/<yyyy.mm.dd>/`: a query never
//! opens another project's files, and retention deletes whole directories. Writes delete the
//! record's id term and add the document in the same commit, so indexing a record again
//! replaces it. `index` commits and reloads the reader before returning: what it reports as
//! indexed is durable and searchable (sub-second freshness is the sink's batch linger).
//!
//! Extracted fields are one JSON field, and Tantivy indexes each JSON value with its own type,
//! so a field holding a number in one record and a string in another is no conflict here;
//! filters try the value as every type it can be read as. The types each field was indexed
//! with are kept per project in `<root>/<project>/fields.json` (see `catalog.rs`).

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use nexuslog_schemas::{FieldValue, LogRecord};
use serde_json::Value;
use tantivy::collector::{Count, TopDocs};
use tantivy::columnar::NumericalValue;
use tantivy::directory::MmapDirectory;
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, QueryParser, RangeQuery, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, JsonObjectOptions, OwnedValue, Schema, TextFieldIndexing, FAST, INDEXED, STORED, STRING,
    TEXT,
};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, SegmentReader, TantivyDocument, Term};

use crate::catalog::FieldCatalog;
use crate::document::{day_of, from_document, id_rank, is_day_name, to_document};
use crate::{filter_target, BulkOutcome, FieldInfo, FilterTarget, LogStore, LogStoreError, SearchQuery, SearchResult};

/// Memory of one index writer (split among its threads; Tantivy wants at least 15 MB per
/// thread). Writers of idle days are closed, so usually only today's is open.
const WRITER_MEMORY: usize = 64_000_000;
/// Indexing threads per writer: both cores of a small machine when a batch arrives.
const WRITER_THREADS: usize = 2;
/// A day index whose writer saw no write for this long releases it.
const WRITER_IDLE: Duration = Duration::from_secs(120);

/// Sort position of a hit: (timestamp µs, id rank), newest first.
type SortKey = (i64, i64);

const STANDARD_STRING_FIELDS: &[&str] = &["level", "host", "service", "source", "parse_status", "timestamp_source", "trace_id", "span_id"];

fn err(e: impl std::fmt::Display) -> LogStoreError {
    LogStoreError::Unavailable(format!("tantivy: {e}"))
}

#[derive(Clone)]
struct Fields {
    id: Field,
    rank: Field,
    ts: Field,
    message: Field,
    fields: Field,
    source_doc: Field,
    strings: HashMap<&'static str, Field>,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let id = b.add_text_field("id", STRING);
    let rank = b.add_i64_field("id_rank", FAST);
    let ts = b.add_i64_field("timestamp_us", INDEXED | FAST);
    let message = b.add_text_field("message", TEXT);
    let json = JsonObjectOptions::default()
        .set_indexing_options(TextFieldIndexing::default().set_tokenizer("raw").set_index_option(IndexRecordOption::Basic));
    let fields = b.add_json_field("fields", json);
    let source_doc = b.add_text_field("_source", STORED);
    let strings = STANDARD_STRING_FIELDS.iter().map(|n| (*n, b.add_text_field(n, STRING))).collect();
    (b.build(), Fields { id, rank, ts, message, fields, source_doc, strings })
}

struct DayIndex {
    index: Index,
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
    f: Fields,
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
        let (schema, f) = schema();
        let catalog = FieldCatalog::new(root);
        Ok(Self { inner: Arc::new(Inner { root: root.to_owned(), schema, f, days: Mutex::new(HashMap::new()), catalog }) })
    }
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
        let index = Index::open_or_create(MmapDirectory::open(&dir).map_err(err)?, self.schema.clone()).map_err(err)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map_err(err)?;
        let d = Arc::new(DayIndex { index, reader, writer: Mutex::new(None) });
        days.insert(key, d.clone());
        Ok(Some(d))
    }

    /// Day indices of `project` that may hold records in [from, to).
    fn days_between(&self, project: &str, from: i64, to: i64) -> Result<Vec<Arc<DayIndex>>, LogStoreError> {
        let dir = self.root.join(safe(project));
        let Ok(entries) = std::fs::read_dir(&dir) else { return Ok(Vec::new()) };
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

    fn document(&self, r: &LogRecord) -> TantivyDocument {
        let json = to_document(r);
        let mut doc = TantivyDocument::default();
        doc.add_text(self.f.id, &r.id);
        doc.add_i64(self.f.rank, id_rank(&r.id));
        doc.add_i64(self.f.ts, r.timestamp);
        doc.add_text(self.f.message, &r.message);
        for (name, field) in &self.f.strings {
            if let Some(v) = json.get(*name).and_then(Value::as_str) {
                doc.add_text(*field, v);
            }
        }
        // Indexed from the record, not from the document's typed objects: one JSON field with
        // each value under its own name and type. Nulls are left out, as Tantivy indexes nothing
        // for them anyway.
        let mut fields = BTreeMap::new();
        for (name, value) in &r.fields {
            let v = match value {
                FieldValue::Null => continue,
                FieldValue::Bool(b) => OwnedValue::Bool(*b),
                FieldValue::Long(i) => OwnedValue::I64(*i),
                FieldValue::Double(x) => OwnedValue::F64(*x),
                FieldValue::String(s) => OwnedValue::Str(s.clone()),
            };
            fields.insert(name.clone(), v);
        }
        doc.add_object(self.f.fields, fields);
        doc.add_text(self.f.source_doc, json.to_string());
        doc
    }

    fn index_blocking(&self, records: &[LogRecord]) -> Result<BulkOutcome, LogStoreError> {
        let mut by_day: HashMap<(String, String), Vec<&LogRecord>> = HashMap::new();
        for r in records {
            by_day.entry((r.project_id.clone(), day_name(r.timestamp))).or_default().push(r);
        }
        for ((project, day), recs) in by_day {
            let d = self.day(&project, &day, true)?.ok_or_else(|| err("day index vanished"))?;
            let mut guard = d.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if guard.is_none() {
                *guard = Some((d.index.writer_with_num_threads(WRITER_THREADS, WRITER_MEMORY).map_err(err)?, Instant::now()));
            }
            let Some((writer, last)) = guard.as_mut() else { return Err(err("writer missing")) };
            for r in &recs {
                writer.delete_term(Term::from_field_text(self.f.id, &r.id));
                writer.add_document(self.document(r)).map_err(err)?;
            }
            // Before the commit: a crash in between over-reports a type, never hides one.
            self.catalog.note(&safe(&project), &recs)?;
            writer.commit().map_err(err)?;
            *last = Instant::now();
            d.reader.reload().map_err(err)?;
        }
        self.close_idle_writers();
        Ok(BulkOutcome { indexed: records.len(), failures: Vec::new() })
    }

    fn close_idle_writers(&self) {
        let days: Vec<Arc<DayIndex>> = self.days.lock().unwrap_or_else(std::sync::PoisonError::into_inner).values().cloned().collect();
        for d in days {
            let mut w = d.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if w.as_ref().is_some_and(|(_, last)| last.elapsed() > WRITER_IDLE) {
                *w = None;
            }
        }
    }

    fn filter_query(&self, name: &str, value: &str) -> Box<dyn Query> {
        let (name, value) = match filter_target(name, value) {
            FilterTarget::Standard { field, value } => {
                let f = if field == "id" { Some(self.f.id) } else { self.f.strings.get(field.as_str()).copied() };
                return match f {
                    Some(f) => Box::new(TermQuery::new(Term::from_field_text(f, &value), IndexRecordOption::Basic)),
                    // Every standard field has a Tantivy field; should the list drift, match nothing.
                    None => Box::new(BooleanQuery::new(Vec::new())),
                };
            }
            FilterTarget::Extracted { name, value } => (name, value),
        };
        // A name is one key of the JSON object, dots included (`syslog.severity`): escape them,
        // or Tantivy reads the name as a path into nested objects and matches nothing.
        let path = name.replace('\\', "\\\\").replace('.', "\\.");
        // A JSON value is indexed with its type: try the value as each type it can be.
        let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut push = |t: Term| alternatives.push((Occur::Should, Box::new(TermQuery::new(t, IndexRecordOption::Basic))));
        let base = || Term::from_field_json_path(self.f.fields, &path, false);
        if let Ok(i) = value.parse::<i64>() {
            let mut t = base();
            t.append_type_and_fast_value(i);
            push(t);
        } else if let Some(x) = value.parse::<f64>().ok().filter(|x| x.is_finite()) {
            // Tantivy indexes a whole double as an integer (2.0 as 2): normalize the value the
            // same way, so `ratio:2.0` finds 2.0 (and, as in OpenSearch, the long 2).
            let mut t = base();
            match NumericalValue::F64(x).normalize() {
                NumericalValue::I64(i) => t.append_type_and_fast_value(i),
                NumericalValue::U64(u) => t.append_type_and_fast_value(u),
                NumericalValue::F64(x) => t.append_type_and_fast_value(x),
            }
            push(t);
        }
        if let Ok(b) = value.parse::<bool>() {
            let mut t = base();
            t.append_type_and_fast_value(b);
            push(t);
        }
        let mut t = base();
        t.append_type_and_str(&value);
        push(t);
        Box::new(BooleanQuery::new(alternatives))
    }

    fn search_blocking(&self, q: &SearchQuery) -> Result<SearchResult, LogStoreError> {
        let mut total = 0u64;
        let mut hits: Vec<((i64, i64), LogRecord)> = Vec::new();
        let after = q.after.as_ref().map(|(ts, id)| (*ts, id_rank(id)));
        for d in self.days_between(&q.project_id, q.from_micros, q.to_micros)? {
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_i64(self.f.ts, q.from_micros)),
                    Bound::Excluded(Term::from_field_i64(self.f.ts, q.to_micros)),
                )),
            )];
            if let Some(text) = q.text.as_deref().filter(|t| !t.trim().is_empty()) {
                let mut parser = QueryParser::for_index(&d.index, vec![self.f.message]);
                parser.set_conjunction_by_default();
                // Lenient: a stray quote or colon in free text still searches the rest.
                clauses.push((Occur::Must, parser.parse_query_lenient(text).0));
            }
            for (name, value) in &q.filters {
                clauses.push((Occur::Must, self.filter_query(name, value)));
            }
            if clauses.is_empty() {
                clauses.push((Occur::Must, Box::new(AllQuery)));
            }
            let query = BooleanQuery::new(clauses);
            let top = TopDocs::with_limit(q.limit.max(1)).tweak_score(move |seg: &SegmentReader| {
                let ts = seg.fast_fields().i64("timestamp_us").ok().map(|c| c.first_or_default_col(i64::MIN));
                let rank = seg.fast_fields().i64("id_rank").ok().map(|c| c.first_or_default_col(0));
                move |doc: tantivy::DocId, _score: tantivy::Score| -> (i64, i64) {
                    let key = (ts.as_ref().map_or(i64::MIN, |c| c.get_val(doc)), rank.as_ref().map_or(0, |c| c.get_val(doc)));
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
                let source = doc.get_first(self.f.source_doc).and_then(|v| tantivy::schema::Value::as_str(&v)).unwrap_or("{}");
                let json: Value = serde_json::from_str(source).map_err(err)?;
                hits.push((key, from_document(&json)));
            }
        }
        hits.sort_by_key(|h| std::cmp::Reverse(h.0));
        hits.truncate(q.limit);
        let next = (hits.len() == q.limit).then(|| hits.last().map(|(_, r)| (r.timestamp, r.id.clone()))).flatten();
        Ok(SearchResult { total, hits: hits.into_iter().map(|(_, r)| r).collect(), next })
    }

    fn drop_older_than(&self, now_micros: i64, keep_days: i64) -> Result<usize, LogStoreError> {
        let cutoff = day_name(now_micros - keep_days * 86_400_000_000);
        let mut dropped = 0;
        let Ok(projects) = std::fs::read_dir(&self.root) else { return Ok(0) };
        for p in projects.filter_map(Result::ok) {
            let Ok(days) = std::fs::read_dir(p.path()) else { continue };
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
        if records.is_empty() {
            return Ok(BulkOutcome::default());
        }
        let this = self.inner.clone();
        let records = records.to_vec();
        tokio::task::spawn_blocking(move || this.index_blocking(&records)).await.map_err(err)?
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
