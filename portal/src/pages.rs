//! HTML pages. Each handler runs operations through the service and fills a
//! template; lists the operations do not cover (home counts, recent events)
//! read the stores directly, never write them.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;
use switchboard_core::ids::ProjectSlug;
use switchboard_core::ops::inputs::{DependentsInput, GetProject, ProjectHistory};
use switchboard_core::ops::output::*;
use switchboard_core::time::format_ms;
use switchboard_core::{Caller, Error};

use crate::error::{ErrorPage, PageError};
use crate::views::*;
use crate::{PageCaller, PortalState};

pub(crate) fn routes() -> Router<PortalState> {
    Router::new()
        .route("/", get(crate::home::home))
        .route("/search", get(crate::search::search))
        .route("/api", get(crate::api_reference::page))
        .route("/audit", get(crate::audit::page))
        .route("/projects", get(projects).post(create_project))
        .route("/projects/{slug}", get(project))
        .route("/projects/{slug}/facts", axum::routing::post(set_fact))
        .route("/projects/{slug}/details", axum::routing::post(update_details))
        .route("/projects/{slug}/neighbourhood", get(crate::trends::neighbourhood_page))
        .route("/packages", get(package_search))
        .route("/packages/{*name}", get(package))
}

/// An operation whose arguments come from what people typed in a URL or a
/// form: read by the operation's own input parsing, with the API's errors.
/// Fixed calls use [`switchboard_core::Service::call`], typed.
pub(crate) async fn op(
    state: &PortalState,
    caller: &Caller,
    name: &str,
    args: serde_json::Value,
) -> Result<Output, PageError> {
    Ok(state.service.execute_json(caller, name, args).await?)
}

/// A path segment read as what it names (a slug, a run id), or the same
/// "invalid input" an operation would answer.
pub(crate) fn path<T: std::str::FromStr>(field: &str, value: &str) -> Result<T, PageError>
where
    T::Err: std::fmt::Display,
{
    value.parse().map_err(|e: T::Err| PageError(Error::field(field, e.to_string())))
}

pub(crate) fn unexpected(name: &str) -> PageError {
    PageError(Error::Internal { reference: "portal".into(), detail: format!("{name} returned an unexpected output") })
}

pub(crate) async fn not_found(State(state): State<PortalState>, PageCaller(caller): PageCaller) -> Response {
    let page = ErrorPage {
        title: "Not found".into(),
        message: "There is no page here. Try the projects list or search.".into(),
        banner: banner(&state.mode, &caller),
    };
    (axum::http::StatusCode::NOT_FOUND, page).into_response()
}

#[derive(Deserialize)]
struct ProjectFilter {
    q: Option<String>,
    team: Option<String>,
    #[serde(rename = "type")]
    project_type: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "projects.html")]
struct ProjectsPage {
    banner: Option<String>,
    csrf: String,
    q: String,
    team: String,
    project_type: String,
    teams: Vec<String>,
    types: Vec<String>,
    projects: Vec<switchboard_core::model::ProjectSummary>,
    by_meaning: Vec<String>,
    note: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "project_rows.html")]
struct ProjectRows {
    projects: Vec<switchboard_core::model::ProjectSummary>,
    /// Found by semantic search, not by their words.
    by_meaning: Vec<String>,
    /// Why the list is words only (the embeddings endpoint failed).
    note: Option<String>,
}

async fn projects(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
    Query(f): Query<ProjectFilter>,
) -> Result<Response, PageError> {
    let nonempty = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let mut args = json!({"limit": 200});
    if let Some(q) = nonempty(&f.q) {
        args["query"] = json!(q);
    }
    if let Some(t) = nonempty(&f.team) {
        args["team"] = json!(t);
    }
    if let Some(t) = nonempty(&f.project_type) {
        args["project_type"] = json!(t);
    }
    let Output::Projects(list) = op(&state, &caller, "find_projects", args).await? else {
        return Err(unexpected("find_projects"));
    };
    let by_meaning: Vec<String> = list.by_meaning.iter().map(|s| s.to_string()).collect();
    if headers.contains_key("hx-request") {
        return Ok(ProjectRows { projects: list.projects, by_meaning, note: list.note }.into_response());
    }
    let teams = state.service.graph().list_teams().await?.into_iter().map(|t| t.slug.to_string()).collect();
    let types = state.service.config().project_types.keys().map(|t| t.to_string()).collect();
    let (csrf, set_cookie) = crate::csrf::token(&headers, state.secure_cookies());
    let page = ProjectsPage {
        csrf,
        banner: banner(&state.mode, &caller),
        q: f.q.unwrap_or_default(),
        team: f.team.unwrap_or_default(),
        project_type: f.project_type.unwrap_or_default(),
        teams,
        types,
        projects: list.projects,
        by_meaning,
        note: list.note,
    };
    Ok(crate::with_cookie(page.into_response(), set_cookie))
}

