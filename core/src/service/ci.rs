//! `ci_health`: what a project's recorded builds say about its CI.

use std::collections::BTreeMap;

use crate::error::Result;
use crate::model::{Build, BuildStatus, DAY_MS, Millis};
use crate::ops::inputs::CiHealth;
use crate::ops::output::{CiHealthReport, CiPeriod, DurationAnomaly, FlakyBuild, Output};
use crate::service::{Call, Done};

/// Default window.
const WINDOW_DAYS: i64 = 90;
/// Builds read at most.
const MAX_BUILDS: usize = 5000;
/// Earlier finished builds needed before a duration can be called unusual.
const ANOMALY_HISTORY: usize = 5;
/// How many times the usual duration makes a build an outlier.
const ANOMALY_FACTOR: f64 = 2.0;
/// Recent builds a newly recorded one is compared with.
pub(crate) const ANOMALY_WINDOW: usize = 50;

/// Whether a new build's duration `d` is an outlier against the finished
/// builds in `history` (the build `id` itself left out): the usual duration
/// (median) when it is more than twice that.
pub(crate) fn duration_anomaly(history: &[Build], id: uuid::Uuid, d: i64) -> Option<i64> {
    let mut before: Vec<i64> = history
        .iter()
        .filter(|b| b.id != id && matches!(b.status, BuildStatus::Success | BuildStatus::Failure))
        .filter_map(|b| b.duration_ms)
        .collect();
    if before.len() < ANOMALY_HISTORY {
        return None;
    }
    before.sort_unstable();
    let usual = percentile(&before, 50)?;
    (usual > 0 && d as f64 > usual as f64 * ANOMALY_FACTOR).then_some(usual)
}

pub(crate) async fn ci_health(call: &Call<'_>, i: CiHealth) -> Result<Done> {
    let project = call.project(&i.project).await?;
    let since = i.since.map(|t| t.resolve(call.now)).unwrap_or(call.now - WINDOW_DAYS * DAY_MS);
    let builds = call.ctx.graph.list_builds(&project.slug, MAX_BUILDS).await?;
    let mut report = compute(&builds, since, call.now);
    report.project = project.slug;
    Ok(Done::read(Output::CiHealth(report)))
}

