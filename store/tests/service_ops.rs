//! Operations through the service on the embedded store: what each does,
//! the events it records, and bad input that changes nothing.

mod common;

use common::*;
use serde_json::{Value, json};
use switchboard_core::Error;
use switchboard_core::event::EventQuery;
use switchboard_core::model::{DAY_MS, Role};
use switchboard_core::store::EventLog;

#[tokio::test]
async fn create_and_get_project() {
    let h = Harness::with_org().await;
    let p = h.ok("get_project", json!({"project": "payments-api"})).await;
    assert_eq!(p["project"]["team"], "payments");
    assert_eq!(p["team"]["name"], "Payments");
    assert_eq!(p["project"]["facts"]["tier"]["value"], "1");
    assert_eq!(p["environments"].as_array().unwrap().len(), 3, "every configured environment by default");
    assert_eq!(p["score"]["components"].as_array().unwrap().len(), 4);
    let created = h
        .store
        .query(&EventQuery { project: Some("payments-api".parse().unwrap()), ..Default::default() })
        .await
        .unwrap();
    let kinds: Vec<_> = created.iter().map(|e| e.kind.as_str()).collect();
    for k in ["project_created", "dependencies_changed", "fact_set", "score_changed"] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    let err =
        h.err(&admin(), "create_project", json!({"slug": "ledger", "team": "payments", "project_type": "api"})).await;
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
}

