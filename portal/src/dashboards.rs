//! Dashboards fed by what webhooks record: deployments (projects ×
//! environments, and the latest deployments with their status) and
//! incidents.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;
use switchboard_core::Error;
use switchboard_core::ops::output::Output;
use switchboard_core::store::ProjectQuery;
use switchboard_core::time::{format_duration, format_ms};

use crate::error::PageError;
use crate::pages::{op, unexpected};
use crate::views::{DeploymentRow, IncidentRow, banner};
use crate::{PageCaller, PortalState};

/// Projects shown in the matrix at most.
const MATRIX_ROWS: usize = 100;

pub(crate) fn routes() -> Router<PortalState> {
    Router::new()
        .route("/deployments", get(deployments))
        .route("/deployments/deploy", axum::routing::post(deploy))
        .route("/incidents", get(incidents))
        .route("/dora", get(dora))
        .route("/ci", get(ci))
}

pub(crate) struct Cell {
    pub version: String,
    pub when: String,
    pub actor: String,
    /// The environment before this one, when it runs another version (drift).
    pub drift: Option<String>,
    /// The version whose deployment here failed after the current one.
    pub failed: Option<String>,
}

pub(crate) struct MatrixRow {
    pub project: String,
    pub cells: Vec<Option<Cell>>,
}

pub(crate) struct RecentRow {
    pub project: String,
    pub d: DeploymentRow,
}

#[derive(Template, WebTemplate)]
#[template(path = "deployments.html")]
struct DeploymentsPage {
    banner: Option<String>,
    csrf: String,
    team: String,
    environments: Vec<String>,
    rows: Vec<MatrixRow>,
    recent: Vec<RecentRow>,
    /// 1-based; the matrix shows `MATRIX_ROWS` projects a page.
    page: usize,
    pages: usize,
    total: u64,
    first: usize,
    /// Why the caller may not Promote or Roll back (no buttons then); empty when they may.
    deploy_denied: String,
}

#[derive(Deserialize)]
struct TeamFilter {
    team: Option<String>,
    status: Option<String>,
    /// The deployments matrix's page, 1-based.
    page: Option<String>,
}

async fn deployments(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: axum::http::HeaderMap,
    Query(f): Query<TeamFilter>,
) -> Result<axum::response::Response, PageError> {
    use axum::response::IntoResponse;
    let (csrf, set_cookie) = crate::csrf::token(&headers, state.secure_cookies());
    let team = f.team.filter(|t| !t.is_empty());
    let team_slug = match &team {
        Some(t) => Some(
            t.parse().map_err(|e: switchboard_core::ids::IdError| PageError(Error::field("team", e.to_string())))?,
        ),
        None => None,
    };
    let page = match f.page.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => 1,
        Some(p) => p
            .parse::<usize>()
            .ok()
            .filter(|p| (1..=1_000_000).contains(p))
            .ok_or_else(|| PageError(Error::field("page", format!("{p:?} is not a page number (1, 2, …)"))))?,
    };
    let environments = state.service.config().environments.clone();
    let graph = state.service.graph();
    let filter =
        ProjectQuery { team: team_slug, limit: MATRIX_ROWS, offset: (page - 1) * MATRIX_ROWS, ..Default::default() };
    let (projects, total) = tokio::try_join!(graph.find_projects(&filter), graph.count_projects(&filter))?;
    let mut rows = Vec::new();
    let since = state.service.now() - 30 * switchboard_core::model::DAY_MS;
    for p in &projects {
        let current = graph.current_deployments(&p.slug).await?;
        // The newest deployment per environment, whatever its status: a failure after the current one shows.
        let q = switchboard_core::store::DeploymentQuery {
            project: Some(p.slug.clone()),
            since: Some(since),
            limit: 500,
            ..Default::default()
        };
        let mut recent = graph.list_deployments(&q).await?;
        recent.sort_by_key(|d| std::cmp::Reverse(d.started_at));
        let mut cells: Vec<Option<Cell>> = Vec::new();
        for (i, e) in environments.iter().enumerate() {
            let failed = recent
                .iter()
                .find(|d| &d.environment == e)
                .filter(|d| d.status == switchboard_core::model::DeploymentStatus::Failed)
                .map(|d| d.version.clone());
            let before = i.checked_sub(1).and_then(|j| current.iter().find(|d| d.environment == environments[j]));
            cells.push(current.iter().find(|d| &d.environment == e).map(|d| Cell {
                version: d.version.clone(),
                when: format_ms(d.finished_at.unwrap_or(d.started_at)),
                actor: d.actor.clone().unwrap_or_default(),
                drift: before.filter(|b| b.version != d.version).map(|b| b.environment.to_string()),
                failed,
            }));
        }
        rows.push(MatrixRow { project: p.slug.to_string(), cells });
    }
    let latest = switchboard_core::ops::inputs::ListDeployments { limit: Some(50), ..Default::default() };
    let list = state.service.call(&caller, latest).await?;
    let recent = list
        .deployments
        .iter()
        .filter(|d| team.is_none() || rows.iter().any(|r| r.project == d.project.as_str()))
        .map(|d| RecentRow { project: d.project.to_string(), d: DeploymentRow::from(d) })
        .collect();
    let page = DeploymentsPage {
        deploy_denied: state.why_not(&caller, switchboard_core::ops::OpKind::Deploy),
        banner: banner(&state.mode, &caller),
        csrf,
        team: team.unwrap_or_default(),
        environments: environments.iter().map(|e| e.to_string()).collect(),
        rows,
        recent,
        page,
        pages: (total as usize).div_ceil(MATRIX_ROWS).max(1),
        total,
        first: (page - 1) * MATRIX_ROWS + 1,
    };
    Ok(crate::with_cookie(page.into_response(), set_cookie))
}

