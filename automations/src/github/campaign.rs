//! `upgrade_dependency` runs: an org-wide campaign. The first step plans
//! it from the graph (the projects using the package, at `from` if given,
//! with their repositories) and keeps the plan in the run; each next step
//! works a batch of repositories, several at once under the GitHub client's
//! concurrency cap: read the manifests at the repository's root, change
//! exactly the version, branch, commit, open a pull request with the
//! configured title, body and labels. Every repository's outcome is a
//! `campaign_updated` event ([`switchboard_core::campaign`]).
//!
//! Each repository's work checks what exists first — a pull request for the
//! branch, the branch, the file already changed — so a batch that runs
//! again after a crash or a rate limit opens nothing twice.

use async_trait::async_trait;
use base64::Engine as _;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use switchboard_core::Service;
use switchboard_core::campaign::{Item, ItemState};
use switchboard_core::ids::ProjectSlug;
use switchboard_core::model::{Decision, Ecosystem, Run, RunRequest, StepStatus, UpgradeRequest};
use switchboard_core::store::DependentsQuery;

use super::GitHubApp;
use crate::engine::{Action, Done, StepError};
use crate::manifests::{self, Edit, Manifest};

pub const PLAN: &str = "plan";

/// The mark in every campaign pull request's body that ties it to its run.
pub const MARK: &str = "switchboard-run:";

pub struct Upgrade {
    pub service: Service,
    pub github: GitHubApp,
    title: minijinja::Environment<'static>,
}

/// One repository of the plan.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Target {
    project: String,
    repository: Option<String>,
    ecosystems: Vec<Ecosystem>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Plan {
    batch: usize,
    targets: Vec<Target>,
}

/// What the run asks for.
/// What an upgrade run asks for.
struct Ask(UpgradeRequest);

impl Ask {
    fn package(&self) -> &str {
        self.0.package.as_str()
    }
    fn from(&self) -> Option<&str> {
        self.0.from.as_ref().map(|v| v.as_str())
    }
    fn to(&self) -> &str {
        self.0.to.as_str()
    }
    fn project(&self) -> Option<&ProjectSlug> {
        self.0.project.as_ref()
    }
}

fn ask(run: &Run) -> Result<Ask, StepError> {
    match run.request().map_err(StepError::fatal)? {
        RunRequest::UpgradeDependency(u) => Ok(Ask(u)),
        _ => Err(StepError::fatal(format!("run {} is not an upgrade", run.id))),
    }
}

fn plan_of(run: &Run) -> Option<Plan> {
    let step = run.steps.iter().find(|s| s.name == PLAN && s.status == StepStatus::Done)?;
    serde_json::from_value(step.data.clone()?).ok()
}

fn batch_name(start: usize, end: usize, total: usize) -> String {
    format!("repositories {start}-{end} of {total}")
}

/// The branch for an upgrade: `PREFIX/PACKAGE-VERSION`, with characters a
/// branch cannot hold (`@`, `:`, spaces…) as `-`.
pub fn branch_name(prefix: &str, package: &str, to: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '-' }).collect()
    };
    format!("{prefix}/{}-{}", clean(package).trim_matches('-'), clean(to))
}

/// Query-string escaping for a ref or a `head` filter.
pub(crate) fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The manifests at a repository's root that can declare a package of `ecosystem`.
fn manifest_names(ecosystem: Ecosystem, names: &[String]) -> Vec<String> {
    names
        .iter()
        .filter(|n| {
            matches!(
                (ecosystem, Manifest::of(n)),
                (Ecosystem::Cargo, Some(Manifest::Cargo))
                    | (Ecosystem::Npm, Some(Manifest::PackageJson))
                    | (Ecosystem::Pypi, Some(Manifest::Requirements | Manifest::Pyproject))
                    | (Ecosystem::Go, Some(Manifest::GoMod))
            )
        })
        .cloned()
        .collect()
}

