//! Property tests of what the portal reads from requests before anything
//! else: client addresses behind proxies, Host headers, request ids, return
//! paths after sign-in, cookies, and the single sign-on flow cookie.

use std::net::IpAddr;

use axum::http::{HeaderMap, HeaderValue};
use proptest::prelude::*;
use switchboard_core::config::ServerConfig;

use crate::edge::guard::{Guard, safe_request_id};
use crate::gate::local_path;

proptest! {
    #[test]
    fn a_client_cannot_choose_its_address_without_a_trusted_proxy(
        peer in any::<[u8; 4]>(),
        forwarded in ".{0,120}",
    ) {
        let g = Guard::new(&ServerConfig { trusted_proxies: vec!["10.0.0.0/8".into()], ..Default::default() });
        let peer = IpAddr::from(peer);
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&forwarded) {
            h.insert("x-forwarded-for", v);
        }
        let client = g.client(peer, &h);
        let trusted = matches!(peer, IpAddr::V4(v4) if v4.octets()[0] == 10);
        if !trusted {
            prop_assert_eq!(client, peer);
        }
    }

    #[test]
    fn any_host_header_is_answered_or_refused(host in ".{0,80}", path in "/[a-z/]{0,20}") {
        let g = Guard::new(&ServerConfig { base_url: Some("https://sb.example.com".into()), ..Default::default() });
        let mut req = axum::http::Request::builder().uri(path.as_str());
        let sent = HeaderValue::from_str(&host).ok();
        if let Some(v) = sent.clone() {
            req = req.header("host", v);
        }
        if let Ok(req) = req.body(axum::body::Body::empty()) {
            let allowed = g.host_allowed(&req.into_parts().0);
            let lower = host.to_ascii_lowercase();
            if allowed && sent.is_some() && !["/livez", "/healthz", "/readyz", "/metrics"].contains(&path.as_str()) {
                prop_assert!(
                    lower.starts_with("sb.example.com") || lower.starts_with("localhost")
                        || lower.starts_with("127.0.0.1") || lower.starts_with("[::1]") || lower.starts_with("::1"),
                    "{host}"
                );
            }
        }
    }

    #[test]
    fn kept_request_ids_are_short_and_plain(id in ".{0,100}") {
        if let Ok(v) = HeaderValue::from_str(&id)
            && safe_request_id(&v)
        {
            prop_assert!(id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c)));
        }
    }

    #[test]
    fn sign_in_only_returns_to_this_portal(next in ".{0,80}") {
        if let Some(p) = local_path(&next) {
            prop_assert!(p.starts_with('/') && !p.starts_with("//"));
            prop_assert!(!p.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\'));
        }
    }

    #[test]
    fn cookie_headers_of_any_shape_are_read(header in "[ -~]{0,200}", name in "[a-z_]{1,10}") {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&header) {
            h.insert("cookie", v);
        }
        if let Some(value) = crate::csrf::cookie(&h, &name) {
            prop_assert!(header.contains(value));
        }
        let _ = crate::csrf::verify(&h, Some(&name));
    }

    #[test]
    fn the_sign_on_flow_cookie_is_read_or_ignored(value in "[ -~]{0,200}") {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&format!("sb_oidc={value}")) {
            h.insert("cookie", v);
        }
        if let Some(f) = crate::oidc::flow_for_tests(&h) {
            prop_assert!(local_path(&f).is_some());
        }
    }
}
