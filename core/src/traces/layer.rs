//! The tracing layer behind traces: each span gets a [`TraceContext`] (its
//! parent's trace, the caller's, or a new one sampled by ratio); only a
//! sampled span keeps its name, times, fields and warnings, and is encoded
//! into the [`Batch`] when it closes. A trace's first span, unsampled, costs
//! its ids; the spans under it never reach the layer ([`SpanFilter`]).

use std::cell::RefCell;
use std::sync::Arc;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record as Values};
use tracing::subscriber::Interest;
use tracing::{Dispatch, Event, Level, Metadata, Subscriber};
use tracing_subscriber::Registry;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;

use super::otlp::{self, Attributes as Encoded, Batch, Value};
use super::{TraceContext, ids, keep};

/// Turns this process's spans into OTLP spans (see the module's docs).
pub struct SpanLayer {
    ratio: f64,
    batch: Arc<Batch>,
}

impl SpanLayer {
    /// New traces are kept at `ratio`; kept spans go to `batch`.
    pub fn new(ratio: f64, batch: Arc<Batch>) -> Self {
        Self { ratio, batch }
    }
}

/// Which spans and events the layer is given: spans of this project's
/// crates from debug (store and outside calls) and everyone's from info;
/// of events only warnings and errors (each becomes a span event, paid on
/// every request otherwise); and nothing inside a trace that is not kept,
/// so a child of an unsampled span is not made at all.
pub struct SpanFilter {
    targets: Targets,
}

impl Default for SpanFilter {
    fn default() -> Self {
        Self { targets: Targets::new().with_default(Level::INFO).with_target("switchboard", Level::DEBUG) }
    }
}

impl SpanFilter {
    fn by_callsite(&self, meta: &Metadata<'_>) -> bool {
        if meta.is_event() {
            *meta.level() <= Level::WARN
        } else {
            self.targets.would_enable(meta.target(), meta.level())
        }
    }
}

impl<S> Filter<S> for SpanFilter
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn enabled(&self, meta: &Metadata<'_>, cx: &Context<'_, S>) -> bool {
        if !self.by_callsite(meta) {
            return false;
        }
        match cx.lookup_current() {
            Some(span) => span.extensions().get::<SpanData>().is_none_or(|d| d.cx.sampled),
            // An event outside any span has no span to go in.
            None => meta.is_span(),
        }
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if self.by_callsite(meta) { Interest::sometimes() } else { Interest::never() }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::DEBUG)
    }
}

/// A span's extension: its context and, when sampled, what is exported.
struct SpanData {
    cx: TraceContext,
    record: Option<Record>,
}

struct Record {
    /// Zero for a trace's first span.
    parent: [u8; 8],
    /// The parent is the caller's, from its `traceparent`.
    remote_parent: bool,
    name: &'static str,
    kind: u64,
    start: u64,
    attributes: Encoded,
    events: Vec<SpanEvent>,
    /// Set by an error logged in the span: the span's status is then an error.
    error: Option<String>,
}

struct SpanEvent {
    time: u64,
    name: String,
    attributes: Encoded,
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

/// OTLP's span kind: the request a server answers, calls to other
/// services, the rest internal.
fn kind(name: &str) -> u64 {
    match name {
        "request" => 2,
        "github" | "llm" | "log_source" | "slack" | "discord" => 3,
        _ => 1,
    }
}

/// Fields as attributes; the span's `trace_id` field (there for log lines)
/// and an event's `message` (its name) are left out.
struct Fields<'a> {
    attributes: &'a mut Encoded,
    message: Option<&'a mut String>,
}

impl Fields<'_> {
    fn put(&mut self, field: &Field, value: Value<'_>) {
        match field.name() {
            "trace_id" => {}
            "message" if self.message.is_some() => {
                if let Some(m) = self.message.as_deref_mut() {
                    use std::fmt::Write;
                    m.clear();
                    let _ = match value {
                        Value::Str(s) => m.write_str(s),
                        Value::Debug(d) => write!(m, "{d:?}"),
                        _ => Ok(()),
                    };
                }
            }
            name => self.attributes.put(name, &value),
        }
    }
}

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::Str(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::Int(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        match i64::try_from(value) {
            Ok(v) => self.put(field, Value::Int(v)),
            Err(_) => self.put(field, Value::Debug(&value)),
        }
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::Double(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, Value::Debug(value));
    }
}

