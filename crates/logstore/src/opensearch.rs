//! [`LogStore`] on OpenSearch: one index template with explicit mappings, daily indices per
//! project, bulk writes with `_id` = record id, searches filtered by project in the query we
//! build (never by the client).
//!
//! Extracted fields live under one object per type (`fields`, `fields_long`, `fields_double`,
//! `fields_bool`, see `document.rs`), each typed by a dynamic template, so a field holding a
//! number in one record and a string in another never meets a mapping of the other type.
//! Indices created before typed objects keep their mappings until retention drops them; their
//! `fields.<name>` may be numeric, which filters tolerate (`lenient`) and `fields` reports.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use nexuslog_schemas::LogRecord;
use opensearch::auth::{ClientCertificate, Credentials};
use opensearch::cert::{Certificate, CertificateValidation};
use opensearch::http::headers::{HeaderValue, AUTHORIZATION};
use opensearch::http::transport::{SingleNodeConnectionPool, TransportBuilder};
use opensearch::http::Url;
use opensearch::indices::{IndicesGetMappingParts, IndicesPutIndexTemplateParts, IndicesRefreshParts};
use opensearch::{BulkParts, OpenSearch, SearchParts};
use serde_json::{json, Value};

use crate::aggs::{Layout, TypedFields};
use crate::document::{
    from_document, id_rank, index_name, is_day_name, rfc3339_micros, Typed, BOOL_FIELDS, DOUBLE_FIELDS, LONG_FIELDS, STRING_FIELDS,
};
use crate::opensearch_query::{compile, MESSAGE_TERMS, NUMBER_FIELDS};
use crate::{
    AggregateQuery, AggregationResult, BulkOutcome, FieldInfo, FieldType, ItemFailure, LogStore, LogStoreError, SearchQuery, SearchResult,
    SortOrder,
};
use nexuslog_query::FieldRef;

/// Connection settings for [`OpenSearchLogStore`].
#[derive(Debug, Clone)]
pub struct OpenSearchConfig {
    pub url: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Prefix of index and template names.
    pub index_prefix: String,
    /// PEM of the CA that signed the cluster's certificate; `None` trusts the system's roots.
    pub ca_pem: Option<Vec<u8>>,
    /// PEM of a client certificate followed by its key, for certificate authentication.
    pub identity_pem: Option<Vec<u8>>,
    /// Verify the cluster's certificate and host name (on unless explicitly turned off).
    pub verify: bool,
}

/// OpenSearch as the log store.
#[derive(Debug, Clone)]
pub struct OpenSearchLogStore {
    client: OpenSearch,
    prefix: String,
    bulk_max_bytes: usize,
    bulk_concurrency: usize,
}

/// Largest `_bulk` request body by default. OpenSearch's guidance is 5–15 MiB per request;
/// its own limit (`http.max_content_length`) is 100 MiB, and proxies in front of it often
/// allow much less, which is why a request refused as too large is split (see `index`).
pub const DEFAULT_BULK_MAX_BYTES: usize = 10 << 20;
/// `_bulk` requests of one write in flight at once (see [`OpenSearchLogStore::with_bulk_concurrency`]).
pub const DEFAULT_BULK_CONCURRENCY: usize = 2;
/// A write is split for concurrency only into parts of at least this many documents: a small
/// write (the sink keeping up, a few hundred records per linger) stays one request.
const MIN_PART: usize = 500;

/// How much of an error body goes into an error message: enough to name the cause, never a
/// whole HTML page from a proxy.
const ERROR_BODY_EXCERPT: usize = 300;

fn unavailable(e: impl std::error::Error) -> LogStoreError {
    // The causes say what went wrong ("invalid peer certificate: UnknownIssuer"); the top error
    // only that a request failed.
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    LogStoreError::Unavailable(text)
}

/// The start of an error body, whatever it is (JSON, HTML from a proxy, nothing).
fn excerpt(body: &str) -> String {
    let body = body.trim();
    match body.char_indices().nth(ERROR_BODY_EXCERPT) {
        Some((end, _)) => format!("{}…", &body[..end]),
        None if body.is_empty() => "(empty body)".to_owned(),
        None => body.to_owned(),
    }
}

/// A request's JSON answer, or its failure classified by status alone: the body of an error
/// may not be JSON (a proxy's HTML page, a load balancer's text), and must not decide whether
/// the request is retried. 429 and 5xx are transient; other 4xx are refusals.
async fn json_of(resp: opensearch::http::response::Response) -> Result<Value, LogStoreError> {
    typed_json_of(resp).await
}

