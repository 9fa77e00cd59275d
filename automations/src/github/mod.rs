//! The GitHub App the run engine acts as, through octocrab: the App's JWT
//! finds the installation that covers a repository, and that installation's
//! token (minted, cached and refreshed by octocrab) makes the calls. The
//! base URL is configurable (GitHub Enterprise, or a fake in tests).

pub mod deploy;
pub mod fake;
pub mod scaffold;

use octocrab::Octocrab;
use octocrab::models::{AppId, InstallationId};
use serde_json::{Value, json};
use switchboard_core::config::GitHubConfig;

use crate::engine::StepError;

#[derive(Clone)]
pub struct GitHubApp {
    app: Octocrab,
}

impl std::fmt::Debug for GitHubApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubApp").finish_non_exhaustive()
    }
}

/// A failed call as a step error: 5xx, 429 and 403 rate limits are worth
/// trying again; other 4xx are not.
pub(crate) fn step_error(what: &str, e: octocrab::Error) -> StepError {
    let status = match &e {
        octocrab::Error::GitHub { source, .. } => Some(source.status_code.as_u16()),
        _ => None,
    };
    let message = match &e {
        octocrab::Error::GitHub { source, .. } => {
            format!("{what}: GitHub answered {}: {}", source.status_code.as_u16(), source.message)
        }
        other => format!("{what}: {other}"),
    };
    match status {
        Some(s) if s >= 500 || s == 429 || s == 403 => StepError::retry(message),
        Some(_) => StepError::fatal(message),
        None => StepError::retry(message),
    }
}

/// A status GitHub answered that is not success, as a step error.
pub(crate) fn status_error(what: &str, status: u16) -> StepError {
    let message = format!("{what}: GitHub answered {status}");
    if status >= 500 || status == 429 || status == 403 { StepError::retry(message) } else { StepError::fatal(message) }
}

impl GitHubApp {
    /// `None` without an App id and key; an error when the key is not a PEM RSA key.
    pub fn from_config(config: &GitHubConfig) -> Result<Option<Self>, String> {
        let (Some(id), Some(pem)) = (config.app_id, config.private_key.as_deref()) else { return Ok(None) };
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes())
            .map_err(|e| format!("github.private_key is not an RSA private key in PEM: {e}"))?;
        let app = Octocrab::builder()
            .base_uri(config.api_url.trim_end_matches('/'))
            .map_err(|e| format!("github.api_url: {e}"))?
            .app(AppId(id), key)
            .build()
            .map_err(|e| format!("cannot build the GitHub client: {e}"))?;
        Ok(Some(Self { app }))
    }

    /// A client acting as the installation that covers `repo` (`owner/name`).
    pub async fn for_repository(&self, repo: &str) -> Result<Octocrab, StepError> {
        let found: Value = self
            .app
            .get(format!("/repos/{repo}/installation"), None::<&()>)
            .await
            .map_err(|e| step_error(&format!("find the App's installation on {repo}"), e))?;
        let id =
            found["id"].as_u64().ok_or_else(|| StepError::fatal(format!("GitHub gave no installation for {repo}")))?;
        self.app.installation(InstallationId(id)).map_err(|e| step_error("act as the installation", e))
    }

    /// `POST /repos/{repo}/actions/workflows/{workflow}/dispatches`.
    pub async fn dispatch_workflow(
        &self,
        repo: &str,
        workflow: &str,
        git_ref: &str,
        inputs: Value,
    ) -> Result<(), StepError> {
        let client = self.for_repository(repo).await?;
        let route = format!("/repos/{repo}/actions/workflows/{workflow}/dispatches");
        let body = json!({"ref": git_ref, "inputs": inputs});
        let resp = client
            ._post(route, Some(&body))
            .await
            .map_err(|e| step_error(&format!("dispatch {workflow} on {repo}"), e))?;
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        Err(status_error(&format!("dispatch {workflow} on {repo}"), status))
    }
}
