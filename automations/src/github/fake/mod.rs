//! A stateful fake of the GitHub REST API on loopback, for tests and
//! benchmarks, driven by the real App client: an App installation on
//! every repository it knows, installation tokens, workflow dispatches,
//! repositories generated from templates, topics and team access, and (in
//! [`git`]) files, branches, commits and pull requests.
//! It records every call with its `Authorization` header, and can fail the
//! next calls as an outage or a secondary rate limit would.

mod git;
mod repos;

/// An RSA key for a GitHub App id that only the fake knows (generated for
/// these tests; see tests/fixtures/SOURCES.md). The fake checks the App's
/// JWT against its public half, as GitHub does.
pub const TEST_APP_KEY: &str = include_str!("../../../tests/fixtures/github/app-test-key.pem");
const TEST_APP_PUBLIC_KEY: &str = include_str!("../../../tests/fixtures/github/app-test-key.pub.pem");

pub use git::Pull;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// One call the fake received.
#[derive(Clone, Debug)]
pub struct Call {
    pub method: &'static str,
    pub path: String,
    /// `Bearer <jwt>` (the App) or `Bearer ghs_…` (an installation).
    pub auth: String,
    pub body: Value,
    /// Refused as a secondary rate limit.
    pub rate_limited: bool,
}

#[derive(Default)]
struct Inner {
    repos: Mutex<BTreeMap<String, git::Repo>>,
    calls: Mutex<Vec<Call>>,
    /// Calls still to answer with this status.
    failures: Mutex<(u32, u16)>,
    /// From the call numbered `.0` (counting from 0), `.1` calls are
    /// refused as a secondary rate limit with Retry-After `.2` seconds.
    rate_limited: Mutex<(usize, u32, u64)>,
    /// Each call is answered after this long.
    delay: Mutex<std::time::Duration>,
    /// Installation tokens minted so far, and those no longer taken.
    tokens: Mutex<(u64, std::collections::HashSet<String>)>,
}

#[derive(Clone)]
pub struct FakeGitHub {
    pub url: String,
    inner: Arc<Inner>,
}

impl FakeGitHub {
    /// A fake that knows `repos` (`owner/name`), all covered by installation 42.
    pub async fn start(repos: &[&str]) -> std::io::Result<Self> {
        let inner = Arc::new(Inner::default());
        for r in repos {
            inner.lock_repos().insert((*r).to_owned(), git::Repo::default());
        }
        let app = repos::routes(git::routes(Router::new()))
            .route("/repos/{owner}/{repo}/installation", get(installation))
            .route("/app/installations", get(list_installations))
            .route("/installation/repositories", get(installation_repositories))
            .route("/app/installations/{id}/access_tokens", post(token))
            .route("/repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches", post(dispatch))
            .route("/repos/{owner}/{repo}/generate", post(generate))
            .route("/repos/{owner}/{repo}/topics", axum::routing::put(topics))
            .route("/orgs/{org}/teams/{team}/repos/{owner}/{repo}", axum::routing::put(team_access))
            .layer(axum::middleware::from_fn_with_state(inner.clone(), slow))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { url, inner })
    }

    pub fn calls(&self) -> Vec<Call> {
        self.inner.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The workflow dispatches received so far.
    pub fn dispatches(&self) -> Vec<Call> {
        self.calls().into_iter().filter(|c| c.path.ends_with("/dispatches")).collect()
    }

    /// Makes `repo` (`owner/name`) exist, as if created earlier.
    pub fn add_repo(&self, repo: &str) {
        self.inner.lock_repos().entry(repo.to_owned()).or_default();
    }

    /// Whether the fake knows `repo` (`owner/name`), e.g. after a generate.
    pub fn has_repo(&self, repo: &str) -> bool {
        self.inner.lock_repos().contains_key(repo)
    }

    /// The next `n` calls answer `status` (502 an outage, 404 no such thing…).
    pub fn fail_next(&self, n: u32, status: u16) {
        *self.inner.failures.lock().unwrap_or_else(|e| e.into_inner()) = (n, status);
    }

    /// The next `n` calls are refused as GitHub refuses past a secondary
    /// rate limit: 403, `Retry-After: retry_after_secs`.
    pub fn rate_limit_next(&self, n: u32, retry_after_secs: u64) {
        let at = self.calls().len();
        self.rate_limit_from(at, n, retry_after_secs);
    }

    /// Like [`Self::rate_limit_next`], from the call numbered `call` (0 is the first).
    pub fn rate_limit_from(&self, call: usize, n: u32, retry_after_secs: u64) {
        *self.inner.rate_limited.lock().unwrap_or_else(|e| e.into_inner()) = (call, n, retry_after_secs);
    }

    /// Every call is answered only after `delay` (a slow GitHub).
    pub fn slow_down(&self, delay: std::time::Duration) {
        *self.inner.delay.lock().unwrap_or_else(|e| e.into_inner()) = delay;
    }

    /// Every installation token minted so far stops working (as when
    /// GitHub revokes them): calls with one are answered 401 Bad credentials.
    pub fn revoke_tokens(&self) {
        let mut tokens = self.inner.tokens.lock().unwrap_or_else(|e| e.into_inner());
        let minted = tokens.0;
        tokens.1.extend((0..minted).map(|n| token_name(42, n)));
    }

    /// How many calls were refused as rate limited.
    pub fn rate_limited_calls(&self) -> usize {
        self.calls().iter().filter(|c| c.rate_limited).count()
    }
}

