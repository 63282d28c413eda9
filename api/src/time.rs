//! Time bounds of search and aggregation requests: `from` and `to` in any form
//! `nexuslog_query::time::parse_time` reads (RFC 3339, epoch ms, date math such as `now-1d/d`).

use crate::ApiError;

pub use nexuslog_query::time::parse_time;

/// Default start of a range: the last 15 minutes, as in Kibana and Grafana.
const DEFAULT_FROM: &str = "now-15m";
/// An open end reaches a minute past now, so records stamped by a slightly fast producer
/// clock show up.
const OPEN_END_MARGIN: i64 = 60_000_000;

/// `[from, to)` in microseconds from the request's `from` and `to`.
///
/// # Errors
/// A 400 naming the bad bound, or when `from` is not before `to`.
pub(crate) fn range(from: Option<&str>, to: Option<&str>) -> Result<(i64, i64), ApiError> {
    let now = nexuslog_common::now_micros();
    let from = parse_time(from.unwrap_or(DEFAULT_FROM), now).map_err(|e| ApiError::BadRequest(format!("from: {e}")))?;
    let to = match to {
        Some(t) => parse_time(t, now).map_err(|e| ApiError::BadRequest(format!("to: {e}")))?,
        None => now + OPEN_END_MARGIN,
    };
    if from >= to {
        return Err(ApiError::BadRequest("`from` must be before `to`".into()));
    }
    Ok((from, to))
}