#[derive(Deserialize)]
struct NewProjectForm {
    csrf: Option<String>,
    slug: String,
    name: Option<String>,
    team: String,
    project_type: String,
    description: Option<String>,
}

/// A new project from the projects page, through `create_project` (its
/// policy and validation decide); its page next.
async fn create_project(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
    axum::Form(form): axum::Form<NewProjectForm>,
) -> Result<Response, PageError> {
    crate::csrf::require(&headers, form.csrf.as_deref())?;
    let mut args =
        json!({"slug": form.slug.trim(), "team": form.team.trim(), "project_type": form.project_type.trim()});
    for (k, v) in [("name", form.name), ("description", form.description)] {
        if let Some(v) = v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
            args[k] = json!(v);
        }
    }
    let made = state.service.execute_json(&caller, "create_project", args).await?.to_json();
    let slug = made["slug"].as_str().unwrap_or_default();
    Ok(axum::response::Redirect::to(&format!("/projects/{slug}")).into_response())
}

struct FactRow {
    key: String,
    value: String,
    declared: String,
    weight: u32,
}

struct EnvRow {
    name: String,
    version: String,
    when: String,
    actor: String,
}

struct ScoreRow {
    name: &'static str,
    points: String,
    max: String,
    percent: u32,
    detail: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "project.html")]
struct ProjectPage {
    banner: Option<String>,
    csrf: String,
    slug: String,
    name: String,
    description: String,
    team: String,
    team_name: String,
    project_type: String,
    archived: bool,
    links: Vec<(String, String)>,
    score: u8,
    score_rows: Vec<ScoreRow>,
    facts: Vec<FactRow>,
    dependencies: Vec<DependencyRow>,
    environments: Vec<EnvRow>,
    deployments: Vec<DeploymentRow>,
    incidents: Vec<IncidentRow>,
    builds: Vec<BuildRow>,
    events: Vec<EventRow>,
    /// Known vulnerabilities in its dependencies, worst first, and how many in all.
    vulnerabilities: Vec<crate::security::Row>,
    vulnerability_total: u64,
    github: String,
    pagerduty: String,
    /// When the repository was last read, and what happened.
    refreshed: String,
    /// The score over 90 days, the deployments over 30, the CI builds' durations.
    score_chart: Option<crate::charts::Chart>,
    deploy_chart: Option<crate::charts::Chart>,
    build_chart: Option<crate::charts::Chart>,
    /// Whether core's policy lets the viewer change the details (the form is
    /// shown, and the teams read for it, only then).
    may_edit: bool,
    /// For the details form: every team (slug, name) and project type.
    teams: Vec<(String, String)>,
    types: Vec<String>,
    /// The operator's extra panels (`project_panels.html`), HTML.
    panels: String,
}

