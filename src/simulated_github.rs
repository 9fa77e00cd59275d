//! `demo` only: a simulated GitHub, so a newcomer sees the whole loop —
//! ask, approve, it happens, everyone is told — with no GitHub App.
//!
//! The run engine acts, as in `serve`, through the real client against
//! the fake GitHub API on loopback (`automations::github::fake`), seeded
//! with a repository per demo project and manifests from its dependencies.
//! What GitHub would then do by itself is played back as signed webhooks to
//! the demo's own `/hooks/github`, built from GitHub's published example
//! payloads: a dispatched deploy workflow reports its deployment and
//! finishes; an upgrade's pull request passes its checks and is merged
//! (which moves the graph). Every step a run takes says "simulated GitHub".
//! `serve` never starts this.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use serde_json::{Value, json};
use switchboard_automations::github::fake::{FakeGitHub, TEST_APP_KEY};
use switchboard_core::Service;
use switchboard_core::config::Config;
use switchboard_core::model::Ecosystem;
use switchboard_core::store::ProjectQuery;

/// How long GitHub "takes": a deploy workflow, a pull request's checks,
/// and a reviewer merging after the checks.
const DEPLOY_TAKES: Duration = Duration::from_secs(4);
const CHECKS_TAKE: Duration = Duration::from_secs(5);
const MERGED_AFTER: Duration = Duration::from_secs(10);

const DEPLOYMENT_STATUS: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/automations/tests/fixtures/github/deployment_status.json"));
const WORKFLOW_RUN: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/automations/tests/fixtures/github/workflow_run.completed.json"));
const CHECK_SUITE: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/automations/tests/fixtures/github/check_suite.completed.json"));
const PULL_REQUEST: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/automations/tests/fixtures/github/pull_request.opened.json"));

/// Starts the fake GitHub and points `config` at it: the App, its API
/// and, unless one is configured, a webhook secret for this run only.
pub async fn start(config: &mut Config) -> anyhow::Result<FakeGitHub> {
    let fake = FakeGitHub::start(&[]).await?;
    config.github.app_id = Some(1);
    config.github.private_key = Some(TEST_APP_KEY.into());
    config.github.api_url = fake.url.clone();
    config.github.simulated = true;
    if config.webhooks.github_secret.is_none() {
        // Random, as core makes its secrets (two v4 UUIDs, 244 random bits).
        let secret = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        config.webhooks.github_secret = Some(secret);
    }
    Ok(fake)
}

/// A repository for every project that names one, with a manifest per
/// ecosystem of its dependencies, as an import would have read them.
pub async fn seed(fake: &FakeGitHub, service: &Service) -> anyhow::Result<usize> {
    let q = ProjectQuery { limit: 100_000, ..Default::default() };
    let mut repos = 0;
    for summary in service.graph().find_projects(&q).await? {
        let Some(p) = service.graph().get_project(&summary.slug).await? else { continue };
        let Some(repo) = p.external_ids.github_repository.as_deref() else { continue };
        fake.add_repo(repo);
        repos += 1;
        let mut by_ecosystem: BTreeMap<Ecosystem, Vec<(&str, &str)>> = BTreeMap::new();
        for d in p.dependencies.iter().filter(|d| !d.transitive) {
            by_ecosystem.entry(d.ecosystem).or_default().push((d.package.as_str(), d.version.as_str()));
        }
        for (ecosystem, deps) in by_ecosystem {
            if let Some((path, text)) = manifest(ecosystem, p.slug.as_str(), &deps) {
                fake.put_file(repo, path, &text);
            }
        }
    }
    Ok(repos)
}

