//! Recording what happened to a project elsewhere: deployments, incidents,
//! builds and merged changes, as reporters (webhook rules, CI, people) say
//! them; each keyed by the reporter's id so saying it again updates it.

use super::write::{name, url};
use super::{Call, Done};
use crate::error::{Error, Result};
use crate::event::{EventData, EventKind, payload};
use crate::ids::*;
use crate::model::*;
use crate::ops::inputs::*;
use crate::ops::output::*;

fn external_id(field: &str, v: Option<String>) -> Result<Option<String>> {
    v.map(|v| {
        let v = v.trim().to_owned();
        if v.is_empty() || v.len() > 200 { Err(Error::field(field, "must be 1-200 characters")) } else { Ok(v) }
    })
    .transpose()
}

fn times(
    call: &Call<'_>,
    start: Option<crate::time::TimeArg>,
    end: Option<crate::time::TimeArg>,
    end_field: &str,
) -> Result<(Millis, Option<Millis>)> {
    let s = start.map(|t| t.resolve(call.now)).unwrap_or(call.now);
    let e = end.map(|t| t.resolve(call.now));
    if let Some(e) = e
        && e < s
    {
        return Err(Error::field(end_field, "must not be before the start"));
    }
    Ok((s, e))
}

pub(crate) async fn record_deployment(call: &Call<'_>, i: RecordDeployment) -> Result<Done> {
    let mut p = call.project(&i.project).await?;
    if !p.environments.iter().any(|e| e.name == i.environment) {
        let known: Vec<&str> = p.environments.iter().map(|e| e.name.as_str()).collect();
        return Err(Error::field(
            "environment",
            format!("{} has no environment {:?}; it has: {}", p.slug, i.environment.as_str(), known.join(", ")),
        ));
    }
    let version = name("version", &i.version)?;
    let external_id = external_id("external_id", i.external_id)?;
    let (started_at, finished_at) = times(call, i.started_at, i.finished_at, "finished_at")?;
    let existing = match &external_id {
        Some(x) => call.ctx.graph.deployment_by_external_id(&p.slug, x).await?,
        None => None,
    };
    let run = match i.run.as_deref().and_then(RunId::find_in) {
        Some(id) => deploy_run_of(call, id, &p.slug, &i.environment).await?,
        None => None,
    }
    .or(existing.as_ref().and_then(|d| d.run));
    let status = i.status.unwrap_or(DeploymentStatus::Succeeded);
    let finished_at = finished_at.or(match status {
        DeploymentStatus::Succeeded | DeploymentStatus::Failed | DeploymentStatus::RolledBack => {
            Some(call.now.max(started_at))
        }
        _ => None,
    });
    let d = Deployment {
        id: existing.as_ref().map(|d| d.id).unwrap_or_else(|| crate::event::new_event_id(started_at)),
        project: p.slug.clone(),
        environment: i.environment,
        version,
        status,
        sha: i.sha,
        actor: i.actor.map(|a| name("actor", &a)).transpose()?.or_else(|| Some(call.caller.user.to_string())),
        url: i.url.map(|u| url("url", &u)).transpose()?,
        external_id,
        started_at: existing.as_ref().map(|d| d.started_at).unwrap_or(started_at),
        finished_at,
        run,
    };
    call.ctx.graph.put_deployment(&d).await?;
    let mut events = vec![
        call.event(EventData::DeploymentRecorded(payload::DeploymentRecorded {
            deployment: d.clone(),
            previous_status: existing.map(|e| e.status),
        }))
        .project(&p.slug)
        .subject(d.environment.as_str()),
    ];
    if call.rescore(&mut p, &mut events).await? {
        call.ctx.graph.put_project(&p).await?;
    }
    Ok(Done { output: Output::Deployment(d), events })
}

/// `id` when it is a deploy run of `project` to `environment`; `None` when
/// this installation has no such run (another installation's, say). A
/// correlation id naming a different run is a mistake in the reporter, said
/// as such.
async fn deploy_run_of(
    call: &Call<'_>,
    id: RunId,
    project: &ProjectSlug,
    environment: &EnvName,
) -> Result<Option<RunId>> {
    let Some(run) = call.ctx.graph.get_run(&id).await? else { return Ok(None) };
    match run.request() {
        Ok(RunRequest::Deploy(d)) if &d.project == project && &d.environment == environment => Ok(Some(id)),
        _ => Err(Error::field("run", format!("run {id} is not a deploy of {project} to {environment}"))),
    }
}

