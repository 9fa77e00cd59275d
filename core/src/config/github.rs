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
    /// The workflow input that carries the deploy run's id, its correlation
    /// id: the workflow declares it and puts it in its `run-name` (and in the
    /// payload of any deployment it creates), so GitHub's `workflow_run` and
    /// `deployment_status` webhooks name the run they belong to. Empty: not
    /// sent, and outcomes are not tied to runs. Default: `switchboard_run`.
    pub deploy_run_input: String,
    /// Requests in flight to GitHub at once, across all runs (GitHub asks
    /// integrations not to send many concurrently). 1-64. Default: 4.
    pub concurrency: usize,
    /// Longest wait for a rate limit inside a step, in seconds; a longer one
    /// ends the step, which is tried again after the limit resets. Default: 120.
    pub max_rate_limit_wait_secs: u64,
    /// Upgrade campaigns' pull requests.
    pub upgrades: UpgradesConfig,
    /// Set by `demo` alone, never read from a file: the App is the built-in
    /// simulated GitHub, and every run step says so.
    #[serde(skip)]
    pub simulated: bool,
}

/// `[github.upgrades]`: what an upgrade campaign's pull requests look like.
/// The title and body are minijinja templates with `package`, `from`
/// (empty when any), `to`, `project`, `repository`, `manifests` (the
/// changed paths), `requested_by`, `approved_by` and `run`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpgradesConfig {
    /// The branch is this prefix, `/`, the package and the version
    /// (`switchboard/upgrade/serde-1.0.200`). Default: `switchboard/upgrade`.
    pub branch_prefix: String,
    /// Default: `Upgrade {{ package }} to {{ to }}`.
    pub title: String,
    /// Default: a short paragraph naming the run and who approved it.
    pub body: String,
    /// Labels put on each pull request. Default: `["dependencies"]`.
    pub labels: Vec<String>,
    /// Repositories worked per step (the run page and the chat thread get a
    /// line per step). 1-500. Default: 50.
    pub batch: usize,
}

impl Default for UpgradesConfig {
    fn default() -> Self {
        Self {
            branch_prefix: "switchboard/upgrade".into(),
            title: "Upgrade {{ package }} to {{ to }}".into(),
            body: "Upgrades `{{ package }}`{% if from %} from {{ from }}{% endif %} to {{ to }} in {{ manifests | join(\", \") }}.\n\n\
                   Requested by {{ requested_by }} and approved by {{ approved_by }} through Switchboard (run {{ run }}). \
                   Only the version changed; merge when the checks pass."
                .into(),
            labels: vec!["dependencies".into()],
            batch: 50,
        }
    }
}

impl Default for GitHubConfig {
    fn default() -> Self {
        Self {
            app_id: None,
            private_key: None,
            api_url: "https://api.github.com".into(),
            deploy_workflow: "deploy.yml".into(),
            deploy_ref: "main".into(),
            deploy_run_input: "switchboard_run".into(),
            concurrency: 4,
            max_rate_limit_wait_secs: 120,
            upgrades: UpgradesConfig::default(),
            simulated: false,
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
            .field("deploy_run_input", &self.deploy_run_input)
            .field("concurrency", &self.concurrency)
            .field("max_rate_limit_wait_secs", &self.max_rate_limit_wait_secs)
            .field("upgrades", &self.upgrades)
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
        let input = &self.deploy_run_input;
        let input_ok = input.is_empty()
            || (input.len() <= 100
                && input.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && input.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
        if !input_ok {
            return Err((
                "github.deploy_run_input".into(),
                "must be a workflow input name (a letter or _, then letters, digits, - or _), or empty to send none"
                    .into(),
            ));
        }
        if !(1..=64).contains(&self.concurrency) {
            return Err(("github.concurrency".into(), "must be 1-64 (requests in flight at once)".into()));
        }
        let u = &self.upgrades;
        let prefix_ok = !u.branch_prefix.is_empty()
            && u.branch_prefix.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
            && !u.branch_prefix.starts_with('/')
            && !u.branch_prefix.ends_with('/')
            && !u.branch_prefix.contains("..");
        if !prefix_ok {
            return Err((
                "github.upgrades.branch_prefix".into(),
                "must be a branch name part: letters, digits, - _ . /, not starting or ending with /".into(),
            ));
        }
        if u.title.trim().is_empty() {
            return Err(("github.upgrades.title".into(), "must not be empty".into()));
        }
        if !(1..=500).contains(&u.batch) {
            return Err(("github.upgrades.batch".into(), "must be 1-500 repositories per step".into()));
        }
        if let Some(l) = u.labels.iter().find(|l| l.trim().is_empty() || l.len() > 50) {
            return Err(("github.upgrades.labels".into(), format!("{l:?}: a label is 1-50 characters")));
        }
        Ok(())
    }

    /// Whether runs can act on GitHub.
    pub fn configured(&self) -> bool {
        self.app_id.is_some() && self.private_key.is_some()
    }
}
