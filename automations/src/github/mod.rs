//! The GitHub App the run engine acts as, over GitHub's REST API: the App's
//! JWT (RS256, nine minutes, minted here) finds the installation that
//! covers a repository, and that installation's token (an hour, minted
//! with the JWT, cached and minted again five minutes before it ends)
//! makes the calls — one token per installation, kept for the life of the
//! process. The base URL is configurable (GitHub Enterprise, or a fake in
//! tests).
//!
//! Every request goes through [`GitHubApp::request`]: at most
//! `github.concurrency` in flight, and a rate limit (403/429 with
//! `Retry-After`, or `x-ratelimit-remaining: 0` with `x-ratelimit-reset`)
//! pauses every request until it passes. Nothing is sent twice behind the
//! step's back (a create is retried only by the step, which first checks
//! what exists); a read that met a 5xx, and a request whose installation
//! token GitHub no longer takes (401), are sent again.

pub mod campaign;
pub mod deploy;
pub mod fake;
pub mod files;
pub mod scaffold;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

/// How long the App's JWT is good for (GitHub takes at most ten minutes),
/// and how far back its issue time is set against clock drift.
const JWT_LIFE: Duration = Duration::from_secs(540);
const JWT_SKEW: Duration = Duration::from_secs(60);
/// A token this close to its end is minted again before it is used.
const TOKEN_MARGIN: Duration = Duration::from_secs(300);
/// A request with no answer after this long fails (and its step is tried again).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Who a request is made as: the App itself (its JWT) or one of its
/// installations (its token), with the bearer token in use and its end.
pub struct Actor {
    installation: Option<u64>,
    token: tokio::sync::Mutex<Option<(String, SystemTime)>>,
}

impl Actor {
    fn new(installation: Option<u64>) -> Self {
        Self { installation, token: tokio::sync::Mutex::new(None) }
    }
}

#[derive(Clone)]
pub struct GitHubApp {
    http: reqwest::Client,
    /// The API's base URL, without a trailing slash.
    base: String,
    app_id: u64,
    key: Arc<jsonwebtoken::EncodingKey>,
    app: Arc<Actor>,
    /// The installation covering each account (`owner`), found once.
    owners: Arc<tokio::sync::Mutex<HashMap<String, u64>>>,
    /// Each installation with its cached token.
    installations: Arc<Mutex<HashMap<u64, Arc<Actor>>>>,
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

/// A request that got no answer (connection, timeout, a body cut short):
/// worth trying again.
fn transport_error(what: &str, e: &reqwest::Error) -> StepError {
    use std::error::Error as _;
    let mut message = format!("{what}: {e}");
    let mut source = e.source();
    while let Some(s) = source {
        message.push_str(&format!(": {s}"));
        source = s.source();
    }
    StepError::retry(message)
}

/// The claims of the App's JWT.
#[derive(serde::Serialize)]
struct AppClaims {
    iat: u64,
    exp: u64,
    iss: String,
}

fn epoch_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
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
        let base = config.api_url.trim_end_matches('/').to_owned();
        let parsed = reqwest::Url::parse(&base).map_err(|e| format!("github.api_url {base:?}: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("github.api_url {base:?}: use an http:// or https:// URL"));
        }
        // HTTPS needs a TLS provider: the process's own, else ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| format!("cannot build the GitHub client: {e}"))?;
        Ok(Some(Self {
            http,
            base,
            app_id: id,
            key: Arc::new(key),
            app: Arc::new(Actor::new(None)),
            owners: Arc::default(),
            installations: Arc::default(),
            permits: Arc::new(Semaphore::new(config.concurrency.max(1))),
            paused_until: Arc::default(),
            max_wait: Duration::from_secs(config.max_rate_limit_wait_secs),
        }))
    }

    /// Acting as the installation that covers `repo` (`owner/name`), found
    /// once per account and kept.
    pub async fn for_repository(&self, repo: &str) -> Result<Arc<Actor>, StepError> {
        let owner = repo.split('/').next().unwrap_or_default().to_ascii_lowercase();
        let mut owners = self.owners.lock().await;
        let id = match owners.get(&owner) {
            Some(id) => *id,
            None => {
                let what = format!("find the App's installation on {repo}");
                let found = self.request(&self.app, "GET", &format!("/repos/{repo}/installation"), None).await?;
                let found = found.require(&what)?;
                let id = found["id"]
                    .as_u64()
                    .ok_or_else(|| StepError::fatal(format!("GitHub gave no installation for {repo}")))?;
                owners.insert(owner, id);
                id
            }
        };
        drop(owners);
        let actor = self.installation(id);
        // The token now, once, rather than by every request racing to mint one.
        self.bearer(&actor).await?;
        Ok(actor)
    }