#[tokio::test]
async fn find_projects_by_text_team_type_uses_and_fact() {
    let h = Harness::with_org().await;
    let names = |v: serde_json::Value| -> Vec<String> {
        v["projects"].as_array().unwrap().iter().map(|p| p["slug"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(names(h.ok("find_projects", json!({"query": "card"})).await), ["payments-api"]);
    assert_eq!(names(h.ok("find_projects", json!({"team": "payments"})).await), ["ledger", "payments-api"]);
    assert_eq!(names(h.ok("find_projects", json!({"project_type": "consumer"})).await), ["ledger"]);
    assert_eq!(
        names(h.ok("find_projects", json!({"uses": {"package": "left-pad", "version": "1.3.0"}})).await),
        ["ledger"]
    );
    assert_eq!(names(h.ok("find_projects", json!({"fact": {"key": "tier", "value": 1}})).await), ["payments-api"]);
    assert_eq!(names(h.ok("find_projects", json!({"limit": 1})).await).len(), 1);
}

#[tokio::test]
async fn dependents_lists_versions() {
    let h = Harness::with_org().await;
    let d = h.ok("dependents", json!({"package": "left-pad"})).await;
    assert_eq!(d["total"], 2);
    assert_eq!(d["projects"][0]["project"], "ledger");
    assert_eq!(d["projects"][0]["version"], "1.3.0");
    assert_eq!(d["versions"].as_array().unwrap().len(), 2);
    let d = h.ok("dependents", json!({"package": "left-pad", "version": "1.2.3"})).await;
    assert_eq!(d["total"], 1);
}

#[tokio::test]
async fn history_answers_when_a_project_got_a_version() {
    let h = Harness::with_org().await;
    h.clock.advance(3 * DAY_MS);
    h.ok(
        "set_dependencies",
        json!({"project": "payments-api", "ecosystem": "other",
        "dependencies": [{"ecosystem": "other", "package": "redis", "version": "7.0.15"}]}),
    )
    .await;
    h.clock.advance(DAY_MS);
    let upgraded_at = h.clock_now();
    h.ok(
        "set_dependencies",
        json!({"project": "payments-api", "ecosystem": "other",
        "dependencies": [{"ecosystem": "other", "package": "redis", "version": "7.2.4"}]}),
    )
    .await;
    let hist = h.ok("project_history", json!({"project": "payments-api", "subject": "redis 7"})).await;
    assert_eq!(hist["events"].as_array().unwrap().len(), 2, "both changes reached 7.x");
    assert_eq!(hist["first"]["occurred_at"], T0 + 3 * DAY_MS, "first reached redis 7 three days in");
    let hist = h.ok("project_history", json!({"project": "payments-api", "subject": "redis@7.2"})).await;
    assert_eq!(hist["first"]["occurred_at"], upgraded_at);
    let hist = h.ok("project_history", json!({"project": "payments-api", "subject": "redis 8"})).await;
    assert!(hist["events"].as_array().unwrap().is_empty());
    assert!(hist.get("first").is_none());
    // Kinds and time filters.
    let hist = h.ok("project_history", json!({"project": "payments-api", "kinds": ["project_created"]})).await;
    assert_eq!(hist["events"].as_array().unwrap().len(), 1);
    let hist = h.ok("project_history", json!({"project": "payments-api", "since": "2d"})).await;
    assert_eq!(hist["events"].as_array().unwrap().len(), 2);
    // The changed dependency is the project's state now, with other ecosystems kept.
    let p = h.ok("get_project", json!({"project": "payments-api"})).await;
    let deps = p["project"]["dependencies"].as_array().unwrap();
    assert_eq!(deps.len(), 2);
    assert!(deps.iter().any(|d| d["package"] == "redis" && d["version"] == "7.2.4"));
}

impl Harness {
    fn clock_now(&self) -> i64 {
        use switchboard_core::clock::Clock;
        self.clock.now()
    }
}

#[tokio::test]
async fn facts_are_typed_and_move_the_score() {
    let h = Harness::with_org().await;
    let before = h.ok("project_score", json!({"project": "ledger"})).await["score"].as_u64().unwrap();
    let out = h.ok("set_fact", json!({"project": "ledger", "key": "queue", "value": "payments.events"})).await;
    assert!(out["score"].as_u64().unwrap() > before, "a weighted fact raises the score");
    let changes = h
        .store
        .query(&EventQuery {
            project: Some("ledger".parse().unwrap()),
            kinds: vec![switchboard_core::event::EventKind::ScoreChanged],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(changes[0].payload["to"], out["score"]);
    h.ok("set_fact", json!({"project": "ledger", "key": "max_lag_seconds", "value": "30"})).await;
    let p = h.ok("get_project", json!({"project": "ledger"})).await;
    assert_eq!(p["project"]["facts"]["max_lag_seconds"]["value"], 30);
    // Another value of a fact already set does not move it; removing it with null does.
    let raised = h.ok("set_fact", json!({"project": "ledger", "key": "queue", "value": "payments.v2"})).await["score"]
        .as_u64()
        .unwrap();
    let out = h.ok("set_fact", json!({"project": "ledger", "key": "queue", "value": null})).await;
    assert!(out["fact"].is_null());
    assert!(out["score"].as_u64().unwrap() < raised, "a weighted fact gone lowers the score");
    // Bad values change nothing.
    let before = h.snapshot().await;
    for (key, value, expect) in [
        ("max_lag_seconds", json!("soon"), "expected an integer"),
        ("tier", json!("9"), "one of 1, 2, 3"),
        ("language", json!("cobol"), "one of rust"),
        ("queue", json!({"a": 1}), "expected a string value"),
        ("nonsense", json!("x"), "not a fact declared for consumer"),
    ] {
        let err = h.err(&admin(), "set_fact", json!({"project": "ledger", "key": key, "value": value})).await;
        assert!(err.to_string().contains(expect), "{key}: {err}");
    }
    assert_eq!(h.snapshot().await, before);
}

#[tokio::test]
async fn deployments_incidents_and_builds() {
    let h = Harness::with_org().await;
    h.ok("record_deployment", json!({"project": "payments-api", "environment": "staging", "version": "1.4.0"})).await;
    h.clock.advance(60_000);
    h.ok(
        "record_deployment",
        json!({"project": "payments-api", "environment": "staging", "version": "1.5.0", "status": "failed"}),
    )
    .await;
    let p = h.ok("get_project", json!({"project": "payments-api"})).await;
    let staging = p["environments"].as_array().unwrap().iter().find(|e| e["name"] == "staging").unwrap().clone();
    assert_eq!(staging["current"]["version"], "1.4.0", "a failed deployment does not replace what runs");
    let list = h.ok("list_deployments", json!({"project": "payments-api"})).await;
    assert_eq!(list["deployments"][0]["version"], "1.5.0");

    let inc = h
        .ok(
            "record_incident",
            json!({"project": "payments-api", "title": "Card declines", "external_id": "PD1", "severity": "P1"}),
        )
        .await;
    let again =
        h.ok("record_incident", json!({"project": "payments-api", "external_id": "PD1", "status": "resolved"})).await;
    assert_eq!(inc["id"], again["id"], "same external id updates the same incident");
    assert_eq!(again["title"], "Card declines");
    assert!(again["resolved_at"].is_i64());
    let open = h.ok("list_incidents", json!({"team": "payments", "status": "triggered"})).await;
    assert!(open["incidents"].as_array().unwrap().is_empty());

    h.ok(
        "record_build",
        json!({"project": "payments-api", "status": "success", "branch": "main", "duration_ms": 1000}),
    )
    .await;
    let s = h.ok("project_score", json!({"project": "payments-api"})).await;
    let ci = s["components"].as_array().unwrap().iter().find(|c| c["name"] == "ci").unwrap().clone();
    assert_eq!(ci["value"], 1.0);

    for (args, field) in [
        (json!({"project": "payments-api", "environment": "qa", "version": "1"}), "environment"),
        (json!({"project": "payments-api", "environment": "staging", "version": " "}), "version"),
        (json!({"project": "payments-api", "title": "x", "opened_at": "2d", "resolved_at": "3d"}), "resolved_at"),
        (json!({"project": "payments-api"}), "title"),
    ] {
        let op = if args.get("environment").is_some() { "record_deployment" } else { "record_incident" };
        let before = h.snapshot().await;
        let err = h.err(&admin(), op, args).await;
        assert!(matches!(&err, Error::BadInput { field: Some(f), .. } if f == field), "{err:?}");
        assert_eq!(h.snapshot().await, before);
    }
}

#[tokio::test]
async fn automations_create_pending_runs_that_approvers_decide() {
    let h = Harness::with_org().await;
    let carol = caller("carol", Role::Editor);
    let run = h
        .run(&carol, "upgrade_dependency", json!({"package": "left-pad", "from": "1.2.3", "to": "1.3.0"}))
        .await
        .unwrap()
        .to_json();
    assert_eq!(run["status"], "pending");
    assert_eq!(run["summary"], "Upgrade left-pad from 1.2.3 to 1.3.0 in 1 project(s) through pull requests");
    let id = run["id"].as_str().unwrap().to_owned();
    let pending = h.ok("list_runs", json!({"status": "pending"})).await;
    assert_eq!(pending["runs"].as_array().unwrap().len(), 1);
    // Nothing executed: the dependency is unchanged.
    let d = h.ok("dependents", json!({"package": "left-pad", "version": "1.2.3"})).await;
    assert_eq!(d["total"], 1);

    // Nothing runs upgrade runs here (no engine announced itself): approved,
    // and blocked until something does, saying why.
    let approved = h.run(&caller("bob", Role::Approver), "approve_run", json!({"run": id})).await.unwrap().to_json();
    assert_eq!(approved["status"], "blocked");
    assert_eq!(approved["approvals"][0]["by"], "bob");
    let err = h.err(&caller("erin", Role::Approver), "deny_run", json!({"run": id})).await;
    assert!(err.to_string().contains("is blocked"), "{err}");
    let blocked = h
        .store
        .query(&EventQuery { kinds: vec![switchboard_core::event::EventKind::RunBlocked], ..Default::default() })
        .await
        .unwrap();
    assert_eq!(blocked.len(), 1);
    assert!(blocked[0].payload["reason"].as_str().unwrap().contains("GitHub App"), "{}", blocked[0].payload);
    // With a worker running them, an approval makes the run approved.
    h.executors().await;
    let run = h
        .run(&carol, "deploy", json!({"project": "ledger", "environment": "staging", "version": "1.4.0"}))
        .await
        .unwrap();
    let id2 = run.to_json()["id"].as_str().unwrap().to_owned();
    let approved = h.run(&caller("bob", Role::Approver), "approve_run", json!({"run": id2})).await.unwrap();
    assert_eq!(approved.to_json()["status"], "approved");
    let events = h
        .store
        .query(&EventQuery { kinds: vec![switchboard_core::event::EventKind::RunApproved], ..Default::default() })
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e.actor == "bob"));

    // Scaffold defaults the team to the requester's team; deploy checks the environment.
    let run = h
        .run(&carol, "scaffold_project", json!({"name": "invoice-consumer", "template": "consumer"}))
        .await
        .unwrap()
        .to_json();
    assert_eq!(run["arguments"]["team"], "checkout");
    for (op, args, field) in [
        ("deploy", json!({"project": "ledger", "environment": "qa"}), "environment"),
        ("scaffold_project", json!({"name": "ledger", "template": "consumer"}), "name"),
        ("scaffold_project", json!({"name": "x", "template": "mainframe"}), "template"),
        ("upgrade_dependency", json!({"package": "nothing-uses-this", "to": "2"}), "package"),
        ("upgrade_dependency", json!({"package": "left-pad", "from": "1", "to": "1"}), "to"),
    ] {
        let before = h.snapshot().await;
        let err = h.err(&carol, op, args).await;
        assert!(matches!(&err, Error::BadInput { field: Some(f), .. } if f == field), "{op}: {err:?}");
        assert_eq!(h.snapshot().await, before);
    }
}

#[tokio::test]
async fn pending_runs_expire() {
    let h = Harness::with_org().await;
    let run = h
        .run(
            &caller("carol", Role::Editor),
            "deploy",
            json!({"project": "ledger", "environment": "production", "version": "2.0.0"}),
        )
        .await
        .unwrap()
        .to_json();
    let id = run["id"].as_str().unwrap().to_owned();
    h.clock.advance(73 * 3_600_000);
    let got = h.ok("get_run", json!({"run": id})).await;
    assert_eq!(got["status"], "expired");
    let expired = h.ok("list_runs", json!({"status": "expired"})).await;
    assert_eq!(expired["runs"].as_array().unwrap().len(), 1);
    let err = h.err(&caller("bob", Role::Approver), "approve_run", json!({"run": id})).await;
    assert!(err.to_string().contains("expired"), "{err}");
    let stored = h.ok("list_runs", json!({"status": "expired"})).await;
    assert_eq!(stored["runs"][0]["approvals"].as_array().unwrap().len(), 0, "an expired run records no approval");
}

#[tokio::test]
async fn the_expiry_sweep_records_each_expired_run_once() {
    let h = Harness::with_org().await;
    let carol = caller("carol", Role::Editor);
    let args = json!({"project": "ledger", "environment": "production", "version": "2.0.0"});
    let old = h.run(&carol, "deploy", args.clone()).await.unwrap().to_json();
    h.clock.advance(70 * 3_600_000);
    let fresh = h.run(&carol, "deploy", args).await.unwrap().to_json();
    assert_eq!(h.service.expire_runs().await.unwrap(), 0, "nothing is past its expiry yet");
    h.clock.advance(3 * 3_600_000);
    assert_eq!(h.service.expire_runs().await.unwrap(), 1);
    assert_eq!(h.service.expire_runs().await.unwrap(), 0, "once");
    let stored = h.ok("list_runs", json!({"status": "expired"})).await;
    assert_eq!(stored["runs"][0]["id"], old["id"]);
    assert_eq!(h.ok("get_run", json!({"run": fresh["id"]})).await["status"], "pending");
    let q = switchboard_core::event::EventQuery {
        kinds: vec![switchboard_core::event::EventKind::RunExpired],
        limit: 10,
        ..Default::default()
    };
    let events = h.service.log().query(&q).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].actor.as_str(), events[0].payload["run"].clone()), ("system", old["id"].clone()));
}

