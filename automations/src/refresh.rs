//! Dependencies kept current as people push. A `push` to a repository's
//! default branch that adds, modifies or removes a manifest or lock file
//! queues a refresh of that repository — from the payload alone, so
//! processing never waits on GitHub and a push touching none of them costs
//! nothing. The queue is tickets in the store keyed by repository, so a burst
//! of pushes is one refresh, whichever replica receives them. The
//! [`Refresher`] (in `serve` and `worker`, with a GitHub App) takes each due
//! refresh once — across replicas — and imports the repository whole
//! (`repositories::import`): its project made if none has it, its facts and
//! dependencies brought up to date. Repositories given to the App are queued
//! the same way, due at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures_util::StreamExt;
use serde_json::Value;
use switchboard_core::Service;
use switchboard_core::import::lockfiles::{DEFAULT_IGNORE, Format, ignored};
use switchboard_core::inbox::Delivery;
use switchboard_core::model::Millis;

use crate::github::GitHubApp;
use crate::process::{Failure, Mapped, Mapper};
use crate::repositories::import;
use switchboard_core::service::EVERY_REPOSITORY;

/// Repositories imported at once by one refresher.
const CONCURRENCY: usize = 4;

/// A refresh waits this long after the last push that asked for it, so a
/// burst of pushes is read once.
pub const SETTLE_MS: Millis = 10_000;
/// GitHub lists at most this many commits in a push; a longer push is read whole.
const LISTED_COMMITS: usize = 20;

/// Whether a push payload changed what a repository import reads (or
/// cannot tell): a manifest or lock file added, modified or removed, or a
/// file whose presence is a fact (README, CODEOWNERS, a workflow, the
/// catalog) added or removed.
pub fn touches_dependencies(payload: &Value) -> bool {
    let commits = payload["commits"].as_array().map(Vec::as_slice).unwrap_or_default();
    let size = payload["size"].as_u64().unwrap_or(commits.len() as u64) as usize;
    if commits.len() >= LISTED_COMMITS || size > commits.len() {
        return true;
    }
    let paths = |c: &'_ Value, k: &'static str| -> Vec<String> {
        c[k].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
    };
    commits.iter().chain(std::iter::once(&payload["head_commit"])).any(|c| {
        let manifest = |p: &String| Format::of(p).is_some() && !ignored(p, DEFAULT_IGNORE);
        let signal = |p: &String| crate::github::files::is_repository_file(p);
        ["added", "modified", "removed"].iter().any(|k| paths(c, k).iter().any(manifest))
            || ["added", "removed"].iter().any(|k| paths(c, k).iter().any(signal))
    })
}

/// Queues refreshes from `push` deliveries.
pub struct RefreshQueue {
    service: Service,
    /// Repository → the day its `repo_last_commit` was last found or set to
    /// here. A push on a day already seen reads nothing: most pushes come on
    /// a day an earlier push already wrote, and reading the project twice for
    /// each was a twelfth of processing a flood of pushes. Another replica (or a
    /// person) changing the fact the same day is not seen until the next day.
    seen: Mutex<HashMap<String, String>>,
}

/// Repositories whose day is remembered; past it the memory starts over.
const SEEN_REPOSITORIES: usize = 100_000;

#[async_trait]
impl Mapper for RefreshQueue {
    async fn apply(&self, d: &Delivery, payload: &Arc<Value>) -> Result<Mapped, Failure> {
        if d.source != "github" || d.event != "push" {
            return Ok(Mapped::Unmapped("not a push".into()));
        }
        let (Some(repo), Some(branch)) =
            (payload["repository"]["full_name"].as_str(), payload["repository"]["default_branch"].as_str())
        else {
            return Ok(Mapped::Unmapped("a push without its repository".into()));
        };
        if payload["ref"].as_str() != Some(&format!("refs/heads/{branch}")) || payload["deleted"] == true {
            return Ok(Mapped::Unmapped("not a push to the default branch".into()));
        }
        let pushed = self.last_commit(repo, payload).await?;
        if !touches_dependencies(payload) {
            return Ok(match pushed {
                Some(said) => Mapped::Ran(said),
                None => Mapped::Unmapped("no manifest or lock file changed".into()),
            });
        }
        let due = self.service.now() + SETTLE_MS;
        self.service.queue_refresh(repo, due).await.map_err(|e| Failure::retry(e.to_string()))?;
        Ok(Mapped::Ran(format!("dependency refresh of {repo} queued")))
    }
}

impl RefreshQueue {
    pub fn new(service: Service) -> Self {
        Self { service, seen: Mutex::new(HashMap::new()) }
    }

