//! Conformance: deployments, incidents, builds, score inputs, runs, counts and import.

use serde_json::json;
use switchboard_core::event::new_event_id;
use switchboard_core::ids::*;
use switchboard_core::model::*;
use switchboard_core::store::*;

use super::*;

fn deployment(p: &str, env: &str, at: Millis, status: DeploymentStatus) -> Deployment {
    Deployment {
        id: new_event_id(at),
        project: slug(p),
        environment: EnvName::new(env).unwrap(),
        version: format!("1.0.{at}"),
        status,
        sha: None,
        actor: Some("alice".into()),
        url: None,
        external_id: Some(format!("gh-{at}")),
        started_at: at,
        finished_at: Some(at + 1),
        run: None,
    }
}

pub async fn deployments(b: &Backend) {
    use DeploymentStatus::*;
    for d in [
        deployment("api", "staging", T0, Succeeded),
        deployment("api", "production", T0 + 10, Succeeded),
        deployment("api", "production", T0 + 20, Failed),
        deployment("api", "staging", T0 + 30, Succeeded),
        deployment("web", "production", T0 + 40, Succeeded),
    ] {
        b.graph.put_deployment(&d).await.unwrap();
    }
    let all = b.graph.list_deployments(&DeploymentQuery { limit: 100, ..Default::default() }).await.unwrap();
    assert_eq!(all.iter().map(|d| d.started_at - T0).collect::<Vec<_>>(), [40, 30, 20, 10, 0]);
    let q = DeploymentQuery {
        project: Some(slug("api")),
        environment: Some(EnvName::new("production").unwrap()),
        since: Some(T0 + 15),
        limit: 10,
    };
    assert_eq!(b.graph.list_deployments(&q).await.unwrap().len(), 1);
    let current = b.graph.current_deployments(&slug("api")).await.unwrap();
    assert_eq!(
        current.iter().map(|d| (d.environment.as_str(), d.started_at - T0)).collect::<Vec<_>>(),
        [("production", 10), ("staging", 30)]
    );
    let mut d = deployment("api", "staging", T0 + 30, Failed);
    d.id = current[1].id;
    b.graph.put_deployment(&d).await.unwrap();
    assert_eq!(
        b.graph.deployment_by_external_id(&slug("api"), &format!("gh-{}", T0 + 30)).await.unwrap().unwrap().status,
        Failed
    );
    assert_eq!(b.graph.list_deployments(&DeploymentQuery { limit: 2, ..Default::default() }).await.unwrap().len(), 2);
}

pub async fn incidents(b: &Backend) {
    put_all(b, vec![project("api").team("pay").build(), project("web").team("web").build()]).await;
    let inc = |p: &str, at: Millis, status: IncidentStatus| Incident {
        id: new_event_id(at),
        project: slug(p),
        title: format!("Incident ✱ {at}"),
        status,
        severity: Some("P2".into()),
        url: None,
        external_id: Some(format!("PD{at}")),
        opened_at: at,
        resolved_at: None,
    };
    for i in [
        inc("api", T0, IncidentStatus::Resolved),
        inc("api", T0 + 5, IncidentStatus::Triggered),
        inc("web", T0 + 9, IncidentStatus::Acknowledged),
    ] {
        b.graph.put_incident(&i).await.unwrap();
    }
    let list = |q: IncidentQuery| async move { b.graph.list_incidents(&q).await.unwrap() };
    assert_eq!(list(IncidentQuery::default()).await.iter().map(|i| i.opened_at - T0).collect::<Vec<_>>(), [9, 5, 0]);
    assert_eq!(list(IncidentQuery { team: Some(TeamSlug::new("pay").unwrap()), ..Default::default() }).await.len(), 2);
    assert_eq!(list(IncidentQuery { status: Some(IncidentStatus::Triggered), ..Default::default() }).await.len(), 1);
    assert_eq!(list(IncidentQuery { since: Some(T0 + 5), ..Default::default() }).await.len(), 2);
    let found = b.graph.incident_by_external_id(&slug("api"), &format!("PD{}", T0 + 5)).await.unwrap().unwrap();
    assert_eq!(found.title, format!("Incident ✱ {}", T0 + 5));
}

