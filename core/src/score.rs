//! The project score: 0-100 with a breakdown. Weighted facts (per project
//! type), incidents in a rolling window, age of the last green CI build and
//! deployment freshness; weights come from config.

use schemars::JsonSchema;
use serde::Serialize;

use crate::config::{Config, FactDecl};
use crate::ids::ProjectSlug;
use crate::model::{Build, BuildStatus, DAY_MS, FactValue, Millis, Project};
use crate::store::{GraphStore, ScoreInputs, StoreResult};

/// How many of a project's newest builds are searched for one on its
/// default branch (feature branches build too, and more often).
pub const BUILDS_SEARCHED: usize = 50;

/// The newest finished build on a project's default branch: the CI part
/// follows it, so a red `main` costs the score even when an older build
/// was green.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewestBuild {
    pub status: BuildStatus,
    pub at: Millis,
    pub branch: String,
}

/// The project's default branch: the `repo_default_branch` fact a
/// repository import sets, else `main` (or `master`, both accepted).
fn is_default_branch(project: &Project, branch: Option<&str>) -> bool {
    let Some(branch) = branch else { return true };
    let key = crate::ids::FactKey::new("repo_default_branch").expect("a valid fact key");
    match project.facts.get(&key).map(|f| &f.value) {
        Some(crate::model::FactValue::Text(default)) => branch == default,
        _ => branch == "main" || branch == "master",
    }
}

/// The newest finished (not running) build on the default branch among
/// `builds`, which come newest first. A build with no branch counts: CI
/// systems that do not say build what they are pointed at.
pub fn newest_default_build(project: &Project, builds: &[Build]) -> Option<NewestBuild> {
    builds
        .iter()
        .filter(|b| b.status != BuildStatus::Running && is_default_branch(project, b.branch.as_deref()))
        .max_by_key(|b| b.started_at)
        .map(|b| NewestBuild {
            status: b.status,
            at: b.finished_at.unwrap_or(b.started_at),
            branch: b.branch.clone().unwrap_or_else(|| "the default branch".to_owned()),
        })
}

/// Everything `compute` needs, read from the graph. `builds`: the
/// project's newest builds when the caller has already read them (at least
/// `BUILDS_SEARCHED`, any order), so they are not read again.
pub async fn gather(
    graph: &dyn GraphStore,
    config: &Config,
    project: &Project,
    now: Millis,
    builds: Option<&[Build]>,
) -> StoreResult<ScoreInputs> {
    let mut inputs = graph.score_inputs(&project.slug, window_start(config, now)).await?;
    if config.score.weights.vulnerabilities > 0 {
        let q =
            crate::advisory::MatchQuery { project: Some(project.slug.clone()), limit: 10_000, ..Default::default() };
        inputs.vulnerabilities = graph
            .list_matches(&q)
            .await?
            .into_iter()
            .filter(|m| m.status == crate::advisory::MatchStatus::Affected)
            .map(|m| m.severity)
            .collect();
    }
    inputs.newest_build = match builds {
        Some(builds) => newest_default_build(project, builds),
        None => newest_default_build(project, &graph.list_builds(&project.slug, BUILDS_SEARCHED).await?),
    };
    Ok(inputs)
}

/// The CI part: the freshness of the last green build, unless the newest
/// build on the default branch did not pass — then nothing, with why.
fn ci_part(inputs: &ScoreInputs, now: Millis, fresh: u32, stale: u32) -> (f64, String) {
    let (value, green_age) = freshness(inputs.last_green_build_at, now, fresh, stale);
    match &inputs.newest_build {
        Some(b) if b.status != BuildStatus::Success => {
            let days = (now - b.at).max(0) as f64 / DAY_MS as f64;
            (
                0.0,
                format!(
                    "newest build on {} {} {days:.1} days ago (last green: {green_age})",
                    b.branch,
                    b.status.as_str()
                ),
            )
        }
        _ => (value, format!("last green build: {green_age}")),
    }
}

/// One part of the score.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct ScoreComponent {
    /// `facts`, `incidents`, `ci` or `deployments`.
    pub name: &'static str,
    pub weight: u32,
    /// 0.0-1.0 before weighting.
    pub value: f64,
    /// Points this part contributes to the 0-100 total.
    pub points: f64,
    /// Why, in words.
    pub detail: String,
}

/// A score with its parts.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct ScoreBreakdown {
    pub project: ProjectSlug,
    pub score: u8,
    pub components: Vec<ScoreComponent>,
}

/// 1.0 up to `fresh` days old, falling linearly to 0.0 at `stale` days; none is 0.
fn freshness(at: Option<Millis>, now: Millis, fresh: u32, stale: u32) -> (f64, String) {
    match at {
        None => (0.0, "never".to_owned()),
        Some(at) => {
            let days = (now - at).max(0) as f64 / DAY_MS as f64;
            let (fresh, stale) = (f64::from(fresh), f64::from(stale));
            let v = if days <= fresh {
                1.0
            } else if days >= stale {
                0.0
            } else {
                (stale - days) / (stale - fresh)
            };
            (v, format!("{days:.1} days ago"))
        }
    }
}

