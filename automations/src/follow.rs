//! Runs followed through GitHub's webhooks after their steps are done.
//!
//! Upgrade campaigns: a campaign pull request opened, merged or closed
//! (`pull_request`) and its checks (`check_suite` completed) become
//! `campaign_updated` events of its run; a merge also moves the project's
//! dependency to the new version in the graph. A pull request is the
//! campaign's when its body carries the run's mark, or when the campaign
//! already recorded it.
//!
//! Deploy runs: the `workflow_run` that a dispatch started (the configured
//! deploy workflow, `workflow_dispatch` on the deploy ref, in the project's
//! repository, its title carrying the run's id — the correlation id the
//! dispatch sent) finishing is recorded as the run's `run_step_finished`
//! with `followed: true`, which the chat thread shows. No guessing by time:
//! a workflow run that names no run is left unmapped, saying why.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use switchboard_core::Service;
use switchboard_core::campaign::{Item, ItemState};
use switchboard_core::ids::RunId;
use switchboard_core::inbox::Delivery;
use switchboard_core::ops::OpKind;

use crate::github::campaign::MARK;
use crate::process::{Failure, Mapped, Mapper};

pub struct RunFollower {
    pub service: Service,
}

/// Every mapper in turn: the delivery ran if any of them ran.
pub struct Chain(pub Vec<Arc<dyn Mapper>>);

#[async_trait]
impl Mapper for Chain {
    async fn apply(&self, d: &Delivery, payload: &Arc<Value>) -> Result<Mapped, Failure> {
        let (mut ran, mut unmapped) = (Vec::new(), Vec::new());
        for m in &self.0 {
            match m.apply(d, payload).await? {
                Mapped::Ran(s) => ran.push(s),
                Mapped::Unmapped(s) => unmapped.push(s),
            }
        }
        Ok(if ran.is_empty() { Mapped::Unmapped(unmapped.join("; ")) } else { Mapped::Ran(ran.join("; ")) })
    }
}

fn store_failure(e: impl std::fmt::Display) -> Failure {
    Failure::retry(format!("cannot record a campaign's progress: {e}"))
}

/// The run id after the mark in a pull request's body.
fn marked_run(body: &str) -> Option<RunId> {
    let rest = &body[body.find(MARK)? + MARK.len()..];
    rest.split_whitespace().next()?.parse().ok()
}

impl RunFollower {
    /// The campaign run and what it knows of `repo#number`.
    async fn campaign(&self, repo: &str, number: u64, body: Option<&str>) -> Result<Option<(RunId, Item)>, Failure> {
        let known = self.service.campaign_of_pull(repo, number).await.map_err(store_failure)?;
        if let Some(k) = known {
            return Ok(Some(k));
        }
        let Some(run) = body.and_then(marked_run) else { return Ok(None) };
        let project =
            self.service.graph().project_by_external_id("github_repository", repo).await.map_err(store_failure)?;
        Ok(Some((run, Item::new(repo, project, ItemState::Opened))))
    }

    async fn pull_request(&self, payload: &Value) -> Result<Mapped, Failure> {
        let pr = &payload["pull_request"];
        let repo = payload["repository"]["full_name"].as_str().unwrap_or_default();
        let number = pr["number"].as_u64().unwrap_or_default();
        let Some((run, known)) = self.campaign(repo, number, pr["body"].as_str()).await? else {
            return Ok(Mapped::Unmapped("not a Switchboard upgrade pull request".into()));
        };
        let merged = pr["merged"].as_bool() == Some(true);
        let state = match (payload["action"].as_str().unwrap_or_default(), merged) {
            ("opened" | "reopened", _) => ItemState::Opened,
            ("closed", true) => ItemState::Merged,
            ("closed", false) => ItemState::Closed,
            (other, _) => return Ok(Mapped::Unmapped(format!("campaign pull request {other}: nothing to record"))),
        };
        let url = pr["html_url"].as_str().map(str::to_owned);
        let item = Item::new(repo, known.project.clone(), state).pull(number, url);
        self.service.record_campaign_item(&run, &item, "github").await.map_err(store_failure)?;
        let mut said = format!("campaign {run}: {repo}#{number} {}", state.as_str());
        if state == ItemState::Merged
            && let Some(project) = &known.project
        {
            said.push_str(&self.upgrade_in_graph(&run, project).await?);
        }
        Ok(Mapped::Ran(said))
    }

    /// The merged upgrade, in the project's dependencies.
    async fn upgrade_in_graph(
        &self,
        run: &RunId,
        project: &switchboard_core::ids::ProjectSlug,
    ) -> Result<String, Failure> {
        let graph = self.service.graph();
        let Some(run) = graph.get_run(run).await.map_err(store_failure)? else { return Ok(String::new()) };
        let Ok(switchboard_core::model::RunRequest::UpgradeDependency(asked)) = run.request() else {
            return Ok(String::new());
        };
        let (package, to) = (asked.package.as_str(), asked.to.as_str());
        let Some(p) = graph.get_project(project).await.map_err(store_failure)? else { return Ok(String::new()) };
        let mut ecosystems: Vec<_> =
            p.dependencies.iter().filter(|d| d.package.as_str() == package).map(|d| d.ecosystem).collect();
        ecosystems.dedup();
        for eco in ecosystems {
            let deps: Vec<Value> = p
                .dependencies
                .iter()
                .filter(|d| d.ecosystem == eco)
                .map(|d| {
                    let v = if d.package.as_str() == package { to } else { d.version.as_str() };
                    json!({"ecosystem": eco, "package": d.package, "version": v})
                })
                .collect();
            let args = json!({"project": p.slug, "ecosystem": eco, "dependencies": deps});
            let caller = switchboard_core::policy::engine_caller();
            self.service
                .execute_json(&caller, "set_dependencies", args)
                .await
                .map_err(|e| Failure::retry(format!("cannot move {} to {package} {to}: {e}", p.slug)))?;
        }
        Ok(format!("; {} now uses {package} {to}", p.slug))
    }