async fn project(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> Result<Response, PageError> {
    let (csrf, set_cookie) = crate::csrf::token(&headers, state.secure_cookies());
    let slug: ProjectSlug = path("project", &slug)?;
    // Deployments, builds and incidents have their own tables; the history shows changes.
    use switchboard_core::event::EventKind::*;
    let kinds = vec![
        ProjectCreated,
        ProjectUpdated,
        ProjectArchived,
        FactSet,
        FactRemoved,
        DependenciesChanged,
        ScoreChanged,
        RunRequested,
    ];
    let history = ProjectHistory {
        project: slug.clone(),
        subject: None,
        since: None,
        until: None,
        kinds: Some(kinds),
        limit: Some(30),
    };
    // The project, its history and its score changes at once: on a log
    // server the two log reads are the page's slowest calls.
    let (d, h, changes) = tokio::try_join!(
        async { Ok::<_, PageError>(state.service.call(&caller, GetProject { project: slug.clone() }).await?) },
        async { Ok(state.service.call(&caller, history).await?) },
        score_changes(&state, &caller, &slug),
    )?;
    let p = &d.project;
    let config = state.service.config();
    let decls = config.project_types.get(&p.project_type);
    let mut facts: Vec<FactRow> = decls
        .map(|t| {
            t.facts
                .iter()
                .map(|(k, decl)| FactRow {
                    key: k.to_string(),
                    value: p.facts.get(k).map(|f| f.value.to_string()).unwrap_or_default(),
                    declared: decl.fact_type.name().to_owned(),
                    weight: decl.weight,
                })
                .collect()
        })
        .unwrap_or_default();
    for (k, f) in &p.facts {
        if !facts.iter().any(|r| r.key == k.as_str()) {
            facts.push(FactRow {
                key: k.to_string(),
                value: f.value.to_string(),
                declared: "undeclared".into(),
                weight: 0,
            });
        }
    }
    let total: f64 = d.score.components.iter().map(|c| f64::from(c.weight)).sum::<f64>().max(1.0);
    let (score_chart, deploy_chart, build_chart) = project_charts(&state, p, changes).await?;
    let refreshed = d
        .last_import
        .as_ref()
        .map(|i| format!("Read from {} {}: {}", i.repository, format_ms(i.at), i.summary))
        .unwrap_or_default();
    let may_edit = state.may(&caller, switchboard_core::ops::OpKind::UpdateProject);
    let mut teams: Vec<(String, String)> = Vec::new();
    if may_edit {
        teams = state.service.graph().list_teams().await?.into_iter().map(|t| (t.slug.to_string(), t.name)).collect();
        teams.sort_by_key(|t| t.1.to_lowercase());
    }
    let (vulnerabilities, vulnerability_total) = crate::security::project_findings(&state, &caller, &p.slug).await?;
    let page = ProjectPage {
        vulnerabilities,
        vulnerability_total,
        panels: crate::panels::project_panels(config, p),
        csrf,
        may_edit,
        teams,
        types: config.project_types.keys().map(|t| t.to_string()).collect(),
        score_chart,
        deploy_chart,
        build_chart,
        refreshed,
        banner: banner(&state.mode, &caller),
        slug: p.slug.to_string(),
        name: p.name.clone(),
        description: p.description.clone(),
        team: p.team.to_string(),
        team_name: d.team.as_ref().map(|t| t.name.clone()).unwrap_or_else(|| p.team.to_string()),
        project_type: p.project_type.to_string(),
        archived: p.archived,
        links: p.links.iter().map(|l| (l.title.clone(), l.url.clone())).collect(),
        score: d.score.score,
        score_rows: d
            .score
            .components
            .iter()
            .map(|c| ScoreRow {
                name: c.name,
                points: format!("{:.1}", c.points),
                max: format!("{:.0}", f64::from(c.weight) * 100.0 / total),
                percent: (c.value * 100.0).round() as u32,
                detail: c.detail.clone(),
            })
            .collect(),
        facts,
        dependencies: p.dependencies.iter().map(DependencyRow::of).collect(),
        environments: d
            .environments
            .iter()
            .map(|e| EnvRow {
                name: e.name.to_string(),
                version: e.current.as_ref().map(|c| c.version.clone()).unwrap_or_else(|| "—".into()),
                when: e.current.as_ref().map(|c| format_ms(c.started_at)).unwrap_or_default(),
                actor: e.current.as_ref().and_then(|c| c.actor.clone()).unwrap_or_default(),
            })
            .collect(),
        deployments: d.recent_deployments.iter().map(DeploymentRow::from).collect(),
        incidents: d.open_incidents.iter().map(IncidentRow::from).collect(),
        builds: d.recent_builds.iter().map(BuildRow::from).collect(),
        events: h.events.iter().map(EventRow::from).collect(),
        github: p.external_ids.github_repository.clone().unwrap_or_default(),
        pagerduty: p.external_ids.pagerduty_service.clone().unwrap_or_default(),
    };
    Ok(crate::with_cookie(page.into_response(), set_cookie))
}

#[derive(Deserialize)]
struct DetailsForm {
    csrf: Option<String>,
    name: String,
    description: String,
    team: String,
    project_type: String,
}

/// Changes a project's name, description, owning team and type from its
/// page through `update_project` (CSRF-checked; its policy and validation
/// decide, a refusal says why; what did not change records nothing).
async fn update_details(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
    Path(slug): Path<String>,
    axum::Form(form): axum::Form<DetailsForm>,
) -> Result<Response, PageError> {
    crate::csrf::require(&headers, form.csrf.as_deref())?;
    let slug: ProjectSlug = path("project", &slug)?;
    let args = json!({
        "project": slug,
        "name": form.name.trim(),
        "description": form.description.trim(),
        "team": form.team.trim(),
        "project_type": form.project_type.trim(),
    });
    state.service.execute_json(&caller, "update_project", args).await?;
    Ok(axum::response::Redirect::to(&format!("/projects/{slug}")).into_response())
}

#[derive(Deserialize)]
struct FactForm {
    csrf: Option<String>,
    key: String,
    value: String,
}

/// Sets (or, left empty, removes) a fact from the project page through
/// `set_fact`: its policy and the type the project type declares decide.
/// The value is read as JSON where it is one (`1`, `true`), else as text.
async fn set_fact(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
    Path(slug): Path<String>,
    axum::Form(form): axum::Form<FactForm>,
) -> Result<Response, PageError> {
    crate::csrf::require(&headers, form.csrf.as_deref())?;
    let slug: ProjectSlug = path("project", &slug)?;
    let raw = form.value.trim();
    let value = if raw.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str::<serde_json::Value>(raw)
            .ok()
            .filter(|v| v.is_number() || v.is_boolean())
            .unwrap_or_else(|| json!(raw))
    };
    let args = json!({"project": slug, "key": form.key.trim(), "value": value});
    state.service.execute_json(&caller, "set_fact", args).await?;
    Ok(axum::response::Redirect::to(&format!("/projects/{slug}#facts")).into_response())
}

