//! The fake's repositories: files on branches (contents API), refs,
//! commits and pull requests with labels — what an upgrade campaign reads
//! and writes. Blob and commit shas are SHA-256 prefixes, so a write that
//! names a stale sha is refused with 409 as GitHub refuses it.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{FakeGitHub, Inner, not_found};

/// A pull request the fake holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pull {
    pub number: u64,
    pub head: String,
    pub base: String,
    pub title: String,
    pub body: String,
    /// `open` or `closed`.
    pub state: String,
    pub merged: bool,
    pub labels: Vec<String>,
}

#[derive(Clone, Debug)]
struct Branch {
    sha: String,
    files: BTreeMap<String, String>,
}

#[derive(Clone, Debug)]
pub(super) struct Repo {
    /// GitHub's id: kept through renames.
    pub(super) id: u64,
    /// Fields of `GET /repos/{owner}/{repo}` beyond the fake's own (fork,
    /// archived, topics, language, license, pushed_at, description).
    pub(super) meta: Value,
    /// Teams with access: (slug, permission).
    pub(super) teams: Vec<(String, String)>,
    /// The dependency graph's SBOM, when GitHub has one.
    pub(super) sbom: Option<Value>,
    /// Tree listings are cut short, as GitHub cuts very large ones.
    pub(super) truncated: bool,
    pub(super) default_branch: String,
    branches: BTreeMap<String, Branch>,
    pulls: Vec<Pull>,
    /// Writes to files answer 409, as when someone changed the branch.
    conflict: bool,
}

impl Default for Repo {
    fn default() -> Self {
        let main = Branch { sha: sha(b"initial commit"), files: BTreeMap::new() };
        static IDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1_000);
        Self {
            id: IDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            meta: json!({}),
            teams: vec![],
            sbom: None,
            truncated: false,
            default_branch: "main".into(),
            branches: BTreeMap::from([("main".into(), main)]),
            pulls: vec![],
            conflict: false,
        }
    }
}

impl Repo {
    /// A new repository with the default branch's files of this one.
    pub(super) fn template_copy(&self) -> Repo {
        let mut r = Repo::default();
        if let Some(b) = self.branches.get(&self.default_branch) {
            let files = b.files.clone();
            r.branches.insert("main".into(), Branch { sha: sha(format!("{files:?}").as_bytes()), files });
        }
        r
    }
}

fn sha(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().take(20).map(|b| format!("{b:02x}")).collect()
}

fn blob_sha(content: &str) -> String {
    sha(format!("blob {}\0{content}", content.len()).as_bytes())
}

fn github_error(status: StatusCode, message: &str) -> Response {
    let body = json!({"message": message, "documentation_url": "https://docs.github.com/rest"});
    (status, axum::Json(body)).into_response()
}

/// The route tail after `…/contents/`, `…/git/ref/`: axum gives it without its leading slash.
type Tail = (String, String, String);

pub(super) fn routes(router: Router<Arc<Inner>>) -> Router<Arc<Inner>> {
    router
        .route("/repos/{owner}/{repo}/contents", get(list_root))
        .route("/repos/{owner}/{repo}/contents/{*path}", get(get_file).put(put_file))
        .route("/repos/{owner}/{repo}/git/ref/{*name}", get(get_ref))
        .route("/repos/{owner}/{repo}/git/trees/{*tree}", get(get_tree))
        .route("/repos/{owner}/{repo}/git/refs", post(create_ref))
        .route("/repos/{owner}/{repo}/pulls", get(list_pulls).post(create_pull))
        .route("/repos/{owner}/{repo}/issues/{number}/labels", post(add_labels))
}

fn pull_json(full: &str, p: &Pull, head_sha: &str) -> Value {
    json!({
        "number": p.number, "state": p.state, "title": p.title, "body": p.body, "merged": p.merged,
        "html_url": format!("https://github.com/{full}/pull/{}", p.number),
        "head": {"ref": p.head, "sha": head_sha}, "base": {"ref": p.base},
        "labels": p.labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>(),
    })
}

impl FakeGitHub {
    /// Writes `path` on `repo`'s default branch (the repository is created if new).
    pub fn put_file(&self, repo: &str, path: &str, content: &str) {
        let mut repos = self.inner.lock_repos();
        let r = repos.entry(repo.to_owned()).or_default();
        let default = r.default_branch.clone();
        let b = r.branches.get_mut(&default).expect("the default branch exists");
        b.files.insert(path.to_owned(), content.to_owned());
        b.sha = sha(format!("{}{path}{content}", b.sha).as_bytes());
    }

    /// `path` on `branch` of `repo`, if there.
    pub fn file(&self, repo: &str, branch: &str, path: &str) -> Option<String> {
        self.inner.lock_repos().get(repo)?.branches.get(branch)?.files.get(path).cloned()
    }

