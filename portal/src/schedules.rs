//! Scheduled workflows in the portal: every `[[schedules]]` entry with its
//! cron, what it requests and when it fires next; a Run now button (the run
//! is requested as the person who pressed it, so their role decides, and it
//! still waits for an approver); and each schedule's history of firings
//! with the runs they requested.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use switchboard_core::Caller;
use switchboard_core::time::format_ms;

use crate::error::PageError;
use crate::views::banner;
use crate::{PageCaller, PortalState};

pub(crate) fn routes() -> Router<PortalState> {
    Router::new()
        .route("/schedules", get(list))
        .route("/schedules/{name}", get(history))
        .route("/schedules/{name}/run", post(run_now))
}

pub(crate) struct ScheduleRow {
    pub name: String,
    pub cron: String,
    pub operation: String,
    pub arguments: String,
    pub description: String,
    pub next: String,
    pub last: String,
    /// Why the caller may not Run now (no button then); empty when they may.
    pub run_denied: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "schedules.html")]
struct ListPage {
    banner: Option<String>,
    csrf: String,
    schedules: Vec<ScheduleRow>,
}

pub(crate) struct FiringRow {
    pub at: String,
    pub how: String,
    pub run: String,
    pub summary: String,
    pub status: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "schedule.html")]
struct HistoryPage {
    banner: Option<String>,
    csrf: String,
    schedule: ScheduleRow,
    firings: Vec<FiringRow>,
}

async fn row(
    state: &PortalState,
    caller: &Caller,
    s: &switchboard_core::schedule::ScheduleConfig,
) -> Result<ScheduleRow, PageError> {
    let now = state.service.now();
    let next = s.check().ok().and_then(|c| c.next_after(now)).map(format_ms).unwrap_or_else(|| "never".into());
    let last = state.service.schedule_history(&s.name, 1).await.map_err(PageError)?;
    Ok(ScheduleRow {
        name: s.name.clone(),
        cron: s.cron.clone(),
        operation: s.operation.clone(),
        arguments: s.arguments.to_string(),
        description: s.description.clone(),
        next,
        last: last.first().map(|f| format_ms(f.at)).unwrap_or_else(|| "never".into()),
        // The config names only operations that exist (checked at start).
        run_denied: switchboard_core::ops::OpKind::from_name(&s.operation)
            .map(|kind| state.why_not(caller, kind))
            .unwrap_or_default(),
    })
}

async fn list(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (csrf, set_cookie) = crate::csrf::token(&headers, state.secure_cookies());
    let mut schedules = Vec::new();
    for s in &state.service.config().schedules {
        schedules.push(row(&state, &caller, s).await?);
    }
    let page = ListPage { banner: banner(&state.mode, &caller), csrf, schedules };
    Ok(crate::with_cookie(page.into_response(), set_cookie))
}

async fn history(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Response, PageError> {
    let (csrf, set_cookie) = crate::csrf::token(&headers, state.secure_cookies());
    let s = state.service.schedule(&name).map_err(PageError)?.clone();
    let mut firings = Vec::new();
    for f in state.service.schedule_history(&name, 200).await.map_err(PageError)? {
        let run = match f.run.parse() {
            Ok(id) => state.service.graph().get_run(&id).await.map_err(|e| PageError(e.into()))?,
            Err(_) => None,
        };
        let now = state.service.now();
        firings.push(FiringRow {
            at: format_ms(f.at),
            how: match (&f.by, f.slot) {
                (Some(by), _) => format!("by hand, by {by}"),
                (None, Some(slot)) => format!("on its {} slot", format_ms(slot)),
                (None, None) => "on its schedule".into(),
            },
            run: f.run.clone(),
            summary: run.as_ref().map(|r| r.summary.clone()).unwrap_or_else(|| "(run not found)".into()),
            status: run.as_ref().map(|r| r.status_at(now).as_str()).unwrap_or("unknown"),
        });
    }
    let page =
        HistoryPage { banner: banner(&state.mode, &caller), csrf, schedule: row(&state, &caller, &s).await?, firings };
    Ok(crate::with_cookie(page.into_response(), set_cookie))
}

#[derive(Deserialize)]
struct RunForm {
    csrf: Option<String>,
}

/// Run now: the schedule's automation, requested as the person (CSRF-checked).
async fn run_now(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
    Path(name): Path<String>,
    axum::Form(form): axum::Form<RunForm>,
) -> Result<Response, PageError> {
    crate::csrf::require(&headers, form.csrf.as_deref())?;
    let run = state.service.fire_schedule(&name, &caller, None).await.map_err(PageError)?;
    tracing::info!(schedule = %name, run = %run.id, by = %caller.user, "schedule run by hand");
    Ok(Redirect::to(&format!("/runs/{}", run.id)).into_response())
}