/// The root manifest declaring `deps` in `ecosystem`, if the campaigns edit one.
fn manifest(ecosystem: Ecosystem, name: &str, deps: &[(&str, &str)]) -> Option<(&'static str, String)> {
    let lines = |f: &dyn Fn(&str, &str) -> String| deps.iter().map(|(p, v)| f(p, v)).collect::<Vec<_>>().join("");
    Some(match ecosystem {
        Ecosystem::Npm => {
            let body = deps.iter().map(|(p, v)| format!("    \"{p}\": \"^{v}\"")).collect::<Vec<_>>().join(",\n");
            ("package.json", format!("{{\n  \"name\": \"{name}\",\n  \"dependencies\": {{\n{body}\n  }}\n}}\n"))
        }
        Ecosystem::Cargo => (
            "Cargo.toml",
            format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\n\n[dependencies]\n{}",
                lines(&|p, v| format!("{p} = \"{v}\"\n"))
            ),
        ),
        Ecosystem::Pypi => ("requirements.txt", lines(&|p, v| format!("{p}=={v}\n"))),
        Ecosystem::Go => (
            "go.mod",
            format!(
                "module github.com/acme/{name}\n\ngo 1.22\n\nrequire (\n{})\n",
                lines(&|p, v| format!("\t{p} {v}\n"))
            ),
        ),
        _ => return None,
    })
}

/// Plays GitHub's side: follows what the engine asked of the fake and
/// sends the webhooks GitHub would, to `hooks` (`…/hooks/github`).
pub fn spawn(fake: FakeGitHub, hooks: String, secret: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        let send = Sender { client, hooks, secret };
        let (mut dispatched, mut pulls) = (0usize, HashSet::new());
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let calls = fake.dispatches();
            for call in calls.iter().skip(dispatched) {
                let (call, send) = (call.clone(), send.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(DEPLOY_TAKES).await;
                    send.deployed(&call.path, &call.body).await;
                });
            }
            dispatched = calls.len();
            for (repo, pull) in fake.all_pulls() {
                if pull.state != "open" || !pulls.insert((repo.clone(), pull.number)) {
                    continue;
                }
                let (fake, send) = (fake.clone(), send.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(CHECKS_TAKE).await;
                    send.checks_passed(&repo, &pull.head, pull.number).await;
                    tokio::time::sleep(MERGED_AFTER).await;
                    if let Some((_, sha)) = fake.merge(&repo, pull.number) {
                        send.merged(&repo, &pull, &sha).await;
                    }
                });
            }
        }
    })
}

