//! `GET /v1/search?q=&from=&to=&limit=&cursor=&sort=&highlight=`: the query language of
//! `nexuslog_query`, run by the log store within the caller's project.

use std::sync::Arc;

use axum::extract::State;
use axum::{Extension, Json};
use nexuslog_logstore::{rfc3339_micros, SearchQuery, SortOrder};
use nexuslog_query::Query;
use nexuslog_schemas::LogRecord;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::authz::Caller;
use crate::extract::QueryParams;
use crate::time::range;
use crate::{Api, ApiError};

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 10_000;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchParams {
    q: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
    /// `desc` (newest first, the default) or `asc`.
    sort: Option<String>,
    /// `true`: each hit carries the character spans of `message` its words matched.
    highlight: Option<bool>,
    /// The project, for users on `/v1/search` (keys imply theirs; the path names it elsewhere).
    /// Read by the authorization layer; declared so that unknown parameters can be refused.
    #[allow(dead_code)]
    project: Option<String>,
}

/// Parses `q` in the query language; a syntax error is a 400 with its position.
pub(crate) fn parse_q(q: Option<&str>) -> Result<Query, ApiError> {
    Ok(nexuslog_query::parse(q.unwrap_or_default())?)
}

fn cursor_text(after: &(i64, String)) -> String {
    format!("{}_{}", after.0, after.1)
}

fn parse_cursor(s: &str) -> Result<(i64, String), ApiError> {
    let bad = || ApiError::BadRequest("invalid cursor: pass next_cursor from a previous answer".into());
    let (ts, id) = s.split_once('_').ok_or_else(bad)?;
    Ok((ts.parse().map_err(|_| bad())?, id.to_owned()))
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

/// A search request's parameters, checked and resolved (date math against now) into what the
/// store runs.
fn search_query(project_id: String, p: &SearchParams) -> Result<SearchQuery, ApiError> {
    let (from, to) = range(p.from.as_deref(), p.to.as_deref())?;
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::BadRequest(format!("limit must be between 1 and {MAX_LIMIT}")));
    }
    let order = match p.sort.as_deref() {
        None | Some("desc") => SortOrder::NewestFirst,
        Some("asc") => SortOrder::OldestFirst,
        Some(other) => return Err(ApiError::BadRequest(format!("sort must be desc or asc, not {other:?}"))),
    };
    let query = parse_q(p.q.as_deref())?;
    let after = p.cursor.as_deref().map(parse_cursor).transpose()?;
    Ok(SearchQuery { project_id, query, after, from_micros: from, to_micros: to, limit, order })
}

/// Reads a `/v1/search` query string exactly as the handler does, without running the search:
/// for the fuzz target (`api/fuzz`). Never panics; a bad parameter is the handler's 400.
///
/// # Errors
/// What the handler would answer 400 with.
#[doc(hidden)]
pub fn check_search_query_string(query: &str) -> Result<(), ApiError> {
    let uri: axum::http::Uri = format!("/v1/search?{query}").parse().map_err(|_| ApiError::BadRequest("not a URI".into()))?;
    let axum::extract::Query(p) = axum::extract::Query::<SearchParams>::try_from_uri(&uri).map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let search = search_query("project".into(), &p)?;
    if search.from_micros >= search.to_micros || search.limit == 0 || search.limit > MAX_LIMIT {
        return Err(ApiError::Internal(format!("checked parameters out of range: {query:?}")));
    }
    Ok(())
}

pub(crate) async fn search(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    QueryParams(p): QueryParams<SearchParams>,
) -> Result<Json<Value>, ApiError> {
    // The project was established (and access checked) by the authorization layer.
    let search = search_query(caller.project()?.id.clone(), &p)?;
    let result = api.store.search(&search).await?;
    let hits: Vec<Value> = result
        .hits
        .iter()
        .map(|r| {
            let mut hit = record_json(r);
            if p.highlight == Some(true) {
                hit["highlight"] = json!({ "message": nexuslog_query::highlights(&search.query, &r.message) });
            }
            hit
        })
        .collect();
    Ok(Json(json!({
        "total": result.total,
        "total_relation": if result.total_is_lower_bound { "gte" } else { "eq" },
        "hits": hits,
        "next_cursor": result.next.as_ref().map(cursor_text),
        // The range searched, `now-…` resolved: what a client pairs with an aggregation.
        "from": rfc3339_micros(search.from_micros),
        "to": rfc3339_micros(search.to_micros),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q_is_parsed_or_refused_with_a_position() {
        assert!(matches!(parse_q(Some("payment failed level:error run:abc-1")), Ok(Query::And(parts)) if parts.len() == 4));
        match parse_q(Some("level:error OR")) {
            Err(ApiError::Query(e)) => assert_eq!(e.position, 14),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cursors_roundtrip() {
        let c = (1_700_000_000_000_000, "01a2-b3_c".to_owned());
        assert_eq!(parse_cursor(&cursor_text(&c)).expect("valid"), c);
        assert!(parse_cursor("garbage").is_err());
    }
}
