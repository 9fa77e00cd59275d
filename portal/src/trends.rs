//! Trends drawn from what the graph and the log hold: DORA period by
//! period, incidents a week with the time to acknowledge and resolve them,
//! and a team's average score. Each is a `charts` chart with its numbers.

use switchboard_core::model::Millis;
use switchboard_core::ops::output::DoraReport;
use switchboard_core::time::format_date;

use crate::charts::{Chart, Series, lines};

const HOUR: f64 = 3_600_000.0;

/// A period's label: the day it starts.
fn period(from: Millis) -> String {
    format_date(from)
}

/// The four DORA metrics period by period, each with its bands' edges.
pub(crate) fn dora(d: &DoraReport) -> Vec<Chart> {
    let labels: Vec<String> = d.trend.iter().map(|p| period(p.from)).collect();
    let one =
        |id: &str, title: &str, unit: &str, name: &'static str, values: Vec<Option<f64>>, marks: &[(f64, &str)]| {
            lines(id, title, unit, &labels, &[Series { name, values }], marks)
        };
    let hours = |ms: Option<i64>| ms.map(|ms| ms as f64 / HOUR);
    [
        one(
            "dora-frequency",
            "Deployments a day, period by period",
            "a day",
            "Deployments a day",
            d.trend.iter().map(|p| Some(p.deployments_per_day)).collect(),
            &[(1.0, "elite: daily"), (1.0 / 7.0, "high: weekly")],
        ),
        one(
            "dora-lead-time",
            "Lead time for changes (p50, hours)",
            "h",
            "Lead time p50",
            d.trend.iter().map(|p| hours(p.lead_time_p50_ms)).collect(),
            &[(24.0, "elite: a day"), (168.0, "high: a week")],
        ),
        one(
            "dora-failure-rate",
            "Change failure rate (%)",
            "%",
            "Failure rate",
            d.trend.iter().map(|p| (p.finished > 0).then_some(p.change_failure_rate * 100.0)).collect(),
            &[(15.0, "elite: 15%"), (30.0, "high: 30%")],
        ),
        one(
            "dora-restore",
            "Time to restore (p50, hours)",
            "h",
            "Time to restore p50",
            d.trend.iter().map(|p| hours(p.time_to_restore_p50_ms)).collect(),
            &[(1.0, "elite: an hour"), (24.0, "high: a day")],
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Weeks the incidents trend covers.
const INCIDENT_WEEKS: i64 = 12;
/// Incidents listed for it (the operation's most), and their events read at most.
const INCIDENT_LISTED: u32 = 1000;
const INCIDENT_ROWS: usize = 10_000;

/// Incidents opened a week over twelve weeks, and the median time to
/// acknowledge (MTTA: to the first acknowledgement, or the resolution when
/// nobody acknowledged) and to resolve (MTTR) the week's incidents.
pub(crate) async fn incidents(
    state: &crate::PortalState,
    caller: &switchboard_core::Caller,
    team: Option<switchboard_core::ids::TeamSlug>,
    now: Millis,
) -> Result<Vec<Chart>, switchboard_core::Error> {
    use std::collections::HashMap;
    use switchboard_core::event::{EventData, EventKind, EventQuery};
    use switchboard_core::model::{DAY_MS, IncidentStatus};
    use switchboard_core::ops::inputs::ListIncidents;
    use switchboard_core::time::TimeArg;
    let week = 7 * DAY_MS;
    let since = now - INCIDENT_WEEKS * week;
    // Through the operation (its policy): the newest 1,000 of the weeks.
    let listed =
        ListIncidents { team, since: Some(TimeArg::At(since)), limit: Some(INCIDENT_LISTED), ..Default::default() };
    let incidents = state.service.call(caller, listed).await?.incidents;
    // When each was first acknowledged (or resolved), from the log.
    let q = EventQuery {
        kinds: vec![EventKind::IncidentRecorded],
        since: Some(since),
        limit: INCIDENT_ROWS,
        ..Default::default()
    };
    let mut answered: HashMap<uuid::Uuid, Millis> = HashMap::new();
    for e in state.service.log().query(&q).await? {
        if let Ok(EventData::IncidentRecorded(r)) = e.data()
            && matches!(r.incident.status, IncidentStatus::Acknowledged | IncidentStatus::Resolved)
        {
            let at = answered.entry(r.incident.id).or_insert(e.occurred_at);
            *at = (*at).min(e.occurred_at);
        }
    }
    let weeks = INCIDENT_WEEKS as usize;
    let mut opened = vec![0u32; weeks];
    let mut ack: Vec<Vec<i64>> = vec![Vec::new(); weeks];
    let mut resolve: Vec<Vec<i64>> = vec![Vec::new(); weeks];
    for i in &incidents {
        let Ok(n) = usize::try_from((i.opened_at - since) / week) else { continue };
        let Some(count) = opened.get_mut(n) else { continue };
        *count += 1;
        let answer = answered.get(&i.id).copied().or(i.resolved_at);
        if let Some(at) = answer.filter(|at| *at >= i.opened_at) {
            ack[n].push(at - i.opened_at);
        }
        if let Some(at) = i.resolved_at.filter(|at| *at >= i.opened_at) {
            resolve[n].push(at - i.opened_at);
        }
    }
    let median = |v: &mut Vec<i64>| {
        v.sort_unstable();
        switchboard_core::service::percentile(v, 50).map(|ms| ms as f64 / HOUR)
    };
    let labels: Vec<String> = (0..weeks).map(|n| period(since + n as i64 * week)).collect();
    let counts = Series { name: "Opened", values: opened.iter().map(|n| Some(f64::from(*n))).collect() };
    let times = [
        Series { name: "MTTA p50", values: ack.iter_mut().map(median).collect() },
        Series { name: "MTTR p50", values: resolve.iter_mut().map(median).collect() },
    ];
    Ok([
        lines("incidents-opened", "Incidents opened a week", "", &labels, &[counts], &[]),
        lines("incidents-mtta-mttr", "Time to acknowledge and to resolve (p50, hours)", "h", &labels, &times, &[]),
    ]
    .into_iter()
    .flatten()
    .collect())
}

/// Projects whose score history a team's trend reads at most.
const TEAM_TREND_PROJECTS: usize = 200;

/// A team's average score over 90 days: today's scores, walked back
/// through each project's `score_changed` events. None when no score
/// moved (the page says so).
pub(crate) async fn team_score(
    state: &crate::PortalState,
    caller: &switchboard_core::Caller,
    projects: &[switchboard_core::model::ProjectSummary],
    now: Millis,
) -> Result<Option<Chart>, switchboard_core::Error> {
    use switchboard_core::event::{EventData, EventKind};
    use switchboard_core::model::DAY_MS;
    use switchboard_core::ops::inputs::ProjectHistory;
    let projects = &projects[..projects.len().min(TEAM_TREND_PROJECTS)];
    if projects.is_empty() {
        return Ok(None);
    }
    let since = now - 90 * DAY_MS;
    // (when, which project, score before, score after)
    let mut changes: Vec<(Millis, usize, f64, f64)> = Vec::new();
    for (n, p) in projects.iter().enumerate() {
        // Through the operation (its policy), as the project page's history.
        let history = ProjectHistory {
            project: p.slug.clone(),
            subject: None,
            since: Some(switchboard_core::time::TimeArg::At(since)),
            until: None,
            kinds: Some(vec![EventKind::ScoreChanged]),
            limit: Some(1000),
        };
        for e in state.service.call(caller, history).await?.events {
            if let Ok(EventData::ScoreChanged(s)) = e.data() {
                changes.push((e.occurred_at, n, f64::from(s.from), f64::from(s.to)));
            }
        }
    }
    if changes.is_empty() {
        return Ok(None);
    }
    // Newest first: undo each change from today's scores to get the average before it.
    changes.sort_by_key(|c| std::cmp::Reverse(c.0));
    let mut scores: Vec<f64> = projects.iter().map(|p| f64::from(p.score)).collect();
    let average = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
    let mut points = Vec::with_capacity(changes.len() + 1);
    for (at, n, from, _) in &changes {
        points.push((*at, average(&scores)));
        scores[*n] = *from;
    }
    points.push((since, average(&scores)));
    points.reverse();
    // Changes at the same moment (a rescore of every project) are one step.
    points.dedup_by(|later, earlier| {
        let same = later.0 == earlier.0;
        if same {
            earlier.1 = later.1;
        }
        same
    });
    Ok(crate::charts::score_trend("team-score-trend", "Average score over 90 days", &points, now))
}

/// Direct packages of a project looked up for its neighbourhood at most,
/// and how many of them (the most shared) and of its neighbours are drawn.
const NEIGHBOURHOOD_LOOKUPS: usize = 24;
const NEIGHBOURHOOD_PACKAGES: usize = 10;
const NEIGHBOURHOOD_PROJECTS: usize = 8;
/// Dependents read per package.
const DEPENDENTS_READ: usize = 50;

/// The project's dependency neighbourhood: its direct packages that other
/// projects use too (the most used first), and the projects sharing the
/// most of them.
pub(crate) async fn neighbourhood(
    state: &crate::PortalState,
    project: &switchboard_core::model::Project,
) -> Result<Option<Chart>, switchboard_core::store::StoreError> {
    use std::collections::{BTreeMap, BTreeSet};
    use switchboard_core::store::DependentsQuery;
    let mut seen = BTreeSet::new();
    let direct = project.dependencies.iter().filter(|d| !d.transitive && seen.insert(d.package.clone()));
    let mut used: Vec<(String, u64, Vec<String>)> = Vec::new();
    for d in direct.take(NEIGHBOURHOOD_LOOKUPS) {
        let q = DependentsQuery {
            package: d.package.clone(),
            version: None,
            ecosystem: Some(d.ecosystem),
            limit: DEPENDENTS_READ,
            direct_only: true,
        };
        let found = state.service.graph().dependents(&q).await?;
        let others: Vec<String> =
            found.projects.iter().filter(|r| r.project != project.slug).map(|r| r.project.to_string()).collect();
        if !others.is_empty() {
            used.push((d.package.to_string(), found.total, others));
        }
    }
    used.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    used.truncate(NEIGHBOURHOOD_PACKAGES);
    let mut shares: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (n, (_, _, others)) in used.iter().enumerate() {
        for o in others {
            shares.entry(o.as_str()).or_default().push(n);
        }
    }
    let mut neighbours: Vec<(String, Vec<usize>)> = shares.into_iter().map(|(p, s)| (p.to_owned(), s)).collect();
    neighbours.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
    neighbours.truncate(NEIGHBOURHOOD_PROJECTS);
    let packages: Vec<(String, u64)> = used.into_iter().map(|(p, n, _)| (p, n)).collect();
    Ok(crate::charts::neighbourhood("dependency-neighbourhood", project.slug.as_str(), &packages, &neighbours))
}

#[derive(askama::Template, askama_web::WebTemplate)]
#[template(path = "neighbourhood.html")]
struct NeighbourhoodPage {
    banner: Option<String>,
    slug: String,
    chart: Option<Chart>,
}

/// The section alone: the project page loads it when it scrolls into view.
#[derive(askama::Template, askama_web::WebTemplate)]
#[template(path = "_neighbourhood.html")]
struct NeighbourhoodSection {
    slug: String,
    chart: Option<Chart>,
}

/// `GET /projects/{slug}/neighbourhood`: the section alone for the project
/// page to load, a page of its own when opened directly.
pub(crate) async fn neighbourhood_page(
    axum::extract::State(state): axum::extract::State<crate::PortalState>,
    crate::PageCaller(caller): crate::PageCaller,
    headers: axum::http::HeaderMap,
    axum::extract::Path(slug): axum::extract::Path<String>,
) -> Result<axum::response::Response, crate::error::PageError> {
    use axum::response::IntoResponse;
    use switchboard_core::ops::inputs::GetProject;
    let slug: switchboard_core::ids::ProjectSlug = crate::pages::path("project", &slug)?;
    let d = state.service.call(&caller, GetProject { project: slug.clone() }).await?;
    let chart = neighbourhood(&state, &d.project).await?;
    let slug = slug.to_string();
    Ok(if headers.contains_key("hx-request") {
        NeighbourhoodSection { slug, chart }.into_response()
    } else {
        NeighbourhoodPage { banner: crate::views::banner(&state.mode, &caller), slug, chart }.into_response()
    })
}

/// A project's CI period by period: failure rate and median duration.
pub(crate) fn ci(h: &switchboard_core::ops::output::CiHealthReport) -> Vec<Chart> {
    let labels: Vec<String> = h.trend.iter().map(|p| period(p.from)).collect();
    let rate = h.trend.iter().map(|p| (p.builds > 0).then(|| f64::from(p.failures) * 100.0 / f64::from(p.builds)));
    let minutes = h.trend.iter().map(|p| p.duration_p50_ms.map(|ms| ms as f64 / 60_000.0));
    [
        lines(
            "ci-failure-rate",
            "CI failure rate (%)",
            "%",
            &labels,
            &[Series { name: "Failure rate", values: rate.collect() }],
            &[],
        ),
        lines(
            "ci-duration",
            "CI build duration (p50, minutes)",
            "min",
            &labels,
            &[Series { name: "Duration p50", values: minutes.collect() }],
            &[],
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}
