//! What the edge knows and checks: which request ids are safe to log, the
//! client's address behind trusted proxies, and the `Host` allow-list.

use std::net::IpAddr;
use std::sync::Arc;

use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use switchboard_core::config::{IpNet, ServerConfig, canonical};

pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The portal's policy for what a page may load: its own scripts, styles and
/// connections only; never framed; forms post only here.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Paths answered whatever the `Host`: probes reach them by address.
const ANY_HOST: [&str; 4] = ["/livez", "/healthz", "/readyz", "/metrics"];

/// What the guard knows, from `[server]`.
pub(crate) struct Guard {
    hosts: Vec<String>,
    any_host: bool,
    proxies: Vec<IpNet>,
    hsts: bool,
}

impl Guard {
    pub(crate) fn new(server: &ServerConfig) -> Arc<Self> {
        let hosts = server.hosts();
        Arc::new(Self {
            any_host: hosts.iter().any(|h| h == "*"),
            hosts,
            proxies: server.proxies(),
            hsts: server.is_https(),
        })
    }

    pub(crate) fn trusted(&self, ip: IpAddr) -> bool {
        self.proxies.iter().any(|p| p.contains(ip))
    }

    /// The client: the peer, or when the peer is a trusted proxy, the last
    /// address in `X-Forwarded-For` that is not one of ours.
    pub(crate) fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusted(peer) {
            return peer;
        }
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        let mut client = peer;
        for hop in forwarded.iter().rev() {
            // Some proxies add the port: `203.0.113.9:4711`, `[2001:db8::1]:4711`.
            let ip = hop.parse::<IpAddr>().ok().or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()));
            match ip {
                Some(ip) => {
                    client = canonical(ip);
                    if !self.trusted(client) {
                        break;
                    }
                }
                None => break,
            }
        }
        client
    }

    /// Whether answers carry HSTS (the portal is served over TLS).
    pub(crate) fn hsts(&self) -> bool {
        self.hsts
    }

    pub(crate) fn host_allowed(&self, req: &Parts) -> bool {
        if self.any_host || ANY_HOST.contains(&req.uri.path()) {
            return true;
        }
        let host = match req.headers.get(header::HOST) {
            // A Host that is not plain text names no host of ours.
            Some(h) => match h.to_str() {
                Ok(h) => Some(h),
                Err(_) => return false,
            },
            None => req.uri.host(),
        };
        // A request without a host is no browser's (DNS rebinding needs one).
        let Some(host) = host else { return true };
        let name = match host.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default(),
            None => host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host),
        };
        let name = name.trim_end_matches('.');
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(name))
    }
}

/// A client's `x-request-id` is kept only when it is short and of safe
/// characters; otherwise the edge makes a new one (it is logged).
pub(crate) fn safe_request_id(value: &HeaderValue) -> bool {
    let v = value.as_bytes();
    (1..=64).contains(&v.len()) && v.iter().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b))
}

pub(crate) fn misdirected() -> Response {
    let body = serde_json::json!({"error": {"code": "unknown_host", "message": crate::messages::unknown_host()}});
    (StatusCode::MISDIRECTED_REQUEST, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(edit: impl FnOnce(&mut ServerConfig)) -> Arc<Guard> {
        let mut s = ServerConfig::default();
        edit(&mut s);
        Guard::new(&s)
    }

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let g = guard(|s| s.trusted_proxies = vec!["10.0.0.0/8".into()]);
        let proxy: IpAddr = "10.1.2.3".parse().unwrap();
        let outside: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(g.client(proxy, &headers("198.51.100.7")), "198.51.100.7".parse::<IpAddr>().unwrap());
        // A client cannot pick its address by sending the header itself.
        assert_eq!(g.client(outside, &headers("198.51.100.7")), outside);
        // The spoofed left part of a chain is skipped: the last hop not ours wins.
        assert_eq!(
            g.client(proxy, &headers("1.2.3.4, 198.51.100.7, 10.9.9.9")),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(g.client(proxy, &headers("junk")), proxy);
        assert_eq!(g.client(proxy, &headers("198.51.100.7:4711")), "198.51.100.7".parse::<IpAddr>().unwrap());
        assert_eq!(g.client(proxy, &headers("[2001:db8::1]:80")), "2001:db8::1".parse::<IpAddr>().unwrap());
        assert_eq!(g.client(proxy, &HeaderMap::new()), proxy);
    }

    #[test]
    fn hosts_are_checked_without_port_or_case() {
        let g = guard(|s| s.base_url = Some("https://sb.example.com".into()));
        let req = |host: &str, path: &str| {
            let mut r = axum::http::Request::builder().uri(path);
            if !host.is_empty() {
                r = r.header("host", host);
            }
            r.body(axum::body::Body::empty()).unwrap().into_parts().0
        };
        for ok in
            ["sb.example.com", "SB.Example.com:443", "localhost:8080", "127.0.0.1", "[::1]:80", "sb.example.com.", ""]
        {
            assert!(g.host_allowed(&req(ok, "/")), "{ok}");
        }
        for bad in ["evil.example", "sb.example.com.evil.example", "10.0.0.5:8080"] {
            assert!(!g.host_allowed(&req(bad, "/projects")), "{bad}");
            assert!(g.host_allowed(&req(bad, "/healthz")), "probes: {bad}");
        }
        let any = guard(|s| s.allowed_hosts = vec!["*".into()]);
        assert!(any.host_allowed(&req("anything.example", "/")));
    }

    #[test]
    fn request_ids_are_kept_only_when_short_and_plain() {
        let ok = |v: &str| safe_request_id(&HeaderValue::from_str(v).unwrap());
        assert!(ok("4f1c0a7e-94c2-4b38-9d1e-7c8b2a6f0e11") && ok("abc.DEF_1:2"));
        assert!(!ok("") && !ok(&"a".repeat(65)) && !ok("a b") && !ok("x\" level=error") && !ok("a\tb"));
    }
}
