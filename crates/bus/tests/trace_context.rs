//! Trace context through a consumer: the spans `BatchSpans` starts are children of the remote
//! span in the records' headers, and the headers it gives outputs name those spans, so the next
//! consumer's span is their child. Spans go to the SDK's in-memory exporter through the same
//! `tracing-opentelemetry` layer the binary installs.

use nexuslog_bus::trace::{self, BatchSpans, TRACEPARENT};
use nexuslog_bus::InRecord;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{EnvFilter, Layer};

const PARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

#[test]
fn a_batch_span_is_the_child_of_the_records_span_and_its_outputs_name_it() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("test")).with_filter(Targets::new().with_target("nexuslog", LevelFilter::INFO));
    let fmt = tracing_subscriber::fmt::layer().with_filter(EnvFilter::new("warn"));
    let _default = tracing::subscriber::set_default(tracing_subscriber::registry().with(fmt).with(layer));
    trace::enable();

    let rec = |parent: &str| InRecord { headers: vec![(TRACEPARENT.into(), parent.as_bytes().to_vec()), ("tracestate".into(), Vec::new())], ..Default::default() };
    let batch = vec![rec(PARENT), rec(PARENT), InRecord::default()];
    let spans = BatchSpans::start(&batch, |n| tracing::info_span!(target: "nexuslog_test", "consume", records = n)).expect("a traced record");
    assert_eq!(spans.len(), 1, "one span for the two records of one request");
    let out = spans.headers_for(&batch[0]).expect("output headers").clone();
    assert!(spans.headers_for(&batch[2]).is_none(), "an untraced record's output carries nothing");
    drop(spans);

    let exported = exporter.get_finished_spans().expect("spans");
    assert_eq!(exported.len(), 1);
    let span = &exported[0];
    assert_eq!(span.span_context.trace_id().to_string(), "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(span.parent_span_id.to_string(), "b7ad6b7169203331");
    let traceparent = out.iter().find(|(n, _)| n == TRACEPARENT).map(|(_, v)| String::from_utf8_lossy(v).into_owned()).expect("traceparent");
    assert_eq!(traceparent, format!("00-0af7651916cd43dd8448eb211c80319c-{}-01", span.span_context.span_id()), "outputs continue the consumer's span");
}
