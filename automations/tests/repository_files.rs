//! A repository's manifest and lock files read through the App from the fake
//! GitHub: one tree read, then only the files Switchboard reads — counted on
//! the fake — and into a project through `import_manifests`.

mod common;

use common::world;
use serde_json::json;
use switchboard_automations::github::{GitHubApp, files};
use switchboard_core::Caller;
use switchboard_core::model::Role;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_tree_read_then_only_the_manifests() {
    let w = world(0).await;
    let repo = "acme/orders";
    let lock = include_str!("../../core/tests/fixtures/lockfiles/npm-v3/package-lock.json");
    let package = include_str!("../../core/tests/fixtures/lockfiles/npm-v3/package.json");
    w.github.put_file(repo, "README.md", "# orders\n");
    w.github.put_file(repo, "src/main.ts", "export {};\n");
    w.github.put_file(repo, "web/package.json", package);
    w.github.put_file(repo, "web/package-lock.json", lock);
    w.github.put_file(repo, "web/node_modules/x/package.json", "{\"name\": \"x\"}");
    w.github.put_file(repo, "go.mod", "module example.com/orders\n\nrequire github.com/redis/go-redis/v9 v9.5.1\n");
    let gh = GitHubApp::from_config(&w.service.config().github).unwrap().expect("an App");
    let before = w.github.calls().len();
    let read = files::read(&gh, repo).await.unwrap();
    let paths: Vec<&str> = read.files.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["go.mod", "web/package-lock.json", "web/package.json"]);
    assert!(!read.truncated);
    let calls: Vec<String> = w.github.calls()[before..]
        .iter()
        .filter(|c| c.path.starts_with("/repos/acme/orders"))
        .map(|c| c.path.clone())
        .collect();
    assert_eq!(calls.len(), 6, "the installation (once per owner), the repository, its tree, three files: {calls:?}");
    assert!(calls.iter().all(|c| !c.contains("README") && !c.contains("node_modules")), "{calls:?}");
    assert_eq!(read.files[1].1, lock, "the text as the repository holds it");

    let admin = Caller::new("ada", Role::Admin, "test");
    let team = w.service.graph().list_teams().await.unwrap()[0].slug.to_string();
    w.service
        .execute_json(&admin, "create_project", json!({"slug": "orders-svc", "team": team, "project_type": "api"}))
        .await
        .unwrap();
    let files: Vec<_> = read.files.iter().map(|(path, text)| json!({"path": path, "text": text})).collect();
    let out = w
        .service
        .execute_json(&admin, "import_manifests", json!({"project": "orders-svc", "files": files}))
        .await
        .unwrap()
        .to_json();
    assert_eq!(out["direct"], 20, "19 from package.json, one from go.mod: {out}");
    assert!(out["transitive"].as_u64().unwrap() > 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repository_the_app_cannot_see_is_a_clear_error() {
    let w = world(0).await;
    let gh = GitHubApp::from_config(&w.service.config().github).unwrap().expect("an App");
    let err = files::read(&gh, "elsewhere/private").await.unwrap_err();
    assert!(!err.message.is_empty(), "{err:?}");
}
