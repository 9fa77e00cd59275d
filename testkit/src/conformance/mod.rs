//! The backend conformance suite: what every `GraphStore` + `EventLog` (+
//! the webhook `Inbox`, the chat `Outbox` and the `RunQueue`) must do.
//! A backend runs it with [`conformance_suite!`], giving an async expression
//! that builds a fresh, empty [`Backend`]. The sqlite backend runs it in its
//! tests; the Neo4j and ClickHouse backends must pass it unchanged.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::json;
use switchboard_core::event::{Event, EventKind, new_event_id};
use switchboard_core::ids::*;
use switchboard_core::model::*;
use switchboard_core::store::*;

mod accounts;
mod activity;
mod advisories;
mod inbox;
mod log;
mod outbox;
mod projects;
mod queue;
mod vectors;

pub use accounts::*;
pub use activity::*;
pub use advisories::*;
pub use inbox::*;
pub use log::*;
pub use outbox::*;
pub use projects::*;
pub use queue::*;
pub use vectors::*;

/// A backend under test. `guard` keeps whatever it needs alive (a temp dir).
pub struct Backend {
    pub graph: Arc<dyn GraphStore>,
    pub log: Arc<dyn EventLog>,
    pub inbox: Arc<dyn switchboard_core::inbox::Inbox>,
    pub outbox: Arc<dyn switchboard_core::outbox::Outbox>,
    pub queue: Arc<dyn switchboard_core::queue::RunQueue>,
    pub vectors: Arc<dyn switchboard_core::semantic::VectorStore>,
    pub guard: Box<dyn std::any::Any + Send + Sync>,
}

/// Expands to one `#[tokio::test]` per conformance case.
#[macro_export]
macro_rules! conformance_suite {
    ($make:expr) => {
        $crate::conformance_suite!(@cases $make;
            missing_entities, project_round_trip, project_upsert_replaces, project_fields_alone, find_projects_filters,
            text_search, external_ids, dependents_counts, dependents_direct_and_transitive, packages_prefix, teams_and_users,
            deployments, incidents, builds_and_score_inputs, runs, counts_and_import,
            events_order_and_filters, events_subjects, events_idempotent, concurrent_writers, tokens, credentials_and_sessions, tickets, conversation_history,
            inbox_lifecycle, inbox_retention, outbox_lifecycle, run_queue, vectors_nearest, advisories_and_matches);
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

pub(crate) const T0: Millis = 1_760_000_000_000;

pub(crate) fn slug(s: &str) -> ProjectSlug {
    ProjectSlug::new(s).unwrap()
}

pub(crate) fn team(s: &str) -> Team {
    Team {
        slug: TeamSlug::new(s).unwrap(),
        name: format!("Team {s}"),
        members: vec![UserName::new("alice").unwrap()],
        channels: vec![ChatChannel { platform: ChatPlatform::Slack, id: "C1".into(), name: None }],
        created_at: T0,
        updated_at: T0,
    }
}

pub(crate) fn dep(eco: Ecosystem, p: &str, v: &str) -> Dependency {
    Dependency::new(eco, PackageName::new(p).unwrap(), Version::new(v).unwrap())
}

/// A fake-data builder: `project("payments").team("core").uses(..)`.
#[derive(Clone)]
pub struct ProjectBuilder(Project);

/// Every project that uses `package`, any version or ecosystem, at most ten listed.
pub fn users_of(package: &str) -> DependentsQuery {
    DependentsQuery {
        package: PackageName::new(package).unwrap(),
        version: None,
        ecosystem: None,
        limit: 10,
        direct_only: false,
    }
}

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

pub(crate) fn event(kind: EventKind, at: Millis, project: Option<&str>) -> Event {
    let mut e = Event::new(kind, at, "alice", "test", json!({"n": at}));
    e.id = new_event_id(at);
    e.project = project.map(slug);
    e
}

pub(crate) async fn put_all(b: &Backend, ps: Vec<Project>) {
    for p in ps {
        b.graph.put_project(&p).await.unwrap();
    }
}