#[derive(Deserialize)]
struct DeployForm {
    csrf: Option<String>,
    project: String,
    environment: String,
    /// `promote` (from `from`) or `rollback`.
    action: String,
    from: Option<String>,
}

/// Promote or roll back from the matrix: a deploy request, resolved and
/// pinned as chat's are, approved like every deploy; its run page next.
async fn deploy(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: axum::http::HeaderMap,
    axum::Form(form): axum::Form<DeployForm>,
) -> Result<axum::response::Response, PageError> {
    use axum::response::IntoResponse;
    crate::csrf::require(&headers, form.csrf.as_deref())?;
    let args = match (form.action.as_str(), form.from) {
        ("promote", Some(from)) => {
            json!({"project": form.project, "environment": form.environment, "from_environment": from})
        }
        ("rollback", _) => json!({"project": form.project, "environment": form.environment, "rollback": true}),
        (other, _) => {
            return Err(PageError(Error::field("action", format!("{other:?} is not promote (with from) or rollback"))));
        }
    };
    let run = state.service.execute_json(&caller, "deploy", args).await?.to_json();
    let id = run["id"].as_str().unwrap_or_default();
    Ok(axum::response::Redirect::to(&format!("/runs/{id}")).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "incidents.html")]
struct IncidentsPage {
    banner: Option<String>,
    team: String,
    status: String,
    incidents: Vec<IncidentRow>,
    charts: Vec<crate::charts::Chart>,
}

async fn incidents(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    Query(f): Query<TeamFilter>,
) -> Result<IncidentsPage, PageError> {
    let team = f.team.filter(|t| !t.is_empty());
    // Open ones first of all: what needs someone now. `all` shows every status.
    let status = f.status.filter(|s| !s.trim().is_empty()).unwrap_or_else(|| "open".into());
    let mut args = json!({"limit": 200});
    if let Some(t) = &team {
        args["team"] = json!(t);
    }
    if status != "all" {
        args["status"] = json!(status);
    }
    let Output::Incidents(list) = op(&state, &caller, "list_incidents", args).await? else {
        return Err(unexpected("list_incidents"));
    };
    // The team was checked by list_incidents.
    let team_slug = team.as_deref().and_then(|t| t.parse().ok());
    let charts = crate::trends::incidents(&state, &caller, team_slug, state.service.now()).await?;
    Ok(IncidentsPage {
        banner: banner(&state.mode, &caller),
        team: team.unwrap_or_default(),
        status,
        incidents: list.incidents.iter().map(IncidentRow::from).collect(),
        charts,
    })
}

/// The DORA table: each metric with its band, or why it has no value.
fn dora_rows(d: &switchboard_core::ops::output::DoraReport) -> Vec<(&'static str, String, &'static str)> {
    let env = d.environment.as_str();
    let frequency = if d.deployments == 0 {
        (format!("— no deployment to {env} in the window"), "")
    } else {
        let f = format!("{:.2} a day ({} deployments)", d.deployments_per_day, d.deployments);
        (f, band("frequency", d.deployments_per_day))
    };
    let lead = match d.lead_time_p50_ms {
        Some(ms) => (format_duration(ms), band("lead_time", ms as f64)),
        None if d.deployments == 0 => ("— nothing was deployed".to_owned(), ""),
        None => (
            "— no deployed commit has a recorded CI build (workflow_run webhooks or record_build add them)".to_owned(),
            "",
        ),
    };
    let failure = if d.deployments == 0 {
        ("— no finished deployment".to_owned(), "")
    } else {
        (format!("{:.0}%", d.change_failure_rate * 100.0), band("failure", d.change_failure_rate))
    };
    let restore = match d.time_to_restore_p50_ms {
        Some(ms) => (format_duration(ms), band("restore", ms as f64)),
        None => ("— no incident was resolved in the window".to_owned(), ""),
    };
    vec![
        ("Deployment frequency", frequency.0, frequency.1),
        ("Lead time for changes (p50)", lead.0, lead.1),
        ("Change failure rate", failure.0, failure.1),
        ("Time to restore (p50)", restore.0, restore.1),
    ]
}

fn duration(ms: Option<i64>) -> String {
    ms.map(format_duration).unwrap_or_else(|| "—".into())
}

