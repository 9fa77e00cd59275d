//! `[server]`: where Switchboard listens, who it answers (host names,
//! proxies, browsers from other origins), how long and how many connections
//! it keeps, and whether people must sign in.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on. Default: `127.0.0.1`.
    pub bind: String,
    /// Port to listen on. Default: `8080`.
    pub port: u16,
    /// Public URL of the portal, used in links the bot sends; its host is
    /// one the server answers to. Default: `http://{bind}:{port}`.
    pub base_url: Option<String>,
    /// Largest request body accepted, in bytes. Default: `1048576` (1 MiB).
    pub body_limit_bytes: usize,
    /// Time limit for one request, body included, in seconds. Default: `30`.
    pub request_timeout_secs: u64,
    /// How long a portal sign-in lasts, in hours. Default: `12`.
    pub session_hours: u32,
    /// Whether every page (but health and sign-in), the web chat, the API
    /// and MCP need a signed-in person or a token; without it, anonymous
    /// visitors read as viewers. Default: `true` for `serve`, `false` for `demo`.
    pub require_login: Option<bool>,
    /// Host names (as in the `Host` header) the server answers to besides
    /// `base_url`'s host and loopback names; others get 421, so a DNS
    /// rebinding page cannot read an internal instance. `*` answers any.
    /// Health and metrics answer any host. Default: none.
    pub allowed_hosts: Vec<String>,
    /// Proxies (addresses or CIDR ranges, e.g. `10.0.0.0/8`) whose
    /// `X-Forwarded-For` names the client; rate limits and sign-in throttling
    /// key on that client. Default: none (the peer address is the client).
    pub trusted_proxies: Vec<String>,
    /// Origins (`https://tools.example.com`) allowed to call the API from a
    /// browser with their own credentials (CORS). Default: none, CORS off.
    pub cors_origins: Vec<String>,
    /// Open connections at most; more are closed at once. Default: `1024`.
    pub max_connections: usize,
    /// Open connections from one client address at most (trusted proxies
    /// are held only to `max_connections`). Default: `256`.
    pub max_connections_per_client: usize,
    /// Seconds a client may take to send a request's headers; also how long
    /// an idle kept-alive connection stays open. Default: `10`.
    pub header_read_timeout_secs: u64,
    /// Seconds a request body may pause between two pieces. Default: `10`.
    pub body_read_timeout_secs: u64,
    /// On SIGTERM or Ctrl-C: seconds requests in flight may take to finish,
    /// and then the webhook delivery being processed (what is left after is
    /// cut). Default: `10`.
    pub shutdown_grace_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1".into(),
            port: 8080,
            base_url: None,
            body_limit_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            session_hours: 12,
            require_login: None,
            allowed_hosts: Vec::new(),
            trusted_proxies: Vec::new(),
            cors_origins: Vec::new(),
            max_connections: 1024,
            max_connections_per_client: 256,
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 10,
            shutdown_grace_secs: 10,
        }
    }
}

impl ServerConfig {
    pub fn base_url(&self) -> String {
        self.base_url.clone().unwrap_or_else(|| format!("http://{}:{}", self.bind, self.port))
    }

    /// Whether the portal is served over TLS (cookies get `Secure`, HSTS is sent).
    pub fn is_https(&self) -> bool {
        self.base_url().starts_with("https://")
    }

    /// Host names answered, lowercased: base_url's host, the allow-list and
    /// the loopback names.
    pub fn hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1"].into_iter().map(str::to_owned).collect();
        hosts.extend(host_of(&self.base_url()));
        hosts.extend(self.allowed_hosts.iter().map(|h| h.trim().to_ascii_lowercase()));
        hosts.sort();
        hosts.dedup();
        hosts
    }

    /// The proxies whose `X-Forwarded-For` is believed.
    pub fn proxies(&self) -> Vec<IpNet> {
        self.trusted_proxies.iter().filter_map(|p| p.parse().ok()).collect()
    }

    /// Whether the server listens beyond this machine without saying under
    /// which name it is reached (then only loopback names are answered).
    pub fn public_without_base_url(&self) -> bool {
        let loopback = self.bind.parse::<IpAddr>().is_ok_and(|a| a.is_loopback()) || self.bind == "localhost";
        self.base_url.is_none() && !loopback
    }

    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        let at = |k: &str, m: &str| Err((format!("server.{k}"), m.to_owned()));
        if self.body_limit_bytes < 1024 {
            return at("body_limit_bytes", "must be at least 1024");
        }
        if self.session_hours == 0 {
            return at("session_hours", "must be at least 1");
        }
        if self.request_timeout_secs == 0 {
            return at("request_timeout_secs", "must be at least 1");
        }
        if self.header_read_timeout_secs == 0 || self.body_read_timeout_secs == 0 {
            return at("header_read_timeout_secs", "header and body read timeouts must be at least 1 second");
        }
        if self.shutdown_grace_secs > 3600 {
            return at("shutdown_grace_secs", "at most 3600 (an hour)");
        }
        if self.max_connections == 0 || self.max_connections_per_client == 0 {
            return at("max_connections", "connection caps must be at least 1");
        }
        if let Some(url) = &self.base_url
            && host_of(url).is_none()
        {
            return at(
                "base_url",
                "must be an http:// or https:// URL with a host, e.g. https://switchboard.example.com",
            );
        }
        if let Some(h) = self.allowed_hosts.iter().find(|h| h.trim().is_empty() || h.contains(['/', ' ', '@'])) {
            return at("allowed_hosts", &format!("{h:?} is not a host name; write names like switchboard.internal"));
        }
        if let Some(p) = self.trusted_proxies.iter().find(|p| p.parse::<IpNet>().is_err()) {
            return at("trusted_proxies", &format!("{p:?} is not an address or a CIDR range such as 10.0.0.0/8"));
        }
        if let Some(o) = self.cors_origins.iter().find(|o| !valid_origin(o)) {
            return at("cors_origins", &format!("{o:?} is not an origin; write scheme://host[:port], no path"));
        }
        Ok(())
    }
}

