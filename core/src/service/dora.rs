//! `dora`: deployment frequency, lead time for changes, change failure rate
//! and time to restore, from recorded deployments, builds and incidents.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::event::{EventKind, EventQuery};
use crate::ids::ProjectSlug;
use crate::model::{Build, Change, DAY_MS, Deployment, DeploymentStatus, Incident, Millis};
use crate::ops::inputs::Dora;
use crate::ops::output::{DoraPeriod, DoraReport, Output};
use crate::service::ci::percentile;
use crate::service::{Call, Done};
use crate::store::{DeploymentQuery, IncidentQuery, ProjectQuery};

const WINDOW_DAYS: i64 = 30;
/// Deployments and incidents read at most.
const MAX_ROWS: usize = 10_000;
/// Lead time needs each project's builds; past this many projects it is left out.
const LEAD_TIME_PROJECTS: usize = 200;

pub(crate) async fn dora(call: &Call<'_>, i: Dora) -> Result<Done> {
    if i.project.is_some() && i.team.is_some() {
        return Err(Error::field("team", "give a project or a team, not both"));
    }
    let cfg = &call.ctx.config;
    let environment = match i.environment {
        Some(e) if !cfg.environments.contains(&e) => {
            return Err(Error::field("environment", format!("{e} is not a configured environment")));
        }
        Some(e) => e,
        None => cfg.environments.last().cloned().ok_or_else(|| Error::field("environment", "no environments"))?,
    };
    let since = i.since.map(|t| t.resolve(call.now)).unwrap_or(call.now - WINDOW_DAYS * DAY_MS);
    let (scope, projects): (String, Option<Vec<ProjectSlug>>) = match (&i.project, &i.team) {
        (Some(p), _) => (format!("project {p}"), Some(vec![call.project(p).await?.slug])),
        (None, Some(t)) => {
            call.ctx.graph.get_team(t).await?.ok_or_else(|| Error::not_found("team", t))?;
            let q = ProjectQuery { team: Some(t.clone()), limit: 10_000, ..Default::default() };
            let slugs = call.ctx.graph.find_projects(&q).await?.into_iter().map(|p| p.slug).collect();
            (format!("team {t}"), Some(slugs))
        }
        (None, None) => ("every project".into(), None),
    };

    let mut deployments = Vec::new();
    let incidents;
    let dq = |project: Option<ProjectSlug>| DeploymentQuery {
        project,
        environment: Some(environment.clone()),
        since: Some(since),
        limit: MAX_ROWS,
    };
    match &projects {
        Some(slugs) => {
            for p in slugs {
                deployments.extend(call.ctx.graph.list_deployments(&dq(Some(p.clone()))).await?);
            }
            let iq = IncidentQuery {
                project: i.project.clone(),
                team: i.team.clone(),
                limit: MAX_ROWS,
                ..Default::default()
            };
            incidents = call.ctx.graph.list_incidents(&iq).await?;
        }
        None => {
            deployments = call.ctx.graph.list_deployments(&dq(None)).await?;
            incidents = call.ctx.graph.list_incidents(&IncidentQuery { limit: MAX_ROWS, ..Default::default() }).await?;
        }
    }
    let mut builds: BTreeMap<ProjectSlug, Vec<Build>> = BTreeMap::new();
    let deployed: std::collections::BTreeSet<&ProjectSlug> = deployments.iter().map(|d| &d.project).collect();
    if deployed.len() <= LEAD_TIME_PROJECTS {
        for p in deployed {
            builds.insert(p.clone(), call.ctx.graph.list_builds(p, 5000).await?);
        }
    }
    // Changes merged up to a window before `since` may still be deployed in it.
    let cq = |project: Option<ProjectSlug>| EventQuery {
        project,
        kinds: vec![EventKind::ChangeMerged],
        since: Some(since - WINDOW_DAYS * DAY_MS),
        limit: MAX_ROWS,
        ..Default::default()
    };
    let mut merged = Vec::new();
    match &projects {
        Some(slugs) => {
            for p in slugs {
                merged.extend(call.ctx.log.query(&cq(Some(p.clone()))).await?);
            }
        }
        None => merged = call.ctx.log.query(&cq(None)).await?,
    }
    let changes: Vec<Change> = merged
        .into_iter()
        .filter_map(|e| match e.data() {
            Ok(crate::event::EventData::ChangeMerged(m)) => Some(m.change),
            _ => None,
        })
        .collect();
    let mut report = compute(&deployments, &builds, &changes, &incidents, since, call.now);
    report.trend = trend(&deployments, &builds, &changes, &incidents, since, call.now);
    report.scope = scope;
    report.environment = environment;
    Ok(Done::read(Output::Dora(report)))
}

