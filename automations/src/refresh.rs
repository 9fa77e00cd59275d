//! Dependencies kept current as people push. A `push` to a repository's
//! default branch that adds, modifies or removes a manifest or lock file
//! queues a refresh of that repository — from the payload alone, so
//! processing never waits on GitHub and a push touching none of them costs
//! nothing. The queue is tickets in the store keyed by repository, so a burst
//! of pushes is one refresh, whichever replica receives them. The
//! [`Refresher`] (in `serve` and `worker`, with a GitHub App) takes each due
//! refresh once — across replicas — reads the files through the App and
//! hands them to `import_manifests`.

use async_trait::async_trait;
use serde_json::{Value, json};
use switchboard_core::Service;
use switchboard_core::import::lockfiles::{DEFAULT_IGNORE, Format, ignored};
use switchboard_core::inbox::Delivery;
use switchboard_core::model::Millis;

use crate::github::{GitHubApp, files};
use crate::process::{Failure, Mapped, Mapper};

/// A refresh waits this long after the last push that asked for it, so a
/// burst of pushes is read once.
pub const SETTLE_MS: Millis = 10_000;
/// GitHub lists at most this many commits in a push; a longer push is read whole.
const LISTED_COMMITS: usize = 20;

/// Whether a push payload touched a manifest or lock file (or cannot tell).
pub fn touches_dependencies(payload: &Value) -> bool {
    let commits = payload["commits"].as_array().map(Vec::as_slice).unwrap_or_default();
    let size = payload["size"].as_u64().unwrap_or(commits.len() as u64) as usize;
    if commits.len() >= LISTED_COMMITS || size > commits.len() {
        return true;
    }
    commits.iter().chain(std::iter::once(&payload["head_commit"])).any(|c| {
        ["added", "modified", "removed"].iter().any(|k| {
            c[*k]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .any(|p| Format::of(p).is_some() && !ignored(p, DEFAULT_IGNORE))
        })
    })
}

/// Queues refreshes from `push` deliveries.
pub struct RefreshQueue {
    pub service: Service,
}

#[async_trait]
impl Mapper for RefreshQueue {
    async fn apply(&self, d: &Delivery, payload: &Value) -> Result<Mapped, Failure> {
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
        if !touches_dependencies(payload) {
            return Ok(Mapped::Unmapped("no manifest or lock file changed".into()));
        }
        let due = self.service.now() + SETTLE_MS;
        self.service.queue_refresh(repo, due).await.map_err(|e| Failure::retry(e.to_string()))?;
        Ok(Mapped::Ran(format!("dependency refresh of {repo} queued")))
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
        let mut said = Vec::new();
        for repo in due {
            // Exactly one taker, across replicas.
            match self.service.take_refresh(&repo).await {
                Ok(true) => said.push(self.refresh(&repo).await),
                Ok(false) => {}
                Err(e) => said.push(format!("{repo}: {e}")),
            }
        }
        said
    }

    async fn refresh(&self, repo: &str) -> String {
        let graph = self.service.graph();
        let project = match graph.project_by_external_id("github_repository", repo).await {
            Ok(Some(p)) => p,
            Ok(None) => return format!("{repo}: no project has this repository; nothing refreshed"),
            Err(e) => return format!("{repo}: {e}"),
        };
        let read = match files::read(&self.github, repo).await {
            Ok(r) => r,
            Err(e) => return format!("{repo}: {}", e.message),
        };
        let files: Vec<Value> = read.files.iter().map(|(path, text)| json!({"path": path, "text": text})).collect();
        let caller = switchboard_core::policy::webhook_caller("github");
        let args = json!({"project": project, "files": files});
        match self.service.execute_json(&caller, "import_manifests", args).await {
            Ok(out) => {
                let v = out.to_json();
                let n = |k: &str| v["changes"][k].as_array().map_or(0, Vec::len);
                format!("{repo}: {} added, {} changed, {} removed", n("added"), n("changed"), n("removed"))
            }
            Err(e) => format!("{repo}: {e}"),
        }
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
