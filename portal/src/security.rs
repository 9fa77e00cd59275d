//! Vulnerabilities in the portal: the organisation's exposure by severity
//! and team with its trend, the findings worst first (filtered by team,
//! project or severity), and an advisory's page — who is affected with the
//! versions that fix it, the campaigns requested, and a Fix button (CSRF-
//! checked; the campaigns it requests are approved like any run).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use switchboard_core::Error;
use switchboard_core::advisory::{Severity, VulnerabilityMatch};
use switchboard_core::event::{EventKind, EventQuery};
use switchboard_core::messages::advisory_name;
use switchboard_core::model::{DAY_MS, Millis};
use switchboard_core::ops::inputs::{AffectedBy, FixAdvisory, Vulnerabilities};
use switchboard_core::time::{format_date, format_ms};

use crate::charts::{Chart, Series, lines};
use crate::error::PageError;
use crate::views::banner;
use crate::{PageCaller, PortalState};

/// A project's findings for its page, worst first (at most 50), and how many
/// there are in all.
pub(crate) async fn project_findings(
    state: &PortalState,
    caller: &switchboard_core::policy::Caller,
    project: &switchboard_core::ids::ProjectSlug,
) -> Result<(Vec<Row>, u64), Error> {
    let input = Vulnerabilities {
        project: Some(project.clone()),
        team: None,
        package: None,
        severity: None,
        since: None,
        limit: Some(50),
    };
    let list = state.service.call(caller, input).await?;
    Ok((list.vulnerabilities.iter().map(row).collect(), list.total))
}

pub(crate) fn routes() -> Router<PortalState> {
    Router::new()
        .route("/vulnerabilities", get(summary))
        .route("/advisories/{id}", get(advisory))
        .route("/advisories/{id}/fix", post(fix))
}

pub(crate) struct Row {
    pub project: String,
    pub team: String,
    pub advisory: String,
    pub advisory_id: String,
    pub severity: &'static str,
    pub package: String,
    pub version: String,
    pub fixed: String,
    pub how: &'static str,
    pub found: String,
    pub reason: String,
}

