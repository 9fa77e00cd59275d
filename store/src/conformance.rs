//! The backend conformance suite: what every `GraphStore` + `EventLog` must do.
//! A backend runs it with [`conformance_suite!`], giving an async expression
//! that builds a fresh, empty [`Backend`]. The sqlite backend runs it in its
//! tests; the Neo4j and ClickHouse backends must pass it unchanged.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::json;
use switchboard_core::event::{Event, EventKind, EventQuery, new_event_id};
use switchboard_core::ids::*;
use switchboard_core::model::*;
use switchboard_core::store::*;

/// A backend under test. `guard` keeps whatever it needs alive (a temp dir).
pub struct Backend {
    pub graph: Arc<dyn GraphStore>,
    pub log: Arc<dyn EventLog>,
    pub guard: Box<dyn std::any::Any + Send + Sync>,
}

/// Expands to one `#[tokio::test]` per conformance case.
#[macro_export]
macro_rules! conformance_suite {
    ($make:expr) => {
        $crate::conformance_suite!(@cases $make;
            missing_entities, project_round_trip, project_upsert_replaces, find_projects_filters,
            text_search, external_ids, dependents_counts, packages_prefix, teams_and_users,
            deployments, incidents, builds_and_score_inputs, runs, counts_and_import,
            events_order_and_filters, events_subjects, events_idempotent, concurrent_writers, tokens, credentials_and_sessions, conversation_history);
    };
    (@cases $make:expr; $($case:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let backend = $make;
                $crate::conformance::$case(&backend).await;
            }
        )*
    };
}

const T0: Millis = 1_760_000_000_000;

fn slug(s: &str) -> ProjectSlug {
    ProjectSlug::new(s).unwrap()
}

fn team(s: &str) -> Team {
    Team {
        slug: TeamSlug::new(s).unwrap(),
        name: format!("Team {s}"),
        members: vec![UserName::new("alice").unwrap()],
        channels: vec![ChatChannel { platform: ChatPlatform::Slack, id: "C1".into(), name: None }],
        created_at: T0,
        updated_at: T0,
    }
}

fn dep(eco: Ecosystem, p: &str, v: &str) -> Dependency {
    Dependency { ecosystem: eco, package: PackageName::new(p).unwrap(), version: Version::new(v).unwrap() }
}

/// A fake-data builder: `project("payments").team("core").uses(..)`.
pub struct ProjectBuilder(Project);

pub fn project(s: &str) -> ProjectBuilder {
    ProjectBuilder(Project {
        slug: slug(s),
        name: s.to_owned(),
        description: format!("The {s} service"),
        team: TeamSlug::new("core").unwrap(),
        project_type: ProjectType::new("api").unwrap(),
        links: vec![],
        facts: BTreeMap::new(),
        environments: vec![Environment { name: EnvName::new("production").unwrap(), url: None }],
        dependencies: vec![],
        external_ids: ExternalIds::default(),
        archived: false,
        score: 50,
        created_at: T0,
        updated_at: T0,
    })
}

impl ProjectBuilder {
    pub fn team(mut self, t: &str) -> Self {
        self.0.team = TeamSlug::new(t).unwrap();
        self
    }
    pub fn kind(mut self, t: &str) -> Self {
        self.0.project_type = ProjectType::new(t).unwrap();
        self
    }
    pub fn uses(mut self, eco: Ecosystem, p: &str, v: &str) -> Self {
        self.0.dependencies.push(dep(eco, p, v));
        self.0.dependencies.sort();
        self
    }
    pub fn fact(mut self, k: &str, v: FactValue) -> Self {
        let key = FactKey::new(k).unwrap();
        self.0.facts.insert(key.clone(), Fact { key, value: v, updated_at: T0 });
        self
    }
    pub fn describe(mut self, d: &str) -> Self {
        self.0.description = d.to_owned();
        self
    }
    pub fn archived(mut self) -> Self {
        self.0.archived = true;
        self
    }
    pub fn build(self) -> Project {
        self.0
    }
}

fn event(kind: EventKind, at: Millis, project: Option<&str>) -> Event {
    let mut e = Event::new(kind, at, "alice", "test", json!({"n": at}));
    e.id = new_event_id(at);
    e.project = project.map(slug);
    e
}

