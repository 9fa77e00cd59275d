//! `server.require_login` (on for `serve` unless turned off): pages send
//! people to sign in and back, the web chat and the API refuse strangers,
//! health and sign-in stay open, and a chat thread belongs to its person.

mod common;

use common::*;

fn get(uri: &str, cookies: &str) -> Request<Body> {
    let mut r = Request::get(uri);
    if !cookies.is_empty() {
        r = r.header("cookie", cookies);
    }
    r.body(Body::empty()).unwrap()
}

/// Signs `user` in through the form; returns the cookies a browser then sends.
async fn sign_in(p: &Portal, user: &str) -> String {
    let admin = Caller::new("cli", Role::Admin, "cli");
    p.service.set_password(&admin, &user.parse().unwrap(), "a long enough passphrase", None).await.unwrap();
    let (_, _, headers) = p.send(Mode::Serve, get("/login", "")).await;
    let c = headers["set-cookie"].to_str().unwrap();
    let token = c["sb_csrf=".len()..c.find(';').unwrap()].to_owned();
    let body = format!("csrf={token}&user={user}&password=a+long+enough+passphrase&next=%2Fchat");
    let (status, _, headers) = p.send(Mode::Serve, form("/login", &format!("sb_csrf={token}"), &body, false)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/chat", "back where they were going");
    let session = headers["set-cookie"].to_str().unwrap();
    format!("sb_csrf={token}; {}", &session[..session.find(';').unwrap()])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_are_sent_to_sign_in_and_refused_elsewhere() {
    let p = portal().await;
    for page in ["/", "/projects/orders", "/chat", "/runs?status=pending", "/inbox"] {
        let (status, _, headers) = p.send(Mode::Serve, get(page, "")).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        assert!(headers["location"].to_str().unwrap().starts_with("/login"), "{page}");
    }
    let (_, _, headers) = p.send(Mode::Serve, get("/projects/orders?tab=x", "")).await;
    assert_eq!(headers["location"], "/login?next=/projects/orders%3Ftab%3Dx");
    for open in ["/healthz", "/login", "/static/style.css"] {
        assert_eq!(p.send(Mode::Serve, get(open, "")).await.0, StatusCode::OK, "{open}");
    }
    let before = p.service.log().count().await.unwrap();
    let (_, _, h) = p.send(Mode::Serve, get("/login", "")).await;
    let c = h["set-cookie"].to_str().unwrap();
    let token = c["sb_csrf=".len()..c.find(';').unwrap()].to_owned();
    let chat = form("/chat/messages", &format!("sb_csrf={token}"), &format!("csrf={token}&text=list+teams"), true);
    let (status, body, headers) = p.send(Mode::Serve, chat).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(headers["hx-redirect"], "/login", "the page goes to sign in");
    let (status, api) = p.api(Mode::Serve, "GET", "/api/v1/projects/orders", "").await;
    assert_eq!((status, api["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthenticated")));
    assert_eq!(p.service.log().count().await.unwrap(), before, "nothing was said or recorded");
    // A forged return address is not followed.
    let (_, html, _) = p.send(Mode::Serve, get("/login?next=//evil.example/x", "")).await;
    assert!(html.contains(r#"name="next" value="/""#), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_persons_chat_is_theirs_in_every_browser() {
    let p = portal().await;
    let carol = sign_in(&p, "carol").await;
    let (status, html, _) = p.send(Mode::Serve, get("/chat", &carol)).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let token = carol.split("sb_csrf=").nth(1).unwrap().split(';').next().unwrap().to_owned();
    let ask = form("/chat/messages", &carol, &format!("csrf={token}&text=tell+me+about+payments-api"), true);
    let (status, said, headers) = p.send(Mode::Serve, ask).await;
    assert_eq!(status, StatusCode::OK);
    assert!(said.contains("tell me about payments-api"), "{said}");
    assert!(headers.get("set-cookie").is_none(), "a signed-in thread needs no chat cookie");
    // Carol from another browser (a new session) sees her conversation.
    let elsewhere = sign_in(&p, "carol").await;
    let (_, html, _) = p.send(Mode::Serve, get("/chat", &elsewhere)).await;
    assert!(html.contains("tell me about payments-api"), "{html}");
    // Someone else holding a copied chat cookie does not.
    let dave = sign_in(&p, "dave").await;
    let (_, html, _) = p.send(Mode::Serve, get("/chat", &format!("{dave}; sb_chat={}", "0".repeat(32)))).await;
    assert!(!html.contains("tell me about payments-api"), "dave does not see carol's thread");
    // Signed out, the conversation is out of reach.
    let (status, _, _) = p.send(Mode::Serve, form("/logout", &carol, &format!("csrf={token}"), false)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(p.send(Mode::Serve, get("/chat", &carol)).await.0, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_conversations_are_pruned_after_the_retention() {
    let mut c = Config::default();
    c.chat.retention_days = 1;
    let p = portal_with(c).await;
    let carol = Caller::new("carol", Role::Editor, "portal");
    p.service.record_turn(&carol, "web:carol", "who owns orders?", "the orders team", None).await.unwrap();
    assert_eq!(p.service.prune_chat().await.unwrap(), 0, "a fresh turn stays");
    assert_eq!(p.service.chat_history("web:carol").await.unwrap().len(), 2);
    p.clock.advance(2 * 86_400_000);
    assert_eq!(p.service.prune_chat().await.unwrap(), 2);
    assert!(p.service.chat_history("web:carol").await.unwrap().is_empty());
}
