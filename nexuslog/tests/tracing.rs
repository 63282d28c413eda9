//! Traces over OTLP: one ingest request is one trace, from the HTTP handler through Kafka (the
//! W3C trace context in record headers) to the processor and the sink's bulk index. The OTLP/HTTP
//! receiver is this test's own: an axum route decoding `ExportTraceServiceRequest`.

#[allow(dead_code)] // each test binary uses part of the shared helpers
mod support;

use std::future::IntoFuture;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::StatusCode;
use nexuslog_common::testing::{unique_name, wait_until};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::Value;

/// Spans received, with the `service.name` and `nexuslog.role` of their resource.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(String, Span)>>>);

impl Received {
    fn of_trace(&self, trace_id: &[u8]) -> Vec<(String, Span)> {
        self.0.lock().expect("not poisoned").iter().filter(|(_, s)| s.trace_id == trace_id).cloned().collect()
    }
}

fn string_attr(attrs: &[opentelemetry_proto::tonic::common::v1::KeyValue], key: &str) -> Option<String> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
        AnyValue::StringValue(s) => Some(s.clone()),
        _ => None,
    })
}

fn int_attr(span: &Span, key: &str) -> Option<i64> {
    span.attributes.iter().find(|kv| kv.key == key).and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
        AnyValue::IntValue(n) => Some(*n),
        _ => None,
    })
}

/// An OTLP/HTTP receiver (protobuf) on a free port; returns its base URL.
async fn otlp_receiver() -> (String, Received) {
    let received = Received::default();
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: Bytes| async move {
            let Ok(request) = ExportTraceServiceRequest::decode(body) else { return (StatusCode::BAD_REQUEST, Vec::new()) };
            let mut spans = sink.0.lock().expect("not poisoned");
            for rs in request.resource_spans {
                let attrs = rs.resource.map(|r| r.attributes).unwrap_or_default();
                let who = format!("{}/{}", string_attr(&attrs, "service.name").unwrap_or_default(), string_attr(&attrs, "nexuslog.role").unwrap_or_default());
                spans.extend(rs.scope_spans.into_iter().flat_map(|ss| ss.spans).map(|s| (who.clone(), s)));
            }
            (StatusCode::OK, ExportTraceServiceResponse::default().encode_to_vec())
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(axum::serve(listener, app).into_future());
    (format!("http://{addr}"), received)
}

fn one<'a>(spans: &'a [(String, Span)], name: &str) -> Vec<&'a Span> {
    spans.iter().map(|(_, s)| s).filter(|s| s.name == name).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_ingest_request_is_one_trace_through_gateway_processor_and_sink() {
    let (endpoint, received) = otlp_receiver().await;
    let prefix = unique_name("trace");
    let mut env = support::distributed_env(&prefix);
    env.push(("NEXUSLOG_OTEL_ENDPOINT".into(), endpoint));
    // Export every 200 ms instead of every 5 s: the test waits less.
    env.push(("OTEL_BSP_SCHEDULE_DELAY".into(), "200".into()));
    let node = support::start(&["standalone"], env, &support::test_key()).await;

    // The client's own trace: the request continues it.
    let trace_id: [u8; 16] = *uuid::Uuid::new_v4().as_bytes();
    let client_span: [u8; 8] = uuid::Uuid::new_v4().as_bytes()[..8].try_into().expect("8 bytes");
    let traceparent = format!("00-{}-{}-01", hex::encode(trace_id), hex::encode(client_span));
    let run = unique_name("run");
    let body = (0..3).map(|i| format!("{{\"message\":\"traced {i}\",\"run\":\"{run}\"}}\n")).collect::<String>();
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/logs/bulk", node.url))
        .bearer_auth(&node.api_key)
        .header("traceparent", &traceparent)
        .body(body)
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.expect("json")["accepted"], 3);

    // Every record indexed, and every sink span exported (a span per traced request in a batch;
    // the three records may come in one batch or several).
    let spans = wait_until(&format!("the trace's spans at the receiver (log: {})", node.log.display()), Duration::from_secs(90), || async {
        let spans = received.of_trace(&trace_id);
        let indexed: i64 = one(&spans, "sink.index").iter().filter_map(|s| int_attr(s, "messaging.batch.message_count")).sum();
        (indexed == 3).then_some(spans)
    })
    .await;
    let names: Vec<&str> = spans.iter().map(|(_, s)| s.name.as_str()).collect();

    let http = one(&spans, "POST /v1/logs/bulk");
    assert_eq!(http.len(), 1, "one server span: {names:?}");
    let http = http[0];
    assert_eq!(http.kind, SpanKind::Server as i32);
    assert_eq!(http.parent_span_id, client_span, "the request continues the client's trace");
    assert_eq!(int_attr(http, "http.response.status_code"), Some(200));

    let produce = one(&spans, "gateway.produce");
    assert_eq!(produce.len(), 1, "{names:?}");
    let produce = produce[0];
    assert_eq!(produce.kind, SpanKind::Producer as i32);
    assert_eq!(produce.parent_span_id, http.span_id, "the produce is the handler's child");
    assert_eq!(int_attr(produce, "messaging.batch.message_count"), Some(3));

    let processed = one(&spans, "processor.process");
    assert!(!processed.is_empty(), "{names:?}");
    for p in &processed {
        assert_eq!(p.kind, SpanKind::Consumer as i32);
        assert_eq!(p.parent_span_id, produce.span_id, "the processor continues from the records' headers");
        assert!(p.start_time_unix_nano >= produce.start_time_unix_nano);
    }
    let processed_records: i64 = processed.iter().filter_map(|s| int_attr(s, "messaging.batch.message_count")).sum();
    assert_eq!(processed_records, 3, "every record processed under the trace");

    for s in one(&spans, "sink.index") {
        assert_eq!(s.kind, SpanKind::Consumer as i32);
        assert!(processed.iter().any(|p| p.span_id == s.parent_span_id), "the sink continues from the log records' headers: {names:?}");
    }
    assert!(spans.iter().all(|(who, _)| who == "nexuslog/standalone"), "resource names the service and role: {:?}", spans.iter().map(|(w, _)| w).collect::<Vec<_>>());

    // The records are searchable: the trace followed the real path, not a side branch.
    let found = wait_until("the three events searchable", Duration::from_secs(30), || async {
        let v: Value = reqwest::Client::new()
            .get(format!("{}/v1/search", node.url))
            .query(&[("q", format!("run:{run}").as_str()), ("limit", "10")])
            .bearer_auth(&node.api_key)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (v["total"].as_u64() == Some(3)).then_some(v)
    })
    .await;
    assert_eq!(found["total"], 3);
}
