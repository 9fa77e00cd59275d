//! `compare_environments`: what differs between two environments of a
//! project — the version each runs, and what the behind one lacks: the
//! changes merged after its deployment up to the ahead one's, and the
//! deployments the ahead one had since. The portal's drift view reads the
//! same answer.

use super::{Call, Done};
use crate::error::{Error, Result};
use crate::event::{EventData, EventKind, EventQuery};
use crate::ids::EnvName;
use crate::model::{Change, Deployment, DeploymentStatus};
use crate::ops::inputs::CompareEnvironments;
use crate::ops::output::{EnvironmentComparison, EnvironmentVersion, Output};
use crate::store::DeploymentQuery;

/// At most this many changes and deployments are listed between two versions.
const MAX_LISTED: usize = 200;

pub(crate) async fn compare_environments(call: &Call<'_>, i: CompareEnvironments) -> Result<Done> {
    let p = call.project(&i.project).await?;
    let names: Vec<&EnvName> = p.environments.iter().map(|e| &e.name).collect();
    let pick = |given: Option<EnvName>, field: &str, default: Option<&EnvName>| -> Result<EnvName> {
        match given {
            Some(e) if names.contains(&&e) => Ok(e),
            Some(e) => Err(Error::field(
                field,
                format!(
                    "{} has no environment {:?}; it has: {}",
                    p.slug,
                    e.as_str(),
                    names.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )),
            None => default
                .cloned()
                .ok_or_else(|| Error::field(field, format!("{} has fewer than two environments to compare", p.slug))),
        }
    };
    // Default: the last environment (production) against the one before it.
    let to = pick(i.to, "to", names.last().copied())?;
    let default_from = names.iter().rev().find(|n| ***n != to).copied();
    let from = pick(i.from, "from", default_from)?;
    if from == to {
        return Err(Error::field("from", "compare two different environments"));
    }
    let current = call.ctx.graph.current_deployments(&p.slug).await?;
    let environments: Vec<EnvironmentVersion> = names
        .iter()
        .map(|n| {
            let d = current.iter().find(|d| d.environment == **n);
            EnvironmentVersion {
                environment: (*n).clone(),
                version: d.map(|d| d.version.clone()),
                sha: d.and_then(|d| d.sha.clone()),
                deployed_at: d.map(|d| d.finished_at.unwrap_or(d.started_at)),
            }
        })
        .collect();
    let at = |e: &EnvName| current.iter().find(|d| d.environment == *e);
    let (a, b) = (at(&from), at(&to));
    let same = match (a, b) {
        (Some(a), Some(b)) => a.version == b.version,
        (None, None) => true,
        _ => false,
    };
    // Which one is ahead: the one deployed later.
    let (ahead, behind) = match (a, b) {
        (Some(a), Some(b)) if b.started_at > a.started_at => (Some(b), Some(a)),
        (Some(a), b) => (Some(a), b),
        (None, b) => (b, None),
    };
    let (changes, deployments) = match (same, ahead) {
        (false, Some(ahead)) => between(call, &p.slug, ahead, behind).await?,
        _ => (Vec::new(), Vec::new()),
    };
    let summary = summary(&p.slug, &from, &to, a, b, ahead, changes.len());
    Ok(Done::read(Output::Comparison(Box::new(EnvironmentComparison {
        project: p.slug.clone(),
        from,
        to,
        same,
        ahead: if same { None } else { ahead.map(|d| d.environment.clone()) },
        environments,
        changes,
        deployments,
        summary,
    }))))
}

/// The changes merged after `behind`'s deployment up to `ahead`'s, and
/// `ahead`'s environment's deployments since `behind`'s.
async fn between(
    call: &Call<'_>,
    project: &crate::ids::ProjectSlug,
    ahead: &Deployment,
    behind: Option<&Deployment>,
) -> Result<(Vec<Change>, Vec<Deployment>)> {
    let since = behind.map(|d| d.started_at);
    let q = EventQuery {
        project: Some(project.clone()),
        kinds: vec![EventKind::ChangeMerged],
        since,
        until: Some(ahead.started_at),
        limit: MAX_LISTED,
        ..Default::default()
    };
    let changes = call
        .ctx
        .log
        .query(&q)
        .await?
        .into_iter()
        .filter_map(|e| match e.data() {
            Ok(EventData::ChangeMerged(m)) => Some(m.change),
            _ => None,
        })
        .collect();
    let q = DeploymentQuery {
        project: Some(project.clone()),
        environment: Some(ahead.environment.clone()),
        since,
        limit: MAX_LISTED,
    };
    let deployments = call
        .ctx
        .graph
        .list_deployments(&q)
        .await?
        .into_iter()
        .filter(|d| d.status == DeploymentStatus::Succeeded && d.started_at <= ahead.started_at)
        .collect();
    Ok((changes, deployments))
}

fn summary(
    project: &crate::ids::ProjectSlug,
    from: &EnvName,
    to: &EnvName,
    a: Option<&Deployment>,
    b: Option<&Deployment>,
    ahead: Option<&Deployment>,
    changes: usize,
) -> String {
    let runs = |e: &EnvName, d: Option<&Deployment>| match d {
        Some(d) => format!("{e} runs {}", d.version),
        None => format!("{e} has no successful deployment"),
    };
    match (a, b) {
        (Some(x), Some(y)) if x.version == y.version => {
            format!("{project}: {from} and {to} both run {}.", x.version)
        }
        (None, None) => format!("{project}: neither {from} nor {to} has a successful deployment."),
        _ => {
            let lead = match ahead {
                Some(d) => format!(
                    " {} is ahead{}.",
                    d.environment,
                    match changes {
                        0 => String::new(),
                        1 => " by 1 merged change".to_owned(),
                        n => format!(" by {n} merged changes"),
                    }
                ),
                None => String::new(),
            };
            format!("{project}: {}, {}.{lead}", runs(from, a), runs(to, b))
        }
    }
}
