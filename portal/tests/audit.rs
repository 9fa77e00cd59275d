//! `/audit`: the operations log as an audit trail, filtered by person,
//! kind, project and time, each row linking to what it is about.

mod common;

use common::*;

fn rows(html: &str) -> Vec<&str> {
    let body = &html[html.find(r#"<table id="audit">"#).expect("the audit table")..];
    let body = &body[body.find("<tbody>").unwrap()..body.find("</tbody>").unwrap()];
    body.split("<tr class=\"audit-").skip(1).collect()
}

#[tokio::test]
async fn the_audit_page_filters_the_log_and_links_each_row() {
    let p = portal().await;
    let carol = Caller::new("carol", Role::Editor, "test");
    let args = json!({"project": "orders", "environment": "staging", "version": "5.5.5"});
    let run = p.service.execute_json(&carol, "deploy", args).await.unwrap().to_json();
    let id = run["id"].as_str().unwrap();

    let (_, home) = p.page("/").await;
    assert!(home.contains(r#"<a href="/audit">Audit</a>"#), "in the navigation");
    // Who: carol's request, linked to its run.
    let (status, html) = p.page("/audit?person=carol").await;
    assert_eq!(status, StatusCode::OK);
    let mine = rows(&html);
    assert!(!mine.is_empty() && mine.iter().all(|r| r.contains("<td>carol</td>")), "{html}");
    assert!(
        mine.iter().any(|r| r.starts_with("run_requested") && r.contains(&format!(r#"href="/runs/{id}""#))),
        "{html}"
    );
    // What: one kind only.
    let (_, html) = p.page("/audit?kind=deployment_recorded&since=30d").await;
    let deployments = rows(&html);
    assert!(!deployments.is_empty() && deployments.iter().all(|r| r.starts_with("deployment_recorded")), "{html}");
    // About what: one project's rows link to it (or to its runs).
    let (_, html) = p.page("/audit?project=orders").await;
    let about = rows(&html);
    assert!(!about.is_empty(), "{html}");
    assert!(about.iter().all(|r| r.contains(r#"href="/projects/orders""#) || r.contains(r#"href="/runs/"#)), "{html}");
    // Accounts' events only for those core's policy lets list users.
    let admin = Caller::new("alice", Role::Admin, "test");
    p.service.execute_json(&admin, "set_user_role", json!({"user": "frank", "role": "approver"})).await.unwrap();
    let as_user = |who: &str| {
        Request::get("/audit?kind=user_role_changed")
            .header("cookie", format!("sb_as={who}"))
            .body(Body::empty())
            .unwrap()
    };
    let (_, html, _) = p.send(Mode::Demo, as_user("dave")).await;
    assert!(rows(&html).is_empty(), "a viewer reads no account events: {html}");
    let (_, html) = p.page("/audit?kind=user_role_changed").await;
    assert!(rows(&html).iter().any(|r| r.starts_with("user_role_changed")), "the demo admin does: {html}");
    // Bad filters say what is wrong.
    let (status, html) = p.page("/audit?kind=nonsense").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("is not a kind of event"), "{html}");
    let (status, html) = p.page("/audit?since=last%20blue%20moon").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("is not a time"), "{html}");
}

#[tokio::test]
async fn a_fact_is_set_from_the_project_page_and_audited() {
    let p = portal().await;
    const TOKEN: &str = "0123456789abcdef0123456789abcdef";
    let (_, html) = p.page("/projects/orders").await;
    assert!(html.contains(r#"<form class="filters" method="post" action="/projects/orders/facts" id="set-fact">"#));
    let jar = format!("sb_csrf={TOKEN}; sb_as=erin");
    let set = |key: &str, value: &str| {
        form("/projects/orders/facts", &jar, &format!("csrf={TOKEN}&key={key}&value={}", enc(value)), false)
    };
    // A number is kept as a number; text as text; the policy and the declared type decide.
    let (status, _, _) = p.send(Mode::Demo, set("oncall", "checkout-primary")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let project = p.service.graph().get_project(&"orders".parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(
        project.facts.get(&"oncall".parse().unwrap()).map(|f| f.value.to_string()),
        Some("checkout-primary".into())
    );
    let (_, html) = p.page("/audit?person=erin&kind=fact_set").await;
    assert!(rows(&html).iter().any(|r| r.contains("oncall") && r.contains(r#"href="/projects/orders""#)), "{html}");
    // A value of the wrong type is refused with why, and changes nothing.
    let before = p.service.graph().get_project(&"orders".parse().unwrap()).await.unwrap().unwrap().facts;
    let (status, html, _) = p.send(Mode::Demo, set("public", "sometimes")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert_eq!(p.service.graph().get_project(&"orders".parse().unwrap()).await.unwrap().unwrap().facts, before);
    // Without the page's token nothing changes.
    let (status, _, _) =
        p.send(Mode::Demo, form("/projects/orders/facts", "sb_as=erin", "key=tier&value=1", false)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_project_is_created_from_the_projects_page() {
    let p = portal().await;
    const TOKEN: &str = "0123456789abcdef0123456789abcdef";
    let (_, html) = p.page("/projects").await;
    assert!(html.contains(r#"<form class="filters" method="post" action="/projects">"#), "{html}");
    let jar = format!("sb_csrf={TOKEN}; sb_as=carol");
    let body = format!("csrf={TOKEN}&slug=fx-rates&name=&team=payments&project_type=api&description=Exchange+rates");
    let (status, _, headers) = p.send(Mode::Demo, form("/projects", &jar, &body, false)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers.get("location").unwrap(), "/projects/fx-rates");
    let made = p.service.graph().get_project(&"fx-rates".parse().unwrap()).await.unwrap().unwrap();
    assert_eq!((made.team.as_str(), made.description.as_str()), ("payments", "Exchange rates"));
    // The same slug again is refused with why; nothing else is made.
    let (status, html, _) = p.send(Mode::Demo, form("/projects", &jar, &body, false)).await;
    assert!(status.is_client_error() && html.contains("fx-rates"), "{status}: {html}");
}
