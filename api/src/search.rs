//! `GET /v1/search?q=&from=&to=&limit=`.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::Json;
use nexuslog_logstore::{rfc3339_micros, SearchQuery};
use nexuslog_metastore::keys::{self, Scope};
use nexuslog_schemas::LogRecord;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::time::parse_time;
use crate::{Api, ApiError};

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 10_000;

#[derive(Debug, Deserialize)]
pub(crate) struct SearchParams {
    q: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<usize>,
}

pub(crate) fn record_json(r: &LogRecord) -> Value {
    json!({
        "id": r.id,
        "timestamp": rfc3339_micros(r.timestamp),
        "timestamp_source": r.timestamp_source,
        "received_at": rfc3339_micros(r.received_at),
        "level": r.level,
        "message": r.message,
        "host": r.host,
        "service": r.service,
        "source": r.source,
        "fields": r.fields,
        "parse_status": r.parse_status,
        "parse_errors": r.parse_errors,
        "trace_id": r.trace_id,
        "span_id": r.span_id,
    })
}

pub(crate) async fn search(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    Query(p): Query<SearchParams>,
) -> Result<Json<Value>, ApiError> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let presented = keys::presented(get(header::AUTHORIZATION.as_str()), get("x-api-key"));
    let key = api.keys.verify(presented, Scope::Read).await.map_err(ApiError::Unauthorized)?;
    let now = nexuslog_common::now_micros();
    let from = parse_time(p.from.as_deref().unwrap_or("now-15m"), now).map_err(ApiError::BadRequest)?;
    // A tiny margin past "now" so records stamped by a slightly fast producer clock show up.
    let to = match p.to.as_deref() {
        Some(t) => parse_time(t, now).map_err(ApiError::BadRequest)?,
        None => now + 60_000_000,
    };
    if from >= to {
        return Err(ApiError::BadRequest("`from` must be before `to`".into()));
    }
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::BadRequest(format!("limit must be between 1 and {MAX_LIMIT}")));
    }
    let query = SearchQuery { project_id: key.project_id, text: p.q, from_micros: from, to_micros: to, limit };
    let result = api.store.search(&query).await?;
    let hits: Vec<Value> = result.hits.iter().map(record_json).collect();
    Ok(Json(json!({ "total": result.total, "hits": hits })))
}
