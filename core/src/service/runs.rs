//! Automation requests and decisions. An automation never runs here: it
//! becomes a pending run that someone with the approver role decides.

use super::read::limit;
use super::{Call, Done, run_plan};
use crate::error::{Error, Result};
use crate::event::{EventData, payload};
use crate::ids::*;
use crate::messages;
use crate::model::*;
use crate::ops::OpKind;
use crate::ops::inputs::*;
use crate::ops::output::*;
use crate::policy::{self, Caller};
use crate::store::DependentsQuery;

pub(crate) async fn list_runs(call: &Call<'_>, i: ListRuns) -> Result<Done> {
    let limit = limit(i.limit, 50, 1000, "limit")?;
    // Expired is computed from pending runs past their deadline.
    let stored = match i.status {
        Some(RunStatus::Expired) | Some(RunStatus::Pending) => Some(RunStatus::Pending),
        s => s,
    };
    let mut runs =
        call.ctx.graph.list_runs(stored, if i.status == Some(RunStatus::Expired) { 10_000 } else { limit }).await?;
    let mut expired = call.ctx.graph.list_runs(Some(RunStatus::Expired), limit).await?;
    for r in &mut runs {
        r.status = r.status_at(call.now);
    }
    if let Some(want) = i.status {
        runs.retain(|r| r.status == want);
        if want == RunStatus::Expired {
            runs.append(&mut expired);
            runs.sort_by_key(|r| std::cmp::Reverse(r.id));
        }
    }
    runs.truncate(limit);
    Ok(Done::read(Output::Runs(RunList { runs })))
}

pub(crate) async fn get_run(call: &Call<'_>, i: GetRun) -> Result<Done> {
    let mut run = call.ctx.graph.get_run(&i.run).await?.ok_or_else(|| Error::not_found("run", i.run))?;
    run.status = run.status_at(call.now);
    Ok(Done::read(Output::Run(Box::new(run))))
}

/// Stores a new pending run and the event that says it was requested.
async fn request(
    call: &Call<'_>,
    asked: RunRequest,
    summary: String,
    project: Option<ProjectSlug>,
    plan: Option<RunPlan>,
) -> Result<Done> {
    let mut run = Run {
        id: RunId::new(),
        operation: asked.operation(),
        arguments: asked.arguments(),
        summary,
        requested_by: call.caller.user.clone(),
        requested_at: call.now,
        expires_at: call.now + call.ctx.config.run_expiry_ms(),
        status: RunStatus::Pending,
        approvals: Vec::new(),
        steps: Vec::new(),
        project,
        needs: None,
        plan,
    };
    // What the approval will need, shown from the start.
    let facts = run_facts(call.ctx, &run).await?;
    run.needs = needs(&policy::requirement(&facts, &call.ctx.config.policy));
    call.ctx.graph.put_run(&run).await?;
    let mut event = call.event(EventData::RunRequested(payload::RunRequested {
        run: run.id,
        operation: run.operation,
        arguments: run.arguments.clone(),
        summary: run.summary.clone(),
    }));
    event.project = run.project.clone();
    Ok(Done { output: Output::Run(Box::new(run)), events: vec![event] })
}

