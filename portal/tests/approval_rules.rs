//! Approval rules, freezes and editors kept to their teams, refused the same
//! way through every portal surface: the REST API (tokens), the run page's
//! buttons, and the web chat (its buttons and typed "approve RUN"). The
//! policy is `tests/fixtures/approval-rules.toml` on the demo organisation:
//! payments (alice, bob, carol), checkout (dave, erin, frank).

mod common;

use common::*;
use switchboard_core::model::RunStatus;

const RULES: &str = include_str!("../../tests/fixtures/approval-rules.toml");
const TOKEN: &str = "0123456789abcdef0123456789abcdef";

async fn rules() -> Portal {
    portal_with(Config::parse(RULES, "approval-rules.toml", &[]).unwrap()).await
}

/// A run asked by frank (checkout's editor) or carol (payments').
async fn asked(p: &Portal, who: &str, project: &str, environment: &str) -> String {
    let caller = Caller::new(who, Role::Editor, "test");
    let args = json!({"project": project, "environment": environment, "version": "1.2.3"});
    let run = p.service.execute_json(&caller, "deploy", args).await.unwrap().to_json();
    run["id"].as_str().unwrap().to_owned()
}

async fn run_status(p: &Portal, run: &str) -> RunStatus {
    p.service.graph().get_run(&run.parse().unwrap()).await.unwrap().unwrap().status
}

async fn token(p: &Portal, user: &str) -> String {
    let admin = Caller::new("cli", Role::Admin, "cli");
    p.service.create_token(&admin, &user.parse().unwrap(), None, None).await.unwrap().secret
}

async fn api_as(p: &Portal, secret: &str, op: &str, body: Value) -> (StatusCode, String) {
    let req = Request::post(format!("/api/v1/ops/{op}"))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {secret}"))
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, body, _) = p.send(Mode::Serve, req).await;
    (status, body)
}

