//! Team-scoped approval rules, freeze windows and editors kept to their
//! teams, through the service: each denial says why and changes nothing,
//! and the run waits for what the rules ask, saying so.

mod common;

use common::*;
use serde_json::{Value, json};
use switchboard_core::Error;
use switchboard_core::config::Config;
use switchboard_core::error::DenyReason;
use switchboard_core::event::{EventData, EventKind, EventQuery};
use switchboard_core::model::{Role, RunStatus};
use switchboard_core::policy::webhook_caller;
use switchboard_core::store::EventLog;

/// T0 is 2026-05-28T20:26:40Z; the freeze covers the day after.
const RULES: &str = r#"
[policy]
editors_own_teams_only = true
[[policy.approval_rules]]
name = "production deploys"
operations = ["deploy"]
environments = ["production"]
approvals = 2
from_owning_team = true
[[policy.freezes]]
name = "launch week"
from = "2026-05-29T00:00:00Z"
until = "2026-05-30T00:00:00Z"
operations = ["deploy"]
"#;

async fn harness() -> Harness {
    let h = Harness::with_config(Config::parse(RULES, "test.toml", &[]).unwrap()).await;
    h.ok("create_team", json!({"slug": "payments", "members": ["alice", "bob"]})).await;
    h.ok("create_team", json!({"slug": "checkout", "members": ["carol", "erin"]})).await;
    for (slug, team) in [("payments-api", "payments"), ("storefront", "checkout")] {
        h.ok("create_project", json!({"slug": slug, "team": team, "project_type": "api"})).await;
    }
    h.executors().await;
    h
}

async fn deploy(h: &Harness, project: &str, environment: &str) -> String {
    // Requested by someone who decides nothing here.
    let dave = caller("dave", Role::Admin);
    let out = h.run(&dave, "deploy", json!({"project": project, "environment": environment, "version": "2.0.0"})).await;
    out.unwrap().to_json()["id"].as_str().unwrap().to_owned()
}

async fn status(h: &Harness, run: &str) -> RunStatus {
    h.service.graph().get_run(&run.parse().unwrap()).await.unwrap().unwrap().status
}

/// The denial, having checked that it changed nothing.
async fn denied(h: &Harness, who: (&str, Role), op: &str, args: Value) -> DenyReason {
    let before = h.snapshot().await;
    let err = h.err(&caller(who.0, who.1), op, args).await;
    assert_eq!(h.snapshot().await, before, "a denied {op} changed something");
    match err {
        Error::Denied { reason, .. } => reason,
        other => panic!("{op} should be denied, got {other}"),
    }
}

#[tokio::test]
async fn a_production_deploy_waits_for_two_approvers_from_the_owning_team() {
    let h = harness().await;
    let run = deploy(&h, "payments-api", "production").await;

    // erin is an approver, but not in payments.
    let reason = denied(&h, ("erin", Role::Approver), "approve_run", json!({"run": run})).await;
    assert_eq!(reason, DenyReason::OwningTeam { team: "payments".into(), rule: "production deploys".into() });
    let said = Error::Denied { operation: "approve_run".into(), reason }.to_string();
    assert!(
        said.contains("needs an approver from team payments") && said.contains("Ask someone in payments"),
        "{said}"
    );

    // bob is, but production asks for a confirmation: without it nothing changes, and he is told how.
    let before = h.snapshot().await;
    let err = h.err(&caller("bob", Role::Approver), "approve_run", json!({"run": run})).await;
    assert_eq!(h.snapshot().await, before);
    assert!(err.to_string().contains("asks for a confirmation") && err.to_string().contains("confirm"), "{err}");
    let plan = h.ok("get_run", json!({"run": run})).await["plan"].clone();
    assert_eq!((plan["kind"].as_str(), plan["confirm"].as_bool()), (Some("deploy"), Some(true)), "{plan}");

    // Confirmed, his approval counts, and the run waits for a second one, saying so.
    let confirmed = json!({"run": run, "confirm": true});
    let out = h.run(&caller("bob", Role::Approver), "approve_run", confirmed.clone()).await.unwrap().to_json();
    assert_eq!(out["status"], "pending");
    assert_eq!(status(&h, &run).await, RunStatus::Pending);
    let q = EventQuery { kinds: vec![EventKind::RunApprovalAdded], ..Default::default() };
    let added = h.store.query(&q).await.unwrap();
    match added[0].data().unwrap() {
        EventData::RunApprovalAdded(a) => {
            assert_eq!((a.approvals, a.needed, a.team.as_ref().map(|t| t.as_str())), (1, 2, Some("payments")))
        }
        other => panic!("{other:?}"),
    }

    // bob cannot be the second approver too.
    let before = h.snapshot().await;
    let err = h.err(&caller("bob", Role::Approver), "approve_run", confirmed.clone()).await;
    assert_eq!(h.snapshot().await, before);
    assert!(err.to_string().contains("already approved") && err.to_string().contains("1 more approval"), "{err}");

    // alice (payments) is the second: approved.
    h.run(&caller("alice", Role::Admin), "approve_run", confirmed).await.unwrap();
    assert_eq!(status(&h, &run).await, RunStatus::Approved);
    let q = EventQuery { kinds: vec![EventKind::RunApproved], ..Default::default() };
    assert_eq!(h.store.query(&q).await.unwrap().len(), 1, "approved once, by the last approval");
}