pub(crate) fn decode(file: &Value) -> Result<(String, String), StepError> {
    let sha = file["sha"].as_str().unwrap_or_default().to_owned();
    let raw = file["content"].as_str().unwrap_or_default().replace(['\n', '\r'], "");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(raw)
        .map_err(|e| StepError::fatal(format!("GitHub sent a file that is not Base64: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|_| StepError::fatal("the manifest is not UTF-8"))?;
    Ok((sha, text))
}

impl Upgrade {
    /// The action; an error when `github.upgrades` title or body is not a valid template.
    pub fn new(service: Service, github: GitHubApp) -> Result<Self, String> {
        let mut title = minijinja::Environment::new();
        let u = service.config().github.upgrades.clone();
        title
            .add_template_owned("title", u.title)
            .map_err(|e| format!("github.upgrades.title is not a valid template: {e}"))?;
        title
            .add_template_owned("body", u.body)
            .map_err(|e| format!("github.upgrades.body is not a valid template: {e}"))?;
        Ok(Self { service, github, title })
    }

    async fn plan(&self, run: &Run) -> Result<Done, StepError> {
        let a = ask(run)?;
        let retry = |e: switchboard_core::store::StoreError| StepError::retry(e.to_string());
        let graph = self.service.graph();
        let mut rows: Vec<(String, Ecosystem)> = match a.project() {
            Some(p) => {
                let project = graph.get_project(p).await.map_err(retry)?;
                let project = project.ok_or_else(|| StepError::fatal(format!("project {p} no longer exists")))?;
                project
                    .dependencies
                    .iter()
                    .filter(|d| d.package.as_str() == a.package())
                    .map(|d| (p.to_string(), d.ecosystem))
                    .collect()
            }
            None => {
                let q = DependentsQuery {
                    package: a.0.package.clone(),
                    version: match a.from() {
                        Some(f) => Some(f.parse().map_err(|_| StepError::fatal(format!("{f:?} is not a version")))?),
                        None => None,
                    },
                    ecosystem: None,
                    limit: 1_000_000,
                    // Manifests name direct dependencies only.
                    direct_only: true,
                };
                let d = graph.dependents(&q).await.map_err(retry)?;
                d.projects.into_iter().map(|r| (r.project.to_string(), r.ecosystem)).collect()
            }
        };
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        let mut targets: Vec<Target> = Vec::new();
        for (project, ecosystem) in rows {
            if let Some(t) = targets.last_mut().filter(|t| t.project == project) {
                t.ecosystems.push(ecosystem);
                continue;
            }
            let slug = project.parse().map_err(|_| StepError::fatal(format!("{project:?} is not a project")))?;
            let found = graph.get_project(&slug).await.map_err(retry)?;
            let repository = found.and_then(|p| p.external_ids.github_repository);
            targets.push(Target { project, repository, ecosystems: vec![ecosystem] });
        }
        let n = targets.len();
        let without = targets.iter().filter(|t| t.repository.is_none()).count();
        let batch = self.service.config().github.upgrades.batch;
        let mut detail = format!("{n} project{} use {}", if n == 1 { "" } else { "s" }, a.package());
        if let Some(f) = a.from() {
            detail.push_str(&format!(" {f}"));
        }
        if without > 0 {
            detail.push_str(&format!("; {without} without a github_repository (skipped)"));
        }
        let data = serde_json::to_value(Plan { batch, targets }).map_err(|e| StepError::fatal(e.to_string()))?;
        Ok(Done { detail: Some(detail), data: Some(data) })
    }

    async fn work_batch(&self, run: &Run, plan: &Plan, start: usize) -> Result<Done, StepError> {
        let a = ask(run)?;
        let end = (start + plan.batch).min(plan.targets.len());
        let concurrency = self.service.config().github.concurrency * 2;
        let results: Vec<(Target, Result<Item, StepError>)> =
            futures_util::stream::iter(plan.targets[start..end].iter().cloned())
                .map(|t| async {
                    let r = self.upgrade(run, &a, &t).await;
                    (t, r)
                })
                .buffer_unordered(concurrency)
                .collect()
                .await;
        let mut items = Vec::new();
        let mut retry = Vec::new();
        for (t, r) in results {
            let item = match r {
                Ok(item) => item,
                Err(e) if e.retryable => {
                    retry.push(format!("{}: {}", t.repository.as_deref().unwrap_or(&t.project), e.message));
                    continue;
                }
                Err(e) => {
                    let repo = t.repository.clone().unwrap_or_default();
                    Item::new(&repo, t.project.parse().ok(), ItemState::Failed).because(e.message)
                }
            };
            self.service
                .record_campaign_item(&run.id, &item, "engine")
                .await
                .map_err(|e| StepError::retry(format!("cannot record the campaign's progress: {e}")))?;
            items.push(item);
        }
        if !retry.is_empty() {
            retry.sort();
            return Err(StepError::retry(format!(
                "{} of {} repositories to try again ({})",
                retry.len(),
                end - start,
                retry[0]
            )));
        }
        Ok(Done::said(switchboard_core::campaign::Summary { items }.counts_line()))
    }

    /// One repository, from the pull request it may already have to a new one.
    async fn upgrade(&self, run: &Run, a: &Ask, t: &Target) -> Result<Item, StepError> {
        let project = t.project.parse().ok();
        let Some(repo) = t.repository.as_deref() else {
            let why = format!("{} has no github_repository; set it with update_project", t.project);
            return Ok(Item::new("", project, ItemState::Skipped).because(why));
        };
        let item = |state| Item::new(repo, t.project.parse().ok(), state);
        let gh = &self.github;
        let config = &self.service.config().github;
        let client = gh.for_repository(repo).await?;
        let branch = branch_name(&config.upgrades.branch_prefix, a.package(), a.to());
        let owner = repo.split('/').next().unwrap_or_default();

        // A pull request for this upgrade already?
        let route = format!("/repos/{repo}/pulls?state=all&head={}", enc(&format!("{owner}:{branch}")));
        let pulls = gh.request(&client, "GET", &route, None).await?.require("list pull requests")?;
        if let Some(p) = pulls.as_array().and_then(|l| l.first()) {
            let number = p["number"].as_u64().unwrap_or_default();
            let url = p["html_url"].as_str().map(str::to_owned);
            return Ok(match (p["state"].as_str(), p["merged"].as_bool() == Some(true) || !p["merged_at"].is_null()) {
                (Some("open"), _) => item(ItemState::Opened).pull(number, url).because("already open"),
                (_, true) => item(ItemState::Merged).pull(number, url),
                _ => item(ItemState::Skipped)
                    .pull(number, url)
                    .because(format!("pull request #{number} for this upgrade was closed without merging")),
            });
        }

        let info =
            gh.request(&client, "GET", &format!("/repos/{repo}"), None).await?.require(&format!("read {repo}"))?;
        let base = info["default_branch"].as_str().unwrap_or("main").to_owned();
        let root = gh.request(&client, "GET", &format!("/repos/{repo}/contents?ref={}", enc(&base)), None).await?;
        let root = root.require(&format!("list {repo}"))?;
        let names: Vec<String> = root
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["type"] == "file")
            .filter_map(|e| e["name"].as_str().map(str::to_owned))
            .collect();
        let mut candidates: Vec<String> = t.ecosystems.iter().flat_map(|e| manifest_names(*e, &names)).collect();
        candidates.sort();
        candidates.dedup();

        // Change exactly the version, in each manifest that declares the package.
        let mut edits: Vec<(String, String, String)> = Vec::new(); // path, sha, new text
        let (mut already, mut other) = (Vec::new(), Vec::new());
        for path in &candidates {
            let kind = Manifest::of(path).expect("candidates are manifests");
            let file =
                gh.request(&client, "GET", &format!("/repos/{repo}/contents/{path}?ref={}", enc(&base)), None).await?;
            let (sha, text) = decode(&file.require(&format!("read {path}"))?)?;
            match manifests::set_version(kind, &text, a.package(), a.from(), a.to()) {
                Edit::Changed(new) => edits.push((path.clone(), sha, new)),
                Edit::AlreadyAt => already.push(path.clone()),
                Edit::OtherVersion(v) => other.push(format!("{path} has {v}")),
                Edit::NotFound => {}
            }
        }
        if edits.is_empty() {
            let why = if !already.is_empty() {
                format!("already on {} ({})", a.to(), already.join(", "))
            } else if !other.is_empty() {
                format!("not on {} ({})", a.from().unwrap_or("the version asked"), other.join(", "))
            } else if candidates.is_empty() {
                format!(
                    "no manifest for {} at the repository's root",
                    t.ecosystems.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ")
                )
            } else {
                format!("{} does not declare {}", candidates.join(", "), a.package())
            };
            return Ok(item(ItemState::Skipped).because(why));
        }

        // The branch, from the default branch's head (kept if it exists).
        let existed = gh.exists(&client, &format!("/repos/{repo}/git/ref/heads/{branch}")).await?;
        if !existed {
            let head = gh.request(&client, "GET", &format!("/repos/{repo}/git/ref/heads/{base}"), None).await?;
            let head = head.require(&format!("read {base}"))?;
            let sha = head["object"]["sha"].as_str().unwrap_or_default();
            let body = json!({"ref": format!("refs/heads/{branch}"), "sha": sha});
            let made = gh.request(&client, "POST", &format!("/repos/{repo}/git/refs"), Some(&body)).await?;
            let raced =
                made.status == 422 && made.body["message"].as_str().is_some_and(|m| m.contains("already exists"));
            if !made.ok() && !raced {
                made.require(&format!("create branch {branch}"))?;
            }
        }
        let manifests: Vec<String> = edits.iter().map(|e| e.0.clone()).collect();
        for (path, sha, new) in edits {
            // A branch from before (a crashed worker, an earlier campaign): edit what is there.
            let (sha, new) = if existed {
                let route = format!("/repos/{repo}/contents/{path}?ref={}", enc(&branch));
                let file =
                    gh.request(&client, "GET", &route, None).await?.require(&format!("read {path} on {branch}"))?;
                let (sha, text) = decode(&file)?;
                match manifests::set_version(
                    Manifest::of(&path).expect("a manifest"),
                    &text,
                    a.package(),
                    a.from(),
                    a.to(),
                ) {
                    Edit::Changed(new) => (sha, new),
                    _ => continue, // already changed there
                }
            } else {
                (sha, new)
            };
            let body = json!({
                "message": format!("Upgrade {} to {} in {path}", a.package(), a.to()),
                "content": base64::engine::general_purpose::STANDARD.encode(new.as_bytes()),
                "sha": sha,
                "branch": branch,
            });
            let wrote = gh.request(&client, "PUT", &format!("/repos/{repo}/contents/{path}"), Some(&body)).await?;
            if wrote.status == 409 {
                let why = format!(
                    "{branch} changed while Switchboard wrote {path}; resolve it in the repository, then ask again"
                );
                return Ok(item(ItemState::Conflict).because(why));
            }
            wrote.require(&format!("commit {path}"))?;
        }

        // The pull request.
        let vars = self.template_vars(run, a, &t.project, repo, &manifests);
        let title = self.render("title", &vars)?;
        let body = format!("{}\n\n<!-- {MARK} {} -->", self.render("body", &vars)?, run.id);
        let ask_body = json!({"title": title, "head": branch, "base": base, "body": body});
        let opened = gh.request(&client, "POST", &format!("/repos/{repo}/pulls"), Some(&ask_body)).await?;
        let pull = if opened.status == 422 {
            let text = opened.body.to_string();
            if text.contains("No commits between") {
                return Ok(item(ItemState::Skipped).because(format!("{branch} has nothing to merge into {base}")));
            }
            // Opened by an earlier attempt that did not hear the answer.
            let route = format!("/repos/{repo}/pulls?state=open&head={}", enc(&format!("{owner}:{branch}")));
            let found = gh.request(&client, "GET", &route, None).await?.require("find the pull request")?;
            found.as_array().and_then(|l| l.first()).cloned().ok_or_else(|| status_text(opened.status, &text))?
        } else {
            opened.require(&format!("open a pull request on {repo}"))?
        };
        let number = pull["number"].as_u64().unwrap_or_default();
        let labels = &config.upgrades.labels;
        if !labels.is_empty() {
            let route = format!("/repos/{repo}/issues/{number}/labels");
            gh.send(&client, "POST", &route, &json!({"labels": labels})).await?;
        }
        let url = pull["html_url"].as_str().map(str::to_owned);
        Ok(item(ItemState::Opened).pull(number, url).because(manifests.join(", ")))
    }

    fn template_vars(&self, run: &Run, a: &Ask, project: &str, repo: &str, manifests: &[String]) -> Value {
        let approved: Vec<&str> =
            run.approvals.iter().filter(|x| x.decision == Decision::Approve).map(|x| x.by.as_str()).collect();
        json!({
            "package": a.package(), "from": a.from().unwrap_or(""), "to": a.to(), "project": project,
            "repository": repo, "manifests": manifests, "requested_by": run.requested_by,
            "approved_by": approved.join(", "), "run": run.id,
        })
    }

    fn render(&self, name: &str, vars: &Value) -> Result<String, StepError> {
        let t = self.title.get_template(name).map_err(|e| StepError::fatal(e.to_string()))?;
        t.render(vars).map_err(|e| StepError::fatal(format!("github.upgrades.{name} cannot be rendered: {e}")))
    }
}

fn status_text(status: u16, text: &str) -> StepError {
    StepError::fatal(format!("open a pull request: GitHub answered {status}: {text}"))
}

#[async_trait]
impl Action for Upgrade {
    fn steps(&self, run: &Run) -> Vec<String> {
        let mut steps = vec![PLAN.to_owned()];
        if let Some(plan) = plan_of(run) {
            let n = plan.targets.len();
            let size = plan.batch.max(1);
            steps.extend((0..n).step_by(size).map(|start| batch_name(start + 1, (start + size).min(n), n)));
        }
        steps
    }

    async fn perform(&self, step: &str, run: &Run) -> Result<Done, StepError> {
        if step == PLAN {
            return self.plan(run).await;
        }
        let plan = plan_of(run).ok_or_else(|| StepError::fatal("the campaign has no plan"))?;
        let size = plan.batch.max(1);
        let n = plan.targets.len();
        let start = (0..n)
            .step_by(size)
            .find(|s| batch_name(s + 1, (s + size).min(n), n) == step)
            .ok_or_else(|| StepError::fatal(format!("an upgrade run has no step {step:?}")))?;
        self.work_batch(run, &plan, start).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_names_hold_any_package() {
        assert_eq!(branch_name("switchboard/upgrade", "serde", "1.0.200"), "switchboard/upgrade/serde-1.0.200");
        assert_eq!(branch_name("sb", "@types/node", "20.1.0"), "sb/types-node-20.1.0");
        assert_eq!(enc("acme:sb/x@1"), "acme%3Asb/x%401");
    }
}