pub async fn builds_and_score_inputs(b: &Backend) {
    put_all(b, vec![project("api").build()]).await;
    let build = |at: Millis, status: BuildStatus| Build {
        id: new_event_id(at),
        project: slug("api"),
        status,
        sha: Some(CommitSha::new("abcdef1").unwrap()),
        branch: Some("main".into()),
        duration_ms: Some(1000),
        url: None,
        external_id: Some(format!("run-{at}")),
        started_at: at,
        finished_at: Some(at + 1000),
    };
    for x in
        [build(T0, BuildStatus::Success), build(T0 + 100, BuildStatus::Success), build(T0 + 200, BuildStatus::Failure)]
    {
        b.graph.put_build(&x).await.unwrap();
    }
    let builds = b.graph.list_builds(&slug("api"), 2).await.unwrap();
    assert_eq!(builds.iter().map(|b| b.started_at - T0).collect::<Vec<_>>(), [200, 100]);
    assert!(b.graph.build_by_external_id(&slug("api"), &format!("run-{T0}")).await.unwrap().is_some());
    b.graph.put_deployment(&deployment("api", "production", T0 + 50, DeploymentStatus::Succeeded)).await.unwrap();
    b.graph.put_deployment(&deployment("api", "production", T0 + 60, DeploymentStatus::Failed)).await.unwrap();
    for (at, n) in [(T0 - 10, "old"), (T0 + 10, "new")] {
        let i = Incident {
            id: new_event_id(at),
            project: slug("api"),
            title: n.into(),
            status: IncidentStatus::Resolved,
            severity: None,
            url: None,
            external_id: None,
            opened_at: at,
            resolved_at: Some(at + 1),
        };
        b.graph.put_incident(&i).await.unwrap();
    }
    let inputs = b.graph.score_inputs(&slug("api"), T0).await.unwrap();
    assert_eq!(
        inputs,
        ScoreInputs {
            incidents_in_window: 1,
            last_green_build_at: Some(T0 + 100),
            last_successful_deploy_at: Some(T0 + 50),
            ..Default::default()
        }
    );
    assert_eq!(b.graph.score_inputs(&slug("none"), T0).await.unwrap(), ScoreInputs::default());
}

pub async fn runs(b: &Backend) {
    let mut ids = Vec::new();
    for (n, status) in [RunStatus::Pending, RunStatus::Approved, RunStatus::Pending].into_iter().enumerate() {
        let run = Run {
            id: RunId::new(),
            operation: switchboard_core::ops::OpKind::Deploy,
            arguments: json!({"project": "api", "environment": "staging", "n": n}),
            summary: "Deploy api to staging".into(),
            requested_by: UserName::new("carol").unwrap(),
            requested_at: T0 + n as i64,
            expires_at: T0 + 1000,
            status,
            approvals: vec![],
            steps: vec![],
            project: Some(slug("api")),
            needs: None,
            plan: None,
        };
        b.graph.put_run(&run).await.unwrap();
        ids.push(run.id);
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let all = b.graph.list_runs(None, 10).await.unwrap();
    assert_eq!(
        all.iter().map(|r| r.id).collect::<Vec<_>>(),
        ids.iter().rev().copied().collect::<Vec<_>>(),
        "newest first"
    );
    let pending = b.graph.list_runs(Some(RunStatus::Pending), 10).await.unwrap();
    assert_eq!(pending.len(), 2);
    let mut r = b.graph.get_run(&ids[0]).await.unwrap().unwrap();
    r.status = RunStatus::Denied;
    r.approvals.push(Approval {
        by: UserName::new("bob").unwrap(),
        decision: Decision::Deny,
        reason: Some("freeze".into()),
        at: T0 + 5,
        freeze_override: None,
    });
    b.graph.put_run(&r).await.unwrap();
    assert_eq!(b.graph.get_run(&ids[0]).await.unwrap().unwrap(), r);
    assert_eq!(b.graph.list_runs(Some(RunStatus::Pending), 10).await.unwrap().len(), 1);
}

pub async fn counts_and_import(b: &Backend) {
    let batch = GraphBatch {
        users: vec![],
        teams: vec![team("pay")],
        projects: vec![project("a").uses(Ecosystem::Npm, "x", "1").build(), project("b").archived().build()],
        deployments: vec![deployment("a", "production", T0, DeploymentStatus::Succeeded)],
        incidents: vec![],
        builds: vec![],
    };
    b.graph.import(&batch).await.unwrap();
    let c = b.graph.counts().await.unwrap();
    assert_eq!(
        c,
        Counts { projects: 1, teams: 1, dependencies: 1, deployments: 1, open_incidents: 0, pending_runs: 0 }
    );
    b.graph.import(&batch).await.unwrap();
    assert_eq!(b.graph.counts().await.unwrap(), c, "import is an upsert");
    // Dependents are counted after an import too, also of a project imported
    // again with other dependencies, beside one written on its own.
    b.graph.put_project(&project("c").uses(Ecosystem::Npm, "x", "1").build()).await.unwrap();
    let dependents = |package: &str| {
        let q = users_of(package);
        async move { b.graph.dependents(&q).await.unwrap().total }
    };
    assert_eq!((dependents("x").await, dependents("y").await), (2, 0));
    let again = GraphBatch { projects: vec![project("a").uses(Ecosystem::Npm, "y", "2").build()], ..batch };
    b.graph.import(&again).await.unwrap();
    assert_eq!((dependents("x").await, dependents("y").await), (1, 1));
}
