//! Traces: spans recorded by [`SpanLayer`] and sent as OTLP protobuf by the
//! binary's exporter; the W3C trace context of the current span for
//! outgoing requests ([`outgoing`]) and from incoming ones ([`joined`]). With
//! traces off (no exporter) every entry point costs a load of one flag.

mod ids;
mod layer;
#[cfg(test)]
mod layer_tests;
pub mod otlp;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub use layer::{SpanFilter, SpanLayer};
pub use otlp::Batch;

static ON: AtomicBool = AtomicBool::new(false);

/// Called once traces are exported from this process.
pub fn turn_on() {
    ON.store(true, Ordering::Relaxed);
}

pub fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

/// The trace a span belongs to, kept in the span's extensions; children copy it.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceContext {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    /// Kept (exported) or not; a child inherits its parent's decision.
    pub sampled: bool,
    /// The caller's `tracestate`, passed on unchanged.
    pub state: Option<Arc<str>>,
}

impl TraceContext {
    /// The `traceparent` header naming this span as the parent.
    pub fn traceparent(&self) -> String {
        format!("00-{}-{}-{:02x}", hex(&self.trace_id), hex(&self.span_id), u8::from(self.sampled))
    }
}

pub(crate) use crate::ids::hex;

/// The trace a request's caller named in its headers.
pub(crate) struct Caller {
    trace_id: [u8; 16],
    parent: [u8; 8],
    sampled: bool,
    state: Option<Arc<str>>,
}

/// A caller's `traceparent` (W3C Trace Context): trace id, parent span id,
/// sampled. `None` when it is malformed (then the request starts a trace).
pub fn parse_traceparent(value: &str) -> Option<([u8; 16], [u8; 8], bool)> {
    let mut parts = value.trim().split('-');
    let version = parts.next()?;
    let (trace, parent, flags) = (parts.next()?, parts.next()?, parts.next()?);
    // Version 00 has exactly four fields; later versions may add more.
    if version.len() != 2 || version.eq_ignore_ascii_case("ff") || (version == "00" && parts.next().is_some()) {
        return None;
    }
    u8::from_str_radix(version, 16).ok()?;
    let trace: [u8; 16] = unhex(trace)?;
    let parent: [u8; 8] = unhex(parent)?;
    let flags: [u8; 1] = unhex(flags)?;
    if trace == [0; 16] || parent == [0; 8] {
        return None;
    }
    Some((trace, parent, flags[0] & 1 == 1))
}

fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != N * 2 || !s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[i * 2..i * 2 + 2], 16).ok()?;
    }
    Some(out)
}

/// Whether a new trace is kept at `ratio`, decided from its id as
/// OpenTelemetry's `TraceIdRatioBased` sampler does, so every service
/// sampling at one ratio keeps the same traces.
pub fn keep(trace_id: &[u8; 16], ratio: f64) -> bool {
    let bound = (ratio.clamp(0.0, 1.0) * (1u64 << 63) as f64) as u64;
    let mut low = [0u8; 8];
    low.copy_from_slice(&trace_id[8..]);
    (u64::from_be_bytes(low) >> 1) < bound || ratio >= 1.0
}

/// The trace context of the current span (or its nearest traced ancestor).
pub fn current() -> Option<TraceContext> {
    if !on() {
        return None;
    }
    tracing::Span::current().with_subscriber(|(id, dispatch)| layer::context_of(dispatch, id)).flatten()
}

/// The headers (`traceparent`, and `tracestate` when there is one) that
/// carry the current span's context to another service; none with traces
/// off or outside a span.
pub fn outgoing() -> Vec<(String, String)> {
    let Some(cx) = current() else {
        return Vec::new();
    };
    let mut headers = vec![("traceparent".to_owned(), cx.traceparent())];
    if let Some(state) = &cx.state {
        headers.push(("tracestate".to_owned(), state.to_string()));
    }
    headers
}

std::thread_local! {
    /// The caller of the request whose span is being made, for the layer.
    static CALLER: std::cell::RefCell<Option<Caller>> = const { std::cell::RefCell::new(None) };
}

/// Takes the caller [`joined`] put down for the span being made.
pub(crate) fn take_caller() -> Option<Caller> {
    CALLER.with(|c| c.borrow_mut().take())
}

/// The span `make` makes, joined to the trace its caller's headers name
/// (`get` reads a header): with a valid `traceparent`, the span's trace,
/// parent and sampling decision are the caller's; without, it starts a
/// trace sampled at the configured ratio. When the trace is kept or was
/// the caller's, its id goes in the span's `trace_id` field, so every log
/// line of the request leads to it. With traces off, only `make`.
pub fn joined(get: impl Fn(&str) -> Option<String>, make: impl FnOnce() -> tracing::Span) -> tracing::Span {
    if !on() {
        return make();
    }
    let caller = get("traceparent").as_deref().and_then(parse_traceparent).map(|(trace_id, parent, sampled)| {
        let state = get("tracestate").filter(|s| !s.is_empty() && s.len() <= 512).map(Arc::from);
        Caller { trace_id, parent, sampled, state }
    });
    let from_caller = caller.is_some();
    CALLER.with(|c| *c.borrow_mut() = caller);
    let span = make();
    // Unused when the span is off (no layer wanted it).
    drop(take_caller());
    let cx = span.with_subscriber(|(id, dispatch)| layer::context_of(dispatch, id)).flatten();
    if let Some(cx) = cx
        && (cx.sampled || from_caller)
    {
        span.record("trace_id", tracing::field::display(hex(&cx.trace_id)));
    }
    span
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparents_are_read_as_the_w3c_spec_says() {
        let ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let (trace, parent, sampled) = parse_traceparent(ok).unwrap();
        assert_eq!(hex(&trace), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(hex(&parent), "00f067aa0ba902b7");
        assert!(sampled);
        assert!(!parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00").unwrap().2);
        // A later version may carry more fields; the first four are read.
        assert!(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03-extra").is_some());
        for bad in [
            "",
            "00",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
            "00-4bf92f3577b34da6a3ce929d0e0e47é6-00f067aa0ba902b7-01",
        ] {
            assert_eq!(parse_traceparent(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_ratio_keeps_its_share_of_traces() {
        let ids = (0..20_000u64).map(|i| {
            let mut id = [0u8; 16];
            id[8..].copy_from_slice(&ids::mix(i).to_be_bytes());
            id
        });
        let kept = ids.clone().filter(|id| keep(id, 0.25)).count();
        assert!((4_500..5_500).contains(&kept), "{kept} of 20,000 at 0.25");
        assert_eq!(ids.clone().filter(|id| keep(id, 0.0)).count(), 0);
        assert_eq!(ids.filter(|id| keep(id, 1.0)).count(), 20_000);
    }
}
