//! Rate limits over the real router: the API per token or address, refused
//! tokens per address, the web chat per person, sign-in per address; each
//! answered 429 with `Retry-After`, and the next client unaffected.

mod common;

use common::*;

async fn with_limits(edit: impl FnOnce(&mut switchboard_core::config::LimitsConfig)) -> Portal {
    let mut c = Config::default();
    // Anonymous API callers, so the address bucket can be shown.
    c.server.require_login = Some(false);
    edit(&mut c.limits);
    portal_with(c).await
}

fn get(uri: &str, token: Option<&str>) -> Request<Body> {
    let mut r = Request::get(uri);
    if let Some(t) = token {
        r = r.header("authorization", format!("Bearer {t}"));
    }
    r.body(Body::empty()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_answers_429_with_retry_after_past_its_limit() {
    let p = with_limits(|l| l.api_per_minute = 3).await;
    for _ in 0..3 {
        assert_eq!(p.send(Mode::Serve, get("/api/v1/teams", None)).await.0, StatusCode::OK);
    }
    let (status, body, headers) = p.send(Mode::Serve, get("/api/v1/teams", None)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(headers["retry-after"], "20");
    assert!(body.contains("rate_limited") && body.contains("Try again in 20 s"), "{body}");
    // A token's requests count for its user, not for the address.
    let admin = Caller::new("cli", Role::Admin, "cli");
    let t = p.service.create_token(&admin, &"carol".parse().unwrap(), None, None).await.unwrap();
    assert_eq!(p.send(Mode::Serve, get("/api/v1/teams", Some(&t.secret))).await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessed_tokens_are_refused_then_slowed() {
    let p = with_limits(|l| l.bad_credentials_per_minute = 2).await;
    let mut statuses = Vec::new();
    for i in 0..4 {
        statuses.push(p.send(Mode::Serve, get("/api/v1/teams", Some(&format!("sb_guess{i}")))).await.0.as_u16());
    }
    assert_eq!(statuses, [401, 401, 429, 429]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_chat_is_limited_per_person_and_says_so_in_the_page() {
    let p = with_limits(|l| l.chat_per_minute = 2).await;
    let (_, _, h) = p.send(Mode::Demo, Request::get("/chat").body(Body::empty()).unwrap()).await;
    let token = h["set-cookie"].to_str().unwrap().split(';').next().unwrap().split_once('=').unwrap().1.to_owned();
    let cookies = format!("sb_csrf={token}");
    let ask = || form("/chat/messages", &cookies, &format!("csrf={token}&text=list+teams"), true);
    for _ in 0..2 {
        let (status, body, _) = p.send(Mode::Demo, ask()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("team(s)"), "{body}");
    }
    let (status, body, headers) = p.send(Mode::Demo, ask()).await;
    assert_eq!(status, StatusCode::OK, "shown in the conversation");
    assert!(body.contains("Too many chat messages"), "{body}");
    assert!(headers.contains_key("retry-after"));
    let plain = form("/chat/messages", &cookies, &format!("csrf={token}&text=list+teams"), false);
    assert_eq!(p.send(Mode::Demo, plain).await.0, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_attempts_are_limited_per_address() {
    let p = with_limits(|l| l.sign_in_per_minute = 2).await;
    let (_, _, h) = p.send(Mode::Serve, Request::get("/login").body(Body::empty()).unwrap()).await;
    let token = h["set-cookie"].to_str().unwrap().split(';').next().unwrap().split_once('=').unwrap().1.to_owned();
    let cookies = format!("sb_csrf={token}");
    let attempt = || form("/login", &cookies, &format!("csrf={token}&user=alice&password=guess+guess+guess"), false);
    for _ in 0..2 {
        let (status, body, _) = p.send(Mode::Serve, attempt()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(body.contains("Wrong user name or password."), "{body}");
    }
    let (status, body, headers) = p.send(Mode::Serve, attempt()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(body.contains("Too many sign-in attempts"), "{body}");
    assert_eq!(headers["retry-after"], "30");
}