    /// Acting as installation `id`, its token kept between calls.
    fn installation(&self, id: u64) -> Arc<Actor> {
        let mut all = self.installations.lock().unwrap_or_else(|e| e.into_inner());
        all.entry(id).or_insert_with(|| Arc::new(Actor::new(Some(id)))).clone()
    }

    /// The bearer token `actor` sends: the App's JWT, or the installation's
    /// token, minted when there is none or it ends within five minutes.
    async fn bearer(&self, actor: &Actor) -> Result<String, StepError> {
        let mut held = actor.token.lock().await;
        let now = SystemTime::now();
        if let Some((token, until)) = &*held
            && *until > now + TOKEN_MARGIN
        {
            return Ok(token.clone());
        }
        let minted = match actor.installation {
            None => self.app_jwt(now)?,
            Some(id) => self.installation_token(id).await?,
        };
        *held = Some(minted.clone());
        Ok(minted.0)
    }

    /// The App's JWT, good for nine minutes from a minute ago.
    fn app_jwt(&self, now: SystemTime) -> Result<(String, SystemTime), StepError> {
        let claims = AppClaims {
            iat: epoch_secs(now - JWT_SKEW),
            exp: epoch_secs(now + JWT_LIFE),
            iss: self.app_id.to_string(),
        };
        let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        let jwt = jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| StepError::fatal(format!("sign the GitHub App's JWT: {e}")))?;
        Ok((jwt, now + JWT_LIFE))
    }

    /// A new token for installation `id` (`POST /app/installations/{id}/access_tokens`).
    async fn installation_token(&self, id: u64) -> Result<(String, SystemTime), StepError> {
        let route = format!("/app/installations/{id}/access_tokens");
        // Boxed: a request as an installation may come here to mint its token.
        let got = Box::pin(self.request(&self.app, "POST", &route, None)).await?;
        let got = got.require("mint an installation token")?;
        let token = got["token"]
            .as_str()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| StepError::retry("mint an installation token: GitHub's answer has no token"))?;
        // GitHub's tokens last an hour; an unreadable end is taken as that.
        let until = got["expires_at"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .and_then(|t| u64::try_from(t.timestamp()).ok())
            .map_or_else(|| SystemTime::now() + Duration::from_secs(3600), |s| UNIX_EPOCH + Duration::from_secs(s));
        Ok((token.to_owned(), until))
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
        let client = self.installation(id);
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
        client: &Actor,
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
        client: &Actor,
        method: &str,
        route: &str,
        body: Option<&Value>,
    ) -> Result<Answer, StepError> {
        let method_name = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| StepError::fatal(format!("{method} is not an HTTP method")))?;
        let url = format!("{}/{}", self.base, route.trim_start_matches('/'));
        let mut blips = 0;
        let mut renewed = false;
        for _ in 0..RATE_LIMIT_TRIES + READ_RETRIES {
            self.wait_for_pause(method, route).await?;
            // Before the permit: minting a token is a request of its own.
            let bearer = self.bearer(client).await?;
            let permit = self.permits.acquire().await.map_err(|_| StepError::retry("the GitHub client is closing"))?;
            let mut request = self
                .http
                .request(method_name.clone(), &url)
                .bearer_auth(&bearer)
                .header("accept", "application/vnd.github+json")
                .header("x-github-api-version", "2022-11-28");
            if let Some(body) = body {
                request = request.json(body);
            }
            let failed = |e: reqwest::Error| {
                switchboard_core::metrics::github_call("error");
                transport_error(&format!("{method} {route}"), &e)
            };
            let resp = request.send().await.map_err(failed)?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let text = resp.text().await.map_err(failed)?;
            drop(permit);
            // An installation token GitHub no longer takes (revoked, or
            // ended early): minted again, and the request sent once more.
            if status == 401 && client.installation.is_some() && !renewed {
                renewed = true;
                *client.token.lock().await = None;
                continue;
            }
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
    pub async fn exists(&self, client: &Actor, route: &str) -> Result<bool, StepError> {
        let a = self.request(client, "GET", route, None).await?;
        match a.status {
            404 => Ok(false),
            _ => a.require(&format!("GET {route}")).map(|_| true),
        }
    }

    /// A write (`POST`/`PUT`/`PATCH`) that must succeed; what GitHub answered.
    pub async fn send(&self, client: &Actor, method: &str, route: &str, body: &Value) -> Result<Value, StepError> {
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
