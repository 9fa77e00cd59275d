//! The storage traits every backend implements (SQLite; Neo4j for the graph,
//! the run queue, the inbox and the outbox; ClickHouse for the log).
//! They hold no business rules: the service decides, the stores remember.
//! The contract (ordering, limits, missing entities) is pinned down by the
//! conformance suite in `switchboard-store`.

use std::collections::BTreeSet;

use async_trait::async_trait;

use crate::event::{Event, EventQuery};
use crate::ids::*;
use crate::model::*;

/// A storage failure. Never shown to people as is: the service turns it into an
/// internal error with a reference.
#[derive(Clone, Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage backend error: {0}")]
    Backend(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("the store is shutting down")]
    Closed,
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Filters for `find_projects`. All present filters must match.
#[derive(Clone, Debug, Default)]
pub struct ProjectQuery {
    /// Full-text search over name, slug, description and fact values.
    pub text: Option<String>,
    pub team: Option<TeamSlug>,
    pub project_type: Option<ProjectType>,
    pub uses: Option<(PackageName, Option<Version>)>,
    pub fact: Option<(FactKey, String)>,
    pub include_archived: bool,
    pub limit: usize,
    /// Matches to skip first, for paging (in the same order: by slug, or
    /// by rank with `text`).
    pub offset: usize,
}

/// Filters for `dependents`.
#[derive(Clone, Debug)]
pub struct DependentsQuery {
    pub package: PackageName,
    pub version: Option<Version>,
    pub ecosystem: Option<Ecosystem>,
    pub limit: usize,
    /// Only projects that declare the package themselves (not those that
    /// get it through another package).
    pub direct_only: bool,
}

/// One project using a package.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct DependentRow {
    pub project: ProjectSlug,
    pub team: TeamSlug,
    pub ecosystem: Ecosystem,
    pub version: Version,
    /// Through another package, not declared by the project.
    pub transitive: bool,
}

/// How many projects use one version of a package.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct VersionCount {
    pub ecosystem: Ecosystem,
    pub version: Version,
    pub projects: u64,
    /// Of those, the projects that declare it themselves.
    pub direct: u64,
}

/// The answer to a `dependents` query: every version with its count, and the
/// first `limit` projects ordered by project slug.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Dependents {
    pub total: u64,
    pub versions: Vec<VersionCount>,
    pub projects: Vec<DependentRow>,
}

#[derive(Clone, Debug, Default)]
pub struct DeploymentQuery {
    pub project: Option<ProjectSlug>,
    pub environment: Option<EnvName>,
    pub since: Option<Millis>,
    pub limit: usize,
}

#[derive(Clone, Debug, Default)]
pub struct IncidentQuery {
    pub project: Option<ProjectSlug>,
    pub team: Option<TeamSlug>,
    pub status: Option<IncidentStatus>,
    pub since: Option<Millis>,
    pub limit: usize,
}

/// What the score needs from the graph besides the project itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScoreInputs {
    /// Incidents opened at or after the window start.
    pub incidents_in_window: u64,
    pub last_green_build_at: Option<Millis>,
    pub last_successful_deploy_at: Option<Millis>,
    /// The newest finished build on the project's default branch. Not read
    /// by the store's `score_inputs` (always `None` there): core fills it
    /// from `list_builds` (`score::gather`).
    pub newest_build: Option<crate::score::NewestBuild>,
    /// The severities of the project's open vulnerabilities (certain ones).
    /// Filled by `score::gather` when the vulnerabilities part has weight.
    pub vulnerabilities: Vec<crate::advisory::Severity>,
}

/// Totals for the home page.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Counts {
    pub projects: u64,
    pub teams: u64,
    pub dependencies: u64,
    pub deployments: u64,
    pub open_incidents: u64,
    pub pending_runs: u64,
}

/// A bulk load of graph data (demo org, migration). Upserts everything given.
#[derive(Clone, Debug, Default)]
pub struct GraphBatch {
    pub users: Vec<User>,
    pub teams: Vec<Team>,
    pub projects: Vec<Project>,
    pub deployments: Vec<Deployment>,
    pub incidents: Vec<Incident>,
    pub builds: Vec<Build>,
}

impl GraphBatch {
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
            && self.teams.is_empty()
            && self.projects.is_empty()
            && self.deployments.is_empty()
            && self.incidents.is_empty()
            && self.builds.is_empty()
    }
}

