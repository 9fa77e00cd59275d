//! What operators and their tools ask the process: `/livez` (it answers;
//! `/healthz` is its older name), `/readyz` (every store it depends on
//! answers — `switchboard_core::health`), and Prometheus's `/metrics`
//! (docs/production.md), with the HTTP request metrics every route is
//! counted by.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::json;
use switchboard_core::Service;
use switchboard_core::limits::ClientAddr;

use crate::PortalState;

/// Latency buckets in seconds: a millisecond to half a minute.
const BUCKETS: [f64; 14] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's metrics recorder, installed on first use: a process has
/// one, and every `Service` in it records into it.
pub fn recorder() -> &'static PrometheusHandle {
    RECORDER.get_or_init(|| {
        let recorder =
            PrometheusBuilder::new().set_buckets(&BUCKETS).expect("the latency buckets are not empty").build_recorder();
        let handle = recorder.handle();
        // Nothing else installs one; if something did, its series are its own.
        let _ = metrics::set_global_recorder(recorder);
        metrics::gauge!("switchboard_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
        handle
    })
}

pub(crate) fn routes() -> Router<PortalState> {
    Router::new()
        .route("/livez", get(livez))
        .route("/healthz", get(livez))
        .route("/readyz", get(readyz))
        .route("/metrics", get(main_listener_metrics))
}

async fn livez() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

async fn readyz(State(state): State<PortalState>) -> Response {
    ready_answer(&state.service).await
}

async fn ready_answer(service: &Service) -> Response {
    let checks = service.readiness().await;
    let ready = switchboard_core::health::ready(&checks);
    for c in checks.iter().filter(|c| c.required && !c.ok) {
        tracing::warn!(check = c.name, detail = %c.detail, "not ready");
    }
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(json!({"status": if ready { "ready" } else { "not_ready" }, "checks": checks}))).into_response()
}

/// `/metrics` on the main listener: only to clients on this machine, and
/// not at all when `[metrics]` serves it elsewhere or is off.
async fn main_listener_metrics(State(state): State<PortalState>, request: Request) -> Response {
    let config = &state.service.config().metrics;
    // A proxy on this machine forwarding someone else's request is not local.
    let forwarded = ["forwarded", "x-forwarded-for", "x-real-ip"].iter().any(|h| request.headers().contains_key(*h));
    let local = !forwarded && request.extensions().get::<ClientAddr>().is_some_and(|c| c.0.is_loopback());
    if !config.enabled || config.listen.is_some() {
        return (StatusCode::NOT_FOUND, "metrics are not served here (see [metrics] in the configuration)\n")
            .into_response();
    }
    if !local {
        return (
            StatusCode::FORBIDDEN,
            "metrics are answered only to this machine; set [metrics] listen to serve them on an address of their own\n",
        )
            .into_response();
    }
    render(&state.service).await
}

/// The exposition text, with the queue gauges read now.
pub async fn render(service: &Service) -> Response {
    if let Err(e) = service.measure_queues().await {
        tracing::warn!(error = %e, "metrics: the queues could not be measured");
    }
    let handle = recorder();
    handle.run_upkeep();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render()).into_response()
}

/// `[metrics] listen`: `/metrics` on an address of its own, with `/livez`
/// and `/readyz` — a worker, which has no other listener, is probed there.
pub fn own_listener(service: Service) -> Router {
    let ready = service.clone();
    Router::new()
        .route("/metrics", get(move || async move { render(&service).await }))
        .route("/livez", get(livez))
        .route("/readyz", get(move || async move { ready_answer(&ready).await }))
}

/// Counts every request by route template, method and status, with its
/// latency (`switchboard_http_requests_total`,
/// `switchboard_http_request_duration_seconds`). A path that matched no
/// route is `unmatched`, so a scan of random paths adds no series.
pub(crate) async fn track(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned());
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let route = route.unwrap_or_else(|| "unmatched".into());
    let status = response.status().as_u16().to_string();
    metrics::counter!("switchboard_http_requests_total", "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!("switchboard_http_request_duration_seconds", "route" => route, "method" => method)
        .record(started.elapsed().as_secs_f64());
    response
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
