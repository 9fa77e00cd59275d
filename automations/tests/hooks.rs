//! Webhooks end to end over the real router: published fixtures signed with
//! a test secret, refused deliveries that store nothing, redeliveries, the
//! built-in rules' results in the graph, retries and dead letters.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use switchboard_automations::signature::hmac_hex;
use switchboard_automations::{Failure, Hooks, Mapped, Mapper, Processor, RuleSet, RulesMapper};
use switchboard_core::config::Config;
use switchboard_core::inbox::{Delivery, DeliveryStatus};
use switchboard_core::model::Role;
use switchboard_core::{Caller, Service};
use tower::ServiceExt;

const GITHUB_SECRET: &str = "gh-test-secret";
const PD_SECRET: &str = "pd-test-secret";

struct World {
    service: Service,
    hooks: Hooks,
    processor: Processor,
    _kit: switchboard_testkit::World,
}

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn admin() -> Caller {
    Caller::new("ada", Role::Admin, "test")
}

async fn world_with(config: Config) -> World {
    let kit = switchboard_testkit::World::builder().config(config.clone()).demo(12, 1).system_clock().build().await;
    let (service, store) = (kit.service.clone(), kit.store.clone());
    // The fixtures' repositories and services belong to demo projects.
    for (project, ids) in [
        ("orders", json!({"github_repository": "Codertocat/Hello-World", "pagerduty_service": "PA2P440"})),
        ("checkout", json!({"github_repository": "octo-org/octo-repo", "pagerduty_service": "PF9KMXH"})),
    ] {
        service
            .execute_json(&admin(), "update_project", json!({"project": project, "external_ids": ids}))
            .await
            .unwrap();
    }
    let hooks = Hooks::new(service.clone(), Arc::new(store));
    let rules = Arc::new(RuleSet::load(&config).unwrap());
    // The rules, and repositories as projects (no App: from payloads alone).
    let mapper = switchboard_automations::follow::Chain(vec![
        Arc::new(RulesMapper::new(rules, service.clone())),
        Arc::new(switchboard_automations::repositories::RepositoryMapper { service: service.clone(), with_app: false }),
    ]);
    let processor = Processor::new(hooks.clone(), Arc::new(mapper));
    World { service, hooks, processor, _kit: kit }
}

fn config() -> Config {
    let mut c = Config::default();
    c.webhooks.github_secret = Some(GITHUB_SECRET.into());
    c.webhooks.pagerduty_secrets = vec!["an-older-secret".into(), PD_SECRET.into()];
    c.webhooks.body_limit_bytes = 64 * 1024;
    c
}

async fn world() -> World {
    world_with(config()).await
}