pub(crate) async fn upgrade_dependency(call: &Call<'_>, i: UpgradeDependency) -> Result<Done> {
    if i.from.as_ref() == Some(&i.to) {
        return Err(Error::field("to", "is the same as `from`; nothing to upgrade"));
    }
    let (projects, one) = match &i.project {
        Some(slug) => {
            let p = call.project(slug).await?;
            let uses = p
                .dependencies
                .iter()
                .any(|d| d.package == i.package && i.from.as_ref().is_none_or(|f| &d.version == f));
            if !uses {
                return Err(Error::field(
                    "package",
                    format!(
                        "{} does not use {}{}",
                        p.slug,
                        i.package,
                        i.from.as_ref().map(|f| format!(" {f}")).unwrap_or_default()
                    ),
                ));
            }
            (1, Some(p))
        }
        None => {
            // A campaign edits manifests: only projects that declare the package count.
            let q = DependentsQuery {
                package: i.package.clone(),
                version: i.from.clone(),
                ecosystem: None,
                limit: 1,
                direct_only: true,
            };
            let d = call.ctx.graph.dependents(&q).await?;
            if d.total == 0 {
                return Err(Error::field(
                    "package",
                    format!(
                        "no project declares {}{}",
                        i.package,
                        i.from.as_ref().map(|f| format!(" {f}")).unwrap_or_default()
                    ),
                ));
            }
            (d.total as usize, None)
        }
    };
    let plan = run_plan::upgrade(call, &i.package, i.from.as_ref(), &i.to, one.as_ref()).await?;
    let projects = projects.min(plan.targets.len() + plan.more as usize);
    if projects == 0 {
        return Err(Error::field("to", messages::upgrade_nothing_to_do(i.package.as_str(), i.to.as_str())));
    }
    let summary =
        messages::run_summary_upgrade(i.package.as_str(), i.from.as_ref().map(|v| v.as_str()), i.to.as_str(), projects);
    let project = i.project.clone();
    let asked = UpgradeRequest { package: i.package, from: i.from, to: i.to, project: i.project };
    request(call, RunRequest::UpgradeDependency(asked), summary, project, Some(RunPlan::Upgrade(plan))).await
}

pub(crate) async fn deploy(call: &Call<'_>, i: Deploy) -> Result<Done> {
    let p = call.project(&i.project).await?;
    if p.archived {
        return Err(Error::field("project", format!("{} is archived", p.slug)));
    }
    if !p.environments.iter().any(|e| e.name == i.environment) {
        let known: Vec<&str> = p.environments.iter().map(|e| e.name.as_str()).collect();
        return Err(Error::field(
            "environment",
            format!("{} has no environment {:?}; it has: {}", p.slug, i.environment.as_str(), known.join(", ")),
        ));
    }
    let version = match i.version {
        Some(v) => {
            let v = v.trim().to_owned();
            if v.is_empty() || v.len() > 200 {
                return Err(Error::field("version", "must be 1-200 characters"));
            }
            Some(v)
        }
        None => None,
    };
    if i.from_environment.is_some() && (version.is_some() || i.rollback == Some(true)) {
        return Err(Error::field(
            "from_environment",
            "a promotion takes its version from that environment; leave `version` and `rollback` out",
        ));
    }
    // A rollback: the previous good version of this environment, resolved
    // and pinned now, so the approver sees exactly what it goes back to.
    if i.rollback == Some(true) {
        if version.is_some() {
            return Err(Error::field(
                "rollback",
                "a rollback picks its version; leave `version` out, or deploy that version",
            ));
        }
        let Some((current, good)) =
            super::investigate::previous_good(call.ctx.graph.as_ref(), &p.slug, &i.environment).await?
        else {
            return Err(Error::bad_input(
                None,
                format!(
                    "{} has no earlier successful deployment to {} to roll back to; deploy a version by name",
                    p.slug, i.environment
                ),
            ));
        };
        let summary =
            messages::run_summary_rollback(p.slug.as_str(), i.environment.as_str(), &good.version, &current.version);
        let mut plan =
            run_plan::deploy(call, &p, &i.environment, good.version.clone(), messages::chosen_rollback(), None).await?;
        // What going back takes out: the changes since the good version went out.
        (plan.changes, plan.more_changes) =
            run_plan::changes_between(call, &p.slug, good.started_at, current.started_at + 1).await?;
        let asked = DeployRequest { project: p.slug.clone(), environment: i.environment, version: Some(good.version) };
        let plan = Some(RunPlan::Deploy(plan));
        return request(call, RunRequest::Deploy(asked), summary, Some(p.slug), plan).await;
    }
    // No version asked: what the previous environment runs, decided now, so
    // the approver sees exactly what will be deployed.
    // Never left open: the approver sees the exact version.
    let (version, promoted, chosen, until) = match (version, i.from_environment) {
        (Some(v), _) => (v, None, messages::chosen_asked(), None),
        (None, Some(from)) => {
            if from == i.environment {
                return Err(Error::field("from_environment", "promote from another environment than the target"));
            }
            let current = call.ctx.graph.current_deployments(&p.slug).await?;
            let Some(d) = current.into_iter().find(|d| d.environment == from) else {
                return Err(Error::field(
                    "from_environment",
                    format!("{} has no successful deployment in {from} to promote; deploy a version by name", p.slug),
                ));
            };
            (d.version, Some(from.clone()), messages::chosen_promoted(from.as_str()), Some(d.started_at))
        }
        (None, None) => match promoted_version(call, &p, &i.environment).await? {
            Some((from, d)) => {
                (d.version, Some(from.clone()), messages::chosen_promoted(from.as_str()), Some(d.started_at))
            }
            None => match run_plan::newest_green_build(call, &p.slug).await? {
                Some((sha, chosen)) => (sha, None, chosen, None),
                None => {
                    return Err(Error::field(
                        "version",
                        messages::deploy_needs_version(p.slug.as_str(), i.environment.as_str()),
                    ));
                }
            },
        },
    };
    let summary = messages::run_summary_deploy(
        p.slug.as_str(),
        i.environment.as_str(),
        Some(&version),
        promoted.as_ref().map(|e| e.as_str()),
    );
    let plan = run_plan::deploy(call, &p, &i.environment, version.clone(), chosen, until).await?;
    let asked = DeployRequest { project: p.slug.clone(), environment: i.environment, version: Some(version) };
    request(call, RunRequest::Deploy(asked), summary, Some(p.slug), Some(RunPlan::Deploy(plan))).await
}

