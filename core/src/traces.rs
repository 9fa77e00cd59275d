//! Trace context for spans that cross processes: whether traces are on in
//! this process (the binary turns them on with an OTLP endpoint), and the
//! W3C `traceparent` of the current span for outgoing requests. With traces
//! off both cost a load of one flag.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

static ON: AtomicBool = AtomicBool::new(false);

/// Called once traces are exported from this process.
pub fn turn_on() {
    ON.store(true, Ordering::Relaxed);
}

pub fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

/// The headers (`traceparent`, and `tracestate` when there is one) that
/// carry the current span's context to another service; none with traces
/// off or outside a span.
pub fn outgoing() -> Vec<(String, String)> {
    if !on() {
        return Vec::new();
    }
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let cx = tracing::Span::current().context();
    let mut carrier: HashMap<String, String> = HashMap::new();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&cx, &mut carrier));
    carrier.into_iter().collect()
}

/// Joins `span` to the trace its caller's headers name (`get` reads a
/// header), and records its trace id in its `trace_id` field, so every log
/// line of the request carries it. Nothing with traces off.
pub fn join(span: &tracing::Span, get: impl Fn(&str) -> Option<String>) {
    if !on() || span.is_disabled() {
        return;
    }
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let mut carrier: HashMap<String, String> = HashMap::new();
    for name in ["traceparent", "tracestate"] {
        if let Some(v) = get(name) {
            carrier.insert(name.to_owned(), v);
        }
    }
    if !carrier.is_empty() {
        let parent = opentelemetry::global::get_text_map_propagator(|p| p.extract(&carrier));
        let _ = span.set_parent(parent);
    }
    let id = span.context().span().span_context().trace_id();
    if id != opentelemetry::trace::TraceId::INVALID {
        span.record("trace_id", tracing::field::display(id));
    }
}
