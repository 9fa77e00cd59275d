//! `investigate`: the first minutes of an incident done for the person on
//! call — who owns it and who is on call, everything that happened around
//! its start (deployments, merged changes, builds, fact and dependency
//! changes, score changes, the team's other incidents, what the logs say),
//! and the changes most likely to have caused it, ranked, each with why
//! (docs/investigation.md). A suspect deployment comes with the version a
//! rollback would go back to ([`previous_good`]).

use super::{Call, Done};
use crate::error::{Error, Result};
use crate::event::{EventData, EventKind, EventQuery};
use crate::messages::describe_event;
use crate::model::{Deployment, DeploymentStatus, Incident, IncidentStatus, Millis};
use crate::ops::inputs::{CheckLogs, Investigate};
use crate::ops::output::{Investigation, LogReport, Output, Rollback, Suspect, TimelineEntry};
use crate::store::{DeploymentQuery, GraphStore, IncidentQuery};
use crate::time::format_duration;

const HOUR: Millis = 3_600_000;
/// Changes this long before the start are suspects.
const LOOK_BACK: Millis = 24 * HOUR;
/// A new log signature this soon after a change counts against it.
const EVIDENCE_WITHIN: Millis = HOUR;
/// A suspect this likely is named as the likely cause (a production
/// deployment about an hour and a half before, or closer, or any change
/// with log evidence); below it the report says nothing changed close by.
pub const LIKELY: f64 = 0.25;

/// The version a rollback of `project` in `environment` goes back to: the
/// latest successful deployment there before the current one (the newest
/// deployment, whatever its status) with another version. With it, the
/// current deployment. `None` when there is nothing earlier to go back to.
pub async fn previous_good(
    graph: &dyn GraphStore,
    project: &crate::ids::ProjectSlug,
    environment: &crate::ids::EnvName,
) -> crate::store::StoreResult<Option<(Deployment, Deployment)>> {
    let q = DeploymentQuery {
        project: Some(project.clone()),
        environment: Some(environment.clone()),
        since: None,
        limit: 200,
    };
    let mut all = graph.list_deployments(&q).await?;
    all.sort_by_key(|d| std::cmp::Reverse(d.started_at));
    let Some(current) = all.first().cloned() else { return Ok(None) };
    let good = all.into_iter().skip(1).find(|d| {
        d.status == DeploymentStatus::Succeeded && d.version != current.version && d.started_at < current.started_at
    });
    Ok(good.map(|g| (current, g)))
}

/// The incident `id` names: its id, or (with the project) its external id.
async fn find_incident(call: &Call<'_>, id: &str, project: Option<&crate::ids::ProjectSlug>) -> Result<Incident> {
    if let Some(p) = project
        && let Some(i) = call.ctx.graph.incident_by_external_id(p, id).await?
    {
        return Ok(i);
    }
    let q = IncidentQuery {
        project: project.cloned(),
        since: Some(call.now - 90 * 24 * HOUR),
        limit: 5000,
        ..Default::default()
    };
    let found = call.ctx.graph.list_incidents(&q).await?.into_iter().find(|i| {
        i.id.to_string() == id || i.id.simple().to_string().ends_with(id) || i.external_id.as_deref() == Some(id)
    });
    found.ok_or_else(|| Error::not_found("incident", id))
}

