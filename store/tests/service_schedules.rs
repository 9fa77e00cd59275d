//! Schedules: a cron slot requests the schedule's automation once (as
//! `scheduler`, waiting for an approver), a stop that missed several slots
//! fires once, a restart does not fire the same slot again, and bad
//! schedules are refused when the config loads.

mod common;

use common::*;
use serde_json::json;
use switchboard_core::config::Config;
use switchboard_core::model::RunStatus;
use switchboard_core::schedule::ScheduleConfig;
use switchboard_core::store::GraphStore;

const MINUTE: i64 = 60_000;

fn nightly_deploy() -> ScheduleConfig {
    ScheduleConfig {
        name: "nightly-staging".into(),
        cron: "0 2 * * *".into(),
        operation: "deploy".into(),
        arguments: json!({"project": "payments-api", "environment": "staging"}),
        description: "Staging gets main every night".into(),
    }
}

async fn harness() -> Harness {
    let config = Config { schedules: vec![nightly_deploy()], ..Default::default() };
    let h = Harness::with_config(config).await;
    h.ok("create_team", json!({"slug": "payments", "name": "Payments", "members": ["alice", "bob"]})).await;
    h.ok("create_project", json!({"slug": "payments-api", "team": "payments", "project_type": "api"})).await;
    // What staging gets: the newest green build of main, pinned when the schedule fires.
    let build = json!({"project": "payments-api", "status": "success", "branch": "main", "sha": "a".repeat(40)});
    h.ok("record_build", build).await;
    h
}

#[tokio::test]
async fn a_schedule_fires_once_per_slot_and_once_after_missed_slots() {
    let h = harness().await;
    let since = h.service.now(); // T0 is 2026-05-28T20:26:40Z
    assert!(h.service.fire_due_schedules(since).await.is_empty(), "no slot yet");

    // The next 02:00 comes: one pending run, requested by the scheduler.
    let slot = "0 2 * * *".parse::<switchboard_core::schedule::Cron>().unwrap().next_after(since).unwrap();
    h.clock.set(slot + 10 * MINUTE);
    let fired = h.service.fire_due_schedules(since).await;
    assert_eq!(fired.len(), 1);
    let run = fired[0].1.as_ref().unwrap();
    assert_eq!(
        (run.status, run.requested_by.as_str(), run.operation.name()),
        (RunStatus::Pending, "scheduler", "deploy")
    );
    // Asked again in the same slot (the next tick, or a restarted server): nothing.
    assert!(h.service.fire_due_schedules(since).await.is_empty());
    assert!(h.service.fire_due_schedules(h.service.now()).await.is_empty());

    // Down for three nights: one request on return, for the latest slot.
    h.clock.set(slot + 3 * 24 * 60 * MINUTE + 5 * MINUTE);
    let fired = h.service.fire_due_schedules(since).await;
    assert_eq!(fired.len(), 1);
    let history = h.service.schedule_history("nightly-staging", 10).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].slot, Some(slot + 3 * 24 * 60 * MINUTE));
    assert_eq!(history[1].slot, Some(slot));
    assert!(history.iter().all(|f| f.by.is_none()));
    let runs = h.service.graph().list_runs(Some(RunStatus::Pending), 10).await.unwrap();
    assert_eq!(runs.len(), 2);
}

#[tokio::test]
async fn a_schedule_fired_by_hand_is_requested_as_that_person() {
    let h = harness().await;
    let carol = caller("carol", switchboard_core::model::Role::Editor);
    let run = h.service.fire_schedule("nightly-staging", &carol, None).await.unwrap();
    assert_eq!(run.requested_by.as_str(), "carol");
    let dave = caller("dave", switchboard_core::model::Role::Viewer);
    let refused = h.service.fire_schedule("nightly-staging", &dave, None).await.unwrap_err();
    assert_eq!(refused.code(), "denied");
    let history = h.service.schedule_history("nightly-staging", 10).await.unwrap();
    assert_eq!(history.len(), 1, "a refused firing records nothing");
    assert_eq!(history[0].by.as_deref(), Some("carol"));
    assert_eq!(h.service.fire_schedule("weekly", &carol, None).await.unwrap_err().code(), "not_found");
}

#[test]
fn bad_schedules_are_refused_when_the_config_loads() {
    let load = |schedule: &str| {
        let text = format!("[[schedules]]\n{schedule}\n");
        Config::parse(&text, "switchboard.toml", &[]).unwrap_err().to_string()
    };
    let base = "name = \"n\"\noperation = \"deploy\"\narguments = { project = \"p\", environment = \"staging\" }";
    let err = load(&format!("{base}\ncron = \"0 25 * * *\""));
    assert!(err.contains("`schedules[0]`: n: cron") && err.contains("hour: 25 is outside 0-23"), "{err}");
    let err = load("name = \"n\"\ncron = \"@daily\"\noperation = \"deploy\"");
    assert!(err.contains("has 1 fields"), "{err}");
    let err = load("name = \"n\"\ncron = \"0 2 * * *\"\noperation = \"get_project\"\narguments = { project = \"p\" }");
    assert!(err.contains("get_project is not an automation"), "{err}");
    let err = load("name = \"n\"\ncron = \"0 2 * * *\"\noperation = \"deploy\"\narguments = { project = \"p\" }");
    assert!(err.contains("arguments") && err.contains("environment"), "{err}");
    let err = load("name = \"two words\"\ncron = \"0 2 * * *\"\noperation = \"deploy\"");
    assert!(err.contains("name must be"), "{err}");
}

#[tokio::test]
async fn two_replicas_on_one_store_fire_a_slot_once() {
    let h = harness().await;
    let since = h.service.now();
    // A second process on the same store, with the same schedules.
    let other = switchboard_core::Service::new(
        std::sync::Arc::new(h.store.clone()),
        std::sync::Arc::new(h.store.clone()),
        std::sync::Arc::new(h.service.config().clone()),
        h.clock.clone(),
    );
    let slot = "0 2 * * *".parse::<switchboard_core::schedule::Cron>().unwrap().next_after(since).unwrap();
    h.clock.set(slot + MINUTE);
    let (a, b) = tokio::join!(h.service.fire_due_schedules(since), other.fire_due_schedules(since));
    assert_eq!(a.len() + b.len(), 1, "one of the two fired: {a:?} {b:?}");
    assert!(a.iter().chain(&b).all(|(_, fired)| fired.is_ok()));
    let history = h.service.schedule_history("nightly-staging", 10).await.unwrap();
    assert_eq!(history.len(), 1);
    let runs = h.store.list_runs(None, 10).await.unwrap();
    assert_eq!(runs.len(), 1, "one run requested");
    // The next tick, on either: nothing more.
    assert!(other.fire_due_schedules(since).await.is_empty());
    assert!(h.service.fire_due_schedules(since).await.is_empty());
}