#[derive(Deserialize)]
struct PackageQuery {
    name: Option<String>,
}

async fn package_search(Query(q): Query<PackageQuery>) -> Response {
    match q.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) => axum::response::Redirect::to(&format!("/packages/{}", urlencode_path(name))).into_response(),
        None => axum::response::Redirect::to("/projects").into_response(),
    }
}

pub(crate) fn urlencode_path(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' | b'@' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "package.html")]
struct PackagePage {
    banner: Option<String>,
    name: String,
    total: u64,
    versions: Vec<(String, String, u64)>,
    projects: Vec<(String, String, String, String)>,
    /// How the projects spread over the versions.
    chart: Option<crate::charts::Chart>,
}

async fn package(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    Path(name): Path<String>,
) -> Result<PackagePage, PageError> {
    let package = path("package", &name)?;
    let asked = DependentsInput { package, version: None, ecosystem: None, limit: Some(1000), direct_only: None };
    let d = state.service.call(&caller, asked).await?;
    let mut spread: Vec<(String, u64)> =
        d.dependents.versions.iter().map(|v| (v.version.to_string(), v.projects)).collect();
    spread.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(PackagePage {
        chart: crate::charts::distribution("version-spread", "Projects by version", "projects", &spread),
        banner: banner(&state.mode, &caller),
        name: d.package.to_string(),
        total: d.dependents.total,
        versions: d
            .dependents
            .versions
            .iter()
            .map(|v| (v.ecosystem.to_string(), v.version.to_string(), v.projects))
            .collect(),
        projects: d
            .dependents
            .projects
            .iter()
            .map(|r| (r.project.to_string(), r.team.to_string(), r.ecosystem.to_string(), r.version.to_string()))
            .collect(),
    })
}

type Charts = (Option<crate::charts::Chart>, Option<crate::charts::Chart>, Option<crate::charts::Chart>);

/// A project's score changes over the last 90 days (time, from, to), oldest
/// first: its history as `caller` may read it.
async fn score_changes(
    state: &PortalState,
    caller: &switchboard_core::Caller,
    slug: &ProjectSlug,
) -> Result<Vec<(i64, f64, f64)>, PageError> {
    use switchboard_core::event::{EventData, EventKind};
    let history = ProjectHistory {
        project: slug.clone(),
        subject: None,
        since: Some(switchboard_core::time::TimeArg::Ago(90 * switchboard_core::model::DAY_MS)),
        until: None,
        kinds: Some(vec![EventKind::ScoreChanged]),
        limit: Some(1000),
    };
    let mut changes: Vec<(i64, f64, f64)> = state
        .service
        .call(caller, history)
        .await?
        .events
        .iter()
        .filter_map(|e| match e.data() {
            Ok(EventData::ScoreChanged(s)) => Some((e.occurred_at, f64::from(s.from), f64::from(s.to))),
            _ => None,
        })
        .collect();
    changes.sort_by_key(|c| c.0);
    Ok(changes)
}

/// The project page's charts: its score over 90 days (from `changes`), its
/// deployments over 30 per environment, its latest CI builds' durations.
async fn project_charts(
    state: &PortalState,
    p: &switchboard_core::model::Project,
    changes: Vec<(i64, f64, f64)>,
) -> Result<Charts, PageError> {
    use switchboard_core::model::DAY_MS as DAY;
    use switchboard_core::model::{BuildStatus, DeploymentStatus};
    use switchboard_core::store::DeploymentQuery;
    let now = state.service.now();
    let mut points: Vec<(i64, f64)> = changes.first().map(|c| vec![(c.0, c.1)]).unwrap_or_default();
    points.extend(changes.iter().map(|c| (c.0, c.2)));
    let score = crate::charts::score_trend("score-trend", "Score over 90 days", &points, now);

    let lanes: Vec<String> = p.environments.iter().map(|e| e.name.to_string()).collect();
    let q = DeploymentQuery {
        project: Some(p.slug.clone()),
        since: Some(now - 30 * DAY),
        limit: 500,
        ..Default::default()
    };
    let deployed: Vec<_> = state
        .service
        .graph()
        .list_deployments(&q)
        .await?
        .into_iter()
        .filter_map(|d| {
            let lane = lanes.iter().position(|l| *l == d.environment.as_str())?;
            Some((lane, d.started_at, d.version, d.status == DeploymentStatus::Failed))
        })
        .collect();
    let deploys = crate::charts::timeline("deploy-timeline", "Deployments over 30 days", &lanes, &deployed, now);

    let mut builds = state.service.graph().list_builds(&p.slug, 30).await?;
    builds.sort_by_key(|b| b.started_at);
    let durations: Vec<(String, f64, bool)> = builds
        .iter()
        .filter_map(|b| {
            let secs = b.duration_ms? as f64 / 1000.0;
            Some((format_ms(b.started_at), secs, b.status == BuildStatus::Failure))
        })
        .collect();
    let builds = crate::charts::bars("build-durations", "CI build durations", "s", &durations);
    Ok((score, deploys, builds))
}

/// A dependency on the project page: what it is, how it is used, where it was read.
pub(crate) struct DependencyRow {
    ecosystem: String,
    package: String,
    version: String,
    /// `direct` or `transitive`, with the scope when not runtime (`direct, dev`).
    how: String,
    /// The manifest, lock file or SBOM; empty when set by hand.
    source: String,
    requirement: String,
}

impl DependencyRow {
    fn of(d: &switchboard_core::model::Dependency) -> Self {
        let mut how = if d.transitive { "transitive".to_owned() } else { "direct".to_owned() };
        if !d.scope.is_runtime() {
            how = format!("{how}, {}", d.scope.as_str());
        }
        Self {
            ecosystem: d.ecosystem.to_string(),
            package: d.package.to_string(),
            version: d.version.to_string(),
            how,
            source: d.source.clone().unwrap_or_default(),
            requirement: d.requirement.clone().unwrap_or_default(),
        }
    }
}