    /// Whether `repo` has `branch`.
    pub fn has_branch(&self, repo: &str, branch: &str) -> bool {
        self.inner.lock_repos().get(repo).is_some_and(|r| r.branches.contains_key(branch))
    }

    /// `repo`'s pull requests, oldest first.
    pub fn pulls(&self, repo: &str) -> Vec<Pull> {
        self.inner.lock_repos().get(repo).map(|r| r.pulls.clone()).unwrap_or_default()
    }

    /// Every pull request the fake holds, with its repository.
    pub fn all_pulls(&self) -> Vec<(String, Pull)> {
        let repos = self.inner.lock_repos();
        repos.iter().flat_map(|(name, r)| r.pulls.iter().map(move |p| (name.clone(), p.clone()))).collect()
    }

    /// Merges pull request `number` of `repo` as GitHub's merge button
    /// would: the head branch's files onto the base, the pull closed and
    /// merged. The paths that changed and the base's new sha, or `None`
    /// when there is no such open pull request.
    pub fn merge(&self, repo: &str, number: u64) -> Option<(Vec<String>, String)> {
        let mut repos = self.inner.lock_repos();
        let r = repos.get_mut(repo)?;
        let pull = r.pulls.iter_mut().find(|p| p.number == number && p.state == "open")?;
        pull.state = "closed".into();
        pull.merged = true;
        let (head, base) = (pull.head.clone(), pull.base.clone());
        let files = r.branches.get(&head)?.files.clone();
        let b = r.branches.get_mut(&base)?;
        let changed: Vec<String> =
            files.iter().filter(|(path, text)| b.files.get(*path) != Some(*text)).map(|(p, _)| p.clone()).collect();
        b.files.extend(files);
        b.sha = sha(format!("{}merge {number}", b.sha).as_bytes());
        Some((changed, b.sha.clone()))
    }

    /// From now on, writes to `repo`'s files answer 409 Conflict.
    pub fn conflict_on(&self, repo: &str) {
        self.inner.lock_repos().entry(repo.to_owned()).or_default().conflict = true;
    }
}

#[derive(serde::Deserialize)]
struct RefQuery {
    #[serde(rename = "ref")]
    git_ref: Option<String>,
}

/// The branch `git_ref` names (the default when none), or a 404.
fn branch<'a>(r: &'a Repo, git_ref: Option<&str>) -> Result<&'a Branch, Box<Response>> {
    let name = git_ref.unwrap_or(&r.default_branch);
    let name = name.strip_prefix("refs/heads/").unwrap_or(name);
    r.branches
        .get(name)
        .ok_or_else(|| Box::new(github_error(StatusCode::NOT_FOUND, &format!("No commit found for the ref {name}"))))
}

async fn list_root(
    State(inner): State<Arc<Inner>>,
    Path((owner, repo)): Path<(String, String)>,
    Query(q): Query<RefQuery>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = inner.record("GET", format!("/repos/{owner}/{repo}/contents"), &headers, Value::Null) {
        return r;
    }
    let repos = inner.lock_repos();
    let Some(r) = repos.get(&format!("{owner}/{repo}")) else { return not_found() };
    let b = match branch(r, q.git_ref.as_deref()) {
        Ok(b) => b,
        Err(resp) => return *resp,
    };
    let mut entries: BTreeMap<String, Value> = BTreeMap::new();
    for (path, content) in &b.files {
        let entry = match path.split_once('/') {
            Some((dir, _)) => json!({"type": "dir", "name": dir, "path": dir, "sha": sha(dir.as_bytes())}),
            None => {
                json!({"type": "file", "name": path, "path": path, "sha": blob_sha(content), "size": content.len()})
            }
        };
        entries.insert(entry["name"].as_str().unwrap_or_default().to_owned(), entry);
    }
    axum::Json(entries.into_values().collect::<Vec<_>>()).into_response()
}

#[derive(serde::Deserialize)]
struct TreeQuery {
    recursive: Option<String>,
}

