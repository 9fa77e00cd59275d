//! The HTTP edge every router sits behind once the binary composes them:
//! request ids, tracing, the client address (behind trusted proxies), the
//! `Host` allow-list, security headers, CORS when configured, and time
//! limits on requests and bodies; and the accept loop that caps connections.

pub(crate) mod guard;
mod layer;
mod serve;

use std::time::Duration;

use axum::Router;
use axum::http::{Method, header};
use switchboard_core::config::ServerConfig;
use tower_http::cors::{AllowOrigin, CorsLayer};

pub use guard::CONTENT_SECURITY_POLICY;
pub use layer::{Edged, request_span};
pub use serve::serve;

/// Answers compressed (br or gzip, as the client accepts) when they are
/// scripts, stylesheets, JSON, or plain text over 1 KiB. Not HTML pages:
/// they carry a CSRF token beside text a visitor can put in the URL (a search),
/// which compression would let a watcher of sizes guess (BREACH); not event
/// streams, which must go out as they are written.
fn compression() -> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    use tower_http::compression::Predicate as _;
    use tower_http::compression::predicate::SizeAbove;
    const COMPRESSED: [&str; 5] = ["text/css", "text/javascript", "application/json", "text/plain", "image/svg+xml"];
    let kind =
        |_: axum::http::StatusCode, _: axum::http::Version, h: &axum::http::HeaderMap, _: &axum::http::Extensions| {
            h.get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| COMPRESSED.iter().any(|c| t.starts_with(c)))
        };
    tower_http::compression::CompressionLayer::new().compress_when(SizeAbove::new(1024).and(kind))
}

/// `app` behind the edge, as `[server]` says: one service around the whole
/// router (not a layer on each of its routes).
pub fn wrap(app: Router, server: &ServerConfig) -> Edged {
    let app = app.layer(axum::middleware::from_fn(crate::health::track)).layer(compression());
    let app = if server.cors_origins.is_empty() {
        app
    } else {
        let origins = server.cors_origins.iter().filter_map(|o| o.parse().ok()).collect::<Vec<_>>();
        app.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
                .max_age(Duration::from_secs(600)),
        )
    };
    tower::Layer::layer(&layer::Edge::new(server), app)
}
