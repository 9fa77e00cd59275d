//! What the GitHub action tests share: an organisation whose projects use
//! `acme-telemetry` 1.4.2, one repository each on the fake GitHub (in six
//! manifest formats), the engine with every action, and signed webhooks
//! processed as serve processes them.
#![allow(dead_code)]

use std::sync::Arc;

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use switchboard_automations::engine::Engine;
use switchboard_automations::follow::{Chain, RunFollower};
use switchboard_automations::github::{self, fake::FakeGitHub};
use switchboard_automations::{Hooks, Processor, RuleSet, RulesMapper};
use switchboard_core::clock::ManualClock;
use switchboard_core::config::Config;
use switchboard_core::demo;
use switchboard_core::model::{Role, Run};
use switchboard_core::{Caller, Service};
use switchboard_store::SqliteStore;
use tower::ServiceExt;

pub const NOW: i64 = switchboard_testkit::T0;
const SECRET: &str = "campaign-test-secret";

/// One manifest format: its path and its text with the package at `v`.
pub fn manifest(i: usize, v: &str) -> (&'static str, &'static str, String) {
    let gv = format!("v{v}");
    match i % 6 {
        0 => (
            "cargo",
            "Cargo.toml",
            format!(
                "[package]\nname = \"svc\"\nversion = \"0.3.0\"\n\n[dependencies]\n# shared telemetry\nacme-telemetry = {{ version = \"{v}\", features = [\"otlp\"] }}\nserde = \"1\"\n"
            ),
        ),
        1 => (
            "npm",
            "package.json",
            format!(
                "{{\n  \"name\": \"svc\",\n  \"version\": \"2.0.0\",\n  \"dependencies\": {{\n    \"acme-telemetry\": \"^{v}\",\n    \"express\": \"4.19.2\"\n  }}\n}}\n"
            ),
        ),
        2 => (
            "pypi",
            "requirements.txt",
            format!("# pinned\nrequests==2.32.3\nacme-telemetry[otlp]=={v}  # telemetry\n"),
        ),
        3 => (
            "pypi",
            "pyproject.toml",
            format!("[project]\nname = \"svc\"\ndependencies = [\n  \"acme-telemetry=={v}\",\n  \"httpx>=0.27\",\n]\n"),
        ),
        4 => (
            "pypi",
            "pyproject.toml",
            format!(
                "[tool.poetry]\nname = \"svc\"\n\n[tool.poetry.dependencies]\npython = \"^3.12\"\nacme-telemetry = \"{v}\"\n"
            ),
        ),
        _ => (
            "go",
            "go.mod",
            format!(
                "module example.com/svc\n\ngo 1.22\n\nrequire (\n\tacme-telemetry {gv}\n\tgolang.org/x/net v0.25.0\n)\n"
            ),
        ),
    }
}

pub struct World {
    pub service: Service,
    pub engine: Engine,
    pub github: FakeGitHub,
    pub store: SqliteStore,
    pub clock: Arc<ManualClock>,
    pub world: switchboard_testkit::World,
}

pub async fn world(repos: usize) -> World {
    world_with(repos, |_| {}).await
}

/// [`world`] with the config changed by `edit` first.
pub async fn world_with(repos: usize, edit: impl FnOnce(&mut Config)) -> World {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let github = FakeGitHub::start(&[]).await.unwrap();
    let mut config = Config::default();
    edit(&mut config);
    config.github.app_id = Some(7);
    config.github.private_key = Some(switchboard_automations::github::fake::TEST_APP_KEY.into());
    config.github.api_url = github.url.clone();
    config.webhooks.github_secret = Some(SECRET.into());
    let world = switchboard_testkit::World::builder().config(config.clone()).demo(5, 5).build().await;
    let (service, store, clock) = (world.service.clone(), world.store.clone(), world.clock.clone());
    let admin = Caller::new(demo::DEMO_ADMIN, Role::Admin, "demo");
    let team = service.graph().list_teams().await.unwrap()[0].slug.to_string();
    let project_type = config.project_types.keys().next().unwrap().to_string();
    for i in 0..repos {
        let (ecosystem, path, text) = manifest(i, "1.4.2");
        let repo = format!("acme/svc-{i:03}");
        github.put_file(&repo, path, &text);
        github.put_file(&repo, "README.md", "# svc\n");
        let args = json!({"slug": format!("svc-{i:03}"), "team": team, "project_type": project_type,
                          "dependencies": [{"ecosystem": ecosystem, "package": "acme-telemetry", "version": "1.4.2"}],
                          "external_ids": {"github_repository": repo}});
        service.execute_json(&admin, "create_project", args).await.unwrap();
    }
    let engine = github::engine(&service, Arc::new(store.clone()), "w1").unwrap().expect("a GitHub App");
    World { service, engine, github, store, clock, world }
}

impl World {
    pub async fn approved_upgrade(&self) -> Run {
        let carol = Caller::new("carol", Role::Editor, "test");
        let args = json!({"package": "acme-telemetry", "from": "1.4.2", "to": "1.5.0"});
        let run = self.service.execute_json(&carol, "upgrade_dependency", args).await.unwrap().to_json();
        let bob = Caller::new("bob", Role::Approver, "test");
        self.service.execute_json(&bob, "approve_run", json!({"run": run["id"]})).await.unwrap();
        let id = run["id"].as_str().unwrap().parse().unwrap();
        self.service.graph().get_run(&id).await.unwrap().unwrap()
    }

    /// Sends a signed GitHub webhook and processes it as serve does.
    pub async fn webhook(&self, event: &str, body: &Value) {
        let bytes = serde_json::to_vec(body).unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(&bytes);
        let sig: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        let hooks = Hooks::new(self.service.clone(), Arc::new(self.store.clone()));
        let request = axum::http::Request::post("/hooks/github")
            .header("content-type", "application/json")
            .header("x-github-event", event)
            .header("x-github-delivery", delivery_id(&bytes))
            .header("x-hub-signature-256", format!("sha256={sig}"))
            .body(axum::body::Body::from(bytes))
            .unwrap();
        let resp = switchboard_automations::router(hooks.clone()).oneshot(request).await.unwrap();
        assert_eq!(resp.status(), 202);
        let rules = Arc::new(RuleSet::load(self.service.config()).unwrap());
        let mapper = Chain(vec![
            Arc::new(RulesMapper::new(rules, self.service.clone())),
            Arc::new(switchboard_automations::repositories::RepositoryMapper {
                service: self.service.clone(),
                with_app: self.service.config().github.configured(),
            }),
            Arc::new(switchboard_automations::refresh::RefreshQueue::new(self.service.clone())),
            Arc::new(RunFollower { service: self.service.clone() }),
        ]);
        assert_eq!(Processor::new(hooks, Arc::new(mapper)).run_once().await, 1);
    }
}

/// A fresh delivery id each time, as GitHub gives a redelivery its own.
fn delivery_id(bytes: &[u8]) -> String {
    use sha2::Digest;
    static SENT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = SENT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut h = Sha256::new();
    h.update(bytes);
    h.update(n.to_le_bytes());
    h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/github/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}
