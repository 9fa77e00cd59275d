//! A run's thread: what is said under its approval request as it moves —
//! decisions, steps, the outcome, and the deployment it made. The courier
//! posts each to Slack and Discord as it happens; the portal's chat shows
//! the same replies under the request (`run_thread`).

use switchboard_core::Service;
use switchboard_core::config::TextsConfig;
use switchboard_core::event::{Event, EventData, EventKind, EventQuery};
use switchboard_core::ids::RunId;
use switchboard_core::messages as core_messages;
use switchboard_core::model::{DAY_MS, Deployment, Run};
use switchboard_core::ops::OpKind;
use switchboard_core::store::StoreResult;

use super::RUN_KINDS;
use crate::messages;
use crate::reply::Reply;

/// How long after a deploy run ends its deployment may still be reported.
const DEPLOYMENT_REPORT_MS: i64 = 10 * 60 * 1000;

/// `run`'s thread read from the operations log, and whether more may come
/// (the run is not over, or it is a deploy whose deployment has not been
/// reported yet and may still be).
pub async fn read_run_thread(service: &Service, run: &Run) -> StoreResult<(Vec<Reply>, bool)> {
    let mut kinds = RUN_KINDS.to_vec();
    kinds.push(EventKind::DeploymentRecorded);
    let q = EventQuery {
        project: run.project.clone(),
        kinds,
        since: Some(run.requested_at),
        until: Some(run.requested_at + 30 * DAY_MS),
        limit: 2000,
        ..Default::default()
    };
    let mut events = service.log().query(&q).await?;
    events.reverse(); // oldest first
    let texts = &service.config().texts;
    let replies = run_thread(run.id, &events, texts);
    let now = service.now();
    let deployed = events.iter().any(|e| finished_deployment(e).is_some_and(|(of, _)| of == run.id));
    let last = events.iter().filter(|e| e.data().ok().and_then(|d| d.run()) == Some(run.id)).map(|e| e.occurred_at);
    let ended = last.max().unwrap_or(run.requested_at);
    let status = run.status_at(now);
    let live = !status.is_final()
        || (run.operation == OpKind::Deploy
            && status == switchboard_core::model::RunStatus::Succeeded
            && !deployed
            && now - ended < DEPLOYMENT_REPORT_MS);
    Ok((replies, live))
}

/// The replies in `run`'s thread, from its events (oldest first), as the
/// courier would post them: the request itself is not among them.
pub fn run_thread(run: RunId, events: &[Event], texts: &TextsConfig) -> Vec<Reply> {
    let mut replies = Vec::new();
    for event in events {
        let data = event.data().ok();
        if event.kind == EventKind::DeploymentRecorded {
            if let Some((of, reply)) = deployment_of_a_run(event, texts)
                && of == run
            {
                replies.push(reply);
            }
            continue;
        }
        if event.kind != EventKind::RunRequested
            && RUN_KINDS.contains(&event.kind)
            && data.as_ref().and_then(EventData::run) == Some(run)
        {
            replies.push(progress_reply(event, data.as_ref()));
        }
    }
    replies
}

/// A deployment that finished (succeeded, failed, rolled back) — newly —
/// and names the deploy run that started it: that run, and the deployment.
fn finished_deployment(event: &Event) -> Option<(RunId, Deployment)> {
    let Ok(EventData::DeploymentRecorded(recorded)) = event.data() else { return None };
    let d = recorded.deployment;
    if !matches!(d.status.as_str(), "succeeded" | "failed" | "rolled_back")
        || recorded.previous_status == Some(d.status)
    {
        return None;
    }
    // Tied to its run by the correlation id the dispatch sent, never by time.
    Some((d.run?, d))
}

/// A finished deployment of a run (`finished_deployment`): that run, and
/// what to say in its thread.
pub(crate) fn deployment_of_a_run(event: &Event, texts: &TextsConfig) -> Option<(RunId, Reply)> {
    let (run, d) = finished_deployment(event)?;
    let status = d.status.as_str();
    let environment = d.environment.as_str();
    let context = serde_json::json!({
        "project": d.project, "version": d.version, "environment": environment,
        "status": status.replace('_', " "), "url": d.url, "run": run,
    });
    let said = texts.render("deployment_finished.txt", &context);
    let mut reply = Reply::text(said);
    if let Some(url) = d.url.as_deref() {
        reply = reply.link("Open the deployment", url);
    }
    Some((run, reply))
}

/// A run's decision (or expiry), as a reply in its request's thread.
pub(crate) fn progress_reply(event: &Event, data: Option<&EventData>) -> Reply {
    // A decision's reason, in the decider's words.
    let reason = match data {
        Some(EventData::RunApproved(d) | EventData::RunDenied(d) | EventData::RunCancelled(d)) => {
            d.reason.as_deref().filter(|r| !r.is_empty())
        }
        _ => None,
    };
    let text = match data {
        Some(EventData::RunApproved(_)) => format!("Approved by {}.", event.actor),
        Some(EventData::RunApprovalAdded(a)) => format!(
            "Approved by {}: {}",
            event.actor,
            core_messages::approval_waiting(a.approvals as usize, a.needed, a.team.as_ref().map(|t| t.as_str()))
        ),
        Some(EventData::RunHeld(h)) => core_messages::run_held(&h.freeze, h.until),
        Some(EventData::RunBlocked(b)) => messages::run_blocked(&b.reason),
        Some(EventData::RunDenied(_)) => format!("Denied by {}.", event.actor),
        Some(EventData::RunExpired(_)) => "Expired: nobody decided in time.".to_owned(),
        Some(EventData::RunStarted(_)) => "Started.".to_owned(),
        Some(EventData::RunStepFinished(s)) if s.followed => {
            let url = s.url.as_deref().map(|u| format!(" {u}")).unwrap_or_default();
            format!("The {} finished: {}.{url}", s.step, s.detail.as_deref().unwrap_or("unknown"))
        }
        Some(EventData::RunStepFinished(s)) => match (s.failed(), s.detail.as_deref()) {
            (true, detail) => format!("{} failed: {}; trying again.", s.step, detail.unwrap_or("no reason")),
            (false, Some(detail)) => format!("Done: {} ({detail}).", s.step),
            (false, None) => format!("Done: {}.", s.step),
        },
        Some(EventData::RunSucceeded(_)) => "Succeeded.".to_owned(),
        Some(EventData::RunCancelled(_)) => format!("Cancelled by {}.", event.actor),
        Some(EventData::RunFailed(f)) => format!("Failed: {}", f.reason),
        _ => format!("{}.", event.kind.as_str()),
    };
    Reply::text(match reason {
        Some(r) => format!("{text} “{r}”"),
        None => text,
    })
}
