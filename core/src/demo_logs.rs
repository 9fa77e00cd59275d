//! The demo organisation's logs, so "check the logs for refunds, spot any
//! issues?" answers from something real on a fresh install: six hours of
//! ordinary traffic for each hand-named project (requests, jobs, a known
//! background error now and then), and for the story project a bad
//! deployment to production 50 minutes ago followed by a burst of a new
//! exception and an open incident — what an on-call person would be paged
//! for.

use std::collections::BTreeMap;

use crate::event::{Event, EventData, new_event_id, payload};
use crate::ids::{EnvName, ProjectSlug};
use crate::logs::{Level, LogLine};
use crate::model::{Deployment, DeploymentStatus, Incident, IncidentStatus, Millis};
use crate::store::GraphBatch;

/// The project the story happens to, when the org has it.
pub const STORY_PROJECT: &str = "refunds";
/// How long before "now" the bad deployment finished, and the incident opened.
pub const STORY_DEPLOYED_AGO_MS: Millis = 50 * 60_000;
pub const STORY_INCIDENT_AGO_MS: Millis = 40 * 60_000;
/// The new error the deployment brought.
pub const STORY_ERROR: &str = "TimeoutError: upstream card-vault did not answer within 3000 ms";

const HOURS: i64 = 6;

use crate::demo::Rng;

fn line(ts: Millis, level: Level, message: String, attrs: &[(&str, String)]) -> LogLine {
    let attributes: BTreeMap<String, String> = attrs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    LogLine { ts, level, message, attributes }
}

/// The story's deployment (the version after `current`) and incident, as
/// the demo's history holds them: imported, so nobody is notified of them.
pub fn story(current: Option<&str>, now: Millis) -> (GraphBatch, Vec<Event>) {
    let project = ProjectSlug::new(STORY_PROJECT).expect("a valid slug");
    let version = current.map_or("1.4.2".to_owned(), |v| {
        let mut parts: Vec<u64> = v.split('.').filter_map(|p| p.parse().ok()).collect();
        if let Some(last) = parts.last_mut() {
            *last += 1;
        }
        parts.iter().map(u64::to_string).collect::<Vec<_>>().join(".")
    });
    let deployed = now - STORY_DEPLOYED_AGO_MS;
    let deployment = Deployment {
        id: new_event_id(deployed - 120_000),
        project: project.clone(),
        environment: EnvName::new("production").expect("a valid environment"),
        version,
        status: DeploymentStatus::Succeeded,
        sha: None,
        actor: Some("frank".into()),
        url: None,
        external_id: None,
        started_at: deployed - 120_000,
        finished_at: Some(deployed),
        run: None,
    };
    let opened = now - STORY_INCIDENT_AGO_MS;
    let incident = Incident {
        id: new_event_id(opened),
        project: project.clone(),
        title: "refunds: Error rate above SLO".into(),
        status: IncidentStatus::Triggered,
        severity: Some("P2".into()),
        url: None,
        external_id: Some("demo-refunds-timeouts".into()),
        opened_at: opened,
        resolved_at: None,
    };
    let ev = |data: EventData, at: Millis, actor: &str, subject: &str| {
        let mut e = Event::of(&data, at, actor, "demo").project(&project).subject(subject);
        e.id = new_event_id(at);
        e
    };
    let recorded = payload::DeploymentRecorded { deployment: deployment.clone(), previous_status: None };
    let events = vec![
        ev(EventData::DeploymentRecorded(recorded), deployed, "frank", "production"),
        ev(
            EventData::IncidentRecorded(payload::IncidentRecorded {
                incident: incident.clone(),
                previous_status: None,
            }),
            opened,
            "pagerduty",
            "triggered",
        ),
    ];
    let batch = GraphBatch { deployments: vec![deployment], incidents: vec![incident], ..Default::default() };
    (batch, events)
}

/// The lines of `projects` (slugs) for the six hours before `now`, oldest first.
pub fn generate(projects: &[String], now: Millis, seed: u64) -> Vec<(String, LogLine)> {
    let mut out = Vec::new();
    for (i, project) in projects.iter().enumerate() {
        // Its own stream per project, apart from the organisation's.
        let mut rng = Rng(seed ^ (i as u64 + 1).wrapping_mul(0xD6E8_FEB8_6659_FD93));
        let story = project == STORY_PROJECT;
        let start = now - HOURS * 3_600_000;
        let mut t = start + rng.below(60_000) as i64;
        while t < now {
            let route = ["/orders", "/refunds", "/health", "/payments/{id}", "/users/{id}"][rng.below(5) as usize]
                .replace("{id}", &(1000 + rng.below(90_000)).to_string());
            let pod = format!("{project}-7f9c6d-{:05x}", rng.below(0xfffff));
            let ms = 5 + rng.below(180);
            let status = if rng.below(200) == 0 { 503 } else { 200 };
            out.push((
                project.clone(),
                line(t, Level::Info, format!("GET {route} {status} in {ms}ms"), &[("pod", pod.clone())]),
            ));
            match rng.below(40) {
                0 => out.push((
                    project.clone(),
                    line(t + 5, Level::Warn, format!("slow query on orders took {}ms", 900 + rng.below(900)), &[]),
                )),
                // A known background error: in the baseline too, so never "new".
                1 => out.push((
                    project.clone(),
                    line(
                        t + 9,
                        Level::Error,
                        format!(
                            "retry {} of 5 for job-{:06}: connection reset by peer",
                            1 + rng.below(4),
                            rng.below(999_999)
                        ),
                        &[("pod", pod.clone())],
                    ),
                )),
                _ => {}
            }
            // The story: after the bad deployment, the new error, in a burst then steady.
            if story && t > now - STORY_DEPLOYED_AGO_MS + 4 * 60_000 {
                let burst = t < now - STORY_DEPLOYED_AGO_MS + 20 * 60_000;
                for k in 0..if burst { 4 } else { 1 } {
                    out.push((
                        project.clone(),
                        line(
                            t + 20 + k,
                            Level::Error,
                            STORY_ERROR.to_owned(),
                            &[("pod", pod.clone()), ("trace_id", format!("{:032x}", rng.next() as u128 * 7919))],
                        ),
                    ));
                }
            }
            t += 20_000 + rng.below(40_000) as i64;
        }
    }
    out.sort_by_key(|(_, l)| l.ts);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_story_project_gets_a_new_error_after_its_deployment() {
        let now = 1_800_000_000_000;
        let lines = generate(&["refunds".into(), "orders".into()], now, 42);
        assert!(lines.windows(2).all(|w| w[0].1.ts <= w[1].1.ts));
        let story: Vec<_> = lines.iter().filter(|(p, l)| p == "refunds" && l.message == STORY_ERROR).collect();
        assert!(story.len() > 50, "{}", story.len());
        assert!(story.iter().all(|(_, l)| l.ts > now - STORY_DEPLOYED_AGO_MS));
        assert!(!lines.iter().any(|(p, l)| p == "orders" && l.message == STORY_ERROR));
        assert!(lines.iter().any(|(p, l)| p == "orders" && l.level == Level::Error), "a known background error");
        assert_eq!(generate(&["refunds".into()], now, 42), generate(&["refunds".into()], now, 42));
    }
}
