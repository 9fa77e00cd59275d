//! The GitHub App the run engine acts as, through octocrab: the App's JWT
//! finds the installation that covers a repository, and that installation's
//! client (its token minted, cached and refreshed by octocrab) makes the
//! calls — one client per account, kept for the life of the process. The
//! base URL is configurable (GitHub Enterprise, or a fake in tests).
//!
//! Every request goes through [`GitHubApp::request`]: at most
//! `github.concurrency` in flight, and a rate limit (403/429 with
//! `Retry-After`, or `x-ratelimit-remaining: 0` with `x-ratelimit-reset`)
//! pauses every request until it passes. octocrab's own retries are off, so
//! nothing is sent twice behind our back (a create is retried only by the
//! step, which first checks what exists).

pub mod campaign;
pub mod deploy;
pub mod fake;
pub mod files;
pub mod scaffold;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use octocrab::Octocrab;
use octocrab::models::{AppId, InstallationId};
use octocrab::service::middleware::retry::RetryConfig;
use serde_json::{Value, json};
use switchboard_core::config::GitHubConfig;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::engine::StepError;

/// A rate-limited request is sent again at most this many times inside a step.
const RATE_LIMIT_TRIES: usize = 6;
/// A read that met a 5xx is sent again this many times, after 250 ms, 500 ms.
const READ_RETRIES: usize = 2;
/// The wait for a rate limit that names no time (GitHub: at least a minute).
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct GitHubApp {
    app: Octocrab,
    /// Installation clients by account (`owner`), each holding its cached
    /// token (octocrab's cache lives in the client: clones do not share it).
    installations: Arc<tokio::sync::Mutex<HashMap<String, Arc<Octocrab>>>>,
    permits: Arc<Semaphore>,
    /// No request leaves before this (a rate limit's reset).
    paused_until: Arc<Mutex<Option<Instant>>>,
    max_wait: Duration,
}

impl std::fmt::Debug for GitHubApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubApp").finish_non_exhaustive()
    }
}

/// What GitHub answered: the status and the body (JSON, or `Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The answer when it is a success; a step error naming `what` otherwise.
    pub fn require(self, what: &str) -> Result<Value, StepError> {
        if self.ok() { Ok(self.body) } else { Err(status_error(what, self.status, &self.body)) }
    }
}

/// A failure octocrab reports (transport, or GitHub's own answer) as a step error.
fn transport_error(what: &str, e: octocrab::Error) -> StepError {
    match e {
        octocrab::Error::GitHub { source, .. } => {
            let body = json!({"message": source.message});
            status_error(what, source.status_code.as_u16(), &body)
        }
        other => StepError::retry(format!("{what}: {other}")),
    }
}

/// A status GitHub answered that is not success, as a step error: 5xx and
/// rate limits are worth trying again; other 4xx are not.
pub(crate) fn status_error(what: &str, status: u16, body: &Value) -> StepError {
    let message = match body["message"].as_str() {
        Some(m) => format!("{what}: GitHub answered {status}: {m}"),
        None => format!("{what}: GitHub answered {status}"),
    };
    if status >= 500 || status == 429 || status == 403 { StepError::retry(message) } else { StepError::fatal(message) }
}