impl Inner {
    fn lock_repos(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, git::Repo>> {
        self.repos.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self, method: &'static str, path: String, headers: &HeaderMap, body: Value) -> Option<Response> {
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        let limited = {
            let mut r = self.rate_limited.lock().unwrap_or_else(|e| e.into_inner());
            if r.1 > 0 && calls.len() >= r.0 {
                r.1 -= 1;
                Some(r.2)
            } else {
                None
            }
        };
        let revoked = auth
            .strip_prefix("Bearer ")
            .is_some_and(|t| self.tokens.lock().unwrap_or_else(|e| e.into_inner()).1.contains(t));
        calls.push(Call { method, path, auth, body, rate_limited: limited.is_some() });
        drop(calls);
        if revoked {
            let body = json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"});
            return Some((StatusCode::UNAUTHORIZED, axum::Json(body)).into_response());
        }
        if let Some(secs) = limited {
            let body = json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                              "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"});
            let headers = [("retry-after", secs.to_string())];
            return Some((StatusCode::FORBIDDEN, headers, axum::Json(body)).into_response());
        }
        let mut f = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if f.0 > 0 {
            f.0 -= 1;
            let status = StatusCode::from_u16(f.1).unwrap_or(StatusCode::BAD_GATEWAY);
            let message = status.canonical_reason().unwrap_or("error");
            let body = json!({"message": message, "documentation_url": "https://docs.github.com/rest"});
            return Some((status, axum::Json(body)).into_response());
        }
        None
    }

    fn knows(&self, owner: &str, repo: &str) -> bool {
        self.lock_repos().contains_key(&format!("{owner}/{repo}"))
    }
}

async fn slow(
    State(inner): State<Arc<Inner>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let delay = *inner.delay.lock().unwrap_or_else(|e| e.into_inner());
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    next.run(request).await
}

/// GitHub's answer to a call as the App whose JWT does not hold: signed
/// with the App's key (RS256), issued by a numeric App id, not yet ended and
/// lasting at most ten minutes. `None` when it holds.
fn refused_jwt(headers: &HeaderMap) -> Option<Response> {
    #[derive(serde::Deserialize)]
    struct Claims {
        iat: u64,
        exp: u64,
        iss: String,
    }
    let jwt = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(TEST_APP_PUBLIC_KEY.as_bytes()).ok()?;
    let mut rules = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    rules.set_required_spec_claims(&["exp", "iat", "iss"]);
    let holds = jwt
        .and_then(|jwt| jsonwebtoken::decode::<Claims>(jwt, &key, &rules).ok())
        .is_some_and(|t| t.claims.exp.saturating_sub(t.claims.iat) <= 600 && t.claims.iss.parse::<u64>().is_ok());
    if holds {
        return None;
    }
    let body = json!({"message": "A JSON web token could not be decoded",
                      "documentation_url": "https://docs.github.com/rest"});
    Some((StatusCode::UNAUTHORIZED, axum::Json(body)).into_response())
}

/// The installation token minted `n`th (from 0): `ghs_fake42`, then `ghs_fake42-1`…
fn token_name(installation: u64, n: u64) -> String {
    if n == 0 { format!("ghs_fake{installation}") } else { format!("ghs_fake{installation}-{n}") }
}

fn not_found() -> Response {
    let body = json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"});
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}