/// The environment before `target` in the project's list and its latest
/// successful deployment, if there is one.
async fn promoted_version(call: &Call<'_>, p: &Project, target: &EnvName) -> Result<Option<(EnvName, Deployment)>> {
    let Some(at) = p.environments.iter().position(|e| e.name == *target) else { return Ok(None) };
    let Some(previous) = at.checked_sub(1).map(|i| &p.environments[i].name) else { return Ok(None) };
    let current = call.ctx.graph.current_deployments(&p.slug).await?;
    Ok(current.into_iter().find(|d| d.environment == *previous).map(|d| (previous.clone(), d)))
}

pub(crate) async fn scaffold_project(call: &Call<'_>, i: ScaffoldProject) -> Result<Done> {
    let Some(template) = call.ctx.config.templates.get(&i.template) else {
        let known: Vec<&str> = call.ctx.config.templates.keys().map(|k| k.as_str()).collect();
        return Err(Error::field(
            "template",
            format!("unknown template {:?}; available: {}", i.template.as_str(), known.join(", ")),
        ));
    };
    if call.ctx.graph.get_project(&i.name).await?.is_some() {
        return Err(Error::field("name", messages::project_exists(i.name.as_str())));
    }
    let team = match i.team {
        Some(t) => {
            call.ctx
                .graph
                .get_team(&t)
                .await?
                .ok_or_else(|| Error::field("team", messages::not_found("team", t.as_str())))?;
            t
        }
        None => {
            let teams = call.ctx.graph.list_teams().await?;
            teams
                .into_iter()
                .find(|t| t.members.contains(&call.caller.user))
                .map(|t| t.slug)
                .ok_or_else(|| Error::field("team", "you are in no team; say which team will own the project"))?
        }
    };
    let summary = messages::run_summary_scaffold(i.name.as_str(), i.template.as_str(), team.as_str());
    let asked =
        ScaffoldRequest { name: i.name, template: i.template, team, project_type: template.project_type.clone() };
    request(call, RunRequest::ScaffoldProject(asked), summary, None, None).await
}