/// `GET …/git/trees/{branch}?recursive=1`: every file of the branch, as
/// GitHub lists a tree (directories as `tree` entries, files as `blob`).
async fn get_tree(
    State(inner): State<Arc<Inner>>,
    Path((owner, repo, tree)): Path<Tail>,
    Query(q): Query<TreeQuery>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = inner.record("GET", format!("/repos/{owner}/{repo}/git/trees/{tree}"), &headers, Value::Null) {
        return r;
    }
    let repos = inner.lock_repos();
    let Some(r) = repos.get(&format!("{owner}/{repo}")) else { return not_found() };
    let b = match branch(r, Some(&tree)) {
        Ok(b) => b,
        Err(resp) => return *resp,
    };
    let recursive = q.recursive.is_some_and(|v| v != "0" && v != "false");
    let mut entries: BTreeMap<String, Value> = BTreeMap::new();
    for (path, content) in &b.files {
        let mut dir = String::new();
        for part in path.split('/').collect::<Vec<_>>().split_last().map(|(_, dirs)| dirs.to_vec()).unwrap_or_default()
        {
            dir = if dir.is_empty() { part.to_owned() } else { format!("{dir}/{part}") };
            entries
                .entry(dir.clone())
                .or_insert_with(|| json!({"path": dir, "type": "tree", "sha": sha(dir.as_bytes())}));
        }
        if recursive || !path.contains('/') {
            entries.insert(
                path.clone(),
                json!({"path": path, "type": "blob", "mode": "100644", "sha": blob_sha(content), "size": content.len()}),
            );
        }
    }
    let mut entries: Vec<Value> =
        entries.into_values().filter(|e| recursive || !e["path"].as_str().unwrap_or_default().contains('/')).collect();
    if r.truncated {
        // GitHub lists what fits and says so.
        entries.truncate(entries.len() / 2);
    }
    axum::Json(json!({"sha": b.sha, "tree": entries, "truncated": r.truncated})).into_response()
}

async fn get_file(
    State(inner): State<Arc<Inner>>,
    Path((owner, repo, path)): Path<Tail>,
    Query(q): Query<RefQuery>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = inner.record("GET", format!("/repos/{owner}/{repo}/contents/{path}"), &headers, Value::Null) {
        return r;
    }
    let repos = inner.lock_repos();
    let Some(r) = repos.get(&format!("{owner}/{repo}")) else { return not_found() };
    let b = match branch(r, q.git_ref.as_deref()) {
        Ok(b) => b,
        Err(resp) => return *resp,
    };
    let Some(content) = b.files.get(&path) else { return not_found() };
    // GitHub wraps the base64 at 60 characters.
    let encoded = base64::engine::general_purpose::STANDARD.encode(content);
    let wrapped: Vec<String> = encoded.as_bytes().chunks(60).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    let name = path.rsplit('/').next().unwrap_or(&path);
    axum::Json(json!({"type": "file", "encoding": "base64", "name": name, "path": path,
                      "sha": blob_sha(content), "size": content.len(), "content": wrapped.join("\n") + "\n"}))
    .into_response()
}

async fn put_file(
    State(inner): State<Arc<Inner>>,
    Path((owner, repo, path)): Path<Tail>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(r) = inner.record("PUT", format!("/repos/{owner}/{repo}/contents/{path}"), &headers, body.clone()) {
        return r;
    }
    let mut repos = inner.lock_repos();
    let Some(r) = repos.get_mut(&format!("{owner}/{repo}")) else { return not_found() };
    let name = body["branch"].as_str().unwrap_or(&r.default_branch).to_owned();
    let conflict = r.conflict;
    let Some(b) = r.branches.get_mut(&name) else {
        return github_error(StatusCode::NOT_FOUND, &format!("Branch {name} not found"));
    };
    let Some(content) = body["content"]
        .as_str()
        .and_then(|c| base64::engine::general_purpose::STANDARD.decode(c.replace('\n', "")).ok())
        .and_then(|c| String::from_utf8(c).ok())
    else {
        return github_error(StatusCode::UNPROCESSABLE_ENTITY, "content is not valid Base64");
    };
    let current = b.files.get(&path).map(|c| blob_sha(c));
    if conflict || current.as_deref() != body["sha"].as_str() {
        let at = current.unwrap_or_default();
        return github_error(StatusCode::CONFLICT, &format!("{path} is at {at} but expected {}", body["sha"]));
    }
    let created = !b.files.contains_key(&path);
    b.files.insert(path.clone(), content.clone());
    b.sha = sha(format!("{}{path}{content}", b.sha).as_bytes());
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    let out = json!({"content": {"path": path, "sha": blob_sha(&content)},
                     "commit": {"sha": b.sha, "message": body["message"]}});
    (status, axum::Json(out)).into_response()
}

async fn get_ref(
    State(inner): State<Arc<Inner>>,
    Path((owner, repo, name)): Path<Tail>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = inner.record("GET", format!("/repos/{owner}/{repo}/git/ref/{name}"), &headers, Value::Null) {
        return r;
    }
    let repos = inner.lock_repos();
    let Some(r) = repos.get(&format!("{owner}/{repo}")) else { return not_found() };
    let found = name.strip_prefix("heads/").and_then(|b| r.branches.get(b));
    match found {
        Some(b) => axum::Json(json!({"ref": format!("refs/{name}"), "object": {"type": "commit", "sha": b.sha}}))
            .into_response(),
        None => not_found(),
    }
}