/// How long GitHub asks us to wait, if this answer is a rate limit.
fn rate_limit_wait(
    status: u16,
    headers: &axum::http::HeaderMap,
    body: &Value,
    now_epoch_secs: u64,
) -> Option<Duration> {
    if status != 403 && status != 429 {
        return None;
    }
    let header =
        |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(secs) = header("retry-after") {
        return Some(Duration::from_secs(secs));
    }
    if header("x-ratelimit-remaining") == Some(0) {
        let reset = header("x-ratelimit-reset").unwrap_or(now_epoch_secs + 60);
        return Some(Duration::from_secs(reset.saturating_sub(now_epoch_secs).max(1)));
    }
    let message = body["message"].as_str().unwrap_or_default().to_ascii_lowercase();
    (status == 429 || message.contains("rate limit")).then_some(DEFAULT_RATE_LIMIT_WAIT)
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
            .add_retry_config(RetryConfig::None)
            .app(AppId(id), key)
            .build()
            .map_err(|e| format!("cannot build the GitHub client: {e}"))?;
        Ok(Some(Self {
            app,
            installations: Arc::default(),
            permits: Arc::new(Semaphore::new(config.concurrency.max(1))),
            paused_until: Arc::default(),
            max_wait: Duration::from_secs(config.max_rate_limit_wait_secs),
        }))
    }

    /// A client acting as the installation that covers `repo` (`owner/name`),
    /// found once per account and kept.
    pub async fn for_repository(&self, repo: &str) -> Result<Arc<Octocrab>, StepError> {
        let owner = repo.split('/').next().unwrap_or_default().to_ascii_lowercase();
        let mut installations = self.installations.lock().await;
        if let Some(c) = installations.get(&owner) {
            return Ok(c.clone());
        }
        let what = format!("find the App's installation on {repo}");
        let found = self.request(&self.app, "GET", &format!("/repos/{repo}/installation"), None).await?;
        let found = found.require(&what)?;
        let id =
            found["id"].as_u64().ok_or_else(|| StepError::fatal(format!("GitHub gave no installation for {repo}")))?;
        let client =
            self.app.installation(InstallationId(id)).map_err(|e| transport_error("act as the installation", e))?;
        // The token now, once, rather than by every request racing to mint one.
        client.installation_token().await.map_err(|e| transport_error("mint an installation token", e))?;
        let client = Arc::new(client);
        installations.insert(owner, client.clone());
        Ok(client)
    }

    /// The App's installations: (id, account login).
    pub async fn installations(&self) -> Result<Vec<(u64, String)>, StepError> {
        let mut out = Vec::new();
        for page in 1..=100 {
            let route = format!("/app/installations?per_page=100&page={page}");
            let list = self.request(&self.app, "GET", &route, None).await?.require("list the App's installations")?;
            let items = list.as_array().cloned().unwrap_or_default();
            out.extend(
                items.iter().filter_map(|i| Some((i["id"].as_u64()?, i["account"]["login"].as_str()?.to_owned()))),
            );
            if items.len() < 100 {
                break;
            }
        }
        Ok(out)
    }

    /// The repositories installation `id` may read, every page.
    pub async fn installation_repositories(&self, id: u64) -> Result<Vec<Value>, StepError> {
        let client =
            self.app.installation(InstallationId(id)).map_err(|e| transport_error("act as the installation", e))?;
        let mut out = Vec::new();
        for page in 1..=1000 {
            let route = format!("/installation/repositories?per_page=100&page={page}");
            let got =
                self.request(&client, "GET", &route, None).await?.require("list the installation's repositories")?;
            let items = got["repositories"].as_array().cloned().unwrap_or_default();
            let done = items.len() < 100;
            out.extend(items);
            if done {
                break;
            }
        }
        Ok(out)
    }

    /// One request, under the concurrency cap, waiting out rate limits (up
    /// to `github.max_rate_limit_wait_secs` each). Any status comes back as
    /// an [`Answer`]; only transport failures and long rate limits are errors.
    /// In a span of its own for traces (`github`: method and route).
    pub async fn request(
        &self,
        client: &Octocrab,
        method: &str,
        route: &str,
        body: Option<&Value>,
    ) -> Result<Answer, StepError> {
        use tracing::Instrument;
        let span = tracing::debug_span!("github", method, route);
        self.request_in_span(client, method, route, body).instrument(span).await
    }

    async fn request_in_span(
        &self,
        client: &Octocrab,
        method: &str,
        route: &str,
        body: Option<&Value>,
    ) -> Result<Answer, StepError> {
        let mut blips = 0;
        for _ in 0..RATE_LIMIT_TRIES + READ_RETRIES {
            self.wait_for_pause(method, route).await?;
            let permit = self.permits.acquire().await.map_err(|_| StepError::retry("the GitHub client is closing"))?;
            let sent = match method {
                "GET" => client._get(route).await,
                "PUT" => client._put(route, body).await,
                "PATCH" => client._patch(route, body).await,
                "DELETE" => client._delete(route, body).await,
                _ => client._post(route, body).await,
            };
            let resp = sent.map_err(|e| {
                switchboard_core::metrics::github_call("error");
                transport_error(&format!("{method} {route}"), e)
            })?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let text =
                client.body_to_string(resp).await.map_err(|e| transport_error(&format!("{method} {route}"), e))?;
            drop(permit);
            let body: Value = if text.trim().is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap_or(json!({"message": text}))
            };
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
            // A read that met a server error is safe to send again; a write is
            // left to its step, which checks what exists before it creates.
            if method == "GET" && status >= 500 && blips < READ_RETRIES {
                blips += 1;
                tokio::time::sleep(Duration::from_millis(250 * blips as u64)).await;
                continue;
            }
            let Some(wait) = rate_limit_wait(status, &headers, &body, now) else {
                switchboard_core::metrics::github_call(if status < 400 { "ok" } else { "error" });
                return Ok(Answer { status, body });
            };
            switchboard_core::metrics::github_call("rate_limited");
            switchboard_core::metrics::github_rate_limit_wait(wait);
            tracing::warn!(route, status, wait_secs = wait.as_secs(), "GitHub rate limit: pausing every request");
            self.pause(wait);
            if wait > self.max_wait {
                return Err(StepError::retry(format!(
                    "{method} {route}: GitHub's rate limit asks for a {} s wait; the step is tried again later",
                    wait.as_secs()
                )));
            }
        }
        Err(StepError::retry(format!("{method} {route}: still rate limited after {RATE_LIMIT_TRIES} waits")))
    }

    fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut p = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        if p.is_none_or(|t| t < until) {
            *p = Some(until);
        }
    }

    /// Waits out a rate limit in force; a longer one than the steps may
    /// wait ends this request's step instead.
    async fn wait_for_pause(&self, method: &str, route: &str) -> Result<(), StepError> {
        loop {
            let until = *self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
            match until {
                Some(t) if t > Instant::now() => {
                    let left = t - Instant::now();
                    if left > self.max_wait {
                        return Err(StepError::retry(format!(
                            "{method} {route}: GitHub's rate limit asks for a {} s wait; the step is tried again later",
                            left.as_secs()
                        )));
                    }
                    tokio::time::sleep_until(t).await
                }
                _ => return Ok(()),
            }
        }
    }

    /// Whether `GET route` finds something (404: no).
    pub async fn exists(&self, client: &Octocrab, route: &str) -> Result<bool, StepError> {
        let a = self.request(client, "GET", route, None).await?;
        match a.status {
            404 => Ok(false),
            _ => a.require(&format!("GET {route}")).map(|_| true),
        }
    }

    /// A write (`POST`/`PUT`/`PATCH`) that must succeed; what GitHub answered.
    pub async fn send(&self, client: &Octocrab, method: &str, route: &str, body: &Value) -> Result<Value, StepError> {
        self.request(client, method, route, Some(body)).await?.require(&format!("{method} {route}"))
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
        let what = format!("dispatch {workflow} on {repo}");
        self.request(&client, "POST", &route, Some(&body)).await?.require(&what).map(|_| ())
    }
}

