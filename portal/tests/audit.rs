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
    // Bad filters say what is wrong.
    let (status, html) = p.page("/audit?kind=nonsense").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("is not a kind of event"), "{html}");
    let (status, html) = p.page("/audit?since=last%20blue%20moon").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("is not a time"), "{html}");
}
