//! The home page answers "what needs me?": open incidents by severity (with
//! age and owner), runs waiting for the reader's approval, runs blocked or
//! failed (with why), environments whose last deployment failed, score
//! drops, dead letters — then the organisation's counts and the recent
//! activity with its noise folded ("12 green CI builds"). Every counter is
//! a link. It reads the stores directly, as the other lists the operations
//! do not cover; it never writes.

use std::collections::{BTreeMap, HashSet};

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use switchboard_core::event::{EventData, EventKind, EventQuery};
use switchboard_core::inbox::DeliveryStatus;
use switchboard_core::model::{BuildStatus, DAY_MS, DeploymentStatus, RunStatus};
use switchboard_core::ops::Operation;
use switchboard_core::ops::inputs::{IncidentFilter, ListDeliveries, ListIncidents};
use switchboard_core::ops::output::Output;
use switchboard_core::store::{Counts, DeploymentQuery};
use switchboard_core::time::{format_duration, format_ms};

use crate::error::PageError;
use crate::views::{EventRow, banner};
use crate::{PageCaller, PortalState};

/// Events read for the recent activity, before folding.
const RECENT: usize = 200;
/// Rows of recent activity shown after folding.
const SHOWN: usize = 25;
/// A score drop this large (points, in a week) is worth a look.
const DROP: u8 = 10;

pub(crate) struct IncidentItem {
    project: String,
    team: String,
    title: String,
    severity: String,
    status: &'static str,
    age: String,
}

pub(crate) struct RunItem {
    id: String,
    summary: String,
    /// Why it is stuck, or what it waits for.
    why: String,
}

pub(crate) struct DeployItem {
    project: String,
    environment: String,
    version: String,
    when: String,
}

