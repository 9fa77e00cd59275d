//! Deploy runs through the engine and the GitHub App client against a fake
//! of GitHub's REST API: the App's JWT (checked by the fake against the
//! App's public key) finds the installation, its token dispatches the
//! workflow; a revoked token is minted again; outages are retried,
//! refusals fail the run with the reason.

use std::sync::Arc;

use serde_json::json;
use switchboard_automations::engine::{Engine, Worked};
use switchboard_automations::github::GitHubApp;
use switchboard_automations::github::deploy::Deploy;
use switchboard_automations::github::fake::FakeGitHub;
use switchboard_automations::github::scaffold::Scaffold;
use switchboard_core::clock::ManualClock;
use switchboard_core::config::Config;
use switchboard_core::config::Freeze;
use switchboard_core::demo::{self, DemoOptions};
use switchboard_core::event::{EventData, EventKind, EventQuery};
use switchboard_core::ids::RunId;
use switchboard_core::model::{Role, RunStatus};
use switchboard_core::{Caller, Service};
use switchboard_store::SqliteStore;

const NOW: i64 = 1_790_000_000_000;

struct World {
    service: Service,
    clock: Arc<ManualClock>,
    engine: Engine,
    github: FakeGitHub,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    world_with(|_| {}).await
}

async fn world_with(configure: impl FnOnce(&mut Config)) -> World {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let github = FakeGitHub::start(&["acme/orders", "templates/consumer-template"]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path(), 2).unwrap();
    let mut config = Config::default();
    config.github.app_id = Some(7);
    config.github.private_key = Some(switchboard_automations::github::fake::TEST_APP_KEY.into());
    config.github.api_url = github.url.clone();
    let consumer = config.templates.get_mut(&"consumer".parse().unwrap()).unwrap();
    consumer.facts.insert("language".parse().unwrap(), json!("python"));
    configure(&mut config);
    let clock = Arc::new(ManualClock::new(NOW));
    let service =
        Service::new(Arc::new(store.clone()), Arc::new(store.clone()), Arc::new(config.clone()), clock.clone());
    let admin = Caller::new(demo::DEMO_ADMIN, Role::Admin, "demo");
    for c in demo::generate(&DemoOptions { projects: 20, now: NOW, seed: 5 }, &config, 100) {
        service.import(&admin, &c.batch, &c.events).await.unwrap();
    }
    let ids = json!({"project": "orders", "external_ids": {"github_repository": "acme/orders"}});
    service.execute_json(&admin, "update_project", ids).await.unwrap();
    let app = GitHubApp::from_config(&config.github).unwrap().expect("configured");
    let deploy = Arc::new(Deploy { service: service.clone(), github: app.clone() });
    let scaffold = Arc::new(Scaffold { service: service.clone(), github: app });
    let engine = Engine::new(service.clone(), Arc::new(store), "w1")
        .with_action(switchboard_core::ops::OpKind::Deploy, deploy)
        .with_action(switchboard_core::ops::OpKind::ScaffoldProject, scaffold);
    World { service, clock, engine, github, _dir: dir }
}

impl World {
    async fn approved_deploy(&self, project: &str) -> RunId {
        self.deploy_approved_by(project, Caller::new("bob", Role::Approver, "test")).await
    }