    fn seen_on(&self, repo: &str, day: &str) -> bool {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).get(repo).is_some_and(|d| d == day)
    }

    fn remember(&self, repo: &str, day: &str) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= SEEN_REPOSITORIES {
            seen.clear();
        }
        seen.insert(repo.to_owned(), day.to_owned());
    }

    /// Keeps the `repo_last_commit` fact (a day) current from the push
    /// alone: written when the day changes, so at most once a day.
    async fn last_commit(&self, repo: &str, payload: &Value) -> Result<Option<String>, Failure> {
        const KEY: &str = "repo_last_commit";
        if !self.service.config().import.repository_facts.iter().any(|k| k.as_str() == KEY) {
            return Ok(None);
        }
        let Some(day) = payload["head_commit"]["timestamp"].as_str().and_then(|t| t.get(..10)) else {
            return Ok(None);
        };
        if self.seen_on(repo, day) {
            return Ok(None);
        }
        let graph = self.service.graph();
        let retry = |e: switchboard_core::store::StoreError| Failure::retry(e.to_string());
        let Some(slug) = graph.project_by_external_id("github_repository", repo).await.map_err(retry)? else {
            return Ok(None);
        };
        let Some(p) = graph.get_project_fields(&slug).await.map_err(retry)? else { return Ok(None) };
        if p.archived {
            return Ok(None);
        }
        if p.facts.iter().any(|(k, f)| k.as_str() == KEY && f.value.to_string() == day) {
            self.remember(repo, day);
            return Ok(None);
        }
        let caller = switchboard_core::policy::webhook_caller("github");
        let args = serde_json::json!({"project": slug, "key": KEY, "value": day});
        match self.service.execute_json(&caller, "set_fact", args).await {
            Ok(_) => {
                self.remember(repo, day);
                Ok(Some(format!("{slug}: last commit {day}")))
            }
            // A type that declares the fact otherwise (or not a date) is left alone.
            Err(switchboard_core::Error::BadInput { .. }) => Ok(None),
            Err(e) => Err(Failure::retry(e.to_string())),
        }
    }
}

/// Works the queue: each due refresh once, through the App.
pub struct Refresher {
    pub service: Service,
    pub github: GitHubApp,
}

impl Refresher {
    /// Takes and runs every due refresh; what each did, in a line.
    pub async fn run_once(&self) -> Vec<String> {
        let due = match self.service.due_refreshes(500).await {
            Ok(q) => q,
            Err(e) => return vec![format!("cannot read the refresh queue: {e}")],
        };
        futures_util::stream::iter(due)
            .map(|repo| async move {
                // Exactly one taker, across replicas.
                match self.service.take_refresh(&repo).await {
                    Ok(true) => Some(self.refresh(&repo).await),
                    Ok(false) => None,
                    Err(e) => Some(format!("{repo}: {e}")),
                }
            })
            .buffer_unordered(CONCURRENCY)
            .filter_map(|line| async move { line })
            .collect()
            .await
    }

    async fn refresh(&self, repo: &str) -> String {
        if let Some(which) = repo.strip_prefix(EVERY_REPOSITORY) {
            return self.queue_installations(which.strip_prefix(':').and_then(|i| i.parse().ok())).await;
        }
        let caller = switchboard_core::policy::webhook_caller("github");
        let report = import::repository(&self.service, &self.github, &caller, repo, false).await;
        import::record(&self.service, &report).await;
        report.line()
    }

    /// `import_github`: every repository of the installations (or one) queued, due now.
    async fn queue_installations(&self, only: Option<u64>) -> String {
        let installations = match self.github.installations().await {
            Ok(list) => list,
            Err(e) => return format!("import of every repository: GitHub: {}", e.message),
        };
        let mut queued = 0;
        for (id, account) in installations.into_iter().filter(|(id, _)| only.is_none_or(|o| o == *id)) {
            let repos = match self.github.installation_repositories(id).await {
                Ok(r) => r,
                Err(e) => return format!("installation {id} ({account}): GitHub: {}", e.message),
            };
            for full in repos.iter().filter_map(|r| r["full_name"].as_str()) {
                if let Err(e) = self.service.queue_refresh(full, self.service.now()).await {
                    return format!("cannot queue {full}: {e}");
                }
                queued += 1;
            }
        }
        format!("import of every repository: {queued} queued")
    }

    /// Runs the queue every few seconds until the process ends.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                for line in self.run_once().await {
                    tracing::info!(refresh = %line, "dependency refresh");
                }
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            }
        })
    }
}