/// Approves (`reason` is `None`; `confirmed` says the approver confirmed a
/// production deploy) or denies a pending run.
pub(crate) async fn decide(
    call: &Call<'_>,
    kind: OpKind,
    id: RunId,
    reason: Option<Option<String>>,
    confirmed: bool,
) -> Result<Done> {
    let mut run = call.ctx.graph.get_run(&id).await?.ok_or_else(|| Error::not_found("run", id))?;
    policy::authorize_decision(call.caller, kind, &run, &call.ctx.config.policy)?;
    match run.status_at(call.now) {
        RunStatus::Pending => {}
        RunStatus::Expired => {
            let mut events = Vec::new();
            if run.status == RunStatus::Pending {
                run.status = RunStatus::Expired;
                call.ctx.graph.put_run(&run).await?;
                let mut e = call.event(EventData::RunExpired(payload::RunExpired { run: run.id }));
                e.project = run.project.clone();
                events.push(e);
            }
            // Record the expiry even though the decision fails, then refuse.
            call.ctx.record(&events).await?;
            return Err(Error::conflict(messages::run_expired(&id.to_string())));
        }
        other => {
            return Err(Error::conflict(messages::run_not_pending(&id.to_string(), other.as_str())));
        }
    }
    let reason = match reason.flatten() {
        Some(r) if r.chars().count() > 500 => {
            return Err(Error::field("reason", "must be at most 500 characters"));
        }
        Some(r) if !r.trim().is_empty() => Some(r.trim().to_owned()),
        _ => None,
    };
    if kind == OpKind::DenyRun {
        run.approvals.push(Approval {
            by: call.caller.user.clone(),
            decision: Decision::Deny,
            reason: reason.clone(),
            at: call.now,
            freeze_override: None,
        });
        run.status = RunStatus::Denied;
        call.ctx.graph.put_run(&run).await?;
        let decided = payload::RunDecided { run: run.id, operation: run.operation, reason };
        let mut e = call.event(EventData::RunDenied(decided));
        e.project = run.project.clone();
        return Ok(Done { output: Output::Run(Box::new(run)), events: vec![e] });
    }
    // An approval: the rules that match the run say how many, and from whom.
    let (need, overrides) = may_approve(call.ctx, call.caller, &run, call.now).await?;
    if let Some(RunPlan::Deploy(d)) = &run.plan
        && d.confirm
        && !confirmed
    {
        return Err(Error::field(
            "confirm",
            messages::confirm_needed(&run.summary, d.environment.as_str(), &id.to_string()),
        ));
    }
    let team = need.team.as_ref().map(|(t, _)| t.clone());
    run.needs = needs(&need);
    run.approvals.push(Approval {
        by: call.caller.user.clone(),
        decision: Decision::Approve,
        reason,
        at: call.now,
        freeze_override: overrides.map(|f| f.name.clone()),
    });
    let given = policy::approvals(&run);
    let mut blocked = None;
    let data = if given >= need.approvals as usize {
        run.status = RunStatus::Approved;
        // Nobody runs this kind of run: it waits, saying why, until someone does.
        if !call.ctx.executor_alive(run.operation, call.now).await? {
            run.status = RunStatus::Blocked;
            let reason = messages::run_blocked(run.operation.name());
            blocked =
                Some(EventData::RunBlocked(payload::RunBlocked { run: run.id, operation: run.operation, reason }));
        }
        EventData::RunApproved(payload::RunDecided { run: run.id, operation: run.operation, reason: None })
    } else {
        EventData::RunApprovalAdded(payload::RunApprovalAdded {
            run: run.id,
            operation: run.operation,
            approvals: given as u32,
            needed: need.approvals,
            team,
        })
    };
    call.ctx.graph.put_run(&run).await?;
    let events = [Some(data), blocked]
        .into_iter()
        .flatten()
        .map(|d| {
            let mut e = call.event(d);
            e.project = run.project.clone();
            e
        })
        .collect();
    Ok(Done { output: Output::Run(Box::new(run)), events })
}

