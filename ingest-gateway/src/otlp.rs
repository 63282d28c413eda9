//! OTLP/HTTP logs: `POST /v1/logs`, protobuf (`application/x-protobuf`) or JSON
//! (`application/json`), gzip or zstd, as the OpenTelemetry SDKs' and Collector's `otlphttp`
//! exporters send them.
//!
//! Each log record becomes one event: a flat JSON object the normalizer reads like any other
//! (`service.name` → service, `host.name` → host, `trace_id`/`span_id` hex). Resource attributes
//! and the record's attributes keep their names as fields, the scope is `otel.scope.name` and
//! `otel.scope.version`, the severity text (or the number's range when the text is empty) is
//! the level, a string body is the message and a map body's entries are fields. Same guarantee
//! as `/v1/logs/bulk`: the answer comes once the bus acknowledged every accepted record; a
//! record that cannot be taken is dead-lettered and counted in the answer's `partial_success`.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use base64::Engine as _;
use chrono::{DateTime, Datelike as _, Timelike as _};
use nexuslog_schemas::SourceKind;
use opentelemetry_proto::tonic::collector::logs::v1::{ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use prost::Message as _;
use serde_json::Value;

use crate::body::LineError;
use crate::error::GatewayError;
use crate::http::{admit, credentials, fresh_events, keep_refused, take_quota, write, Admitted, Gateway};

/// The OTLP/HTTP logs route.
pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new().route("/v1/logs", post(export)).with_state(gateway)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Protobuf,
    Json,
}

async fn export(State(gw): State<Arc<Gateway>>, ConnectInfo(peer): ConnectInfo<SocketAddr>, headers: HeaderMap, body: Body) -> Response {
    let json = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.contains("json"));
    let format = if json { Format::Json } else { Format::Protobuf };
    match accept(&gw, peer, &headers, body, |bytes, max_event| records(format, bytes, max_event)).await {
        Ok(answer) => encode(format, &answer),
        Err(e) => e.into_response(),
    }
}

/// The export both transports share (OTLP/HTTP here, gRPC in `otlp_grpc`): admit the request,
/// read its records with `records`, write them and answer once the bus acknowledged them.
pub(crate) async fn accept(
    gw: &Gateway,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: Body,
    records: impl FnOnce(&[u8], usize) -> Result<Records, GatewayError>,
) -> Result<ExportLogsServiceResponse, GatewayError> {
    let Admitted { key, body, _slot } = admit(gw, &credentials(headers), headers, body).await?;
    let max_event = usize::try_from(gw.limits().max_event_bytes).unwrap_or(usize::MAX);
    let (payloads, refused) = records(&body, max_event)?;
    take_quota(gw, &key, payloads.len()).await?;
    write(gw, SourceKind::Otlp, "otlp", peer, fresh_events(&key, payloads), nexuslog_common::now_micros()).await?;
    keep_refused(gw, &key, "otlp", &refused).await;
    let partial_success = refused.first().map(|first| ExportLogsPartialSuccess {
        rejected_log_records: refused.len() as i64,
        error_message: format!("record {}: {}", first.line, first.reason),
    });
    Ok(ExportLogsServiceResponse { partial_success })
}

fn records(format: Format, body: &[u8], max_event: usize) -> Result<Records, GatewayError> {
    match format {
        Format::Protobuf => protobuf_records(body, max_event).map_err(|e| GatewayError::BadRequest(format!("not an OTLP logs request (protobuf): {e}"))),
        Format::Json => serde_json::from_slice(body)
            .map(|request| events(&request, max_event))
            .map_err(|e| GatewayError::BadRequest(format!("not an OTLP logs request (JSON): {e}"))),
    }
}