/// The project graph: current state.
///
/// Contract (checked by the conformance suite): getters return `Ok(None)` for
/// missing entities; `put_*` upsert by id (slug, name, id); list results are
/// ordered as each method says and cut at `limit` (0 means the backend default
/// of 50); text search is case-insensitive, ignores diacritics and matches word
/// prefixes in slugs, names, descriptions and fact values (every word of the
/// query must match), best match first. Which projects match is the same on
/// every backend; how equally good matches are ordered is each backend's own
/// ranking (name and slug matches weigh most), and a broad search (more than
/// 2,000 matches) may rank only the best of them.
#[async_trait]
pub trait GraphStore: crate::advisory::AdvisoryStore + Send + Sync {
    async fn get_project(&self, slug: &ProjectSlug) -> StoreResult<Option<Project>>;
    /// Upserts the whole project, facts, environments and dependencies included.
    async fn put_project(&self, project: &Project) -> StoreResult<()>;
    /// The project without its dependencies (`dependencies` left empty): for
    /// reading or changing its other fields, which a backend may do without
    /// reading every edge.
    async fn get_project_fields(&self, slug: &ProjectSlug) -> StoreResult<Option<Project>> {
        let mut project = self.get_project(slug).await?;
        if let Some(p) = &mut project {
            p.dependencies.clear();
        }
        Ok(project)
    }
    /// Upserts the project but keeps its dependencies as stored
    /// (`project.dependencies` is not read): a fact set or a score moved
    /// writes the project alone. A project not stored yet is stored without
    /// dependencies.
    async fn put_project_fields(&self, project: &Project) -> StoreResult<()> {
        let mut p = project.clone();
        p.dependencies = self.get_project(&p.slug).await?.map(|s| s.dependencies).unwrap_or_default();
        self.put_project(&p).await
    }
    /// Ordered by best text match when searching, else by slug.
    async fn find_projects(&self, query: &ProjectQuery) -> StoreResult<Vec<ProjectSummary>>;
    /// How many projects match (`limit` is ignored).
    async fn count_projects(&self, query: &ProjectQuery) -> StoreResult<u64>;
    /// Looks a project up by an external id (`github_repository`, `pagerduty_service`).
    async fn project_by_external_id(&self, kind: &str, id: &str) -> StoreResult<Option<ProjectSlug>>;
    async fn dependents(&self, query: &DependentsQuery) -> StoreResult<Dependents>;
    /// Of `packages` (ecosystem and name as advisories spell them), those an
    /// active project depends on, directly or not. The default asks
    /// [`GraphStore::dependents`] once per package.
    async fn packages_in_use(&self, packages: &[(Ecosystem, String)]) -> StoreResult<BTreeSet<(Ecosystem, String)>> {
        let mut out = BTreeSet::new();
        for (ecosystem, name) in packages {
            let Ok(package) = PackageName::new(name.clone()) else { continue };
            let q =
                DependentsQuery { package, version: None, ecosystem: Some(*ecosystem), limit: 1, direct_only: false };
            if !self.dependents(&q).await?.projects.is_empty() {
                out.insert((*ecosystem, name.clone()));
            }
        }
        Ok(out)
    }
    /// Package names known to the graph that start with `prefix`, ordered, at most `limit`.
    async fn packages(&self, prefix: &str, limit: usize) -> StoreResult<Vec<PackageName>>;

    async fn get_team(&self, slug: &TeamSlug) -> StoreResult<Option<Team>>;
    async fn put_team(&self, team: &Team) -> StoreResult<()>;
    /// Ordered by slug.
    async fn list_teams(&self) -> StoreResult<Vec<Team>>;

    async fn get_user(&self, name: &UserName) -> StoreResult<Option<User>>;
    async fn put_user(&self, user: &User) -> StoreResult<()>;
    /// Ordered by name.
    async fn list_users(&self) -> StoreResult<Vec<User>>;

    /// Upserts by id.
    async fn put_deployment(&self, deployment: &Deployment) -> StoreResult<()>;
    async fn deployment_by_external_id(
        &self,
        project: &ProjectSlug,
        external_id: &str,
    ) -> StoreResult<Option<Deployment>>;
    /// Newest first (`started_at`, then id).
    async fn list_deployments(&self, query: &DeploymentQuery) -> StoreResult<Vec<Deployment>>;
    /// The latest successful deployment per environment of a project, ordered by environment.
    async fn current_deployments(&self, project: &ProjectSlug) -> StoreResult<Vec<Deployment>>;

    /// Upserts by id.
    async fn put_incident(&self, incident: &Incident) -> StoreResult<()>;
    async fn incident_by_external_id(&self, project: &ProjectSlug, external_id: &str) -> StoreResult<Option<Incident>>;
    /// Newest first (`opened_at`, then id).
    async fn list_incidents(&self, query: &IncidentQuery) -> StoreResult<Vec<Incident>>;