#[tokio::test]
async fn teams_and_archiving() {
    let h = Harness::with_org().await;
    let t = h.ok("get_team", json!({"team": "payments"})).await;
    assert_eq!(t["members"].as_array().unwrap().len(), 2);
    assert_eq!(t["projects"].as_array().unwrap().len(), 2);
    h.ok(
        "update_team",
        json!({"team": "payments", "members": ["alice"], "channels": [{"platform": "slack", "id": "C024BE91L"}]}),
    )
    .await;
    let err = h.err(&admin(), "update_team", json!({"team": "payments", "members": ["ghost"]})).await;
    assert!(matches!(&err, Error::BadInput { field: Some(f), .. } if f == "members[0]"), "{err:?}");
    let teams = h.ok("list_teams", json!({})).await;
    assert_eq!(teams["teams"][1]["project_count"], 2);
    h.ok("archive_project", json!({"project": "ledger"})).await;
    let d = h.ok("dependents", json!({"package": "left-pad"})).await;
    assert_eq!(d["total"], 1, "archived projects leave the graph's answers");
    let found = h.ok("find_projects", json!({"team": "payments"})).await;
    assert_eq!(found["projects"].as_array().unwrap().len(), 1);
    let p = h.ok("get_project", json!({"project": "ledger"})).await;
    assert_eq!(p["project"]["archived"], true, "but stay readable");
    let upd = h.ok("update_project", json!({"project": "payments-api", "team": "checkout", "links": [{"title": "Runbook", "url": "https://runbooks.example.com/pay"}]})).await;
    assert_eq!(upd["team"], "checkout");
    let err = h
        .err(
            &admin(),
            "update_project",
            json!({"project": "payments-api", "links": [{"title": "x", "url": "ftp://x"}]}),
        )
        .await;
    assert!(matches!(&err, Error::BadInput { field: Some(f), .. } if f == "links[0].url"), "{err:?}");
}