#[derive(Clone)]
struct Sender {
    client: reqwest::Client,
    hooks: String,
    secret: String,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn next_id() -> u64 {
    static ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(9_000_000);
    ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// GitHub's example payload `fixture`, its repository renamed to `repo`.
fn payload(fixture: &str, repo: &str) -> Value {
    let mut v: Value = serde_json::from_str(fixture).expect("GitHub's example payloads are JSON");
    let (owner, name) = repo.split_once('/').unwrap_or(("acme", repo));
    v["repository"]["full_name"] = json!(repo);
    v["repository"]["name"] = json!(name);
    v["repository"]["owner"]["login"] = json!(owner);
    v["repository"]["html_url"] = json!(format!("https://github.com/{repo}"));
    v
}

impl Sender {
    /// A deploy workflow dispatched on `path`
    /// (`/repos/{owner}/{repo}/actions/workflows/{file}/dispatches`) with `body`:
    /// its deployment succeeded, then the workflow run completed.
    async fn deployed(&self, path: &str, body: &Value) {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let [_, owner, name, _, _, workflow, _] = parts.as_slice() else { return };
        let repo = format!("{owner}/{name}");
        let inputs = &body["inputs"];
        let (env, run) = (inputs["environment"].as_str().unwrap_or("staging"), inputs["switchboard_run"].clone());
        let version = inputs["version"].as_str().unwrap_or("main");
        let git_ref = body["ref"].as_str().unwrap_or("main");
        let mut d = payload(DEPLOYMENT_STATUS, &repo);
        let (at, id) = (now(), next_id());
        d["deployment"]["id"] = json!(id);
        d["deployment"]["environment"] = json!(env);
        d["deployment"]["ref"] = json!(git_ref);
        d["deployment"]["payload"] = json!({"version": version, "switchboard_run": run});
        d["deployment"]["created_at"] = json!(at);
        d["deployment"]["creator"]["login"] = json!("switchboard-demo[bot]");
        d["deployment_status"]["state"] = json!("success");
        d["deployment_status"]["environment"] = json!(env);
        d["deployment_status"]["updated_at"] = json!(at);
        d["deployment_status"]["target_url"] = json!(format!("https://github.com/{repo}/deployments (simulated)"));
        self.send("deployment_status", &d).await;
        let mut w = payload(WORKFLOW_RUN, &repo);
        let wr = &mut w["workflow_run"];
        wr["id"] = json!(id);
        wr["event"] = json!("workflow_dispatch");
        wr["path"] = json!(format!(".github/workflows/{workflow}"));
        wr["head_branch"] = json!(git_ref);
        wr["display_title"] = json!(format!("Deploy {version} to {env} ({})", run.as_str().unwrap_or_default()));
        wr["conclusion"] = json!("success");
        wr["status"] = json!("completed");
        wr["run_attempt"] = json!(1);
        wr["created_at"] = json!(at);
        wr["updated_at"] = json!(at);
        wr["run_started_at"] = json!(at);
        self.send("workflow_run", &w).await;
    }

    async fn checks_passed(&self, repo: &str, head: &str, number: u64) {
        let mut c = payload(CHECK_SUITE, repo);
        c["check_suite"]["id"] = json!(next_id());
        c["check_suite"]["conclusion"] = json!("success");
        c["check_suite"]["head_branch"] = json!(head);
        c["check_suite"]["pull_requests"] = json!([{"number": number, "head": {"ref": head}, "base": {"ref": "main"}}]);
        self.send("check_suite", &c).await;
    }

    async fn merged(&self, repo: &str, pull: &switchboard_automations::github::fake::Pull, sha: &str) {
        let mut p = payload(PULL_REQUEST, repo);
        p["action"] = json!("closed");
        p["number"] = json!(pull.number);
        let pr = &mut p["pull_request"];
        pr["number"] = json!(pull.number);
        pr["title"] = json!(pull.title);
        pr["body"] = json!(pull.body);
        pr["state"] = json!("closed");
        pr["merged"] = json!(true);
        pr["merged_at"] = json!(now());
        pr["merge_commit_sha"] = json!(sha);
        pr["closed_at"] = json!(now());
        pr["html_url"] = json!(format!("https://github.com/{repo}/pull/{}", pull.number));
        pr["head"]["ref"] = json!(pull.head);
        pr["base"]["ref"] = json!(pull.base);
        self.send("pull_request", &p).await;
    }

    /// One signed delivery, tried a few times as the server may be busy; a
    /// refusal is logged (the demo goes on).
    async fn send(&self, event: &str, payload: &Value) {
        let body = serde_json::to_vec(payload).expect("a JSON value serialises");
        let signature = switchboard_automations::signature::hmac_hex(self.secret.as_bytes(), &body);
        let delivery = format!("simulated-{}", next_id());
        for attempt in 1..=5u64 {
            let sent = self
                .client
                .post(&self.hooks)
                .header("content-type", "application/json")
                .header("x-github-event", event)
                .header("x-github-delivery", &delivery)
                .header("x-hub-signature-256", format!("sha256={signature}"))
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => return tracing::debug!(event, "simulated GitHub delivered"),
                Ok(r) => {
                    return tracing::warn!(event, status = %r.status(), "simulated GitHub: the delivery was refused");
                }
                Err(e) if attempt == 5 => {
                    let cause = std::error::Error::source(&e).map(|s| s.to_string()).unwrap_or_default();
                    tracing::warn!(event, error = %e, %cause, "simulated GitHub: the delivery failed")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(500 * attempt)).await,
            }
        }
    }
}
