//! The edge as one tower service around every router: a request id that
//! is safe to log, the client's address, the `Host` check, a deadline for
//! the whole request and a pause limit inside its body, a tracing span, and
//! the security headers on the answer. One service instead of a stack of
//! layers: it is on the path of every webhook, and each layer cost
//! throughput (the benchmark lost a fifth of its deliveries a second).

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{HeaderName, HeaderValue, Request, Response, StatusCode, header};
use axum::response::IntoResponse;
use http_body::Frame;
use switchboard_core::config::ServerConfig;
use switchboard_core::limits::ClientAddr;
use tracing::Instrument;

use super::guard::{Guard, REQUEST_ID, misdirected, safe_request_id};

/// The headers every answer carries.
const ALWAYS: [(HeaderName, &str); 4] = [
    (header::CONTENT_SECURITY_POLICY, super::guard::CONTENT_SECURITY_POLICY),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "same-origin"),
];

/// Request ids for requests that bring none: a random prefix for this
/// process and a counter (no system call per request, unlike random ids).
struct Ids {
    prefix: String,
    next: AtomicU64,
}

impl Ids {
    fn new() -> Self {
        Self { prefix: uuid::Uuid::new_v4().simple().to_string()[..12].to_owned(), next: AtomicU64::new(1) }
    }

    fn make(&self) -> HeaderValue {
        use std::fmt::Write;
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut id = String::with_capacity(self.prefix.len() + 17);
        id.push_str(&self.prefix);
        let _ = write!(id, "-{n:x}");
        HeaderValue::from_maybe_shared(Bytes::from(id)).expect("hex and a dash")
    }
}

/// A request's span: its access log line and every line under it carry
/// these fields, and it is the request's span in traces. Public for the
/// benchmark that measures what spans cost a request.
pub fn request_span(method: &str, path: &str, request_id: &str) -> tracing::Span {
    tracing::info_span!(
        "request",
        method = %method,
        path = %path,
        request_id = %request_id,
        trace_id = tracing::field::Empty,
    )
}

/// What the edge applies, from `[server]`.
#[derive(Clone)]
pub(crate) struct Edge {
    guard: Arc<Guard>,
    ids: Arc<Ids>,
    request_timeout: Duration,
    body_pause: Duration,
}

impl Edge {
    pub(crate) fn new(server: &ServerConfig) -> Self {
        Self {
            guard: Guard::new(server),
            ids: Arc::new(Ids::new()),
            request_timeout: Duration::from_secs(server.request_timeout_secs),
            body_pause: Duration::from_secs(server.body_read_timeout_secs),
        }
    }
}

impl<S> tower::Layer<S> for Edge {
    type Service = EdgeService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        EdgeService { inner, edge: self.clone() }
    }
}

#[derive(Clone)]
pub struct EdgeService<S> {
    inner: S,
    edge: Edge,
}

/// The whole app behind the edge: what `serve` serves.
pub type Edged = EdgeService<axum::Router>;

type Answer = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

impl<S> tower::Service<Request<Body>> for EdgeService<S>
where
    S: tower::Service<Request<Body>, Response = Response<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Answer;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let edge = self.edge.clone();
        // The clone that was made ready is the one that serves this request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let (mut parts, body) = req.into_parts();
        let id = match parts.headers.get(REQUEST_ID) {
            Some(v) if safe_request_id(v) => v.clone(),
            _ => edge.ids.make(),
        };
        parts.headers.insert(REQUEST_ID, id.clone());
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        parts.extensions.insert(ClientAddr(edge.guard.client(peer, &parts.headers)));
        // With traces on: part of the caller's trace when it sent a traceparent.
        let span = switchboard_core::traces::joined(
            |name| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned),
            || request_span(parts.method.as_str(), parts.uri.path(), id.to_str().unwrap_or("-")),
        );
        let allowed = edge.guard.host_allowed(&parts);
        let req = Request::from_parts(parts, Body::new(Paced::new(body, edge.body_pause)));
        Box::pin(
            async move {
                let started = Instant::now();
                let mut response = if !allowed {
                    misdirected()
                } else {
                    match tokio::time::timeout(edge.request_timeout, inner.call(req)).await {
                        Ok(Ok(r)) => r,
                        Ok(Err(never)) => match never {},
                        Err(_) => timed_out(edge.request_timeout),
                    }
                };
                // The access log: one line a request, in its span (method,
                // path, request id), whatever router answered it.
                let status = response.status();
                let ms = started.elapsed().as_millis() as u64;
                if status.is_server_error() {
                    tracing::error!(status = status.as_u16(), ms, "request failed");
                } else {
                    tracing::info!(status = status.as_u16(), ms, "request");
                }
                let headers = response.headers_mut();
                for (name, value) in ALWAYS {
                    headers.entry(name).or_insert(HeaderValue::from_static(value));
                }
                if edge.guard.hsts() {
                    headers
                        .entry(header::STRICT_TRANSPORT_SECURITY)
                        .or_insert(HeaderValue::from_static("max-age=31536000"));
                }
                headers.insert(REQUEST_ID, id);
                Ok(response)
            }
            .instrument(span),
        )
    }
}

fn timed_out(limit: Duration) -> Response<Body> {
    let message = crate::messages::timed_out(limit.as_secs());
    let body = serde_json::json!({"error": {"code": "timeout", "message": message}});
    (StatusCode::REQUEST_TIMEOUT, axum::Json(body)).into_response()
}

/// A request body that may not pause longer than `pause` between two
/// pieces. The timer is set only while the body waits, so a body that
/// arrives with its headers (most do) costs none.
struct Paced {
    inner: Body,
    pause: Duration,
    waiting: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Paced {
    fn new(inner: Body, pause: Duration) -> Self {
        Self { inner, pause, waiting: None }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the request body paused longer than server.body_read_timeout_secs")]
struct BodyPaused;

impl http_body::Body for Paced {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.waiting = None;
                Poll::Ready(frame)
            }
            Poll::Pending => {
                let pause = this.pause;
                let sleep = this.waiting.get_or_insert_with(|| Box::pin(tokio::time::sleep(pause)));
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(BodyPaused)))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