#[tokio::test]
async fn bad_input_is_named_and_changes_nothing() {
    let h = Harness::with_org().await;
    let before = h.snapshot().await;
    let cases = [
        ("get_project", json!({"project": "Not Valid"}), Some("project")),
        ("create_project", json!({"slug": "x", "team": "payments", "project_type": "api", "colour": "red"}), None),
        ("create_project", json!({"slug": "x", "team": "nobody", "project_type": "api"}), Some("team")),
        ("create_project", json!({"slug": "x", "team": "payments", "project_type": "mainframe"}), Some("project_type")),
        (
            "create_project",
            json!({"slug": "x", "team": "payments", "project_type": "api", "environments": [{"name": "moon"}]}),
            Some("environments[0].name"),
        ),
        (
            "create_project",
            json!({"slug": "x", "team": "payments", "project_type": "api", "name": "n".repeat(300)}),
            Some("name"),
        ),
        (
            "set_dependencies",
            json!({"project": "ledger", "dependencies": [{"ecosystem": "npm", "package": "a", "version": "1"}, {"ecosystem": "npm", "package": "a", "version": "2"}]}),
            Some("dependencies[1]"),
        ),
        (
            "set_dependencies",
            json!({"project": "ledger", "dependencies": [{"ecosystem": "rubygems", "package": "a", "version": "1"}]}),
            Some("dependencies[0].ecosystem"),
        ),
        ("find_projects", json!({"limit": 0}), Some("limit")),
        ("find_projects", json!({"limit": "ten"}), Some("limit")),
        ("project_history", json!({"project": "ledger", "since": "someday"}), Some("since")),
        ("list_runs", json!({"status": "sleeping"}), Some("status")),
        ("get_run", json!({"run": "not-a-uuid"}), Some("run")),
        ("record_build", json!({"project": "ledger", "status": "success", "sha": "xyz"}), Some("sha")),
    ];
    for (op, args, field) in cases {
        let err = h.err(&admin(), op, args.clone()).await;
        match (&err, field) {
            (Error::BadInput { field: got, .. }, Some(f)) => {
                assert_eq!(got.as_deref(), Some(f), "{op} {args}: {err}")
            }
            (Error::BadInput { .. }, None) => {}
            _ => panic!("{op} {args}: expected bad input, got {err:?}"),
        }
        assert!(err.to_string().starts_with("Invalid input"), "{err}");
    }
    let err = h.err(&admin(), "get_project", json!({"project": "missing"})).await;
    assert!(matches!(err, Error::NotFound { .. }));
    assert!(err.to_string().contains("No project named \"missing\""), "{err}");
    let err = h.err(&admin(), "deploy_everything", json!({})).await;
    assert!(matches!(err, Error::UnknownOperation { .. }));
    assert_eq!(h.snapshot().await, before);
}

