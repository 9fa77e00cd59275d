//! The HTTP edge over the real router: security headers on every answer,
//! the Host allow-list (DNS rebinding), request ids that are safe to log,
//! the API refusing what a page of another site can send, and CORS.

mod common;

use common::*;

fn get(uri: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut req = Request::get(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.body(Body::empty()).unwrap()
}

fn post(uri: &str, headers: &[(&str, &str)], body: &str) -> Request<Body> {
    let mut req = Request::post(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.body(Body::from(body.to_owned())).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_the_security_headers() {
    let p = portal().await;
    for uri in ["/", "/projects/orders", "/api/v1/teams", "/static/style.css", "/no/such/page", "/healthz"] {
        let (_, _, h) = p.send(Mode::Demo, get(uri, &[])).await;
        assert_eq!(h["content-security-policy"], switchboard_portal::edge::CONTENT_SECURITY_POLICY, "{uri}");
        assert!(h["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
        assert_eq!(h["x-content-type-options"], "nosniff", "{uri}");
        assert_eq!(h["x-frame-options"], "DENY", "{uri}");
        assert_eq!(h["referrer-policy"], "same-origin", "{uri}");
        assert!(!h.contains_key("strict-transport-security"), "no HSTS over plain http: {uri}");
    }
    let mut c = Config::default();
    c.server.base_url = Some("https://switchboard.example.com".into());
    let tls = portal_with(c).await;
    let (_, _, h) = tls.send(Mode::Serve, get("/healthz", &[])).await;
    assert_eq!(h["strict-transport-security"], "max-age=31536000");
}

/// The pages carry no inline script or style the policy would block: every
/// script and stylesheet is a file of the portal's own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_need_no_inline_script_or_style() {
    let p = portal().await;
    for uri in [
        "/",
        "/projects/orders",
        "/chat",
        "/notifications",
        "/projects",
        "/teams",
        "/runs",
        "/inbox",
        "/login",
        "/admin/users",
    ] {
        let (status, html) = p.page(uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        for inline in [" style=\"", "<style", " onclick=", " onchange=", " onsubmit=", "hx-on", "javascript:"] {
            assert!(!html.contains(inline), "{uri} has {inline:?}");
        }
        for script in html.split("<script").skip(1) {
            assert!(script.trim_start().starts_with("src=\"/static/"), "{uri}: inline script <script{script:.60}");
        }
        assert!(html.contains(r#""includeIndicatorStyles": false"#), "{uri}: htmx adds no style element");
    }
}

/// A page on another site whose name resolves to this server (DNS
/// rebinding) sends its own Host: refused, except for health probes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_hosts_are_refused_but_probes_answered() {
    let mut c = Config::default();
    c.server.base_url = Some("https://switchboard.example.com".into());
    c.server.allowed_hosts = vec!["sb.internal".into()];
    let p = portal_with(c).await;
    for uri in ["/", "/api/v1/projects/orders", "/chat"] {
        let (status, body, _) = p.send(Mode::Demo, get(uri, &[("host", "rebind.attacker.example")])).await;
        assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{uri}");
        assert!(body.contains("server.allowed_hosts"), "says what to set: {body}");
        assert!(!body.contains("orders"), "{body}");
    }
    for host in ["switchboard.example.com", "SB.internal:8080", "localhost:8080", "127.0.0.1"] {
        let (status, _, _) = p.send(Mode::Demo, get("/api/v1/teams", &[("host", host)])).await;
        assert_eq!(status, StatusCode::OK, "{host}");
    }
    let (status, _, _) = p.send(Mode::Demo, get("/healthz", &[("host", "10.0.0.8:8080")])).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_from_clients_are_kept_only_when_safe() {
    let p = portal().await;
    let (_, _, h) = p.send(Mode::Demo, get("/healthz", &[("x-request-id", "trace-42.a:b")])).await;
    assert_eq!(h["x-request-id"], "trace-42.a:b");
    let long = "a".repeat(60_000);
    for bad in [long.as_str(), "x\" level=error msg=\"forged", "a b"] {
        let (_, _, h) = p.send(Mode::Demo, get("/healthz", &[("x-request-id", bad)])).await;
        let id = h["x-request-id"].to_str().unwrap();
        let plain = id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        assert!(plain && id != bad, "replaced with a fresh id: {id}");
    }
    let (_, _, h) = p.send(Mode::Demo, get("/healthz", &[])).await;
    assert!(h.contains_key("x-request-id"), "every answer has one");
}

/// In the demo every browser acts as its admin; a page of another site must
/// not be able to use that. What such a page can send without asking first
/// (a form or `text/plain` body, or anything with its own Origin) changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_refuses_what_other_sites_can_send() {
    let p = portal().await;
    let tier = || async {
        let (_, v) = p.api(Mode::Demo, "POST", "/api/v1/ops/get_project", r#"{"project": "orders"}"#).await;
        v["project"]["facts"]["tier"].clone()
    };
    let before = tier().await;
    let write = r#"{"project": "orders", "key": "tier", "value": "3"}"#;
    type Case<'a> = (&'a [(&'a str, &'a str)], StatusCode, &'a str);
    let cases: [Case; 4] = [
        (&[("content-type", "text/plain"), ("origin", "https://evil.example")], StatusCode::FORBIDDEN, "denied"),
        (&[("content-type", "application/json"), ("origin", "https://evil.example")], StatusCode::FORBIDDEN, "denied"),
        (&[("content-type", "text/plain")], StatusCode::BAD_REQUEST, "bad_input"),
        (
            &[("content-type", "application/x-www-form-urlencoded"), ("sec-fetch-site", "cross-site")],
            StatusCode::FORBIDDEN,
            "denied",
        ),
    ];
    for (headers, status, code) in cases {
        let (got, body, _) = p.send(Mode::Demo, post("/api/v1/ops/set_fact", headers, write)).await;
        assert_eq!(got, status, "{headers:?}: {body}");
        assert!(body.contains(code), "{body}");
    }
    assert_eq!(tier().await, before, "nothing changed");
    // The portal's own pages and programs (no Origin) still write.
    // Another port of the same host is another site (a local dev server, say).
    let next_door =
        [("content-type", "application/json"), ("origin", "http://127.0.0.1:3000"), ("host", "127.0.0.1:8080")];
    let (got, body, _) = p.send(Mode::Demo, post("/api/v1/ops/set_fact", &next_door, write)).await;
    assert_eq!(got, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(tier().await, before, "nothing changed");
    let own = [("content-type", "application/json"), ("origin", "http://127.0.0.1:8080"), ("host", "127.0.0.1:8080")];
    let (got, body, _) = p.send(Mode::Demo, post("/api/v1/ops/set_fact", &own, write)).await;
    assert_eq!(got, StatusCode::OK, "{body}");
    assert_eq!(tier().await["value"], "3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_is_off_unless_origins_are_configured() {
    let preflight = |origin: &str| {
        Request::options("/api/v1/ops/get_project")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type")
            .body(Body::empty())
            .unwrap()
    };
    let p = portal().await;
    let (_, _, h) = p.send(Mode::Demo, preflight("https://tools.example.com")).await;
    assert!(!h.contains_key("access-control-allow-origin"), "off by default");

    let mut c = Config::default();
    c.server.cors_origins = vec!["https://tools.example.com".into()];
    let p = portal_with(c).await;
    let (_, _, h) = p.send(Mode::Demo, preflight("https://tools.example.com")).await;
    assert_eq!(h["access-control-allow-origin"], "https://tools.example.com");
    assert!(h["access-control-allow-headers"].to_str().unwrap().contains("authorization"));
    let (_, _, h) = p.send(Mode::Demo, preflight("https://other.example.com")).await;
    assert!(!h.contains_key("access-control-allow-origin"));
    // A configured origin may also write (with its token).
    let req = post(
        "/api/v1/ops/get_project",
        &[("content-type", "application/json"), ("origin", "https://tools.example.com")],
        r#"{"project": "orders"}"#,
    );
    let (status, _, h) = p.send(Mode::Demo, req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h["access-control-allow-origin"], "https://tools.example.com");
}

/// Assets are linked by fingerprint and cached for a year at that URL;
/// scripts, styles and JSON go compressed to a client that accepts it, pages
/// (a CSRF token beside reflected text) never do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_are_fingerprinted_and_answers_compressed_where_safe() {
    use std::io::Read;
    let p = portal().await;
    let (_, html, _) = p.send(Mode::Demo, get("/", &[])).await;
    let start = html.find("/static/style.css?v=").expect("the stylesheet is linked by fingerprint");
    let linked = &html[start..html[start..].find('"').unwrap() + start];
    let (_, _, h) = p.send(Mode::Demo, get(linked, &[])).await;
    assert_eq!(h["cache-control"], "public, max-age=31536000, immutable");
    let (_, _, h) = p.send(Mode::Demo, get("/static/style.css?v=0000000000000000", &[])).await;
    assert_eq!(h["cache-control"], "public, max-age=300", "an old fingerprint is not kept for a year");

    let raw = |uri: &str, encoding: &str| {
        let req = get(uri, &[("accept-encoding", encoding)]);
        let router = p.router(Mode::Demo);
        async move {
            let resp = router.oneshot(req).await.unwrap();
            let headers = resp.headers().clone();
            (headers, resp.into_body().collect().await.unwrap().to_bytes().to_vec())
        }
    };
    let (plain_headers, plain) = raw("/static/htmx.min.js", "identity").await;
    assert!(plain_headers.get("content-encoding").is_none());
    let (h, gz) = raw("/static/htmx.min.js", "gzip").await;
    assert_eq!(h["content-encoding"], "gzip");
    assert!(h["vary"].to_str().unwrap().to_ascii_lowercase().contains("accept-encoding"));
    assert!(gz.len() < plain.len() / 2, "{} of {}", gz.len(), plain.len());
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(gz.as_slice()).read_to_end(&mut unzipped).unwrap();
    assert_eq!(unzipped, plain);
    let (h, _) = raw("/static/style.css", "br").await;
    assert_eq!(h["content-encoding"], "br");
    let (h, _) = raw("/api/v1/projects", "gzip").await;
    assert_eq!(h["content-encoding"], "gzip", "JSON");
    let (h, page) = raw("/projects", "gzip, br").await;
    assert!(h.get("content-encoding").is_none(), "pages are never compressed");
    assert!(String::from_utf8(page).unwrap().contains("<html"));
    // Security headers still on a compressed answer.
    assert_eq!(h["x-content-type-options"], "nosniff");
}