/// As [`json_of`], read into `T` (what is not in `T` is skipped, not built).
async fn typed_json_of<T: serde::de::DeserializeOwned>(resp: opensearch::http::response::Response) -> Result<T, LogStoreError> {
    let status = resp.status_code();
    let text = resp.text().await.map_err(unavailable)?;
    if status.is_server_error() || status.as_u16() == 429 {
        return Err(LogStoreError::Unavailable(format!("{status}: {}", excerpt(&text))));
    }
    if !status.is_success() {
        return Err(LogStoreError::Rejected(format!("{status}: {}", excerpt(&text))));
    }
    serde_json::from_str(&text)
        .map_err(|e| LogStoreError::Unavailable(format!("{status} with a body that is not JSON ({e}): {}", excerpt(&text))))
}

/// The part of a `_bulk` answer the sink reads: per item, the status and error of its `index`
/// action. Read straight into these (the rest skipped) rather than into a JSON tree, which for
/// 5 000 items cost the sink about as much as building the request.
#[derive(serde::Deserialize)]
struct BulkResponse {
    #[serde(default)]
    items: Vec<ItemAnswer>,
}

#[derive(serde::Deserialize)]
struct ItemAnswer {
    index: Option<ItemResult>,
}

#[derive(serde::Deserialize)]
struct ItemResult {
    #[serde(default)]
    status: u16,
    error: Option<Value>,
}

/// One document of a bulk write, serialized once: action line and source, each ending in a
/// newline, so a request's size is known before it is sent.
struct BulkItem {
    id: String,
    ndjson: Vec<u8>,
}

/// What one `_bulk` request came back with, short of failing.
enum BulkAnswer {
    /// Item results, in request order.
    Items(Vec<ItemAnswer>),
    /// 413: the request as a whole is larger than OpenSearch (or a proxy) accepts.
    TooLarge(String),
}