async fn create_ref(
    State(inner): State<Arc<Inner>>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(r) = inner.record("POST", format!("/repos/{owner}/{repo}/git/refs"), &headers, body.clone()) {
        return r;
    }
    let mut repos = inner.lock_repos();
    let Some(r) = repos.get_mut(&format!("{owner}/{repo}")) else { return not_found() };
    let (Some(name), Some(at)) =
        (body["ref"].as_str().and_then(|n| n.strip_prefix("refs/heads/")), body["sha"].as_str())
    else {
        return github_error(StatusCode::UNPROCESSABLE_ENTITY, "ref must be refs/heads/… and sha a commit");
    };
    if r.branches.contains_key(name) {
        return github_error(StatusCode::UNPROCESSABLE_ENTITY, "Reference already exists");
    }
    let Some(source) = r.branches.values().find(|b| b.sha == at).cloned() else {
        return github_error(StatusCode::UNPROCESSABLE_ENTITY, "Object does not exist");
    };
    r.branches.insert(name.to_owned(), source);
    let out = json!({"ref": format!("refs/heads/{name}"), "object": {"type": "commit", "sha": at}});
    (StatusCode::CREATED, axum::Json(out)).into_response()
}

#[derive(serde::Deserialize)]
struct PullQuery {
    head: Option<String>,
    state: Option<String>,
}

async fn list_pulls(
    State(inner): State<Arc<Inner>>,
    Path((owner, repo)): Path<(String, String)>,
    Query(q): Query<PullQuery>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = inner.record("GET", format!("/repos/{owner}/{repo}/pulls"), &headers, Value::Null) {
        return r;
    }
    let full = format!("{owner}/{repo}");
    let repos = inner.lock_repos();
    let Some(r) = repos.get(&full) else { return not_found() };
    let head = q.head.as_deref().map(|h| h.split_once(':').map(|(_, b)| b).unwrap_or(h));
    let state = q.state.as_deref().unwrap_or("open");
    let list: Vec<Value> = r
        .pulls
        .iter()
        .filter(|p| head.is_none_or(|h| p.head == h) && (state == "all" || p.state == state))
        .map(|p| pull_json(&full, p, r.branches.get(&p.head).map(|b| b.sha.as_str()).unwrap_or_default()))
        .collect();
    axum::Json(list).into_response()
}

async fn create_pull(
    State(inner): State<Arc<Inner>>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(r) = inner.record("POST", format!("/repos/{owner}/{repo}/pulls"), &headers, body.clone()) {
        return r;
    }
    let full = format!("{owner}/{repo}");
    let mut repos = inner.lock_repos();
    let Some(r) = repos.get_mut(&full) else { return not_found() };
    let text = |k: &str| body[k].as_str().unwrap_or_default().to_owned();
    let (head, base) = (text("head"), text("base"));
    let head = head.split_once(':').map(|(_, b)| b.to_owned()).unwrap_or(head);
    let (Some(h), Some(b)) = (r.branches.get(&head), r.branches.get(&base)) else {
        return github_error(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed: head or base branch not found");
    };
    if r.pulls.iter().any(|p| p.head == head && p.state == "open") {
        let body = json!({"message": "Validation Failed",
                          "errors": [{"resource": "PullRequest", "code": "custom", "message": format!("A pull request already exists for {owner}:{head}.")}]});
        return (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(body)).into_response();
    }
    if h.sha == b.sha {
        return github_error(StatusCode::UNPROCESSABLE_ENTITY, &format!("No commits between {base} and {head}"));
    }
    let head_sha = h.sha.clone();
    let pull = Pull {
        number: r.pulls.len() as u64 + 1,
        head,
        base,
        title: text("title"),
        body: text("body"),
        state: "open".into(),
        merged: false,
        labels: vec![],
    };
    let out = pull_json(&full, &pull, &head_sha);
    r.pulls.push(pull);
    (StatusCode::CREATED, axum::Json(out)).into_response()
}

async fn add_labels(
    State(inner): State<Arc<Inner>>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let path = format!("/repos/{owner}/{repo}/issues/{number}/labels");
    if let Some(r) = inner.record("POST", path, &headers, body.clone()) {
        return r;
    }
    let mut repos = inner.lock_repos();
    let Some(p) =
        repos.get_mut(&format!("{owner}/{repo}")).and_then(|r| r.pulls.iter_mut().find(|p| p.number == number))
    else {
        return not_found();
    };
    for l in body["labels"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        if !p.labels.iter().any(|x| x == l) {
            p.labels.push(l.to_owned());
        }
    }
    axum::Json(p.labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>()).into_response()
}
