//! Processing many deliveries at once: deliveries about one repository stay
//! in arrival order, others run beside them, and a stop gives back what was
//! not begun. Deliveries arrive signed through the receiver.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use switchboard_automations::signature::hmac_hex;
use switchboard_automations::{Failure, Hooks, Mapped, Mapper, Processor, RuleSet, RulesMapper};
use switchboard_core::config::Config;
use switchboard_core::event::{EventKind, EventQuery};
use switchboard_core::inbox::{Delivery, DeliveryStatus};
use switchboard_core::model::Role;
use switchboard_core::{Caller, Service};
use tower::ServiceExt;

const SECRET: &str = "processing-secret";

struct World {
    service: Service,
    hooks: Hooks,
    _kit: switchboard_testkit::World,
}

async fn world(concurrency: usize) -> World {
    let mut config = Config::default();
    config.webhooks.github_secret = Some(SECRET.into());
    config.webhooks.processing_concurrency = concurrency;
    let kit = switchboard_testkit::World::builder().config(config).demo(12, 1).system_clock().build().await;
    let admin = Caller::new("ada", Role::Admin, "test");
    for (project, repo) in [("orders", "acme/orders"), ("checkout", "acme/checkout")] {
        let ids = json!({"github_repository": repo});
        kit.service
            .execute_json(&admin, "update_project", json!({"project": project, "external_ids": ids}))
            .await
            .unwrap();
    }
    let hooks = Hooks::new(kit.service.clone(), Arc::new(kit.store.clone()));
    World { service: kit.service.clone(), hooks, _kit: kit }
}

/// GitHub's documented `push`, made a push of `after` to `repo`'s default branch.
fn push(repo: &str, after: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/github/push.json", env!("CARGO_MANIFEST_DIR"));
    let mut p: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    p["ref"] = json!("refs/heads/master");
    p["deleted"] = json!(false);
    p["after"] = json!(after);
    p["repository"]["full_name"] = json!(repo);
    serde_json::to_vec(&p).unwrap()
}

impl World {
    async fn send(&self, delivery: &str, body: Vec<u8>) {
        let sig = format!("sha256={}", hmac_hex(SECRET.as_bytes(), &body));
        let req = Request::post("/hooks/github")
            .header("content-type", "application/json")
            .header("X-GitHub-Event", "push")
            .header("X-GitHub-Delivery", delivery)
            .header("X-Hub-Signature-256", sig)
            .body(Body::from(body))
            .unwrap();
        let resp = switchboard_automations::router(self.hooks.clone()).oneshot(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::ACCEPTED);
    }
}

/// Holds each delivery a while and records when it began and ended.
#[derive(Default)]
struct Slow {
    seen: Mutex<Vec<(String, String, Instant, Instant)>>,
}

