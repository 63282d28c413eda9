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
use opensearch::auth::Credentials;
use opensearch::http::request::JsonBody;
use opensearch::http::transport::{SingleNodeConnectionPool, TransportBuilder};
use opensearch::http::Url;
use opensearch::indices::{IndicesGetMappingParts, IndicesPutIndexTemplateParts, IndicesRefreshParts};
use opensearch::{BulkParts, OpenSearch, SearchParts};
use serde_json::{json, Value};

use crate::document::{
    from_document, id_rank, index_name, is_day_name, rfc3339_micros, to_document, BOOL_FIELDS, DOUBLE_FIELDS, LONG_FIELDS,
    STRING_FIELDS,
};
use crate::{
    filter_target, BulkOutcome, FieldInfo, FieldType, FilterTarget, ItemFailure, LogStore, LogStoreError, SearchQuery,
    SearchResult,
};

/// Connection settings for [`OpenSearchLogStore`].
#[derive(Debug, Clone)]
pub struct OpenSearchConfig {
    pub url: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Prefix of index and template names.
    pub index_prefix: String,
}

/// OpenSearch as the log store.
#[derive(Debug, Clone)]
pub struct OpenSearchLogStore {
    client: OpenSearch,
    prefix: String,
}

fn unavailable(e: impl std::fmt::Display) -> LogStoreError {
    LogStoreError::Unavailable(e.to_string())
}

async fn json_of(resp: opensearch::http::response::Response) -> Result<Value, LogStoreError> {
    let status = resp.status_code();
    let body: Value = resp.json().await.map_err(unavailable)?;
    if status.is_server_error() || status.as_u16() == 429 {
        return Err(LogStoreError::Unavailable(format!("{status}: {body}")));
    }
    if status.is_client_error() {
        return Err(LogStoreError::Rejected(format!("{status}: {body}")));
    }
    Ok(body)
}

impl OpenSearchLogStore {
    /// # Errors
    /// When the URL does not parse.
    pub fn new(config: &OpenSearchConfig) -> Result<Self, LogStoreError> {
        let url = Url::parse(&config.url).map_err(|e| LogStoreError::Config(format!("url {:?}: {e}", config.url)))?;
        let mut builder = TransportBuilder::new(SingleNodeConnectionPool::new(url));
        if let Some(user) = &config.username {
            builder = builder.auth(Credentials::Basic(user.clone(), config.password.clone().unwrap_or_default()));
        }
        let transport = builder.build().map_err(|e| LogStoreError::Config(e.to_string()))?;
        Ok(Self { client: OpenSearch::new(transport), prefix: config.index_prefix.clone() })
    }

    fn template(&self) -> Value {
        // Every typed object gets a template per JSON number kind, so its mapping type is fixed
        // by the object, never by the first value (`2` in `fields_double` is still a double).
        // Templates name `match_mapping_type`: without it they would also match the objects a
        // dotted name creates (`fields_long.http` for `http.status`) and map them as numbers.
        // `date_detection` is off: a date-like string would otherwise map `fields.<name>` as a
        // date and refuse the next non-date string of that field.
        let typed = |name: &str, path: &str, json_type: &str, mapping: Value| {
            json!({ name: { "path_match": format!("{path}.*"), "match_mapping_type": json_type, "mapping": mapping } })
        };
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
                    ],
                    "properties": {
                        "id": { "type": "keyword" },
                        "id_rank": { "type": "long" },
                        "project_id": { "type": "keyword" },
                        "@timestamp": { "type": "date_nanos" },
                        "timestamp_us": { "type": "long" },
                        "timestamp_source": { "type": "keyword" },
                        "received_at_us": { "type": "long" },
                        "level": { "type": "keyword" },
                        "message": { "type": "text" },
                        "host": { "type": "keyword" },
                        "service": { "type": "keyword" },
                        "source": { "type": "keyword" },
                        STRING_FIELDS: { "type": "object", "dynamic": true },
                        LONG_FIELDS: { "type": "object", "dynamic": true },
                        DOUBLE_FIELDS: { "type": "object", "dynamic": true },
                        BOOL_FIELDS: { "type": "object", "dynamic": true },
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
}

/// A filter on an extracted field: the value as a string, and as each other type it parses as.
/// A term query never carries a value its field cannot parse (OpenSearch answers 400 for
/// `"abc"` on a long), and a path no record used simply matches nothing.
fn extracted_filter(name: &str, value: &str) -> Value {
    // `match` on a keyword is an exact term; `lenient` keeps indices from before typed objects,
    // where `fields.<name>` may be numeric, from failing the search on a non-numeric value.
    let mut should = vec![json!({ "match": { format!("{STRING_FIELDS}.{name}"): { "query": value, "lenient": true } } })];
    let number = value.parse::<f64>().ok().filter(|x| x.is_finite());
    // A whole number written as `200.0` equals the long 200, as it does in Tantivy, which
    // indexes whole doubles as integers.
    let long = value.parse::<i64>().ok().or_else(|| number.and_then(whole_i64));
    if let Some(i) = long {
        should.push(json!({ "term": { format!("{LONG_FIELDS}.{name}"): i } }));
    }
    if let Some(x) = number {
        should.push(json!({ "term": { format!("{DOUBLE_FIELDS}.{name}"): x } }));
    }
    if let Ok(b) = value.parse::<bool>() {
        should.push(json!({ "term": { format!("{BOOL_FIELDS}.{name}"): b } }));
    }
    json!({ "bool": { "should": should, "minimum_should_match": 1 } })
}

/// `x` as an i64 when it is a whole number in range.
fn whole_i64(x: f64) -> Option<i64> {
    // -2^63 and 2^63 are exact doubles; i64::MAX is not (it rounds up to 2^63).
    (x.fract() == 0.0 && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&x)).then_some(x as i64)
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
    let Some(properties) = properties.as_object() else { return };
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

