//! W3C trace context (`traceparent`, `tracestate`) in record headers, so one trace follows a
//! request from the gateway through the bus to the processor and the sink.
//!
//! Off unless the binary calls [`enable`] at start-up (it does when `otel.endpoint` is set and
//! the OpenTelemetry layer is installed). While off, [`inject`] returns no headers and
//! [`BatchSpans::start`] returns `None` after one atomic load, so records carry nothing and the
//! consumers' per-record work is a single `Option` check.
//!
//! Consumers handle batches of many requests' records. [`BatchSpans`] makes one span per
//! distinct sampled trace context in a batch, a child of the remote span that wrote the records:
//! a request of 500 events in one batch is one span, not 500, and a batch mixing 5 requests is 5
//! spans. Outputs made from a record carry the context of its span ([`BatchSpans::headers_for`]),
//! so the next consumer's span is that span's child.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry::Context;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::{Headers, InRecord};

/// The W3C header naming the parent span.
pub const TRACEPARENT: &str = "traceparent";

/// Set once at start-up, like the global `tracing` subscriber it goes with; never cleared.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Turns propagation on for this process. Call it after installing the OpenTelemetry layer.
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Whether this process propagates trace context.
pub fn is_enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

struct HeaderInjector<'a>(&'a mut Headers);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.push((key.to_owned(), value.into_bytes()));
    }
}

/// Reads trace headers: any carrier of (name, value) pairs, record headers or HTTP headers.
pub struct HeaderExtractor<'a, F: Fn(&str) -> Option<&'a str>>(pub F);

impl<'a, F: Fn(&str) -> Option<&'a str>> Extractor for HeaderExtractor<'a, F> {
    fn get(&self, key: &str) -> Option<&str> {
        (self.0)(key)
    }

    fn keys(&self) -> Vec<&str> {
        // The W3C propagator asks for its two names with `get`; it never lists keys.
        Vec::new()
    }
}

/// The trace context of `span` as record headers; none when propagation is off or the span is
/// not recorded by OpenTelemetry.
pub fn inject(span: &tracing::Span) -> Headers {
    if !is_enabled() || span.is_disabled() {
        return Vec::new();
    }
    let cx = span.context();
    if !cx.span().span_context().is_valid() {
        return Vec::new();
    }
    let mut headers = Vec::with_capacity(2);
    TraceContextPropagator::new().inject_context(&cx, &mut HeaderInjector(&mut headers));
    headers
}

/// The remote parent that `get` (a header lookup) carries, when it is valid and sampled.
pub fn extract_with<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Option<Context> {
    let cx = TraceContextPropagator::new().extract(&HeaderExtractor(get));
    let keep = {
        let remote = cx.span();
        let sc = remote.span_context();
        sc.is_valid() && sc.is_sampled()
    };
    keep.then_some(cx)
}

/// The remote parent a record's headers carry, when propagation is on and it is valid and
/// sampled.
pub fn extract(headers: &[(String, Vec<u8>)]) -> Option<Context> {
    if !is_enabled() || headers.is_empty() {
        return None;
    }
    extract_with(|name| headers.iter().find(|(n, _)| n == name).and_then(|(_, v)| std::str::from_utf8(v).ok()))
}

/// The spans of one consumed batch: one per distinct sampled trace context among its records,
/// each a child of the span that wrote them. They end when this is dropped: the caller keeps it
/// until the batch's outcome is safe (committed), so a span covers the whole handling.
#[derive(Debug)]
pub struct BatchSpans {
    /// `traceparent` value → the span for the records carrying it, and that span's own context
    /// as headers for their outputs.
    spans: HashMap<Vec<u8>, (tracing::Span, Headers)>,
}

impl BatchSpans {
    /// Starts the spans of `batch`; `make(records)` creates one (name, kind, attributes) for the
    /// given number of records. `None` when propagation is off or no record is traced: the
    /// common case costs one atomic load, no allocation.
    pub fn start(batch: &[InRecord], make: impl Fn(usize) -> tracing::Span) -> Option<Self> {
        if !is_enabled() {
            return None;
        }
        let mut requests: HashMap<&[u8], (usize, &InRecord)> = HashMap::new();
        for r in batch {
            if let Some(parent) = r.header(TRACEPARENT) {
                requests.entry(parent).or_insert((0, r)).0 += 1;
            }
        }
        let mut spans = HashMap::with_capacity(requests.len());
        for (parent, (records, first)) in requests {
            let Some(cx) = extract(&first.headers) else { continue };
            let span = make(records);
            // Fails only when the span is disabled by a filter: then it has no context to pass on.
            if span.set_parent(cx).is_ok() {
                let headers = inject(&span);
                spans.insert(parent.to_vec(), (span, headers));
            }
        }
        (!spans.is_empty()).then_some(Self { spans })
    }

    /// The trace headers for an output made from `input`: its span's context.
    pub fn headers_for(&self, input: &InRecord) -> Option<&Headers> {
        let parent = input.header(TRACEPARENT)?;
        self.spans.get(parent).map(|(_, h)| h).filter(|h| !h.is_empty())
    }

    /// How many spans (distinct traced requests) the batch has.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_done_while_off() {
        // The flag is process-wide and this test binary never sets it.
        let rec = InRecord { headers: vec![(TRACEPARENT.into(), b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".to_vec())], ..Default::default() };
        assert!(inject(&tracing::info_span!("x")).is_empty());
        assert!(extract(&rec.headers).is_none());
        assert!(BatchSpans::start(std::slice::from_ref(&rec), |_| tracing::info_span!("x")).is_none());
    }

    #[test]
    fn a_sampled_traceparent_is_extracted_and_others_are_not() {
        let get = |v: &'static str| move |name: &str| (name == TRACEPARENT).then_some(v);
        let cx = extract_with(get("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")).expect("sampled");
        assert_eq!(cx.span().span_context().trace_id().to_string(), "0af7651916cd43dd8448eb211c80319c");
        assert!(extract_with(get("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00")).is_none(), "not sampled");
        assert!(extract_with(get("00-00000000000000000000000000000000-b7ad6b7169203331-01")).is_none(), "invalid");
        assert!(extract_with(get("garbage")).is_none());
    }
}
