//! NexusLog's own traces over OTLP/HTTP (protobuf), when `otel.endpoint` is set.
//!
//! The `tracing` spans of the data path become OpenTelemetry spans through
//! `tracing-opentelemetry`: the HTTP request (`http_span`, a server span continuing a W3C
//! `traceparent` the client sent), the gateway's produce, and the processor's and sink's span per
//! traced request in a batch (`nexuslog_bus::trace`, which carries the context in record
//! headers). Spans are exported in batches from a thread of the SDK's own; a receiver that is
//! down costs dropped spans (the SDK's queue is bounded, 2048 spans), never a stalled request.
//! Only NexusLog's own spans at `info` and above are exported, whatever `log.level` says.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::KeyValue;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// Flushes and stops the exporter when dropped (at the end of `main`), so the spans of the last
/// requests before a shutdown are sent.
pub struct Guard(SdkTracerProvider);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Err(e) = self.0.shutdown() {
            eprintln!("warning: flushing traces to otel.endpoint failed: {e}");
        }
    }
}

/// The OTLP/HTTP URL traces go to: the signal path under the configured base URL, as
/// `OTEL_EXPORTER_OTLP_ENDPOINT` is read by every OpenTelemetry SDK.
fn traces_url(endpoint: &str) -> String {
    format!("{}/v1/traces", endpoint.trim_end_matches('/'))
}

/// The layer exporting spans to `endpoint`, and the guard that flushes them at exit. `role` is
/// a resource attribute, so one service (`nexuslog`) shows which role recorded a span.
///
/// # Errors
/// When the exporter cannot be built (an endpoint that is not a URL).
pub fn layer<S>(endpoint: &str, role: &str) -> Result<(impl Layer<S>, Guard), opentelemetry_otlp::ExporterBuildError>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    let exporter = opentelemetry_otlp::SpanExporter::builder().with_http().with_protocol(Protocol::HttpBinary).with_endpoint(traces_url(endpoint)).build()?;
    let resource = Resource::builder()
        .with_service_name("nexuslog")
        .with_attributes([KeyValue::new("service.version", env!("CARGO_PKG_VERSION")), KeyValue::new("nexuslog.role", role.to_owned())])
        .build();
    let provider = SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build();
    let tracer = provider.tracer("nexuslog");
    // NexusLog's crates only (`nexuslog`, `nexuslog_bus`, ...): dependencies' spans are noise here.
    // A plain predicate, not `Targets`: with `Targets` as this layer's filter, spans created on
    // the processor's and sink's tasks got no OpenTelemetry data (the fmt layer's filter still
    // enabled them), so their context read back invalid and the trace stopped at the processor.
    let only_ours = tracing_subscriber::filter::filter_fn(|m| m.target().starts_with("nexuslog") && *m.level() <= tracing::Level::INFO);
    let layer = tracing_opentelemetry::layer().with_tracer(tracer).with_filter(only_ours);
    Ok((layer, Guard(provider)))
}

/// Middleware: a server span per HTTP request, named by method and route template, continuing
/// the client's trace when it sent a valid `traceparent`. Installed only when tracing is on.
pub async fn http_span(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("other", MatchedPath::as_str).to_owned();
    let method = request.method().as_str().to_owned();
    let span = tracing::info_span!(
        "http.request",
        otel.name = %format!("{method} {route}"),
        otel.kind = "server",
        http.request.method = %method,
        http.route = %route,
        http.response.status_code = tracing::field::Empty,
    );
    let headers = request.headers();
    if let Some(parent) = nexuslog_bus::trace::extract_with(|name| headers.get(name).and_then(|v| v.to_str().ok())) {
        // Only fails when the span is filtered out, and then there is nothing to continue.
        let _ = span.set_parent(parent);
    }
    let response = next.run(request).instrument(span.clone()).await;
    // As an i64: tracing-opentelemetry exports unsigned integers as text.
    span.record("http.response.status_code", i64::from(response.status().as_u16()));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signal_path_goes_under_the_base_url() {
        assert_eq!(traces_url("http://127.0.0.1:4318"), "http://127.0.0.1:4318/v1/traces");
        assert_eq!(traces_url("https://collector/otlp/"), "https://collector/otlp/v1/traces");
    }
}
