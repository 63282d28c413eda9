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

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat};
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
    match accept(&gw, peer, &headers, body, |bytes| decode(format, bytes)).await {
        Ok(answer) => encode(format, &answer),
        Err(e) => e.into_response(),
    }
}

/// The export both transports share (OTLP/HTTP here, gRPC in `otlp_grpc`): admit the request,
/// decode its body with `decode`, write the records and answer once the bus acknowledged them.
pub(crate) async fn accept(
    gw: &Gateway,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: Body,
    decode: impl FnOnce(&[u8]) -> Result<ExportLogsServiceRequest, GatewayError>,
) -> Result<ExportLogsServiceResponse, GatewayError> {
    let Admitted { key, body, _slot } = admit(gw, &credentials(headers), headers, body).await?;
    let request = decode(&body)?;
    let max_event = usize::try_from(gw.limits().max_event_bytes).unwrap_or(usize::MAX);
    let (payloads, refused) = events(&request, max_event);
    take_quota(gw, &key, payloads.len()).await?;
    write(gw, SourceKind::Otlp, "otlp", peer, fresh_events(&key, payloads), nexuslog_common::now_micros()).await?;
    keep_refused(gw, &key, "otlp", &refused).await;
    let partial_success = refused.first().map(|first| ExportLogsPartialSuccess {
        rejected_log_records: refused.len() as i64,
        error_message: format!("record {}: {}", first.line, first.reason),
    });
    Ok(ExportLogsServiceResponse { partial_success })
}

fn decode(format: Format, body: &[u8]) -> Result<ExportLogsServiceRequest, GatewayError> {
    match format {
        Format::Protobuf => ExportLogsServiceRequest::decode(body).map_err(|e| GatewayError::BadRequest(format!("not an OTLP logs request (protobuf): {e}"))),
        Format::Json => serde_json::from_slice(body).map_err(|e| GatewayError::BadRequest(format!("not an OTLP logs request (JSON): {e}"))),
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

/// Every log record of the request as an event payload, and those refused (too large); a
/// record's "line" is its 1-based position in the request.
///
/// The JSON is written directly, resource and scope once per scope: a key written twice (a
/// record attribute naming a resource attribute, the record's own parts last) is read with the
/// last value winning, as the processor's JSON parser does.
fn events(request: &ExportLogsServiceRequest, max_event: usize) -> (Vec<Vec<u8>>, Vec<LineError>) {
    let (mut ok, mut refused) = (Vec::new(), Vec::new());
    let mut position = 0;
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
                position += 1;
                let mut event = shared.clone();
                event.attributes(&record.attributes);
                event.record(record);
                let bytes = event.finish();
                if bytes.len() > max_event {
                    refused.push(LineError {
                        line: position,
                        reason: format!("log record of {} bytes exceeds the limit of {max_event} bytes", bytes.len()),
                        original: bytes[..max_event].to_vec(),
                    });
                } else {
                    ok.push(bytes);
                }
            }
        }
    }
    (ok, refused)
}

/// A JSON object being written: `{` then `"key":value` pairs.
#[derive(Clone, Default)]
struct Object(Vec<u8>);

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

    fn value(&mut self, key: &str, value: &AnyValue) {
        match &value.value {
            Some(any_value::Value::StringValue(s)) => self.str(key, s),
            Some(any_value::Value::IntValue(i)) => {
                self.key(key);
                self.0.extend_from_slice(i.to_string().as_bytes());
            }
            Some(any_value::Value::BoolValue(b)) => {
                self.key(key);
                self.0.extend_from_slice(if *b { b"true" } else { b"false" });
            }
            _ => {
                self.key(key);
                let _ = serde_json::to_writer(&mut self.0, &json(value));
            }
        }
    }

    fn nonempty(&mut self, key: &str, value: &str) {
        if !value.is_empty() {
            self.str(key, value);
        }
    }

    fn attributes(&mut self, attributes: &[KeyValue]) {
        for kv in attributes {
            match &kv.value {
                Some(v) => self.value(&kv.key, v),
                None => {
                    self.key(&kv.key);
                    self.0.extend_from_slice(b"null");
                }
            }
        }
    }

    /// The record's own parts: time, severity, body, ids; written after the attributes, so an
    /// attribute cannot stand in for them.
    fn record(&mut self, r: &LogRecord) {
        let nanos = if r.time_unix_nano > 0 { r.time_unix_nano } else { r.observed_time_unix_nano };
        if nanos > 0 {
            let t = DateTime::from_timestamp_nanos(i64::try_from(nanos).unwrap_or(i64::MAX));
            self.str("@timestamp", &t.to_rfc3339_opts(SecondsFormat::AutoSi, true));
        }
        match (r.severity_text.as_str(), severity_name(r.severity_number)) {
            ("", Some(level)) => self.str("level", level),
            ("", None) => {}
            (text, _) => self.str("level", text),
        }
        if r.severity_number > 0 {
            self.key("otel.severity_number");
            self.0.extend_from_slice(r.severity_number.to_string().as_bytes());
        }
        self.nonempty("otel.event_name", &r.event_name);
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
        if !r.trace_id.is_empty() {
            self.str("trace_id", &hex(&r.trace_id));
        }
        if !r.span_id.is_empty() {
            self.str("span_id", &hex(&r.span_id));
        }
    }

    fn finish(mut self) -> Vec<u8> {
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
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValueList};
    use opentelemetry_proto::tonic::logs::v1::{ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::resource::v1::Resource;

    use super::*;

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
        assert_eq!(decode(Format::Protobuf, &req.encode_to_vec()).expect("protobuf"), req);
        let json = br#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},
            "scopeLogs":[{"logRecords":[{"timeUnixNano":"1764756000000000000","severityText":"INFO","body":{"stringValue":"hi"},
            "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"}]}]}]}"#;
        let from_json = decode(Format::Json, json).expect("json");
        let (ok, _) = events(&from_json, 10_000);
        let e = parsed(&ok[0]);
        assert_eq!(e["message"], "hi");
        assert_eq!(e["trace_id"], "5b8efff798038103d269b633813fc60c");
        assert!(decode(Format::Protobuf, b"\xff\xff\xff").is_err());
        assert!(decode(Format::Json, b"{oops").is_err());
    }
}
