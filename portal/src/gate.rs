//! `server.require_login`: every page but health, sign-in and static files
//! needs a signed-in person. A browser asking for a page is sent to sign in
//! (and back afterwards); anything else is refused. The API checks its
//! tokens itself.

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use switchboard_core::Caller;

use crate::PortalState;

/// The person the gate let through, for the handlers to reuse.
#[derive(Clone)]
pub(crate) struct SignedIn(pub Caller);

/// Paths anyone may reach, signed in or not.
fn open(path: &str) -> bool {
    matches!(path, "/livez" | "/healthz" | "/readyz" | "/metrics" | "/login" | "/logout")
        || ["/static/", "/auth/", "/api/"].iter().any(|p| path.starts_with(p))
}

/// Where to come back to after signing in: a path of this portal only.
pub(crate) fn local_path(next: &str) -> Option<&str> {
    // Browsers drop tabs and line breaks from URLs (`/\t/evil` becomes
    // `//evil`) and read `\` as `/`: only plain printable characters pass.
    let plain = next.chars().all(|c| !c.is_control() && !c.is_whitespace() && c != '\\');
    (plain && next.starts_with('/') && !next.starts_with("//") && next.len() <= 2000).then_some(next)
}

pub(crate) async fn require_sign_in(State(state): State<PortalState>, mut req: Request, next: Next) -> Response {
    if !state.require_login || open(req.uri().path()) {
        return next.run(req).await;
    }
    if let Some(caller) = state.signed_in(req.headers(), "portal").await {
        req.extensions_mut().insert(SignedIn(caller));
        return next.run(req).await;
    }
    let here = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let login = if here == "/" { "/login".to_owned() } else { format!("/login?next={}", encode(here)) };
    let htmx = req.headers().contains_key("hx-request");
    if matches!(*req.method(), Method::GET | Method::HEAD) && !htmx {
        return Redirect::to(&login).into_response();
    }
    let e = switchboard_core::Error::Unauthenticated { message: crate::messages::sign_in_required().into() };
    let mut response = crate::PageError(e).into_response();
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    if htmx {
        // htmx shows no 4xx answer; this makes it go to the sign-in page (a
        // session that ended while the page was open).
        if let Ok(v) = axum::http::HeaderValue::from_str("/login") {
            response.headers_mut().insert("hx-redirect", v);
        }
    }
    response
}

/// Percent-encodes text for a query value.
pub(crate) fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_./~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(super::local_path("/projects/orders?x=1"), Some("/projects/orders?x=1"));
        for bad in [
            "//evil.example",
            "https://evil.example",
            "evil",
            "/\\evil.example",
            "/a\r\nSet-Cookie: x",
            "/\t/evil.example",
            "/\u{1}x",
            "/ /evil.example",
        ] {
            assert_eq!(super::local_path(bad), None, "{bad}");
        }
    }
}