/// The report over `builds` (any order) started at or after `since`.
pub fn compute(builds: &[Build], since: Millis, now: Millis) -> CiHealthReport {
    let mut window: Vec<&Build> = builds.iter().filter(|b| b.started_at >= since).collect();
    window.sort_by_key(|b| (b.started_at, b.id));
    let finished: Vec<&Build> =
        window.iter().copied().filter(|b| matches!(b.status, BuildStatus::Success | BuildStatus::Failure)).collect();
    let failures = finished.iter().filter(|b| b.status == BuildStatus::Failure).count() as u32;
    let mut durations: Vec<i64> = finished.iter().filter_map(|b| b.duration_ms).collect();
    durations.sort_unstable();

    // Same commit: a failure, then a success.
    let mut first_failure: BTreeMap<String, Millis> = BTreeMap::new();
    let mut flaky = Vec::new();
    for b in &finished {
        let Some(sha) = &b.sha else { continue };
        match b.status {
            BuildStatus::Failure => {
                first_failure.entry(sha.to_string()).or_insert(b.started_at);
            }
            BuildStatus::Success => {
                if let Some(failed_at) = first_failure.remove(&sha.to_string()) {
                    flaky.push(FlakyBuild { sha: sha.clone(), failed_at, passed_at: b.started_at });
                }
            }
            _ => {}
        }
    }

    // Each build against the median of the finished builds before it.
    let mut anomalies = Vec::new();
    let mut before: Vec<i64> = Vec::new();
    for b in &finished {
        if let Some(d) = b.duration_ms {
            if before.len() >= ANOMALY_HISTORY {
                let mut sorted = before.clone();
                sorted.sort_unstable();
                let usual = percentile(&sorted, 50).unwrap_or(0);
                if usual > 0 && d as f64 > usual as f64 * ANOMALY_FACTOR {
                    anomalies.push(DurationAnomaly {
                        started_at: b.started_at,
                        duration_ms: d,
                        usual_ms: usual,
                        url: b.url.clone(),
                    });
                }
            }
            before.push(d);
        }
    }

    let last_green_at = finished
        .iter()
        .filter(|b| b.status == BuildStatus::Success)
        .map(|b| b.finished_at.unwrap_or(b.started_at))
        .max();
    CiHealthReport {
        project: builds.first().map(|b| b.project.clone()).unwrap_or_else(|| "unknown".parse().expect("valid slug")),
        since,
        builds: finished.len() as u32,
        failures,
        failure_rate: if finished.is_empty() { 0.0 } else { f64::from(failures) / finished.len() as f64 },
        duration_p50_ms: percentile(&durations, 50),
        duration_p95_ms: percentile(&durations, 95),
        flaky,
        anomalies,
        last_green_at,
        last_green_age_ms: last_green_at.map(|t| (now - t).max(0)),
        trend: super::dora::periods(since, now)
            .into_iter()
            .map(|(from, until)| {
                let period: Vec<&&Build> =
                    finished.iter().filter(|b| super::dora::within(b.started_at, (from, until), now)).collect();
                let mut durations: Vec<i64> = period.iter().filter_map(|b| b.duration_ms).collect();
                durations.sort_unstable();
                CiPeriod {
                    from,
                    until,
                    builds: period.len() as u32,
                    failures: period.iter().filter(|b| b.status == BuildStatus::Failure).count() as u32,
                    duration_p50_ms: percentile(&durations, 50),
                }
            })
            .collect(),
    }
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[i64], p: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{CommitSha, ProjectSlug};

    fn build(at: Millis, status: BuildStatus, duration: i64, sha: &str) -> Build {
        Build {
            id: uuid::Uuid::from_u128(at as u128),
            project: ProjectSlug::new("orders").unwrap(),
            status,
            sha: Some(CommitSha::new(sha).unwrap()),
            branch: Some("main".into()),
            duration_ms: Some(duration),
            url: None,
            external_id: None,
            started_at: at,
            finished_at: Some(at + duration),
        }
    }

    #[test]
    fn durations_failures_flakes_anomalies_and_last_green() {
        use BuildStatus::*;
        let builds = vec![
            build(1_000, Success, 100, "aaaaaaa"),
            build(2_000, Success, 110, "bbbbbbb"),
            build(3_000, Failure, 90, "ccccccc"),
            build(4_000, Success, 120, "ccccccc"), // the same commit passes: flaky
            build(5_000, Success, 100, "ddddddd"),
            build(6_000, Success, 500, "eeeeeee"), // five before it, median 100: an outlier
            build(7_000, Cancelled, 5, "fffffff"),
            build(8_000, Failure, 100, "0000001"),
        ];
        let r = compute(&builds, 0, 20_000);
        assert_eq!((r.builds, r.failures), (7, 2));
        assert!((r.failure_rate - 2.0 / 7.0).abs() < 1e-9);
        assert_eq!((r.duration_p50_ms, r.duration_p95_ms), (Some(100), Some(500)));
        assert_eq!(r.flaky.len(), 1);
        assert_eq!(
            (r.flaky[0].sha.to_string().as_str(), r.flaky[0].failed_at, r.flaky[0].passed_at),
            ("ccccccc", 3_000, 4_000)
        );
        assert_eq!(r.anomalies.len(), 1);
        assert_eq!((r.anomalies[0].duration_ms, r.anomalies[0].usual_ms), (500, 100));
        assert_eq!((r.last_green_at, r.last_green_age_ms), (Some(6_500), Some(13_500)));
        // The window leaves older builds out.
        let recent = compute(&builds, 5_000, 20_000);
        assert_eq!((recent.builds, recent.failures, recent.flaky.len()), (3, 1, 0));
        // No builds: nothing to say, nothing divided by zero.
        let none = compute(&[], 0, 1);
        assert_eq!((none.builds, none.failure_rate, none.duration_p50_ms, none.last_green_at), (0, 0.0, None, None));
    }

    #[test]
    fn the_trend_counts_each_day_s_finished_builds() {
        use BuildStatus::*;
        let day = DAY_MS;
        let builds = vec![
            build(day + 1, Success, 100, "aaaaaaa"),
            build(day + 2, Failure, 300, "bbbbbbb"),
            build(day + 3, Cancelled, 5, "ccccccc"),
            build(3 * day, Success, 200, "ddddddd"),
            build(4 * day, Failure, 50, "eeeeeee"), // at the trend's end: in its newest period
        ];
        let t = compute(&builds, 0, 4 * day).trend;
        let got: Vec<(u32, u32, Option<i64>)> = t.iter().map(|p| (p.builds, p.failures, p.duration_p50_ms)).collect();
        assert_eq!(got, [(0, 0, None), (2, 1, Some(100)), (0, 0, None), (2, 1, Some(50))], "cancelled ones left out");
        assert_eq!((t[0].from, t[3].until), (0, 4 * day));
    }
}
