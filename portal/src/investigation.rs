//! An incident's page: the investigation (`investigate`) — the likely cause
//! in a sentence, owner and on-call, the ranked suspects with why, what the
//! logs said, the timeline — and a Roll back button for a likely suspect
//! deployment, which requests `deploy` with `rollback` (the previous good
//! version, pinned now, approved like every deploy; editors and up, CSRF-checked).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use switchboard_core::ops::output::Output;
use switchboard_core::time::{format_duration, format_ms};

use crate::error::PageError;
use crate::views::banner;
use crate::{PageCaller, PortalState};

pub(crate) fn routes() -> Router<PortalState> {
    Router::new().route("/incidents/{id}", get(page)).route("/incidents/{id}/rollback", post(rollback))
}

pub(crate) struct SuspectRow {
    pub reason: String,
    pub score: String,
}

pub(crate) struct Entry {
    pub at: String,
    pub kind: String,
    pub text: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "investigation.html")]
struct InvestigationPage {
    banner: Option<String>,
    csrf: String,
    id: String,
    title: String,
    project: String,
    status: String,
    severity: String,
    opened: String,
    summary: String,
    owner: String,
    oncall: String,
    suspects: Vec<SuspectRow>,
    /// (environment, version, from) of the rollback offered.
    rollback: Option<(String, String, String)>,
    logs: String,
    signatures: Vec<(String, u64, String)>,
    timeline: Vec<Entry>,
}

async fn page(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (csrf, set_cookie) = crate::csrf::token(&headers, state.secure_cookies());
    let out = state.service.execute_json(&caller, "investigate", json!({"incident": id})).await?;
    let Output::Investigation(r) = out else {
        return Err(PageError(switchboard_core::Error::internal("incident page", "investigate gave another output")));
    };
    let incident = r.incident.as_ref();
    let logs = match (&r.logs, &r.logs_error) {
        (_, Some(e)) => format!("The logs could not be read: {e}"),
        (Some(l), None) => format!(
            "{} lines from {} ({}) from {} on: {} errors, {} new signature(s), {} spike(s).",
            l.scanned,
            l.source,
            l.kind,
            format_ms(l.since),
            l.errors,
            l.analysis.signatures.iter().filter(|s| s.new).count(),
            l.analysis.spikes.len()
        ),
        (None, None) => String::new(),
    };
    let signatures = r
        .logs
        .iter()
        .flat_map(|l| l.analysis.signatures.iter())
        .map(|s| (if s.new { "new".to_owned() } else { "seen before".to_owned() }, s.count, s.template.clone()))
        .collect();
    let page = InvestigationPage {
        banner: banner(&state.mode, &caller),
        csrf,
        id: incident.map(|i| i.id.to_string()).unwrap_or(id),
        title: incident
            .map(|i| i.title.clone())
            .unwrap_or_else(|| format!("{} since {}", r.project, format_ms(r.start))),
        project: r.project.to_string(),
        status: incident.map(|i| i.status.as_str().to_owned()).unwrap_or_default(),
        severity: incident.and_then(|i| i.severity.clone()).unwrap_or_default(),
        opened: format!("{} ({} ago)", format_ms(r.start), format_duration(state.service.now() - r.start)),
        summary: r.summary.clone(),
        owner: r.team_name.clone().unwrap_or_else(|| r.team.to_string()),
        oncall: r.oncall.clone().unwrap_or_default(),
        suspects: r
            .suspects
            .iter()
            .map(|s| SuspectRow { reason: s.reason.clone(), score: format!("{:.2}", s.score) })
            .collect(),
        rollback: r
            .suspects
            .iter()
            .find_map(|s| s.rollback.as_ref())
            .map(|rb| (rb.environment.clone(), rb.version.clone(), rb.from.clone())),
        logs,
        signatures,
        timeline: r
            .timeline
            .iter()
            .map(|t| Entry { at: format_ms(t.at), kind: t.kind.replace('_', " "), text: t.text.clone() })
            .collect(),
    };
    Ok(crate::with_cookie(page.into_response(), set_cookie))
}

#[derive(Deserialize)]
struct RollbackForm {
    csrf: Option<String>,
    project: String,
    environment: String,
}

/// Roll back: the deploy request of the previous good version; its run page next.
async fn rollback(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
    Path(_id): Path<String>,
    axum::Form(form): axum::Form<RollbackForm>,
) -> Result<Response, PageError> {
    crate::csrf::require(&headers, form.csrf.as_deref())?;
    let args = json!({"project": form.project, "environment": form.environment, "rollback": true});
    let run = state.service.execute_json(&caller, "deploy", args).await?.to_json();
    let id = run["id"].as_str().unwrap_or_default();
    Ok(Redirect::to(&format!("/runs/{id}")).into_response())
}