#[derive(Deserialize)]
struct Scope {
    project: Option<String>,
    team: Option<String>,
    since: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "dora.html")]
struct DoraPage {
    banner: Option<String>,
    project: String,
    team: String,
    since: String,
    scope: String,
    environment: String,
    /// Metric, value (or why there is none), performance band.
    metrics: Vec<(&'static str, String, &'static str)>,
    /// Each metric period by period, where there is something to draw.
    charts: Vec<crate::charts::Chart>,
}

const HOUR_MS: f64 = 3_600_000.0;
const DAY_MS: f64 = 24.0 * HOUR_MS;

/// DORA's performance band for each metric, as the 2021 State of DevOps
/// report draws them: elite, high, medium, low.
fn band(metric: &str, value: f64) -> &'static str {
    let bands: [f64; 3] = match metric {
        // Deployments a day: daily, weekly, monthly (higher is better).
        "frequency" => {
            return if value >= 1.0 {
                "elite"
            } else if value >= 1.0 / 7.0 {
                "high"
            } else if value >= 1.0 / 30.0 {
                "medium"
            } else {
                "low"
            };
        }
        "lead_time" => [DAY_MS, 7.0 * DAY_MS, 180.0 * DAY_MS],
        "restore" => [HOUR_MS, DAY_MS, 7.0 * DAY_MS],
        // Change failure rate: 0-15 % elite, up to 30 % high and medium.
        _ => [0.15, 0.30, 0.30],
    };
    if value <= bands[0] {
        "elite"
    } else if value <= bands[1] {
        "high"
    } else if value <= bands[2] {
        "medium"
    } else {
        "low"
    }
}

/// DORA metrics for a project, a team or everything (`?project=`, `?team=`, `?since=30d`).
async fn dora(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    Query(f): Query<Scope>,
) -> Result<DoraPage, PageError> {
    let (project, team, since) =
        (f.project.filter(|s| !s.is_empty()), f.team.filter(|s| !s.is_empty()), f.since.filter(|s| !s.is_empty()));
    let mut args = json!({});
    for (k, v) in [("project", &project), ("team", &team), ("since", &since)] {
        if let Some(v) = v {
            args[k] = json!(v);
        }
    }
    let Output::Dora(d) = op(&state, &caller, "dora", args).await? else {
        return Err(unexpected("dora"));
    };
    Ok(DoraPage {
        banner: banner(&state.mode, &caller),
        project: project.unwrap_or_default(),
        team: team.unwrap_or_default(),
        since: since.unwrap_or_default(),
        scope: d.scope.clone(),
        environment: d.environment.to_string(),
        metrics: dora_rows(&d),
        charts: crate::trends::dora(&d),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "ci.html")]
struct CiPage {
    banner: Option<String>,
    project: String,
    /// Failure rate and median duration period by period.
    charts: Vec<crate::charts::Chart>,
    metrics: Vec<(&'static str, String)>,
    flaky: Vec<(String, String, String)>,
    slow: Vec<(String, String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "ci_index.html")]
struct CiIndex {
    banner: Option<String>,
    projects: Vec<switchboard_core::model::ProjectSummary>,
}

/// CI health of one project (`?project=`); without one, the projects to pick from.
async fn ci(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    Query(f): Query<Scope>,
) -> Result<axum::response::Response, PageError> {
    use axum::response::IntoResponse;
    let Some(project) = f.project.filter(|s| !s.is_empty()) else {
        let Output::Projects(list) = op(&state, &caller, "find_projects", json!({"limit": 500})).await? else {
            return Err(unexpected("find_projects"));
        };
        return Ok(CiIndex { banner: banner(&state.mode, &caller), projects: list.projects }.into_response());
    };
    let mut args = json!({"project": project});
    if let Some(s) = f.since.filter(|s| !s.is_empty()) {
        args["since"] = json!(s);
    }
    let Output::CiHealth(h) = op(&state, &caller, "ci_health", args).await? else {
        return Err(unexpected("ci_health"));
    };
    Ok(CiPage {
        banner: banner(&state.mode, &caller),
        charts: crate::trends::ci(&h),
        project,
        metrics: vec![
            ("Builds", format!("{} since {}", h.builds, format_ms(h.since))),
            ("Failure rate", format!("{:.0}% ({} failed)", h.failure_rate * 100.0, h.failures)),
            ("Duration p50 / p95", format!("{} / {}", duration(h.duration_p50_ms), duration(h.duration_p95_ms))),
            ("Last green build", h.last_green_at.map(format_ms).unwrap_or_else(|| "none in this window".into())),
        ],
        flaky: h.flaky.iter().map(|f| (f.sha.to_string(), format_ms(f.failed_at), format_ms(f.passed_at))).collect(),
        slow: h
            .anomalies
            .iter()
            .map(|a| (format_ms(a.started_at), duration(Some(a.duration_ms)), duration(Some(a.usual_ms))))
            .collect(),
    }
    .into_response())
}