    async fn deploy_approved_by(&self, project: &str, approver: Caller) -> RunId {
        let carol = Caller::new("carol", Role::Editor, "test");
        let args = json!({"project": project, "environment": "staging", "version": "1.2.3"});
        let run = self.service.execute_json(&carol, "deploy", args).await.unwrap().to_json();
        self.service.execute_json(&approver, "approve_run", json!({"run": run["id"]})).await.unwrap();
        run["id"].as_str().unwrap().parse().unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deploy_run_dispatches_the_workflow_as_the_installation() {
    let w = world().await;
    w.approved_deploy("orders").await;
    let (run, worked) = w.engine.run_once().await.unwrap().unwrap();
    assert_eq!(worked, Worked::Succeeded, "{:?}", w.github.calls());
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(run.steps[0].detail.as_deref(), Some("deploy.yml on acme/orders (main)"));

    let calls = w.github.calls();
    let paths: Vec<&str> = calls.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/repos/acme/orders/installation",
            "/app/installations/42/access_tokens",
            "/repos/acme/orders/actions/workflows/deploy.yml/dispatches"
        ]
    );
    // The App's JWT for the App's endpoints, the installation's token for the dispatch.
    assert!(calls[0].auth.starts_with("Bearer ey") && calls[1].auth.starts_with("Bearer ey"), "{calls:?}");
    assert!(calls[2].auth.ends_with("ghs_fake42"), "{calls:?}");
    let inputs = json!({"environment": "staging", "version": "1.2.3", "switchboard_run": run.id.to_string()});
    assert_eq!(calls[2].body, json!({"ref": "main", "inputs": inputs}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_github_no_longer_takes_is_minted_again() {
    let w = world().await;
    w.approved_deploy("orders").await;
    assert_eq!(w.engine.run_once().await.unwrap().unwrap().1, Worked::Succeeded);
    w.github.revoke_tokens();
    w.approved_deploy("orders").await;
    let (run, worked) = w.engine.run_once().await.unwrap().unwrap();
    assert_eq!((worked, run.status), (Worked::Succeeded, RunStatus::Succeeded), "{:?}", w.github.calls());
    let calls = w.github.calls();
    let after: Vec<(&str, &str)> = calls[3..].iter().map(|c| (c.path.as_str(), c.auth.as_str())).collect();
    let dispatch = "/repos/acme/orders/actions/workflows/deploy.yml/dispatches";
    // The cached token is refused once, a new one minted with the App's JWT, the dispatch sent again.
    assert_eq!(after.len(), 3, "{after:?}");
    assert_eq!(after[0], (dispatch, "Bearer ghs_fake42"));
    assert!(after[1].0 == "/app/installations/42/access_tokens" && after[1].1.starts_with("Bearer ey"), "{after:?}");
    assert_eq!(after[2], (dispatch, "Bearer ghs_fake42-1"));
    assert_eq!(w.github.dispatches().len(), 3, "the refused dispatch is recorded, not carried out");
}

#[tokio::test]
async fn the_fake_refuses_a_jwt_the_app_did_not_sign() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let github = FakeGitHub::start(&["acme/orders"]).await.unwrap();
    let client = reqwest::Client::new();
    for bearer in ["Bearer nonsense", "Bearer ghs_fake42", ""] {
        let r = client.get(format!("{}/app/installations", github.url)).header("authorization", bearer);
        let status = r.send().await.unwrap().status().as_u16();
        assert_eq!(status, 401, "{bearer:?} was taken as the App's JWT");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_is_retried_and_refusals_fail_the_run() {
    let w = world().await;
    w.approved_deploy("orders").await;
    // A read that meets a 5xx is sent again by the client; a longer outage is the engine's to retry.
    w.github.fail_next(1, 502);
    let (_, worked) = w.engine.run_once().await.unwrap().unwrap();
    assert_eq!(worked, Worked::Succeeded, "a blip on a read is retried by the client");
    w.approved_deploy("orders").await;
    w.github.fail_next(20, 502);
    let (_, worked) = w.engine.run_once().await.unwrap().unwrap();
    let Worked::Retrying(at) = worked else { panic!("{worked:?}") };
    w.github.fail_next(0, 502);
    w.clock.set(at);
    let (run, worked) = w.engine.run_once().await.unwrap().unwrap();
    assert_eq!((worked, run.status), (Worked::Succeeded, RunStatus::Succeeded));
    let ok = |c: &&switchboard_automations::github::fake::Call| c.path.ends_with("/dispatches");
    assert!(w.github.calls().iter().filter(ok).count() >= 2);

    // A project without a repository, and a repository the App is not on: failed, with why.
    let admin = Caller::new("ada", Role::Admin, "test");
    let none = json!({"project": "payments-api", "external_ids": {"github_repository": ""}});
    w.service.execute_json(&admin, "update_project", none).await.unwrap();
    w.approved_deploy("payments-api").await;
    let (_, worked) = w.engine.run_once().await.unwrap().unwrap();
    let Worked::Failed(reason) = worked else { panic!("{worked:?}") };
    assert!(reason.contains("has no github_repository external id"), "{reason}");
    let ids = json!({"project": "payments-api", "external_ids": {"github_repository": "acme/payments-api"}});
    w.service.execute_json(&admin, "update_project", ids).await.unwrap();
    w.approved_deploy("payments-api").await;
    let (_, worked) = w.engine.run_once().await.unwrap().unwrap();
    let Worked::Failed(reason) = worked else { panic!("{worked:?}") };
    assert!(reason.contains("GitHub answered 404: Not Found"), "{reason}");
}

#[test]
fn a_key_that_is_not_pem_is_refused_with_a_reason() {
    let mut config = Config::default();
    config.github.app_id = Some(7);
    config.github.private_key =
        Some("-----BEGIN RSA PRIVATE KEY-----\nnot a key\n-----END RSA PRIVATE KEY-----\n".into());
    let err = GitHubApp::from_config(&config.github).unwrap_err();
    assert!(err.contains("github.private_key"), "{err}");
    assert!(GitHubApp::from_config(&Config::default().github).unwrap().is_none());
}

async fn approved_scaffold(w: &World, name: &str) {
    let carol = Caller::new("carol", Role::Editor, "test");
    let args = json!({"name": name, "template": "consumer", "team": "payments"});
    let run = w.service.execute_json(&carol, "scaffold_project", args).await.unwrap().to_json();
    let bob = Caller::new("bob", Role::Approver, "test");
    w.service.execute_json(&bob, "approve_run", json!({"run": run["id"]})).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scaffold_run_creates_the_repository_and_the_project() {
    let w = world().await;
    approved_scaffold(&w, "invoice-consumer").await;
    let (run, worked) = w.engine.run_once().await.unwrap().unwrap();
    assert_eq!(worked, Worked::Succeeded, "{:?}", w.github.calls());
    let details: Vec<_> = run.steps.iter().map(|s| (s.name.as_str(), s.detail.clone().unwrap_or_default())).collect();
    assert_eq!(details[0], ("create repository", "templates/invoice-consumer from templates/consumer-template".into()));
    assert!(w.github.has_repo("templates/invoice-consumer"));
    let writes: Vec<(String, serde_json::Value)> = w
        .github
        .calls()
        .into_iter()
        .filter(|c| c.method != "GET" && !c.path.contains("access_tokens"))
        .map(|c| (c.path, c.body))
        .collect();
    assert_eq!(
        writes,
        [
            (
                "/repos/templates/consumer-template/generate".to_owned(),
                json!({"owner": "templates", "name": "invoice-consumer", "private": true, "include_all_branches": false})
            ),
            ("/repos/templates/invoice-consumer/topics".to_owned(), json!({"names": ["consumer", "switchboard"]})),
            (
                "/orgs/templates/teams/payments/repos/templates/invoice-consumer".to_owned(),
                json!({"permission": "push"})
            ),
        ]
    );
    let admin = Caller::new("ada", Role::Admin, "test");
    let project = w.service.execute_json(&admin, "get_project", json!({"project": "invoice-consumer"})).await.unwrap();
    let project = project.to_json();
    assert_eq!(project["project"]["team"], "payments");
    assert_eq!(project["project"]["external_ids"]["github_repository"], "templates/invoice-consumer");
    assert_eq!(project["project"]["facts"]["language"]["value"], "python", "the template's facts: {project}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaffolding_a_repository_that_exists_does_not_create_it_again() {
    let w = world().await;
    approved_scaffold(&w, "ledger-events").await;
    // A worker created the repository, then died before recording the step.
    w.github.add_repo("templates/ledger-events");
    let (run, worked) = w.engine.run_once().await.unwrap().unwrap();
    assert_eq!(worked, Worked::Succeeded);
    assert_eq!(run.steps[0].detail.as_deref(), Some("templates/ledger-events already exists"));
    assert!(!w.github.calls().iter().any(|c| c.path.ends_with("/generate")), "not generated twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_freeze_that_begins_after_the_approval_holds_the_run_until_it_ends() {
    // NOW is 2026-09-21T14:13:20Z; the freeze is the next day.
    let w = world_with(|c| {
        c.policy.freezes.push(Freeze {
            name: "release week".into(),
            from: "2026-09-22T00:00:00Z".into(),
            until: "2026-09-23T00:00:00Z".into(),
            days: Vec::new(),
            operations: Vec::new(),
            environments: Vec::new(),
            teams: Vec::new(),
        })
    })
    .await;
    let run = w.approved_deploy("orders").await;
    w.clock.advance(12 * 3600 * 1000); // 2026-09-22T02:13Z
    let until = 1_790_121_600_000; // 2026-09-23T00:00:00Z
    let (held, worked) = w.engine.run_once().await.unwrap().unwrap();
    assert_eq!((held.id, worked, held.status), (run, Worked::Held(until), RunStatus::Approved));
    assert!(w.github.dispatches().is_empty(), "nothing starts in a freeze");
    let q = EventQuery { kinds: vec![EventKind::RunHeld], ..Default::default() };
    let events = w.service.log().query(&q).await.unwrap();
    assert!(
        matches!(events[0].data().unwrap(), EventData::RunHeld(h) if h.freeze == "release week" && h.until == until)
    );
    // Not due again inside the window.
    w.clock.advance(3600 * 1000);
    assert!(w.engine.run_once().await.unwrap().is_none());

    // An admin's override approval starts at once, in the window.
    let overridden = w.deploy_approved_by("orders", Caller::new("ada", Role::Admin, "test")).await;
    let (started, worked) = w.engine.run_once().await.unwrap().unwrap();
    assert_eq!((started.id, worked), (overridden, Worked::Succeeded));
    assert_eq!(w.github.dispatches().len(), 1);

    // When the window ends, the held run starts.
    w.clock.advance(24 * 3600 * 1000);
    let (done, worked) = w.engine.run_once().await.unwrap().unwrap();
    assert_eq!((done.id, worked, done.status), (run, Worked::Succeeded, RunStatus::Succeeded));
    assert_eq!(w.github.dispatches().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_approved_while_nothing_runs_it_is_blocked_until_an_engine_does() {
    let w = world().await;
    // The engine has not run yet (a worker not started): the approval says so.
    let run = w.approved_deploy("orders").await;
    let stored = w.service.graph().get_run(&run).await.unwrap().unwrap();
    assert_eq!(stored.status, RunStatus::Blocked);
    let q = EventQuery { kinds: vec![EventKind::RunBlocked], ..Default::default() };
    let blocked = w.service.log().query(&q).await.unwrap();
    assert!(matches!(blocked[0].data().unwrap(), EventData::RunBlocked(b) if b.reason.contains("GitHub App")));
    // The engine starts: it takes the blocked run and runs it.
    let (done, worked) = w.engine.run_once().await.unwrap().unwrap();
    assert_eq!((done.id, worked, done.status), (run, Worked::Succeeded, RunStatus::Succeeded));
    // From now on approvals are approved: an engine runs deploys.
    let next = w.approved_deploy("orders").await;
    assert_eq!(w.service.graph().get_run(&next).await.unwrap().unwrap().status, RunStatus::Approved);
}
