//! Notifications for owning teams: which domain events are news for a team
//! (incident triggered or resolved, deployment failed, score dropped, an
//! unusually slow CI build) and the platform-neutral [`Notification`] that
//! every channel delivers — the portal's live list, the outgoing webhook,
//! and chat platforms.

use serde::Serialize;
use serde_json::Value;

use crate::event::{Event, EventKind, EventQuery};
use crate::model::Millis;
use crate::service::Service;
use crate::store::StoreResult;
use crate::time::format_duration;

/// Event kinds that can become notifications.
pub const SOURCE_KINDS: [EventKind; 4] =
    [EventKind::IncidentRecorded, EventKind::DeploymentRecorded, EventKind::ScoreChanged, EventKind::BuildRecorded];

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Notification {
    /// `incident_triggered`, `incident_resolved`, `deployment_failed`,
    /// `score_dropped`, `build_anomaly`.
    pub kind: &'static str,
    /// The owning team, when the project has one.
    pub team: Option<String>,
    pub project: String,
    pub title: String,
    /// The project's portal page.
    pub url: String,
    pub at: Millis,
    /// The event it comes from.
    pub event: String,
}

/// What `event` is worth telling the owning team, if anything: (kind, title).
/// `score_drop`: a fall of more than this many points is news.
pub fn classify(event: &Event, score_drop: u32) -> Option<(&'static str, String)> {
    let p = &event.payload;
    // Only a change of status is news (a repeated webhook is not).
    let changed = |now: &Value| p["previous_status"] != *now;
    match event.kind {
        EventKind::IncidentRecorded => {
            let i = &p["incident"];
            let status = &i["status"];
            let title = i["title"].as_str().unwrap_or("an incident");
            match status.as_str() {
                Some("triggered") if changed(status) => Some(("incident_triggered", format!("Incident: {title}"))),
                Some("resolved") if changed(status) => Some(("incident_resolved", format!("Resolved: {title}"))),
                _ => None,
            }
        }
        EventKind::DeploymentRecorded => {
            let d = &p["deployment"];
            let status = &d["status"];
            match status.as_str() {
                Some(s @ ("failed" | "rolled_back")) if changed(status) => Some((
                    "deployment_failed",
                    format!(
                        "Deployment of {} to {} {}",
                        d["version"].as_str().unwrap_or("?"),
                        d["environment"].as_str().unwrap_or("?"),
                        if s == "failed" { "failed" } else { "was rolled back" }
                    ),
                )),
                _ => None,
            }
        }
        EventKind::BuildRecorded => {
            let usual = p["anomaly"]["usual_ms"].as_i64()?;
            let took = p["anomaly"]["duration_ms"].as_i64()?;
            Some((
                "build_anomaly",
                format!("CI build took {}, usually {}", format_duration(took), format_duration(usual)),
            ))
        }
        EventKind::ScoreChanged => {
            let (from, to) = (p["from"].as_i64()?, p["to"].as_i64()?);
            (from - to > i64::from(score_drop)).then(|| ("score_dropped", format!("Score dropped from {from} to {to}")))
        }
        _ => None,
    }
}

/// The notification `event` makes, addressed to its project's team.
pub async fn notification(service: &Service, event: &Event) -> Option<Notification> {
    let (kind, title) = classify(event, service.config().notifications.score_drop)?;
    let project = event.project.clone()?;
    let team = match service.graph().get_project(&project).await {
        Ok(p) => p.map(|p| p.team.to_string()),
        Err(e) => {
            tracing::warn!(error = %e, "cannot look up a notification's team");
            None
        }
    };
    Some(Notification {
        kind,
        team,
        url: format!("{}/projects/{project}", service.config().server.base_url()),
        project: project.to_string(),
        title,
        at: event.occurred_at,
        event: event.id.to_string(),
    })
}

/// The latest notifications (newest first), rebuilt from the operations log;
/// only `team`'s when given.
pub async fn recent(service: &Service, team: Option<&str>, limit: usize) -> StoreResult<Vec<Notification>> {
    let q = EventQuery { kinds: SOURCE_KINDS.to_vec(), limit: 2000, ..Default::default() };
    let mut out = Vec::new();
    for event in service.log().query(&q).await? {
        if out.len() >= limit {
            break;
        }
        if let Some(n) = notification(service, &event).await
            && team.is_none_or(|t| n.team.as_deref() == Some(t))
        {
            out.push(n);
        }
    }
    Ok(out)
}