    /// Upserts by id.
    async fn put_build(&self, build: &Build) -> StoreResult<()>;
    async fn build_by_external_id(&self, project: &ProjectSlug, external_id: &str) -> StoreResult<Option<Build>>;
    /// Newest first (`started_at`, then id).
    async fn list_builds(&self, project: &ProjectSlug, limit: usize) -> StoreResult<Vec<Build>>;

    async fn score_inputs(&self, project: &ProjectSlug, window_start: Millis) -> StoreResult<ScoreInputs>;

    /// Upserts by id.
    async fn put_run(&self, run: &Run) -> StoreResult<()>;
    async fn get_run(&self, id: &RunId) -> StoreResult<Option<Run>>;
    /// Newest first; `status` filters on the stored status.
    async fn list_runs(&self, status: Option<RunStatus>, limit: usize) -> StoreResult<Vec<Run>>;

    /// Upserts by id.
    async fn put_token(&self, token: &ApiToken) -> StoreResult<()>;
    async fn get_token(&self, id: &str) -> StoreResult<Option<ApiToken>>;
    async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<ApiToken>>;
    /// Ordered by creation, newest first; `user` filters.
    async fn list_tokens(&self, user: Option<&UserName>) -> StoreResult<Vec<ApiToken>>;

    /// A user's password hash (PHC string), kept apart from the user record.
    async fn set_password_hash(&self, user: &UserName, hash: &str) -> StoreResult<()>;
    async fn password_hash(&self, user: &UserName) -> StoreResult<Option<String>>;
    async fn put_session(&self, session: &Session) -> StoreResult<()>;
    async fn session_by_hash(&self, hash: &str) -> StoreResult<Option<Session>>;
    /// Deleting a missing session is not an error.
    async fn delete_session(&self, hash: &str) -> StoreResult<()>;

    /// Keeps a one-time ticket (a chat link code…) until `expires_at`, under
    /// (`kind`, `key`), replacing one with the same key: every process on
    /// the store can take it.
    async fn put_ticket(&self, kind: &str, key: &str, value: &serde_json::Value, expires_at: Millis)
    -> StoreResult<()>;
    /// Reads the ticket without taking it (`None` when missing or expired at `now`).
    async fn get_ticket(&self, kind: &str, key: &str, now: Millis) -> StoreResult<Option<serde_json::Value>>;
    /// Takes the ticket if it is there and not expired at `now`; exactly one
    /// of several takers gets it.
    async fn take_ticket(&self, kind: &str, key: &str, now: Millis) -> StoreResult<Option<serde_json::Value>>;
    /// Claims (`kind`, `key`) for `holder` until `expires_at`: true for the
    /// first claimant (or the first after an expiry), false for everyone
    /// else — how several processes agree that one of them does something.
    async fn claim_ticket(
        &self,
        kind: &str,
        key: &str,
        holder: &str,
        expires_at: Millis,
        now: Millis,
    ) -> StoreResult<bool>;
    /// Forgets the tickets expired at `now`; how many.
    async fn prune_tickets(&self, now: Millis) -> StoreResult<u64>;
    /// The live tickets of `kind` at `now` (key and value), by key, at most
    /// `limit`: a queue whose entries merge by key (a dependency refresh per
    /// repository).
    async fn list_tickets(
        &self,
        kind: &str,
        now: Millis,
        limit: usize,
    ) -> StoreResult<Vec<(String, serde_json::Value)>>;

    /// Appends a message and keeps only the newest `keep` of its thread.
    async fn append_message(&self, message: &ChatMessage, keep: usize) -> StoreResult<()>;
    /// The newest `limit` messages of a thread, oldest first.
    async fn thread_messages(&self, thread: &str, limit: usize) -> StoreResult<Vec<ChatMessage>>;
    /// Deletes every message older than `before` (chat retention); returns how many.
    async fn prune_messages(&self, before: Millis) -> StoreResult<u64>;

    async fn counts(&self) -> StoreResult<Counts>;
    /// Upserts everything in the batch in one go.
    async fn import(&self, batch: &GraphBatch) -> StoreResult<()>;
}

/// The operations log: everything that happened, append-only.
///
/// Contract: `append` is atomic per call and keeps ids unique (appending an id
/// again is a no-op); `query` returns newest first by `occurred_at`, then id,
/// with millisecond precision, cut at `limit` (0 means 100).
#[async_trait]
pub trait EventLog: Send + Sync {
    async fn append(&self, events: &[Event]) -> StoreResult<()>;
    async fn query(&self, query: &EventQuery) -> StoreResult<Vec<Event>>;
    async fn count(&self) -> StoreResult<u64>;
}
