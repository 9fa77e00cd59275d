//! What surfaces may read of the stores directly: lists no operation
//! covers (home page counts, package names), and lookups a surface makes
//! on the way to an operation (a run's summary for a chat card). Only
//! reads: every change goes through [`Service::execute`](super::Service::execute).

use crate::event::{Event, EventQuery};
use crate::ids::{PackageName, ProjectSlug, RunId, TeamSlug, UserName};
use crate::model::{Build, Deployment, Project, ProjectSummary, Run, RunStatus, Team, User};
use crate::store::{
    Counts, Dependents, DependentsQuery, DeploymentQuery, EventLog, GraphStore, ProjectQuery, StoreResult,
};

/// The project graph, read-only.
#[derive(Clone, Copy)]
pub struct GraphView<'a>(pub(super) &'a dyn GraphStore);

impl GraphView<'_> {
    pub async fn counts(&self) -> StoreResult<Counts> {
        self.0.counts().await
    }

    /// Advisories known by `name` (an id or alias, any case).
    pub async fn find_advisories(&self, name: &str) -> StoreResult<Vec<crate::advisory::Advisory>> {
        self.0.find_advisories(name).await
    }

    pub async fn get_project(&self, slug: &ProjectSlug) -> StoreResult<Option<Project>> {
        self.0.get_project(slug).await
    }

    /// The project without its dependencies: cheaper where only its other fields are read.
    pub async fn get_project_fields(&self, slug: &ProjectSlug) -> StoreResult<Option<Project>> {
        self.0.get_project_fields(slug).await
    }

    pub async fn project_by_external_id(&self, kind: &str, id: &str) -> StoreResult<Option<ProjectSlug>> {
        self.0.project_by_external_id(kind, id).await
    }

    pub async fn find_projects(&self, query: &ProjectQuery) -> StoreResult<Vec<ProjectSummary>> {
        self.0.find_projects(query).await
    }

    /// How many projects match, whatever the query's limit and offset.
    pub async fn count_projects(&self, query: &ProjectQuery) -> StoreResult<u64> {
        self.0.count_projects(query).await
    }

    pub async fn dependents(&self, query: &DependentsQuery) -> StoreResult<Dependents> {
        self.0.dependents(query).await
    }

    pub async fn packages(&self, prefix: &str, limit: usize) -> StoreResult<Vec<PackageName>> {
        self.0.packages(prefix, limit).await
    }

    pub async fn get_team(&self, slug: &TeamSlug) -> StoreResult<Option<Team>> {
        self.0.get_team(slug).await
    }

    pub async fn list_teams(&self) -> StoreResult<Vec<Team>> {
        self.0.list_teams().await
    }

    pub async fn list_users(&self) -> StoreResult<Vec<User>> {
        self.0.list_users().await
    }

    pub async fn get_user(&self, name: &UserName) -> StoreResult<Option<User>> {
        self.0.get_user(name).await
    }

    pub async fn deployment_by_external_id(
        &self,
        project: &ProjectSlug,
        external_id: &str,
    ) -> StoreResult<Option<Deployment>> {
        self.0.deployment_by_external_id(project, external_id).await
    }

    pub async fn list_deployments(&self, query: &DeploymentQuery) -> StoreResult<Vec<Deployment>> {
        self.0.list_deployments(query).await
    }

    pub async fn current_deployments(&self, project: &ProjectSlug) -> StoreResult<Vec<Deployment>> {
        self.0.current_deployments(project).await
    }

    pub async fn list_builds(&self, project: &ProjectSlug, limit: usize) -> StoreResult<Vec<Build>> {
        self.0.list_builds(project, limit).await
    }

    pub async fn get_run(&self, id: &RunId) -> StoreResult<Option<Run>> {
        self.0.get_run(id).await
    }

    pub async fn list_runs(&self, status: Option<RunStatus>, limit: usize) -> StoreResult<Vec<Run>> {
        self.0.list_runs(status, limit).await
    }
}

/// The operations log, read-only.
#[derive(Clone, Copy)]
pub struct LogView<'a>(pub(super) &'a dyn EventLog);

impl LogView<'_> {
    pub async fn query(&self, query: &EventQuery) -> StoreResult<Vec<Event>> {
        self.0.query(query).await
    }

    pub async fn count(&self) -> StoreResult<u64> {
        self.0.count().await
    }
}