pub(crate) async fn record_incident(call: &Call<'_>, i: RecordIncident) -> Result<Done> {
    let mut p = call.project(&i.project).await?;
    let external_id = external_id("external_id", i.external_id)?;
    let existing = match &external_id {
        Some(x) => call.ctx.graph.incident_by_external_id(&p.slug, x).await?,
        None => None,
    };
    let title = match (&i.title, &existing) {
        (Some(t), _) => name("title", t)?,
        (None, Some(e)) => e.title.clone(),
        (None, None) => return Err(Error::field("title", "a new incident needs a title")),
    };
    let status = i.status.or(existing.as_ref().map(|e| e.status)).unwrap_or(IncidentStatus::Triggered);
    let opened_at = match (&existing, i.opened_at) {
        (_, Some(t)) => t.resolve(call.now),
        (Some(e), None) => e.opened_at,
        // First heard of when it is already resolved (a webhook that arrives
        // late or alone): it was open by then at the latest.
        (None, None) => i.resolved_at.map(|t| t.resolve(call.now).min(call.now)).unwrap_or(call.now),
    };
    let resolved_at = match (i.resolved_at, status) {
        (Some(t), _) => Some(t.resolve(call.now)),
        (None, IncidentStatus::Resolved) => {
            existing.as_ref().and_then(|e| e.resolved_at).or(Some(call.now.max(opened_at)))
        }
        (None, _) => None,
    };
    if let Some(r) = resolved_at
        && r < opened_at
    {
        return Err(Error::field("resolved_at", "must not be before opened_at"));
    }
    let incident = Incident {
        id: existing.as_ref().map(|e| e.id).unwrap_or_else(|| crate::event::new_event_id(opened_at)),
        project: p.slug.clone(),
        title,
        status,
        severity: i
            .severity
            .map(|s| name("severity", &s))
            .transpose()?
            .or(existing.as_ref().and_then(|e| e.severity.clone())),
        url: i.url.map(|u| url("url", &u)).transpose()?.or(existing.as_ref().and_then(|e| e.url.clone())),
        external_id,
        opened_at,
        resolved_at,
    };
    call.ctx.graph.put_incident(&incident).await?;
    let mut events = vec![
        call.event(EventData::IncidentRecorded(payload::IncidentRecorded {
            incident: incident.clone(),
            previous_status: existing.map(|e| e.status),
        }))
        .project(&p.slug)
        .subject(incident.status.as_str()),
    ];
    if call.rescore(&mut p, &mut events).await? {
        call.ctx.graph.put_project(&p).await?;
    }
    Ok(Done { output: Output::Incident(incident), events })
}

pub(crate) async fn record_build(call: &Call<'_>, i: RecordBuild) -> Result<Done> {
    let mut p = call.project(&i.project).await?;
    let external_id = external_id("external_id", i.external_id)?;
    if let Some(d) = i.duration_ms
        && !(0..=30 * DAY_MS).contains(&d)
    {
        return Err(Error::field("duration_ms", "must be between 0 and 30 days in milliseconds"));
    }
    let (started_at, finished_at) = times(call, i.started_at, i.finished_at, "finished_at")?;
    let existing = match &external_id {
        Some(x) => call.ctx.graph.build_by_external_id(&p.slug, x).await?,
        None => None,
    };
    let finished_at = finished_at.or(match i.status {
        BuildStatus::Running => None,
        _ => Some(started_at + i.duration_ms.unwrap_or(0)),
    });
    let build = Build {
        id: existing.as_ref().map(|b| b.id).unwrap_or_else(|| crate::event::new_event_id(started_at)),
        project: p.slug.clone(),
        status: i.status,
        sha: i.sha,
        branch: i.branch.map(|b| name("branch", &b)).transpose()?,
        duration_ms: i.duration_ms,
        url: i.url.map(|u| url("url", &u)).transpose()?,
        external_id,
        started_at,
        finished_at,
    };
    // Read once: a new finished duration is compared with the history
    // before it, and the score looks for the newest default-branch build.
    let history =
        call.ctx.graph.list_builds(&p.slug, super::ci::ANOMALY_WINDOW.max(crate::score::BUILDS_SEARCHED)).await?;
    let anomaly = match build.duration_ms {
        Some(d) if existing.as_ref().is_none_or(|e| e.duration_ms.is_none()) => {
            super::ci::duration_anomaly(&history, build.id, d)
        }
        _ => None,
    };
    call.ctx.graph.put_build(&build).await?;
    let anomaly =
        anomaly.zip(build.duration_ms).map(|(usual_ms, duration_ms)| payload::SlowBuild { usual_ms, duration_ms });
    let recorded = EventData::BuildRecorded(payload::BuildRecorded { build: build.clone(), anomaly });
    let mut events = vec![call.event(recorded).project(&p.slug).subject(build.status.as_str())];
    let mut recent = vec![build.clone()];
    recent.extend(history.into_iter().filter(|b| b.id != build.id));
    if call.rescore_with(&mut p, &mut events, Some(&recent)).await? {
        call.ctx.graph.put_project(&p).await?;
    }
    Ok(Done { output: Output::Build(build), events })
}

pub(crate) async fn record_change(call: &Call<'_>, i: RecordChange) -> Result<Done> {
    let p = call.project(&i.project).await?;
    let external_id = external_id("external_id", i.external_id)?;
    let opened_at = i.opened_at.resolve(call.now);
    let merged_at = i.merged_at.map(|t| t.resolve(call.now)).unwrap_or(call.now);
    if merged_at < opened_at {
        return Err(Error::field("merged_at", "must not be before opened_at"));
    }
    let change = Change {
        project: p.slug.clone(),
        title: name("title", &i.title)?,
        number: i.number,
        sha: i.sha,
        author: i.author.map(|a| name("author", &a)).transpose()?,
        url: i.url.map(|u| url("url", &u)).transpose()?,
        external_id,
        opened_at,
        merged_at,
    };
    // Recorded once: a second delivery of the same merge changes nothing.
    if let Some(x) = &change.external_id {
        let q = crate::event::EventQuery {
            project: Some(p.slug.clone()),
            kinds: vec![EventKind::ChangeMerged],
            subject: Some(x.to_lowercase()),
            limit: 1,
            ..Default::default()
        };
        if !call.ctx.log.query(&q).await?.is_empty() {
            return Ok(Done::read(Output::Change(change)));
        }
    }
    let merged = EventData::ChangeMerged(payload::ChangeMerged { change: change.clone() });
    let mut event = call.event(merged).project(&p.slug);
    if let Some(x) = &change.external_id {
        event = event.subject(x);
    }
    Ok(Done { output: Output::Change(change), events: vec![event] })
}
