//! GitHub repository imports in the portal: the latest import of each
//! repository (created, updated, unchanged, skipped — each with what changed
//! or why), filtered by outcome, and an Import button that queues every
//! repository of the App's installations (admins; CSRF-checked). The page
//! shows what `list_imports` returns, with its role (editors and up).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use switchboard_core::ops::Operation;
use switchboard_core::ops::inputs::{ImportGithub, ListImports};
use switchboard_core::ops::output::Output;
use switchboard_core::time::format_ms;

use crate::error::PageError;
use crate::views::banner;
use crate::{PageCaller, PortalState};

pub(crate) fn routes() -> Router<PortalState> {
    Router::new().route("/imports", get(page)).route("/imports/github", post(import_github))
}

pub(crate) struct ImportRow {
    pub repository: String,
    pub project: String,
    pub outcome: String,
    pub at: String,
    pub summary: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "imports.html")]
struct ImportsPage {
    banner: Option<String>,
    csrf: String,
    outcome: String,
    counts: Vec<(String, u64)>,
    imports: Vec<ImportRow>,
    can_import: bool,
    has_app: bool,
}

#[derive(Deserialize)]
struct Filter {
    outcome: Option<String>,
}

async fn page(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
    Query(f): Query<Filter>,
) -> Result<Response, PageError> {
    let (csrf, set_cookie) = crate::csrf::token(&headers, state.secure_cookies());
    let outcome = f.outcome.filter(|s| !s.is_empty());
    let list = ListImports { outcome: outcome.clone(), limit: Some(500) };
    let Output::Imports(list) = state.service.execute(&caller, Operation::ListImports(list)).await? else {
        return Err(PageError(switchboard_core::Error::internal("imports page", "list_imports gave another output")));
    };
    let imports = list
        .imports
        .into_iter()
        .map(|i| ImportRow {
            repository: i.repository,
            project: i.project.unwrap_or_default(),
            outcome: i.outcome,
            at: format_ms(i.at),
            summary: i.summary,
        })
        .collect();
    let page = ImportsPage {
        banner: banner(&state.mode, &caller),
        csrf,
        outcome: outcome.unwrap_or_default(),
        counts: list.counts.into_iter().collect(),
        imports,
        can_import: caller.role
            >= switchboard_core::policy::required_role(
                switchboard_core::ops::OpKind::ImportGithub,
                &state.service.config().policy,
            ),
        has_app: state.service.config().github.configured(),
    };
    Ok(crate::with_cookie(page.into_response(), set_cookie))
}

#[derive(Deserialize)]
struct ImportForm {
    csrf: Option<String>,
}

/// Import: every repository of the App's installations is queued.
async fn import_github(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
    axum::Form(form): axum::Form<ImportForm>,
) -> Result<Response, PageError> {
    crate::csrf::require(&headers, form.csrf.as_deref())?;
    state.service.execute(&caller, Operation::ImportGithub(ImportGithub { installation: None })).await?;
    Ok(Redirect::to("/imports?queued=1").into_response())
}
