//! Policy through the service: every operation that needs more than viewer
//! refuses a caller one role below, with the one denial message, and changes
//! nothing; read operations serve viewers.

mod common;

use common::*;
use serde_json::{Value, json};
use switchboard_core::Error;
use switchboard_core::error::DenyReason;
use switchboard_core::model::Role;
use switchboard_core::ops::{Effect, OpKind};
use switchboard_core::policy::required_role;

/// Valid arguments for each operation against the `with_org` fixture.
fn args(kind: OpKind, run: &str) -> Value {
    match kind {
        OpKind::GetProject | OpKind::ProjectScore | OpKind::CiHealth | OpKind::ArchiveProject => {
            json!({"project": "payments-api"})
        }
        OpKind::FindProjects => json!({"query": "payments"}),
        OpKind::Dora => json!({"team": "payments"}),
        OpKind::Dependents => json!({"package": "left-pad"}),
        OpKind::GetDependency => json!({"project": "payments-api", "package": "redis"}),
        OpKind::ProjectHistory => json!({"project": "payments-api", "subject": "redis"}),
        OpKind::ListDeployments | OpKind::ListIncidents | OpKind::ListTeams | OpKind::ListRuns => {
            json!({})
        }
        OpKind::GetTeam => json!({"team": "payments"}),
        OpKind::GetRun | OpKind::ApproveRun | OpKind::DenyRun | OpKind::CancelRun => json!({"run": run}),
        OpKind::CreateProject => {
            json!({"slug": "new-one", "team": "payments", "project_type": "api"})
        }
        OpKind::UpdateProject => json!({"project": "payments-api", "description": "changed"}),
        OpKind::SetFact => json!({"project": "payments-api", "key": "tier", "value": "2"}),
        OpKind::SetDependencies => json!({"project": "ledger", "dependencies": []}),
        OpKind::ImportManifests => json!({"project": "ledger", "files": []}),
        OpKind::ImportCatalog => json!({"entities": [], "dry_run": true}),
        OpKind::ImportGithub => json!({"installation": 42}),
        OpKind::ListImports => json!({"outcome": "skipped"}),
        OpKind::CheckLogs => json!({"project": "payments-api", "since": "1h"}),
        OpKind::Investigate => json!({"project": "payments-api"}),
        OpKind::CompareEnvironments => json!({"project": "payments-api"}),
        OpKind::ImportSbom => json!({"project": "ledger", "sbom": {"bomFormat": "CycloneDX", "components": []}}),
        OpKind::CreateTeam => json!({"slug": "risk"}),
        OpKind::UpdateTeam => json!({"team": "payments", "name": "Pay"}),
        OpKind::RecordDeployment => {
            json!({"project": "payments-api", "environment": "staging", "version": "1.0.0"})
        }
        OpKind::RecordIncident => json!({"project": "payments-api", "title": "Down"}),
        OpKind::RecordBuild => json!({"project": "payments-api", "status": "success"}),
        OpKind::RecordChange => json!({"project": "payments-api", "title": "Retry capture", "opened_at": "1h"}),
        OpKind::UpgradeDependency => json!({"package": "left-pad", "to": "1.3.0"}),
        OpKind::Deploy => json!({"project": "payments-api", "environment": "staging", "version": "1.0.0"}),
        OpKind::ScaffoldProject => {
            json!({"name": "invoice-consumer", "template": "consumer", "team": "payments"})
        }
        OpKind::ListUsers => json!({}),
        OpKind::SetUserRole => json!({"user": "carol", "role": "viewer"}),
        OpKind::SetUserEmail => json!({"user": "carol", "email": "c@example.com"}),
        OpKind::DisableUser | OpKind::EnableUser | OpKind::SignOutEverywhere => json!({"user": "carol"}),
        OpKind::ListDeliveries | OpKind::ListMessages => json!({"status": "dead"}),
        OpKind::ReplayDelivery => json!({"delivery": 1}),
        OpKind::RetryMessage => json!({"message": 1}),
        OpKind::Vulnerabilities => json!({"severity": "high"}),
        OpKind::AffectedBy | OpKind::FixAdvisory => json!({"advisory": "CVE-2025-29923"}),
        OpKind::ImportAdvisories => json!({"records": [{"id": "GO-2025-3540", "modified": "2025-03-20T00:00:00Z"}]}),
    }
}

fn below(role: Role) -> Option<Role> {
    Role::ALL.iter().rev().copied().find(|r| *r < role)
}

