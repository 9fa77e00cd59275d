//! Static assets compiled into the binary: htmx (vendored with its license)
//! and the portal's stylesheet and scripts (no inline script anywhere: see edge).

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::PortalState;

const HTMX: &str = include_str!("../static/htmx.min.js");
const HTMX_LICENSE: &str = include_str!("../static/htmx-LICENSE");
const CHAT: &str = include_str!("../static/chat.js");
const LIVE: &str = include_str!("../static/live.js");
const PORTAL: &str = include_str!("../static/portal.js");
const STYLE: &str = include_str!("../static/style.css");

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=3600")], body)
}

pub(crate) fn routes() -> Router<PortalState> {
    Router::new()
        .route("/static/htmx.min.js", get(|| async { asset("text/javascript; charset=utf-8", HTMX) }))
        .route("/static/htmx-LICENSE.txt", get(|| async { asset("text/plain; charset=utf-8", HTMX_LICENSE) }))
        .route("/static/chat.js", get(|| async { asset("text/javascript; charset=utf-8", CHAT) }))
        .route("/static/live.js", get(|| async { asset("text/javascript; charset=utf-8", LIVE) }))
        .route("/static/portal.js", get(|| async { asset("text/javascript; charset=utf-8", PORTAL) }))
        .route("/static/style.css", get(|| async { asset("text/css; charset=utf-8", STYLE) }))
}
