//! What a run will do, worked out when it is requested so the approver
//! decides on exactly that: a deploy's version now → the version to deploy
//! and the changes between; an upgrade's projects and repositories.

use super::Call;
use crate::error::Result;
use crate::event::{EventData, EventKind, EventQuery};
use crate::ids::*;
use crate::model::*;
use crate::store::DependentsQuery;

/// Changes listed on a deploy's plan; the rest are counted.
const CHANGES: usize = 20;
/// Projects listed on an upgrade's plan; the rest are counted.
const TARGETS: usize = 200;

/// The plan of deploying `to` (chosen as `chosen` says) to `environment`
/// of `p`. `until`: when `to` was chosen from another environment, the
/// moment it was deployed there — changes after it are not in `to`.
pub(super) async fn deploy(
    call: &Call<'_>,
    p: &Project,
    environment: &EnvName,
    to: String,
    chosen: String,
    until: Option<Millis>,
) -> Result<DeployPlan> {
    let current = call.ctx.graph.current_deployments(&p.slug).await?;
    let now_there = current.into_iter().find(|d| d.environment == *environment);
    let (changes, more_changes) = match &now_there {
        // Nothing deployed there yet: everything is new; no list to show.
        None => (Vec::new(), 0),
        Some(d) => changes_between(call, &p.slug, d.started_at, until.unwrap_or(call.now + 1)).await?,
    };
    let older = now_there.as_ref().is_some_and(|d| is_older(&to, &d.version));
    Ok(DeployPlan {
        older,
        environment: environment.clone(),
        from: now_there.map(|d| d.version),
        to,
        chosen,
        changes,
        more_changes,
        confirm: call.ctx.config.policy.confirm_environments.contains(environment),
    })
}

/// Whether version `a` comes before `b`, both dotted numbers (`v1.4.2`,
/// `1.10.0`); any other shape compares as not older.
fn is_older(a: &str, b: &str) -> bool {
    let parts = |v: &str| -> Option<Vec<u64>> {
        v.trim_start_matches('v').split('.').map(|p| p.parse().ok()).collect::<Option<Vec<u64>>>()
    };
    match (parts(a), parts(b)) {
        (Some(a), Some(b)) => a < b,
        _ => false,
    }
}

/// Changes merged to `project` in `[since, until)`, newest first, and how
/// many more there were than are listed.
pub(super) async fn changes_between(
    call: &Call<'_>,
    project: &ProjectSlug,
    since: Millis,
    until: Millis,
) -> Result<(Vec<PlannedChange>, u64)> {
    let q = EventQuery {
        project: Some(project.clone()),
        kinds: vec![EventKind::ChangeMerged],
        since: Some(since),
        until: Some(until),
        limit: 1000,
        ..Default::default()
    };
    let mut all: Vec<PlannedChange> = call
        .ctx
        .log
        .query(&q)
        .await?
        .iter()
        .filter_map(|e| match e.data() {
            Ok(EventData::ChangeMerged(c)) => Some(PlannedChange {
                title: c.change.title,
                number: c.change.number,
                author: c.change.author,
                url: c.change.url,
                merged_at: e.occurred_at,
            }),
            _ => None,
        })
        .collect();
    all.sort_by_key(|c| std::cmp::Reverse(c.merged_at));
    let more = all.len().saturating_sub(CHANGES) as u64;
    all.truncate(CHANGES);
    Ok((all, more))
}

/// The version a deploy with none asked and nothing to promote goes out
/// with: the newest successful build of the default branch, by its commit.
pub(super) async fn newest_green_build(call: &Call<'_>, project: &ProjectSlug) -> Result<Option<(String, String)>> {
    let builds = call.ctx.graph.list_builds(project, 100).await?;
    let green = builds
        .into_iter()
        .filter(|b| b.status == BuildStatus::Success)
        .filter(|b| matches!(b.branch.as_deref(), Some("main" | "master")))
        .filter_map(|b| Some((b.started_at, b.branch?, b.sha?)))
        .max_by_key(|(at, _, _)| *at);
    Ok(green.map(|(_, branch, sha)| {
        let short: String = sha.as_str().chars().take(12).collect();
        (short, format!("the newest green build on {branch}"))
    }))
}

/// The plan of upgrading `package` to `to` in `project`, or in every
/// project declaring it (on `from` when given).
pub(super) async fn upgrade(
    call: &Call<'_>,
    package: &PackageName,
    from: Option<&Version>,
    to: &Version,
    project: Option<&Project>,
) -> Result<UpgradePlan> {
    let target = |p: &Project, version: Version| UpgradeTarget {
        project: p.slug.clone(),
        repository: p.external_ids.github_repository.clone(),
        from: version,
    };
    let (targets, more, already) = match project {
        Some(p) => {
            let targets = p
                .dependencies
                .iter()
                .filter(|d| d.package == *package && from.is_none_or(|f| &d.version == f) && d.version != *to)
                .map(|d| target(p, d.version.clone()))
                .take(1)
                .collect::<Vec<_>>();
            let already = u64::from(targets.is_empty());
            (targets, 0, already)
        }
        None => {
            let q = DependentsQuery {
                package: package.clone(),
                version: from.cloned(),
                ecosystem: None,
                limit: TARGETS,
                direct_only: true,
            };
            let d = call.ctx.graph.dependents(&q).await?;
            // Those on `to` already are left alone: counted, not listed.
            let already: u64 = d.versions.iter().filter(|v| v.version == *to).map(|v| v.direct).sum();
            let to_change = d.total.saturating_sub(already);
            let mut targets = Vec::with_capacity(d.projects.len());
            for row in d.projects.into_iter().filter(|r| r.version != *to) {
                match call.ctx.graph.get_project(&row.project).await? {
                    Some(p) => targets.push(target(&p, row.version)),
                    None => targets.push(UpgradeTarget { project: row.project, repository: None, from: row.version }),
                }
            }
            let more = to_change.saturating_sub(targets.len() as u64);
            (targets, more, already)
        }
    };
    Ok(UpgradePlan { package: package.clone(), to: to.clone(), targets, more, already })
}

#[cfg(test)]
mod tests {
    #[test]
    fn older_compares_dotted_numbers_not_text() {
        assert!(super::is_older("1.1.45", "1.1.68"));
        assert!(super::is_older("1.9.0", "1.10.0"), "numbers, not text");
        assert!(super::is_older("v2.0", "v2.0.1"));
        assert!(!super::is_older("1.10.0", "1.9.0"));
        assert!(!super::is_older("1.2.3", "1.2.3"));
        assert!(!super::is_older("0123456789ab", "1.2.3"), "a commit is not compared");
    }
}
