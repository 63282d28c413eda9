//! Splunk HTTP Event Collector: `POST /services/collector` (and `/event`, `/event/1.0`) with
//! one or more JSON events one after another, `POST /services/collector/raw` with lines of
//! text, `GET /services/collector/health`. `Authorization: Splunk <key>` (or the usual NexusLog
//! headers); answers and error codes as HEC's (`{"text":"Success","code":0}`).
//!
//! An event's `event` (text, or an object whose entries become fields) is the message, `time`
//! (epoch seconds, fractional) the event time, `host` the host; `source`, `sourcetype` and
//! `index` are kept as `splunk.source`, `splunk.sourcetype`, `splunk.index`, and `fields` as
//! fields. As in Splunk, the events before a malformed one are written and the answer names the
//! malformed one (`invalid-event-number`); it and those after it are dead-lettered.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, SecondsFormat};
use nexuslog_metastore::keys::KeyError;
use nexuslog_schemas::SourceKind;
use serde_json::{json, Map, Value};

use crate::body::LineError;
use crate::error::GatewayError;
use crate::http::{admit, credentials, fresh_events, keep_refused, take_quota, write, Admitted, Gateway};

/// The HEC routes.
pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .route("/services/collector", post(events))
        .route("/services/collector/event", post(events))
        .route("/services/collector/event/1.0", post(events))
        .route("/services/collector/raw", post(raw))
        .route("/services/collector/raw/1.0", post(raw))
        .route("/services/collector/health", get(health))
        .route("/services/collector/health/1.0", get(health))
        .with_state(gateway)
}

async fn health() -> Response {
    hec(StatusCode::OK, 17, "HEC is healthy")
}

fn hec(status: StatusCode, code: u32, text: &str) -> Response {
    (status, Json(json!({ "text": text, "code": code }))).into_response()
}

/// A gateway error in HEC's words (its clients read `code`).
fn refusal(e: GatewayError) -> Response {
    let (status, code, text): (_, u32, Cow<'_, str>) = match &e {
        GatewayError::Unauthorized(KeyError::Missing) => (StatusCode::UNAUTHORIZED, 2, "Token is required".into()),
        GatewayError::Unauthorized(KeyError::Store(_)) => return e.into_response(),
        GatewayError::Unauthorized(_) => (StatusCode::FORBIDDEN, 4, "Invalid token".into()),
        GatewayError::BadRequest(reason) => (StatusCode::BAD_REQUEST, 6, format!("Invalid data format: {reason}").into()),
        // Busy, rate limits, sizes, timeouts: the status and Retry-After the gateway gives.
        _ => return e.into_response(),
    };
    hec(status, code, &text)
}

async fn events(State(gw): State<Arc<Gateway>>, ConnectInfo(peer): ConnectInfo<SocketAddr>, headers: HeaderMap, body: Body) -> Response {
    let result = async {
        let Admitted { key, body, _slot } = admit(&gw, &credentials(&headers), &headers, body).await?;
        let max_event = usize::try_from(gw.limits().max_event_bytes).unwrap_or(usize::MAX);
        let (payloads, invalid) = parse_events(&body, max_event);
        if payloads.is_empty() && invalid.is_none() {
            return Ok(hec(StatusCode::BAD_REQUEST, 5, "No data"));
        }
        take_quota(&gw, &key, payloads.len()).await?;
        write(&gw, SourceKind::Hec, "hec", peer, fresh_events(&key, payloads), nexuslog_common::now_micros()).await?;
        let Some(bad) = invalid else {
            return Ok(hec(StatusCode::OK, 0, "Success"));
        };
        keep_refused(&gw, &key, "hec", std::slice::from_ref(&bad)).await;
        let (code, text) = if bad.reason.contains("`event`") { (12, "Event field is required") } else { (6, "Invalid data format") };
        Ok((StatusCode::BAD_REQUEST, Json(json!({ "text": text, "code": code, "invalid-event-number": bad.line - 1 }))).into_response())
    }
    .await;
    result.unwrap_or_else(refusal)
}

