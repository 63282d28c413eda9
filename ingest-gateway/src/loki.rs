//! Loki push: `POST /loki/api/v1/push`, JSON (`{"streams":[{"stream":{labels},"values":
//! [["<ns>","line",{metadata}?]]}]}`, gzip allowed) or protobuf compressed with snappy (what
//! Promtail, Grafana Alloy and the Loki clients send by default).
//!
//! Each line is one event: the line is the message (a JSON line is parsed as any JSON event),
//! the stream's labels and the entry's structured metadata are fields, the entry's timestamp
//! is the event time. Answers 204, as Loki does; a malformed body is a 400 and nothing of it is
//! written.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use chrono::{DateTime, SecondsFormat};
use nexuslog_schemas::SourceKind;
use prost::Message as _;
use serde_json::{Map, Value};

use crate::body::LineError;
use crate::error::GatewayError;
use crate::http::{admit, credentials, fresh_events, keep_refused, take_quota, write, Admitted, Gateway};

/// Loki's push protocol (`pkg/push/push.proto`), the fields NexusLog reads.
mod proto {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct PushRequest {
        #[prost(message, repeated, tag = "1")]
        pub streams: Vec<Stream>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Stream {
        /// Prometheus form: `{app="web", env="prod"}`.
        #[prost(string, tag = "1")]
        pub labels: String,
        #[prost(message, repeated, tag = "2")]
        pub entries: Vec<Entry>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Entry {
        #[prost(message, optional, tag = "1")]
        pub timestamp: Option<Timestamp>,
        #[prost(string, tag = "2")]
        pub line: String,
        #[prost(message, repeated, tag = "3")]
        pub structured_metadata: Vec<LabelPair>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct LabelPair {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(string, tag = "2")]
        pub value: String,
    }

    /// `google.protobuf.Timestamp`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Timestamp {
        #[prost(int64, tag = "1")]
        pub seconds: i64,
        #[prost(int32, tag = "2")]
        pub nanos: i32,
    }
}

/// The Loki push route.
pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new().route("/loki/api/v1/push", post(push)).with_state(gateway)
}

/// One log line of a push, whatever the encoding.
struct Line {
    labels: Vec<(String, String)>,
    nanos: i64,
    line: String,
    metadata: Vec<(String, String)>,
}

async fn push(State(gw): State<Arc<Gateway>>, ConnectInfo(peer): ConnectInfo<SocketAddr>, headers: HeaderMap, body: Body) -> Response {
    let protobuf = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.contains("protobuf"));
    let result = async {
        let Admitted { key, body, _slot } = admit(&gw, &credentials(&headers), &headers, body).await?;
        let lines = if protobuf { decode_protobuf(&body)? } else { decode_json(&body)? };
        let max_event = usize::try_from(gw.limits().max_event_bytes).unwrap_or(usize::MAX);
        let (mut payloads, mut refused) = (Vec::with_capacity(lines.len()), Vec::new());
        for (i, line) in lines.into_iter().enumerate() {
            let bytes = to_event(line);
            if bytes.len() > max_event {
                refused.push(LineError { line: i + 1, reason: format!("line of {} bytes exceeds the limit of {max_event} bytes", bytes.len()), original: bytes[..max_event].to_vec() });
            } else {
                payloads.push(bytes);
            }
        }
        take_quota(&gw, &key, payloads.len()).await?;
        write(&gw, SourceKind::Loki, "loki", peer, fresh_events(&key, payloads), nexuslog_common::now_micros()).await?;
        keep_refused(&gw, &key, "loki", &refused).await;
        Ok::<_, GatewayError>(StatusCode::NO_CONTENT.into_response())
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

fn decode_protobuf(body: &[u8]) -> Result<Vec<Line>, GatewayError> {
    let raw = snap::raw::Decoder::new().decompress_vec(body).map_err(|e| GatewayError::BadRequest(format!("not a snappy-compressed Loki push: {e}")))?;
    let request = proto::PushRequest::decode(raw.as_slice()).map_err(|e| GatewayError::BadRequest(format!("not a Loki push request (protobuf): {e}")))?;
    let mut out = Vec::new();
    for stream in request.streams {
        let labels = parse_labels(&stream.labels).ok_or_else(|| GatewayError::BadRequest(format!("malformed stream labels {:?}", stream.labels)))?;
        for e in stream.entries {
            let nanos = e.timestamp.map_or(0, |t| t.seconds.saturating_mul(1_000_000_000).saturating_add(i64::from(t.nanos)));
            out.push(Line { labels: labels.clone(), nanos, line: e.line, metadata: e.structured_metadata.into_iter().map(|p| (p.name, p.value)).collect() });
        }
    }
    Ok(out)
}

fn decode_json(body: &[u8]) -> Result<Vec<Line>, GatewayError> {
    let bad = |why: &str| GatewayError::BadRequest(format!("not a Loki push request (JSON): {why}"));
    let request: Value = serde_json::from_slice(body).map_err(|e| bad(&e.to_string()))?;
    let streams = request.get("streams").and_then(Value::as_array).ok_or_else(|| bad("no `streams` array"))?;
    let mut out = Vec::new();
    for stream in streams {
        let labels: Vec<(String, String)> = stream
            .get("stream")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned))).collect())
            .unwrap_or_default();
        for value in stream.get("values").and_then(Value::as_array).ok_or_else(|| bad("a stream without `values`"))? {
            let entry = value.as_array().ok_or_else(|| bad("a value that is not [timestamp, line]"))?;
            let nanos = match entry.first() {
                Some(Value::String(s)) => s.parse::<i64>().map_err(|_| bad("a timestamp that is not nanoseconds"))?,
                Some(Value::Number(n)) => n.as_i64().ok_or_else(|| bad("a timestamp that is not nanoseconds"))?,
                _ => return Err(bad("a value without a timestamp")),
            };
            let line = entry.get(1).and_then(Value::as_str).ok_or_else(|| bad("a value without a line"))?.to_owned();
            let metadata = entry.get(2).and_then(Value::as_object).map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned))).collect()).unwrap_or_default();
            out.push(Line { labels: labels.clone(), nanos, line, metadata });
        }
    }
    Ok(out)
}