#[tokio::test]
async fn the_api_refuses_what_the_rules_refuse_and_says_what_a_run_waits_for() {
    let p = rules().await;
    let (bob, carol, erin) = (token(&p, "bob").await, token(&p, "carol").await, token(&p, "erin").await);
    let production = asked(&p, "frank", "orders", "production").await;
    let frozen = asked(&p, "carol", "payments-api", "staging").await;
    let before = p.service.log().count().await.unwrap();

    // bob approves, but orders is checkout's.
    let (status, body) = api_as(&p, &bob, "approve_run", json!({"run": production})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("needs an approver from team checkout"), "{body}");
    // carol (payments' editor) changes checkout's project.
    let (status, body) =
        api_as(&p, &carol, "set_fact", json!({"project": "orders", "key": "tier", "value": "2"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("editors change only their own teams' projects"), "{body}");
    // A payments run in payments' freeze.
    let (status, body) = api_as(&p, &bob, "approve_run", json!({"run": frozen})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("during the freeze \\\"payments freeze\\\""), "{body}");
    assert_eq!(run_status(&p, &frozen).await, RunStatus::Pending);
    assert_eq!(p.service.log().count().await.unwrap(), before, "refusals change nothing");

    // erin (checkout) approves: production asks her to confirm, then it is the first of two.
    let (status, body) = api_as(&p, &erin, "approve_run", json!({"run": production})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains(r#""field":"confirm""#) && body.contains("asks for a confirmation"), "{body}");
    assert_eq!(run_status(&p, &production).await, RunStatus::Pending);
    let (status, body) = api_as(&p, &erin, "approve_run", json!({"run": production, "confirm": true})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let run: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(run["status"], "pending");
    assert_eq!(run["needs"], json!({"approvals": 2, "team": "checkout"}));
}

#[tokio::test]
async fn the_run_page_refuses_with_the_rule_and_shows_what_the_run_needs() {
    let p = rules().await;
    let production = asked(&p, "frank", "orders", "production").await;
    let (_, html) = p.page(&format!("/runs/{production}")).await;
    assert!(html.contains(r#"<td id="run-needs">2 approvals from team checkout"#), "{html}");
    // What it will do; to erin (checkout), the confirmation production asks for, and Deny asks why.
    let page_as = |who: &str| {
        axum::http::Request::get(format!("/runs/{production}"))
            .header("cookie", format!("sb_as={who}"))
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let (_, html, _) = p.send(Mode::Demo, page_as("erin")).await;
    assert!(html.contains(r#"<strong class="mono">1.2.3</strong>"#), "{html}");
    assert!(html.contains(r#"name="confirm" value="true" required"#), "{html}");
    assert!(html.contains(r#"id="deny-reason" name="reason""#), "Deny asks why: {html}");
    // Who may not approve reads why instead of buttons.
    let (_, html, _) = p.send(Mode::Demo, page_as("bob")).await;
    assert!(html.contains(r#"<p id="why-not">You cannot approve this run: "#), "{html}");
    assert!(html.contains("needs an approver from team checkout") && !html.contains(r#"id="approve-run""#), "{html}");

    let decide = |who: &str, run: &str| {
        let jar = format!("sb_csrf={TOKEN}; sb_as={who}");
        form(&format!("/runs/{run}/decide"), &jar, &format!("csrf={TOKEN}&decision=approve"), false)
    };
    let (status, html, _) = p.send(Mode::Demo, decide("bob", &production)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("needs an approver from team checkout"), "{html}");
    let frozen = asked(&p, "carol", "payments-api", "staging").await;
    let (status, html, _) = p.send(Mode::Demo, decide("bob", &frozen)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("payments freeze"), "{html}");
    assert_eq!(run_status(&p, &frozen).await, RunStatus::Pending);

    // Unconfirmed, nothing changes; confirmed, erin's approval counts.
    let (status, html, _) = p.send(Mode::Demo, decide("erin", &production)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("asks for a confirmation"), "{html}");
    let jar = format!("sb_csrf={TOKEN}; sb_as=erin");
    let confirmed = form(
        &format!("/runs/{production}/decide"),
        &jar,
        &format!("csrf={TOKEN}&decision=approve&confirm=true"),
        false,
    );
    let (status, _, _) = p.send(Mode::Demo, confirmed).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = p.page(&format!("/runs/{production}")).await;
    assert!(html.contains(r#"id="run-status">pending<"#) && html.contains("erin approved"), "{html}");
}

#[tokio::test]
async fn the_web_chat_refuses_buttons_and_typed_decisions_alike() {
    let p = rules().await;
    let production = asked(&p, "frank", "orders", "production").await;
    let frozen = asked(&p, "carol", "payments-api", "staging").await;
    let jar = |who: &str| format!("sb_csrf={TOKEN}; sb_chat=0123456789abcdef0123456789abcdef; sb_as={who}");
    let click = |who: &str, action: String| {
        form("/chat/actions", &jar(who), &format!("csrf={TOKEN}&action={}", enc(&action)), true)
    };
    let say =
        |who: &str, text: String| form("/chat/messages", &jar(who), &format!("csrf={TOKEN}&text={}", enc(&text)), true);

    let (_, html, _) = p.send(Mode::Demo, click("bob", format!("approve_run:{production}"))).await;
    assert!(html.contains("needs an approver from team checkout"), "{html}");
    let (_, html, _) = p.send(Mode::Demo, say("bob", format!("approve {frozen}"))).await;
    assert!(html.contains("during the freeze"), "{html}");
    let (_, html, _) = p.send(Mode::Demo, say("carol", "deploy orders to staging".into())).await;
    assert!(html.contains("editors change only their own teams"), "{html}");
    assert_eq!(
        (run_status(&p, &production).await, run_status(&p, &frozen).await),
        (RunStatus::Pending, RunStatus::Pending)
    );

    // erin's approval counts; the reply says what is still needed.
    // erin clicks Approve: production asks her to confirm first; typed, "confirm" says it.
    let (_, html, _) = p.send(Mode::Demo, click("erin", format!("approve_run:{production}"))).await;
    assert!(html.contains("This goes to production: approve it?"), "{html}");
    assert!(html.contains(&format!(r#"value="approve_confirmed:{production}""#)), "{html}");
    assert_eq!(run_status(&p, &production).await, RunStatus::Pending);
    let (_, html, _) = p.send(Mode::Demo, say("erin", format!("approve {production} confirm"))).await;
    assert!(html.contains("approved by erin, and it needs more approvals."), "{html}");
    let waiting = "Waiting for approval by 2 different members of team checkout with the approver role (not frank, who asked); 1 so far.";
    assert!(html.contains(waiting), "{html}");
    // erin reads that her part is done; dave (checkout, a viewer) why he may not.
    assert!(html.contains("You cannot approve this run") && html.contains("already approved"), "{html}");
    let chat_as = |who: &str| {
        axum::http::Request::get("/chat").header("cookie", jar(who)).body(axum::body::Body::empty()).unwrap()
    };
    let (_, html, _) = p.send(Mode::Demo, chat_as("dave")).await;
    assert!(html.contains("You cannot approve this run") && html.contains("needs the approver role"), "{html}");
    assert!(!html.contains(&format!(r#"value="approve_run:{production}""#)), "{html}");
}
