//! The layer's spans as a collector reads them: decoded with
//! opentelemetry-proto from the bytes the exporter would POST.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;

use super::otlp::{Batch, Sender};
use super::{SpanFilter, SpanLayer, hex, joined, outgoing};

/// Runs `work` under a subscriber with the layer at `ratio`; the spans it exported.
fn exported(ratio: f64, work: impl FnOnce()) -> Vec<Span> {
    super::turn_on();
    let batch = Arc::new(Batch::new(100, 100, Duration::from_millis(1)));
    let layer = SpanLayer::new(ratio, batch.clone()).with_filter(SpanFilter::default());
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, work);
    batch.close();
    let taken = batch.take();
    let sender = Sender::new(&[("service.name".into(), "under-test".into())]);
    let request = ExportTraceServiceRequest::decode(sender.request(&taken.spans).as_slice()).expect("OTLP protobuf");
    let resource = &request.resource_spans[0];
    let service = &resource.resource.as_ref().unwrap().attributes[0];
    assert_eq!(service.key, "service.name");
    let scope = &resource.scope_spans[0];
    assert_eq!(scope.scope.as_ref().unwrap().name, "switchboard");
    assert_eq!(scope.spans.len(), taken.count);
    scope.spans.clone()
}

fn value(span: &Span, key: &str) -> Option<Any> {
    span.attributes.iter().find(|a| a.key == key).and_then(|a| a.value.clone()?.value)
}

fn header(name: &str) -> Option<String> {
    outgoing().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

const CALLER: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[test]
fn a_joined_request_and_its_children_are_exported_with_their_fields() {
    let mut sent = None;
    let spans = exported(0.0, || {
        let request = joined(
            |name| match name {
                "traceparent" => Some(CALLER.into()),
                "tracestate" => Some("vendor=1".into()),
                _ => None,
            },
            || tracing::info_span!("request", path = "/api/v1/projects/orders", trace_id = tracing::field::Empty),
        );
        let _r = request.enter();
        let operation = tracing::debug_span!("operation", name = "get_project", rows = 3u64, cached = false);
        let _o = operation.enter();
        operation.record("ratio", 0.5);
        tracing::warn!(attempt = 2, "slow");
        tracing::error!("it broke");
        sent = Some((header("traceparent").unwrap(), header("tracestate")));
    });
    assert_eq!(spans.len(), 2, "{spans:?}");
    // Children close first.
    let (operation, request) = (&spans[0], &spans[1]);
    assert_eq!(hex(&request.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736", "the caller's trace");
    assert_eq!(hex(&request.parent_span_id), "00f067aa0ba902b7", "the caller's span is the parent");
    assert_eq!((request.kind, request.flags), (2, 0x301), "a server span, sampled, with a remote parent");
    assert_eq!(request.trace_state, "vendor=1");
    assert_eq!(value(request, "path"), Some(Any::StringValue("/api/v1/projects/orders".into())));
    assert_eq!(value(request, "trace_id"), None, "the log lines' copy is not an attribute");

    assert_eq!(operation.trace_id, request.trace_id);
    assert_eq!(operation.parent_span_id, request.span_id);
    assert_eq!((operation.kind, operation.flags), (1, 0x101));
    assert_eq!(value(operation, "name"), Some(Any::StringValue("get_project".into())));
    assert_eq!(value(operation, "rows"), Some(Any::IntValue(3)));
    assert_eq!(value(operation, "cached"), Some(Any::BoolValue(false)));
    assert_eq!(value(operation, "ratio"), None, "a field the span did not declare is not recorded");
    assert!(operation.start_time_unix_nano >= request.start_time_unix_nano);
    assert!(operation.end_time_unix_nano <= request.end_time_unix_nano);
    let names: Vec<&str> = operation.events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["slow", "it broke"]);
    let attempt = operation.events[0].attributes.iter().find(|a| a.key == "attempt");
    assert_eq!(attempt.and_then(|a| a.value.clone()?.value), Some(Any::IntValue(2)));
    let status = operation.status.as_ref().unwrap();
    assert_eq!((status.code, status.message.as_str()), (2, "it broke"));

    let (traceparent, tracestate) = sent.unwrap();
    assert_eq!(traceparent, format!("00-4bf92f3577b34da6a3ce929d0e0e4736-{}-01", hex(&operation.span_id)));
    assert_eq!(tracestate.as_deref(), Some("vendor=1"));
}

#[test]
fn unsampled_traces_are_not_exported_but_still_passed_on() {
    let mut sent = Vec::new();
    let spans = exported(1.0, || {
        let request = joined(
            |name| (name == "traceparent").then(|| CALLER.replace("-01", "-00")),
            || tracing::info_span!("request"),
        );
        let _r = request.enter();
        let outer = super::current();
        let _store = tracing::debug_span!("store").entered();
        assert_eq!(super::current(), outer, "a span in a trace not kept is not given to the layer");
        tracing::error!("not kept");
        sent.push(header("traceparent").unwrap());
    });
    assert!(spans.is_empty(), "the caller said not to keep it: {spans:?}");
    assert!(sent[0].starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-") && sent[0].ends_with("-00"), "{sent:?}");

    let spans = exported(0.0, || {
        let _r = tracing::info_span!("request").entered();
        let _o = tracing::debug_span!("operation").entered();
    });
    assert!(spans.is_empty(), "a new trace at ratio 0: {spans:?}");

    let store_call = || {
        let call = crate::metrics::timed_store_call("sqlite", "read", async {});
        tokio::runtime::Builder::new_current_thread().build().expect("a runtime").block_on(call);
    };
    let spans = exported(1.0, store_call);
    assert!(spans.is_empty(), "a queue's poll outside any request starts no trace: {spans:?}");
    let spans = exported(1.0, || {
        let _r = tracing::info_span!("request").entered();
        store_call();
    });
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["store", "request"], "the same call inside a request is its child");
    assert_eq!(spans[0].parent_span_id, spans[1].span_id);

    let spans = exported(1.0, || {
        let request =
            joined(|name| (name == "traceparent").then(|| "00-garbage-01".into()), || tracing::info_span!("request"));
        let _r = request.enter();
        let _o = tracing::debug_span!("github").entered();
    });
    assert_eq!(spans.len(), 2, "a malformed traceparent starts a trace of its own");
    assert_eq!((spans[0].kind, spans[1].parent_span_id.len()), (3, 0), "a client span; a root");
}
