//! The web chat follows a run it asked for: under the request, what Slack
//! and Discord say in its thread (decisions, steps, the outcome), read
//! again every few seconds while more may come.

mod common;

use common::*;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";

fn jar(who: &str) -> String {
    format!("sb_csrf={TOKEN}; sb_chat=fedcba9876543210fedcba9876543210; sb_as={who}")
}

#[tokio::test]
async fn a_requested_run_is_followed_under_its_request() {
    let p = portal().await;
    let body = format!("csrf={TOKEN}&text={}", enc("deploy orders to staging"));
    let (_, html, _) = p.send(Mode::Demo, form("/chat/messages", &jar("carol"), &body, true)).await;
    let start = html.find(r#"id="thread-"#).unwrap_or_else(|| panic!("a thread under the request: {html}"));
    let run = &html[start + r#"id="thread-"#.len()..][..36];
    assert!(html.contains(&format!(r#"hx-get="/chat/runs/{run}/thread""#)), "followed while pending: {html}");
    assert!(html.contains("Waiting for a decision…"), "{html}");

    // bob approves from his own chat: carol's thread says so.
    let click = form(
        "/chat/actions",
        &jar("bob"),
        &format!("csrf={TOKEN}&action={}", enc(&format!("approve_run:{run}"))),
        true,
    );
    let (_, clicked, _) = p.send(Mode::Demo, click).await;
    assert!(
        clicked.contains(&format!(r#"id="thread-{run}""#)) && clicked.contains("<li>Approved by bob.</li>"),
        "{clicked}"
    );
    let (status, thread, _) =
        p.send(Mode::Demo, Request::get(format!("/chat/runs/{run}/thread")).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        thread.starts_with(r#"<div class="run-thread""#) && thread.contains("<li>Approved by bob.</li>"),
        "{thread}"
    );
    // No engine runs deploys in this test: the run waits, and the thread says why.
    assert!(
        thread.contains("<li>Waiting: No process runs deploy runs yet: give serve or a worker a GitHub App"),
        "{thread}"
    );

    // The page, read again, shows the request with its thread.
    let (_, page, _) =
        p.send(Mode::Demo, Request::get("/chat").header("cookie", jar("carol")).body(Body::empty()).unwrap()).await;
    let turn = &page[page.find("deploy orders to staging").expect("carol's turn")..];
    assert!(turn.contains(&format!(r#"id="thread-{run}""#)) && turn.contains("<li>Approved by bob.</li>"), "{turn}");

    // A run that does not exist, or an id that is not one: 404.
    for id in ["01936d2e-0000-7000-8000-000000000000", "nope"] {
        let (status, _, _) =
            p.send(Mode::Demo, Request::get(format!("/chat/runs/{id}/thread")).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{id}");
    }
}