    async fn check_suite(&self, payload: &Value) -> Result<Mapped, Failure> {
        let suite = &payload["check_suite"];
        if payload["action"] != "completed" {
            return Ok(Mapped::Unmapped("check suite not completed yet".into()));
        }
        let repo = payload["repository"]["full_name"].as_str().unwrap_or_default();
        let conclusion = suite["conclusion"].as_str().unwrap_or("unknown");
        let state = match conclusion {
            "success" | "neutral" | "skipped" => ItemState::ChecksPassed,
            _ => ItemState::ChecksFailing,
        };
        let mut said = Vec::new();
        for pull in suite["pull_requests"].as_array().into_iter().flatten() {
            let number = pull["number"].as_u64().unwrap_or_default();
            let Some((run, known)) = self.campaign(repo, number, None).await? else { continue };
            let mut item = Item::new(repo, known.project, state).pull(number, known.url);
            if state == ItemState::ChecksFailing {
                item = item.because(format!("checks {conclusion}"));
            }
            self.service.record_campaign_item(&run, &item, "github").await.map_err(store_failure)?;
            said.push(format!("campaign {run}: {repo}#{number} {}", state.as_str()));
        }
        Ok(if said.is_empty() {
            Mapped::Unmapped("no Switchboard upgrade pull request in this check suite".into())
        } else {
            Mapped::Ran(said.join("; "))
        })
    }
}

impl RunFollower {
    async fn workflow_run(&self, payload: &Value) -> Result<Mapped, Failure> {
        let wr = &payload["workflow_run"];
        let config = &self.service.config().github;
        let ours = payload["action"] == "completed"
            && wr["event"] == "workflow_dispatch"
            && wr["path"].as_str().is_some_and(|p| p.rsplit('/').next() == Some(config.deploy_workflow.as_str()))
            && wr["head_branch"].as_str() == Some(config.deploy_ref.as_str());
        if !ours {
            return Ok(Mapped::Unmapped("not a deploy workflow Switchboard dispatched".into()));
        }
        let repo = payload["repository"]["full_name"].as_str().unwrap_or_default();
        let graph = self.service.graph();
        let Some(project) = graph.project_by_external_id("github_repository", repo).await.map_err(store_failure)?
        else {
            return Ok(Mapped::Unmapped(format!("no project has github_repository {repo}")));
        };
        // The run's id, sent as the workflow input `github.deploy_run_input`,
        // comes back in the title the workflow's `run-name` gives it.
        let title = wr["display_title"].as_str().unwrap_or_default();
        let Some(id) = RunId::find_in(title) else {
            return Ok(Mapped::Unmapped(format!(
                "the workflow run's title {title:?} names no run: give the deploy workflow \
                 `run-name: ... ${{{{ inputs.{} }}}}` (docs/automations.md)",
                config.deploy_run_input
            )));
        };
        let run = graph.get_run(&id).await.map_err(store_failure)?;
        let Some(run) = run.filter(|r| r.operation == OpKind::Deploy && r.project.as_ref() == Some(&project)) else {
            return Ok(Mapped::Unmapped(format!("run {id} is not a deploy of {project}")));
        };
        let id = wr["id"].as_u64().unwrap_or_default();
        let attempt = wr["run_attempt"].as_u64().unwrap_or(1);
        let q = switchboard_core::event::EventQuery {
            project: Some(project.clone()),
            kinds: vec![switchboard_core::event::EventKind::RunStepFinished],
            since: Some(run.requested_at),
            limit: 500,
            ..Default::default()
        };
        let seen = self.service.log().query(&q).await.map_err(store_failure)?;
        let followed = |e: &switchboard_core::event::Event| match e.data() {
            Ok(switchboard_core::event::EventData::RunStepFinished(s)) => {
                s.workflow_run == Some(id) && s.attempt == Some(attempt)
            }
            _ => false,
        };
        if seen.iter().any(followed) {
            return Ok(Mapped::Ran(format!("deploy run {}: workflow run {id} already followed", run.id)));
        }
        let conclusion = wr["conclusion"].as_str().unwrap_or("unknown");
        let step = switchboard_core::event::payload::Progress::Followed {
            step: "deploy workflow".into(),
            conclusion: conclusion.into(),
            url: wr["html_url"].as_str().map(str::to_owned),
            workflow_run: id,
            attempt,
        };
        self.service.record_run_progress(&run, step).await.map_err(store_failure)?;
        Ok(Mapped::Ran(format!("deploy run {}: the workflow finished ({conclusion})", run.id)))
    }
}

#[async_trait]
impl Mapper for RunFollower {
    async fn apply(&self, d: &Delivery, payload: &Arc<Value>) -> Result<Mapped, Failure> {
        match (d.source.as_str(), d.event.as_str()) {
            ("github", "pull_request") => self.pull_request(payload).await,
            ("github", "check_suite") => self.check_suite(payload).await,
            ("github", "workflow_run") => self.workflow_run(payload).await,
            _ => Ok(Mapped::Unmapped(format!("{} {}: not a campaign event", d.source, d.event))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mark_names_the_run() {
        let id = RunId::new();
        let body = format!("Upgrades serde.\n\n<!-- {MARK} {id} -->");
        assert_eq!(marked_run(&body), Some(id));
        assert_eq!(marked_run("no mark here"), None);
        assert_eq!(marked_run(&format!("{MARK} not-a-run")), None);
    }
}
