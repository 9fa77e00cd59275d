//! The web portal and REST API: axum routers over `core::Service`. Pages are
//! askama templates enhanced with htmx (vendored, served from the binary);
//! the API executes any operation as JSON and documents itself in OpenAPI.

mod api;
mod assets;
mod error;
mod messages;
mod openapi;
mod pages;
mod views;

use std::time::Duration;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderName, Request};
use switchboard_core::model::Role;
use switchboard_core::{Caller, Service};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use error::{ApiError, PageError};

/// How the portal decides who is asking.
#[derive(Clone, Debug)]
pub enum Mode {
    /// Every request acts as the demo admin; pages say so.
    Demo,
    /// Production: API requests authenticate with `Authorization: Bearer`
    /// tokens; without one (and on pages, until sign-in) they are anonymous
    /// viewers who can only read.
    Serve,
}

#[derive(Clone)]
pub struct PortalState {
    pub service: Service,
    pub mode: Mode,
}

impl PortalState {
    fn caller(&self, source: &str) -> Caller {
        match self.mode {
            Mode::Demo => Caller::new(switchboard_core::demo::DEMO_ADMIN, Role::Admin, source),
            Mode::Serve => Caller::new("anonymous", Role::Viewer, source),
        }
    }
}

/// The caller of a portal page.
pub struct PageCaller(pub Caller);

impl FromRequestParts<PortalState> for PageCaller {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(_: &mut Parts, state: &PortalState) -> Result<Self, Self::Rejection> {
        Ok(Self(state.caller("portal")))
    }
}

/// The caller of an API request: the token's user when a Bearer token is
/// presented (a bad token is refused, never downgraded), else the mode's default.
pub struct ApiCaller(pub Caller);

impl FromRequestParts<PortalState> for ApiCaller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &PortalState) -> Result<Self, Self::Rejection> {
        let Some(header) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
            return Ok(Self(state.caller("api")));
        };
        let secret = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or_else(|| {
                ApiError(switchboard_core::Error::Unauthenticated {
                    message: "Expected `Authorization: Bearer <token>`.".into(),
                })
            })?;
        Ok(Self(state.service.authenticate(secret, "api").await?))
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole portal: pages, API, static assets, health; with request ids,
/// tracing, a body limit and a timeout.
pub fn router(state: PortalState) -> Router {
    let config = state.service.config().server.clone();
    Router::new()
        .merge(pages::routes())
        .nest("/api/v1", api::routes())
        .merge(assets::routes())
        .fallback(pages::not_found)
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(config.body_limit_bytes))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(config.request_timeout_secs),
        ))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.extensions().get::<RequestId>().and_then(|r| r.header_value().to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), uri = %req.uri(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}