#[tokio::test]
async fn events_reach_the_bus() {
    let h = Harness::with_org().await;
    let mut rx = h.service.bus().subscribe();
    h.ok("set_fact", json!({"project": "ledger", "key": "tier", "value": 2})).await;
    let e = rx.recv().await.unwrap();
    assert_eq!(e.kind.as_str(), "fact_set");
    assert_eq!(e.actor, "alice");
}

#[tokio::test]
async fn scores_follow_time_when_recomputed() {
    let h = Harness::with_org().await;
    let score = |h: &Harness| {
        let h = h.service.clone();
        async move { h.graph().get_project(&"payments-api".parse().unwrap()).await.unwrap().unwrap().score }
    };
    h.ok("record_build", json!({"project": "payments-api", "status": "success", "duration_ms": 1000})).await;
    h.ok("record_incident", json!({"project": "payments-api", "title": "Card declines"})).await;
    let with_incident = score(&h).await;

    // Nothing happens for 91 days: the incident leaves the window, the build grows stale.
    h.clock.advance(91 * DAY_MS);
    assert_eq!(score(&h).await, with_incident, "stored scores move only when recomputed");
    let mut rx = h.service.bus().subscribe();
    let (checked, changed) = h.service.rescore_all().await.unwrap();
    assert!(checked >= 2 && changed >= 1, "{checked} {changed}");
    let moved = score(&h).await;
    assert_ne!(moved, with_incident);
    let expected = h.ok("project_score", json!({"project": "payments-api"})).await;
    assert_eq!(i64::from(moved), expected["score"].as_i64().unwrap(), "stored = computed now");
    let e = rx.recv().await.unwrap();
    assert_eq!((e.kind.as_str(), e.actor.as_str()), ("score_changed", "system"));
    // Recomputing again at the same time changes nothing.
    assert_eq!(h.service.rescore_all().await.unwrap().1, 0);
}