/// `{a="x", b="y \"q\""}` → pairs; `None` when malformed.
fn parse_labels(text: &str) -> Option<Vec<(String, String)>> {
    let inner = text.trim().strip_prefix('{')?.strip_suffix('}')?;
    let mut out = Vec::new();
    let mut rest = inner.trim_start();
    while !rest.is_empty() {
        let (name, after) = rest.split_once('=')?;
        let mut chars = after.trim_start().strip_prefix('"')?.char_indices();
        let mut value = String::new();
        let end = loop {
            match chars.next()? {
                (i, '"') => break i,
                (_, '\\') => value.push(chars.next()?.1),
                (_, c) => value.push(c),
            }
        };
        out.push((name.trim().to_owned(), value));
        let after_value = &after.trim_start()[1 + end + 1..];
        rest = after_value.trim_start().strip_prefix(',').unwrap_or(after_value).trim_start();
    }
    Some(out)
}

/// A line as the event the normalizer reads: a JSON object line keeps its keys; labels and
/// structured metadata are fields (the line's own keys win over labels).
fn to_event(l: Line) -> Vec<u8> {
    let mut event = Map::new();
    for (k, v) in l.labels.into_iter().chain(l.metadata) {
        event.insert(k, Value::String(v));
    }
    match serde_json::from_str::<Value>(&l.line) {
        Ok(Value::Object(own)) => event.extend(own),
        _ => {
            event.insert("message".into(), Value::String(l.line));
        }
    }
    if l.nanos > 0 {
        event.insert("@timestamp".into(), Value::String(DateTime::from_timestamp_nanos(l.nanos).to_rfc3339_opts(SecondsFormat::AutoSi, true)));
    }
    Value::Object(event).to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(lines: Vec<Line>) -> Vec<Value> {
        lines.into_iter().map(|l| serde_json::from_slice(&to_event(l)).expect("JSON")).collect()
    }

    #[test]
    fn json_push_lines_become_events() {
        let body = br#"{"streams":[{"stream":{"app":"web","env":"prod"},"values":[
            ["1764756000000000001","GET /cart 200"],
            ["1764756000500000000","{\"message\":\"json line\",\"user\":\"ann\"}",{"trace_id":"abc"}]]}]}"#;
        let e = events(decode_json(body).expect("decodes"));
        assert_eq!(e[0]["message"], "GET /cart 200");
        assert_eq!(e[0]["app"], "web");
        assert_eq!(e[0]["@timestamp"], "2025-12-03T10:00:00.000000001Z");
        assert_eq!(e[1]["message"], "json line");
        assert_eq!(e[1]["user"], "ann");
        assert_eq!(e[1]["trace_id"], "abc");
        assert!(decode_json(br#"{"streams":[{"stream":{},"values":[["x","y"]]}]}"#).is_err());
        assert!(decode_json(b"[]").is_err());
    }

    #[test]
    fn snappy_protobuf_push_decodes() {
        let request = proto::PushRequest {
            streams: vec![proto::Stream {
                labels: r#"{app="web", msg="say \"hi\"", env="prod"}"#.into(),
                entries: vec![proto::Entry {
                    timestamp: Some(proto::Timestamp { seconds: 1_764_756_000, nanos: 5 }),
                    line: "hello".into(),
                    structured_metadata: vec![proto::LabelPair { name: "pod".into(), value: "web-1".into() }],
                }],
            }],
        };
        let body = snap::raw::Encoder::new().compress_vec(&request.encode_to_vec()).expect("snappy");
        let e = events(decode_protobuf(&body).expect("decodes"));
        assert_eq!(e[0]["message"], "hello");
        assert_eq!(e[0]["msg"], "say \"hi\"");
        assert_eq!(e[0]["env"], "prod");
        assert_eq!(e[0]["pod"], "web-1");
        assert_eq!(e[0]["@timestamp"], "2025-12-03T10:00:00.000000005Z");
        assert!(decode_protobuf(b"not snappy").is_err());
    }

    #[test]
    fn label_sets_parse_or_are_refused() {
        assert_eq!(parse_labels("{}"), Some(vec![]));
        assert_eq!(parse_labels(r#"{a="1",b="x,y"}"#), Some(vec![("a".into(), "1".into()), ("b".into(), "x,y".into())]));
        assert_eq!(parse_labels(r#"{a=1}"#), None);
        assert_eq!(parse_labels(r#"{a="open"#), None);
        assert_eq!(parse_labels("no braces"), None);
    }
}
