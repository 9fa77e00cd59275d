//! `deploy` runs: one step, dispatching the configured workflow
//! (`github.deploy_workflow` on `github.deploy_ref`) in the project's
//! repository with inputs `environment`, `version` and the run's id (its
//! correlation id, input `github.deploy_run_input`). The deployment it starts
//! reports back through the `deployment_status` / `workflow_run` webhooks,
//! which name the run when the workflow carries that id.

use async_trait::async_trait;
use serde_json::json;
use switchboard_core::Service;
use switchboard_core::model::{Run, RunRequest};

use super::GitHubApp;
use crate::engine::{Action, Done, StepError};

pub struct Deploy {
    pub service: Service,
    pub github: GitHubApp,
}

pub const DISPATCH: &str = "dispatch deploy workflow";

#[async_trait]
impl Action for Deploy {
    fn steps(&self, _run: &Run) -> Vec<String> {
        vec![DISPATCH.to_owned()]
    }

    async fn perform(&self, step: &str, run: &Run) -> Result<Done, StepError> {
        if step != DISPATCH {
            return Err(StepError::fatal(format!("a deploy run has no step {step:?}")));
        }
        let asked = match run.request().map_err(StepError::fatal)? {
            RunRequest::Deploy(d) => d,
            _ => return Err(StepError::fatal(format!("run {} is not a deploy", run.id))),
        };
        let slug = &asked.project;
        let found = self.service.graph().get_project(slug).await.map_err(|e| StepError::retry(e.to_string()))?;
        let project = found.ok_or_else(|| StepError::fatal(format!("project {slug} no longer exists")))?;
        let repo = project.external_ids.github_repository.clone().ok_or_else(|| {
            StepError::fatal(format!(
                "{} has no github_repository external id; set it with update_project, then ask again",
                project.slug
            ))
        })?;
        let config = &self.service.config().github;
        let mut inputs = json!({"environment": asked.environment});
        if let Some(v) = &asked.version {
            inputs["version"] = json!(v);
        }
        if !config.deploy_run_input.is_empty() {
            inputs[&config.deploy_run_input] = json!(run.id.to_string());
        }
        self.github.dispatch_workflow(&repo, &config.deploy_workflow, &config.deploy_ref, inputs).await?;
        Ok(Done::said(format!("{} on {repo} ({})", config.deploy_workflow, config.deploy_ref)))
    }
}
