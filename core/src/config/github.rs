//! `[github]`: the GitHub App the run engine acts as (deploy runs dispatch a
//! workflow through it).

use serde::{Deserialize, Serialize};

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GitHubConfig {
    /// The App's id (General → App ID). Default: unset (no run executes).
    pub app_id: Option<u64>,
    /// The App's private key, PEM. `SWITCHBOARD_GITHUB_PRIVATE_KEY` wins.
    /// Default: unset.
    pub private_key: Option<String>,
    /// The REST API's base URL (GitHub Enterprise: `https://HOST/api/v3`).
    /// Default: `https://api.github.com`.
    pub api_url: String,
    /// The workflow a deploy run dispatches (`workflow_dispatch`), with
    /// inputs `environment` and `version`. Default: `deploy.yml`.
    pub deploy_workflow: String,
    /// The branch or tag that workflow runs on. Default: `main`.
    pub deploy_ref: String,
}

impl Default for GitHubConfig {
    fn default() -> Self {
        Self {
            app_id: None,
            private_key: None,
            api_url: "https://api.github.com".into(),
            deploy_workflow: "deploy.yml".into(),
            deploy_ref: "main".into(),
        }
    }
}

impl std::fmt::Debug for GitHubConfig {
    /// Never prints the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubConfig")
            .field("app_id", &self.app_id)
            .field("private_key", &self.private_key.as_ref().map(|_| "<set>"))
            .field("api_url", &self.api_url)
            .field("deploy_workflow", &self.deploy_workflow)
            .field("deploy_ref", &self.deploy_ref)
            .finish()
    }
}

impl GitHubConfig {
    pub(super) fn apply_env(&mut self, env: &[(String, String)]) {
        for (key, value) in env {
            if key == "SWITCHBOARD_GITHUB_PRIVATE_KEY" {
                self.private_key = Some(value.clone());
            }
        }
    }

    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        if let Some(k) = &self.private_key
            && !k.contains("-----BEGIN")
        {
            return Err(("github.private_key".into(), "must be the App's private key in PEM (-----BEGIN …)".into()));
        }
        if self.app_id.is_some() != self.private_key.is_some() {
            return Err(("github.app_id".into(), "app_id and private_key go together: set both or neither".into()));
        }
        if !(self.api_url.starts_with("https://") || self.api_url.starts_with("http://")) {
            return Err(("github.api_url".into(), "must start with https:// or http://".into()));
        }
        if self.deploy_workflow.trim().is_empty() || self.deploy_ref.trim().is_empty() {
            return Err(("github.deploy_workflow".into(), "deploy_workflow and deploy_ref must not be empty".into()));
        }
        Ok(())
    }

    /// Whether runs can act on GitHub.
    pub fn configured(&self) -> bool {
        self.app_id.is_some() && self.private_key.is_some()
    }
}
