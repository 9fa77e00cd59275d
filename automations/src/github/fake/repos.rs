//! What the fake says about its repositories beyond their files: metadata
//! (`GET /repos/{owner}/{repo}`, the installation's listing), teams with
//! their permissions, GitHub's dependency-graph SBOM — and how a test
//! shapes them (forks, archived, topics, languages, renames).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::{FakeGitHub, Inner, git, not_found};

/// A repository as GitHub describes it.
pub(super) fn describe(full: &str, r: &git::Repo) -> Value {
    let name = full.split('/').nth(1).unwrap_or(full);
    let owner = full.split('/').next().unwrap_or_default();
    let mut v = json!({"id": r.id, "name": name, "full_name": full, "owner": {"login": owner}, "private": true,
                       "fork": false, "archived": false, "topics": [], "language": null, "license": null,
                       "description": null, "pushed_at": "2026-11-30T10:00:00Z",
                       "html_url": format!("https://github.com/{full}"), "default_branch": r.default_branch});
    if let (Some(v), Some(meta)) = (v.as_object_mut(), r.meta.as_object()) {
        for (k, x) in meta {
            v.insert(k.clone(), x.clone());
        }
    }
    v
}

pub(super) fn routes(router: Router<Arc<Inner>>) -> Router<Arc<Inner>> {
    router
        .route("/repos/{owner}/{repo}", get(repository))
        .route("/repos/{owner}/{repo}/teams", get(teams))
        .route("/repos/{owner}/{repo}/dependency-graph/sbom", get(sbom))
}

async fn repository(
    State(inner): State<Arc<Inner>>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = inner.record("GET", format!("/repos/{owner}/{repo}"), &headers, Value::Null) {
        return r;
    }
    let full = format!("{owner}/{repo}");
    match inner.lock_repos().get(&full) {
        Some(r) => axum::Json(describe(&full, r)).into_response(),
        None => not_found(),
    }
}

/// `GET /repos/{owner}/{repo}/teams`: the teams with access, as GitHub lists them.
async fn teams(
    State(inner): State<Arc<Inner>>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = inner.record("GET", format!("/repos/{owner}/{repo}/teams"), &headers, Value::Null) {
        return r;
    }
    let repos = inner.lock_repos();
    let Some(r) = repos.get(&format!("{owner}/{repo}")) else { return not_found() };
    let list: Vec<Value> = r
        .teams
        .iter()
        .map(|(slug, permission)| json!({"slug": slug, "name": slug, "permission": permission, "privacy": "closed"}))
        .collect();
    axum::Json(list).into_response()
}

/// `GET /repos/{owner}/{repo}/dependency-graph/sbom`: `{"sbom": SPDX}`, or
/// 404 when the dependency graph is off.
async fn sbom(
    State(inner): State<Arc<Inner>>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/repos/{owner}/{repo}/dependency-graph/sbom");
    if let Some(r) = inner.record("GET", path, &headers, Value::Null) {
        return r;
    }
    match inner.lock_repos().get(&format!("{owner}/{repo}")).and_then(|r| r.sbom.clone()) {
        Some(sbom) => axum::Json(sbom).into_response(),
        None => not_found(),
    }
}

impl FakeGitHub {
    /// Sets fields of `repo`'s description (`{"fork": true}`,
    /// `{"topics": ["team-risk"]}`, `{"language": "Go"}`…), making it if new.
    pub fn describe_repo(&self, repo: &str, fields: Value) {
        let mut repos = self.inner.lock_repos();
        let r = repos.entry(repo.to_owned()).or_default();
        if let (Some(meta), Some(fields)) = (r.meta.as_object_mut(), fields.as_object()) {
            meta.extend(fields.clone());
        }
    }

    /// GitHub's id of `repo`.
    pub fn repo_id(&self, repo: &str) -> Option<u64> {
        self.inner.lock_repos().get(repo).map(|r| r.id)
    }

    /// Gives `team` `permission` (`admin`, `maintain`, `push`, `pull`) on `repo`.
    pub fn grant_team(&self, repo: &str, team: &str, permission: &str) {
        let mut repos = self.inner.lock_repos();
        repos.entry(repo.to_owned()).or_default().teams.push((team.to_owned(), permission.to_owned()));
    }

    /// What the dependency graph's SBOM endpoint answers for `repo`.
    pub fn set_dependency_graph(&self, repo: &str, sbom: Value) {
        self.inner.lock_repos().entry(repo.to_owned()).or_default().sbom = Some(sbom);
    }

    /// `repo`'s tree listings are cut short from now on.
    pub fn truncate_trees(&self, repo: &str) {
        self.inner.lock_repos().entry(repo.to_owned()).or_default().truncated = true;
    }

    /// Renames or transfers `from` to `to` (`owner/name`), keeping its id.
    pub fn move_repo(&self, from: &str, to: &str) {
        let mut repos = self.inner.lock_repos();
        if let Some(r) = repos.remove(from) {
            repos.insert(to.to_owned(), r);
        }
    }

    /// Removes `repo`, as when it is deleted.
    pub fn delete_repo(&self, repo: &str) {
        self.inner.lock_repos().remove(repo);
    }
}