/// The run engine for `worker`, with every action that acts through the
/// configured GitHub App; `None` without an App (approved runs then wait).
pub fn engine(
    service: &switchboard_core::Service,
    queue: Arc<dyn switchboard_core::queue::RunQueue>,
    worker: &str,
) -> Result<Option<crate::engine::Engine>, String> {
    let Some(github) = GitHubApp::from_config(&service.config().github)? else { return Ok(None) };
    let deploy = Arc::new(deploy::Deploy { service: service.clone(), github: github.clone() });
    let scaffold = Arc::new(scaffold::Scaffold { service: service.clone(), github: github.clone() });
    let upgrade = Arc::new(campaign::Upgrade::new(service.clone(), github)?);
    Ok(Some(
        crate::engine::Engine::new(service.clone(), queue, worker)
            .with_action(switchboard_core::ops::OpKind::Deploy, deploy)
            .with_action(switchboard_core::ops::OpKind::ScaffoldProject, scaffold)
            .with_action(switchboard_core::ops::OpKind::UpgradeDependency, upgrade),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> axum::http::HeaderMap {
        let mut h = axum::http::HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().expect("header value"));
        }
        h
    }

    #[test]
    fn rate_limits_are_read_from_github_headers() {
        let none = Value::Null;
        let secondary = headers(&[("retry-after", "30")]);
        assert_eq!(rate_limit_wait(403, &secondary, &none, 1_000), Some(Duration::from_secs(30)));
        let primary = headers(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1090")]);
        assert_eq!(rate_limit_wait(403, &primary, &none, 1_000), Some(Duration::from_secs(90)));
        let msg = json!({"message": "You have exceeded a secondary rate limit."});
        assert_eq!(rate_limit_wait(403, &headers(&[]), &msg, 1_000), Some(DEFAULT_RATE_LIMIT_WAIT));
        // A plain 403 (no permission) is not a rate limit, nor is a 404.
        let forbidden = json!({"message": "Resource not accessible by integration"});
        assert_eq!(rate_limit_wait(403, &headers(&[]), &forbidden, 1_000), None);
        assert_eq!(rate_limit_wait(404, &secondary, &none, 1_000), None);
        // 429 without headers waits the minimum.
        assert_eq!(rate_limit_wait(429, &headers(&[]), &none, 1_000), Some(DEFAULT_RATE_LIMIT_WAIT));
    }
}
