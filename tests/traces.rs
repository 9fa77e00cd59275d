//! Traces over OTLP/HTTP: a `demo` pointed at a receiver in this test sends
//! it protobuf spans — the request (in the caller's trace, from its
//! `traceparent`), the operation under it, the store calls under that —
//! and its JSON log lines carry the trace id.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

/// An OTLP/HTTP receiver on a loopback port: every span it is sent.
async fn receiver() -> (String, Arc<Mutex<Vec<Span>>>) {
    let spans = Arc::new(Mutex::new(Vec::new()));
    let keep = spans.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let keep = keep.clone();
            async move {
                assert_eq!(headers["content-type"], "application/x-protobuf", "OTLP/HTTP protobuf");
                let request = ExportTraceServiceRequest::decode(body).expect("an OTLP trace export");
                let mut kept = keep.lock().unwrap();
                for resource in request.resource_spans {
                    let service = resource.resource.iter().flat_map(|r| &r.attributes).any(|a| {
                        a.key == "service.name" && format!("{:?}", a.value).contains("switchboard-under-test")
                    });
                    assert!(service, "the configured service name");
                    kept.extend(resource.scope_spans.into_iter().flat_map(|s| s.spans));
                }
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, spans)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn attribute(span: &Span, key: &str) -> String {
    span.attributes.iter().find(|a| a.key == key).map(|a| format!("{:?}", a.value)).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_go_to_the_collector_in_the_caller_s_trace() {
    switchboard_agents::install_tls_provider();
    let (collector, spans) = receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("switchboard.toml");
    std::fs::write(
        &config,
        format!("[log]\nformat = \"json\"\n\n[traces]\nendpoint = {collector:?}\nservice_name = \"switchboard-under-test\"\n"),
    )
    .unwrap();
    let port = free_port();
    let data = dir.path().join("data");
    let args = [
        "demo",
        "--port",
        &port.to_string(),
        "--data-dir",
        data.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ];
    let (server, _) = start_with(&args, port, &[("OTEL_BSP_SCHEDULE_DELAY", "100")]);

    let (trace, parent) = ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
    let answer = reqwest::Client::new()
        .get(format!("{}/api/v1/projects/orders", server.base))
        .header("traceparent", format!("00-{trace}-{parent}-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);

    // Wait for the batch: the request's span, its operation, the store calls.
    let deadline = Instant::now() + Duration::from_secs(20);
    let ours = loop {
        let ours: Vec<Span> = spans.lock().unwrap().iter().filter(|s| hex(&s.trace_id) == trace).cloned().collect();
        let has = |name: &str| ours.iter().any(|s| s.name == name);
        if has("request") && has("operation") && has("store") {
            break ours;
        }
        assert!(Instant::now() < deadline, "spans of the trace so far: {ours:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let request = ours.iter().find(|s| s.name == "request").unwrap();
    assert_eq!(hex(&request.parent_span_id), parent, "the caller's span is the request's parent");
    assert!(attribute(request, "path").contains("/api/v1/projects/orders"), "{request:?}");
    let operation = ours.iter().find(|s| s.name == "operation").unwrap();
    assert_eq!(operation.parent_span_id, request.span_id, "the operation runs in the request");
    assert!(attribute(operation, "name").contains("get_project"), "{operation:?}");
    let store = ours.iter().filter(|s| s.name == "store").collect::<Vec<_>>();
    assert!(store.iter().all(|s| s.parent_span_id == operation.span_id), "store calls in the operation: {store:?}");
    assert!(attribute(store[0], "backend").contains("sqlite"), "{:?}", store[0]);

    // Every log line of the request carries the trace id.
    let said = server.said_by_now(&format!("\"trace_id\":\"{trace}\""));
    assert!(said.contains(&format!("\"trace_id\":\"{trace}\"")), "{said}");
    drop(server);
}
