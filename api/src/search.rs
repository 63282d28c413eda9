//! `GET /v1/search?q=&from=&to=&limit=`.

use std::sync::Arc;

use axum::extract::State;
use axum::{Extension, Json};
use nexuslog_logstore::{rfc3339_micros, SearchQuery};
use nexuslog_schemas::LogRecord;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::authz::Caller;
use crate::extract::QueryParams;
use crate::time::parse_time;
use crate::{Api, ApiError};

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 10_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchParams {
    q: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
    /// The project, for users on `/v1/search` (keys imply theirs; the path names it elsewhere).
    /// Read by the authorization layer; declared so that unknown parameters can be refused.
    #[allow(dead_code)]
    project: Option<String>,
}

/// Splits `q` into full text and `name:value` filters.
pub(crate) fn parse_q(q: &str) -> (Option<String>, Vec<(String, String)>) {
    let mut text = Vec::new();
    let mut filters = Vec::new();
    for token in q.split_whitespace() {
        match token.split_once(':') {
            Some((name, value))
                if !name.is_empty()
                    && !value.is_empty()
                    && !value.starts_with('/')
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '@' | '-')) =>
            {
                filters.push((name.to_owned(), value.trim_matches('"').to_owned()));
            }
            _ => text.push(token),
        }
    }
    ((!text.is_empty()).then(|| text.join(" ")), filters)
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

pub(crate) async fn search(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    QueryParams(p): QueryParams<SearchParams>,
) -> Result<Json<Value>, ApiError> {
    // The project was established (and access checked) by the authorization layer.
    let project_id = caller.project()?.id.clone();
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
    let (text, filters) = parse_q(p.q.as_deref().unwrap_or_default());
    let after = p.cursor.as_deref().map(parse_cursor).transpose()?;
    let query = SearchQuery { project_id, text, filters, after, from_micros: from, to_micros: to, limit };
    let result = api.store.search(&query).await?;
    let hits: Vec<Value> = result.hits.iter().map(record_json).collect();
    Ok(Json(json!({ "total": result.total, "hits": hits, "next_cursor": result.next.as_ref().map(cursor_text) })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q_splits_text_and_filters() {
        assert_eq!(parse_q(""), (None, vec![]));
        assert_eq!(
            parse_q("payment failed level:error run:abc-1 http://x"),
            (Some("payment failed http://x".into()), vec![("level".into(), "error".into()), ("run".into(), "abc-1".into())])
        );
    }

    #[test]
    fn cursors_roundtrip() {
        let c = (1_700_000_000_000_000, "01a2-b3_c".to_owned());
        assert_eq!(parse_cursor(&cursor_text(&c)).expect("valid"), c);
        assert!(parse_cursor("garbage").is_err());
    }
}