pub(crate) struct DropItem {
    project: String,
    from: u8,
    to: u8,
    when: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub(crate) struct HomePage {
    banner: Option<String>,
    counts: Counts,
    incidents: Vec<IncidentItem>,
    /// Pending runs the reader may approve now.
    yours: Vec<RunItem>,
    blocked: Vec<RunItem>,
    failed_runs: Vec<RunItem>,
    failed_deploys: Vec<DeployItem>,
    drops: Vec<DropItem>,
    /// Dead webhook deliveries, when the reader may see the inbox.
    dead: u64,
    /// "12 green CI builds", "5 score changes": what the activity folds.
    folded: Vec<String>,
    events: Vec<EventRow>,
}

impl HomePage {
    fn all_clear(&self) -> bool {
        self.incidents.is_empty()
            && self.yours.is_empty()
            && self.blocked.is_empty()
            && self.failed_runs.is_empty()
            && self.failed_deploys.is_empty()
            && self.drops.is_empty()
            && self.dead == 0
    }
}

/// "P1" before "P2", "critical" before "high"; none last.
fn severity_rank(s: Option<&str>) -> u32 {
    let Some(s) = s.map(|s| s.trim().to_ascii_lowercase()) else { return 99 };
    if let Some(n) = s.strip_prefix('p').or_else(|| s.strip_prefix("sev")).and_then(|n| n.parse::<u32>().ok()) {
        return n;
    }
    match s.as_str() {
        "critical" => 1,
        "high" | "error" => 2,
        "medium" | "warning" => 3,
        "low" | "info" => 4,
        _ => 50,
    }
}

pub(crate) async fn home(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
) -> Result<HomePage, PageError> {
    let graph = state.service.graph();
    let now = state.service.now();
    let counts = graph.counts().await?;

    let asked = ListIncidents { status: Some(IncidentFilter::Open), limit: Some(200), ..Default::default() };
    let mut open = state.service.call(&caller, asked).await?.incidents;
    open.sort_by_key(|i| (severity_rank(i.severity.as_deref()), i.opened_at));
    let mut incidents = Vec::new();
    for i in open.into_iter().take(20) {
        let team = graph.get_project(&i.project).await?.map(|p| p.team.to_string()).unwrap_or_default();
        incidents.push(IncidentItem {
            project: i.project.to_string(),
            team,
            title: i.title,
            severity: i.severity.unwrap_or_default(),
            status: i.status.as_str(),
            age: format_duration(now - i.opened_at),
        });
    }

    let mut yours = Vec::new();
    for run in graph.list_runs(Some(RunStatus::Pending), 200).await? {
        if run.status_at(now) == RunStatus::Pending && state.service.why_not_approve(&caller, &run).await?.is_none() {
            let why = format!("asked by {} {} ago", run.requested_by, format_duration(now - run.requested_at));
            yours.push(RunItem { id: run.id.to_string(), summary: run.summary, why });
        }
    }
    let blocked = graph
        .list_runs(Some(RunStatus::Blocked), 20)
        .await?
        .into_iter()
        .map(|r| RunItem {
            id: r.id.to_string(),
            why: switchboard_core::messages::run_blocked(r.operation.name()),
            summary: r.summary,
        })
        .collect();
    let failed_runs = graph
        .list_runs(Some(RunStatus::Failed), 50)
        .await?
        .into_iter()
        .filter(|r| r.requested_at >= now - 7 * DAY_MS)
        .take(10)
        .map(|r| RunItem {
            id: r.id.to_string(),
            why: r.steps.iter().rev().find_map(|s| s.detail.clone()).unwrap_or_default(),
            summary: r.summary,
        })
        .collect();

    // Environments whose newest deployment (this week) failed.
    let mut recent = graph
        .list_deployments(&DeploymentQuery { since: Some(now - 7 * DAY_MS), limit: 5000, ..Default::default() })
        .await?;
    recent.sort_by_key(|d| std::cmp::Reverse(d.started_at));
    let mut seen = HashSet::new();
    let failed_deploys = recent
        .into_iter()
        .filter(|d| seen.insert((d.project.clone(), d.environment.clone())))
        .filter(|d| d.status == DeploymentStatus::Failed)
        .take(10)
        .map(|d| DeployItem {
            project: d.project.to_string(),
            environment: d.environment.to_string(),
            version: d.version,
            when: format_ms(d.started_at),
        })
        .collect();

    // The week's score drops, the newest per project.
    let q = EventQuery {
        kinds: vec![EventKind::ScoreChanged],
        since: Some(now - 7 * DAY_MS),
        limit: 2000,
        ..Default::default()
    };
    let mut drops: BTreeMap<String, DropItem> = BTreeMap::new();
    for e in state.service.log().query(&q).await? {
        let (Some(project), Ok(EventData::ScoreChanged(s))) = (&e.project, e.data()) else { continue };
        if s.to + DROP <= s.from && !drops.contains_key(project.as_str()) {
            let item =
                DropItem { project: project.to_string(), from: s.from, to: s.to, when: format_ms(e.occurred_at) };
            drops.insert(project.to_string(), item);
        }
    }

    // Dead letters, for those who may read the inbox.
    let listed = Operation::ListDeliveries(ListDeliveries { status: Some(DeliveryStatus::Dead), limit: Some(1) });
    let dead = match state.service.execute(&caller, listed).await {
        Ok(Output::Deliveries(list)) => list.counts.get(DeliveryStatus::Dead.as_str()).copied().unwrap_or(0),
        _ => 0,
    };

    let (folded, events) = fold(&state.service.log().query(&EventQuery { limit: RECENT, ..Default::default() }).await?);
    Ok(HomePage {
        banner: banner(&state.mode, &caller),
        counts,
        incidents,
        yours,
        blocked,
        failed_runs,
        failed_deploys,
        drops: drops.into_values().collect(),
        dead,
        folded,
        events,
    })
}

/// The recent events with their noise folded: green CI builds and score
/// changes counted in one line each, the rest listed.
fn fold(events: &[switchboard_core::event::Event]) -> (Vec<String>, Vec<EventRow>) {
    let (mut green, mut scores) = (0usize, 0usize);
    let mut rows = Vec::new();
    for e in events {
        match e.data() {
            Ok(EventData::BuildRecorded(b)) if b.build.status == BuildStatus::Success && b.anomaly.is_none() => {
                green += 1
            }
            Ok(EventData::ScoreChanged(_)) => scores += 1,
            _ if rows.len() < SHOWN => rows.push(EventRow::from(e)),
            _ => {}
        }
    }
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let folded = [(green, "green CI build", "green CI builds"), (scores, "score change", "score changes")]
        .into_iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, one, many)| plural(n, one, many))
        .collect();
    (folded, rows)
}