/// The report over deployments to one environment since `since`, the
/// projects' merged changes and builds (for lead time) and their incidents.
///
/// Lead time for changes: for a merged change, from its opening to the first
/// successful deployment of its project started at or after the merge. A
/// project without recorded changes falls back to its builds: from the first
/// build of a deployed commit to that deployment.
pub fn compute(
    deployments: &[Deployment],
    builds: &BTreeMap<ProjectSlug, Vec<Build>>,
    changes: &[Change],
    incidents: &[Incident],
    since: Millis,
    now: Millis,
) -> DoraReport {
    measure(deployments, builds, changes, incidents, since, now).0
}

/// `compute`'s report, and how many deployments finished in the window
/// (the failure rate's denominator).
fn measure(
    deployments: &[Deployment],
    builds: &BTreeMap<ProjectSlug, Vec<Build>>,
    changes: &[Change],
    incidents: &[Incident],
    since: Millis,
    now: Millis,
) -> (DoraReport, u32) {
    let window: Vec<&Deployment> = deployments.iter().filter(|d| d.started_at >= since).collect();
    let finished: Vec<&&Deployment> = window
        .iter()
        .filter(|d| {
            matches!(d.status, DeploymentStatus::Succeeded | DeploymentStatus::Failed | DeploymentStatus::RolledBack)
        })
        .collect();
    let failed = finished.iter().filter(|d| d.status != DeploymentStatus::Succeeded).count();
    let succeeded: Vec<&&Deployment> =
        finished.iter().copied().filter(|d| d.status == DeploymentStatus::Succeeded).collect();
    let days = ((now - since) as f64 / DAY_MS as f64).max(1.0 / 24.0);

    let deployed_at = |d: &Deployment| d.finished_at.unwrap_or(d.started_at);
    let with_changes: std::collections::BTreeSet<&ProjectSlug> = changes.iter().map(|c| &c.project).collect();
    let mut lead: Vec<i64> = changes
        .iter()
        .filter_map(|c| {
            let first = succeeded
                .iter()
                .filter(|d| d.project == c.project && d.started_at >= c.merged_at)
                .map(|d| deployed_at(d))
                .min()?;
            Some(first - c.opened_at)
        })
        .collect();
    lead.extend(succeeded.iter().filter(|d| !with_changes.contains(&d.project)).filter_map(|d| {
        let sha = d.sha.as_ref()?;
        let first_build =
            builds.get(&d.project)?.iter().filter(|b| b.sha.as_ref() == Some(sha)).map(|b| b.started_at).min()?;
        let at = deployed_at(d);
        (at >= first_build).then_some(at - first_build)
    }));
    lead.sort_unstable();
    let mut restore: Vec<i64> = incidents
        .iter()
        .filter_map(|i| i.resolved_at.filter(|r| *r >= since).map(|r| r - i.opened_at))
        .filter(|d| *d >= 0)
        .collect();
    restore.sort_unstable();
    let report = DoraReport {
        scope: String::new(),
        environment: deployments
            .first()
            .map(|d| d.environment.clone())
            .unwrap_or_else(|| "production".parse().expect("valid")),
        since,
        deployments: succeeded.len() as u32,
        deployments_per_day: (succeeded.len() as f64 / days * 100.0).round() / 100.0,
        lead_time_p50_ms: percentile(&lead, 50),
        change_failure_rate: if finished.is_empty() { 0.0 } else { failed as f64 / finished.len() as f64 },
        time_to_restore_p50_ms: percentile(&restore, 50),
        trend: Vec::new(),
    };
    (report, finished.len() as u32)
}

