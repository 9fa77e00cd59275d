//! Static assets compiled into the binary: htmx (vendored with its license)
//! and the portal's stylesheet and scripts (no inline script anywhere: see edge).
//!
//! Pages link each asset with its content's fingerprint (`/static/style.css?v=…`,
//! [`url`]); an answer to the fingerprinted URL may be cached for a year
//! (`immutable`) — a new build with other contents links another URL — and
//! the plain URL for five minutes.

use axum::Router;
use axum::extract::RawQuery;
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

/// Every asset: its path under `/static/`, content type, contents and
/// their fingerprint (computed when the binary is built, not per page).
const ASSETS: [(&str, &str, &str, u64); 6] = [
    ("htmx.min.js", "text/javascript; charset=utf-8", HTMX, fingerprint(HTMX)),
    ("htmx-LICENSE.txt", "text/plain; charset=utf-8", HTMX_LICENSE, fingerprint(HTMX_LICENSE)),
    ("chat.js", "text/javascript; charset=utf-8", CHAT, fingerprint(CHAT)),
    ("live.js", "text/javascript; charset=utf-8", LIVE, fingerprint(LIVE)),
    ("portal.js", "text/javascript; charset=utf-8", PORTAL, fingerprint(PORTAL)),
    ("style.css", "text/css; charset=utf-8", STYLE, fingerprint(STYLE)),
];

/// FNV-1a over the contents: a fingerprint that changes with them.
const fn fingerprint(body: &str) -> u64 {
    let bytes = body.as_bytes();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

/// The fingerprinted URL of the asset `name` (`style.css`), for templates.
pub fn url(name: &str) -> String {
    match ASSETS.iter().find(|(n, ..)| *n == name) {
        Some((n, _, _, print)) => format!("/static/{n}?v={print:016x}"),
        None => format!("/static/{name}"),
    }
}

fn asset(query: Option<String>, content_type: &'static str, body: &'static str, print: u64) -> impl IntoResponse {
    let current = query.as_deref().and_then(|q| q.strip_prefix("v=")).and_then(|v| u64::from_str_radix(v, 16).ok());
    let cache = if current == Some(print) { "public, max-age=31536000, immutable" } else { "public, max-age=300" };
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, cache)], body)
}

pub(crate) fn routes() -> Router<PortalState> {
    ASSETS.iter().fold(Router::new(), |router, &(name, content_type, body, print)| {
        let answer = move |RawQuery(q): RawQuery| async move { asset(q, content_type, body, print) };
        router.route(&format!("/static/{name}"), get(answer))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_follow_the_contents() {
        assert_ne!(fingerprint("a"), fingerprint("b"));
        assert!(url("style.css").starts_with("/static/style.css?v=") && url("style.css").len() == 36);
        assert_eq!(url("nope.js"), "/static/nope.js");
    }
}