fn valid_origin(o: &str) -> bool {
    let Some((scheme, rest)) = o.split_once("://") else { return false };
    matches!(scheme, "http" | "https") && !rest.is_empty() && !rest.contains(['/', ' ', '*'])
}

/// The part of a URL worth naming in an error or a log line: the same URL
/// without the credentials it may carry (`https://u:p@host/x` → `https://host/x`).
pub fn without_credentials(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", rest.rsplit_once('@').map_or(rest, |(_, host)| host)),
        None => url.to_owned(),
    }
}

/// The lowercased host of an `http(s)://host[:port]/…` URL.
pub fn host_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if !matches!(scheme, "http" | "https") {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map(|(_, a)| a).unwrap_or(authority);
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => authority.rsplit_once(':').map(|(h, _)| h).unwrap_or(authority),
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// An address range: `10.0.0.0/8`, `fd00::/8`, or one address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// IPv4 addresses that arrive mapped into IPv6 (`::ffff:10.0.0.1`) as IPv4.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

impl std::str::FromStr for IpNet {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr = canonical(addr.parse::<IpAddr>().map_err(|e| e.to_string())?);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| format!("bad prefix {p}"))?,
            None => max,
        };
        Ok(Self { addr, prefix })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_come_from_base_url_the_list_and_loopback() {
        let mut s = ServerConfig { base_url: Some("https://SB.example.com:8443/portal".into()), ..Default::default() };
        s.allowed_hosts = vec!["switchboard.internal".into()];
        assert_eq!(s.hosts(), ["127.0.0.1", "::1", "localhost", "sb.example.com", "switchboard.internal"]);
        assert!(s.is_https());
        assert_eq!(host_of("http://[::1]:80/x"), Some("::1".into()));
        assert_eq!(host_of("http://user@h:1"), Some("h".into()));
        assert_eq!(host_of("ftp://h"), None);
        assert_eq!(host_of("https://"), None);
    }

    #[test]
    fn proxies_are_addresses_or_ranges() {
        let net: IpNet = "10.1.0.0/16".parse().unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.0.9".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        let one: IpNet = "fd00::1".parse().unwrap();
        assert!(one.contains("fd00::1".parse().unwrap()) && !one.contains("fd00::2".parse().unwrap()));
        assert!("0.0.0.0/0".parse::<IpNet>().unwrap().contains("8.8.8.8".parse().unwrap()));
        for bad in ["10.0.0.0/33", "ten", "10.0.0.0/x", ""] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_settings_are_named() {
        let check = |s: ServerConfig| s.validate().unwrap_err().0;
        assert_eq!(
            check(ServerConfig { trusted_proxies: vec!["x".into()], ..Default::default() }),
            "server.trusted_proxies"
        );
        assert_eq!(
            check(ServerConfig { cors_origins: vec!["https://a/b".into()], ..Default::default() }),
            "server.cors_origins"
        );
        assert_eq!(
            check(ServerConfig { allowed_hosts: vec!["a b".into()], ..Default::default() }),
            "server.allowed_hosts"
        );
        assert_eq!(
            check(ServerConfig { base_url: Some("switchboard".into()), ..Default::default() }),
            "server.base_url"
        );
        assert_eq!(check(ServerConfig { max_connections: 0, ..Default::default() }), "server.max_connections");
        assert!(ServerConfig::default().validate().is_ok());
        let public = ServerConfig { bind: "0.0.0.0".into(), ..Default::default() };
        assert!(public.public_without_base_url());
        assert!(!ServerConfig::default().public_without_base_url());
    }
}
