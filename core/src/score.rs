//! The project score: 0-100 with a breakdown. Weighted facts (per project
//! type), incidents in a rolling window, age of the last green CI build and
//! deployment freshness; weights come from config.

use schemars::JsonSchema;
use serde::Serialize;

use crate::config::Config;
use crate::ids::ProjectSlug;
use crate::model::{DAY_MS, Millis, Project};
use crate::store::ScoreInputs;

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

pub fn compute(config: &Config, project: &Project, inputs: &ScoreInputs, now: Millis) -> ScoreBreakdown {
    let s = &config.score;
    let w = &s.weights;

    let (facts_value, facts_detail) = match config.project_types.get(&project.project_type) {
        Some(t) => {
            let total: u32 = t.facts.values().map(|d| d.weight).sum();
            let have: u32 = t
                .facts
                .iter()
                .filter(|(k, _)| project.facts.get(*k).is_some_and(|f| f.value.is_truthy()))
                .map(|(_, d)| d.weight)
                .sum();
            let missing: Vec<&str> = t
                .facts
                .iter()
                .filter(|(k, d)| d.weight > 0 && !project.facts.get(*k).is_some_and(|f| f.value.is_truthy()))
                .map(|(k, _)| k.as_str())
                .collect();
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

    let (ci_value, ci_age) = freshness(inputs.last_green_build_at, now, s.build_fresh_days, s.build_stale_days);
    let (deploy_value, deploy_age) =
        freshness(inputs.last_successful_deploy_at, now, s.deploy_fresh_days, s.deploy_stale_days);

    let parts = [
        ("facts", w.facts, facts_value, facts_detail),
        ("incidents", w.incidents, incidents_value, incidents_detail),
        ("ci", w.ci, ci_value, format!("last green build: {ci_age}")),
        ("deployments", w.deployments, deploy_value, format!("last successful deployment: {deploy_age}")),
    ];
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

/// Start of the incident window as of `now`.
pub fn window_start(config: &Config, now: Millis) -> Millis {
    now - i64::from(config.score.incident_window_days) * DAY_MS
}
