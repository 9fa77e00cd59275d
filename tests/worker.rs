//! A run engine worker killed mid-campaign: `switchboard worker` (a
//! separate process) works an upgrade campaign against the fake GitHub and
//! is killed while it does; another worker takes the run over once the
//! lease lapses and finishes it — every repository ends with exactly one
//! pull request.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use switchboard_automations::engine::Worked;
use switchboard_automations::github::{self, fake::FakeGitHub};
use switchboard_core::campaign::ItemState;
use switchboard_core::clock::SystemClock;
use switchboard_core::config::Config;
use switchboard_core::demo::{self, DemoOptions};
use switchboard_core::model::{Role, RunStatus};
use switchboard_core::queue::RunQueue;
use switchboard_core::{Caller, Service};
use switchboard_store::SqliteStore;

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");
const REPOS: usize = 10;

/// A process we started; killed by its own PID when dropped.
struct Worker(Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn cargo_toml(version: &str) -> String {
    format!("[package]\nname = \"svc\"\n\n[dependencies]\nacme-telemetry = \"{version}\" # pinned\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_is_taken_over_without_duplicate_pull_requests() {
    let github = FakeGitHub::start(&[]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = github::fake::TEST_APP_KEY.to_owned();
    let toml = format!(
        "[store]\ndata_dir = {data:?}\n\n[server]\nport = 1\n\n[policy]\nrun_lease_secs = 2\n\n\
         [github]\napp_id = 7\napi_url = {url:?}\nconcurrency = 1\n\n[github.upgrades]\nbatch = 2\n",
        data = dir.path().join("data").to_str().unwrap(),
        url = github.url,
    );
    let config_path = dir.path().join("switchboard.toml");
    std::fs::write(&config_path, &toml).unwrap();
    let env: Vec<(String, String)> = vec![("SWITCHBOARD_GITHUB_PRIVATE_KEY".into(), key.clone())];
    let config = Config::load(&config_path, &env).unwrap();

    // The organisation, in the store both workers share.
    let store = SqliteStore::open(&config.store.data_dir, 2).unwrap();
    let service =
        Service::new(Arc::new(store.clone()), Arc::new(store.clone()), Arc::new(config.clone()), Arc::new(SystemClock));
    let admin = Caller::new(demo::DEMO_ADMIN, Role::Admin, "demo");
    for c in demo::generate(&DemoOptions { projects: 5, now: service.now(), seed: 5 }, &config, 100) {
        service.import(&admin, &c.batch, &c.events).await.unwrap();
    }
    let team = service.graph().list_teams().await.unwrap()[0].slug.to_string();
    let project_type = config.project_types.keys().next().unwrap().to_string();
    for i in 0..REPOS {
        let repo = format!("acme/svc-{i}");
        github.put_file(&repo, "Cargo.toml", &cargo_toml("1.4.2"));
        let args = json!({"slug": format!("svc-{i}"), "team": team, "project_type": project_type,
                          "dependencies": [{"ecosystem": "cargo", "package": "acme-telemetry", "version": "1.4.2"}],
                          "external_ids": {"github_repository": repo}});
        service.execute_json(&admin, "create_project", args).await.unwrap();
    }
    let carol = Caller::new("carol", Role::Editor, "test");
    let args = json!({"package": "acme-telemetry", "to": "1.5.0"});
    let run = service.execute_json(&carol, "upgrade_dependency", args).await.unwrap().to_json();
    let bob = Caller::new("bob", Role::Approver, "test");
    service.execute_json(&bob, "approve_run", json!({"run": run["id"]})).await.unwrap();
    let id = run["id"].as_str().unwrap().parse().unwrap();

    // The first worker, a process of its own, on a slow GitHub; probed and
    // scraped on its metrics listener.
    github.slow_down(Duration::from_millis(60));
    let metrics_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let first = Worker(
        Command::new(BIN)
            .args(["worker", "--config", config_path.to_str().unwrap()])
            .env("SWITCHBOARD_GITHUB_PRIVATE_KEY", &key)
            .env("SWITCHBOARD_METRICS__LISTEN", format!("127.0.0.1:{metrics_port}"))
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the worker starts"),
    );
    let started = Instant::now();
    while github.all_pulls().len() < 3 {
        assert!(started.elapsed() < Duration::from_secs(60), "the worker opened no pull request in a minute");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    switchboard_agents::install_tls_provider();
    let probe = |path: &'static str| async move {
        let resp = reqwest::get(format!("http://127.0.0.1:{metrics_port}{path}")).await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    };
    assert_eq!(probe("/livez").await.0, 200);
    let (status, ready) = probe("/readyz").await;
    assert_eq!(status, 200, "{ready}");
    let (_, metrics) = probe("/metrics").await;
    assert!(metrics.contains("switchboard_github_calls_total{result=\"ok\"}"), "{metrics}");
    drop(first); // killed mid-campaign
    let opened_by_first = github.all_pulls().len();
    assert!(opened_by_first < REPOS, "killed before the end ({opened_by_first} opened)");
    let stored = service.graph().get_run(&id).await.unwrap().unwrap();
    assert_eq!(stored.status, RunStatus::Running);
    let (holder, _) = store.lease_of(&id).await.unwrap().expect("the dead worker's lease");
    assert!(holder.starts_with("switchboard-"), "{holder}");

    // Another worker takes the run over once the lease lapses, from its last completed step.
    github.slow_down(Duration::ZERO);
    let second = github::engine(&service, Arc::new(store.clone()), "second").unwrap().unwrap();
    let worked = loop {
        match second.run_once().await.unwrap() {
            Some((_, worked)) => break worked,
            None => {
                assert!(started.elapsed() < Duration::from_secs(90), "the lease never lapsed");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    assert_eq!(worked, Worked::Succeeded);
    let done = service.graph().get_run(&id).await.unwrap().unwrap();
    assert_eq!(done.status, RunStatus::Succeeded);
    let batches = done
        .steps
        .iter()
        .filter(|s| s.status == switchboard_core::model::StepStatus::Done && s.name.starts_with("repositories"))
        .count();
    assert_eq!(batches, REPOS / 2);

    for i in 0..REPOS {
        let repo = format!("acme/svc-{i}");
        let pulls = github.pulls(&repo);
        assert_eq!(pulls.len(), 1, "{repo}: exactly one pull request");
        assert_eq!(github.file(&repo, &pulls[0].head, "Cargo.toml"), Some(cargo_toml("1.5.0")), "{repo}");
    }
    let summary = service.campaign_summary(&id).await.unwrap();
    assert_eq!(summary.count(ItemState::Opened), REPOS);
}
