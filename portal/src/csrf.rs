//! CSRF protection by double submit: a random token in a SameSite=Strict,
//! HttpOnly cookie, repeated by every state-changing request in a form field
//! or the `x-csrf-token` header (htmx sends it from the page). A request whose
//! two copies differ is refused and changes nothing.

use axum::http::HeaderMap;

pub(crate) const COOKIE: &str = "sb_csrf";
pub(crate) const HEADER: &str = "x-csrf-token";

/// The value of cookie `name`, if the request carries it.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The page's token: the cookie's, or a new one with the `Set-Cookie` to send.
pub(crate) fn token(headers: &HeaderMap, secure: bool) -> (String, Option<String>) {
    match cookie(headers, COOKIE).filter(|t| t.len() == 32 && t.chars().all(|c| c.is_ascii_hexdigit())) {
        Some(t) => (t.to_owned(), None),
        None => {
            let t = uuid::Uuid::new_v4().simple().to_string();
            let secure = if secure { "; Secure" } else { "" };
            let set = format!("{COOKIE}={t}; Path=/; SameSite=Strict; HttpOnly{secure}");
            (t, Some(set))
        }
    }
}

/// Whether the request's submitted token matches its cookie (constant time).
pub(crate) fn verify(headers: &HeaderMap, submitted: Option<&str>) -> bool {
    let submitted = submitted.or_else(|| headers.get(HEADER).and_then(|v| v.to_str().ok()));
    match (cookie(headers, COOKIE), submitted) {
        (Some(a), Some(b)) if a.len() == b.len() && !a.is_empty() => {
            a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
        }
        _ => false,
    }
}

/// [`verify`], or the standard denial for a request that did not come from
/// a page of this portal.
pub(crate) fn require(headers: &HeaderMap, submitted: Option<&str>) -> Result<(), crate::error::PageError> {
    if verify(headers, submitted) {
        return Ok(());
    }
    Err(crate::error::PageError(switchboard_core::Error::Denied {
        operation: "this request".into(),
        reason: switchboard_core::error::DenyReason::Csrf,
    }))
}