/// Whether `caller` may add an approval to `run` at `now`: the rules that
/// match it (how many, from whom) and the freeze an approval would
/// override, or the error saying why not.
async fn may_approve<'a>(
    ctx: &'a super::Context,
    caller: &Caller,
    run: &Run,
    now: Millis,
) -> Result<(policy::Requirement, Option<&'a crate::config::Freeze>)> {
    let policy = &ctx.config.policy;
    policy::authorize_decision(caller, OpKind::ApproveRun, run, policy)?;
    let facts = run_facts(ctx, run).await?;
    let need = policy::requirement(&facts, policy);
    let in_team = match &need.team {
        Some((team, _)) => ctx.graph.get_team(team).await?.is_some_and(|t| t.members.contains(&caller.user)),
        None => true,
    };
    let overrides = policy::authorize_approval(caller, &facts, &need, in_team, now, policy)?;
    if run.approvals.iter().any(|a| a.by == caller.user && a.decision == Decision::Approve) {
        let team = need.team.as_ref().map(|(t, _)| t.as_str());
        let waiting = messages::approval_waiting(policy::approvals(run), need.approvals, team);
        return Err(Error::conflict(messages::already_approved(&run.id.to_string(), &waiting)));
    }
    Ok((need, overrides))
}

impl crate::Service {
    /// Why `caller` may not approve `run` now (their role, their own
    /// request, the owning team, a freeze, an approval already given), or
    /// `None` when they may: pages show it instead of buttons that would fail.
    pub async fn why_not_approve(&self, caller: &Caller, run: &Run) -> Result<Option<String>> {
        match may_approve(&self.ctx, caller, run, self.now()).await {
            Ok(_) => Ok(None),
            Err(e @ (Error::Denied { .. } | Error::Conflict { .. })) => Ok(Some(e.to_string())),
            Err(e) => Err(e),
        }
    }
}

/// What a run shows of its requirement: nothing for the default (one
/// approval from anyone with the approver role).
fn needs(need: &policy::Requirement) -> Option<ApprovalNeeds> {
    let team = need.team.as_ref().map(|(t, _)| t.clone());
    (need.approvals > 1 || team.is_some()).then_some(ApprovalNeeds { approvals: need.approvals, team })
}

/// What the approval rules and freezes match `run` on.
async fn run_facts(ctx: &super::Context, run: &Run) -> Result<policy::RunFacts> {
    let owner = |slug: ProjectSlug| async move { Ok::<_, Error>(ctx.graph.get_project(&slug).await?.map(|p| p.team)) };
    let (environment, team) = match run
        .request()
        .map_err(|e| Error::internal("a stored run's arguments do not read", format!("run {}: {e}", run.id)))?
    {
        RunRequest::Deploy(d) => (Some(d.environment), owner(d.project).await?),
        RunRequest::UpgradeDependency(u) => match u.project {
            Some(p) => (None, owner(p).await?),
            None => (None, None),
        },
        RunRequest::ScaffoldProject(s) => (None, Some(s.team)),
    };
    Ok(policy::RunFacts { operation: run.operation, environment, team })
}

/// Cancels a run that has not finished; the engine stops before its next step.
pub(crate) async fn cancel(call: &Call<'_>, i: CancelRun) -> Result<Done> {
    let mut run = call.ctx.graph.get_run(&i.run).await?.ok_or_else(|| Error::not_found("run", i.run))?;
    policy::authorize_cancel(call.caller, &run)?;
    let reason = match i.reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()) {
        Some(r) if r.chars().count() > 500 => return Err(Error::field("reason", "must be at most 500 characters")),
        other => other,
    };
    match run.status_at(call.now) {
        RunStatus::Pending | RunStatus::Approved | RunStatus::Blocked | RunStatus::Running => {}
        other => return Err(Error::conflict(messages::run_not_cancellable(&i.run.to_string(), other.as_str()))),
    }
    run.status = RunStatus::Cancelled;
    call.ctx.graph.put_run(&run).await?;
    let cancelled = payload::RunDecided { run: run.id, operation: run.operation, reason };
    let mut e = call.event(EventData::RunCancelled(cancelled));
    e.project = run.project.clone();
    Ok(Done { output: Output::Run(Box::new(run)), events: vec![e] })
}

