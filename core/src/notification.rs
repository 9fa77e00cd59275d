//! Notifications for owning teams: which domain events are news for a team
//! (incident triggered or resolved, deployment failed, score dropped, an
//! unusually slow CI build) and the platform-neutral [`Notification`] that
//! every channel delivers — the portal's live list, the outgoing webhook,
//! and chat platforms.

use serde::Serialize;

use crate::event::{Event, EventKind, EventQuery};
use crate::model::Millis;
use crate::service::Service;
use crate::store::StoreResult;
use crate::time::format_duration;

/// Event kinds that can become notifications.
pub const SOURCE_KINDS: [EventKind; 5] = [
    EventKind::IncidentRecorded,
    EventKind::DeploymentRecorded,
    EventKind::ScoreChanged,
    EventKind::BuildRecorded,
    EventKind::VulnerabilityFound,
];

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Notification {
    /// `incident_triggered`, `incident_resolved`, `deployment_failed`,
    /// `score_dropped`, `build_anomaly`, `vulnerability_found`.
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
    /// The advisory a `vulnerability_found` is about (what its Fix button fixes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advisory: Option<String>,
    /// A vulnerability's severity (what `[advisories.quiet_hours]` weighs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<crate::advisory::Severity>,
}

impl Notification {
    /// When chat may say it: `None` now, else the end of the quiet hours
    /// `at` falls in (`[advisories.quiet_hours]`, vulnerabilities only).
    pub fn held_until(&self, config: &crate::config::Config, at: Millis) -> Option<Millis> {
        let quiet = config.advisories.quiet_hours.as_ref()?;
        quiet.holds_until(at, self.severity?)
    }
}

/// What `event` is worth telling the owning team, if anything: its kind
/// and what the `notification.txt` text is given to say it (with the
/// kind, the project and the team added by `notification`).
/// A fall of more than `notifications.score_drop` points is news; a
/// vulnerability is when `advisories.notify` is on and it is at least
/// `advisories.notify_min_severity` (and certain, not "cannot evaluate").
pub fn classify(event: &Event, config: &crate::config::Config) -> Option<(&'static str, serde_json::Value)> {
    let score_drop = config.notifications.score_drop;
    use crate::event::EventData as D;
    use crate::model::{DeploymentStatus, IncidentStatus};
    use serde_json::json;
    // Only a change of status is news (a repeated webhook is not).
    match event.data().ok()? {
        D::IncidentRecorded(p) if p.previous_status != Some(p.incident.status) => {
            let i = &p.incident;
            let kind = match i.status {
                IncidentStatus::Triggered => "incident_triggered",
                IncidentStatus::Resolved => "incident_resolved",
                _ => return None,
            };
            let incident = json!({"title": i.title, "status": i.status, "severity": i.severity, "url": i.url});
            Some((kind, json!({ "incident": incident })))
        }
        D::DeploymentRecorded(p) if p.previous_status != Some(p.deployment.status) => {
            let d = &p.deployment;
            // A deploy someone asked for and someone approved: its end is
            // news when it went well too (other deployments only when not).
            let kind = match d.status {
                DeploymentStatus::Succeeded if d.run.is_some() => "deployment_succeeded",
                DeploymentStatus::Failed | DeploymentStatus::RolledBack => "deployment_failed",
                _ => return None,
            };
            let deployment =
                json!({"version": d.version, "environment": d.environment, "status": d.status, "url": d.url});
            Some((kind, json!({ "deployment": deployment })))
        }
        D::BuildRecorded(p) => {
            let slow = p.anomaly?;
            let build = json!({"took": format_duration(slow.duration_ms), "usual": format_duration(slow.usual_ms)});
            Some(("build_anomaly", json!({ "build": build })))
        }
        D::VulnerabilityFound(p) => {
            let a = &config.advisories;
            let certain = p.status == crate::advisory::MatchStatus::Affected;
            if !a.notify || !certain || p.severity < a.notify_min_severity {
                return None;
            }
            let vulnerability = json!({
                "advisory": crate::messages::advisory_name(&p.advisory, &p.aliases), "id": p.advisory,
                "severity": p.severity, "package": p.package, "version": p.version, "fixed": p.fixed,
                "summary": p.summary, "transitive": p.transitive,
            });
            Some(("vulnerability_found", json!({ "vulnerability": vulnerability })))
        }
        D::ScoreChanged(p) => {
            let (from, to) = (i64::from(p.from), i64::from(p.to));
            (from - to > i64::from(score_drop)).then(|| ("score_dropped", json!({"score": {"from": from, "to": to}})))
        }
        _ => None,
    }
}