pub(super) async fn investigate(call: &Call<'_>, i: Investigate) -> Result<Done> {
    let incident = match (&i.incident, &i.project) {
        (Some(id), p) => Some(find_incident(call, id.trim(), p.as_ref()).await?),
        (None, Some(p)) => {
            // The project's latest open incident, if it has one.
            let mut open = Vec::new();
            for status in [IncidentStatus::Triggered, IncidentStatus::Acknowledged] {
                let q =
                    IncidentQuery { project: Some(p.clone()), status: Some(status), limit: 20, ..Default::default() };
                open.extend(call.ctx.graph.list_incidents(&q).await?);
            }
            open.into_iter().max_by_key(|i| i.opened_at)
        }
        (None, None) => return Err(Error::bad_input(None, "name a project or an incident to investigate")),
    };
    let slug = incident.as_ref().map(|i| i.project.clone()).or(i.project.clone()).expect("one of them");
    let project = call.project(&slug).await?;
    let start = match (&incident, i.since) {
        (Some(inc), _) => inc.opened_at,
        (None, Some(t)) => t.resolve(call.now),
        (None, None) => call.now - HOUR,
    };
    let since = start - LOOK_BACK;
    let until = (start + HOUR).min(call.now.max(start + 1));
    let team = call.ctx.graph.get_team(&project.team).await?;
    let oncall = ["oncall", "on_call", "pager"]
        .iter()
        .find_map(|k| project.facts.iter().find(|(key, _)| key.as_str() == *k).map(|(_, f)| f.value.to_string()));

    // Everything recorded for the project around the start.
    let kinds = vec![
        EventKind::DeploymentRecorded,
        EventKind::ChangeMerged,
        EventKind::BuildRecorded,
        EventKind::FactSet,
        EventKind::FactRemoved,
        EventKind::DependenciesChanged,
        EventKind::ScoreChanged,
        EventKind::IncidentRecorded,
    ];
    let q = EventQuery {
        project: Some(slug.clone()),
        kinds,
        since: Some(since),
        until: Some(until),
        limit: 500,
        ..Default::default()
    };
    let events = call.ctx.log.query(&q).await?;
    let mut timeline: Vec<TimelineEntry> = events
        .iter()
        .map(|e| TimelineEntry { at: e.occurred_at, kind: e.kind.as_str().to_owned(), text: describe_event(e) })
        .collect();

    // The team's other incidents in the same hours.
    let q = IncidentQuery { team: Some(project.team.clone()), since: Some(since), limit: 50, ..Default::default() };
    let others: Vec<Incident> = call
        .ctx
        .graph
        .list_incidents(&q)
        .await?
        .into_iter()
        .filter(|o| incident.as_ref().is_none_or(|i| i.id != o.id) && o.project != slug)
        .collect();
    for o in &others {
        timeline.push(TimelineEntry {
            at: o.opened_at,
            kind: "team_incident".into(),
            text: format!("{}: incident {} ({})", o.project, o.title, o.status.as_str()),
        });
    }

    // What the logs say around the start: the hour before it to the hour after.
    let logs = super::logs::check_logs(
        call,
        CheckLogs {
            project: slug.clone(),
            since: Some(crate::time::TimeArg::At(start - HOUR)),
            until: Some(crate::time::TimeArg::At(until.max(start - HOUR + 60_000))),
            query: None,
            level: None,
        },
    )
    .await;
    let (logs, logs_error) = match logs {
        Ok(Done { output: Output::Logs(r), .. }) => (Some(*r), None),
        Ok(_) => (None, None),
        Err(e) => (None, Some(e.to_string())),
    };
    if let Some(r) = &logs {
        for s in r.analysis.signatures.iter().filter(|s| s.new) {
            timeline.push(TimelineEntry {
                at: s.first_seen,
                kind: "new_log_signature".into(),
                text: format!("a new error in the logs: {} ({}×)", s.template, s.count),
            });
        }
        for s in &r.analysis.spikes {
            timeline.push(TimelineEntry {
                at: s.start,
                kind: "log_spike".into(),
                text: format!(
                    "errors spiked: {} in {} (about {} usual a bucket)",
                    s.errors,
                    format_duration(s.end - s.start),
                    s.baseline
                ),
            });
        }
    }
    timeline.sort_by_key(|t| t.at);

    let suspects = suspects(call, &slug, start, &events, logs.as_ref()).await?;
    let summary = match suspects.first() {
        Some(s) if s.score >= LIKELY => format!("Most likely: {} — {}.", s.what, s.reason),
        Some(s) => format!(
            "Nothing changed close to it; the nearest change was {}, {} before. Look outside the project too \
             (its dependencies' owners, the platform, traffic).",
            s.what,
            format_duration(start - s.at)
        ),
        None => {
            "No deployment, merged change or dependency change in the 24 hours before it: look outside the project \
                 (its dependencies' owners, the platform, traffic)."
                .to_owned()
        }
    };
    Ok(Done::read(Output::Investigation(Box::new(Investigation {
        project: slug,
        team: project.team.clone(),
        team_name: team.as_ref().map(|t| t.name.clone()),
        oncall,
        incident,
        start,
        since,
        until,
        summary,
        suspects,
        timeline,
        logs,
        logs_error,
        team_incidents: others,
    }))))
}