/// Whether a fact counts in the facts part: set, to a truthy value.
fn counted(value: Option<&FactValue>) -> bool {
    value.is_some_and(FactValue::is_truthy)
}

fn present(project: &Project, key: &crate::ids::FactKey) -> bool {
    counted(project.facts.get(key).map(|f| &f.value))
}

/// Whether a fact going from `before` to `after` can move the score: only a
/// weighted fact starting or stopping to count does. The rest of the score
/// does not read facts.
pub fn fact_moves_score(decl: &FactDecl, before: Option<&FactValue>, after: Option<&FactValue>) -> bool {
    decl.weight > 0 && counted(before) != counted(after)
}

pub fn compute(config: &Config, project: &Project, inputs: &ScoreInputs, now: Millis) -> ScoreBreakdown {
    let s = &config.score;
    let w = &s.weights;

    let (facts_value, facts_detail) = match config.project_types.get(&project.project_type) {
        Some(t) => {
            let total: u32 = t.facts.values().map(|d| d.weight).sum();
            let have: u32 = t.facts.iter().filter(|(k, _)| present(project, k)).map(|(_, d)| d.weight).sum();
            let missing: Vec<&str> =
                t.facts.iter().filter(|(k, d)| d.weight > 0 && !present(project, k)).map(|(k, _)| k.as_str()).collect();
            let v = if total == 0 { 1.0 } else { f64::from(have) / f64::from(total) };
            let detail = if missing.is_empty() {
                "all weighted facts set".to_owned()
            } else {
                format!("missing: {}", missing.join(", "))
            };
            (v, detail)
        }
        None => (0.0, format!("project type {} is not declared in config", project.project_type)),
    };

    let n = inputs.incidents_in_window;
    let incidents_value = (1.0 - n as f64 / f64::from(s.incident_budget)).max(0.0);
    let incidents_detail = format!("{n} incident(s) in the last {} days", s.incident_window_days);

    let (ci_value, ci_detail) = ci_part(inputs, now, s.build_fresh_days, s.build_stale_days);
    let (deploy_value, deploy_age) =
        freshness(inputs.last_successful_deploy_at, now, s.deploy_fresh_days, s.deploy_stale_days);

    let mut parts = vec![
        ("facts", w.facts, facts_value, facts_detail),
        ("incidents", w.incidents, incidents_value, incidents_detail),
        ("ci", w.ci, ci_value, ci_detail),
        ("deployments", w.deployments, deploy_value, format!("last successful deployment: {deploy_age}")),
    ];
    // Shown only once an operator gives it weight.
    if w.vulnerabilities > 0 {
        let (value, detail) = vulnerabilities_part(&inputs.vulnerabilities);
        parts.push(("vulnerabilities", w.vulnerabilities, value, detail));
    }
    let total_weight: u32 = parts.iter().map(|p| p.1).sum::<u32>().max(1);
    let components: Vec<ScoreComponent> = parts
        .into_iter()
        .map(|(name, weight, value, detail)| ScoreComponent {
            name,
            weight,
            value,
            points: value * f64::from(weight) * 100.0 / f64::from(total_weight),
            detail,
        })
        .collect();
    let score = components.iter().map(|c| c.points).sum::<f64>().round().clamp(0.0, 100.0) as u8;
    ScoreBreakdown { project: project.slug.clone(), score, components }
}

/// The vulnerabilities part: 1.0 with none open; each open one costs by
/// severity (critical the whole part, high half, medium a fifth, low a
/// twentieth), down to 0.
fn vulnerabilities_part(open: &[crate::advisory::Severity]) -> (f64, String) {
    use crate::advisory::Severity;
    let cost: f64 = open
        .iter()
        .map(|s| match s {
            Severity::Critical => 1.0,
            Severity::High => 0.5,
            Severity::Medium => 0.2,
            Severity::Low | Severity::Unknown => 0.05,
        })
        .sum();
    if open.is_empty() {
        return (1.0, "no open vulnerabilities".to_owned());
    }
    let said: Vec<String> = Severity::ALL
        .iter()
        .filter_map(|s| {
            let n = open.iter().filter(|o| *o == s).count();
            (n > 0).then(|| format!("{n} {s}"))
        })
        .collect();
    ((1.0 - cost).max(0.0), format!("open vulnerabilities: {}", said.join(", ")))
}

/// Start of the incident window as of `now`.
pub fn window_start(config: &Config, now: Millis) -> Millis {
    now - i64::from(config.score.incident_window_days) * DAY_MS
}