fn encode(format: Format, answer: &ExportLogsServiceResponse) -> Response {
    let (content_type, bytes) = match format {
        Format::Protobuf => ("application/x-protobuf", answer.encode_to_vec()),
        // Serializing plain generated structs cannot fail.
        Format::Json => ("application/json", serde_json::to_vec(answer).unwrap_or_default()),
    };
    let mut r = bytes.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// A request's records as event payloads, and the records refused.
pub(crate) type Records = (Vec<Vec<u8>>, Vec<LineError>);

/// The records of a protobuf request: read straight from the bytes when the request is of the
/// common shape (`otlp_wire`), else decoded the general way.
pub(crate) fn protobuf_records(message: &[u8], max_event: usize) -> Result<Records, prost::DecodeError> {
    if let Some(records) = crate::otlp_wire::events(message, max_event) {
        return Ok(records);
    }
    Ok(events(&ExportLogsServiceRequest::decode(message)?, max_event))
}

/// Every log record of the request as an event payload, and those refused (too large); a
/// record's "line" is its 1-based position in the request.
///
/// The JSON is written directly, resource and scope once per scope: a key written twice (a
/// record attribute naming a resource attribute, the record's own parts last) is read with the
/// last value winning, as the processor's JSON parser does.
pub(crate) fn events(request: &ExportLogsServiceRequest, max_event: usize) -> Records {
    let mut finished = Vec::new();
    for resource_logs in &request.resource_logs {
        let resource: &[KeyValue] = resource_logs.resource.as_ref().map_or(&[], |r| r.attributes.as_slice());
        for scope_logs in &resource_logs.scope_logs {
            let mut shared = Object::default();
            shared.attributes(resource);
            if let Some(scope) = &scope_logs.scope {
                shared.nonempty("otel.scope.name", &scope.name);
                shared.nonempty("otel.scope.version", &scope.version);
                shared.attributes(&scope.attributes);
            }
            for record in &scope_logs.log_records {
                let mut event = shared.clone();
                event.attributes(&record.attributes);
                event.record(record);
                finished.push(event.finish());
            }
        }
    }
    payloads(finished, max_event)
}

/// Payloads in request order, those over `max_event` refused with their position.
pub(crate) fn payloads(finished: impl IntoIterator<Item = Vec<u8>>, max_event: usize) -> Records {
    let (mut ok, mut refused) = (Vec::new(), Vec::new());
    for (i, bytes) in finished.into_iter().enumerate() {
        if bytes.len() > max_event {
            refused.push(LineError {
                line: i + 1,
                reason: format!("log record of {} bytes exceeds the limit of {max_event} bytes", bytes.len()),
                original: bytes[..max_event].to_vec(),
            });
        } else {
            ok.push(bytes);
        }
    }
    (ok, refused)
}

/// A JSON object being written: `{` then `"key":value` pairs.
#[derive(Clone, Default)]
pub(crate) struct Object(Vec<u8>);

impl Object {
    fn key(&mut self, key: &str) {
        self.0.push(if self.0.is_empty() { b'{' } else { b',' });
        // Writing a string into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.0, key);
        self.0.push(b':');
    }

    fn str(&mut self, key: &str, value: &str) {
        self.key(key);
        let _ = serde_json::to_writer(&mut self.0, value);
    }

    fn int(&mut self, key: &str, i: i64) {
        self.key(key);
        // Writing into a Vec cannot fail.
        let _ = write!(self.0, "{i}");
    }

    fn bool(&mut self, key: &str, b: bool) {
        self.key(key);
        self.0.extend_from_slice(if b { b"true" } else { b"false" });
    }

    fn null(&mut self, key: &str) {
        self.key(key);
        self.0.extend_from_slice(b"null");
    }

    fn value(&mut self, key: &str, value: &AnyValue) {
        match &value.value {
            Some(any_value::Value::StringValue(s)) => self.str(key, s),
            Some(any_value::Value::IntValue(i)) => self.int(key, *i),
            Some(any_value::Value::BoolValue(b)) => self.bool(key, *b),
            _ => {
                self.key(key);
                let _ = serde_json::to_writer(&mut self.0, &json(value));
            }
        }
    }

    /// Attributes as `otlp_wire` reads them, written as `attributes` writes decoded ones.
    pub(crate) fn borrowed_attributes(&mut self, attributes: &[crate::otlp_wire::Attribute<'_>]) {
        use crate::otlp_wire::Value as V;
        for a in attributes {
            match a.value {
                V::Str(s) => self.str(a.key, s),
                V::Int(i) => self.int(a.key, i),
                V::Bool(b) => self.bool(a.key, b),
                V::Missing => self.null(a.key),
            }
        }
    }

    pub(crate) fn nonempty(&mut self, key: &str, value: &str) {
        if !value.is_empty() {
            self.str(key, value);
        }
    }

    fn attributes(&mut self, attributes: &[KeyValue]) {
        for kv in attributes {
            match &kv.value {
                Some(v) => self.value(&kv.key, v),
                None => self.null(&kv.key),
            }
        }
    }

    /// The record's own parts: time, severity, body, ids; written after the attributes, so an
    /// attribute cannot stand in for them.
    fn record(&mut self, r: &LogRecord) {
        self.time_and_severity(r.time_unix_nano, r.observed_time_unix_nano, r.severity_number, &r.severity_text, &r.event_name);
        match r.body.as_ref().and_then(|b| b.value.as_ref()) {
            None => {}
            Some(any_value::Value::StringValue(s)) => self.str("message", s),
            Some(any_value::Value::KvlistValue(kv)) => {
                // A structured body: its entries are fields, and its text the message when
                // none of them is one.
                self.attributes(&kv.values);
                if !kv.values.iter().any(|e| e.key == "message") {
                    let text = r.body.as_ref().map(json).unwrap_or_default().to_string();
                    self.str("message", &text);
                }
            }
            Some(_) => {
                let text = r.body.as_ref().map(json).unwrap_or_default().to_string();
                self.str("message", &text);
            }
        }
        self.ids(&r.trace_id, &r.span_id);
    }

    /// `record` for a record as `otlp_wire` reads it (a string body or none).
    pub(crate) fn borrowed_record(&mut self, r: &crate::otlp_wire::Record<'_>) {
        self.time_and_severity(r.time_unix_nano, r.observed_time_unix_nano, r.severity_number, r.severity_text, r.event_name);
        if let Some(message) = r.body {
            self.str("message", message);
        }
        self.ids(r.trace_id, r.span_id);
    }

    fn time_and_severity(&mut self, time_unix_nano: u64, observed_time_unix_nano: u64, severity_number: i32, severity_text: &str, event_name: &str) {
        let nanos = if time_unix_nano > 0 { time_unix_nano } else { observed_time_unix_nano };
        if nanos > 0 {
            self.key("@timestamp");
            rfc3339(&mut self.0, i64::try_from(nanos).unwrap_or(i64::MAX));
        }
        match (severity_text, severity_name(severity_number)) {
            ("", Some(level)) => self.str("level", level),
            ("", None) => {}
            (text, _) => self.str("level", text),
        }
        if severity_number > 0 {
            self.int("otel.severity_number", i64::from(severity_number));
        }
        self.nonempty("otel.event_name", event_name);
    }

    fn ids(&mut self, trace_id: &[u8], span_id: &[u8]) {
        if !trace_id.is_empty() {
            self.str("trace_id", &hex(trace_id));
        }
        if !span_id.is_empty() {
            self.str("span_id", &hex(span_id));
        }
    }

    pub(crate) fn finish(mut self) -> Vec<u8> {
        if self.0.is_empty() {
            self.0.push(b'{');
        }
        self.0.push(b'}');
        self.0
    }
}

/// The severity number's range (OpenTelemetry log data model) as a level.
fn severity_name(n: i32) -> Option<&'static str> {
    Some(match n {
        1..=4 => "TRACE",
        5..=8 => "DEBUG",
        9..=12 => "INFO",
        13..=16 => "WARN",
        17..=20 => "ERROR",
        21..=24 => "FATAL",
        _ => return None,
    })
}

fn json(v: &AnyValue) -> Value {
    match &v.value {
        None => Value::Null,
        Some(any_value::Value::StringValue(s)) => Value::String(s.clone()),
        Some(any_value::Value::BoolValue(b)) => Value::Bool(*b),
        Some(any_value::Value::IntValue(i)) => Value::from(*i),
        Some(any_value::Value::DoubleValue(d)) => serde_json::Number::from_f64(*d).map_or_else(|| Value::String(d.to_string()), Value::Number),
        Some(any_value::Value::ArrayValue(a)) => Value::Array(a.values.iter().map(json).collect()),
        Some(any_value::Value::KvlistValue(kv)) => Value::Object(kv.values.iter().map(|kv| (kv.key.clone(), kv.value.as_ref().map_or(Value::Null, json))).collect()),
        Some(any_value::Value::BytesValue(b)) => Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
        #[allow(unreachable_patterns, reason = "profiling-only variants of newer protocol versions")]
        Some(_) => Value::Null,
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// `"2026-12-07T15:30:00.123Z"`, quoted, as chrono's `to_rfc3339_opts(AutoSi, true)` writes it
/// (a fraction of 0, 3, 6 or 9 digits), without its formatting machinery: it was the largest
/// cost of turning a record into an event.
fn rfc3339(out: &mut Vec<u8>, nanos: i64) {
    let t = DateTime::from_timestamp_nanos(nanos);
    let fraction = t.timestamp_subsec_nanos();
    // Writing into a Vec cannot fail.
    let _ = write!(out, "\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", t.year(), t.month(), t.day(), t.hour(), t.minute(), t.second());
    let _ = match fraction {
        0 => Ok(()),
        f if f % 1_000_000 == 0 => write!(out, ".{:03}", f / 1_000_000),
        f if f % 1_000 == 0 => write!(out, ".{:06}", f / 1_000),
        f => write!(out, ".{f:09}"),
    };
    out.extend_from_slice(b"Z\"");
}

/// One path's reading of a request: payloads, and the positions of refused records.
#[doc(hidden)]
pub type PathOutput = (Vec<Vec<u8>>, Vec<usize>);

/// For the `otlp` fuzz target: what the fast path (`otlp_wire`) and the general path (prost,
/// then `events`) make of the same bytes, as (payloads, positions of refused records); `None`
/// where that path refuses or gives up.
#[doc(hidden)]
pub fn both_paths(message: &[u8], max_event: usize) -> (Option<PathOutput>, Option<PathOutput>) {
    let positions = |(ok, refused): Records| (ok, refused.iter().map(|r| r.line).collect());
    let fast = crate::otlp_wire::events(message, max_event).map(positions);
    let general = ExportLogsServiceRequest::decode(message).ok().map(|r| positions(events(&r, max_event)));
    (fast, general)
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValueList};
    use opentelemetry_proto::tonic::logs::v1::{ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::resource::v1::Resource;

    use super::*;

    #[test]
    fn times_are_written_as_chrono_writes_them() {
        for nanos in [1, 1_000, 1_000_000, 1_700_000_000_000_000_000, 1_700_000_000_123_000_000, 1_700_000_000_123_456_000, 1_700_000_000_123_456_789, 4_102_444_799_999_999_999] {
            let mut out = Vec::new();
            rfc3339(&mut out, nanos);
            let want = DateTime::from_timestamp_nanos(nanos).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
            assert_eq!(String::from_utf8(out).expect("utf-8"), format!("\"{want}\""), "{nanos}");
        }
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    }

    fn kv(key: &str, value: any_value::Value) -> KeyValue {
        KeyValue { key: key.into(), value: Some(AnyValue { value: Some(value) }), ..Default::default() }
    }

    fn request(records: Vec<LogRecord>) -> ExportLogsServiceRequest {
        ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: Some(Resource {
                    attributes: vec![kv("service.name", any_value::Value::StringValue("checkout".into())), kv("host.name", any_value::Value::StringValue("web-1".into()))],
                    ..Default::default()
                }),
                scope_logs: vec![ScopeLogs { scope: Some(InstrumentationScope { name: "app.orders".into(), ..Default::default() }), log_records: records, ..Default::default() }],
                ..Default::default()
            }],
        }
    }

    fn parsed(bytes: &[u8]) -> Value {
        serde_json::from_slice(bytes).expect("an event is JSON")
    }

    #[test]
    fn a_record_becomes_a_flat_event_the_normalizer_reads() {
        let record = LogRecord {
            time_unix_nano: 1_764_756_000_123_456_789,
            severity_number: 17,
            body: Some(AnyValue { value: Some(any_value::Value::StringValue("payment failed".into())) }),
            attributes: vec![kv("order.id", any_value::Value::IntValue(42)), kv("message", any_value::Value::StringValue("not the body".into()))],
            trace_id: vec![0xab; 16],
            span_id: vec![0x01; 8],
            ..Default::default()
        };
        let (ok, refused) = events(&request(vec![record]), 10_000);
        assert!(refused.is_empty());
        let e = parsed(&ok[0]);
        assert_eq!(e["service.name"], "checkout");
        assert_eq!(e["host.name"], "web-1");
        assert_eq!(e["otel.scope.name"], "app.orders");
        assert_eq!(e["order.id"], 42);
        assert_eq!(e["message"], "payment failed", "the body wins over an attribute");
        assert_eq!(e["level"], "ERROR", "from the severity number");
        assert_eq!(e["@timestamp"], "2025-12-03T10:00:00.123456789Z");
        assert_eq!(e["trace_id"], "ab".repeat(16));
        assert_eq!(e["span_id"], "01".repeat(8));
    }

    #[test]
    fn a_map_body_gives_fields_and_oversized_records_are_refused() {
        let body = AnyValue {
            value: Some(any_value::Value::KvlistValue(KeyValueList { values: vec![kv("user", any_value::Value::StringValue("ann".into())), kv("ok", any_value::Value::BoolValue(true))] })),
        };
        let small = LogRecord { severity_text: "warn".into(), body: Some(body), observed_time_unix_nano: 1, ..Default::default() };
        let large = LogRecord { body: Some(AnyValue { value: Some(any_value::Value::StringValue("x".repeat(500))) }), ..Default::default() };
        let (ok, refused) = events(&request(vec![small, large]), 300);
        assert_eq!(ok.len(), 1);
        let e = parsed(&ok[0]);
        assert_eq!(e["user"], "ann");
        assert_eq!(e["level"], "warn");
        assert!(e["message"].as_str().is_some_and(|m| m.contains("\"user\":\"ann\"")));
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].line, 2);
    }

    #[test]
    fn protobuf_and_json_requests_decode_and_garbage_is_a_bad_request() {
        let req = request(vec![LogRecord { severity_text: "INFO".into(), ..Default::default() }]);
        assert_eq!(records(Format::Protobuf, &req.encode_to_vec(), 10_000).expect("protobuf").0, events(&req, 10_000).0);
        let json = br#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},
            "scopeLogs":[{"logRecords":[{"timeUnixNano":"1764756000000000000","severityText":"INFO","body":{"stringValue":"hi"},
            "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"}]}]}]}"#;
        let (ok, _) = records(Format::Json, json, 10_000).expect("json");
        let e = parsed(&ok[0]);
        assert_eq!(e["message"], "hi");
        assert_eq!(e["trace_id"], "5b8efff798038103d269b633813fc60c");
        assert!(records(Format::Protobuf, b"\xff\xff\xff", 10_000).is_err());
        assert!(records(Format::Json, b"{oops", 10_000).is_err());
    }
}
