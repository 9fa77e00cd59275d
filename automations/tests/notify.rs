//! Notifications to the outgoing webhook: a local receiver sees signed
//! notifications addressed to the owning team, once per change of status.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use switchboard_automations::signature::hmac_hex;
use switchboard_core::clock::SystemClock;
use switchboard_core::config::Config;
use switchboard_core::model::Role;
use switchboard_core::{Caller, Service};
use switchboard_store::SqliteStore;
use switchboard_testkit::World;
use switchboard_testkit::receiver::{Received, Receiver};

/// Each notification received, with its signature when it is the right one.
fn seen(receiver: &Receiver) -> Vec<(Value, Option<String>)> {
    let signed = |r: &Received| {
        let expected = format!("sha256={}", hmac_hex(b"notify-secret", &r.body));
        r.header("x-switchboard-signature-256").filter(|s| *s == expected).map(str::to_owned)
    };
    receiver.received().iter().map(|r| (r.json(), signed(r))).collect()
}

async fn receiver() -> (String, Receiver) {
    let receiver = Receiver::start().await.unwrap();
    (format!("{}/notify", receiver.url), receiver)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owning_teams_hear_of_incidents_failed_deployments_and_slow_builds() {
    switchboard_agents_free_tls();
    let (url, seen_by) = receiver().await;
    let mut config = Config::default();
    config.notifications.webhook_url = Some(url);
    config.notifications.webhook_secret = Some("notify-secret".into());
    let world = World::builder().config(config).demo(12, 1).system_clock().build().await;
    let service = world.service.clone();
    let task = switchboard_automations::notify::spawn(service.clone()).expect("a webhook URL is set");
    let run = |name: &'static str, args: Value| {
        let service = service.clone();
        async move { service.execute_json(&Caller::new("pagerduty", Role::Editor, "webhook"), name, args).await.unwrap() }
    };
    let incident =
        json!({"project": "orders", "external_id": "pd-1", "title": "Checkout is slow", "status": "triggered"});
    run("record_incident", incident.clone()).await;
    run("record_incident", incident).await; // the same status again: not news
    run("record_incident", json!({"project": "orders", "external_id": "pd-1", "status": "resolved"})).await;
    run(
        "record_deployment",
        json!({"project": "orders", "environment": "staging", "version": "9.9.9", "status": "failed"}),
    )
    .await;
    run("record_deployment", json!({"project": "orders", "environment": "staging", "version": "9.9.8"})).await;
    // A CI build far slower than the project's usual one.
    let admin = Caller::new("ada", Role::Admin, "test");
    service
        .execute_json(&admin, "create_project", json!({"slug": "fresh-api", "team": "checkout", "project_type": "api"}))
        .await
        .unwrap();
    for ms in [60_000, 61_000, 59_000, 60_000, 62_000, 200_000] {
        run("record_build", json!({"project": "fresh-api", "status": "success", "duration_ms": ms})).await;
    }

    seen_by.wait_for(4, 5).await;
    let got = seen(&seen_by);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got_all = seen(&seen_by);
    let kinds: Vec<&str> =
        got_all.iter().map(|(n, _)| n["kind"].as_str().unwrap()).filter(|k| *k != "score_dropped").collect();
    assert_eq!(kinds, ["incident_triggered", "incident_resolved", "deployment_failed", "build_anomaly"], "{got_all:?}");
    let (first, signature) = &got[0];
    assert!(signature.is_some(), "signed with the configured secret");
    assert_eq!(first["project"], "orders");
    assert_eq!(first["team"], "checkout", "addressed to the owning team: {first}");
    assert_eq!(first["title"], "Incident: Checkout is slow");
    assert!(first["url"].as_str().unwrap().ends_with("/projects/orders"));
    let failed = got_all.iter().find(|(n, _)| n["kind"] == "deployment_failed").unwrap();
    assert_eq!(failed.0["title"], "Deployment of 9.9.9 to staging failed");
    let slow = got_all.iter().find(|(n, _)| n["kind"] == "build_anomaly").unwrap();
    assert_eq!(slow.0["title"], "CI build took 3 min, usually 60 s", "{}", slow.0);
    assert_eq!(slow.0["team"], "checkout");
    task.abort();
}

/// reqwest in this test process needs the TLS provider the binary installs.
fn switchboard_agents_free_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Two processes on one store, each sending notifications, and a third
/// (another service, as the CLI would be) recording the incident: the
/// receiver hears of it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_on_one_store_send_another_processs_notification_once() {
    switchboard_agents_free_tls();
    let (url, seen_by) = receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path(), 2).unwrap();
    let mut config = Config::default();
    config.notifications.webhook_url = Some(url);
    let config = Arc::new(config);
    let process =
        || Service::new(Arc::new(store.clone()), Arc::new(store.clone()), config.clone(), Arc::new(SystemClock));
    let (a, b, cli) = (process(), process(), process());
    let admin = Caller::new("ada", Role::Admin, "cli");
    cli.execute_json(&admin, "create_team", json!({"slug": "checkout", "name": "Checkout"})).await.unwrap();
    cli.execute_json(&admin, "create_project", json!({"slug": "orders", "team": "checkout", "project_type": "api"}))
        .await
        .unwrap();
    let tasks = [
        switchboard_automations::notify::spawn(a).expect("a webhook URL is set"),
        switchboard_automations::notify::spawn(b).expect("a webhook URL is set"),
    ];
    tokio::time::sleep(Duration::from_millis(200)).await;
    let incident = json!({"project": "orders", "external_id": "pd-9", "title": "Orders fail", "status": "triggered"});
    cli.execute_json(&admin, "record_incident", incident).await.unwrap();
    // Both replicas read the log at least twice after the incident.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let got = seen(&seen_by);
    let incidents: Vec<_> = got.iter().filter(|(n, _)| n["kind"] == "incident_triggered").collect();
    assert_eq!(incidents.len(), 1, "{got:?}");
    assert_eq!(incidents[0].0["title"], "Incident: Orders fail");
    for t in tasks {
        t.abort();
    }
}