/// The first line of a notification: `notification.txt` said with what
/// `classify` found, the kind, the project and its team.
pub fn title(
    texts: &crate::texts::Texts,
    kind: &str,
    context: serde_json::Value,
    project: &str,
    team: Option<&str>,
) -> String {
    let mut context = context;
    if let Some(c) = context.as_object_mut() {
        c.insert("kind".into(), kind.into());
        c.insert("project".into(), project.into());
        c.insert("team".into(), team.into());
    }
    texts.render("notification.txt", &context)
}

/// The notification `event` makes, addressed to its project's team.
pub async fn notification(service: &Service, event: &Event) -> Option<Notification> {
    let (kind, context) = classify(event, service.config())?;
    let project = event.project.clone()?;
    let team = match service.graph().get_project(&project).await {
        Ok(p) => p.map(|p| p.team.to_string()),
        Err(e) => {
            tracing::warn!(error = %e, "cannot look up a notification's team");
            None
        }
    };
    let advisory = context["vulnerability"]["id"].as_str().map(str::to_owned);
    let severity = serde_json::from_value(context["vulnerability"]["severity"].clone()).ok();
    let title = title(&service.config().texts.loaded, kind, context, project.as_str(), team.as_deref());
    Some(Notification {
        kind,
        team,
        url: format!("{}/projects/{project}", service.config().server.base_url()),
        project: project.to_string(),
        title,
        at: event.occurred_at,
        event: event.id.to_string(),
        advisory,
        severity,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventData;
    use crate::event::payload::DeploymentRecorded;
    use crate::ids::RunId;
    use crate::model::{Deployment, DeploymentStatus};

    fn deployment(status: DeploymentStatus, run: Option<RunId>, previous: Option<DeploymentStatus>) -> Event {
        let deployment = Deployment {
            id: uuid::Uuid::nil(),
            project: "orders".parse().unwrap(),
            environment: "staging".parse().unwrap(),
            version: "2.0.0".into(),
            status,
            sha: None,
            actor: None,
            url: None,
            external_id: None,
            started_at: 1,
            finished_at: None,
            run,
        };
        Event::of(
            &EventData::DeploymentRecorded(DeploymentRecorded { deployment, previous_status: previous }),
            1,
            "x",
            "t",
        )
    }

    #[test]
    fn a_deployment_is_news_when_it_fails_or_when_a_run_asked_for_it() {
        use DeploymentStatus::*;
        let texts = crate::texts::Texts::built_in();
        let config = crate::config::Config::default();
        let kind =
            |e: &Event| classify(e, &config).map(|(k, c)| format!("{k}: {}", title(&texts, k, c, "orders", None)));
        let run = Some(RunId::new());
        assert_eq!(
            kind(&deployment(Succeeded, run, None)).as_deref(),
            Some("deployment_succeeded: Deployed 2.0.0 to staging")
        );
        assert_eq!(kind(&deployment(Succeeded, None, None)), None, "a deployment nobody asked Switchboard for");
        assert_eq!(kind(&deployment(Succeeded, run, Some(Succeeded))), None, "the same report twice");
        assert_eq!(
            kind(&deployment(Failed, None, None)).as_deref(),
            Some("deployment_failed: Deployment of 2.0.0 to staging failed")
        );
    }
}
