//! `scaffold_project` runs: a repository generated from the template's
//! repository (in the template's organisation), its topics, the owning
//! team's access, then the project in the graph with that repository.
//! Every step first checks whether it is already done.

use async_trait::async_trait;
use serde_json::json;
use switchboard_core::model::Run;
use switchboard_core::{Error, Service};

use super::GitHubApp;
use crate::engine::{Action, Done, StepError};

pub struct Scaffold {
    pub service: Service,
    pub github: GitHubApp,
}

const STEPS: [&str; 4] = ["create repository", "set topics", "grant team access", "create project"];

struct Plan {
    name: String,
    team: String,
    project_type: String,
    template_repo: String,
    org: String,
    facts: serde_json::Value,
}

impl Scaffold {
    fn plan(&self, run: &Run) -> Result<Plan, StepError> {
        let a = &run.arguments;
        let text =
            |k: &str| a[k].as_str().map(str::to_owned).ok_or_else(|| StepError::fatal(format!("the run has no {k}")));
        let template = text("template")?;
        let config = self.service.config();
        let t = config
            .templates
            .iter()
            .find(|(n, _)| n.as_str() == template)
            .map(|(_, t)| t)
            .ok_or_else(|| StepError::fatal(format!("template {template} is no longer configured")))?;
        let template_repo = t
            .repository
            .clone()
            .ok_or_else(|| StepError::fatal(format!("template {template} has no repository to generate from")))?;
        let org = template_repo.split('/').next().unwrap_or_default().to_owned();
        let facts = serde_json::to_value(&t.facts).map_err(|e| StepError::fatal(e.to_string()))?;
        Ok(Plan {
            name: text("name")?,
            team: text("team")?,
            project_type: text("project_type")?,
            template_repo,
            org,
            facts,
        })
    }
}

#[async_trait]
impl Action for Scaffold {
    fn steps(&self, _run: &Run) -> Vec<String> {
        STEPS.map(String::from).to_vec()
    }

    async fn perform(&self, step: &str, run: &Run) -> Result<Done, StepError> {
        let p = self.plan(run)?;
        let repo = format!("{}/{}", p.org, p.name);
        let client = self.github.for_repository(&p.template_repo).await?;
        match step {
            "create repository" => {
                if self.github.exists(&client, &format!("/repos/{repo}")).await? {
                    return Ok(Done::said(format!("{repo} already exists")));
                }
                let body = json!({"owner": p.org, "name": p.name, "private": true, "include_all_branches": false});
                self.github.send(&client, "POST", &format!("/repos/{}/generate", p.template_repo), &body).await?;
                Ok(Done::said(format!("{repo} from {}", p.template_repo)))
            }
            "set topics" => {
                let body = json!({"names": [p.project_type, "switchboard"]});
                self.github.send(&client, "PUT", &format!("/repos/{repo}/topics"), &body).await?;
                Ok(Done::default())
            }
            "grant team access" => {
                let route = format!("/orgs/{}/teams/{}/repos/{repo}", p.org, p.team);
                self.github.send(&client, "PUT", &route, &json!({"permission": "push"})).await?;
                Ok(Done::said(format!("{} can push", p.team)))
            }
            "create project" => {
                let system = switchboard_core::policy::engine_caller();
                let args = json!({"slug": p.name, "team": p.team, "project_type": p.project_type,
                                  "facts": p.facts, "external_ids": {"github_repository": repo}});
                match self.service.execute_json(&system, "create_project", args).await {
                    Ok(_) => Ok(Done::said(format!("{} in the portal", p.name))),
                    Err(Error::Conflict { .. }) => Ok(Done::said(format!("{} was already there", p.name))),
                    Err(e) if e.is_user_error() => Err(StepError::fatal(e.to_string())),
                    Err(e) => Err(StepError::retry(e.to_string())),
                }
            }
            other => Err(StepError::fatal(format!("a scaffold run has no step {other:?}"))),
        }
    }
}