/// The store's ticket kind of run executors: one per operation, renewed by
/// every engine that runs it.
const EXECUTOR: &str = "executor";
/// How long an executor's word lasts; engines renew it well before.
pub const EXECUTOR_TTL_MS: Millis = 90_000;

impl super::Context {
    /// Whether some process (serve or a worker) runs `operation`'s runs now.
    async fn executor_alive(&self, operation: OpKind, now: Millis) -> Result<bool> {
        Ok(self.graph.get_ticket(EXECUTOR, operation.name(), now).await?.is_some())
    }
}

impl crate::service::Service {
    /// Says that `worker` runs `operations`' runs, for the next
    /// [`EXECUTOR_TTL_MS`]: approvals of them are not blocked meanwhile.
    pub async fn announce_executor(&self, worker: &str, operations: &[OpKind]) -> Result<()> {
        let until = self.now() + EXECUTOR_TTL_MS;
        for op in operations {
            let value = serde_json::Value::String(worker.to_owned());
            self.ctx.graph.put_ticket(EXECUTOR, op.name(), &value, until).await?;
        }
        Ok(())
    }

    /// The freeze keeping approved `run` from starting now, and when it
    /// ends; `None` when none applies or an approval overrode it.
    pub async fn freeze_holding(&self, run: &Run) -> Result<Option<(String, Millis)>> {
        if self.ctx.config.policy.freezes.is_empty() || run.approvals.iter().any(|a| a.freeze_override.is_some()) {
            return Ok(None);
        }
        let facts = run_facts(&self.ctx, run).await?;
        let now = self.now();
        let frozen = policy::freeze_at(&facts, now, &self.ctx.config.policy);
        Ok(frozen.map(|f| (f.name.clone(), f.ends_after(now).unwrap_or(now))))
    }

    /// Marks pending runs past their expiry as expired, each with a
    /// `run_expired` event (by `system`, so chat requests read as expired);
    /// returns how many.
    pub async fn expire_runs(&self) -> Result<usize> {
        let now = self.now();
        let mut n = 0;
        for mut run in self.ctx.graph.list_runs(Some(RunStatus::Pending), 10_000).await? {
            if run.status_at(now) != RunStatus::Expired {
                continue;
            }
            run.status = RunStatus::Expired;
            self.ctx.graph.put_run(&run).await?;
            let expired = EventData::RunExpired(payload::RunExpired { run: run.id });
            let mut e = crate::event::Event::of(&expired, now, "system", "scheduler");
            e.project = run.project.clone();
            self.ctx.record(&[e]).await?;
            n += 1;
        }
        Ok(n)
    }

    /// The run engine's one way to move a run it holds: saves `run` (its
    /// status, its steps; due again at `retry_at`) if `worker` still holds
    /// its lease and nobody cancelled it, then records `progress` as the
    /// transition's one event. False when the save did not land (the lease
    /// lost, or the run cancelled): nothing is recorded then.
    pub async fn advance_run(
        &self,
        queue: &dyn crate::queue::RunQueue,
        worker: &str,
        run: &Run,
        retry_at: Option<Millis>,
        progress: crate::event::payload::Progress,
    ) -> Result<bool> {
        if !queue.save_leased(run, worker, retry_at).await? {
            return Ok(false);
        }
        if let Err(e) = self.record_run_progress(run, progress).await {
            // The run moved; its event is what is missing. Said loudly, not hidden.
            tracing::error!(error = %e, run = %run.id, "a run moved but its event could not be recorded");
        }
        Ok(true)
    }

    /// Records what the run engine did with `run` (started, a step, the
    /// outcome): one event by `switchboard` from the `engine`, about the
    /// run's project, appended and published.
    pub async fn record_run_progress(
        &self,
        run: &crate::model::Run,
        progress: crate::event::payload::Progress,
    ) -> Result<()> {
        let engine = policy::engine_caller();
        let data = progress.data(run.id, run.operation);
        let mut e = crate::event::Event::of(&data, self.now(), engine.user.as_str(), &engine.source);
        e.project = run.project.clone();
        self.ctx.record(&[e]).await
    }
}