/// Consecutive runs of `items` of at most `max_bytes` each (an item larger than that alone).
fn chunks_by_bytes(items: &[BulkItem], max_bytes: usize) -> Vec<&[BulkItem]> {
    let mut chunks = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, item) in items.iter().enumerate() {
        if i > start && bytes + item.ndjson.len() > max_bytes {
            chunks.push(&items[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += item.ndjson.len();
    }
    if start < items.len() {
        chunks.push(&items[start..]);
    }
    chunks
}

impl OpenSearchLogStore {
    /// # Errors
    /// When the URL does not parse.
    pub fn new(config: &OpenSearchConfig) -> Result<Self, LogStoreError> {
        let url = Url::parse(&config.url).map_err(|e| LogStoreError::Config(format!("url {:?}: {e}", config.url)))?;
        let mut builder = TransportBuilder::new(SingleNodeConnectionPool::new(url));
        let basic = config.username.as_ref().map(|user| Credentials::Basic(user.clone(), config.password.clone().unwrap_or_default()));
        match (&config.identity_pem, basic) {
            (Some(pem), basic) => {
                // The transport holds one credential: the certificate goes there, and a user
                // and password, when also set, become the header they would have made.
                builder = builder.auth(Credentials::Certificate(ClientCertificate::Pem(pem.clone())));
                if let Some(Credentials::Basic(user, password)) = basic {
                    use base64::Engine as _;
                    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                    let value = HeaderValue::from_str(&format!("Basic {token}")).map_err(|e| LogStoreError::Config(e.to_string()))?;
                    builder = builder.header(AUTHORIZATION, value);
                }
            }
            (None, Some(basic)) => builder = builder.auth(basic),
            (None, None) => {}
        }
        let validation = match (&config.ca_pem, config.verify) {
            (_, false) => CertificateValidation::None,
            (Some(pem), true) => CertificateValidation::Full(Certificate::from_pem(pem).map_err(|e| LogStoreError::Config(format!("CA: {e}")))?),
            (None, true) => CertificateValidation::Default,
        };
        builder = builder.cert_validation(validation);
        let transport = builder.build().map_err(|e| LogStoreError::Config(e.to_string()))?;
        Ok(Self { client: OpenSearch::new(transport), prefix: config.index_prefix.clone(), bulk_max_bytes: DEFAULT_BULK_MAX_BYTES, bulk_concurrency: DEFAULT_BULK_CONCURRENCY })
    }

    /// Bounds each `_bulk` request body to `max_bytes` (default [`DEFAULT_BULK_MAX_BYTES`]): a
    /// larger write is sent as several requests, a document larger than that alone.
    #[must_use]
    pub fn with_bulk_max_bytes(mut self, max_bytes: usize) -> Self {
        self.bulk_max_bytes = max_bytes.max(1);
        self
    }

    /// Sends a large write as up to `n` parts at once (default [`DEFAULT_BULK_CONCURRENCY`]). A
    /// bulk request into one shard is indexed by one of OpenSearch's write threads: a second
    /// request in flight keeps another busy, and overlaps one request's indexing with the next
    /// one's transfer. The parts are independent: documents have their ids, so their order of
    /// arrival does not matter.
    #[must_use]
    pub fn with_bulk_concurrency(mut self, n: usize) -> Self {
        self.bulk_concurrency = n.max(1);
        self
    }

    /// Sends `items` as requests of at most `bulk_max_bytes`, one after another. A request
    /// answered 413 is halved and the halves sent, down to a single document, which is then
    /// reported as a failure that is not retryable.
    /// The records as `_bulk` items: an action line and the document, each.
    fn items(&self, records: &[LogRecord]) -> Result<Vec<BulkItem>, LogStoreError> {
        let mut items = Vec::with_capacity(records.len());
        for r in records {
            let index = index_name(&self.prefix, &r.project_id, r.timestamp);
            let mut ndjson = Vec::with_capacity(1024);
            action_line(&mut ndjson, &index, &r.id).map_err(unavailable)?;
            write_search_document(&mut ndjson, r).map_err(unavailable)?;
            ndjson.push(b'\n');
            items.push(BulkItem { id: r.id.clone(), ndjson });
        }
        Ok(items)
    }

    async fn send_part(&self, items: &[BulkItem]) -> Result<BulkOutcome, LogStoreError> {
        let mut outcome = BulkOutcome::default();
        // A stack, so the halves of a refused request go first and in order.
        let mut pending: Vec<&[BulkItem]> = chunks_by_bytes(items, self.bulk_max_bytes);
        pending.reverse();
        while let Some(chunk) = pending.pop() {
            match self.bulk_request(chunk).await? {
                BulkAnswer::Items(answered) => tally(&answered, chunk, &mut outcome),
                BulkAnswer::TooLarge(reason) if chunk.len() == 1 => {
                    let bytes = chunk[0].ndjson.len();
                    tracing::warn!(id = %chunk[0].id, bytes, %reason, "the log store refused a document as too large");
                    outcome.failures.push(ItemFailure {
                        id: chunk[0].id.clone(),
                        status: 413,
                        reason: format!("a request holding only this document ({bytes} bytes) was refused as too large: {reason}"),
                        retryable: false,
                    });
                }
                BulkAnswer::TooLarge(reason) => {
                    let bytes: usize = chunk.iter().map(|i| i.ndjson.len()).sum();
                    tracing::info!(documents = chunk.len(), bytes, %reason, "bulk request refused as too large; splitting it");
                    let (first, second) = chunk.split_at(chunk.len() / 2);
                    pending.push(second);
                    pending.push(first);
                }
            }
        }
        Ok(outcome)
    }

    /// Sends one `_bulk` request.
    async fn bulk_request(&self, items: &[BulkItem]) -> Result<BulkAnswer, LogStoreError> {
        let body: Vec<&[u8]> = items.iter().map(|i| i.ndjson.as_slice()).collect();
        let started = std::time::Instant::now();
        let resp = self.client.bulk(BulkParts::None).body(body).send().await.map_err(unavailable)?;
        let headers = started.elapsed();
        if resp.status_code().as_u16() == 413 {
            let text = resp.text().await.unwrap_or_default();
            return Ok(BulkAnswer::TooLarge(format!("413 Payload Too Large: {}", excerpt(&text))));
        }
        let items_answered = typed_json_of::<BulkResponse>(resp).await?.items;
        tracing::debug!(documents = items.len(), ?headers, read = ?started.elapsed(), "bulk request");
        if items_answered.len() != items.len() {
            return Err(LogStoreError::Unavailable(format!("bulk answered {} items for {} documents", items_answered.len(), items.len())));
        }
        Ok(BulkAnswer::Items(items_answered))
    }

    /// The settings and mappings of the store's day indices, as `PUT /<index>` takes them: with
    /// `document`, what a benchmark needs to send OpenSearch the store's own writes directly.
    pub fn index_definition(&self) -> Value {
        self.template()["template"].clone()
    }

    /// A record's document exactly as the store indexes it (under the record's id).
    pub fn document(r: &LogRecord) -> String {
        let mut out = Vec::with_capacity(1024);
        // Serializing borrowed strings and numbers into a Vec cannot fail.
        let _ = write_search_document(&mut out, r);
        String::from_utf8(out).unwrap_or_default()
    }

    fn template(&self) -> Value {
        // Every typed object gets a template per JSON number kind, so its mapping type is fixed
        // by the object, never by the first value (`2` in `fields_double` is still a double).
        // Templates name `match_mapping_type`: without it they would also match the objects a
        // dotted name creates (`fields_long.http` for `http.status`) and map them as numbers.
        // `date_detection` is off: a date-like string would otherwise map `fields.<name>` as a
        // date and refuse the next non-date string of that field.
        let typed = |name: &str, path: &str, json_type: &str, mapping: Value| json!({ name: { "path_match": format!("{path}.*"), "match_mapping_type": json_type, "mapping": mapping } });
        json!({
            "index_patterns": [format!("{}*", self.prefix)],
            "template": {
                "settings": { "number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "1s" },
                "mappings": {
                    "dynamic": true,
                    "date_detection": false,
                    "dynamic_templates": [
                        typed("field_strings", STRING_FIELDS, "string", json!({ "type": "keyword", "ignore_above": 2048 })),
                        typed("field_longs", LONG_FIELDS, "long", json!({ "type": "long" })),
                        typed("field_longs_written_as_floats", LONG_FIELDS, "double", json!({ "type": "long" })),
                        typed("field_doubles", DOUBLE_FIELDS, "double", json!({ "type": "double" })),
                        typed("field_doubles_written_as_integers", DOUBLE_FIELDS, "long", json!({ "type": "double" })),
                        typed("field_bools", BOOL_FIELDS, "boolean", json!({ "type": "boolean" })),
                        typed("field_numbers", NUMBER_FIELDS, "double", json!({ "type": "double" })),
                        typed("field_numbers_written_as_integers", NUMBER_FIELDS, "long", json!({ "type": "double" })),
                    ],
                    // Derived at index time from what `_source` holds; searchable, not stored.
                    "_source": { "excludes": [MESSAGE_TERMS, NUMBER_FIELDS] },
                    "properties": {
                        "id": { "type": "keyword" },
                        "id_rank": { "type": "long" },
                        "project_id": { "type": "keyword" },
                        "@timestamp": { "type": "date_nanos" },
                        "timestamp_us": { "type": "long" },
                        "timestamp_source": { "type": "keyword" },
                        "received_at_us": { "type": "long" },
                        "level": { "type": "keyword" },
                        // Words are found through `message_terms`; the message itself is only shown.
                        "message": { "type": "text", "index": false },
                        MESSAGE_TERMS: { "type": "text", "analyzer": "whitespace" },
                        "host": { "type": "keyword" },
                        "service": { "type": "keyword" },
                        "source": { "type": "keyword" },
                        STRING_FIELDS: { "type": "object", "dynamic": true },
                        LONG_FIELDS: { "type": "object", "dynamic": true },
                        DOUBLE_FIELDS: { "type": "object", "dynamic": true },
                        BOOL_FIELDS: { "type": "object", "dynamic": true },
                        NUMBER_FIELDS: { "type": "object", "dynamic": true },
                        "parse_status": { "type": "keyword" },
                        "parse_errors": { "type": "keyword" },
                        "trace_id": { "type": "keyword" },
                        "span_id": { "type": "keyword" }
                    }
                }
            }
        })
    }

    fn project_pattern(&self, project_id: &str) -> String {
        format!("{}{}-*", self.prefix, project_id.to_lowercase())
    }

    /// The `_search` body [`LogStore::search`] sends for `q` (to the indices of
    /// [`OpenSearchLogStore::index_pattern`]): for explaining a query, and for benchmarks that
    /// send the same request straight to OpenSearch.
    pub fn search_request(&self, q: &SearchQuery) -> Value {
        let order = match q.order {
            SortOrder::NewestFirst => "desc",
            SortOrder::OldestFirst => "asc",
        };
        let mut body = json!({
            "size": q.limit,
            "track_total_hits": crate::EXACT_TOTAL_LIMIT,
            "query": self.scoped(&q.project_id, &q.query, q.from_micros, q.to_micros),
            "sort": [ { "timestamp_us": order }, { "id_rank": order } ],
        });
        if let Some((ts, id)) = &q.after {
            body["search_after"] = json!([ts, id_rank(id)]);
        }
        body
    }

    /// The `_search` body [`LogStore::aggregate`] sends for `q`.
    pub fn aggregate_request(&self, q: &AggregateQuery) -> Value {
        let aggs = crate::aggs::request(q, &OPENSEARCH_LAYOUT);
        json!({
            "size": 0,
            "track_total_hits": true,
            "query": self.scoped(&q.project_id, &q.query, q.from_micros, q.to_micros),
            "aggs": aggs,
        })
    }

    /// The indices holding a project's records, as an index pattern.
    pub fn index_pattern(&self, project_id: &str) -> String {
        self.project_pattern(project_id)
    }

    /// `query` within one project and [from, to): the project filter is added here, below any
    /// user query, and never taken from it.
    pub(crate) fn scoped(&self, project_id: &str, query: &nexuslog_query::Query, from: i64, to: i64) -> Value {
        json!({ "bool": { "filter": [
            { "term": { "project_id": project_id } },
            { "range": { "timestamp_us": { "gte": from, "lt": to } } },
            compile(query),
        ] } })
    }

    /// Runs a search body over the project's daily indices.
    pub(crate) async fn search_body(&self, project_id: &str, body: Value) -> Result<Value, LogStoreError> {
        let pattern = self.project_pattern(project_id);
        let resp = self
            .client
            .search(SearchParts::Index(&[&pattern]))
            .allow_no_indices(true)
            .ignore_unavailable(true)
            .body(body)
            .send()
            .await
            .map_err(unavailable)?;
        json_of(resp).await
    }
}

/// How OpenSearch holds what aggregations read. Time buckets come from a `date_histogram` on
/// `@timestamp` (keys in milliseconds): OpenSearch answers it several times faster than a
/// numeric `histogram` on `timestamp_us` (measured on 10 M events: ~5 ms against ~100 ms).
const OPENSEARCH_LAYOUT: Layout = Layout {
    typed: opensearch_fields,
    numeric: |f| format!("{NUMBER_FIELDS}.{}", extracted_name(f)),
    histogram: |interval_micros| {
        json!({ "date_histogram": { "field": "@timestamp", "fixed_interval": format!("{}ms", interval_micros / 1000), "min_doc_count": 1 } })
    },
    histogram_key_micros: 1000,
};

fn extracted_name(f: &FieldRef) -> String {
    match f {
        FieldRef::Extracted(n) => n.clone(),
        other => other.name(),
    }
}

/// Where OpenSearch keeps a field's values for aggregations: extracted values in one object per
/// type (numbers merged in `fields_num`, so 2 and 2.0 are one value).
fn opensearch_fields(f: &FieldRef) -> TypedFields {
    match f {
        FieldRef::Extracted(n) => {
            vec![(format!("{STRING_FIELDS}.{n}"), false), (format!("{NUMBER_FIELDS}.{n}"), false), (format!("{BOOL_FIELDS}.{n}"), true)]
        }
        FieldRef::Timestamp => vec![("timestamp_us".into(), false)],
        other => vec![(other.name(), false)],
    }
}

/// Writes the document OpenSearch indexes for `r`: the shared document (`to_document`'s shape)
/// plus what only searching needs, the message's terms (`MESSAGE_TERMS`) and every numeric
/// value as a double (`NUMBER_FIELDS`), which `_source` leaves out. Written straight from the
/// record: building it as a value tree first (a map entry and a string per value) took the
/// sink from 8 to 10–14 CPU-s per million events.
fn write_search_document(out: &mut Vec<u8>, r: &LogRecord) -> serde_json::Result<()> {
    /// Numeric extracted values as doubles.
    struct Numbers<'a>(&'a BTreeMap<String, nexuslog_schemas::FieldValue>);
    impl serde::Serialize for Numbers<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(self.0.iter().filter_map(|(k, v)| nexuslog_query::numeric_value(v).map(|x| (k, x))))
        }
    }
    // The names are `STRING_FIELDS` … `BOOL_FIELDS`, `MESSAGE_TERMS` and `NUMBER_FIELDS` (serde
    // takes literals only; the test below holds them to `to_document`).
    #[derive(serde::Serialize)]
    struct Indexed<'a> {
        id: &'a str,
        id_rank: i64,
        project_id: &'a str,
        #[serde(rename = "@timestamp")]
        at_timestamp: String,
        timestamp_us: i64,
        timestamp_source: &'static str,
        received_at_us: i64,
        level: &'static str,
        message: &'a str,
        host: Option<&'a str>,
        service: Option<&'a str>,
        source: &'static str,
        parse_status: &'static str,
        parse_errors: &'a [String],
        trace_id: Option<&'a str>,
        span_id: Option<&'a str>,
        fields: Typed<'a>,
        fields_long: Typed<'a>,
        fields_double: Typed<'a>,
        fields_bool: Typed<'a>,
        message_terms: String,
        fields_num: Numbers<'a>,
    }
    let typed = |object| Typed::new(&r.fields, object);
    let doc = Indexed {
        id: &r.id,
        id_rank: id_rank(&r.id),
        project_id: &r.project_id,
        at_timestamp: rfc3339_micros(r.timestamp),
        timestamp_us: r.timestamp,
        timestamp_source: r.timestamp_source.symbol(),
        received_at_us: r.received_at,
        level: r.level.symbol(),
        message: &r.message,
        host: r.host.as_deref(),
        service: r.service.as_deref(),
        source: r.source.symbol(),
        parse_status: r.parse_status.symbol(),
        parse_errors: &r.parse_errors,
        trace_id: r.trace_id.as_deref(),
        span_id: r.span_id.as_deref(),
        fields: typed(STRING_FIELDS),
        fields_long: typed(LONG_FIELDS),
        fields_double: typed(DOUBLE_FIELDS),
        fields_bool: typed(BOOL_FIELDS),
        message_terms: nexuslog_query::tokenize::joined_terms(&r.message),
        fields_num: Numbers(&r.fields),
    };
    serde_json::to_writer(out, &doc)
}

