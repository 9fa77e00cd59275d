//! The deployments matrix reads drift and failures at a glance and offers
//! Promote and Roll back, requested like chat's (resolved and pinned now,
//! approval-gated).

mod common;

use common::*;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";

#[tokio::test]
async fn the_matrix_flags_drift_and_failures_and_offers_promote_and_rollback() {
    let p = portal().await;
    let admin = Caller::new("alice", Role::Admin, "test");
    let record = |env: &str, version: &str, status: &str| json!({"project": "orders", "environment": env, "version": version, "status": status});
    p.service.execute_json(&admin, "record_deployment", record("development", "2.0.0", "succeeded")).await.unwrap();
    p.service.execute_json(&admin, "record_deployment", record("staging", "1.9.0", "succeeded")).await.unwrap();
    p.clock.advance(60_000);
    p.service.execute_json(&admin, "record_deployment", record("staging", "1.9.1", "failed")).await.unwrap();

    let (_, html) = p.page("/deployments").await;
    let row = &html[html.find(r#"<a href="/projects/orders">orders</a></td>"#).expect("orders' row")..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains(r#"<span class="badge s-blocked">≠ development</span>"#), "drift: {row}");
    assert!(row.contains(r#"<span class="badge s-failed">× 1.9.1 failed</span>"#), "the failure: {row}");
    assert!(row.contains("Promote from development…") && row.contains("Roll back…"), "{row}");
    // A viewer sees the drift and the failure, and why there are no buttons.
    let (_, html) = p.page_as("dave", "/deployments").await;
    assert!(html.contains("≠ development") && html.contains("× 1.9.1 failed"), "{html}");
    assert!(!html.contains("/deployments/deploy") && html.contains(r#"id="deploy-denied""#), "{html}");
    assert!(html.contains("Not allowed: deploy needs the editor role, and you have viewer"), "{html}");

    // Promote: a pending run pinned to what development runs, on its run page.
    let body = format!("csrf={TOKEN}&project=orders&environment=staging&action=promote&from=development");
    let jar = format!("sb_csrf={TOKEN}; sb_as=carol");
    let (status, _, headers) = p.send(Mode::Demo, form("/deployments/deploy", &jar, &body, false)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let at = headers.get("location").unwrap().to_str().unwrap().to_owned();
    let id: switchboard_core::ids::RunId = at.trim_start_matches("/runs/").parse().unwrap();
    let run = p.service.graph().get_run(&id).await.unwrap().unwrap();
    assert_eq!(run.status, switchboard_core::model::RunStatus::Pending);
    assert_eq!(run.arguments["version"], "2.0.0", "{:?}", run.arguments);
    // Without the page's token nothing is asked.
    let runs = p.service.graph().list_runs(None, 100).await.unwrap().len();
    let (status, _, _) = p.send(Mode::Demo, form("/deployments/deploy", "sb_as=carol", &body, false)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(p.service.graph().list_runs(None, 100).await.unwrap().len(), runs);
}

/// Past 100 projects the matrix pages (keeping the team filter), and a page
/// that is not a number is a clear 400.
#[tokio::test]
async fn the_matrix_pages_beyond_a_hundred_projects() {
    let p = portal().await;
    for i in 0..230 {
        let project = switchboard_testkit::conformance::project(&format!("bulk-{i:03}")).team("bulk").build();
        switchboard_core::store::GraphStore::put_project(&p.store, &project).await.unwrap();
    }
    let rows = |html: &str| html.matches(r#"<tr><td><a href="/projects/bulk-"#).count();
    let (_, first) = p.page("/deployments?team=bulk").await;
    assert_eq!(rows(&first), 100);
    assert!(first.contains("Projects 1–100 of 230 · page 1 of 3"), "{first}");
    assert!(first.contains(r#"<a href="/deployments?page=2&amp;team=bulk" rel="next">"#), "{first}");
    assert!(!first.contains(r#"rel="prev""#));
    let (_, last) = p.page("/deployments?team=bulk&page=3").await;
    assert_eq!(rows(&last), 30);
    assert!(last.contains("Projects 201–230 of 230 · page 3 of 3"), "{last}");
    assert!(last.contains(r#"<a href="/projects/bulk-229">"#) && !last.contains(r#"<a href="/projects/bulk-199">"#));
    assert!(last.contains(r#"rel="prev""#) && !last.contains(r#"rel="next""#));
    // A team that fits on one page has no pager.
    let (_, small) = p.page("/deployments?team=payments").await;
    assert!(!small.contains("matrix-pages"));
    for bad in ["0", "two", "-1"] {
        let (status, html) = p.page(&format!("/deployments?page={bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(html.contains("is not a page number"), "{html}");
    }
}
