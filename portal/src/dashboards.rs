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
use switchboard_core::time::format_ms;

use crate::error::PageError;
use crate::pages::{op, unexpected};
use crate::views::{DeploymentRow, IncidentRow, banner};
use crate::{PageCaller, PortalState};

/// Projects shown in the matrix at most.
const MATRIX_ROWS: usize = 100;

pub(crate) fn routes() -> Router<PortalState> {
    Router::new().route("/deployments", get(deployments)).route("/incidents", get(incidents))
}

pub(crate) struct Cell {
    pub version: String,
    pub when: String,
    pub actor: String,
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
    team: String,
    environments: Vec<String>,
    rows: Vec<MatrixRow>,
    recent: Vec<RecentRow>,
}

#[derive(Deserialize)]
struct TeamFilter {
    team: Option<String>,
    status: Option<String>,
}

async fn deployments(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    Query(f): Query<TeamFilter>,
) -> Result<DeploymentsPage, PageError> {
    let team = f.team.filter(|t| !t.is_empty());
    let team_slug = match &team {
        Some(t) => Some(
            t.parse().map_err(|e: switchboard_core::ids::IdError| PageError(Error::field("team", e.to_string())))?,
        ),
        None => None,
    };
    let environments = state.service.config().environments.clone();
    let graph = state.service.graph();
    let projects =
        graph.find_projects(&ProjectQuery { team: team_slug, limit: MATRIX_ROWS, ..Default::default() }).await?;
    let mut rows = Vec::new();
    for p in &projects {
        let current = graph.current_deployments(&p.slug).await?;
        let cells = environments
            .iter()
            .map(|e| {
                current.iter().find(|d| &d.environment == e).map(|d| Cell {
                    version: d.version.clone(),
                    when: format_ms(d.finished_at.unwrap_or(d.started_at)),
                    actor: d.actor.clone().unwrap_or_default(),
                })
            })
            .collect();
        rows.push(MatrixRow { project: p.slug.to_string(), cells });
    }
    let Output::Deployments(list) = op(&state, &caller, "list_deployments", json!({"limit": 50})).await? else {
        return Err(unexpected("list_deployments"));
    };
    let recent = list
        .deployments
        .iter()
        .filter(|d| team.is_none() || rows.iter().any(|r| r.project == d.project.as_str()))
        .map(|d| RecentRow { project: d.project.to_string(), d: DeploymentRow::from(d) })
        .collect();
    Ok(DeploymentsPage {
        banner: banner(&state.mode, &caller),
        team: team.unwrap_or_default(),
        environments: environments.iter().map(|e| e.to_string()).collect(),
        rows,
        recent,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "incidents.html")]
struct IncidentsPage {
    banner: Option<String>,
    team: String,
    status: String,
    incidents: Vec<IncidentRow>,
}

async fn incidents(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    Query(f): Query<TeamFilter>,
) -> Result<IncidentsPage, PageError> {
    let team = f.team.filter(|t| !t.is_empty());
    let status = f.status.filter(|s| !s.is_empty());
    let mut args = json!({"limit": 200});
    if let Some(t) = &team {
        args["team"] = json!(t);
    }
    if let Some(s) = &status {
        args["status"] = json!(s);
    }
    let Output::Incidents(list) = op(&state, &caller, "list_incidents", args).await? else {
        return Err(unexpected("list_incidents"));
    };
    Ok(IncidentsPage {
        banner: banner(&state.mode, &caller),
        team: team.unwrap_or_default(),
        status: status.unwrap_or_default(),
        incidents: list.incidents.iter().map(IncidentRow::from).collect(),
    })
}
