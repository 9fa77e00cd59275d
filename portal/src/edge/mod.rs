//! The HTTP edge every router sits behind once the binary composes them:
//! request ids, tracing, the client address (behind trusted proxies), the
//! `Host` allow-list, security headers, CORS when configured, and time
//! limits on requests and bodies; and the accept loop that caps connections.

pub(crate) mod guard;
mod serve;

use std::time::Duration;

use axum::Router;
use axum::http::{Method, Request, header};
use switchboard_core::config::ServerConfig;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
use tower_http::trace::TraceLayer;

pub use guard::CONTENT_SECURITY_POLICY;
pub use serve::serve;

use guard::REQUEST_ID;

/// `app` behind the edge, as `[server]` says.
pub fn wrap(app: Router, server: &ServerConfig) -> Router {
    let mut app = app.layer(RequestBodyTimeoutLayer::new(Duration::from_secs(server.body_read_timeout_secs))).layer(
        TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(server.request_timeout_secs),
        ),
    );
    if !server.cors_origins.is_empty() {
        let origins = server.cors_origins.iter().filter_map(|o| o.parse().ok()).collect::<Vec<_>>();
        app = app.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
                .max_age(Duration::from_secs(600)),
        );
    }
    app.layer(axum::middleware::from_fn_with_state(guard::Guard::new(server), guard::guard))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.extensions().get::<RequestId>().and_then(|r| r.header_value().to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(axum::middleware::from_fn(guard::request_id))
}
