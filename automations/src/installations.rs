//! The GitHub App's installation webhooks: `installation` (created,
//! new_permissions_accepted) and `installation_repositories` (added, removed).
//! Each repository the App is given becomes a project unless one already has
//! it (by `github_repository`) — the same path as a new repository's rule:
//! slug from the name (a taken slug gets the owner in front), team and type
//! from `[webhooks.new_repositories]`, else `[import] default_team` (created
//! when `create_teams` is on) and the default type. A repository taken away
//! archives its project (its history stays). Dependencies and owners from the
//! repositories' files come with the repository import (`import repo`).

use async_trait::async_trait;
use serde_json::{Value, json};
use switchboard_core::import::backstage::slug;
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
        let caller = switchboard_core::policy::webhook_caller(&d.source);
        let graph = self.service.graph();
        let mut created = Vec::new();
        let mut archived = Vec::new();
        for repo in added.as_array().into_iter().flatten() {
            let (Some(full), Some(name)) = (repo["full_name"].as_str(), repo["name"].as_str()) else { continue };
            if graph
                .project_by_external_id("github_repository", full)
                .await
                .map_err(|e| Failure::retry(e.to_string()))?
                .is_some()
            {
                continue;
            }
            let owner = full.split('/').next().unwrap_or_default();
            let Some(mut project) = slug("default", name) else { continue };
            if graph
                .get_project(&project.parse().map_err(|_| Failure::permanent(format!("{name}: no slug")))?)
                .await
                .map_err(|e| Failure::retry(e.to_string()))?
                .is_some()
            {
                project = slug("default", &format!("{owner}-{name}")).unwrap_or(project);
            }
            let (team, project_type) = self.home().await.map_err(failure)?;
            let args = json!({"slug": project, "name": name, "team": team, "project_type": project_type,
                              "description": repo["description"].as_str().unwrap_or_default(),
                              "external_ids": {"github_repository": full},
                              "links": [{"title": "Repository", "url": format!("https://github.com/{full}")}]});
            match self.service.execute_json(&caller, "create_project", args).await {
                Ok(_) => created.push(project),
                Err(Error::Conflict { .. }) => {}
                Err(e) => return Err(failure(e)),
            }
        }
        for repo in removed.as_array().into_iter().flatten() {
            let Some(full) = repo["full_name"].as_str() else { continue };
            let Some(project) = graph
                .project_by_external_id("github_repository", full)
                .await
                .map_err(|e| Failure::retry(e.to_string()))?
            else {
                continue;
            };
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

impl InstallationMapper {
    /// The team and type a new repository's project gets, creating the
    /// import's default team when allowed.
    async fn home(&self) -> Result<(String, String), Error> {
        let config = self.service.config();
        if let Some(n) = &config.webhooks.new_repositories {
            return Ok((n.team.clone(), n.project_type.clone()));
        }
        let types: Vec<_> = config.project_types.keys().collect();
        let project_type = config.import.default_type(&types).map(|t| t.to_string()).unwrap_or_default();
        let team = config.import.default_team.clone();
        if self.service.graph().get_team(&team).await?.is_none() {
            if !config.import.create_teams {
                return Err(Error::bad_input(
                    None,
                    format!("team {team} (import.default_team) does not exist and import.create_teams is off"),
                ));
            }
            let caller = switchboard_core::policy::webhook_caller("github");
            match self.service.execute_json(&caller, "create_team", json!({"slug": team.as_str()})).await {
                Ok(_) | Err(Error::Conflict { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok((team.to_string(), project_type))
    }
}