#[tokio::test]
async fn a_deploy_no_rule_matches_needs_one_approval_from_anyone() {
    let h = harness().await;
    let run = deploy(&h, "payments-api", "staging").await;
    h.run(&caller("erin", Role::Approver), "approve_run", json!({"run": run})).await.unwrap();
    assert_eq!(status(&h, &run).await, RunStatus::Approved);
}

#[tokio::test]
async fn in_a_freeze_only_the_override_role_approves() {
    let h = harness().await;
    let run = deploy(&h, "storefront", "staging").await;
    h.clock.advance(6 * 3600 * 1000); // 2026-05-29T02:26Z: in the freeze.
    h.executors().await;
    let reason = denied(&h, ("erin", Role::Approver), "approve_run", json!({"run": run})).await;
    let until = 1_780_099_200_000; // 2026-05-30T00:00:00Z
    assert_eq!(reason, DenyReason::Frozen { freeze: "launch week".into(), until, role: Role::Admin });
    let said = Error::Denied { operation: "approve_run".into(), reason }.to_string();
    assert!(said.contains("freeze \"launch week\" (until 2026-05-30 00:00 UTC)"), "{said}");

    // Upgrades are not in this freeze's scope.
    let upgrade = h
        .run(&caller("bob", Role::Approver), "set_dependencies", json!({"project": "storefront", "dependencies": [{"ecosystem": "npm", "package": "left-pad", "version": "1.0.0"}]}))
        .await;
    assert!(upgrade.is_ok());
    let run2 = h
        .run(&caller("carol", Role::Editor), "upgrade_dependency", json!({"package": "left-pad", "to": "1.3.0"}))
        .await;
    let run2 = run2.unwrap().to_json()["id"].as_str().unwrap().to_owned();
    h.run(&caller("erin", Role::Approver), "approve_run", json!({"run": run2})).await.unwrap();
    assert_eq!(status(&h, &run2).await, RunStatus::Approved);

    // An admin overrides it; the approval says so, and the run may start in the window.
    h.run(&caller("alice", Role::Admin), "approve_run", json!({"run": run})).await.unwrap();
    let stored = h.service.graph().get_run(&run.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.status, RunStatus::Approved);
    assert_eq!(stored.approvals[0].freeze_override.as_deref(), Some("launch week"));
    assert_eq!(h.service.freeze_holding(&stored).await.unwrap(), None);

    // After the window, approvers approve again.
    h.clock.advance(24 * 3600 * 1000);
    h.executors().await;
    let run3 = deploy(&h, "storefront", "staging").await;
    h.run(&caller("erin", Role::Approver), "approve_run", json!({"run": run3})).await.unwrap();
}

#[tokio::test]
async fn editors_change_only_their_teams_projects() {
    let h = harness().await;
    let carol = ("carol", Role::Editor); // in checkout
    let theirs = [
        ("set_fact", json!({"project": "payments-api", "key": "tier", "value": "2"})),
        ("update_project", json!({"project": "payments-api", "description": "mine now"})),
        ("update_project", json!({"project": "storefront", "team": "payments"})),
        ("record_incident", json!({"project": "payments-api", "title": "Down"})),
        ("deploy", json!({"project": "payments-api", "environment": "staging"})),
        ("upgrade_dependency", json!({"package": "left-pad", "to": "2.0.0", "project": "payments-api"})),
        ("create_project", json!({"slug": "refunds", "team": "payments", "project_type": "api"})),
        ("update_team", json!({"team": "payments", "members": ["carol"]})),
        ("scaffold_project", json!({"name": "refunds-consumer", "template": "consumer", "team": "payments"})),
    ];
    for (op, args) in theirs {
        let reason = denied(&h, carol, op, args).await;
        assert_eq!(reason, DenyReason::OtherTeam { team: "payments".into() }, "{op}");
    }
    let said =
        Error::Denied { operation: "set_fact".into(), reason: DenyReason::OtherTeam { team: "payments".into() } };
    assert!(said.to_string().contains("editors change only their own teams' projects"), "{said}");

    // Their own team's, freely; approvers and webhook rules are not held to it.
    h.run(&caller(carol.0, carol.1), "set_fact", json!({"project": "storefront", "key": "tier", "value": "2"}))
        .await
        .unwrap();
    h.run(
        &caller(carol.0, carol.1),
        "create_project",
        json!({"slug": "basket", "team": "checkout", "project_type": "api"}),
    )
    .await
    .unwrap();
    h.run(&caller("erin", Role::Approver), "set_fact", json!({"project": "payments-api", "key": "tier", "value": "2"}))
        .await
        .unwrap();
    let recorded = json!({"project": "payments-api", "environment": "staging", "version": "1.0.0"});
    h.run(&webhook_caller("github"), "record_deployment", recorded).await.unwrap();
    // Something that does not exist is refused in the operation's own words.
    let err =
        h.err(&caller(carol.0, carol.1), "set_fact", json!({"project": "nope", "key": "tier", "value": "2"})).await;
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
}