async fn installation(
    State(inner): State<Arc<Inner>>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = inner.record("GET", format!("/repos/{owner}/{repo}/installation"), &headers, Value::Null) {
        return r;
    }
    if let Some(r) = refused_jwt(&headers) {
        return r;
    }
    if !inner.knows(&owner, &repo) {
        return not_found();
    }
    axum::Json(json!({"id": 42, "app_id": 7, "account": {"login": owner}, "target_type": "Organization"}))
        .into_response()
}

#[derive(serde::Deserialize)]
struct Page {
    per_page: Option<usize>,
    page: Option<usize>,
}

/// `GET /app/installations`: the one installation (id 42) every repository is in.
async fn list_installations(State(inner): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    if let Some(r) = inner.record("GET", "/app/installations".into(), &headers, Value::Null) {
        return r;
    }
    if let Some(r) = refused_jwt(&headers) {
        return r;
    }
    let owner = inner.lock_repos().keys().next().and_then(|r| r.split('/').next()).unwrap_or("acme").to_owned();
    axum::Json(json!([{"id": 42, "app_id": 7, "account": {"login": owner}, "target_type": "Organization"}]))
        .into_response()
}

/// `GET /installation/repositories`: every repository, paged as GitHub pages.
async fn installation_repositories(
    State(inner): State<Arc<Inner>>,
    axum::extract::Query(q): axum::extract::Query<Page>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = inner.record("GET", "/installation/repositories".into(), &headers, Value::Null) {
        return r;
    }
    let (per_page, page) = (q.per_page.unwrap_or(30).clamp(1, 100), q.page.unwrap_or(1).max(1));
    let repos = inner.lock_repos();
    let list: Vec<Value> =
        repos.iter().skip((page - 1) * per_page).take(per_page).map(|(full, r)| repos::describe(full, r)).collect();
    axum::Json(json!({"total_count": repos.len(), "repositories": list})).into_response()
}

async fn token(State(inner): State<Arc<Inner>>, Path(id): Path<u64>, headers: HeaderMap, body: Bytes) -> Response {
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(r) = inner.record("POST", format!("/app/installations/{id}/access_tokens"), &headers, body) {
        return r;
    }
    if let Some(r) = refused_jwt(&headers) {
        return r;
    }
    let minted = {
        let mut tokens = inner.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.0 += 1;
        tokens.0 - 1
    };
    let token = json!({"token": token_name(id, minted), "expires_at": "2099-01-01T00:00:00Z",
                       "permissions": {"actions": "write", "contents": "write"}, "repository_selection": "all"});
    (StatusCode::CREATED, axum::Json(token)).into_response()
}

async fn dispatch(
    State(inner): State<Arc<Inner>>,
    Path((owner, repo, workflow)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let path = format!("/repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches");
    if let Some(r) = inner.record("POST", path, &headers, body) {
        return r;
    }
    if !inner.knows(&owner, &repo) {
        return not_found();
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn generate(
    State(inner): State<Arc<Inner>>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(r) = inner.record("POST", format!("/repos/{owner}/{repo}/generate"), &headers, body.clone()) {
        return r;
    }
    if !inner.knows(&owner, &repo) {
        return not_found();
    }
    let full = format!("{}/{}", body["owner"].as_str().unwrap_or(&owner), body["name"].as_str().unwrap_or_default());
    let created = {
        let mut repos = inner.lock_repos();
        let fresh = !repos.contains_key(&full);
        if fresh {
            let files = repos.get(&format!("{owner}/{repo}")).map(git::Repo::template_copy).unwrap_or_default();
            repos.insert(full.clone(), files);
        }
        fresh
    };
    if !created {
        let exists = json!({"message": "Repository creation failed.", "errors": [{"message": "name already exists on this account"}]});
        return (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(exists)).into_response();
    }
    (StatusCode::CREATED, axum::Json(json!({"full_name": full, "private": true}))).into_response()
}

async fn topics(
    State(inner): State<Arc<Inner>>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(r) = inner.record("PUT", format!("/repos/{owner}/{repo}/topics"), &headers, body.clone()) {
        return r;
    }
    if !inner.knows(&owner, &repo) {
        return not_found();
    }
    axum::Json(json!({"names": body["names"]})).into_response()
}

async fn team_access(
    State(inner): State<Arc<Inner>>,
    Path((org, team, owner, repo)): Path<(String, String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(r) = inner.record("PUT", format!("/orgs/{org}/teams/{team}/repos/{owner}/{repo}"), &headers, body) {
        return r;
    }
    if !inner.knows(&owner, &repo) {
        return not_found();
    }
    StatusCode::NO_CONTENT.into_response()
}