/// The field type of a mapping type. `text`, `date`, `float` and `integer` only appear in indices
/// from before typed objects (dynamic mapping of `fields`); their values were strings and numbers.
fn field_type_of_mapping(t: &str) -> Option<FieldType> {
    match t {
        "keyword" | "text" | "date" | "date_nanos" => Some(FieldType::String),
        "long" | "integer" | "short" | "byte" => Some(FieldType::Long),
        "double" | "float" | "half_float" | "scaled_float" => Some(FieldType::Double),
        "boolean" => Some(FieldType::Bool),
        _ => None,
    }
}

/// Adds the mapped fields under `properties` to `out`, with their dotted names.
fn collect_mapped_fields(properties: &Value, prefix: &str, out: &mut BTreeMap<String, BTreeSet<FieldType>>) {
    let Some(properties) = properties.as_object() else {
        return;
    };
    for (key, mapping) in properties {
        let name = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        if let Some(inner) = mapping.get("properties") {
            // OpenSearch maps a dotted name (`http.status`) as objects: walk down to the value.
            collect_mapped_fields(inner, &name, out);
        } else if let Some(t) = mapping.get("type").and_then(Value::as_str).and_then(field_type_of_mapping) {
            out.entry(name).or_default().insert(t);
        }
    }
}

/// `{"index":{"_index":…,"_id":…}}` and a newline, written without building a JSON map per
/// record.
fn action_line(out: &mut Vec<u8>, index: &str, id: &str) -> serde_json::Result<()> {
    out.extend_from_slice(br#"{"index":{"_index":"#);
    serde_json::to_writer(&mut *out, index)?;
    out.extend_from_slice(br#","_id":"#);
    serde_json::to_writer(&mut *out, id)?;
    out.extend_from_slice(b"}}\n");
    Ok(())
}

/// Counts a request's item answers into `outcome`: indexed, or a failure with its reason.
fn tally(answered: &[ItemAnswer], sent: &[BulkItem], outcome: &mut BulkOutcome) {
    for (item, sent) in answered.iter().zip(sent) {
        let status = item.index.as_ref().map_or(0, |r| r.status);
        match item.index.as_ref().and_then(|r| r.error.as_ref()) {
            None if (200..300).contains(&status) => outcome.indexed += 1,
            error => outcome.failures.push(classify_item(sent.id.clone(), status, error.unwrap_or(&Value::Null))),
        }
    }
}

fn classify_item(id: String, status: u16, error: &Value) -> ItemFailure {
    let reason = error.get("reason").and_then(Value::as_str).map_or_else(|| error.to_string(), str::to_owned);
    ItemFailure { id, status, reason, retryable: status == 429 || status >= 500 }
}

#[async_trait]
impl LogStore for OpenSearchLogStore {
    async fn prepare(&self) -> Result<(), LogStoreError> {
        let name = format!("{}template", self.prefix);
        let resp = self
            .client
            .indices()
            .put_index_template(IndicesPutIndexTemplateParts::Name(&name))
            .body(self.template())
            .send()
            .await
            .map_err(unavailable)?;
        json_of(resp).await.map(|_| ())
    }

    /// Sends the records in requests of at most `bulk_max_bytes`, a large write split into up
    /// to `bulk_concurrency` parts sent at once. A request answered 413 (too large for
    /// OpenSearch or a proxy in front of it) is halved and the halves sent, down to a single
    /// document, which is then reported as a failure that is not retryable (the caller
    /// dead-letters it with the reason); the rest of the batch is indexed. Any other failure of
    /// a request as a whole is returned: other requests may have been indexed, which a retry of
    /// the whole write overwrites by id.
    async fn index(&self, records: &[LogRecord]) -> Result<BulkOutcome, LogStoreError> {
        if records.is_empty() {
            return Ok(BulkOutcome::default());
        }
        let parts = self.bulk_concurrency.min(records.len() / MIN_PART).max(1);
        let per_part = records.len().div_ceil(parts);
        // Each part is serialized when its future first runs, so the second part is written
        // while the first one's request is already with OpenSearch, which would otherwise wait
        // for the whole batch to be serialized.
        let answers = futures::future::join_all(records.chunks(per_part).map(|part| async move {
            let started = std::time::Instant::now();
            let items = self.items(part)?;
            let serialized = started.elapsed();
            let outcome = self.send_part(&items).await;
            tracing::debug!(documents = part.len(), ?serialized, answered = ?started.elapsed(), "bulk part");
            outcome
        }))
        .await;
        let mut outcome = BulkOutcome::default();
        for answer in answers {
            // A part that failed as a whole fails the write: the parts that went through are
            // overwritten by id when the caller writes again.
            let part = answer?;
            outcome.indexed += part.indexed;
            outcome.failures.extend(part.failures);
        }
        Ok(outcome)
    }

    async fn refresh(&self) -> Result<(), LogStoreError> {
        let pattern = format!("{}*", self.prefix);
        let resp = self
            .client
            .indices()
            .refresh(IndicesRefreshParts::Index(&[&pattern]))
            .allow_no_indices(true)
            .send()
            .await
            .map_err(unavailable)?;
        json_of(resp).await.map(|_| ())
    }

    async fn search(&self, q: &SearchQuery) -> Result<SearchResult, LogStoreError> {
        let json = self.search_body(&q.project_id, self.search_request(q)).await?;
        let total = json.pointer("/hits/total/value").and_then(Value::as_u64).unwrap_or(0);
        let hits: Vec<LogRecord> = json
            .pointer("/hits/hits")
            .and_then(Value::as_array)
            .map(|hs| hs.iter().filter_map(|h| h.get("_source")).map(from_document).collect())
            .unwrap_or_default();
        Ok(SearchResult::new(total, hits, q.limit))
    }

    async fn aggregate(&self, q: &AggregateQuery) -> Result<Vec<(String, AggregationResult)>, LogStoreError> {
        let aggs = crate::aggs::request(q, &OPENSEARCH_LAYOUT);
        let body = json!({
            "size": 0,
            "track_total_hits": true,
            "query": self.scoped(&q.project_id, &q.query, q.from_micros, q.to_micros),
            "aggs": aggs,
        });
        let json = self.search_body(&q.project_id, body).await?;
        let total = json.pointer("/hits/total/value").and_then(Value::as_u64).unwrap_or(0);
        let answer = json.get("aggregations").cloned().unwrap_or(Value::Null);
        Ok(crate::aggs::results(q, &answer, total, &OPENSEARCH_LAYOUT))
    }

    /// From the mappings of the project's daily indices: the typed objects say the types, so
    /// the answer is exact per index, and retention (which drops whole indices) removes a type
    /// with its last index. A replay that changed a value's type leaves the old type mapped
    /// until that day's index is dropped.
    async fn fields(&self, project_id: &str) -> Result<Vec<FieldInfo>, LogStoreError> {
        let pattern = self.project_pattern(project_id);
        let resp = self
            .client
            .indices()
            .get_mapping(IndicesGetMappingParts::Index(&[&pattern]))
            .allow_no_indices(true)
            .ignore_unavailable(true)
            .send()
            .await
            .map_err(unavailable)?;
        let json = json_of(resp).await?;
        let own = format!("{}{}-", self.prefix, project_id.to_lowercase());
        let mut types = BTreeMap::new();
        for (index, body) in json.as_object().into_iter().flatten() {
            // `<project>-*` also matches the indices of a project named `<project>-<more>`.
            if !index.strip_prefix(&own).is_some_and(is_day_name) {
                continue;
            }
            for object in [STRING_FIELDS, LONG_FIELDS, DOUBLE_FIELDS, BOOL_FIELDS] {
                if let Some(properties) = body.pointer(&format!("/mappings/properties/{object}/properties")) {
                    collect_mapped_fields(properties, "", &mut types);
                }
            }
        }
        Ok(types.into_iter().map(|(name, types)| FieldInfo { name, types: types.into_iter().collect() }).collect())
    }

    async fn drop_older_than(&self, now_micros: i64, keep_days: i64) -> Result<usize, LogStoreError> {
        let (y, m, d) = crate::document::day_of(now_micros - keep_days * 86_400_000_000);
        let cutoff = format!("{y:04}.{m:02}.{d:02}");
        let pattern = format!("{}*", self.prefix);
        let resp = self
            .client
            .cat()
            .indices(opensearch::cat::CatIndicesParts::Index(&[&pattern]))
            .format("json")
            .h(&["index"])
            .send()
            .await
            .map_err(unavailable)?;
        let listed = json_of(resp).await?;
        // Index names end in `-yyyy.mm.dd`; text order is date order for four-digit years.
        let old: Vec<String> = listed
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i.get("index").and_then(Value::as_str))
            .filter(|name| name.rsplit_once('-').is_some_and(|(_, day)| day.len() == 10 && day < cutoff.as_str()))
            .map(str::to_owned)
            .collect();
        for chunk in old.chunks(50) {
            let names: Vec<&str> = chunk.iter().map(String::as_str).collect();
            let resp =
                self.client.indices().delete(opensearch::indices::IndicesDeleteParts::Index(&names)).send().await.map_err(unavailable)?;
            json_of(resp).await?;
        }
        Ok(old.len())
    }

    async fn health(&self) -> Result<(), LogStoreError> {
        let resp = self.client.cluster().health(opensearch::cluster::ClusterHealthParts::None).send().await.map_err(unavailable)?;
        let json = json_of(resp).await?;
        match json.get("status").and_then(Value::as_str) {
            Some("green" | "yellow") => Ok(()),
            other => Err(LogStoreError::Unavailable(format!("cluster status {other:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use nexuslog_schemas::FieldValue;

    use super::*;
    use crate::document::to_document;

    /// The document written straight from the record is the record's document tree (as every
    /// store shapes it) plus the message's terms and the numeric values as doubles.
    #[test]
    fn the_written_document_is_the_document_tree_plus_terms_and_numbers() {
        let mut full = LogRecord {
            id: "0193a5b2-7c1d-7e3f-8a9b-0c1d2e3f4a5b".into(),
            project_id: "p".into(),
            timestamp: 1_700_000_000_123_456,
            timestamp_source: nexuslog_schemas::TimestampSource::Event,
            received_at: 1_700_000_001_000_000,
            level: nexuslog_schemas::Level::Warn,
            message: "GET /api/v1/users 503 in \"12 ms\"".into(),
            host: Some("web-1".into()),
            service: Some("checkout".into()),
            source: nexuslog_schemas::SourceKind::Http,
            fields: BTreeMap::new(),
            parse_status: nexuslog_schemas::ParseStatus::Partial,
            parse_errors: vec!["grok: no match".into()],
            trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
            span_id: Some("00f067aa0ba902b7".into()),
        };
        full.fields = BTreeMap::from([
            ("status".into(), FieldValue::Long(503)),
            ("ratio".into(), FieldValue::Double(0.5)),
            ("whole".into(), FieldValue::Double(2.0)),
            ("nan".into(), FieldValue::Double(f64::NAN)),
            ("cached".into(), FieldValue::Bool(false)),
            ("user".into(), FieldValue::String("u-\"1\"\n".into())),
            ("gone".into(), FieldValue::Null),
        ]);
        let mut sparse = full.clone();
        (sparse.host, sparse.service, sparse.trace_id, sparse.span_id) = (None, None, None, None);
        sparse.fields.clear();
        sparse.parse_errors.clear();
        for r in [full, sparse] {
            let mut expected = to_document(&r);
            expected[MESSAGE_TERMS] = Value::String(nexuslog_query::tokenize::joined_terms(&r.message));
            let numbers: serde_json::Map<String, Value> = r.fields.iter().filter_map(|(k, v)| nexuslog_query::numeric_value(v).map(|x| (k.clone(), json!(x)))).collect();
            expected[NUMBER_FIELDS] = Value::Object(numbers);
            let written: Value = serde_json::from_str(&OpenSearchLogStore::document(&r)).expect("JSON");
            assert_eq!(written, expected);
        }
    }

    #[test]
    fn action_lines_are_the_json_of_the_action() {
        for (index, id) in [("logs-p-2026.12.07", "0193a5b2-7c1d-7e3f-8a9b-0c1d2e3f4a5b"), ("logs-\"q\"-2026.12.07", "id\\with\nodd\u{1}bytes")] {
            let mut line = Vec::new();
            action_line(&mut line, index, id).expect("written");
            assert_eq!(line.iter().position(|b| *b == b'\n'), Some(line.len() - 1), "one line");
            let read: Value = serde_json::from_slice(&line).expect("json");
            assert_eq!(read, json!({ "index": { "_index": index, "_id": id } }));
        }
    }

    #[test]
    fn bulk_answers_are_read_item_by_item() {
        let answer = r#"{"took":30,"errors":true,"items":[
            {"index":{"_index":"logs-p-2026.12.07","_id":"a","_version":1,"result":"created","_shards":{"total":1,"successful":1,"failed":0},"_seq_no":0,"_primary_term":1,"status":201}},
            {"index":{"_index":"logs-p-2026.12.07","_id":"b","status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [fields_long.n]"}}},
            {"index":{"_index":"logs-p-2026.12.07","_id":"c","status":429,"error":{"type":"es_rejected_execution_exception","reason":"rejected execution"}}},
            {"index":{"_index":"logs-p-2026.12.07","_id":"d","status":200,"result":"updated"}}
        ]}"#;
        let answered = serde_json::from_str::<BulkResponse>(answer).expect("a bulk answer").items;
        let mut outcome = BulkOutcome::default();
        tally(&answered, &items(&[1, 1, 1, 1]), &mut outcome);
        assert_eq!(outcome.indexed, 2);
        let failures: Vec<(&str, u16, &str, bool)> = outcome.failures.iter().map(|f| (f.id.as_str(), f.status, f.reason.as_str(), f.retryable)).collect();
        assert_eq!(failures, [("1", 400, "failed to parse field [fields_long.n]", false), ("2", 429, "rejected execution", true)]);
    }

    fn items(sizes: &[usize]) -> Vec<BulkItem> {
        sizes.iter().enumerate().map(|(i, &n)| BulkItem { id: i.to_string(), ndjson: vec![b'x'; n] }).collect()
    }

    #[test]
    fn requests_stay_within_the_byte_bound_and_a_larger_document_goes_alone() {
        let all = items(&[40, 40, 40, 150, 10, 90, 5]);
        let sizes: Vec<Vec<usize>> = chunks_by_bytes(&all, 100).iter().map(|c| c.iter().map(|i| i.ndjson.len()).collect()).collect();
        assert_eq!(sizes, vec![vec![40, 40], vec![40], vec![150], vec![10, 90], vec![5]]);
        assert!(chunks_by_bytes(&[], 100).is_empty());
    }

    #[test]
    fn error_bodies_are_cut_to_an_excerpt() {
        assert_eq!(excerpt("  "), "(empty body)");
        assert_eq!(excerpt("<html>denied</html>"), "<html>denied</html>");
        assert_eq!(excerpt(&"é".repeat(1000)).chars().count(), ERROR_BODY_EXCERPT + 1);
    }
}