    async fn index(&self, records: &[LogRecord]) -> Result<BulkOutcome, LogStoreError> {
        if records.is_empty() {
            return Ok(BulkOutcome::default());
        }
        let mut body: Vec<JsonBody<Value>> = Vec::with_capacity(records.len() * 2);
        for r in records {
            let index = index_name(&self.prefix, &r.project_id, r.timestamp);
            body.push(json!({ "index": { "_index": index, "_id": r.id } }).into());
            body.push(to_document(r).into());
        }
        let resp = self.client.bulk(BulkParts::None).body(body).send().await.map_err(unavailable)?;
        let json = json_of(resp).await?;
        let mut outcome = BulkOutcome::default();
        let items = json.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
        for (item, record) in items.iter().zip(records) {
            let result = item.get("index").unwrap_or(&Value::Null);
            let status = result.get("status").and_then(Value::as_u64).unwrap_or(0) as u16;
            match result.get("error") {
                None if (200..300).contains(&status) => outcome.indexed += 1,
                error => outcome.failures.push(classify_item(record.id.clone(), status, error.unwrap_or(&Value::Null))),
            }
        }
        if items.len() != records.len() {
            return Err(LogStoreError::Unavailable(format!("bulk answered {} items for {} documents", items.len(), records.len())));
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
        let mut must = vec![
            // The project filter is added here, below any user query, and never taken from it.
            json!({ "term": { "project_id": q.project_id } }),
            json!({ "range": { "@timestamp": { "gte": rfc3339_micros(q.from_micros), "lt": rfc3339_micros(q.to_micros) } } }),
        ];
        if let Some(text) = q.text.as_deref().filter(|t| !t.trim().is_empty()) {
            must.push(json!({ "simple_query_string": { "query": text, "fields": ["message"], "default_operator": "and" } }));
        }
        for (name, value) in &q.filters {
            must.push(match filter_target(name, value) {
                FilterTarget::Standard { field, value } => json!({ "term": { field: value } }),
                FilterTarget::Extracted { name, value } => extracted_filter(&name, &value),
            });
        }
        let mut body = json!({
            "size": q.limit,
            "track_total_hits": true,
            "query": { "bool": { "filter": must } },
            "sort": [ { "timestamp_us": "desc" }, { "id_rank": "desc" } ],
        });
        if let Some((ts, id)) = &q.after {
            body["search_after"] = json!([ts, id_rank(id)]);
        }
        let pattern = self.project_pattern(&q.project_id);
        let resp = self
            .client
            .search(SearchParts::Index(&[&pattern]))
            .allow_no_indices(true)
            .ignore_unavailable(true)
            .body(body)
            .send()
            .await
            .map_err(unavailable)?;
        let json = json_of(resp).await?;
        let total = json.pointer("/hits/total/value").and_then(Value::as_u64).unwrap_or(0);
        let hits: Vec<LogRecord> = json
            .pointer("/hits/hits")
            .and_then(Value::as_array)
            .map(|hs| hs.iter().filter_map(|h| h.get("_source")).map(from_document).collect())
            .unwrap_or_default();
        let next = (hits.len() == q.limit).then(|| hits.last().map(|h| (h.timestamp, h.id.clone()))).flatten();
        Ok(SearchResult { total, hits, next })
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
            let resp = self.client.indices().delete(opensearch::indices::IndicesDeleteParts::Index(&names)).send().await.map_err(unavailable)?;
            json_of(resp).await?;
        }
        Ok(old.len())
    }

    async fn health(&self) -> Result<(), LogStoreError> {
        let resp = self
            .client
            .cluster()
            .health(opensearch::cluster::ClusterHealthParts::None)
            .send()
            .await
            .map_err(unavailable)?;
        let json = json_of(resp).await?;
        match json.get("status").and_then(Value::as_str) {
            Some("green" | "yellow") => Ok(()),
            other => Err(LogStoreError::Unavailable(format!("cluster status {other:?}"))),
        }
    }
}