#[tokio::test]
async fn every_operation_denies_the_role_below_and_changes_nothing() {
    let h = Harness::with_org().await;
    // A pending run for the decision operations, requested by carol.
    let run = h
        .run(
            &caller("carol", Role::Editor),
            "deploy",
            json!({"project": "ledger", "environment": "staging", "version": "1.4.0"}),
        )
        .await
        .unwrap();
    let run_id = run.to_json()["id"].as_str().unwrap().to_owned();
    let policy = &h.service.config().policy;
    let mut denied = 0;
    for kind in OpKind::ALL {
        let needed = required_role(kind, policy);
        let Some(role) = below(needed) else {
            assert_eq!(kind.effect(), Effect::Read, "{} needs viewer but is not a read", kind.name());
            let out = h.run(&caller("dave", Role::Viewer), kind.name(), args(kind, &run_id)).await;
            // Allowed, and told the advisory is unknown in an organisation without any.
            let unknown = kind == OpKind::AffectedBy && matches!(out, Err(Error::NotFound { .. }));
            assert!(out.is_ok() || unknown, "viewer may run {}: {:?}", kind.name(), out.err());
            continue;
        };
        let before = h.snapshot().await;
        let err = h.err(&caller("dave", role), kind.name(), args(kind, &run_id)).await;
        match &err {
            Error::Denied { operation, reason: DenyReason::Role { needed: n, actual } } => {
                assert_eq!((operation.as_str(), *n, *actual), (kind.name(), needed, role));
            }
            other => panic!("{}: expected a role denial, got {other:?}", kind.name()),
        }
        assert_eq!(
            err.to_string(),
            format!(
                "Not allowed: {} needs the {needed} role, and you have {role}. Ask an admin for the role.",
                kind.name()
            )
        );
        assert_eq!(h.snapshot().await, before, "{} changed something while denied", kind.name());
        denied += 1;
    }
    assert_eq!(denied, OpKind::ALL.iter().filter(|k| required_role(**k, policy) > Role::Viewer).count());
    assert!(required_role(OpKind::ListUsers, policy) == Role::Admin, "who has access is for admins only");
}

#[tokio::test]
async fn denial_comes_before_validation() {
    let h = Harness::with_org().await;
    let err = h.err(&caller("dave", Role::Viewer), "set_fact", json!({"nonsense": true})).await;
    assert!(matches!(err, Error::Denied { .. }), "{err:?}");
}

#[tokio::test]
async fn self_approval_is_refused_unless_configured() {
    let h = Harness::with_org().await;
    let run = h
        .run(
            &caller("bob", Role::Approver),
            "deploy",
            json!({"project": "ledger", "environment": "staging", "version": "1.4.0"}),
        )
        .await
        .unwrap();
    let id = run.to_json()["id"].as_str().unwrap().to_owned();
    let before = h.snapshot().await;
    let err = h.err(&caller("bob", Role::Approver), "approve_run", json!({"run": id})).await;
    assert!(matches!(err, Error::Denied { reason: DenyReason::SelfApproval, .. }), "{err:?}");
    assert!(err.to_string().starts_with("Not allowed: approve_run"), "{err}");
    assert_eq!(h.snapshot().await, before);
    // bob may still deny his own request
    let out = h.run(&caller("bob", Role::Approver), "deny_run", json!({"run": id})).await.unwrap().to_json();
    assert_eq!(out["status"], "denied");

    let mut config = switchboard_core::config::Config::default();
    config.policy.allow_self_approval = true;
    let h = Harness::with_config(config).await;
    h.ok("create_team", json!({"slug": "t"})).await;
    h.ok("create_project", json!({"slug": "p", "team": "t", "project_type": "api"})).await;
    let run = h
        .run(
            &caller("bob", Role::Approver),
            "deploy",
            json!({"project": "p", "environment": "staging", "version": "1.0.0"}),
        )
        .await
        .unwrap();
    let id = run.to_json()["id"].as_str().unwrap().to_owned();
    h.executors().await;
    let out = h.run(&caller("bob", Role::Approver), "approve_run", json!({"run": id})).await.unwrap().to_json();
    assert_eq!(out["status"], "approved");
}

/// Every operation's output is the one its typed input names (what
/// `Service::call` relies on), run by an admin with valid arguments.
#[tokio::test]
async fn every_operation_returns_its_typed_output() {
    use switchboard_core::ops::typed::fits;
    let carol = caller("carol", Role::Editor);
    let deploy = || json!({"project": "ledger", "environment": "staging", "version": "1.4.0"});
    let mut ran = Vec::new();
    for kind in OpKind::ALL {
        // Each on a fresh organisation, with a run still undecided.
        let h = Harness::with_org().await;
        h.executors().await;
        let id = h.run(&carol, "deploy", deploy()).await.unwrap().to_json()["id"].as_str().unwrap().to_owned();
        match h.run(&caller("alice", Role::Admin), kind.name(), args(kind, &id)).await {
            Ok(out) => {
                assert!(fits(kind, &out), "{} returned {}", kind.name(), out.to_json());
                ran.push(kind.name());
            }
            // Nothing in the inbox or outbox to replay or retry here.
            Err(Error::NotFound { .. }) if matches!(kind, OpKind::ReplayDelivery | OpKind::RetryMessage) => {}
            // No advisories in a fresh organisation (tests/advisories.rs imports them).
            Err(Error::NotFound { .. }) if matches!(kind, OpKind::AffectedBy | OpKind::FixAdvisory) => {}
            // No GitHub App here: the import says what to configure.
            Err(Error::BadInput { message, .. }) if kind == OpKind::ImportGithub => {
                assert!(message.contains("needs a GitHub App"), "{message}");
            }
            Err(e) => panic!("{}: {e}", kind.name()),
        }
    }
    assert_eq!(ran.len(), OpKind::ALL.len() - 5, "{ran:?}");
    // And through Service::call, typed end to end.
    let h = Harness::with_org().await;
    let detail = h
        .service
        .call(
            &caller("dave", Role::Viewer),
            switchboard_core::ops::inputs::GetProject { project: "ledger".parse().unwrap() },
        )
        .await
        .unwrap();
    assert_eq!(detail.project.slug.as_str(), "ledger");
}
