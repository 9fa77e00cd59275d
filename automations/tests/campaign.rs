//! Upgrade campaigns through the engine and the real octocrab client
//! against the fake GitHub: 200 repositories in four ecosystems and six
//! manifest formats, changed byte for byte only in the version; a
//! repository already upgraded, a conflict and a secondary rate limit
//! mid-campaign; then the campaign followed through signed pull request
//! and check suite webhooks, the merge moving the graph's dependency.

use std::sync::Arc;

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use switchboard_automations::engine::{Engine, Worked};
use switchboard_automations::follow::{CampaignFollower, Chain};
use switchboard_automations::github::fake::FakeGitHub;
use switchboard_automations::github::{self, campaign::MARK};
use switchboard_automations::{Hooks, Processor, RuleSet, RulesMapper};
use switchboard_core::campaign::ItemState;
use switchboard_core::clock::ManualClock;
use switchboard_core::config::Config;
use switchboard_core::demo::{self, DemoOptions};
use switchboard_core::model::{Role, Run, RunStatus};
use switchboard_core::{Caller, Service};
use switchboard_store::SqliteStore;
use tower::ServiceExt;

const NOW: i64 = 1_790_000_000_000;
const SECRET: &str = "campaign-test-secret";

/// One manifest format: its path and its text with the package at `v`.
fn manifest(i: usize, v: &str) -> (&'static str, &'static str, String) {
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

struct World {
    service: Service,
    engine: Engine,
    github: FakeGitHub,
    store: SqliteStore,
    clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
}

async fn world(repos: usize) -> World {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let github = FakeGitHub::start(&[]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path(), 2).unwrap();
    let mut config = Config::default();
    config.github.app_id = Some(7);
    config.github.private_key = Some(
        std::fs::read_to_string(format!("{}/tests/fixtures/github/app-test-key.pem", env!("CARGO_MANIFEST_DIR")))
            .unwrap(),
    );
    config.github.api_url = github.url.clone();
    config.webhooks.github_secret = Some(SECRET.into());
    let clock = Arc::new(ManualClock::new(NOW));
    let service =
        Service::new(Arc::new(store.clone()), Arc::new(store.clone()), Arc::new(config.clone()), clock.clone());
    let admin = Caller::new(demo::DEMO_ADMIN, Role::Admin, "demo");
    for c in demo::generate(&DemoOptions { projects: 5, now: NOW, seed: 5 }, &config, 100) {
        service.import(&admin, &c.batch, &c.events).await.unwrap();
    }
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
    World { service, engine, github, store, clock, _dir: dir }
}

impl World {
    async fn approved_upgrade(&self) -> Run {
        let carol = Caller::new("carol", Role::Editor, "test");
        let args = json!({"package": "acme-telemetry", "from": "1.4.2", "to": "1.5.0"});
        let run = self.service.execute_json(&carol, "upgrade_dependency", args).await.unwrap().to_json();
        let bob = Caller::new("bob", Role::Approver, "test");
        self.service.execute_json(&bob, "approve_run", json!({"run": run["id"]})).await.unwrap();
        let id = run["id"].as_str().unwrap().parse().unwrap();
        self.service.graph().get_run(&id).await.unwrap().unwrap()
    }

    /// Sends a signed GitHub webhook and processes it as serve does.
    async fn webhook(&self, event: &str, body: &Value) {
        let bytes = serde_json::to_vec(body).unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(&bytes);
        let sig: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        let hooks = Hooks::new(self.service.clone(), Arc::new(self.store.clone()));
        let request = axum::http::Request::post("/hooks/github")
            .header("content-type", "application/json")
            .header("x-github-event", event)
            .header("x-github-delivery", uuid_like(&bytes))
            .header("x-hub-signature-256", format!("sha256={sig}"))
            .body(axum::body::Body::from(bytes))
            .unwrap();
        let resp = switchboard_automations::router(hooks.clone()).oneshot(request).await.unwrap();
        assert_eq!(resp.status(), 202);
        let rules = Arc::new(RuleSet::load(self.service.config()).unwrap());
        let mapper = Chain(vec![
            Arc::new(RulesMapper::new(rules, self.service.clone())),
            Arc::new(CampaignFollower { service: self.service.clone() }),
        ]);
        assert_eq!(Processor::new(hooks, Arc::new(mapper)).run_once().await, 1);
    }
}

fn uuid_like(bytes: &[u8]) -> String {
    use sha2::Digest;
    Sha256::digest(bytes).iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/../../shared/fixtures/github/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_over_200_repositories_changes_only_the_version() {
    let w = world(200).await;
    // Already upgraded in the repository (the graph has not heard yet).
    let (_, path, text) = manifest(7, "1.5.0");
    w.github.put_file("acme/svc-007", path, &text);
    // Someone else writes to the branch while the campaign does.
    w.github.conflict_on("acme/svc-013");
    // GitHub's secondary rate limit, mid-campaign.
    w.github.rate_limit_from(700, 3, 1);

    let run = w.approved_upgrade().await;
    let (done, worked) = w.engine.run_once().await.unwrap().unwrap();
    assert_eq!(worked, Worked::Succeeded, "{:?}", done.steps.last());
    assert_eq!(done.id, run.id);
    let names: Vec<&str> = done.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "plan",
            "repositories 1-50 of 200",
            "repositories 51-100 of 200",
            "repositories 101-150 of 200",
            "repositories 151-200 of 200"
        ]
    );
    assert_eq!(done.steps[0].detail.as_deref(), Some("200 projects use acme-telemetry 1.4.2"));
    assert_eq!(w.github.rate_limited_calls(), 3, "the rate limit was hit and waited out");

    // One pull request per repository that needed one, changing only the version.
    let pulls = w.github.all_pulls();
    assert_eq!(pulls.len(), 198);
    for i in 0..200 {
        let repo = format!("acme/svc-{i:03}");
        let (_, path, before) = manifest(i, if i == 7 { "1.5.0" } else { "1.4.2" });
        let prs = w.github.pulls(&repo);
        assert_eq!(w.github.file(&repo, "main", path).as_deref(), Some(before.as_str()), "{repo}: main untouched");
        if i == 7 || i == 13 {
            assert!(prs.is_empty(), "{repo}: no pull request");
            continue;
        }
        assert_eq!(prs.len(), 1, "{repo}");
        let pr = &prs[0];
        assert_eq!(pr.head, "switchboard/upgrade/acme-telemetry-1.5.0");
        assert_eq!(pr.base, "main");
        assert_eq!(pr.title, "Upgrade acme-telemetry to 1.5.0");
        assert!(pr.body.contains(&format!("{MARK} {}", run.id)), "{}", pr.body);
        assert!(pr.body.contains("Requested by carol and approved by bob"), "{}", pr.body);
        assert_eq!(pr.labels, ["dependencies"]);
        let (_, _, after) = manifest(i, "1.5.0");
        assert_eq!(w.github.file(&repo, &pr.head, path).as_deref(), Some(after.as_str()), "{repo}: byte for byte");
        assert_eq!(w.github.file(&repo, &pr.head, "README.md").as_deref(), Some("# svc\n"));
    }

    // The installation's token was minted once and reused.
    let tokens = w.github.calls().iter().filter(|c| c.path.ends_with("/access_tokens") && !c.rate_limited).count();
    assert_eq!(tokens, 1);

    let summary = w.service.campaign_summary(&run.id).await.unwrap();
    assert_eq!(summary.items.len(), 200);
    assert_eq!(summary.count(ItemState::Opened), 198);
    let skipped: Vec<_> = summary.items.iter().filter(|i| i.state == ItemState::Skipped).collect();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].repository, "acme/svc-007");
    assert_eq!(skipped[0].reason.as_deref(), Some("already on 1.5.0 (package.json)"));
    let conflict: Vec<_> = summary.items.iter().filter(|i| i.state == ItemState::Conflict).collect();
    assert_eq!(conflict.len(), 1);
    assert_eq!(conflict[0].repository, "acme/svc-013");
    assert_eq!(summary.counts_line(), "198 opened, 1 conflict, 1 skipped");

    // Asked again (a second approval of the same upgrade): nothing is opened twice.
    let again = w.approved_upgrade().await;
    let (_, worked) = w.engine.run_once().await.unwrap().unwrap();
    assert_eq!(worked, Worked::Succeeded);
    assert_eq!(w.github.all_pulls().len(), 198);
    let second = w.service.campaign_summary(&again.id).await.unwrap();
    assert_eq!(second.count(ItemState::Opened), 198);
    assert!(
        second
            .items
            .iter()
            .filter(|i| i.state == ItemState::Opened)
            .all(|i| i.reason.as_deref() == Some("already open"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_request_webhooks_move_the_campaign_and_the_graph() {
    let w = world(3).await;
    let run = w.approved_upgrade().await;
    let (_, worked) = w.engine.run_once().await.unwrap().unwrap();
    assert_eq!(worked, Worked::Succeeded);
    let pr = w.github.pulls("acme/svc-001").remove(0);

    // GitHub's published pull_request payload, for the campaign's pull request.
    let mut merged = fixture("pull_request.opened.json");
    merged["action"] = json!("closed");
    merged["number"] = json!(pr.number);
    merged["repository"]["full_name"] = json!("acme/svc-001");
    let p = &mut merged["pull_request"];
    p["number"] = json!(pr.number);
    p["body"] = json!(pr.body);
    p["head"]["ref"] = json!(pr.head);
    p["merged"] = json!(true);
    p["state"] = json!("closed");
    p["merged_at"] = json!("2026-09-22T10:00:00Z");
    p["merge_commit_sha"] = json!("4f1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6d5");
    w.webhook("pull_request", &merged).await;

    let project = w.service.graph().get_project(&"svc-001".parse().unwrap()).await.unwrap().unwrap();
    let dep = project.dependencies.iter().find(|d| d.package.as_str() == "acme-telemetry").unwrap();
    assert_eq!(dep.version.as_str(), "1.5.0", "the merge moved the graph");

    // Checks failing on another pull request (GitHub's check_suite payload).
    let other = w.github.pulls("acme/svc-002").remove(0);
    let mut checks = fixture("check_suite.completed.json");
    checks["repository"]["full_name"] = json!("acme/svc-002");
    checks["check_suite"]["conclusion"] = json!("failure");
    checks["check_suite"]["head_branch"] = json!(other.head);
    checks["check_suite"]["pull_requests"][0]["number"] = json!(other.number);
    checks["check_suite"]["pull_requests"][0]["head"]["ref"] = json!(other.head);
    w.webhook("check_suite", &checks).await;

    let summary = w.service.campaign_summary(&run.id).await.unwrap();
    let state = |repo: &str| summary.items.iter().find(|i| i.repository == repo).map(|i| i.state);
    assert_eq!(state("acme/svc-001"), Some(ItemState::Merged));
    assert_eq!(state("acme/svc-002"), Some(ItemState::ChecksFailing));
    assert_eq!(state("acme/svc-000"), Some(ItemState::Opened));
    assert_eq!(summary.counts_line(), "1 opened, 1 checks failing, 1 merged");

    // A pull request Switchboard did not open is left to the rules alone.
    let mut foreign = fixture("pull_request.opened.json");
    foreign["repository"]["full_name"] = json!("acme/svc-000");
    foreign["pull_request"]["number"] = json!(999);
    foreign["pull_request"]["body"] = json!("a person's change");
    w.webhook("pull_request", &foreign).await;
    assert_eq!(w.service.campaign_summary(&run.id).await.unwrap(), summary);
    assert_eq!(w.service.graph().get_run(&run.id).await.unwrap().unwrap().status, RunStatus::Succeeded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_rate_limit_ends_the_step_and_the_batch_resumes_without_duplicates() {
    let w = world(4).await;
    let run = w.approved_upgrade().await;
    // A secondary limit asking for longer than github.max_rate_limit_wait_secs (120 s).
    w.github.rate_limit_from(12, 1, 900);
    let (_, worked) = w.engine.run_once().await.unwrap().unwrap();
    let Worked::Retrying(_) = worked else { panic!("{worked:?}") };
    let opened_before = w.github.all_pulls().len();
    assert!(opened_before < 4);

    // Due again (the engine's backoff), the batch is worked again from what exists.
    let stored = w.service.graph().get_run(&run.id).await.unwrap().unwrap();
    let failed = stored.steps.last().unwrap();
    assert_eq!(failed.status, "failed");
    assert!(failed.detail.as_deref().unwrap().contains("s wait; the step is tried again later"), "{failed:?}");
    let fresh = github::engine(&w.service, Arc::new(w.store.clone()), "w2").unwrap().unwrap();
    w.clock.advance(13 * 60 * 1000);
    let (_, worked) = fresh.run_once().await.unwrap().unwrap();
    assert_eq!(worked, Worked::Succeeded);
    let pulls = w.github.all_pulls();
    assert_eq!(pulls.len(), 4);
    let mut repos: Vec<_> = pulls.iter().map(|(r, _)| r.clone()).collect();
    repos.dedup();
    assert_eq!(repos.len(), 4, "one pull request per repository");
}
