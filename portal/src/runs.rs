//! The runs pages: the list, and a run with exactly what it will do (a
//! deploy's version now → the version to deploy and the changes between;
//! an upgrade's projects and repositories), its decisions, steps and
//! campaign. Approve asks for a confirmation where the policy does, Deny
//! asks why, and people who may not decide read why instead of buttons.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use switchboard_core::Error;
use switchboard_core::ids::RunId;
use switchboard_core::model::RunPlan;
use switchboard_core::ops::inputs::{ApproveRun, CancelRun, DenyRun, GetRun};
use switchboard_core::ops::output::*;

use crate::error::PageError;
use crate::pages::{op, path, unexpected};
use crate::views::*;
use crate::{PageCaller, PortalState};

pub(crate) fn routes() -> Router<PortalState> {
    Router::new().route("/runs", get(runs)).route("/runs/{id}", get(run)).route("/runs/{id}/decide", post(decide))
}

#[derive(Deserialize)]
struct RunFilter {
    status: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "runs.html")]
struct RunsPage {
    banner: Option<String>,
    csrf: String,
    status: String,
    statuses: Vec<&'static str>,
    runs: Vec<RunRow>,
}

async fn runs(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
    Query(f): Query<RunFilter>,
) -> Result<Response, PageError> {
    let (csrf, set_cookie) = crate::csrf::token(&headers, state.secure_cookies());
    let status = f.status.filter(|s| !s.is_empty());
    let args = match &status {
        Some(s) => json!({"status": s, "limit": 200}),
        None => json!({"limit": 200}),
    };
    let Output::Runs(list) = op(&state, &caller, "list_runs", args).await? else {
        return Err(unexpected("list_runs"));
    };
    let page = RunsPage {
        banner: banner(&state.mode, &caller),
        csrf,
        status: status.unwrap_or_default(),
        statuses: switchboard_core::model::RunStatus::ALL.iter().map(|s| s.as_str()).collect(),
        runs: list.runs.iter().map(RunRow::from).collect(),
    };
    Ok(crate::with_cookie(page.into_response(), set_cookie))
}

#[derive(Template, WebTemplate)]
#[template(path = "run.html")]
struct RunPage {
    banner: Option<String>,
    csrf: String,
    run: RunRow,
    /// What it will do, when the run was requested with a plan.
    plan: Option<PlanView>,
    /// Why the person reading may not approve it, while it is pending.
    why_not: Option<String>,
    arguments: String,
    steps: Vec<(String, String, String)>,
    /// An upgrade campaign's counts line and rows (repository, project, state, pull request, its link, reason).
    campaign: Option<(String, Vec<CampaignRow>)>,
}

struct CampaignRow {
    repository: String,
    project: String,
    state: &'static str,
    /// The state as a CSS class (`checks-failing`).
    class: String,
    pull: String,
    url: String,
    reason: String,
}

async fn run(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (csrf, set_cookie) = crate::csrf::token(&headers, state.secure_cookies());
    let r = state.service.call(&caller, GetRun { run: path("run", &id)? }).await?;
    let campaign = if r.operation == switchboard_core::ops::OpKind::UpgradeDependency {
        let summary = state.service.campaign_summary(&r.id).await.map_err(PageError)?;
        let rows = summary
            .items
            .iter()
            .map(|i| CampaignRow {
                repository: i.repository.clone(),
                project: i.project.as_ref().map(|p| p.to_string()).unwrap_or_default(),
                state: i.state.as_str(),
                class: i.state.as_str().replace(' ', "-"),
                pull: i.number.map(|n| format!("#{n}")).unwrap_or_default(),
                url: i.url.clone().unwrap_or_default(),
                reason: i.reason.clone().unwrap_or_default(),
            })
            .collect();
        Some((summary.counts_line(), rows))
    } else {
        None
    };
    let why_not = match r.status_at(state.service.now()) {
        switchboard_core::model::RunStatus::Pending => state.service.why_not_approve(&caller, &r).await?,
        _ => None,
    };
    let page = RunPage {
        plan: r.plan.as_ref().map(PlanView::from),
        why_not,
        campaign,
        banner: banner(&state.mode, &caller),
        csrf,
        run: RunRow::from(r.as_ref()),
        arguments: serde_json::to_string_pretty(&r.arguments).unwrap_or_default(),
        steps: r
            .steps
            .iter()
            .map(|s| (s.name.clone(), s.status.as_str().to_owned(), s.detail.clone().unwrap_or_default()))
            .collect(),
    };
    Ok(crate::with_cookie(page.into_response(), set_cookie))
}

