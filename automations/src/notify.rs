//! Notifications for owning teams: a bus subscriber turns domain events
//! (incident triggered or resolved, deployment failed, score dropped) into a
//! platform-neutral [`Notification`] addressed to the project's team, and
//! sends it to the configured outgoing webhook, signed with HMAC-SHA256.
//! Chat platforms get the same type in their own issue.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use switchboard_core::Service;
use switchboard_core::event::{Event, EventKind};
use switchboard_core::model::Millis;
use tokio::sync::broadcast::error::RecvError;

use crate::signature::hmac_hex;

/// Attempts per notification.
const ATTEMPTS: u32 = 3;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Notification {
    /// `incident_triggered`, `incident_resolved`, `deployment_failed`, `score_dropped`.
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
        EventKind::ScoreChanged => {
            let (from, to) = (p["from"].as_i64()?, p["to"].as_i64()?);
            (from - to > i64::from(score_drop)).then(|| ("score_dropped", format!("Score dropped from {from} to {to}")))
        }
        _ => None,
    }
}

/// Sends notifications while the process runs; `None` without a webhook URL.
pub fn spawn(service: Service) -> Option<tokio::task::JoinHandle<()>> {
    let config = service.config().notifications.clone();
    let url = config.webhook_url.clone()?;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(config.timeout_secs)).build().ok()?;
    let mut events = service.bus().subscribe();
    Some(tokio::spawn(async move {
        loop {
            let event = match events.recv().await {
                Ok(e) => e,
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "notifications missed bus events");
                    continue;
                }
                Err(RecvError::Closed) => return,
            };
            let Some((kind, title)) = classify(&event, config.score_drop) else { continue };
            let Some(project) = event.project.clone() else { continue };
            let team = match service.graph().get_project(&project).await {
                Ok(p) => p.map(|p| p.team.to_string()),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot look up a notification's team");
                    None
                }
            };
            let n = Notification {
                kind,
                team,
                url: format!("{}/projects/{project}", service.config().server.base_url()),
                project: project.to_string(),
                title,
                at: event.occurred_at,
                event: event.id.to_string(),
            };
            send(&client, &url, config.webhook_secret.as_deref(), &n).await;
        }
    }))
}

async fn send(client: &reqwest::Client, url: &str, secret: Option<&str>, n: &Notification) {
    let body = serde_json::to_vec(n).expect("notifications serialize");
    for attempt in 1..=ATTEMPTS {
        let mut req = client.post(url).header("content-type", "application/json").body(body.clone());
        if let Some(secret) = secret {
            req = req.header("X-Switchboard-Signature-256", format!("sha256={}", hmac_hex(secret.as_bytes(), &body)));
        }
        match req.send().await {
            Ok(r) if r.status().is_success() => return,
            Ok(r) => tracing::warn!(status = %r.status(), attempt, kind = n.kind, "notification webhook refused"),
            Err(e) => tracing::warn!(error = %e, attempt, kind = n.kind, "notification webhook unreachable"),
        }
        tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
    }
    tracing::error!(kind = n.kind, project = %n.project, "notification not delivered after {ATTEMPTS} attempts");
}
