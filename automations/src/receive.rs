//! The receivers: `POST /hooks/github`, `/hooks/pagerduty` and
//! `/hooks/generic/{source}`. Each checks the signature over the raw body
//! first, then the headers and JSON, stores the delivery in the inbox and
//! only then answers 202. Bad deliveries get a 4xx and store nothing.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use sha2::Digest;
use switchboard_core::Service;
use switchboard_core::inbox::{Accepted, Inbox, NewDelivery};
use switchboard_core::limits::{ClientAddr, Limit, Who};

use crate::signature::{self, Expected, SignatureError};
use crate::{events, messages};

/// What the receivers and the processor share.
#[derive(Clone)]
pub struct Hooks {
    pub service: Service,
    pub inbox: Arc<dyn Inbox>,
    /// Wakes the processor when a delivery arrives.
    pub wake: Arc<tokio::sync::Notify>,
}

impl Hooks {
    pub fn new(service: Service, inbox: Arc<dyn Inbox>) -> Self {
        Self { service, inbox, wake: Arc::new(tokio::sync::Notify::new()) }
    }
}

pub fn router(hooks: Hooks) -> Router {
    let limit = hooks.service.config().webhooks.body_limit_bytes;
    Router::new()
        .route("/hooks/github", post(github))
        .route("/hooks/pagerduty", post(pagerduty))
        .route("/hooks/generic/{source}", post(generic))
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(count))
        .with_state(hooks)
}

/// How a delivery was answered, for the metrics: `accepted`, `duplicate`
/// or a refusal's code.
#[derive(Clone, Copy)]
struct Answered(&'static str);

/// Counts each delivery by source (`github`, `pagerduty`, `generic`) and how
/// it was answered (`switchboard_webhook_deliveries_total`).
async fn count(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let path = request.uri().path();
    let source = ["github", "pagerduty", "generic"]
        .into_iter()
        .find(|s| path.strip_prefix("/hooks/").is_some_and(|p| p.starts_with(s)))
        .unwrap_or("other");
    let response = next.run(request).await;
    let result = match response.extensions().get::<Answered>() {
        Some(a) => a.0,
        None if response.status() == StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        None => "refused",
    };
    switchboard_core::metrics::webhook(source, result);
    response
}

/// A refusal: status, a stable code and a sentence saying what to fix.
#[derive(Debug)]
pub struct Refused {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<u64>,
}

impl Refused {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), retry_after: None }
    }
}