#[derive(Deserialize)]
struct DecisionForm {
    csrf: Option<String>,
    decision: String,
    reason: Option<String>,
    /// The checkbox confirming a production deploy.
    confirm: Option<String>,
}

/// Approve, deny or cancel from the runs pages; core's policy decides.
async fn decide(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<DecisionForm>,
) -> Result<Response, PageError> {
    crate::csrf::require(&headers, form.csrf.as_deref())?;
    let run: RunId = path("run", &id)?;
    let reason = form.reason.filter(|r| !r.trim().is_empty());
    match form.decision.as_str() {
        "approve" => state.service.call(&caller, ApproveRun { run, confirm: Some(form.confirm.is_some()) }).await?,
        "deny" => state.service.call(&caller, DenyRun { run, reason }).await?,
        "cancel" => state.service.call(&caller, CancelRun { run, reason }).await?,
        other => {
            return Err(PageError(Error::field("decision", format!("{other:?} is not approve, deny or cancel"))));
        }
    };
    Ok(axum::response::Redirect::to(&format!("/runs/{id}")).into_response())
}

/// A run's plan as the page shows it.
struct PlanView {
    /// `deploy` or `upgrade`.
    kind: &'static str,
    environment: String,
    from: String,
    to: String,
    chosen: String,
    confirm: bool,
    /// The version to deploy is older than what runs there.
    older: bool,
    /// Number, title, author, link.
    changes: Vec<(String, String, String, String)>,
    more_changes: u64,
    package: String,
    /// Project, repository (empty: none), version from, version to.
    targets: Vec<(String, String, String, String)>,
    more_targets: u64,
    /// Projects on the new version already.
    already: u64,
}

impl From<&RunPlan> for PlanView {
    fn from(plan: &RunPlan) -> Self {
        let empty = Self {
            kind: "deploy",
            environment: String::new(),
            from: String::new(),
            to: String::new(),
            chosen: String::new(),
            confirm: false,
            older: false,
            changes: Vec::new(),
            more_changes: 0,
            package: String::new(),
            targets: Vec::new(),
            more_targets: 0,
            already: 0,
        };
        match plan {
            RunPlan::Deploy(d) => Self {
                environment: d.environment.to_string(),
                from: d.from.clone().unwrap_or_default(),
                to: d.to.clone(),
                chosen: d.chosen.clone(),
                confirm: d.confirm,
                older: d.older,
                changes: d
                    .changes
                    .iter()
                    .map(|c| {
                        (
                            c.number.map(|n| format!("#{n}")).unwrap_or_default(),
                            c.title.clone(),
                            c.author.clone().unwrap_or_default(),
                            c.url.clone().unwrap_or_default(),
                        )
                    })
                    .collect(),
                more_changes: d.more_changes,
                ..empty
            },
            RunPlan::Upgrade(u) => Self {
                kind: "upgrade",
                package: u.package.to_string(),
                to: u.to.to_string(),
                targets: u
                    .targets
                    .iter()
                    .map(|t| {
                        (
                            t.project.to_string(),
                            t.repository.clone().unwrap_or_default(),
                            t.from.to_string(),
                            u.to.to_string(),
                        )
                    })
                    .collect(),
                more_targets: u.more,
                already: u.already,
                ..empty
            },
        }
    }
}
