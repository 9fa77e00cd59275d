//! The teams pages: every team, one team's members, incidents and projects;
//! and the forms that create a team and change its name and members, through
//! `create_team` and `update_team` (CSRF-checked; the policy and validation
//! decide, a refusal says why).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;
use switchboard_core::ids::TeamSlug;
use switchboard_core::ops::OpKind;
use switchboard_core::ops::inputs::{GetTeam, ListIncidents, ListTeams};

use crate::error::PageError;
use crate::pages::path;
use crate::views::*;
use crate::{PageCaller, PortalState};

pub(crate) fn routes() -> Router<PortalState> {
    Router::new().route("/teams", get(teams).post(create_team)).route("/teams/{slug}", get(team).post(update_team))
}

#[derive(Template, WebTemplate)]
#[template(path = "teams.html")]
struct TeamsPage {
    banner: Option<String>,
    csrf: String,
    /// Core's policy lets the viewer create a team: the form is shown.
    may_create: bool,
    teams: Vec<(String, String, usize, u64)>,
}

async fn teams(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (csrf, set_cookie) = crate::csrf::token(&headers, state.secure_cookies());
    let list = state.service.call(&caller, ListTeams {}).await?;
    let teams = list
        .teams
        .iter()
        .map(|t| (t.team.slug.to_string(), t.team.name.clone(), t.team.members.len(), t.project_count))
        .collect();
    let may_create = state.may(&caller, OpKind::CreateTeam);
    let page = TeamsPage { banner: banner(&state.mode, &caller), csrf, may_create, teams };
    Ok(crate::with_cookie(page.into_response(), set_cookie))
}

#[derive(Template, WebTemplate)]
#[template(path = "team.html")]
struct TeamPage {
    banner: Option<String>,
    csrf: String,
    /// Core's policy lets the viewer change the team: the form is shown.
    may_edit: bool,
    slug: String,
    name: String,
    members: Vec<(String, String, String)>,
    channels: Vec<String>,
    projects: Vec<switchboard_core::model::ProjectSummary>,
    /// What the shared project rows show above a search (none here).
    by_meaning: Vec<String>,
    note: Option<String>,
    incidents: Vec<IncidentRow>,
    score_chart: Option<crate::charts::Chart>,
}

async fn team(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> Result<Response, PageError> {
    let (csrf, set_cookie) = crate::csrf::token(&headers, state.secure_cookies());
    let slug: TeamSlug = path("team", &slug)?;
    let d = state.service.call(&caller, GetTeam { team: slug.clone() }).await?;
    let recent = ListIncidents { team: Some(slug), limit: Some(20), ..Default::default() };
    let inc = state.service.call(&caller, recent).await?;
    let score_chart = crate::trends::team_score(&state, &caller, &d.projects, state.service.now()).await?;
    let page = TeamPage {
        banner: banner(&state.mode, &caller),
        csrf,
        may_edit: state.may(&caller, OpKind::UpdateTeam),
        slug: d.team.slug.to_string(),
        name: d.team.name.clone(),
        members: d.members.iter().map(|u| (u.name.to_string(), u.display_name.clone(), u.role.to_string())).collect(),
        channels: d
            .team
            .channels
            .iter()
            .map(|c| format!("{:?} {}", c.platform, c.name.clone().unwrap_or_else(|| c.id.clone())).to_lowercase())
            .collect(),
        projects: d.projects,
        by_meaning: Vec::new(),
        note: None,
        incidents: inc.incidents.iter().map(IncidentRow::from).collect(),
        score_chart,
    };
    Ok(crate::with_cookie(page.into_response(), set_cookie))
}

/// People named in a form field: commas or spaces between them.
fn people(field: &str) -> Vec<String> {
    field.split([',', ' ', '\n']).map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned).collect()
}

#[derive(Deserialize)]
struct NewTeamForm {
    csrf: Option<String>,
    slug: String,
    name: Option<String>,
    members: Option<String>,
}

async fn create_team(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
    axum::Form(form): axum::Form<NewTeamForm>,
) -> Result<Response, PageError> {
    crate::csrf::require(&headers, form.csrf.as_deref())?;
    let mut args = json!({"slug": form.slug.trim()});
    if let Some(name) = form.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        args["name"] = json!(name);
    }
    let members = people(form.members.as_deref().unwrap_or_default());
    if !members.is_empty() {
        args["members"] = json!(members);
    }
    let made = state.service.execute_json(&caller, "create_team", args).await?.to_json();
    let slug = made["team"]["slug"].as_str().or(made["slug"].as_str()).unwrap_or_default().to_owned();
    Ok(Redirect::to(&format!("/teams/{slug}")).into_response())
}

#[derive(Deserialize)]
struct TeamForm {
    csrf: Option<String>,
    name: String,
    add: Option<String>,
    remove: Option<String>,
}

async fn update_team(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
    Path(slug): Path<String>,
    axum::Form(form): axum::Form<TeamForm>,
) -> Result<Response, PageError> {
    crate::csrf::require(&headers, form.csrf.as_deref())?;
    let slug: TeamSlug = path("team", &slug)?;
    let mut args = json!({"team": slug, "name": form.name.trim()});
    for (key, field) in [("add_members", &form.add), ("remove_members", &form.remove)] {
        let named = people(field.as_deref().unwrap_or_default());
        if !named.is_empty() {
            args[key] = json!(named);
        }
    }
    state.service.execute_json(&caller, "update_team", args).await?;
    Ok(Redirect::to(&format!("/teams/{slug}")).into_response())
}
