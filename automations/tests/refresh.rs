//! Dependencies kept current by pushes: a push to the default branch that
//! changes a manifest or lock file queues a refresh from the payload alone
//! (no GitHub call while processing); a burst is one refresh; the refresher
//! reads the files through the App once and imports them.

mod common;

use common::{fixture, world};
use serde_json::{Value, json};
use switchboard_automations::github::GitHubApp;
use switchboard_automations::refresh::{Refresher, SETTLE_MS, touches_dependencies};
use switchboard_core::Caller;
use switchboard_core::model::Role;

fn push(paths: &[&str], n: usize) -> Value {
    let mut v = fixture("push.json");
    // The published fixture deletes a tag; this one pushes to main.
    v["ref"] = json!("refs/heads/main");
    v["deleted"] = json!(false);
    v["repository"]["full_name"] = json!("acme/orders");
    v["repository"]["default_branch"] = json!("main");
    v["commits"] = json!([{"id": format!("{n:040x}"), "added": [], "removed": [], "modified": paths}]);
    // Pushed on 1 and 2 December, as the last five are.
    let day = if n < 16 { "2026-12-01" } else { "2026-12-02" };
    v["head_commit"] = json!({"id": format!("{n:040x}"), "timestamp": format!("{day}T10:00:00Z")});
    v["size"] = json!(1);
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_pushes_is_one_refresh_and_other_pushes_cost_nothing() {
    let w = world(0).await;
    let go = "module example.com/orders\n\nrequire github.com/redis/go-redis/v9 v9.5.1\n";
    w.github.put_file("acme/orders", "go.mod", go);
    w.github.put_file("acme/orders", "README.md", "# orders\n");
    let admin = Caller::new("ada", Role::Admin, "test");
    let team = w.service.graph().list_teams().await.unwrap()[0].slug.to_string();
    let project = json!({"slug": "orders-svc", "team": team, "project_type": "api", "external_ids": {"github_repository": "acme/orders"}});
    w.service.execute_json(&admin, "create_project", project).await.unwrap();

    let calls = w.github.calls().len();
    w.webhook("push", &push(&["README.md", "src/main.go"], 0)).await;
    assert!(w.service.due_refreshes(10).await.unwrap().is_empty());
    for n in 1..=20 {
        w.webhook("push", &push(&["go.mod"], n)).await;
    }
    assert_eq!(w.github.calls().len(), calls, "processing pushes calls no GitHub API");
    assert!(w.service.due_refreshes(10).await.unwrap().is_empty(), "a refresh waits for the burst to settle");
    w.clock.advance(SETTLE_MS + 1);
    assert_eq!(w.service.due_refreshes(10).await.unwrap(), ["acme/orders"], "twenty pushes, one refresh");
    // The day of the last push is a fact, written once a day however many pushes.
    let facts = w.service.graph().get_project(&"orders-svc".parse().unwrap()).await.unwrap().unwrap().facts;
    assert_eq!(
        facts.get(&"repo_last_commit".parse().unwrap()).map(|f| f.value.to_string()),
        Some("2026-12-02".to_owned())
    );
    let q = switchboard_core::event::EventQuery {
        kinds: vec![switchboard_core::event::EventKind::FactSet],
        limit: 1000,
        ..Default::default()
    };
    let events = w.service.log().query(&q).await.unwrap();
    let days: Vec<String> = events
        .iter()
        .filter(|e| e.payload["key"] == "repo_last_commit")
        .map(|e| e.payload["value"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(days.len(), 2, "one write a day: {days:?}");

    w.github.put_file("acme/orders", "go.mod", &go.replace("v9.5.1", "v9.6.0"));
    let refresher = Refresher {
        service: w.service.clone(),
        github: GitHubApp::from_config(&w.service.config().github).unwrap().unwrap(),
    };
    let said = refresher.run_once().await;
    assert_eq!(
        said,
        ["acme/orders → orders-svc: updated; dependencies 1 direct, 0 transitive (1 added, 0 changed, 0 removed)"]
    );
    let p = w.service.graph().get_project(&"orders-svc".parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(p.dependencies[0].version.as_str(), "v9.6.0");
    assert!(refresher.run_once().await.is_empty(), "taken once");
}

#[test]
fn which_pushes_touch_dependencies() {
    let p = |paths: &[&str]| push(paths, 1);
    assert!(touches_dependencies(&p(&["services/api/Cargo.lock"])));
    assert!(touches_dependencies(&p(&["requirements/base.txt"])));
    assert!(!touches_dependencies(&p(&["README.md", "web/node_modules/x/package.json"])));
    let mut long = p(&["README.md"]);
    long["size"] = json!(40);
    assert!(touches_dependencies(&long), "GitHub lists only some commits of a long push: read it whole");
}
