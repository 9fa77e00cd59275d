//! GitHub repositories as projects. The App's `installation` (created,
//! new_permissions_accepted) and `installation_repositories` (added, removed)
//! webhooks, `repository` events (created, renamed, transferred, archived,
//! deleted), `switchboard import github` and the refresh after a push all
//! take one path, [`import::repository`]: a repository is found by GitHub's
//! id, else its `owner/name`, and made a project otherwise, with its team,
//! type, facts and dependencies read from it by the `[import]` rules.
//!
//! Webhook processing never waits on GitHub: with an App, a repository given
//! to it is queued for the refresher (`refresh`), which imports it whole;
//! without one, its project is made from the payload alone (default team and
//! type). Renames, transfers and archiving need no read and happen at once.

pub mod import;

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use switchboard_core::inbox::Delivery;
use switchboard_core::{Error, Service};

use crate::process::{Failure, Mapped, Mapper};

pub use import::{Outcome, Report};

/// Maps the App's installation and repository webhooks.
pub struct RepositoryMapper {
    pub service: Service,
    /// Whether a GitHub App is configured (the refresher imports queued
    /// repositories); without one, projects are made from payloads alone.
    pub with_app: bool,
}

fn failure(e: Error) -> Failure {
    match e {
        Error::BadInput { .. } | Error::NotFound { .. } => Failure::permanent(e.to_string()),
        other => Failure::retry(other.to_string()),
    }
}

#[async_trait]
impl Mapper for RepositoryMapper {
    async fn apply(&self, d: &Delivery, payload: &Arc<Value>) -> Result<Mapped, Failure> {
        if d.source != "github" {
            return Ok(Mapped::Unmapped("not from GitHub".into()));
        }
        let action = payload["action"].as_str().unwrap_or_default();
        let (added, removed): (Vec<&Value>, Vec<&Value>) = match (d.event.as_str(), action) {
            ("installation", "created" | "new_permissions_accepted") => (list(&payload["repositories"]), vec![]),
            ("installation_repositories", _) => {
                (list(&payload["repositories_added"]), list(&payload["repositories_removed"]))
            }
            ("repository", "created") => (vec![&payload["repository"]], vec![]),
            ("repository", "deleted") => (vec![], vec![&payload["repository"]]),
            ("repository", "renamed" | "transferred" | "archived" | "unarchived") => {
                return self.moved(action, payload).await;
            }
            _ => return Ok(Mapped::Unmapped("not a repository given to or taken from the App".into())),
        };
        let mut said = Vec::new();
        for repo in added {
            said.push(self.given(repo).await?);
        }
        for repo in removed {
            if let Some(project) = self.taken(repo).await? {
                said.push(format!("{} taken away: {project} archived", repo["full_name"].as_str().unwrap_or("?")));
            }
        }
        if said.is_empty() {
            return Ok(Mapped::Ran("no repository to import or archive".into()));
        }
        Ok(Mapped::Ran(said.join("; ")))
    }
}

fn list(v: &Value) -> Vec<&Value> {
    v.as_array().map(|a| a.iter().collect()).unwrap_or_default()
}

impl RepositoryMapper {
    /// A repository given to the App: queued for a whole import, or (no App)
    /// made a project from the payload.
    async fn given(&self, repo: &Value) -> Result<String, Failure> {
        let full = repo["full_name"].as_str().unwrap_or("?");
        if self.with_app {
            self.service.queue_refresh(full, self.service.now()).await.map_err(|e| Failure::retry(e.to_string()))?;
            return Ok(format!("{full} queued for import"));
        }
        let caller = switchboard_core::policy::webhook_caller("github");
        let report = import::apply(&self.service, None, &caller, repo, None, false).await;
        if report.outcome == Outcome::Skipped && !report.by_rule {
            return Err(Failure::permanent(report.line()));
        }
        Ok(report.line())
    }

    /// A repository taken from the App (or deleted): its project is archived.
    async fn taken(&self, repo: &Value) -> Result<Option<String>, Failure> {
        let Some(project) = self.project_of(repo, None).await? else { return Ok(None) };
        let caller = switchboard_core::policy::webhook_caller("github");
        let p = self.service.graph().get_project(&project).await.map_err(|e| Failure::retry(e.to_string()))?;
        if p.is_none_or(|p| p.archived) {
            return Ok(None);
        }
        self.service.execute_json(&caller, "archive_project", json!({"project": project})).await.map_err(failure)?;
        Ok(Some(project.to_string()))
    }

    /// The project of a repository: by GitHub's id, else by `owner/name`
    /// (or, after a rename or transfer, the name it had).
    async fn project_of(
        &self,
        repo: &Value,
        before: Option<&str>,
    ) -> Result<Option<switchboard_core::ids::ProjectSlug>, Failure> {
        let graph = self.service.graph();
        let retry = |e: switchboard_core::store::StoreError| Failure::retry(e.to_string());
        if let Some(id) = repo["id"].as_u64()
            && let Some(p) =
                graph.project_by_external_id("github_repository_id", &id.to_string()).await.map_err(retry)?
        {
            return Ok(Some(p));
        }
        for name in [before, repo["full_name"].as_str()].into_iter().flatten() {
            if let Some(p) = graph.project_by_external_id("github_repository", name).await.map_err(retry)? {
                return Ok(Some(p));
            }
        }
        Ok(None)
    }

    /// Renamed, transferred, archived or unarchived: the same project
    /// follows, with no read from GitHub.
    async fn moved(&self, action: &str, payload: &Value) -> Result<Mapped, Failure> {
        let repo = &payload["repository"];
        let full = repo["full_name"].as_str().unwrap_or("?");
        let name = repo["name"].as_str().unwrap_or_default();
        let before = match action {
            "renamed" => payload["changes"]["repository"]["name"]["from"]
                .as_str()
                .map(|old| format!("{}/{old}", repo["owner"]["login"].as_str().unwrap_or_default())),
            "transferred" => {
                let from = &payload["changes"]["owner"]["from"];
                from["organization"]["login"].as_str().or(from["user"]["login"].as_str()).map(|o| format!("{o}/{name}"))
            }
            _ => None,
        };
        let Some(project) = self.project_of(repo, before.as_deref()).await? else {
            return Ok(Mapped::Unmapped(format!("no project has {full}")));
        };
        let caller = switchboard_core::policy::webhook_caller("github");
        let said = match action {
            "archived" => {
                let p = self.service.graph().get_project(&project).await.map_err(|e| Failure::retry(e.to_string()))?;
                if p.is_some_and(|p| !p.archived) {
                    let args = json!({"project": project});
                    self.service.execute_json(&caller, "archive_project", args).await.map_err(failure)?;
                }
                format!("{full} archived: {project} archived")
            }
            "unarchived" => format!("{full} unarchived: {project} stays archived until someone restores it"),
            _ => {
                let mut ids = json!({"github_repository": full});
                if let Some(id) = repo["id"].as_u64() {
                    ids["github_repository_id"] = json!(id.to_string());
                }
                let args = json!({"project": project, "external_ids": ids});
                self.service.execute_json(&caller, "update_project", args).await.map_err(failure)?;
                format!("{} → {full}: {project} follows", before.as_deref().unwrap_or("?"))
            }
        };
        Ok(Mapped::Ran(said))
    }
}