#[tokio::test]
async fn an_unusually_slow_build_is_marked_in_its_event() {
    let h = Harness::with_org().await;
    let mut rx = h.service.bus().subscribe();
    let build = |ms: i64| json!({"project": "payments-api", "status": "success", "duration_ms": ms});
    for ms in [60_000, 62_000, 58_000, 61_000, 250_000, 59_000] {
        h.ok("record_build", build(ms)).await;
        h.clock.advance(1000);
    }
    let mut anomalies = Vec::new();
    while let Ok(e) = rx.try_recv() {
        if e.kind.as_str() == "build_recorded" {
            anomalies.push(e.payload["anomaly"].clone());
        }
    }
    // The first five have too little history (the slow fifth included); the sixth is usual.
    assert_eq!(anomalies.iter().filter(|a| !a.is_null()).count(), 0, "{anomalies:?}");
    h.ok("record_build", build(200_000)).await;
    let e = rx.recv().await.unwrap();
    assert_eq!(e.payload["anomaly"], json!({"usual_ms": 60_000, "duration_ms": 200_000}), "{}", e.payload);
}

#[tokio::test]
async fn merged_changes_are_recorded_once_and_checked() {
    let h = Harness::with_org().await;
    let change = json!({"project": "payments-api", "title": "Retry capture", "number": 7,
                        "external_id": "github-pr-7", "opened_at": "3h", "merged_at": "1h"});
    let first = h.ok("record_change", change.clone()).await;
    assert_eq!(first["merged_at"], json!(T0 - 3_600_000));
    let before = h.snapshot().await;
    h.ok("record_change", change).await;
    assert_eq!(h.snapshot().await, before, "the same change again is not recorded again");
    for (args, field) in [
        (json!({"project": "payments-api", "title": "x", "opened_at": "1h", "merged_at": "2h"}), "merged_at"),
        (json!({"project": "payments-api", "title": " ", "opened_at": "1h"}), "title"),
        (json!({"project": "payments-api", "title": "x", "opened_at": "1h", "url": "ftp://x"}), "url"),
    ] {
        let err = h.err(&admin(), "record_change", args).await;
        assert!(matches!(&err, Error::BadInput { field: Some(f), .. } if f == field), "{err:?}");
        assert_eq!(h.snapshot().await, before);
    }
}