pub async fn missing_entities(b: &Backend) {
    let g = &b.graph;
    assert!(g.get_project(&slug("nope")).await.unwrap().is_none());
    assert!(g.get_team(&TeamSlug::new("nope").unwrap()).await.unwrap().is_none());
    assert!(g.get_user(&UserName::new("nobody").unwrap()).await.unwrap().is_none());
    assert!(g.get_run(&RunId::new()).await.unwrap().is_none());
    assert!(g.project_by_external_id("github_repository", "a/b").await.unwrap().is_none());
    assert!(g.project_by_external_id("unknown_kind", "x").await.unwrap().is_none());
    assert!(g.deployment_by_external_id(&slug("nope"), "1").await.unwrap().is_none());
    assert!(g.incident_by_external_id(&slug("nope"), "1").await.unwrap().is_none());
    assert!(g.build_by_external_id(&slug("nope"), "1").await.unwrap().is_none());
    assert!(g.list_builds(&slug("nope"), 10).await.unwrap().is_empty());
    assert!(g.current_deployments(&slug("nope")).await.unwrap().is_empty());
    let d = g
        .dependents(&DependentsQuery {
            package: PackageName::new("nothing").unwrap(),
            version: None,
            ecosystem: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(d.total, 0);
    assert!(b.log.query(&EventQuery { project: Some(slug("nope")), ..Default::default() }).await.unwrap().is_empty());
}

pub async fn project_round_trip(b: &Backend) {
    let long = "ü".repeat(5000) + " 支付 🚀";
    let mut p = project("zurich-free")
        .describe(&long)
        .uses(Ecosystem::Npm, "@types/node", "20.1.0")
        .uses(Ecosystem::Cargo, "serde", "1.0.0")
        .uses(Ecosystem::Go, "github.com/gin-gonic/gin", "v1.9.1")
        .fact("tier", FactValue::Text("1".into()))
        .fact("replicas", FactValue::Integer(-3))
        .fact("slo", FactValue::Decimal(99.95))
        .fact("public", FactValue::Bool(false))
        .build();
    p.links = vec![Link { title: "Dashboards — prod".into(), url: "https://example.com/d?x=1&y=2".into() }];
    p.external_ids =
        ExternalIds { github_repository: Some("acme/zurich".into()), pagerduty_service: Some("PABC123".into()) };
    b.graph.put_project(&p).await.unwrap();
    assert_eq!(b.graph.get_project(&p.slug).await.unwrap().unwrap(), p);
}

pub async fn project_upsert_replaces(b: &Backend) {
    let p = project("orders")
        .uses(Ecosystem::Npm, "a", "1")
        .uses(Ecosystem::Npm, "b", "1")
        .fact("x", FactValue::Integer(1))
        .build();
    b.graph.put_project(&p).await.unwrap();
    let mut p2 = project("orders").uses(Ecosystem::Npm, "b", "2").build();
    p2.name = "Orders v2".into();
    b.graph.put_project(&p2).await.unwrap();
    assert_eq!(b.graph.get_project(&p2.slug).await.unwrap().unwrap(), p2);
    let d = b
        .graph
        .dependents(&DependentsQuery {
            package: PackageName::new("a").unwrap(),
            version: None,
            ecosystem: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(d.total, 0, "old dependency edges are gone");
    let q = ProjectQuery { fact: Some((FactKey::new("x").unwrap(), "1".into())), limit: 10, ..Default::default() };
    assert!(b.graph.find_projects(&q).await.unwrap().is_empty(), "old facts are gone");
}

async fn put_all(b: &Backend, ps: Vec<Project>) {
    for p in ps {
        b.graph.put_project(&p).await.unwrap();
    }
}

fn slugs(v: &[ProjectSummary]) -> Vec<&str> {
    v.iter().map(|p| p.slug.as_str()).collect()
}

pub async fn find_projects_filters(b: &Backend) {
    put_all(
        b,
        vec![
            project("b-api")
                .team("pay")
                .uses(Ecosystem::Npm, "left-pad", "1.2.3")
                .fact("tier", FactValue::Text("1".into()))
                .build(),
            project("a-api").team("pay").uses(Ecosystem::Npm, "left-pad", "1.3.0").build(),
            project("c-worker").team("ops").kind("consumer").uses(Ecosystem::Npm, "left-pad", "1.2.3").build(),
            project("d-old").team("pay").archived().build(),
        ],
    )
    .await;
    let find = |q: ProjectQuery| async move { b.graph.find_projects(&q).await.unwrap() };
    let all = find(ProjectQuery { limit: 100, ..Default::default() }).await;
    assert_eq!(slugs(&all), ["a-api", "b-api", "c-worker"], "ordered by slug, archived hidden");
    let with = find(ProjectQuery { include_archived: true, limit: 100, ..Default::default() }).await;
    assert_eq!(with.len(), 4);
    assert!(with.iter().any(|p| p.archived));
    let pay = find(ProjectQuery { team: Some(TeamSlug::new("pay").unwrap()), limit: 100, ..Default::default() }).await;
    assert_eq!(slugs(&pay), ["a-api", "b-api"]);
    let consumers = find(ProjectQuery {
        project_type: Some(ProjectType::new("consumer").unwrap()),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(slugs(&consumers), ["c-worker"]);
    let uses = find(ProjectQuery {
        uses: Some((PackageName::new("left-pad").unwrap(), Some(Version::new("1.2.3").unwrap()))),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(slugs(&uses), ["b-api", "c-worker"]);
    let any = find(ProjectQuery {
        uses: Some((PackageName::new("left-pad").unwrap(), None)),
        limit: 2,
        ..Default::default()
    })
    .await;
    assert_eq!(slugs(&any), ["a-api", "b-api"], "limit applies after ordering");
    let fact = find(ProjectQuery {
        fact: Some((FactKey::new("tier").unwrap(), "1".into())),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(slugs(&fact), ["b-api"]);
    let zero = find(ProjectQuery { limit: 0, ..Default::default() }).await;
    assert_eq!(zero.len(), 3, "limit 0 means the default");
    let count = |q: ProjectQuery| async move { b.graph.count_projects(&q).await.unwrap() };
    assert_eq!(count(ProjectQuery { limit: 1, ..Default::default() }).await, 3, "counts ignore the limit");
    assert_eq!(
        count(ProjectQuery { team: Some(TeamSlug::new("pay").unwrap()), include_archived: true, ..Default::default() })
            .await,
        3
    );
    assert_eq!(
        count(ProjectQuery { uses: Some((PackageName::new("left-pad").unwrap(), None)), ..Default::default() }).await,
        3
    );
    assert_eq!(count(ProjectQuery { text: Some("worker".into()), ..Default::default() }).await, 1);
}

pub async fn text_search(b: &Backend) {
    put_all(
        b,
        vec![
            project("ledger").describe("Double-entry bookkeeping for Payments").build(),
            project("fraud-scorer").describe("Scores card payments in Zürich").build(),
            project("cart")
                .describe("Shopping cart")
                .fact("oncall", FactValue::Text("payments-primary".into()))
                .build(),
        ],
    )
    .await;
    let search = |t: &str| {
        let q = ProjectQuery { text: Some(t.into()), limit: 10, ..Default::default() };
        async move { b.graph.find_projects(&q).await.unwrap() }
    };
    let mut hits = slugs(&search("PAYMENTS").await).into_iter().map(str::to_owned).collect::<Vec<_>>();
    hits.sort();
    assert_eq!(hits, ["cart", "fraud-scorer", "ledger"], "case-insensitive, facts searched");
    assert_eq!(slugs(&search("book").await), ["ledger"], "word prefix");
    assert_eq!(slugs(&search("fraud").await), ["fraud-scorer"], "slug words");
    assert_eq!(slugs(&search("card payments").await), ["fraud-scorer"], "all words must match");
    assert_eq!(slugs(&search("zurich").await), ["fraud-scorer"], "diacritics ignored");
    assert!(
        search("\"*) OR (").await.is_empty() || search("\"*) OR (").await.len() <= 3,
        "query syntax is not interpreted"
    );
    assert!(search("nothing-like-this").await.is_empty());
}

pub async fn external_ids(b: &Backend) {
    let mut p = project("repo-one").build();
    p.external_ids =
        ExternalIds { github_repository: Some("acme/repo-one".into()), pagerduty_service: Some("PX1".into()) };
    b.graph.put_project(&p).await.unwrap();
    assert_eq!(
        b.graph.project_by_external_id("github_repository", "acme/repo-one").await.unwrap(),
        Some(p.slug.clone())
    );
    assert_eq!(b.graph.project_by_external_id("pagerduty_service", "PX1").await.unwrap(), Some(p.slug.clone()));
    assert!(b.graph.project_by_external_id("github_repository", "acme/other").await.unwrap().is_none());
}

pub async fn dependents_counts(b: &Backend) {
    put_all(
        b,
        vec![
            project("p3").team("t").uses(Ecosystem::Other, "redis", "7.2.4").build(),
            project("p1").team("t").uses(Ecosystem::Other, "redis", "6.2.14").build(),
            project("p2")
                .team("u")
                .uses(Ecosystem::Other, "redis", "7.2.4")
                .uses(Ecosystem::Pypi, "redis", "5.0.4")
                .build(),
            project("p4").uses(Ecosystem::Other, "redis", "7.2.4").archived().build(),
        ],
    )
    .await;
    let q = |version: Option<&str>, eco: Option<Ecosystem>, limit: usize| DependentsQuery {
        package: PackageName::new("redis").unwrap(),
        version: version.map(|v| Version::new(v).unwrap()),
        ecosystem: eco,
        limit,
    };
    let d = b.graph.dependents(&q(None, None, 10)).await.unwrap();
    assert_eq!(d.total, 4, "p4 is archived");
    assert_eq!(
        d.versions[0],
        VersionCount { ecosystem: Ecosystem::Other, version: Version::new("7.2.4").unwrap(), projects: 2 }
    );
    assert_eq!(d.versions.len(), 3);
    let names: Vec<_> = d.projects.iter().map(|r| (r.project.as_str(), r.version.as_str())).collect();
    assert_eq!(names, [("p1", "6.2.14"), ("p2", "7.2.4"), ("p2", "5.0.4"), ("p3", "7.2.4")]);
    assert_eq!(d.projects[0].team.as_str(), "t");
    let d = b.graph.dependents(&q(Some("7.2.4"), None, 1)).await.unwrap();
    assert_eq!((d.total, d.projects.len()), (2, 1));
    let d = b.graph.dependents(&q(None, Some(Ecosystem::Pypi), 10)).await.unwrap();
    assert_eq!(d.total, 1);
}

pub async fn packages_prefix(b: &Backend) {
    put_all(
        b,
        vec![
            project("x")
                .uses(Ecosystem::Npm, "react", "18")
                .uses(Ecosystem::Npm, "redux", "5")
                .uses(Ecosystem::Npm, "lodash", "4")
                .build(),
        ],
    )
    .await;
    let names: Vec<String> = b.graph.packages("re", 10).await.unwrap().into_iter().map(String::from).collect();
    assert_eq!(names, ["react", "redux"]);
    assert_eq!(b.graph.packages("", 1).await.unwrap().len(), 1);
}

pub async fn teams_and_users(b: &Backend) {
    for t in ["zeta", "alpha"] {
        b.graph.put_team(&team(t)).await.unwrap();
    }
    let mut t = team("alpha");
    t.name = "Alpha Ω".into();
    b.graph.put_team(&t).await.unwrap();
    let teams = b.graph.list_teams().await.unwrap();
    assert_eq!(teams.iter().map(|t| t.slug.as_str()).collect::<Vec<_>>(), ["alpha", "zeta"]);
    assert_eq!(teams[0], t);
    let u = User {
        name: UserName::new("bob").unwrap(),
        display_name: "Bob Ø".into(),
        email: Some("bob@example.com".into()),
        role: Role::Approver,
        chat_identities: vec![ChatIdentity { platform: ChatPlatform::Discord, id: "123".into() }],
    };
    b.graph.put_user(&u).await.unwrap();
    assert_eq!(b.graph.get_user(&u.name).await.unwrap().unwrap(), u);
    assert_eq!(b.graph.list_users().await.unwrap(), vec![u]);
}

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
            last_successful_deploy_at: Some(T0 + 50)
        }
    );
    assert_eq!(b.graph.score_inputs(&slug("none"), T0).await.unwrap(), ScoreInputs::default());
}

pub async fn runs(b: &Backend) {
    let mut ids = Vec::new();
    for (n, status) in [RunStatus::Pending, RunStatus::Approved, RunStatus::Pending].into_iter().enumerate() {
        let run = Run {
            id: RunId::new(),
            operation: "deploy".into(),
            arguments: json!({"project": "api", "environment": "staging", "n": n}),
            summary: "Deploy api to staging".into(),
            requested_by: UserName::new("carol").unwrap(),
            requested_at: T0 + n as i64,
            expires_at: T0 + 1000,
            status,
            approvals: vec![],
            steps: vec![],
            project: Some(slug("api")),
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
}

pub async fn events_order_and_filters(b: &Backend) {
    // Same timestamp for two events: ties break by id, newest id first.
    let mut events = vec![
        event(EventKind::ProjectCreated, T0, Some("api")),
        event(EventKind::FactSet, T0 + 1, Some("api")),
        event(EventKind::FactSet, T0 + 1, Some("api")),
        event(EventKind::DeploymentRecorded, T0 + 2, Some("web")),
        event(EventKind::TeamCreated, T0 + 3, None),
    ];
    events[4].payload = json!({"text": "naïve 漢字 \u{1F600}", "nested": {"a": [1, 2.5, null]}});
    b.log.append(&events).await.unwrap();
    let q = |q: EventQuery| async move { b.log.query(&q).await.unwrap() };
    let all = q(EventQuery::default()).await;
    assert_eq!(all.len(), 5);
    assert_eq!(all[0], events[4], "payload and fields round-trip");
    let mut tie = [events[1].id, events[2].id];
    tie.sort();
    assert_eq!([all[2].id, all[3].id], [tie[1], tie[0]]);
    assert_eq!(q(EventQuery { project: Some(slug("api")), ..Default::default() }).await.len(), 3);
    assert_eq!(
        q(EventQuery { kinds: vec![EventKind::FactSet, EventKind::TeamCreated], ..Default::default() }).await.len(),
        3
    );
    assert_eq!(
        q(EventQuery { since: Some(T0 + 1), until: Some(T0 + 3), ..Default::default() }).await.len(),
        3,
        "since inclusive, until exclusive"
    );
    assert_eq!(q(EventQuery { limit: 2, ..Default::default() }).await.len(), 2);
    assert_eq!(b.log.count().await.unwrap(), 5);
}

pub async fn events_subjects(b: &Backend) {
    let e1 = event(EventKind::DependenciesChanged, T0, Some("checkout")).subject("redis").subject("Serde");
    let e2 = event(EventKind::DependenciesChanged, T0 + 5, Some("checkout")).subject("redis");
    let e3 = event(EventKind::DependenciesChanged, T0 + 6, Some("cart")).subject("redis");
    b.log.append(&[e1.clone(), e2.clone(), e3]).await.unwrap();
    let got = b
        .log
        .query(&EventQuery { project: Some(slug("checkout")), subject: Some("redis".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(got.iter().map(|e| e.id).collect::<Vec<_>>(), [e2.id, e1.id]);
    let got = b.log.query(&EventQuery { subject: Some("serde".into()), ..Default::default() }).await.unwrap();
    assert_eq!(got.len(), 1, "subjects are lowercase");
    assert_eq!(got[0].subjects, ["redis", "serde"]);
    let got = b
        .log
        .query(&EventQuery { subject: Some("redis".into()), since: Some(T0 + 1), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(got.len(), 2);
}

pub async fn events_idempotent(b: &Backend) {
    let e = event(EventKind::FactSet, T0, Some("api")).subject("tier");
    b.log.append(std::slice::from_ref(&e)).await.unwrap();
    b.log.append(&[e.clone(), e.clone()]).await.unwrap();
    assert_eq!(b.log.count().await.unwrap(), 1);
    assert_eq!(b.log.query(&EventQuery { subject: Some("tier".into()), ..Default::default() }).await.unwrap().len(), 1);
    b.log.append(&[]).await.unwrap();
}

pub async fn concurrent_writers(b: &Backend) {
    let mut tasks = Vec::new();
    for w in 0..8 {
        let graph = b.graph.clone();
        let log = b.log.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                let p = project(&format!("w{w}-p{i}")).uses(Ecosystem::Cargo, "tokio", "1").build();
                graph.put_project(&p).await.unwrap();
                log.append(&[event(EventKind::ProjectCreated, T0 + i, Some(p.slug.as_str()))]).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let d = b
        .graph
        .dependents(&DependentsQuery {
            package: PackageName::new("tokio").unwrap(),
            version: None,
            ecosystem: None,
            limit: 1,
        })
        .await
        .unwrap();
    assert_eq!(d.total, 200);
    assert_eq!(b.log.count().await.unwrap(), 200);
}

pub async fn tokens(b: &Backend) {
    let token = |id: &str, user: &str, at: Millis| ApiToken {
        id: id.to_owned(),
        user: UserName::new(user).unwrap(),
        role: Role::Editor,
        hash: format!("{id}-hash"),
        created_at: at,
        expires_at: Some(at + 1000),
        revoked_at: None,
    };
    assert!(b.graph.get_token("tok_none").await.unwrap().is_none());
    assert!(b.graph.token_by_hash("nothing").await.unwrap().is_none());
    b.graph.put_token(&token("tok_a", "carol", T0)).await.unwrap();
    b.graph.put_token(&token("tok_b", "carol", T0 + 1)).await.unwrap();
    b.graph.put_token(&token("tok_c", "dave", T0 + 2)).await.unwrap();
    assert_eq!(b.graph.token_by_hash("tok_b-hash").await.unwrap().unwrap().id, "tok_b");
    let carol = UserName::new("carol").unwrap();
    let ids: Vec<String> = b.graph.list_tokens(Some(&carol)).await.unwrap().into_iter().map(|t| t.id).collect();
    assert_eq!(ids, ["tok_b", "tok_a"], "newest first");
    assert_eq!(b.graph.list_tokens(None).await.unwrap().len(), 3);
    let mut revoked = token("tok_a", "carol", T0);
    revoked.revoked_at = Some(T0 + 5);
    b.graph.put_token(&revoked).await.unwrap();
    assert_eq!(b.graph.get_token("tok_a").await.unwrap().unwrap(), revoked);
}

pub async fn credentials_and_sessions(b: &Backend) {
    let carol = UserName::new("carol").unwrap();
    assert!(b.graph.password_hash(&carol).await.unwrap().is_none());
    b.graph.set_password_hash(&carol, "$argon2id$one").await.unwrap();
    b.graph.set_password_hash(&carol, "$argon2id$two").await.unwrap();
    assert_eq!(b.graph.password_hash(&carol).await.unwrap().as_deref(), Some("$argon2id$two"));
    let s = Session { hash: "h1".into(), user: carol.clone(), created_at: T0, expires_at: T0 + 10 };
    assert!(b.graph.session_by_hash("h1").await.unwrap().is_none());
    b.graph.put_session(&s).await.unwrap();
    assert_eq!(b.graph.session_by_hash("h1").await.unwrap(), Some(s));
    b.graph.delete_session("h1").await.unwrap();
    b.graph.delete_session("h1").await.unwrap();
    assert!(b.graph.session_by_hash("h1").await.unwrap().is_none());
}

pub async fn conversation_history(b: &Backend) {
    let msg = |thread: &str, n: i64| ChatMessage {
        thread: thread.into(),
        at: T0 + n,
        author: "carol".into(),
        text: format!("message {n} ✓"),
    };
    assert!(b.graph.thread_messages("t", 10).await.unwrap().is_empty());
    for n in 0..5 {
        b.graph.append_message(&msg("t", n), 3).await.unwrap();
    }
    b.graph.append_message(&msg("other", 9), 3).await.unwrap();
    let t = b.graph.thread_messages("t", 10).await.unwrap();
    assert_eq!(t.iter().map(|m| m.at - T0).collect::<Vec<_>>(), [2, 3, 4], "bounded to the newest 3, oldest first");
    assert_eq!(t[2], msg("t", 4));
    assert_eq!(b.graph.thread_messages("t", 2).await.unwrap().len(), 2);
    assert_eq!(b.graph.thread_messages("other", 10).await.unwrap().len(), 1);
}