/// Periods are this long for a window of up to `.0` days.
const PERIODS: [(i64, i64); 2] = [(14, DAY_MS), (183, 7 * DAY_MS)];
const LONG_PERIOD: i64 = 30 * DAY_MS;

/// The periods a trend from `since` to `now` is drawn in, oldest first:
/// days for a window up to two weeks, weeks up to half a year, else 30
/// days. They end at `now` and count back, so only the oldest may be short.
pub(crate) fn periods(since: Millis, now: Millis) -> Vec<(Millis, Millis)> {
    let days = (now - since).max(0) / DAY_MS;
    let step = PERIODS.iter().find(|(up_to, _)| days <= *up_to).map_or(LONG_PERIOD, |p| p.1);
    let mut periods = Vec::new();
    let mut until = now;
    while until > since {
        let from = (until - step).max(since);
        periods.push((from, until));
        until = from;
    }
    periods.reverse();
    periods
}

/// Whether `t` falls in the period `from..until` of a trend ending at
/// `now`: half-open, except that the newest period holds `now` itself.
pub(crate) fn within(t: Millis, (from, until): (Millis, Millis), now: Millis) -> bool {
    t >= from && (t < until || (until == now && t == now))
}

/// The metrics period by period from `since` to `now` (`periods`), each
/// computed as `compute` computes the whole window, over what happened in
/// the period.
pub fn trend(
    deployments: &[Deployment],
    builds: &BTreeMap<ProjectSlug, Vec<Build>>,
    changes: &[Change],
    incidents: &[Incident],
    since: Millis,
    now: Millis,
) -> Vec<DoraPeriod> {
    let mut trend = Vec::new();
    for (from, until) in periods(since, now) {
        let deployed: Vec<Deployment> =
            deployments.iter().filter(|d| within(d.started_at, (from, until), now)).cloned().collect();
        let resolved: Vec<Incident> =
            incidents.iter().filter(|i| i.resolved_at.is_some_and(|r| r < until || r == now)).cloned().collect();
        let (r, finished) = measure(&deployed, builds, changes, &resolved, from, until);
        trend.push(DoraPeriod {
            from,
            until,
            deployments: r.deployments,
            deployments_per_day: r.deployments_per_day,
            lead_time_p50_ms: r.lead_time_p50_ms,
            change_failure_rate: r.change_failure_rate,
            finished,
            time_to_restore_p50_ms: r.time_to_restore_p50_ms,
        });
    }
    trend
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{CommitSha, EnvName};
    use crate::model::{BuildStatus, IncidentStatus};

    fn deployment(at: Millis, status: DeploymentStatus, sha: &str) -> Deployment {
        Deployment {
            id: uuid::Uuid::from_u128(at as u128),
            project: ProjectSlug::new("orders").unwrap(),
            environment: EnvName::new("production").unwrap(),
            version: "1.0".into(),
            status,
            sha: Some(CommitSha::new(sha).unwrap()),
            actor: None,
            url: None,
            external_id: None,
            started_at: at,
            finished_at: Some(at + 10),
            run: None,
        }
    }

    #[test]
    fn the_four_metrics() {
        use DeploymentStatus::*;
        let day = DAY_MS;
        let deployments = vec![
            deployment(day, Succeeded, "aaaaaaa"),
            deployment(2 * day, Failed, "bbbbbbb"),
            deployment(3 * day, Succeeded, "bbbbbbb"),
            deployment(4 * day, Succeeded, "ccccccc"),
            deployment(4 * day + 5, InProgress, "ddddddd"),
        ];
        let build = |at: Millis, sha: &str| Build {
            id: uuid::Uuid::from_u128(at as u128),
            project: ProjectSlug::new("orders").unwrap(),
            status: BuildStatus::Success,
            sha: Some(CommitSha::new(sha).unwrap()),
            branch: None,
            duration_ms: None,
            url: None,
            external_id: None,
            started_at: at,
            finished_at: None,
        };
        let builds = BTreeMap::from([(
            ProjectSlug::new("orders").unwrap(),
            vec![build(day - 1000, "aaaaaaa"), build(2 * day - 5000, "bbbbbbb"), build(2 * day - 9000, "bbbbbbb")],
        )]);
        let incident = |opened: Millis, resolved: Option<Millis>| Incident {
            id: uuid::Uuid::from_u128(opened as u128),
            project: ProjectSlug::new("orders").unwrap(),
            external_id: None,
            title: "t".into(),
            status: if resolved.is_some() { IncidentStatus::Resolved } else { IncidentStatus::Triggered },
            severity: None,
            url: None,
            opened_at: opened,
            resolved_at: resolved,
        };
        let incidents = vec![
            incident(day, Some(day + 3_600_000)),
            incident(2 * day, Some(2 * day + 600_000)),
            incident(3 * day, None),
        ];
        let r = compute(&deployments, &builds, &[], &incidents, 0, 10 * day);
        assert_eq!(r.deployments, 3);
        assert_eq!(r.deployments_per_day, 0.3);
        assert_eq!(r.change_failure_rate, 0.25);
        // aaaaaaa: 1,010 ms after its build; bbbbbbb: a day and 9,010 ms after its first build; ccccccc: no build.
        assert_eq!(r.lead_time_p50_ms, Some(1_010));
        assert_eq!(r.time_to_restore_p50_ms, Some(600_000));
        let empty = compute(&[], &BTreeMap::new(), &[], &[], 0, day);
        assert_eq!((empty.deployments, empty.change_failure_rate, empty.lead_time_p50_ms), (0, 0.0, None));

        // With merged changes the project's lead time comes from them, not builds.
        let change = |opened: Millis, merged: Millis| Change {
            project: ProjectSlug::new("orders").unwrap(),
            title: "t".into(),
            number: None,
            sha: None,
            author: None,
            url: None,
            external_id: None,
            opened_at: opened,
            merged_at: merged,
        };
        // Merged before the first deployment: deployed at day + 10, opened 1 h earlier.
        // Merged after day 3: the day-4 deployment, 4 h after opening.
        // Merged after the last deployment: not deployed, not counted.
        let changes = [
            change(day + 10 - 3_600_000, day - 1),
            change(4 * day + 10 - 4 * 3_600_000, 3 * day + 1),
            change(5 * day, 5 * day + 1),
        ];
        let r = compute(&deployments, &builds, &changes, &incidents, 0, 10 * day);
        assert_eq!(r.lead_time_p50_ms, Some(3_600_000));

        // Day by day over ten days: each day's own numbers, oldest first.
        let t = trend(&deployments, &builds, &[], &incidents, 0, 10 * day);
        assert_eq!(t.len(), 10);
        assert_eq!((t[0].from, t[9].until), (0, 10 * day));
        let per_day: Vec<u32> = t.iter().map(|p| p.deployments).collect();
        assert_eq!(per_day, [0, 1, 0, 1, 1, 0, 0, 0, 0, 0]);
        assert_eq!((t[2].finished, t[2].change_failure_rate), (1, 1.0), "day 2: one deployment, failed");
        assert_eq!(t[1].lead_time_p50_ms, Some(1_010));
        assert_eq!(t[2].time_to_restore_p50_ms, Some(600_000), "day 2's incident resolved that day");
        assert_eq!(t[5].time_to_restore_p50_ms, None);
        // Thirty days: weeks counted back from now, the oldest cut short.
        let t = trend(&deployments, &builds, &[], &incidents, 0, 30 * day);
        let lengths: Vec<i64> = t.iter().map(|p| (p.until - p.from) / day).collect();
        assert_eq!(lengths, [2, 7, 7, 7, 7]);
        assert_eq!(t.iter().map(|p| p.deployments).sum::<u32>(), 3);
        // A year: 30-day periods.
        assert_eq!(trend(&[], &BTreeMap::new(), &[], &[], 0, 365 * day).len(), 13);
    }
}
