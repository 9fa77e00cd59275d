//! `investigate` on a manual clock: a bad deployment followed by a new
//! error is the first suspect, with the rollback to the previous good
//! version; an incident with no change near it says so; the rollback asks
//! for a deploy of that version, pinned, approved like every automation.

mod common;

use common::*;

const MIN: i64 = 60_000;

async fn deploy(p: &Portal, version: &str, env: &str, status: &str, at: i64) {
    let admin = Caller::new("alice", Role::Admin, "test");
    let args = json!({"project": "refunds", "environment": env, "version": version, "status": status,
                      "actor": "frank", "started_at": at - 2 * MIN, "finished_at": at});
    p.service.execute_json(&admin, "record_deployment", args).await.unwrap();
}

async fn logs(p: &Portal, lines: Vec<(i64, &str, String)>) {
    let admin = Caller::new("alice", Role::Admin, "test");
    let lines = lines
        .into_iter()
        .map(|(ts, level, message)| {
            let line = switchboard_core::logs::LogLine {
                ts,
                level: switchboard_core::logs::Level::parse(level),
                message,
                attributes: Default::default(),
            };
            ("refunds".to_owned(), line)
        })
        .collect();
    p.service.ingest_logs(&admin, lines).await.unwrap();
}

#[tokio::test]
async fn a_bad_deploy_then_new_errors_is_the_first_suspect_and_rolls_back_to_the_last_good_version() {
    let p = portal().await;
    let carol = Caller::new("carol", Role::Editor, "test");
    // Production ran 2.0.0, then 2.0.1 failed, then 2.1.0 went out 30 minutes ago.
    deploy(&p, "2.0.0", "production", "succeeded", NOW - 3 * 60 * MIN).await;
    deploy(&p, "2.0.1", "production", "failed", NOW - 2 * 60 * MIN).await;
    deploy(&p, "2.1.0", "production", "succeeded", NOW - 30 * MIN).await;
    let mut lines: Vec<(i64, &str, String)> =
        (0..120).map(|k| (NOW - 180 * MIN + k * MIN, "info", format!("GET /refunds/{k} 200"))).collect();
    lines
        .extend((0..40).map(|k| (NOW - 25 * MIN + k * 10_000, "error", format!("KeyError: 'currency' in refund {k}"))));
    logs(&p, lines).await;
    let incident = json!({"project": "refunds", "title": "Refund errors", "status": "triggered", "external_id": "PD-1",
                          "opened_at": NOW - 20 * MIN});
    p.service.execute_json(&carol, "record_incident", incident).await.unwrap();

    let r = p.service.execute_json(&carol, "investigate", json!({"incident": "PD-1"})).await.unwrap().to_json();
    assert_eq!(r["project"], "refunds");
    assert_eq!(r["incident"]["title"], "Refund errors");
    let first = &r["suspects"][0];
    assert_eq!(first["what"], "the deployment of 2.1.0 to production", "{r}");
    let reason = first["reason"].as_str().unwrap();
    assert!(reason.starts_with("deployed 2.1.0 to production by frank 10 min before"), "{reason}");
    assert!(
        reason.contains("a new error `KeyError: '<str>' in refund <num>` appeared in the logs 5 min after it"),
        "{reason}"
    );
    // The failed 2.0.1 is not "good": the rollback goes to 2.0.0.
    assert_eq!(first["rollback"], json!({"environment": "production", "version": "2.0.0", "from": "2.1.0"}));
    assert!(r["summary"].as_str().unwrap().starts_with("Most likely: the deployment of 2.1.0"), "{}", r["summary"]);
    let kinds: Vec<&str> = r["timeline"].as_array().unwrap().iter().map(|t| t["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"deployment_recorded") && kinds.contains(&"new_log_signature"), "{kinds:?}");
    // The project's latest open incident is found from the project alone.
    let by_project =
        p.service.execute_json(&carol, "investigate", json!({"project": "refunds"})).await.unwrap().to_json();
    assert_eq!(by_project["incident"]["external_id"], "PD-1");

    // The incident's page says the same, with the Roll back button.
    let incident_id = r["incident"]["id"].as_str().unwrap().to_owned();
    let (status, html) = p.page(&format!("/incidents/{incident_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Most likely: the deployment of 2.1.0 to production"), "{html}");
    assert!(html.contains("Roll back production to 2.0.0 (from 2.1.0)"), "{html}");
    let (_, list) = p.page("/incidents").await;
    assert!(list.contains(&format!("href=\"/incidents/{incident_id}\"")), "the incidents list links to it");
    let token = "0123456789abcdef0123456789abcdef";
    let rollback = |who: &str| {
        form(
            &format!("/incidents/{incident_id}/rollback"),
            &format!("sb_csrf={token}; sb_as={who}"),
            &format!("csrf={token}&project=refunds&environment=production"),
            false,
        )
    };
    let (status, _, _) = p.send(Mode::Demo, rollback("dave")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a viewer cannot ask for a deploy");
    let (status, _, headers) = p.send(Mode::Demo, rollback("carol")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let run_page = headers["location"].to_str().unwrap().to_owned();
    let (_, html) = p.page(&run_page).await;
    assert!(html.contains("Roll back refunds in production to 2.0.0"), "{html}");

    // Roll back: a deploy request of 2.0.0, pinned now, waiting for an approver.
    let run = p
        .service
        .execute_json(&carol, "deploy", json!({"project": "refunds", "environment": "production", "rollback": true}))
        .await
        .unwrap()
        .to_json();
    assert_eq!(run["status"], "pending");
    assert_eq!(run["summary"], "Roll back refunds in production to 2.0.0 (the last good before 2.1.0)");
    assert_eq!(run["arguments"]["version"], "2.0.0", "{run}");
    let both = json!({"project": "refunds", "environment": "production", "rollback": true, "version": "1.0.0"});
    let err = p.service.execute_json(&carol, "deploy", both).await.unwrap_err();
    assert!(err.to_string().contains("a rollback picks its version"), "{err}");
    let fresh = json!({"slug": "fresh", "team": "payments", "project_type": "api"});
    p.service.execute_json(&carol, "create_project", fresh).await.unwrap();
    let nothing = json!({"project": "fresh", "environment": "production", "rollback": true});
    let err = p.service.execute_json(&carol, "deploy", nothing).await.unwrap_err();
    assert!(err.to_string().contains("no earlier successful deployment to production"), "{err}");
}

#[tokio::test]
async fn an_incident_with_no_change_near_it_says_so() {
    let p = portal().await;
    let carol = Caller::new("carol", Role::Editor, "test");
    p.clock.advance(30 * 24 * 60 * MIN); // well past the demo's own history
    let now = p.service.now();
    let incident = json!({"project": "refunds", "title": "Slow refunds", "status": "triggered", "external_id": "PD-2",
                          "opened_at": now - 5 * MIN});
    p.service.execute_json(&carol, "record_incident", incident).await.unwrap();
    let r = p.service.execute_json(&carol, "investigate", json!({"incident": "PD-2"})).await.unwrap().to_json();
    assert!(r["suspects"].as_array().unwrap().is_empty(), "{r}");
    assert!(r["summary"].as_str().unwrap().starts_with("No deployment, merged change or dependency change"), "{r}");
    let err = p.service.execute_json(&carol, "investigate", json!({})).await.unwrap_err();
    assert!(err.to_string().contains("name a project or an incident"), "{err}");
    let err = p.service.execute_json(&carol, "investigate", json!({"incident": "PD-404"})).await.unwrap_err();
    assert!(err.to_string().contains("No incident named \"PD-404\""), "{err}");
}
