//! The GitHub App's installation webhooks: `installation` (created,
//! new_permissions_accepted) and `installation_repositories` (added, removed).
//! Each repository the App is given becomes a project unless one already has
//! it (by `github_repository`) — the path `switchboard import github` takes
//! too: slug from the name (a taken slug gets the owner in front), team and
//! type from `[webhooks.new_repositories]`, else `[import] default_team`
//! (created when `create_teams` is on) and the default type. A repository
//! taken away archives its project (its history stays). Dependencies come
//! from the repositories' files (`import repo`, pushes).

use async_trait::async_trait;
use serde_json::{Value, json};
use switchboard_core::ids::slugify;
use switchboard_core::inbox::Delivery;
use switchboard_core::{Error, Service};

use crate::process::{Failure, Mapped, Mapper};

pub struct InstallationMapper {
    pub service: Service,
}

fn failure(e: Error) -> Failure {
    match e {
        Error::BadInput { .. } | Error::NotFound { .. } => Failure::permanent(e.to_string()),
        other => Failure::retry(other.to_string()),
    }
}

#[async_trait]
impl Mapper for InstallationMapper {
    async fn apply(&self, d: &Delivery, payload: &Value) -> Result<Mapped, Failure> {
        let action = payload["action"].as_str().unwrap_or_default();
        let (added, removed) = match (d.source.as_str(), d.event.as_str(), action) {
            ("github", "installation", "created" | "new_permissions_accepted") => {
                (&payload["repositories"], &Value::Null)
            }
            ("github", "installation_repositories", _) => {
                (&payload["repositories_added"], &payload["repositories_removed"])
            }
            _ => return Ok(Mapped::Unmapped("not an installation of the App".into())),
        };
        let mut created = Vec::new();
        let mut archived = Vec::new();
        for repo in added.as_array().into_iter().flatten() {
            if let Some(Project::Created(p)) = ensure_project(&self.service, repo, false).await.map_err(failure)? {
                created.push(p);
            }
        }
        let caller = switchboard_core::policy::webhook_caller(&d.source);
        for repo in removed.as_array().into_iter().flatten() {
            let Some(full) = repo["full_name"].as_str() else { continue };
            let found = self.service.graph().project_by_external_id("github_repository", full).await;
            let Some(project) = found.map_err(|e| Failure::retry(e.to_string()))? else { continue };
            self.service
                .execute_json(&caller, "archive_project", json!({"project": project}))
                .await
                .map_err(failure)?;
            archived.push(project.to_string());
        }
        if created.is_empty() && archived.is_empty() {
            return Ok(Mapped::Ran("installation: every repository already has its project".into()));
        }
        Ok(Mapped::Ran(format!("installation: created {}; archived {}", list(&created), list(&archived))))
    }
}

fn list(names: &[String]) -> String {
    if names.is_empty() { "none".into() } else { names.join(", ") }
}

/// A repository's project, as [`ensure_project`] found or made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Project {
    Existing(String),
    /// Made now (or, on a dry run, would be).
    Created(String),
}

/// The project of `repo` (a repository as GitHub lists them: at least
/// `full_name` and `name`): the one with its `github_repository`, else a new
/// one (not made on a dry run). `None` for an entry without those fields or
/// whose name makes no slug.
pub async fn ensure_project(service: &Service, repo: &Value, dry_run: bool) -> Result<Option<Project>, Error> {
    let (Some(full), Some(name)) = (repo["full_name"].as_str(), repo["name"].as_str()) else { return Ok(None) };
    let graph = service.graph();
    if let Some(p) = graph.project_by_external_id("github_repository", full).await? {
        return Ok(Some(Project::Existing(p.to_string())));
    }
    let owner = full.split('/').next().unwrap_or_default();
    let mut project = slugify(name);
    if project.is_empty() {
        return Ok(None);
    }
    let taken = graph.get_project(&project.parse().map_err(|_| Error::field("name", "makes no slug"))?).await?;
    if taken.is_some() {
        project = slugify(&format!("{owner}-{name}"));
    }
    if dry_run {
        return Ok(Some(Project::Created(project)));
    }
    let (team, project_type) = home(service).await?;
    let caller = switchboard_core::policy::webhook_caller("github");
    let args = json!({"slug": project, "name": name, "team": team, "project_type": project_type,
                      "description": repo["description"].as_str().unwrap_or_default(),
                      "external_ids": {"github_repository": full},
                      "links": [{"title": "Repository", "url": format!("https://github.com/{full}")}]});
    match service.execute_json(&caller, "create_project", args).await {
        Ok(_) => Ok(Some(Project::Created(project))),
        Err(Error::Conflict { .. }) => Ok(Some(Project::Existing(project))),
        Err(e) => Err(e),
    }
}

/// The team and type a new repository's project gets, creating the import's
/// default team when allowed.
async fn home(service: &Service) -> Result<(String, String), Error> {
    let config = service.config();
    if let Some(n) = &config.webhooks.new_repositories {
        return Ok((n.team.clone(), n.project_type.clone()));
    }
    let types: Vec<_> = config.project_types.keys().collect();
    let project_type = config.import.default_type(&types).map(|t| t.to_string()).unwrap_or_default();
    let team = config.import.default_team.clone();
    if service.graph().get_team(&team).await?.is_none() {
        if !config.import.create_teams {
            return Err(Error::bad_input(
                None,
                format!("team {team} (import.default_team) does not exist and import.create_teams is off"),
            ));
        }
        let caller = switchboard_core::policy::webhook_caller("github");
        match service.execute_json(&caller, "create_team", json!({"slug": team.as_str()})).await {
            Ok(_) | Err(Error::Conflict { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok((team.to_string(), project_type))
}
