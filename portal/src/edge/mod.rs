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
pub use layer::Edged;
pub use serve::serve;

/// `app` behind the edge, as `[server]` says: one service around the whole
/// router (not a layer on each of its routes).
pub fn wrap(app: Router, server: &ServerConfig) -> Edged {
    let app = app.layer(axum::middleware::from_fn(crate::health::track));
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