#[async_trait]
impl Mapper for Slow {
    async fn apply(&self, _: &Delivery, payload: &Arc<Value>) -> Result<Mapped, Failure> {
        let began = Instant::now();
        tokio::time::sleep(Duration::from_millis(30)).await;
        let repo = payload["repository"]["full_name"].as_str().unwrap_or_default().to_owned();
        let after = payload["after"].as_str().unwrap_or_default().to_owned();
        self.seen.lock().unwrap().push((repo, after, began, Instant::now()));
        Ok(Mapped::Ran("held".into()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_repositorys_deliveries_stay_in_order_while_other_repositories_run_beside_them() {
    let w = world(8).await;
    let repos = ["acme/a", "acme/b", "acme/c", "acme/d"];
    for i in 0..24 {
        w.send(&format!("d-{i}"), push(repos[i % 4], &format!("{i:040x}"))).await;
    }
    let slow = Arc::new(Slow::default());
    let t = Instant::now();
    assert_eq!(Processor::new(w.hooks.clone(), slow.clone()).run_once().await, 24);
    let took = t.elapsed();
    let seen = slow.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 24);
    for repo in repos {
        let mine: Vec<_> = seen.iter().filter(|s| s.0 == repo).collect();
        let mut by_start = mine.clone();
        by_start.sort_by_key(|s| s.2);
        let sent: Vec<String> = (0..24).filter(|i| repos[i % 4] == repo).map(|i| format!("{i:040x}")).collect();
        assert_eq!(by_start.iter().map(|s| s.1.clone()).collect::<Vec<_>>(), sent, "{repo}: in arrival order");
        for pair in by_start.windows(2) {
            assert!(pair[1].2 >= pair[0].3, "{repo}: one began before the one before it ended");
        }
    }
    // Four repositories' deliveries ran side by side: at most 8 at once, never one at a time.
    let most = seen.iter().map(|s| seen.iter().filter(|o| o.2 <= s.2 && s.2 < o.3).count()).max().unwrap();
    assert!((2..=8).contains(&most), "{most} at once");
    assert!(took < Duration::from_millis(24 * 30), "one at a time would take 720 ms; took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rules_record_each_repositorys_pushes_in_the_order_they_arrived() {
    let w = world(32).await;
    let rules = Arc::new(RuleSet::load(w.service.config()).unwrap());
    let processor = Processor::new(w.hooks.clone(), Arc::new(RulesMapper::new(rules, w.service.clone())));
    let mut sent = Vec::new();
    let start = w.service.now();
    for i in 0..60 {
        let (repo, after) =
            if i % 3 == 0 { ("acme/checkout", format!("c{i:039x}")) } else { ("acme/orders", format!("{i:040x}")) };
        w.send(&format!("push-{i}"), push(repo, &after)).await;
        sent.push((repo, after));
    }
    assert_eq!(processor.run_once().await, 60);
    let deliveries = w.hooks.inbox.list_deliveries(None, 100).await.unwrap();
    assert!(deliveries.iter().all(|d| d.status == DeliveryStatus::Done), "{deliveries:?}");
    for (project, repo) in [("orders", "acme/orders"), ("checkout", "acme/checkout")] {
        let expected: Vec<&str> = sent.iter().filter(|s| s.0 == repo).map(|s| s.1.as_str()).collect();
        let q = EventQuery {
            project: Some(switchboard_core::ids::ProjectSlug::new(project.to_owned()).unwrap()),
            kinds: vec![EventKind::FactSet],
            since: Some(start),
            limit: 1000,
            ..Default::default()
        };
        let mut events = w.service.log().query(&q).await.unwrap();
        // Newest first: made oldest first.
        events.reverse();
        let values: Vec<String> = events
            .iter()
            .filter(|e| e.payload["key"] == "last_commit")
            .map(|e| e.payload["value"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(values, expected, "{project}: last_commit set in arrival order");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_finishes_what_began_and_gives_back_the_rest_due_at_once() {
    let w = world(4).await;
    for i in 0..40 {
        w.send(&format!("s-{i}"), push(&format!("acme/r{}", i % 10), &format!("{i:040x}"))).await;
    }
    let slow = Arc::new(Slow::default());
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let task = Processor::new(w.hooks.clone(), slow.clone()).spawn(stopping);
    tokio::time::sleep(Duration::from_millis(45)).await;
    stop.send(true).unwrap();
    task.await.unwrap();
    let began = slow.seen.lock().unwrap().len();
    assert!((1..40).contains(&began), "{began} processed before the stop");
    let deliveries = w.hooks.inbox.list_deliveries(None, 100).await.unwrap();
    let done = deliveries.iter().filter(|d| d.status == DeliveryStatus::Done).count();
    assert_eq!(done, began, "every delivery begun was finished and recorded");
    // The rest are pending, due now (not after their claim lapses), untried.
    let now = w.service.now();
    let rest: Vec<_> = deliveries.iter().filter(|d| d.status == DeliveryStatus::Pending).collect();
    assert_eq!(rest.len(), 40 - began);
    assert!(rest.iter().all(|d| d.attempts == 0 && d.next_attempt_at <= now), "{rest:?}");
    let due = w.hooks.inbox.due(now, 100).await.unwrap();
    assert_eq!(due.len(), 40 - began);
}