impl From<SignatureError> for Refused {
    fn from(e: SignatureError) -> Self {
        let code = match e {
            SignatureError::Missing(_) => "missing_signature",
            SignatureError::Malformed(..) => "malformed_signature",
            SignatureError::Mismatch => "bad_signature",
        };
        Self::new(StatusCode::UNAUTHORIZED, code, e.to_string())
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        tracing::info!(status = %self.status, code = self.code, "webhook delivery refused");
        let mut response =
            (self.status, Json(json!({"error": {"code": self.code, "message": self.message}}))).into_response();
        response.extensions_mut().insert(Answered(self.code));
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

/// MACs over bodies up to this size are computed in place; larger ones on
/// the service's bounded CPU pool, so big bodies never hold the async workers.
const INLINE_MAC_BYTES: usize = 64 * 1024;

/// Checks a signature header's shape, then the body against it. A failure
/// counts against the sender's address; past `limits.bad_credentials_per_minute`
/// it is answered 429. A correctly signed delivery is never refused for volume.
async fn verify(
    hooks: &Hooks,
    address: Option<ClientAddr>,
    parsed: Result<Expected, SignatureError>,
    secrets: Vec<String>,
    body: &Bytes,
) -> Result<(), Refused> {
    let checked = match parsed {
        Err(e) => Err(e),
        Ok(expected) if body.len() <= INLINE_MAC_BYTES => expected.verify(&secrets, body),
        Ok(expected) => {
            let body = body.clone();
            let job = hooks.service.cpu().run(move || expected.verify(&secrets, &body)).await;
            // Busy: the sender retries a 503 (GitHub's redeliveries, PagerDuty's retries).
            job.map_err(|_| Refused::new(StatusCode::SERVICE_UNAVAILABLE, "busy", messages::busy()))?
        }
    };
    let Err(e) = checked else { return Ok(()) };
    let address = address.map(|a| a.0).unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    if let Err(switchboard_core::Error::RateLimited { message, retry_after_secs }) =
        hooks.service.limits().check(Limit::BadCredentials, Who::Address(address))
    {
        let mut refused = Refused::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message);
        refused.retry_after = Some(retry_after_secs);
        return Err(refused);
    }
    Err(e.into())
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn required<'h>(headers: &'h HeaderMap, name: &'static str) -> Result<&'h str, Refused> {
    header(headers, name)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| Refused::new(StatusCode::BAD_REQUEST, "missing_header", messages::missing_header(name)))
}

fn malformed(e: serde_json::Error) -> Refused {
    Refused::new(StatusCode::BAD_REQUEST, "malformed_json", messages::malformed_json(&e.to_string()))
}

/// Parses the body (PagerDuty's envelope is read at once).
fn json_body(body: &[u8]) -> Result<Value, Refused> {
    serde_json::from_slice(body).map_err(malformed)
}

/// Checks that the body is JSON without building it (the processor parses it later).
fn check_json(body: &[u8]) -> Result<(), Refused> {
    serde_json::from_slice::<serde::de::IgnoredAny>(body).map(|_| ()).map_err(malformed)
}

async fn store(hooks: &Hooks, source: &str, delivery_id: &str, event: &str, body: Bytes) -> Result<Response, Refused> {
    let delivery = NewDelivery {
        source: source.to_owned(),
        delivery_id: delivery_id.to_owned(),
        event: event.to_owned(),
        received_at: hooks.service.now(),
        body: body.to_vec(),
    };
    let accepted = hooks.inbox.accept(&delivery).await.map_err(|e| {
        tracing::error!(error = %e, source, "cannot store a webhook delivery");
        Refused::new(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", messages::store_unavailable())
    })?;
    let (id, duplicate) = match accepted {
        Accepted::New(id) => {
            hooks.wake.notify_one();
            (id, false)
        }
        Accepted::Duplicate(id) => (id, true),
    };
    tracing::debug!(source, event, delivery_id, duplicate, "webhook delivery stored");
    let mut response =
        (StatusCode::ACCEPTED, Json(json!({"accepted": true, "delivery": id, "duplicate": duplicate}))).into_response();
    response.extensions_mut().insert(Answered(if duplicate { "duplicate" } else { "accepted" }));
    Ok(response)
}

async fn github(
    State(hooks): State<Hooks>,
    address: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Refused> {
    let Some(secret) = hooks.service.config().webhooks.github_secret.clone() else {
        return Err(Refused::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_configured",
            messages::not_configured("github"),
        ));
    };
    let parsed = signature::parse_github(header(&headers, "x-hub-signature-256"));
    verify(&hooks, address.map(|a| a.0), parsed, vec![secret], &body).await?;
    let event = required(&headers, "X-GitHub-Event")?;
    let delivery = required(&headers, "X-GitHub-Delivery")?;
    if !events::GITHUB.contains(&event) {
        return Err(Refused::new(StatusCode::BAD_REQUEST, "unknown_event", messages::unknown_event("GitHub", event)));
    }
    check_json(&body)?;
    store(&hooks, "github", delivery, event, body).await
}

async fn pagerduty(
    State(hooks): State<Hooks>,
    address: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Refused> {
    let secrets = hooks.service.config().webhooks.pagerduty_secrets.clone();
    if secrets.is_empty() {
        return Err(Refused::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_configured",
            messages::not_configured("pagerduty"),
        ));
    }
    let parsed = signature::parse_pagerduty(header(&headers, "x-pagerduty-signature"));
    verify(&hooks, address.map(|a| a.0), parsed, secrets, &body).await?;
    let payload = json_body(&body)?;
    let field = |name: &str| payload["event"][name].as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    let (Some(id), Some(event)) = (field("id"), field("event_type")) else {
        return Err(Refused::new(StatusCode::BAD_REQUEST, "malformed_json", messages::pagerduty_envelope()));
    };
    if !events::PAGERDUTY.contains(&event.as_str()) {
        return Err(Refused::new(
            StatusCode::BAD_REQUEST,
            "unknown_event",
            messages::unknown_event("PagerDuty", &event),
        ));
    }
    store(&hooks, "pagerduty", &id, &event, body).await
}

async fn generic(
    State(hooks): State<Hooks>,
    address: Option<Extension<ClientAddr>>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Refused> {
    let config = hooks.service.config().webhooks.generic.get(&source).cloned();
    let Some(config) = config else {
        return Err(Refused::new(StatusCode::NOT_FOUND, "unknown_source", messages::unknown_source(&source)));
    };
    let Some(secret) = config.secret.as_deref() else {
        return Err(Refused::new(StatusCode::SERVICE_UNAVAILABLE, "not_configured", messages::not_configured(&source)));
    };
    let name = config.signature_header.as_str();
    let parsed = signature::parse_generic(name, &config.signature_prefix, header(&headers, name));
    verify(&hooks, address.map(|a| a.0), parsed, vec![secret.to_owned()], &body).await?;
    check_json(&body)?;
    let event = match &config.event_header {
        Some(h) => header(&headers, h).filter(|v| !v.trim().is_empty()).unwrap_or(&source).to_owned(),
        None => source.clone(),
    };
    let delivery = match config.delivery_header.as_deref().and_then(|h| header(&headers, h)) {
        Some(id) if !id.trim().is_empty() => id.to_owned(),
        _ => signature::hex(&sha2::Sha256::digest(&body)),
    };
    store(&hooks, &source, &delivery, &event, body).await
}