/// The changes before `start`, ranked: kind × closeness, tripled when a new
/// log signature first appeared within the hour after it.
async fn suspects(
    call: &Call<'_>,
    project: &crate::ids::ProjectSlug,
    start: Millis,
    events: &[crate::event::Event],
    logs: Option<&LogReport>,
) -> Result<Vec<Suspect>> {
    let new: Vec<&crate::logs::analysis::Signature> =
        logs.map(|r| r.analysis.signatures.iter().filter(|s| s.new).collect()).unwrap_or_default();
    let closeness = |at: Millis| 1.0 / (1.0 + (start - at).max(0) as f64 / (30.0 * 60_000.0));
    let mut out: Vec<Suspect> = Vec::new();
    let q = DeploymentQuery {
        project: Some(project.clone()),
        environment: None,
        since: Some(start - LOOK_BACK),
        limit: 200,
    };
    let mut rollbacks: std::collections::HashMap<crate::ids::EnvName, Option<(Deployment, Deployment)>> =
        std::collections::HashMap::new();
    for d in call.ctx.graph.list_deployments(&q).await? {
        let at = d.finished_at.unwrap_or(d.started_at);
        if at > start {
            continue;
        }
        let production = d.environment.as_str() == "production" || d.environment.as_str() == "prod";
        let weight = if production { 1.0 } else { 0.5 };
        let who = d.actor.as_deref().map(|a| format!(" by {a}")).unwrap_or_default();
        let failed = if d.status == DeploymentStatus::Failed { ", which failed" } else { "" };
        // One look per environment, however many deployments it had.
        if !rollbacks.contains_key(&d.environment) {
            let found = previous_good(call.ctx.graph.as_ref(), project, &d.environment).await?;
            rollbacks.insert(d.environment.clone(), found);
        }
        let rollback = match &rollbacks[&d.environment] {
            Some((current, good)) if current.id == d.id => Some(Rollback {
                environment: d.environment.to_string(),
                version: good.version.clone(),
                from: current.version.clone(),
            }),
            _ => None,
        };
        out.push(Suspect {
            kind: "deployment".into(),
            at,
            what: format!("the deployment of {} to {}", d.version, d.environment),
            reason: format!(
                "deployed {} to {}{who} {} before{failed}",
                d.version,
                d.environment,
                format_duration(start - at)
            ),
            score: weight * closeness(at),
            rollback,
        });
    }
    for e in events.iter().filter(|e| e.occurred_at <= start && e.occurred_at >= start - LOOK_BACK) {
        let (what, weight) = match e.data() {
            Ok(EventData::ChangeMerged(c)) => {
                let n = c.change.number.map(|n| format!(" #{n}")).unwrap_or_default();
                (format!("the change{n} \"{}\"", c.change.title), 0.6)
            }
            Ok(EventData::DependenciesChanged(c)) => {
                let moved: Vec<String> = c
                    .changed
                    .iter()
                    .take(3)
                    .map(|v| format!("{} {} → {}", v.package, v.from, v.to))
                    .chain(c.added.iter().take(2).map(|d| format!("{} {} added", d.package, d.version)))
                    .collect();
                if moved.is_empty() {
                    continue;
                }
                (format!("the dependency change ({})", moved.join(", ")), 0.5)
            }
            _ => continue,
        };
        let who = if e.actor.is_empty() { String::new() } else { format!(" by {}", e.actor) };
        out.push(Suspect {
            kind: e.kind.as_str().to_owned(),
            at: e.occurred_at,
            reason: format!("{what}{who}, {} before", format_duration(start - e.occurred_at)),
            what,
            score: weight * closeness(e.occurred_at),
            rollback: None,
        });
    }
    // A new error right after a change is the strongest evidence there is:
    // it counts for the latest change before the error first appeared.
    for s in &new {
        let blamed = out
            .iter_mut()
            .filter(|c| c.at <= s.first_seen && s.first_seen - c.at <= EVIDENCE_WITHIN)
            .max_by_key(|c| c.at);
        if let Some(c) = blamed {
            c.score *= 3.0;
            c.reason.push_str(&format!(
                "; a new error `{}` appeared in the logs {} after it",
                s.template,
                format_duration(s.first_seen - c.at)
            ));
        }
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out.truncate(5);
    // A rollback is offered only for a likely cause.
    for s in out.iter_mut().filter(|s| s.score < LIKELY) {
        s.rollback = None;
    }
    for s in &mut out {
        s.score = (s.score * 100.0).round() / 100.0;
    }
    Ok(out)
}