impl<S> tracing_subscriber::Layer<S> for SpanLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let parent = span.parent().and_then(|p| p.extensions().get::<SpanData>().map(|d| d.cx.clone()));
        let caller = if parent.is_none() { super::take_caller() } else { None };
        let (cx, parent_id, remote_parent) = match (parent, caller) {
            (Some(p), _) => (TraceContext { span_id: ids::span_id(), ..p }, Some(p.span_id), false),
            (None, Some(caller)) => {
                let cx = TraceContext {
                    trace_id: caller.trace_id,
                    span_id: ids::span_id(),
                    sampled: caller.sampled,
                    state: caller.state,
                };
                (cx, Some(caller.parent), true)
            }
            (None, None) => {
                let trace_id = ids::trace_id();
                let sampled = keep(&trace_id, self.ratio);
                (TraceContext { trace_id, span_id: ids::span_id(), sampled, state: None }, None, false)
            }
        };
        let record = cx.sampled.then(|| {
            let meta = attrs.metadata();
            let mut record = Record {
                parent: parent_id.unwrap_or_default(),
                remote_parent,
                name: meta.name(),
                kind: kind(meta.name()),
                start: now(),
                attributes: Encoded::new(9, meta.fields().len()),
                events: Vec::new(),
                error: None,
            };
            attrs.record(&mut Fields { attributes: &mut record.attributes, message: None });
            record
        });
        span.extensions_mut().insert(SpanData { cx, record });
    }

    fn on_record(&self, id: &Id, values: &Values<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut ext = span.extensions_mut();
        if let Some(record) = ext.get_mut::<SpanData>().and_then(|d| d.record.as_mut()) {
            values.record(&mut Fields { attributes: &mut record.attributes, message: None });
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.event_span(event) else {
            return;
        };
        let mut ext = span.extensions_mut();
        let Some(record) = ext.get_mut::<SpanData>().and_then(|d| d.record.as_mut()) else {
            return;
        };
        let level = *event.metadata().level();
        let mut name = String::new();
        let mut attributes = Encoded::new(3, event.metadata().fields().len() + 1);
        attributes.put("level", &Value::Str(level.as_str()));
        event.record(&mut Fields { attributes: &mut attributes, message: Some(&mut name) });
        if level == tracing::Level::ERROR {
            record.error = Some(name.clone());
        }
        if name.is_empty() {
            name = "event".into();
        }
        record.events.push(SpanEvent { time: now(), name, attributes });
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else {
            return;
        };
        let Some(data) = span.extensions_mut().remove::<SpanData>() else {
            return;
        };
        let (true, Some(record)) = (data.cx.sampled, data.record) else {
            return;
        };
        thread_local! {
            static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
        }
        SCRATCH.with(|scratch| {
            let mut buf = scratch.borrow_mut();
            buf.clear();
            encode(&mut buf, &data.cx, &record, now());
            self.batch.push(&buf);
        });
    }
}

/// One span as a `ScopeSpans.spans` field.
fn encode(buf: &mut Vec<u8>, cx: &TraceContext, record: &Record, end: u64) {
    use otlp::{bytes, fixed32, fixed64, message, uint};
    message(buf, 2, |s| {
        bytes(s, 1, &cx.trace_id);
        bytes(s, 2, &cx.span_id);
        if let Some(state) = &cx.state {
            bytes(s, 3, state.as_bytes());
        }
        if record.parent != [0; 8] {
            bytes(s, 4, &record.parent);
        }
        bytes(s, 5, record.name.as_bytes());
        uint(s, 6, record.kind);
        fixed64(s, 7, record.start);
        fixed64(s, 8, end.max(record.start));
        s.extend_from_slice(&record.attributes.bytes);
        for event in &record.events {
            message(s, 11, |e| {
                fixed64(e, 1, event.time);
                bytes(e, 2, event.name.as_bytes());
                e.extend_from_slice(&event.attributes.bytes);
            });
        }
        if let Some(error) = &record.error {
            message(s, 15, |status| {
                bytes(status, 2, error.as_bytes());
                uint(status, 3, 2);
            });
        }
        // Trace flags (sampled), and whether the parent is remote.
        let remote = if record.remote_parent { 0x300 } else { 0x100 };
        fixed32(s, 16, remote | u32::from(cx.sampled));
    });
}

/// The context of span `id` or its nearest ancestor that has one.
pub(super) fn context_of(dispatch: &Dispatch, id: &Id) -> Option<TraceContext> {
    let registry = dispatch.downcast_ref::<Registry>()?;
    let span = registry.span(id)?;
    span.scope().find_map(|s| s.extensions().get::<SpanData>().map(|d| d.cx.clone()))
}