pub(crate) fn row(m: &VulnerabilityMatch) -> Row {
    Row {
        project: m.project.to_string(),
        team: m.team.to_string(),
        advisory: advisory_name(&m.advisory, &m.aliases),
        advisory_id: m.advisory.clone(),
        severity: m.severity.as_str(),
        package: m.package.to_string(),
        version: m.version.to_string(),
        fixed: m.fix_text(),
        how: if m.transitive { "transitive" } else { "direct" },
        found: format_ms(m.found_at),
        reason: m.reason.clone().unwrap_or_default(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "vulnerabilities.html")]
struct SummaryPage {
    banner: Option<String>,
    known: u64,
    total: u64,
    projects: u64,
    severities: Vec<(&'static str, u64)>,
    /// Team, then a count per severity in `Severity::ALL` order, then the total.
    teams: Vec<(String, Vec<u64>, u64)>,
    charts: Vec<Chart>,
    rows: Vec<Row>,
    truncated: bool,
    team: String,
    project: String,
    severity: String,
}

#[derive(Deserialize)]
struct Filter {
    team: Option<String>,
    project: Option<String>,
    severity: Option<String>,
}

fn parsed<T: std::str::FromStr>(field: &str, text: Option<String>) -> Result<Option<T>, PageError>
where
    T::Err: std::fmt::Display,
{
    match text.filter(|t| !t.trim().is_empty()) {
        None => Ok(None),
        Some(t) => t.trim().parse().map(Some).map_err(|e| PageError(Error::field(field, format!("{t:?}: {e}")))),
    }
}

const WEEKS: i64 = 12;

/// Vulnerabilities found and fixed a week over twelve weeks, from the log.
async fn trend(state: &PortalState, now: Millis) -> Result<Option<Chart>, Error> {
    let week = 7 * DAY_MS;
    let since = now - WEEKS * week;
    let q = EventQuery {
        kinds: vec![EventKind::VulnerabilityFound, EventKind::VulnerabilityFixed],
        since: Some(since),
        limit: 50_000,
        ..Default::default()
    };
    let (mut found, mut fixed) = (vec![0u32; WEEKS as usize], vec![0u32; WEEKS as usize]);
    for e in state.service.log().query(&q).await? {
        let Ok(n) = usize::try_from((e.occurred_at - since) / week) else { continue };
        let counts = if e.kind == EventKind::VulnerabilityFound { &mut found } else { &mut fixed };
        if let Some(c) = counts.get_mut(n) {
            *c += 1;
        }
    }
    let labels: Vec<String> = (0..WEEKS).map(|n| format_date(since + n * week)).collect();
    let series = |name, v: &[u32]| Series { name, values: v.iter().map(|n| Some(f64::from(*n))).collect() };
    Ok(lines(
        "vulnerabilities-trend",
        "Vulnerabilities found and fixed a week",
        "",
        &labels,
        &[series("Found", &found), series("Fixed", &fixed)],
        &[],
    ))
}

async fn summary(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    Query(f): Query<Filter>,
) -> Result<Response, PageError> {
    let (team, project, severity) = (f.team.clone(), f.project.clone(), f.severity.clone());
    let input = Vulnerabilities {
        team: parsed("team", f.team)?,
        project: parsed("project", f.project)?,
        severity: match severity.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(Severity::parse(s).ok_or_else(|| {
                PageError(Error::field("severity", format!("{s:?} is not one of critical, high, medium, low, unknown")))
            })?),
        },
        package: None,
        since: None,
        limit: Some(300),
    };
    let list = state.service.call(&caller, input).await?;
    let severities =
        Severity::ALL.iter().map(|s| (s.as_str(), list.by_severity.get(s).copied().unwrap_or(0))).collect();
    // Every match counts, not only the rows listed.
    let mut teams: Vec<(String, Vec<u64>, u64)> = list
        .by_team
        .iter()
        .map(|(team, counts)| {
            let c: Vec<u64> = Severity::ALL.iter().map(|s| counts.get(s).copied().unwrap_or(0)).collect();
            (team.to_string(), c.clone(), c.iter().sum())
        })
        .collect();
    teams.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let charts = trend(&state, state.service.now()).await?.into_iter().collect();
    let page = SummaryPage {
        banner: banner(&state.mode, &caller),
        known: list.advisories_known,
        total: list.total,
        projects: list.projects,
        severities,
        teams,
        charts,
        rows: list.vulnerabilities.iter().take(300).map(row).collect(),
        truncated: list.total > 300,
        team: team.unwrap_or_default(),
        project: project.unwrap_or_default(),
        severity: severity.unwrap_or_default(),
    };
    Ok(page.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "advisory.html")]
struct AdvisoryPage {
    banner: Option<String>,
    csrf: String,
    name: String,
    id: String,
    aliases: String,
    severity: &'static str,
    score: String,
    summary: String,
    details: String,
    published: String,
    modified: String,
    withdrawn: String,
    references: Vec<String>,
    packages: Vec<String>,
    rows: Vec<Row>,
    projects: u64,
    /// Each fix campaign: run id, what it does, its status, and its pull
    /// requests so far ("3 opened, 1 merged").
    runs: Vec<(String, String, &'static str, String)>,
    fixable: bool,
    /// Why the caller may not request the fix (shown instead of the
    /// button); empty when they may.
    fix_denied: String,
}

async fn advisory(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (csrf, set_cookie) = crate::csrf::token(&headers, state.secure_cookies());
    let report = state.service.call(&caller, AffectedBy { advisory: id }).await?;
    let a = &report.advisories[0];
    let mut aliases: Vec<String> = report.advisories.iter().flat_map(|x| x.names().map(str::to_owned)).collect();
    aliases.sort();
    aliases.dedup();
    aliases.retain(|n| *n != a.id);
    let packages = report
        .advisories
        .iter()
        .flat_map(|x| x.affected.iter())
        .map(|p| format!("{} ({})", p.name, p.osv_ecosystem))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut runs = Vec::new();
    for r in &report.runs {
        let pulls = state.service.campaign_summary(&r.id).await?;
        let line = if pulls.items.is_empty() { String::new() } else { pulls.counts_line() };
        runs.push((r.id.to_string(), r.summary.clone(), r.status.as_str(), line));
    }
    let page = AdvisoryPage {
        runs,
        banner: banner(&state.mode, &caller),
        csrf,
        name: advisory_name(&a.id, &a.aliases),
        id: a.id.clone(),
        aliases: aliases.join(", "),
        severity: a.severity.as_str(),
        score: a.score.map(|s| format!("{s:.1}")).unwrap_or_default(),
        summary: a.summary.clone(),
        details: a.details.clone(),
        published: a.published.map(format_ms).unwrap_or_default(),
        modified: format_ms(a.modified),
        withdrawn: a.withdrawn.map(format_ms).unwrap_or_default(),
        // Links only to web pages: a record is outside input.
        references: a
            .references
            .iter()
            .filter(|r| r.starts_with("https://") || r.starts_with("http://"))
            .cloned()
            .collect(),
        packages,
        fixable: report.runs.is_empty() && report.affected.iter().any(|m| m.fixed.is_some() && !m.transitive),
        fix_denied: state.why_not(&caller, switchboard_core::ops::OpKind::FixAdvisory),
        rows: report.affected.iter().map(row).collect(),
        projects: report.projects,
    };
    Ok(crate::with_cookie(page.into_response(), set_cookie))
}

#[derive(Deserialize)]
struct FixForm {
    csrf: Option<String>,
}

/// Fix: the advisory's campaigns are requested; the first run's page shows
/// what the approval decides (editors and up).
async fn fix(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<FixForm>,
) -> Result<Response, PageError> {
    crate::csrf::require(&headers, form.csrf.as_deref())?;
    let runs = state.service.call(&caller, FixAdvisory { advisory: id.clone(), package: None }).await?.runs;
    let safe = id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let to = match runs.as_slice() {
        [one] => format!("/runs/{}", one.id),
        _ if safe => format!("/advisories/{id}"),
        _ => "/vulnerabilities".to_owned(),
    };
    Ok(Redirect::to(&to).into_response())
}