#[tokio::test]
async fn runs_are_cancelled_by_their_requester_or_an_approver() {
    let h = Harness::with_org().await;
    let (carol, erin, bob) =
        (caller("carol", Role::Editor), caller("erin", Role::Editor), caller("bob", Role::Approver));
    let ask = |h: &Harness| {
        let carol = carol.clone();
        let h = h.service.clone();
        async move {
            let args = json!({"project": "ledger", "environment": "staging", "version": "1.4.0"});
            h.execute_json(&carol, "deploy", args).await.unwrap().to_json()["id"].as_str().unwrap().to_owned()
        }
    };
    let first = ask(&h).await;
    // Another editor may not; the requester may, with a reason.
    let before = h.snapshot().await;
    let err = h.err(&erin, "cancel_run", json!({"run": first})).await;
    assert!(matches!(err, Error::Denied { .. }), "{err:?}");
    assert_eq!(h.snapshot().await, before, "a refusal changes nothing");
    let cancelled = h.run(&carol, "cancel_run", json!({"run": first, "reason": "wrong environment"})).await.unwrap();
    assert_eq!(cancelled.to_json()["status"], "cancelled");
    let err = h.err(&bob, "approve_run", json!({"run": first})).await;
    assert!(err.to_string().contains("cancelled"), "a cancelled run cannot be approved: {err}");
    let err = h.err(&carol, "cancel_run", json!({"run": first})).await;
    assert!(err.to_string().contains("only a pending, approved or running run"), "{err}");

    // An approver may cancel an approved run someone else asked for.
    let second = ask(&h).await;
    h.run(&bob, "approve_run", json!({"run": second})).await.unwrap();
    h.run(&bob, "cancel_run", json!({"run": second})).await.unwrap();
    let q = switchboard_core::event::EventQuery {
        kinds: vec![switchboard_core::event::EventKind::RunCancelled],
        limit: 10,
        ..Default::default()
    };
    let events = h.service.log().query(&q).await.unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!((events[1].actor.as_str(), events[1].payload["reason"].as_str()), ("carol", Some("wrong environment")));
    let long = "x".repeat(501);
    let third = ask(&h).await;
    let err = h.err(&carol, "cancel_run", json!({"run": third, "reason": long})).await;
    assert!(matches!(&err, Error::BadInput { field: Some(f), .. } if f == "reason"), "{err:?}");
}

#[tokio::test]
async fn a_deploy_without_a_version_asks_for_what_the_previous_environment_runs() {
    let h = Harness::with_org().await;
    let carol = caller("carol", Role::Editor);
    let envs = h.environments("ledger").await;
    assert!(envs.len() >= 2, "{envs:?}");
    let (first, second) = (envs[0].as_str(), envs[1].as_str());
    // Nothing deployed before the first and no green build: which version is asked, nothing requested.
    let refused = h.run(&carol, "deploy", json!({"project": "ledger", "environment": first})).await.unwrap_err();
    assert!(refused.to_string().contains("say which version"), "{refused}");
    assert!(h.ok("list_runs", json!({})).await["runs"].as_array().unwrap().is_empty());
    // With a green build on main: its commit, pinned now and shown to the approver.
    let sha = "0123456789abcdef0123456789abcdef01234567";
    h.ok("record_build", json!({"project": "ledger", "status": "success", "sha": sha, "branch": "main"})).await;
    h.ok("record_build", json!({"project": "ledger", "status": "failure", "sha": "f".repeat(40), "branch": "main"}))
        .await;
    let run = h.run(&carol, "deploy", json!({"project": "ledger", "environment": first})).await.unwrap().to_json();
    assert_eq!(run["arguments"]["version"], "0123456789ab", "{run}");
    assert_eq!(run["plan"]["to"], "0123456789ab");
    assert_eq!(run["plan"]["chosen"], "the newest green build on main");
    assert_eq!(run["plan"]["from"], Value::Null);
    // The first runs 1.4.0 (a failed 1.5.0 after it does not count): the second gets 1.4.0, decided now.
    h.ok(
        "record_deployment",
        json!({"project": "ledger", "environment": first, "version": "1.4.0", "status": "succeeded"}),
    )
    .await;
    h.clock.advance(1000);
    h.ok(
        "record_deployment",
        json!({"project": "ledger", "environment": first, "version": "1.5.0", "status": "failed"}),
    )
    .await;
    let run = h.run(&carol, "deploy", json!({"project": "ledger", "environment": second})).await.unwrap().to_json();
    assert_eq!(run["arguments"]["version"], "1.4.0", "{run}");
    assert_eq!(run["summary"], format!("Deploy ledger 1.4.0 (what {first} runs) to {second}"));
    // A version asked for is kept as asked.
    let args = json!({"project": "ledger", "environment": second, "version": "2.0.0"});
    assert_eq!(h.run(&carol, "deploy", args).await.unwrap().to_json()["arguments"]["version"], "2.0.0");
}
