//! The portal through its real router: pages asserted on their HTML, the REST
//! API on status codes and JSON, on the demo organisation.

mod common;

use common::*;

#[tokio::test]
async fn home_shows_counts_events_and_the_demo_banner() {
    let p = portal().await;
    let (status, html) = p.page("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"<div class="n" id="count-projects">60</div>"#), "{html}");
    assert!(html.contains(r#"id="count-teams">6<"#));
    assert!(html.contains("Demo mode: you are acting as demo-admin (admin)"));
    assert!(html.contains("class=\"event event-"), "recent events are listed");
    assert!(html.contains(r#"<script src="/static/htmx.min.js?v="#), "assets are linked by fingerprint");
}

#[tokio::test]
async fn projects_list_and_htmx_search() {
    let p = portal().await;
    let (_, html) = p.page("/projects").await;
    assert_eq!(html.matches("class=\"project-row\"").count(), 60);
    assert!(html.contains(r#"hx-get="/projects""#));
    // htmx asks for rows only.
    let req = Request::get("/projects?q=ledger").header("hx-request", "true").body(Body::empty()).unwrap();
    let (status, rows, _) = p.send(Mode::Demo, req).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!rows.contains("<html"), "a partial, not a page");
    assert!(rows.contains(r#"href="/projects/payments-ledger""#), "{rows}");
    assert_eq!(rows.matches("class=\"project-row\"").count(), 1);
    let (_, html) = p.page("/projects?team=checkout&type=api").await;
    assert!(html.contains(r#"href="/projects/orders""#));
    assert!(!html.contains(r#"href="/projects/checkout-web""#));
    let (_, html) = p.page("/projects?q=zzzznothing").await;
    assert!(html.contains("No project matches."));
}

#[tokio::test]
async fn project_page_shows_everything_about_a_project() {
    let p = portal().await;
    let (status, html) = p.page("/projects/checkout").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"<a href="/teams/checkout" id="owner">Checkout</a>"#), "owner team");
    assert!(html.contains(r#"id="score""#));
    for part in ["facts", "incidents", "ci", "deployments"] {
        assert!(html.contains(&format!("<tr><td>{part}</td>")), "score part {part}");
    }
    assert!(html.contains(r#"<a href="/packages/redis">redis</a></td><td class="mono">7.2.4</td>"#), "dependencies");
    assert!(html.contains("<td>production</td>"), "environments");
    assert!(
        html.contains("redis 7.0.15 → 7.2.4") || html.contains("redis 6.2.14 → 7.2.4"),
        "history shows the upgrade"
    );
    assert!(html.contains("acme/checkout"), "external ids");
    let (status, html) = p.page("/projects/no-such-project").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("No project named") && html.contains("no-such-project"), "{html}");
    let (status, html) = p.page("/projects/Bad%20Slug").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("lowercase letters"), "{html}");
}

#[tokio::test]
async fn team_package_and_runs_pages() {
    let p = portal().await;
    let (_, html) = p.page("/teams").await;
    assert_eq!(html.matches("class=\"team-row\"").count(), 6);
    let (status, html) = p.page("/teams/payments").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h1>Payments</h1>"));
    assert!(html.contains(r#"href="/projects/payments-api""#));
    assert!(html.contains("Alice Moreau"));
    let (status, html) = p.page("/packages/redis").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Who uses <span class=\"mono\">redis</span>"));
    assert!(html.contains(r#"<a href="/projects/checkout">checkout</a>"#));
    assert!(html.contains("7.2.4"));
    let (status, html) = p.page("/packages/@types/node").await;
    assert_eq!(status, StatusCode::OK, "scoped package names with a slash work");
    assert!(html.contains("@types/node"));
    let (status, _) = p.page("/packages?name=redis").await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    let admin = Caller::new("carol", Role::Editor, "test");
    let run = p
        .service
        .execute_json(&admin, "deploy", json!({"project": "orders", "environment": "staging"}))
        .await
        .unwrap()
        .to_json();
    let (_, html) = p.page("/runs?status=pending").await;
    assert!(html.contains("(what development runs) to staging"), "{html}");
    let (status, html) = p.page(&format!("/runs/{}", run["id"].as_str().unwrap())).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"id="run-status">pending<"#));
    let (status, _) = p.page("/runs/not-a-run").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn errors_assets_and_health() {
    let p = portal().await;
    let (status, html) = p.page("/nowhere").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("There is no page here"));
    let (status, js) = p.page("/static/htmx.min.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(js.len() > 10_000);
    let (_, license) = p.page("/static/htmx-LICENSE.txt").await;
    assert!(license.contains("Zero-Clause BSD"));
    let (status, body) = p.page("/healthz").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, r#"{"status":"ok"}"#));
    let (_, _, headers) = p.send(Mode::Demo, Request::get("/").body(Body::empty()).unwrap()).await;
    assert!(headers.contains_key("x-request-id"), "every response carries a request id");
}

#[tokio::test]
async fn api_runs_operations_with_json() {
    let p = portal().await;
    let (status, body) = p.api(Mode::Demo, "POST", "/api/v1/ops/dependents", r#"{"package": "redis"}"#).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["total"].as_u64().unwrap() > 0);
    let (status, body) = p
        .api(Mode::Demo, "POST", "/api/v1/ops/set_fact", r#"{"project": "orders", "key": "tier", "value": "2"}"#)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["fact"]["value"], "2");
    let (status, body) = p.api(Mode::Demo, "GET", "/api/v1/projects/orders", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["project"]["facts"]["tier"]["value"], "2");
    let (_, body) = p.api(Mode::Demo, "GET", "/api/v1/projects?q=ledger&limit=5", "").await;
    assert_eq!(body["projects"][0]["slug"], "payments-ledger");
    let (_, body) = p.api(Mode::Demo, "GET", "/api/v1/projects?uses=redis@7.2.4", "").await;
    assert!(body["projects"].as_array().unwrap().iter().any(|p| p["slug"] == "checkout"));
    let (_, body) = p.api(Mode::Demo, "GET", "/api/v1/projects/checkout/history?subject=redis%207", "").await;
    assert_eq!(body["first"]["kind"], "dependencies_changed");
    let (_, body) = p.api(Mode::Demo, "GET", "/api/v1/dependents?package=left-pad&version=1.2.3", "").await;
    assert!(body["projects"].as_array().is_some());
    let (status, body) = p.api(Mode::Demo, "GET", "/api/v1/dependents?package=left-pad&direct_only=true", "").await;
    assert_eq!((status, &body["direct_only"]), (StatusCode::OK, &json!(true)), "{body}");
    assert!(body["projects"].as_array().unwrap().iter().all(|r| r["transitive"] == false));
    let (status, body) = p.api(Mode::Demo, "GET", "/api/v1/dependents?package=left-pad&direct_only=maybe", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    for uri in [
        "/api/v1/teams",
        "/api/v1/teams/data",
        "/api/v1/deployments?limit=3",
        "/api/v1/incidents",
        "/api/v1/runs",
        "/api/v1/projects/orders/score",
    ] {
        let (status, _) = p.api(Mode::Demo, "GET", uri, "").await;
        assert_eq!(status, StatusCode::OK, "{uri}");
    }
}

#[tokio::test]
async fn api_bad_input_is_4xx_and_changes_nothing() {
    let p = portal().await;
    let before = p.service.log().count().await.unwrap();
    let cases: [(&str, &str, StatusCode, &str, Option<&str>); 9] = [
        ("/api/v1/ops/set_fact", "{not json", StatusCode::BAD_REQUEST, "bad_input", None),
        (
            "/api/v1/ops/set_fact",
            r#"{"project": "orders", "key": "tier", "value": "9"}"#,
            StatusCode::BAD_REQUEST,
            "bad_input",
            Some("value"),
        ),
        (
            "/api/v1/ops/set_fact",
            r#"{"project": "orders", "key": "tier", "value": "1", "extra": 1}"#,
            StatusCode::BAD_REQUEST,
            "bad_input",
            None,
        ),
        ("/api/v1/ops/get_project", r#"{"project": 42}"#, StatusCode::BAD_REQUEST, "bad_input", Some("project")),
        ("/api/v1/ops/get_project", r#"["orders"]"#, StatusCode::BAD_REQUEST, "bad_input", None),
        ("/api/v1/ops/get_project", r#"{"project": "nope"}"#, StatusCode::NOT_FOUND, "not_found", None),
        ("/api/v1/ops/launch_rocket", "{}", StatusCode::NOT_FOUND, "unknown_operation", None),
        ("/api/v1/ops/create_team", r#"{"slug": "payments"}"#, StatusCode::CONFLICT, "conflict", None),
        (
            "/api/v1/ops/create_project",
            r#"{"slug": "Bad", "team": "payments", "project_type": "api"}"#,
            StatusCode::BAD_REQUEST,
            "bad_input",
            Some("slug"),
        ),
    ];
    for (uri, body, status, code, field) in cases {
        let (got, json) = p.api(Mode::Demo, "POST", uri, body).await;
        assert_eq!(got, status, "{uri} {body}: {json}");
        assert_eq!(json["error"]["code"], code, "{uri} {body}");
        assert!(!json["error"]["message"].as_str().unwrap().is_empty());
        if let Some(f) = field {
            assert_eq!(json["error"]["field"], f, "{uri} {body}: {json}");
        }
    }
    let (status, _) = p.api(Mode::Demo, "GET", "/api/v1/nothing/here", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Oversize bodies are refused before parsing.
    let huge = format!(r#"{{"project": "orders", "key": "oncall", "value": "{}"}}"#, "x".repeat(2 * 1024 * 1024));
    let req = Request::post("/api/v1/ops/set_fact")
        .header("content-type", "application/json")
        .body(Body::from(huge))
        .unwrap();
    let (status, _, _) = p.send(Mode::Demo, req).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(p.service.log().count().await.unwrap(), before, "nothing was recorded");
}

#[tokio::test]
async fn anonymous_callers_read_but_cannot_write() {
    // Where the operator allows it (server.require_login = false).
    let mut c = Config::default();
    c.server.require_login = Some(false);
    let p = portal_with(c).await;
    let (status, body) = p
        .api(Mode::Serve, "POST", "/api/v1/ops/set_fact", r#"{"project": "orders", "key": "tier", "value": "1"}"#)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "denied");
    assert_eq!(
        body["error"]["message"],
        "Not allowed: set_fact needs the editor role, and you have viewer. Ask an admin for the role."
    );
    let (status, _) = p.api(Mode::Serve, "GET", "/api/v1/projects/orders", "").await;
    assert_eq!(status, StatusCode::OK);
    let (_, html, _) = p.send(Mode::Serve, Request::get("/").body(Body::empty()).unwrap()).await;
    assert!(html.contains("browsing anonymously"));
}

#[tokio::test]
async fn openapi_documents_every_operation() {
    let p = portal().await;
    let (status, doc) = p.api(Mode::Demo, "GET", "/api/v1/openapi.json", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    for k in switchboard_core::ops::OpKind::ALL {
        let op = &doc["paths"][format!("/api/v1/ops/{}", k.name())]["post"];
        assert_eq!(op["operationId"], k.name());
        assert_eq!(op["requestBody"]["content"]["application/json"]["schema"]["type"], "object", "{}", k.name());
    }
    let schema = &doc["paths"]["/api/v1/ops/set_fact"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    let required: Vec<&str> = schema["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(required.contains(&"project") && required.contains(&"key"), "{schema}");
    let codes = doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"].to_string();
    assert!(codes.contains("rate_limited") && codes.contains("unauthenticated"), "{codes}");
    let limited = &doc["paths"]["/api/v1/ops/set_fact"]["post"]["responses"]["429"];
    assert!(limited["headers"]["Retry-After"].is_object(), "{limited}");
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let (_, ops) = p.api(Mode::Demo, "GET", "/api/v1/operations", "").await;
    assert_eq!(ops["operations"].as_array().unwrap().len(), switchboard_core::ops::OpKind::ALL.len());
}

#[tokio::test]
async fn bearer_tokens_authenticate_api_calls() {
    let p = portal().await;
    let admin = Caller::new("cli", Role::Admin, "cli");
    let editor = p.service.create_token(&admin, &"carol".parse().unwrap(), None, None).await.unwrap();
    let viewer = p.service.create_token(&admin, &"dave".parse().unwrap(), None, None).await.unwrap();
    let send = |token: Option<String>| {
        let mut req = Request::post("/api/v1/ops/set_fact").header("content-type", "application/json");
        if let Some(t) = token {
            req = req.header("authorization", t);
        }
        req.body(Body::from(r#"{"project": "orders", "key": "tier", "value": "3"}"#)).unwrap()
    };
    let (status, body, _) = p.send(Mode::Serve, send(None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "serve needs a token: {body}");
    assert!(body.contains("requires a token"), "{body}");
    let (status, body, _) = p.send(Mode::Serve, send(Some(format!("Bearer {}", viewer.secret)))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("you have viewer"));
    let (status, body, _) = p.send(Mode::Serve, send(Some(format!("Bearer {}", editor.secret)))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let history =
        p.service.log().query(&switchboard_core::event::EventQuery { limit: 5, ..Default::default() }).await.unwrap();
    assert!(history.iter().any(|e| e.actor == "carol" && e.source == "api"), "the token's user is the actor");

    p.service.revoke_token(&admin, &editor.token.id).await.unwrap();
    for header in [format!("Bearer {}", editor.secret), "Bearer sb_forged".into(), "Basic abc".into()] {
        let (status, body, _) = p.send(Mode::Serve, send(Some(header.clone()))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{header}: {body}");
        assert!(body.contains("\"code\":\"unauthenticated\""), "{body}");
    }
}

#[tokio::test]
async fn web_chat_answers_and_approves_with_csrf() {
    let p = portal().await;
    // The page hands out a CSRF token in an HttpOnly, SameSite=Strict cookie and in the form.
    let (status, html, headers) = p.send(Mode::Demo, Request::get("/chat").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let cookies: Vec<&str> = headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).collect();
    let csrf_cookie = cookies.iter().find(|c| c.starts_with("sb_csrf=")).expect("csrf cookie");
    assert!(csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Strict"));
    let token = csrf_cookie["sb_csrf=".len()..csrf_cookie.find(';').unwrap()].to_owned();
    assert!(html.contains(&format!(r#"name="csrf" value="{token}""#)));
    assert!(html.contains(r#"hx-post="/chat/messages""#));
    let jar = |who: &str| format!("sb_csrf={token}; sb_chat=0123456789abcdef0123456789abcdef; sb_as={who}");

    // Without the token: refused, nothing recorded.
    let before = p.service.log().count().await.unwrap();
    let (status, html, _) =
        p.send(Mode::Demo, form("/chat/messages", &jar("carol"), "text=deploy+orders+to+staging", true)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("did not come from a page of this portal"));
    let (status, _, _) = p
        .send(Mode::Demo, form("/chat/messages", &jar("carol"), "text=deploy+orders+to+staging&csrf=0000", true))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(p.service.log().count().await.unwrap(), before);

    // A question, answered as an htmx fragment.
    let body = format!("csrf={token}&text={}", enc("who owns payments-api?"));
    let (status, html, _) = p.send(Mode::Demo, form("/chat/messages", &jar("dave"), &body, true)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("<html") && html.contains("payments-api is owned by Payments (team payments)."), "{html}");
    assert!(html.contains(r#"<a href="http://127.0.0.1:8080/projects/payments-api">"#));

    // carol asks for a deployment: a pending run with Approve / Deny buttons.
    let body = format!("csrf={token}&text={}", enc("deploy orders to staging"));
    let (_, html, _) = p.send(Mode::Demo, form("/chat/messages", &jar("carol"), &body, true)).await;
    assert!(
        html.contains("I&#39;ve asked for approval: Deploy orders ")
            && html.contains("(what development runs) to staging.")
            || html.contains("I've asked for approval"),
        "{html}"
    );
    // An editor: she reads why she may not approve it, not buttons that would refuse her.
    assert!(html.contains("You cannot approve this run: Not allowed: approve_run needs the approver role"), "{html}");
    assert!(!html.contains(r#"value="approve_run:"#), "{html}");
    let start = html.find("/runs/").expect("the run's link");
    let run_id: switchboard_core::ids::RunId = html[start + "/runs/".len()..][..36].parse().unwrap();
    let action = format!("approve_run:{run_id}");
    let action = action.as_str();
    let click = |who: &str| form("/chat/actions", &jar(who), &format!("csrf={token}&action={}", enc(action)), true);

    let (_, html, _) = p.send(Mode::Demo, click("dave")).await;
    assert!(html.contains("Not allowed: approve_run needs the approver role, and you have viewer."), "{html}");
    let (_, html, _) = p.send(Mode::Demo, click("carol")).await;
    assert!(html.contains("and you have editor"), "the requester is an editor in the demo: {html}");
    let run = p.service.graph().get_run(&run_id).await.unwrap().unwrap();
    assert_eq!(run.status, switchboard_core::model::RunStatus::Pending, "refused clicks changed nothing");
    let (_, html, _) = p.send(Mode::Demo, click("bob")).await;
    assert!(html.starts_with("<div class=\"reply\">") && html.contains("to staging: approved by bob."), "{html}");
    let run = p.service.graph().get_run(&run_id).await.unwrap().unwrap();
    assert_eq!(run.status, switchboard_core::model::RunStatus::Blocked, "approved; no engine runs deploys here");
    let events = p
        .service
        .log()
        .query(&switchboard_core::event::EventQuery {
            kinds: vec![switchboard_core::event::EventKind::RunApproved],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events[0].actor, "bob");
    assert_eq!(events[0].source, "portal");
}

#[tokio::test]
async fn runs_page_buttons_and_speak_as() {
    let p = portal().await;
    let (_, _, headers) = p.send(Mode::Demo, Request::get("/runs").body(Body::empty()).unwrap()).await;
    let c = headers.get("set-cookie").unwrap().to_str().unwrap();
    let token = c["sb_csrf=".len()..c.find(';').unwrap()].to_owned();
    let run = p
        .service
        .execute_json(
            &Caller::new("carol", Role::Editor, "test"),
            "deploy",
            json!({"project": "orders", "environment": "production"}),
        )
        .await
        .unwrap()
        .to_json();
    let id = run["id"].as_str().unwrap();
    let jar = format!("sb_csrf={token}; sb_as=erin");
    let (_, html, _) = p
        .send(Mode::Demo, Request::get("/runs?status=pending").header("cookie", &jar).body(Body::empty()).unwrap())
        .await;
    // A production deploy: approved on its page, with the confirmation; Deny there asks why.
    assert!(html.contains(&format!(r#"href="/runs/{id}#decide">Review and approve</a>"#)), "{html}");
    assert!(html.contains(&format!(r#"href="/runs/{id}#decide">Deny…</a>"#)), "{html}");
    assert!(html.contains("acting as erin (approver)"), "the banner shows who you speak as");
    let (status, _, _) = p.send(Mode::Demo, form(&format!("/runs/{id}/decide"), &jar, "decision=deny", false)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no CSRF token");
    let (status, _, headers) = p
        .send(
            Mode::Demo,
            form(&format!("/runs/{id}/decide"), &jar, &format!("csrf={token}&decision=deny&reason=freeze"), false),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers.get("location").unwrap(), &format!("/runs/{id}"));
    let (_, html, _) = p.send(Mode::Demo, Request::get(format!("/runs/{id}")).body(Body::empty()).unwrap()).await;
    assert!(
        html.contains(r#"id="run-status">denied<"#) && html.contains("erin denied at") && html.contains(": freeze"),
        "{html}"
    );

    // Switching who you speak as is a CSRF-checked form; unknown users are refused.
    let (status, _, headers) = p
        .send(Mode::Demo, form("/demo/as", &format!("sb_csrf={token}"), &format!("csrf={token}&user=bob"), false))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(headers.get("set-cookie").unwrap().to_str().unwrap().starts_with("sb_as=bob;"));
    let (status, _, _) = p
        .send(Mode::Demo, form("/demo/as", &format!("sb_csrf={token}"), &format!("csrf={token}&user=ghost"), false))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = p
        .send(Mode::Serve, form("/demo/as", &format!("sb_csrf={token}"), &format!("csrf={token}&user=bob"), false))
        .await;
    assert!(
        matches!(status, StatusCode::NOT_FOUND | StatusCode::UNAUTHORIZED),
        "only the demo lets you choose who you are: {status}"
    );
}

#[tokio::test]
async fn sign_in_and_out_of_the_portal() {
    let p = portal().await;
    let admin = Caller::new("cli", Role::Admin, "cli");
    p.service.set_password(&admin, &"erin".parse().unwrap(), "an approver's passphrase", None).await.unwrap();
    let (status, html, headers) = p.send(Mode::Serve, Request::get("/login").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"name="password""#) && !html.contains("browsing anonymously"), "{html}");
    let c = headers.get("set-cookie").unwrap().to_str().unwrap();
    let token = c["sb_csrf=".len()..c.find(';').unwrap()].to_owned();
    let jar = format!("sb_csrf={token}");

    let (status, _, _) =
        p.send(Mode::Serve, form("/login", &jar, "user=erin&password=an+approver%27s+passphrase", false)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "sign-in forms need the CSRF token too");
    let (status, html, headers) =
        p.send(Mode::Serve, form("/login", &jar, &format!("csrf={token}&user=erin&password=nope"), false)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(html.contains("Wrong user name or password.") && headers.get("set-cookie").is_none());

    let (status, _, headers) = p
        .send(
            Mode::Serve,
            form("/login", &jar, &format!("csrf={token}&user=erin&password=an+approver%27s+passphrase"), false),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let session = headers.get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(
        session.starts_with("sb_session=") && session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    assert!(!session.contains("Secure"), "plain http in tests");
    let secret = &session["sb_session=".len()..session.find(';').unwrap()];
    let signed_in = format!("sb_csrf={token}; sb_session={secret}");
    let (_, html, _) =
        p.send(Mode::Serve, Request::get("/").header("cookie", &signed_in).body(Body::empty()).unwrap()).await;
    assert!(html.contains("Signed in as erin (approver)."), "{html}");

    // Signed in, erin decides runs on the runs page.
    let run = p
        .service
        .execute_json(
            &Caller::new("carol", Role::Editor, "test"),
            "deploy",
            json!({"project": "orders", "environment": "staging"}),
        )
        .await
        .unwrap()
        .to_json();
    let id = run["id"].as_str().unwrap();
    let (status, _, _) = p
        .send(
            Mode::Serve,
            form(&format!("/runs/{id}/decide"), &signed_in, &format!("csrf={token}&decision=approve"), false),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let stored = p.service.graph().get_run(&id.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.approvals[0].by.as_str(), "erin");

    let (status, _, headers) = p.send(Mode::Serve, form("/logout", &signed_in, &format!("csrf={token}"), false)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(headers.get("set-cookie").unwrap().to_str().unwrap().contains("Max-Age=0"));
    let (status, _, headers) =
        p.send(Mode::Serve, Request::get("/").header("cookie", &signed_in).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the old cookie no longer signs in");
    assert_eq!(headers["location"], "/login");
}

#[tokio::test]
async fn deployments_and_incidents_dashboards() {
    let p = portal().await;
    let (status, html) = p.page("/deployments").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<th>development</th><th>staging</th><th>production</th>"), "{html}");
    assert!(html.contains(r#"<a href="/projects/orders">orders</a>"#));
    assert!(html.contains("Latest deployments") && html.contains("badge s-succeeded"));
    let (_, team) = p.page("/deployments?team=payments").await;
    assert!(team.contains("Deployments of team payments") && team.contains(r#"<a href="/projects/payments-api">"#));
    assert!(!team.contains(r#"<a href="/projects/orders">"#), "only the team's projects");
    let (status, _) = p.page("/deployments?team=Not%20A%20Team").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, html) = p.page("/incidents?status=resolved").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("badge s-resolved") && !html.contains("badge s-triggered"), "{html}");
    // By default only the open ones: what needs someone now.
    let (status, html) = p.page("/incidents").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("badge s-resolved"), "no resolved incident by default: {html}");
    assert!(html.contains(r#"<option value="open" selected>"#), "{html}");
    let (_, every) = p.page("/incidents?status=all").await;
    assert!(every.contains("badge s-resolved") && every.contains(r#"<option value="all" selected>"#), "{every}");
    let (status, _) = p.page("/incidents?status=sideways").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, nav) = p.page("/").await;
    assert!(nav.contains(r#"<a href="/deployments">"#) && nav.contains(r#"<a href="/incidents">"#));
}

#[tokio::test]
async fn ci_health_and_dora_pages() {
    let p = portal().await;
    let (status, html) = p.page("/ci?project=orders").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("CI health of") && html.contains("Failure rate") && html.contains("Duration p50 / p95"),
        "{html}"
    );
    assert!(html.contains("Flaky commits") && html.contains("Unusually slow builds"));
    // Without a project: the projects to pick from, each linked.
    let (status, html) = p.page("/ci").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"id="ci-projects""#) && html.contains(r#"href="/ci?project=orders""#), "{html}");
    let (status, _) = p.page("/ci?project=nowhere").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, html) = p.page("/dora?team=payments&since=30d").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("DORA metrics: team payments") && html.contains("Deployments to production"), "{html}");
    for metric in
        ["Deployment frequency", "Lead time for changes (p50)", "Change failure rate", "Time to restore (p50)"]
    {
        assert!(html.contains(metric), "{metric}");
    }
    let (_, everything) = p.page("/dora").await;
    assert!(everything.contains("DORA metrics: every project"));
    let (status, _) = p.page("/dora?team=payments&project=orders").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, project) = p.page("/projects/orders").await;
    assert!(project.contains(r#"href="/ci?project=orders""#) && project.contains(r#"href="/dora?project=orders""#));
}

/// Reads a server-sent events body until an event of `kind` arrives.
async fn next_event(body: &mut Body, kind: &str) -> String {
    let mut text = String::new();
    let wanted = format!("event: {kind}\n");
    let read = async {
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.unwrap().into_data() {
                text.push_str(std::str::from_utf8(&data).unwrap());
            }
            if let Some(at) = text.find(&wanted)
                && let Some(end) = text[at..].find("\n\n")
            {
                return text[at..at + end].to_owned();
            }
        }
        panic!("the stream ended: {text}");
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), read).await.expect("an event within 10 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_page_and_live_stream() {
    let p = portal().await;
    let (status, html) = p.page("/notifications").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"data-live="/notifications/stream""#), "{html}");
    assert!(html.contains("badge k-incident_resolved") && html.contains("badge k-deployment_failed"), "{html}");
    let (_, team) = p.page("/notifications?team=payments").await;
    assert!(team.contains("Notifications for team payments") && team.contains("(payments)"), "{team}");
    assert!(!team.contains("(checkout)"), "only the team's");
    let (status, _) = p.page("/notifications?team=Not%20A%20Team").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, nav) = p.page("/").await;
    assert!(nav.contains(r#"<a href="/notifications">"#));
    let (status, js) = p.page("/static/live.js").await;
    assert!(status == StatusCode::OK && js.contains("EventSource"));

    // Live: the checkout team's stream gets orders' incident, not payments-api's.
    let resp = p
        .router(Mode::Demo)
        .oneshot(Request::get("/notifications/stream?team=checkout").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.headers().get("content-type").unwrap(), "text/event-stream");
    let mut body = resp.into_body();
    let editor = Caller::new("pagerduty", Role::Editor, "webhook");
    for (project, title) in [("payments-api", "Card declines"), ("orders", "Checkout <b>slow</b>")] {
        p.service
            .execute_json(&editor, "record_incident", serde_json::json!({"project": project, "title": title}))
            .await
            .unwrap();
    }
    let event = next_event(&mut body, "notification").await;
    assert!(event.contains(r#"<a href="/projects/orders">orders</a>"#), "{event}");
    assert!(event.contains("Incident: Checkout &#60;b&#62;slow&#60;/b&#62;"), "escaped: {event}");
    assert!(!event.contains("payments-api"));

    // An incident recorded by another process (a replica, a worker, the CLI)
    // reaches the stream too, through the log.
    let other = p.replica().await;
    let args = serde_json::json!({"project": "cart", "title": "Basket empties itself"});
    other.service.execute_json(&editor, "record_incident", args).await.unwrap();
    let event = next_event(&mut body, "notification").await;
    assert!(event.contains("Basket empties itself") && event.contains(r#"data-event=""#), "{event}");
}