async fn raw(
    State(gw): State<Arc<Gateway>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        let Admitted { key, body, _slot } = admit(&gw, &credentials(&headers), &headers, body).await?;
        let max_event = usize::try_from(gw.limits().max_event_bytes).unwrap_or(usize::MAX);
        let splunk: Vec<(String, String)> = ["host", "source", "sourcetype", "index"].iter().filter_map(|n| params.get(*n).map(|v| (format!("splunk.{n}"), v.clone()))).collect();
        let (lines, refused) = crate::body::split_events(&body, max_event).map_err(GatewayError::BadRequest)?;
        if lines.is_empty() && refused.is_empty() {
            return Ok(hec(StatusCode::BAD_REQUEST, 5, "No data"));
        }
        take_quota(&gw, &key, lines.len()).await?;
        let mut batch = fresh_events(&key, lines.into_iter().map(|l| l.bytes));
        for e in &mut batch {
            e.metadata.extend(splunk.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        write(&gw, SourceKind::Hec, "hec", peer, batch, nexuslog_common::now_micros()).await?;
        keep_refused(&gw, &key, "hec", &refused).await;
        Ok(hec(StatusCode::OK, 0, "Success"))
    }
    .await;
    result.unwrap_or_else(refusal)
}

/// The events of a HEC body, as NexusLog events, up to the first malformed one (returned with
/// the rest of the body, to be dead-lettered; its `line` is its 1-based position).
fn parse_events(body: &[u8], max_event: usize) -> (Vec<Vec<u8>>, Option<LineError>) {
    let mut out = Vec::new();
    let mut stream = serde_json::Deserializer::from_slice(body).into_iter::<Value>();
    loop {
        let start = stream.byte_offset();
        let problem = match stream.next() {
            None => return (out, None),
            Some(Ok(Value::Object(e))) => match to_event(e) {
                Ok(bytes) if bytes.len() <= max_event => {
                    out.push(bytes);
                    continue;
                }
                Ok(bytes) => format!("event of {} bytes exceeds the limit of {max_event} bytes", bytes.len()),
                Err(reason) => reason.to_owned(),
            },
            Some(Ok(_)) => "not a JSON object".to_owned(),
            Some(Err(e)) => format!("invalid JSON: {e}"),
        };
        let rest = &body[start..];
        let bad = LineError { line: out.len() + 1, reason: problem, original: rest[..rest.len().min(max_event)].to_vec() };
        return (out, Some(bad));
    }
}

/// One HEC event as the JSON object the normalizer reads.
fn to_event(mut hec: Map<String, Value>) -> Result<Vec<u8>, &'static str> {
    let mut out = Map::new();
    match hec.remove("event") {
        Some(Value::Object(fields)) => {
            let text = Value::Object(fields.clone()).to_string();
            out.extend(fields);
            out.entry("message").or_insert(Value::String(text));
        }
        Some(Value::String(s)) if !s.is_empty() => {
            out.insert("message".into(), Value::String(s));
        }
        Some(Value::Null) | None => return Err("the `event` field is missing"),
        Some(Value::String(_)) => return Err("the `event` field is empty"),
        Some(other) => {
            out.insert("message".into(), Value::String(other.to_string()));
        }
    }
    if let Some(Value::Object(fields)) = hec.remove("fields") {
        out.extend(fields);
    }
    for name in ["source", "sourcetype", "index"] {
        if let Some(v) = hec.remove(name) {
            out.insert(format!("splunk.{name}"), v);
        }
    }
    if let Some(host) = hec.remove("host") {
        out.insert("host".into(), host);
    }
    let seconds = match hec.remove("time") {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.parse::<f64>().ok(),
        _ => None,
    };
    if let Some(t) = seconds.and_then(|s| DateTime::from_timestamp_micros((s * 1e6).round() as i64)) {
        out.insert("@timestamp".into(), Value::String(t.to_rfc3339_opts(SecondsFormat::AutoSi, true)));
    }
    Ok(Value::Object(out).to_string().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(bytes: &[u8]) -> Value {
        serde_json::from_slice(bytes).expect("JSON")
    }

    #[test]
    fn concatenated_events_map_to_normalizer_fields() {
        let body = br#"{"time": 1764756000.25, "host": "web-1", "source": "app.log", "sourcetype": "_json", "index": "main", "event": "payment failed", "fields": {"order": 7}}
            {"time": "1764756001", "event": {"message": "structured", "user": "ann"}}{"event": {"user": "bob"}}"#;
        let (events, invalid) = parse_events(body, 10_000);
        assert!(invalid.is_none());
        assert_eq!(events.len(), 3);
        let first = parsed(&events[0]);
        assert_eq!(first["message"], "payment failed");
        assert_eq!(first["host"], "web-1");
        assert_eq!(first["splunk.sourcetype"], "_json");
        assert_eq!(first["splunk.index"], "main");
        assert_eq!(first["order"], 7);
        assert_eq!(first["@timestamp"], "2025-12-03T10:00:00.250Z");
        let second = parsed(&events[1]);
        assert_eq!(second["message"], "structured");
        assert_eq!(second["@timestamp"], "2025-12-03T10:00:01Z");
        assert!(parsed(&events[2])["message"].as_str().is_some_and(|m| m.contains("bob")));
    }

    #[test]
    fn the_first_malformed_event_ends_the_batch_and_is_reported() {
        let (events, invalid) = parse_events(br#"{"event":"a"}{"time":1}{"event":"c"}"#, 10_000);
        assert_eq!(events.len(), 1);
        let bad = invalid.expect("the second event has no `event`");
        assert_eq!(bad.line, 2);
        assert!(bad.reason.contains("`event`"));
        assert_eq!(bad.original, br#"{"time":1}{"event":"c"}"#, "it and the rest are kept for the dead letter");
        let (events, invalid) = parse_events(br#"{"event":"a"} {oops"#, 10_000);
        assert_eq!((events.len(), invalid.map(|b| b.line)), (1, Some(2)));
    }
}