impl World {
    async fn post(&self, uri: &str, headers: &[(&str, String)], body: Vec<u8>) -> (StatusCode, Value) {
        let mut req = Request::post(uri).header("content-type", "application/json");
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let resp = switchboard_automations::router(self.hooks.clone())
            .oneshot(req.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn github(&self, event: &str, delivery: &str, body: Vec<u8>) -> (StatusCode, Value) {
        let sig = format!("sha256={}", hmac_hex(GITHUB_SECRET.as_bytes(), &body));
        let headers = [
            ("X-GitHub-Event", event.to_owned()),
            ("X-GitHub-Delivery", delivery.to_owned()),
            ("X-Hub-Signature-256", sig),
        ];
        self.post("/hooks/github", &headers, body).await
    }

    async fn pagerduty(&self, body: Vec<u8>) -> (StatusCode, Value) {
        let sig = format!("v1={}", hmac_hex(PD_SECRET.as_bytes(), &body));
        self.post("/hooks/pagerduty", &[("X-PagerDuty-Signature", sig)], body).await
    }

    async fn deliveries(&self) -> Vec<Delivery> {
        self.hooks.inbox.list_deliveries(None, 1000).await.unwrap()
    }

    async fn op(&self, name: &str, args: Value) -> Value {
        self.service.execute_json(&admin(), name, args).await.unwrap().to_json()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_fixtures_become_deployments_builds_and_facts() {
    let w = world().await;
    let files = [
        ("deployment_status", "deployment_status.json"),
        ("deployment_status", "deployment_status.with-installation.json"),
        ("workflow_run", "workflow_run.completed.json"),
        ("release", "release.published.json"),
        ("push", "push.json"),
        ("push", "push.with-installation.json"),
        ("pull_request", "pull_request.opened.json"),
        ("installation", "installation.created.json"),
        ("check_suite", "check_suite.completed.json"),
        ("repository", "repository.created.json"),
        ("repository", "repository.created.with-installation.json"),
    ];
    for (i, (event, file)) in files.iter().enumerate() {
        let (status, body) = w.github(event, &format!("delivery-{i}"), fixture(&format!("github/{file}"))).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{file}: {body}");
        assert_eq!(body["duplicate"], false);
    }
    assert_eq!(w.processor.run_once().await, files.len());

    // deployment_status (success, production) → a succeeded deployment of orders.
    let deployments =
        w.op("list_deployments", json!({"project": "orders", "environment": "production", "limit": 1000})).await;
    // Both deployment_status fixtures describe deployment 145988746: recorded once.
    let ours: Vec<&Value> = deployments["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["external_id"] == "github-deployment-145988746")
        .collect();
    assert_eq!(ours.len(), 1, "{deployments}");
    let d = ours[0];
    assert_eq!(d["version"], "master", "{d}");
    assert_eq!(d["status"], "succeeded");
    assert_eq!(d["sha"], "f95f852bd8fca8fcc58a9a2d6c842781e32a215e");
    assert_eq!(d["actor"], "Codertocat");

    // workflow_run completed → a CI build of checkout.
    let project = w.op("get_project", json!({"project": "checkout"})).await;
    let builds = w.service.graph().list_builds(&"checkout".parse().unwrap(), 1000).await.unwrap();
    let b = builds.iter().find(|b| b.external_id.as_deref() == Some("github-run-289782451-1")).expect("the build");
    assert_eq!(b.status.as_str(), "success");
    assert_eq!(b.sha.as_ref().map(|s| s.to_string()).as_deref(), Some("3484a3fb816e0859fd6e1cea078d76385ff50625"));
    assert_eq!(b.branch.as_deref(), Some("master"));
    assert_eq!(b.duration_ms, Some(0));
    let health = w.op("ci_health", json!({"project": "checkout", "since": "2020-01-01"})).await;
    assert!(health["builds"].as_u64().unwrap() >= 1 && health["last_green_at"].is_number(), "{health}");
    // release published → orders' version fact.
    let orders = w.op("get_project", json!({"project": "orders"})).await;
    assert_eq!(orders["project"]["facts"]["version"]["value"], "0.0.1", "{}", orders["project"]["facts"]);
    assert!(project["project"].is_object());

    // The rest are kept, marked: a tag push, events no rule maps. The
    // installation and new repositories are projects now.
    let all = w.deliveries().await;
    let by_status =
        |s: DeliveryStatus| all.iter().filter(|d| d.status == s).map(|d| d.event.clone()).collect::<Vec<_>>();
    let unmapped = by_status(DeliveryStatus::Unmapped);
    assert_eq!(unmapped.len(), 4, "{unmapped:?}");
    assert!(unmapped.contains(&"push".to_owned()) && !unmapped.contains(&"installation".to_owned()));
    assert_eq!(by_status(DeliveryStatus::Done).len(), 7, "{all:?}");
    let tag_push = w.deliveries().await.into_iter().find(|d| d.delivery_id == "delivery-4").unwrap();
    assert!(tag_push.last_error.as_deref().unwrap_or_default().starts_with("no rule maps github push"), "{tag_push:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagerduty_fixtures_become_incidents() {
    let w = world().await;
    for file in [
        "incident.triggered",
        "incident.acknowledged",
        "incident.resolved",
        "incident.priority_updated",
        "service.updated",
    ] {
        let (status, body) = w.pagerduty(fixture(&format!("pagerduty/{file}.json"))).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{file}: {body}");
    }
    w.processor.run_once().await;
    let incidents = w.op("list_incidents", json!({"project": "orders"})).await;
    let find = |id: &str| {
        incidents["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["external_id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id}: {incidents}"))
    };
    let triggered = find("pagerduty-PFQZPSY");
    assert_eq!(
        (triggered["status"].as_str(), triggered["title"].as_str()),
        (Some("triggered"), Some("Test Incident 3"))
    );
    assert_eq!(find("pagerduty-PQ1K5C8")["status"], "acknowledged");
    let resolved = find("pagerduty-PCPZE64");
    assert_eq!(resolved["status"], "resolved");
    assert!(resolved["resolved_at"].is_number(), "{resolved}");
    let p1 = w.op("list_incidents", json!({"project": "checkout"})).await;
    let p1 =
        p1["incidents"].as_array().unwrap().iter().find(|i| i["external_id"] == "pagerduty-PGR0VU2").cloned().unwrap();
    assert_eq!(p1["severity"], "P1");
    let unmapped: Vec<String> =
        w.deliveries().await.into_iter().filter(|d| d.status == DeliveryStatus::Unmapped).map(|d| d.event).collect();
    assert_eq!(unmapped, ["service.updated"]);
}

/// Headers, body, the status expected and the error code expected.
type Case<'a> = (Vec<(&'a str, String)>, Vec<u8>, StatusCode, &'a str);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_deliveries_store_nothing() {
    let w = world().await;
    let body = fixture("github/deployment_status.json");
    let good = format!("sha256={}", hmac_hex(GITHUB_SECRET.as_bytes(), &body));
    let other = format!("sha256={}", hmac_hex(GITHUB_SECRET.as_bytes(), b"another body"));
    let wrong_secret = format!("sha256={}", hmac_hex(b"not the secret", &body));
    let events_before = w.service.log().count().await.unwrap();
    let h = |sig: Option<&str>, event: Option<&str>, delivery: Option<&str>| {
        let mut v = Vec::new();
        if let Some(s) = sig {
            v.push(("X-Hub-Signature-256", s.to_owned()));
        }
        if let Some(e) = event {
            v.push(("X-GitHub-Event", e.to_owned()));
        }
        if let Some(d) = delivery {
            v.push(("X-GitHub-Delivery", d.to_owned()));
        }
        v
    };
    let cases: Vec<Case> = vec![
        (h(None, Some("deployment_status"), Some("d1")), body.clone(), StatusCode::UNAUTHORIZED, "missing_signature"),
        (
            h(Some(&wrong_secret), Some("deployment_status"), Some("d1")),
            body.clone(),
            StatusCode::UNAUTHORIZED,
            "bad_signature",
        ),
        (
            h(Some(&other), Some("deployment_status"), Some("d1")),
            body.clone(),
            StatusCode::UNAUTHORIZED,
            "bad_signature",
        ),
        (
            h(Some("sha1=abc"), Some("deployment_status"), Some("d1")),
            body.clone(),
            StatusCode::UNAUTHORIZED,
            "malformed_signature",
        ),
        (h(Some(&good), None, Some("d1")), body.clone(), StatusCode::BAD_REQUEST, "missing_header"),
        (h(Some(&good), Some("deployment_status"), None), body.clone(), StatusCode::BAD_REQUEST, "missing_header"),
        (h(Some(&good), Some("frobnicate"), Some("d1")), body.clone(), StatusCode::BAD_REQUEST, "unknown_event"),
    ];
    for (headers, body, status, code) in cases {
        let (got, answer) = w.post("/hooks/github", &headers, body).await;
        assert_eq!((got, answer["error"]["code"].as_str()), (status, Some(code)), "{headers:?}: {answer}");
        assert!(!answer["error"]["message"].as_str().unwrap().is_empty());
    }
    // Correctly signed but not JSON.
    let junk = b"{not json".to_vec();
    let (got, answer) = w.github("push", "d2", junk).await;
    assert_eq!((got, answer["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("malformed_json")));
    // Too big: refused before anything else.
    let (got, _) = w.github("push", "d3", vec![b' '; 65 * 1024]).await;
    assert_eq!(got, StatusCode::PAYLOAD_TOO_LARGE);
    // PagerDuty: a signature under neither secret; the published mismatch vector; no header.
    let pd = fixture("pagerduty/incident.triggered.json");
    let bad = format!("v1={}", hmac_hex(b"nope", &pd));
    let (got, _) = w.post("/hooks/pagerduty", &[("X-PagerDuty-Signature", bad)], pd.clone()).await;
    assert_eq!(got, StatusCode::UNAUTHORIZED);
    let (got, _) = w.post("/hooks/pagerduty", &[], pd.clone()).await;
    assert_eq!(got, StatusCode::UNAUTHORIZED);
    let not_v3 = br#"{"messages": []}"#.to_vec();
    let (got, answer) = w.pagerduty(not_v3).await;
    assert_eq!((got, answer["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("malformed_json")));
    // An unknown generic source.
    let (got, answer) = w.post("/hooks/generic/nobody", &[], b"{}".to_vec()).await;
    assert_eq!((got, answer["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("unknown_source")));

    assert!(w.deliveries().await.is_empty(), "nothing was stored");
    assert_eq!(w.service.log().count().await.unwrap(), events_before, "nothing changed");

    // Without a secret, GitHub deliveries are refused and say how to fix it.
    let mut c = config();
    c.webhooks.github_secret = None;
    let w = world_with(c).await;
    let (got, answer) = w.github("push", "d1", fixture("github/push.json")).await;
    assert_eq!(got, StatusCode::SERVICE_UNAVAILABLE);
    assert!(answer["error"]["message"].as_str().unwrap().contains("SWITCHBOARD_GITHUB_WEBHOOK_SECRET"));
}

/// The attack that stalled every route: a PagerDuty signature header with
/// 30,000 entries over a large body. Refused on the header's shape, before
/// any MAC; a rotation header of a few entries, one valid, still works, and a
/// large signed body (hashed on the CPU pool) is accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pagerduty_signature_flood_is_refused_before_hashing() {
    let mut c = config();
    c.webhooks.body_limit_bytes = 2 * 1024 * 1024;
    let w = world_with(c).await;
    let mut big: Value = serde_json::from_slice(&fixture("pagerduty/incident.triggered.json")).unwrap();
    big["event"]["data"]["padding"] = json!("x".repeat(1024 * 1024));
    let big = serde_json::to_vec(&big).unwrap();
    let valid = format!("v1={}", hmac_hex(PD_SECRET.as_bytes(), &big));
    let flood = format!("{},{valid}", vec!["v1="; 30_000].join(","));
    let (got, answer) = w.post("/hooks/pagerduty", &[("X-PagerDuty-Signature", flood)], big.clone()).await;
    assert_eq!((got, answer["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("malformed_signature")));
    assert!(answer["error"]["message"].as_str().unwrap().contains("at most"), "{answer}");
    let many_valid = [valid.as_str(); 9].join(",");
    let (got, _) = w.post("/hooks/pagerduty", &[("X-PagerDuty-Signature", many_valid)], big.clone()).await;
    assert_eq!(got, StatusCode::UNAUTHORIZED, "nine entries are too many even when valid");
    assert!(w.deliveries().await.is_empty(), "nothing was stored");

    let stale = format!("v1={}", hmac_hex(b"a rotated-out secret", &big));
    let rotation = format!("{stale}, {valid}");
    let (got, answer) = w.post("/hooks/pagerduty", &[("X-PagerDuty-Signature", rotation)], big).await;
    assert_eq!(got, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(w.deliveries().await.len(), 1);
}

/// Unsigned junk from one address is answered 429 once it passes the limit;
/// a correctly signed delivery is accepted whatever came before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_badly_signed_deliveries_are_rate_limited() {
    let mut c = config();
    c.limits.bad_credentials_per_minute = 3;
    let w = world_with(c).await;
    let body = fixture("github/push.json");
    let wrong = format!("sha256={}", hmac_hex(b"a guess", &body));
    let mut statuses = Vec::new();
    for i in 0..5 {
        let headers = [
            ("X-GitHub-Event", "push".to_owned()),
            ("X-GitHub-Delivery", format!("junk-{i}")),
            ("X-Hub-Signature-256", wrong.clone()),
        ];
        let (status, answer) = w.post("/hooks/github", &headers, body.clone()).await;
        statuses.push((status.as_u16(), answer["error"]["code"].as_str().unwrap_or_default().to_owned()));
    }
    assert_eq!(statuses.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [401, 401, 401, 429, 429], "{statuses:?}");
    assert_eq!(statuses[3].1, "rate_limited");
    for i in 0..5 {
        let (status, answer) = w.github("push", &format!("real-{i}"), body.clone()).await;
        assert_eq!(status, StatusCode::ACCEPTED, "a signed delivery is never refused for volume: {answer}");
    }
    assert_eq!(w.deliveries().await.len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivery_is_a_no_op() {
    let w = world().await;
    let body = fixture("github/deployment_status.json");
    let (_, first) = w.github("deployment_status", "same-id", body.clone()).await;
    let (status, again) = w.github("deployment_status", "same-id", body).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!((again["duplicate"].as_bool(), &again["delivery"]), (Some(true), &first["delivery"]));
    assert_eq!(w.processor.run_once().await, 1);
    let (_, after) = w.github("deployment_status", "same-id", fixture("github/deployment_status.json")).await;
    assert_eq!(after["duplicate"], true);
    assert_eq!(w.processor.run_once().await, 0, "a processed delivery is not processed again");
    assert_eq!(w.deliveries().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_a_rule_cannot_apply_is_a_dead_letter_until_replayed() {
    let mut c = config();
    c.environments.retain(|e| e.as_str() != "production");
    let w = world_with(c).await;
    w.github("deployment_status", "d-prod", fixture("github/deployment_status.json")).await;
    w.processor.run_once().await;
    let dead = w.hooks.inbox.list_deliveries(Some(DeliveryStatus::Dead), 10).await.unwrap();
    assert_eq!(dead.len(), 1, "bad input is not retried");
    let error = dead[0].last_error.clone().unwrap();
    assert!(error.contains("github deployment status: deployment") && error.contains("production"), "{error}");
    assert!(w.hooks.inbox.replay(dead[0].id, w.service.now()).await.unwrap());
    assert_eq!(w.hooks.inbox.get_delivery(dead[0].id).await.unwrap().unwrap().status, DeliveryStatus::Pending);
}

/// Fails `failures` times, then maps.
struct Flaky {
    failures: u32,
    calls: AtomicU32,
}

#[async_trait]
impl Mapper for Flaky {
    async fn apply(&self, _: &Delivery, _: &Arc<Value>) -> Result<Mapped, Failure> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        if n < self.failures {
            Err(Failure::retry(format!("attempt {n} failed")))
        } else {
            Ok(Mapped::Ran("ok".into()))
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_retried_with_backoff_then_dead() {
    let mut c = config();
    c.webhooks.retry_base_secs = 1;
    c.webhooks.max_attempts = 3;
    let w = world_with(c).await;
    let flaky = Arc::new(Flaky { failures: 1, calls: AtomicU32::new(0) });
    let processor = Processor::new(w.hooks.clone(), flaky.clone());
    w.github("push", "p1", fixture("github/push.json")).await;
    processor.run_once().await;
    let d = &w.deliveries().await[0];
    assert_eq!((d.status, d.attempts, d.last_error.as_deref()), (DeliveryStatus::Pending, 1, Some("attempt 0 failed")));
    assert!(d.next_attempt_at >= w.service.now() + 500, "waits before the next attempt");
    assert_eq!(processor.run_once().await, 0, "not due yet");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    processor.run_once().await;
    let d = &w.deliveries().await[0];
    assert_eq!((d.status, d.attempts, d.summary.as_deref()), (DeliveryStatus::Done, 2, Some("ok")));

    let always = Arc::new(Flaky { failures: u32::MAX, calls: AtomicU32::new(0) });
    let processor = Processor::new(w.hooks.clone(), always);
    w.github("push", "p2", fixture("github/push.json")).await;
    for _ in 0..3 {
        processor.run_once().await;
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    }
    let d = w.deliveries().await.into_iter().find(|d| d.delivery_id == "p2").unwrap();
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Dead, 3));
}

/// A published fixture with some fields changed (GitHub publishes one
/// example per event, not one per action).
fn edited(path: &str, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&fixture(path)).unwrap();
    edit(&mut v);
    serde_json::to_vec(&v).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repositories_become_projects_and_merged_pull_requests_give_lead_time() {
    let mut c = config();
    c.webhooks.new_repositories =
        Some(switchboard_core::config::NewRepositories { team: "payments".into(), project_type: "api".into() });
    // The published repository is a fork, which is skipped by default.
    c.import.forks = true;
    let w = world_with(c).await;

    // repository created → a project for it; the second fixture names the same repository.
    for (i, file) in ["repository.created.json", "repository.created.with-installation.json"].iter().enumerate() {
        let (status, body) = w.github("repository", &format!("repo-{i}"), fixture(&format!("github/{file}"))).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    assert_eq!(w.processor.run_once().await, 2);
    let all = w.deliveries().await;
    let p = w.op("get_project", json!({"project": "hello-world"})).await;
    assert_eq!(p["project"]["team"], "payments", "{p}");
    assert_eq!(p["project"]["project_type"], "api");
    assert_eq!(p["project"]["external_ids"]["github_repository"], "Octocoders/Hello-World");
    assert_eq!(p["project"]["links"][0]["url"], "https://github.com/Octocoders/Hello-World");
    let summaries: Vec<_> = all.iter().map(|d| (d.status, d.summary.clone())).collect();
    assert!(all.iter().all(|d| d.status == DeliveryStatus::Done), "{summaries:?}");
    assert!(summaries[0].1.as_deref().unwrap_or_default().ends_with("→ hello-world: unchanged"), "{summaries:?}");
    assert_eq!(p["project"]["external_ids"]["github_repository_id"], "186853261", "tracked by GitHub's id");

    // repository renamed → the project follows its new name; its other ids stay.
    w.op("update_project", json!({"project": "hello-world", "external_ids": {"pagerduty_service": "PNEW123"}})).await;
    let renamed = edited("github/repository.created.json", |v| {
        v["action"] = json!("renamed");
        v["changes"] = json!({"repository": {"name": {"from": "Hello-World"}}});
        v["repository"]["name"] = json!("hello-world-v2");
        v["repository"]["full_name"] = json!("Octocoders/hello-world-v2");
    });
    assert_eq!(w.github("repository", "repo-renamed", renamed).await.0, StatusCode::ACCEPTED);
    w.processor.run_once().await;
    let p = w.op("get_project", json!({"project": "hello-world"})).await;
    assert_eq!(
        p["project"]["external_ids"],
        json!({"github_repository": "Octocoders/hello-world-v2", "github_repository_id": "186853261", "pagerduty_service": "PNEW123"})
    );

    // pull_request closed + merged → a change of orders; delivered twice, recorded once.
    let merged = edited("github/pull_request.opened.json", |v| {
        v["action"] = json!("closed");
        v["pull_request"]["merged"] = json!(true);
        v["pull_request"]["merged_at"] = json!("2019-05-15T16:20:33Z");
        v["pull_request"]["merge_commit_sha"] = json!("c4295bd74fb0f4d8a31d5ba06a1d3e1bd1a5d9a3");
    });
    for id in ["pr-1", "pr-1-redelivered-by-hand"] {
        assert_eq!(w.github("pull_request", id, merged.clone()).await.0, StatusCode::ACCEPTED);
    }
    assert_eq!(w.processor.run_once().await, 2);
    let history = w.op("project_history", json!({"project": "orders", "kinds": ["change_merged"]})).await;
    let changes = history["events"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{history}");
    let change = &changes[0]["payload"]["change"];
    assert_eq!(change["number"], 2);
    assert_eq!(change["author"], "Codertocat");
    assert_eq!(change["sha"], "c4295bd74fb0f4d8a31d5ba06a1d3e1bd1a5d9a3");

    // Deployed to production two hours after the merge: three hours after it was opened.
    w.op(
        "record_deployment",
        json!({"project": "orders", "environment": "production", "version": "2.0.0",
               "started_at": "2019-05-15T18:10:33Z", "finished_at": "2019-05-15T18:20:33Z"}),
    )
    .await;
    let dora = w.op("dora", json!({"project": "orders", "since": "2019-05-01"})).await;
    assert_eq!(dora["lead_time_p50_ms"], 3 * 3_600_000, "{dora}");
}

/// The App's installation webhooks: each repository it is given becomes a
/// project (once), a taken slug gets the owner in front, and a repository
/// taken away archives its project.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installations_give_and_take_repositories() {
    let w = world().await;
    let processor = &w.processor;

    // The real fixture's one repository has its project already: it only
    // learns the repository's id.
    let before = w.op("find_projects", json!({"limit": 100})).await["projects"].as_array().unwrap().len();
    assert_eq!(
        w.github("installation", "inst-1", fixture("github/installation.created.json")).await.0,
        StatusCode::ACCEPTED
    );
    assert_eq!(processor.run_once().await, 1);
    let summary = w.deliveries().await[0].summary.clone().unwrap_or_default();
    assert!(summary.contains("Codertocat/Hello-World → orders: updated"), "{summary}");
    let after = w.op("find_projects", json!({"limit": 100})).await["projects"].as_array().unwrap().len();
    assert_eq!(before, after);

    let changed = edited("github/installation.created.json", |v| {
        v["action"] = json!("added");
        v["repositories_added"] = json!([
            {"id": 1, "name": "new-svc", "full_name": "acme/new-svc", "private": true},
            {"id": 2, "name": "orders", "full_name": "acme/orders", "private": true}
        ]);
        v["repositories_removed"] = json!([{"id": 3, "name": "octo-repo", "full_name": "octo-org/octo-repo"}]);
    });
    for id in ["inst-2", "inst-2-again"] {
        assert_eq!(w.github("installation_repositories", id, changed.clone()).await.0, StatusCode::ACCEPTED);
    }
    assert_eq!(processor.run_once().await, 2);
    let new = w.op("get_project", json!({"project": "new-svc"})).await;
    assert_eq!(
        (new["project"]["team"].as_str(), new["project"]["project_type"].as_str()),
        (Some("unowned"), Some("api"))
    );
    assert_eq!(new["project"]["external_ids"]["github_repository"], "acme/new-svc");
    let other = w.op("get_project", json!({"project": "acme-orders"})).await;
    assert_eq!(other["project"]["external_ids"]["github_repository"], "acme/orders", "orders was taken");
    let checkout = w.op("get_project", json!({"project": "checkout"})).await;
    assert_eq!(checkout["project"]["archived"], true, "octo-org/octo-repo was taken away");
    let found = w.op("find_projects", json!({"query": "new-svc"})).await;
    assert_eq!(found["projects"].as_array().unwrap().len(), 1, "delivered twice, one project");
}

/// The CI part of the score follows the newest build on the default branch:
/// a red `master` after a green one costs the part, a red feature branch
/// does not, and the next green build on `master` gives it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ci_part_of_the_score_follows_the_newest_default_branch_build() {
    let w = world().await;
    // After the demo's own builds (which run up to now).
    let soon = |mins: i64| (chrono::Utc::now() + chrono::Duration::minutes(mins)).to_rfc3339();
    let run = |id: u64, branch: &str, conclusion: &str, at: String| {
        let (branch, conclusion) = (branch.to_owned(), conclusion.to_owned());
        edited("github/workflow_run.completed.json", move |v| {
            let r = &mut v["workflow_run"];
            r["id"] = json!(id);
            r["head_branch"] = json!(branch);
            r["conclusion"] = json!(conclusion);
            for k in ["created_at", "updated_at", "run_started_at"] {
                r[k] = json!(at);
            }
        })
    };
    let ci =
        |score: &Value| score["components"].as_array().unwrap().iter().find(|c| c["name"] == "ci").unwrap().clone();
    let deliveries = [
        (run(1, "master", "success", soon(1)), "success on master"),
        (run(2, "master", "failure", soon(2)), "failure on master"),
        (run(3, "feature/x", "success", soon(3)), "a green feature branch"),
    ];
    let mut parts = Vec::new();
    for (i, (body, what)) in deliveries.into_iter().enumerate() {
        let (status, body) = w.github("workflow_run", &format!("ci-{i}"), body).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{what}: {body}");
        assert_eq!(w.processor.run_once().await, 1, "{what}");
        parts.push(ci(&w.op("project_score", json!({"project": "checkout"})).await));
    }
    // Green master: a fresh green build, the whole part.
    assert_eq!(parts[0]["value"], 1.0, "{}", parts[0]);
    assert!(parts[0]["detail"].as_str().unwrap().starts_with("last green build:"), "{}", parts[0]);
    // Red master: nothing, and why.
    for p in &parts[1..] {
        assert_eq!(p["value"], 0.0, "{p}");
        let detail = p["detail"].as_str().unwrap();
        assert!(detail.starts_with("newest build on master failure"), "{detail}");
        assert!(detail.contains("last green:"), "{detail}");
    }
    // Green master again: back to the green build's freshness.
    let (status, _) = w.github("workflow_run", "ci-3", run(4, "master", "success", soon(4))).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    w.processor.run_once().await;
    let back = ci(&w.op("project_score", json!({"project": "checkout"})).await);
    assert_eq!(back["value"], 1.0, "{back}");
    assert!(back["detail"].as_str().unwrap().starts_with("last green build:"), "{back}");
}
