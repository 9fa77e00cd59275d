//! Repositories as projects, through the real client against the fake
//! GitHub: an installation of 200 repositories across ecosystems and
//! monorepos (real lock files) fills the graph with projects, owners by the
//! `[import]` rules, facts and dependencies; a second pass changes nothing;
//! renames, transfers, archiving and deletion keep following the same
//! project by GitHub's id; forks and archived repositories follow config.

mod common;

use std::path::Path;

use common::{fixture, manifest, world_with};
use serde_json::{Value, json};
use switchboard_automations::github::GitHubApp;
use switchboard_automations::refresh::Refresher;
use switchboard_core::config::DependencySource;
use switchboard_core::model::Project;

const LOCKFILES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/fixtures/lockfiles");
const REAL: &[&str] = &["cargo", "npm-v3", "yarn-v1", "poetry", "uv", "requirements", "go", "bundler", "pnpm"];

fn real(dir: &str) -> Vec<(String, String)> {
    switchboard_testkit::fixtures::tree(&Path::new(LOCKFILES).join(dir))
}

fn repo(i: usize) -> String {
    format!("acme/repo-{i:03}")
}

/// The organisation: what each repository holds and who owns it by which rule.
fn organisation(gh: &switchboard_automations::github::fake::FakeGitHub) {
    for i in 0..200 {
        let r = repo(i);
        match i % 10 {
            // A monorepo: two real projects in subdirectories, and vendored
            // packages that are not read.
            0 => {
                for (dir, sub) in [("services/api", REAL[i / 10 % REAL.len()]), ("web", "npm-v3")] {
                    for (path, text) in real(sub) {
                        gh.put_file(&r, &format!("{dir}/{path}"), &text);
                    }
                }
                gh.put_file(
                    &r,
                    "web/node_modules/left-pad/package.json",
                    r#"{"name": "left-pad", "version": "1.3.0"}"#,
                );
            }
            1..=4 => {
                for (path, text) in real(REAL[i % REAL.len()]) {
                    gh.put_file(&r, &path, &text);
                }
            }
            _ => {
                let (_, path, text) = manifest(i, "1.4.2");
                gh.put_file(&r, path, &text);
            }
        }
        match i % 5 {
            0 => gh.put_file(
                &r,
                "catalog-info.yaml",
                &format!(
                    "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: repo-{i:03}\n  description: From the catalog.\n  annotations:\n    github.com/project-slug: {r}\nspec:\n  type: website\n  lifecycle: production\n  owner: group:default/risk\n---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: intruders\nspec:\n  type: team\n  members: [mallory]\n"
                ),
            ),
            1 => gh.put_file(&r, ".github/CODEOWNERS", "/docs/ @acme/writers\n*  @octocat @acme/platform-eng\n"),
            2 => gh.grant_team(&r, "payments-eng", if i % 2 == 0 { "admin" } else { "maintain" }),
            3 => gh.describe_repo(&r, json!({"topics": ["team-data", "library"]})),
            _ => {}
        }
        if i % 3 == 0 {
            gh.put_file(&r, "README.md", "# a repository\n");
        }
        if i % 4 == 0 {
            gh.put_file(&r, ".github/workflows/ci.yml", "on: push\n");
        }
        gh.describe_repo(&r, json!({"language": "Go", "license": {"spdx_id": "MIT"}}));
    }
    gh.describe_repo(&repo(7), json!({"fork": true}));
    gh.describe_repo(&repo(9), json!({"archived": true}));
    gh.put_file(&repo(15), "package.json", "{ not json");
}

async fn project(w: &common::World, slug: &str) -> Project {
    w.service.graph().get_project(&slug.parse().unwrap()).await.unwrap().unwrap_or_else(|| panic!("no {slug}"))
}

fn refresher(w: &common::World) -> Refresher {
    Refresher {
        service: w.service.clone(),
        github: GitHubApp::from_config(&w.service.config().github).unwrap().unwrap(),
    }
}

fn installation(repos: &[String]) -> Value {
    let mut v = fixture("installation.created.json");
    v["repositories"] = repos
        .iter()
        .map(|r| json!({"id": 1, "name": r.split('/').nth(1), "full_name": r, "private": true}))
        .collect::<Vec<_>>()
        .into();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_installation_of_two_hundred_repositories_fills_the_graph() {
    let w = world_with(0, |_| {}).await;
    organisation(&w.github);
    let repos: Vec<String> = (0..200).map(repo).collect();
    let before = w.github.calls().len();
    w.webhook("installation", &installation(&repos)).await;
    assert_eq!(w.github.calls().len(), before, "processing the webhook reads nothing from GitHub");
    assert_eq!(w.service.due_refreshes(500).await.unwrap().len(), 200, "every repository queued, due at once");

    let said = refresher(&w).run_once().await;
    assert_eq!(said.len(), 200);
    let calls = w.github.calls().len() - before;
    eprintln!("200 repositories: {calls} GitHub calls ({:.1} a repository)", calls as f64 / 200.0);
    assert!(calls < 200 * 12, "one tree read and only the wanted files: {calls}");

    // Forks are skipped by default; an archived repository is an archived project.
    assert!(said.iter().any(|l| l == "acme/repo-007: skipped, a fork (import.forks is off)"), "{said:#?}");
    assert!(project(&w, "repo-009").await.archived);
    let graph = w.service.graph();
    assert!(graph.project_by_external_id("github_repository", "acme/repo-007").await.unwrap().is_none());

    // Owners, by rule: catalog, CODEOWNERS, GitHub team permission, topic, default.
    for (i, team, ty) in [
        (10, "risk", "frontend"),
        (11, "platform-eng", "api"),
        (12, "payments-eng", "api"),
        (13, "data", "library"),
        (14, "unowned", "api"),
        (17, "payments-eng", "api"),
    ] {
        let p = project(&w, &format!("repo-{i:03}")).await;
        assert_eq!((p.team.as_str(), p.project_type.as_str()), (team, ty), "repo-{i:03}");
    }
    let line = said.iter().find(|l| l.starts_with("acme/repo-010 ")).unwrap();
    assert!(line.contains("team risk (catalog-info.yaml), type frontend (catalog-info.yaml)"), "{line}");
    // A repository's catalog names its owner but cannot make teams or people.
    assert!(graph.get_team(&"intruders".parse().unwrap()).await.unwrap().is_none());
    let catalogued = project(&w, "repo-010").await;
    assert_eq!(catalogued.description, "From the catalog.");
    assert_eq!(catalogued.external_ids.github_repository_id, w.github.repo_id("acme/repo-010").map(|i| i.to_string()));

    // Facts from the repository, weighted 0 until an operator weights them.
    let facts = |p: &Project| -> Vec<(String, String)> {
        p.facts
            .iter()
            .filter(|(k, _)| k.as_str().starts_with("repo_"))
            .map(|(k, f)| (k.to_string(), f.value.to_string()))
            .collect()
    };
    assert_eq!(
        facts(&project(&w, "repo-012").await),
        [
            ("repo_default_branch", "main"),
            ("repo_has_ci", "true"),
            ("repo_has_codeowners", "false"),
            ("repo_has_readme", "true"),
            ("repo_language", "Go"),
            ("repo_last_commit", "2026-11-30"),
            ("repo_license", "MIT"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    let decl = w.service.config().fact_decl(&"api".parse().unwrap(), &"repo_has_ci".parse().unwrap()).unwrap();
    assert_eq!(decl.weight, 0);

    // Dependencies from real lock files, every directory of a monorepo, vendored code left out.
    let mono = project(&w, "repo-020").await;
    let sources: std::collections::BTreeSet<_> =
        mono.dependencies.iter().filter_map(|d| d.source.as_deref()?.split('/').next()).collect();
    assert_eq!(sources.into_iter().collect::<Vec<_>>(), ["services", "web"], "{:?}", mono.dependencies.len());
    assert!(mono.dependencies.iter().all(|d| !d.source.as_deref().unwrap_or_default().contains("node_modules")));
    assert!(mono.dependencies.iter().any(|d| d.transitive), "lock files give transitive edges");
    let total: usize = {
        let mut n = 0;
        for i in (0..200).filter(|i| *i != 7) {
            let p = project(&w, &format!("repo-{i:03}")).await;
            assert!(!p.dependencies.is_empty() || i == 15, "repo-{i:03} has no dependencies");
            n += p.dependencies.len();
        }
        n
    };
    eprintln!("{total} dependency edges over 199 projects");
    // A malformed manifest is named in the report; the rest of that repository imports.
    let broken = said.iter().find(|l| l.starts_with("acme/repo-015 ")).unwrap();
    assert!(broken.contains("package.json not read"), "{broken}");

    // A second pass changes nothing.
    for r in &repos {
        w.service.queue_refresh(r, w.service.now()).await.unwrap();
    }
    let again = refresher(&w).run_once().await;
    let changed: Vec<_> = again.iter().filter(|l| !l.contains(": unchanged") && !l.contains(": skipped")).collect();
    assert!(changed.is_empty(), "{changed:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renamed_transferred_archived_and_deleted_repositories_keep_their_project() {
    let w = world_with(0, |_| {}).await;
    for i in 0..5 {
        let (_, path, text) = manifest(i, "1.4.2");
        w.github.put_file(&repo(i), path, &text);
    }
    let repos: Vec<String> = (0..5).map(repo).collect();
    w.webhook("installation", &installation(&repos)).await;
    refresher(&w).run_once().await;
    let id = |r: &str| w.github.repo_id(r).unwrap();
    let event = |action: &str, full: &str, extra: Value| {
        let mut v = fixture("repository.created.json");
        v["action"] = json!(action);
        let (owner, name) = full.split_once('/').unwrap();
        v["repository"]["id"] = json!(id(full));
        v["repository"]["name"] = json!(name);
        v["repository"]["full_name"] = json!(full);
        v["repository"]["owner"]["login"] = json!(owner);
        if let (Some(v), Some(extra)) = (v.as_object_mut(), extra.as_object()) {
            v.extend(extra.clone());
        }
        v
    };

    // Renamed: the project follows, by id.
    w.github.move_repo("acme/repo-000", "acme/storefront");
    w.webhook(
        "repository",
        &event("renamed", "acme/storefront", json!({"changes": {"repository": {"name": {"from": "repo-000"}}}})),
    )
    .await;
    assert_eq!(project(&w, "repo-000").await.external_ids.github_repository.as_deref(), Some("acme/storefront"));
    // Transferred to another owner.
    w.github.move_repo("acme/repo-001", "shop/repo-001");
    let from = json!({"changes": {"owner": {"from": {"organization": {"login": "acme"}}}}});
    w.webhook("repository", &event("transferred", "shop/repo-001", from)).await;
    assert_eq!(project(&w, "repo-001").await.external_ids.github_repository.as_deref(), Some("shop/repo-001"));
    // Archived, then deleted, then taken from the App: archived projects, history kept.
    w.webhook("repository", &event("archived", "acme/repo-002", json!({}))).await;
    assert!(project(&w, "repo-002").await.archived);
    w.webhook("repository", &event("deleted", "acme/repo-003", json!({}))).await;
    assert!(project(&w, "repo-003").await.archived);
    let mut removed = fixture("installation.created.json");
    removed["action"] = json!("removed");
    removed["repositories_added"] = json!([]);
    removed["repositories_removed"] =
        json!([{"id": id("acme/repo-004"), "name": "repo-004", "full_name": "acme/repo-004"}]);
    w.webhook("installation_repositories", &removed).await;
    assert!(project(&w, "repo-004").await.archived);

    // A rename nobody told us about: the next import finds the project by id.
    w.github.move_repo("acme/storefront", "acme/storefront-v2");
    w.service.queue_refresh("acme/storefront-v2", w.service.now()).await.unwrap();
    let said = refresher(&w).run_once().await;
    assert_eq!(said.len(), 1);
    assert!(said[0].starts_with("acme/storefront-v2 → repo-000: updated"), "{said:?}");
    let p = project(&w, "repo-000").await;
    assert_eq!(p.external_ids.github_repository.as_deref(), Some("acme/storefront-v2"));
    let graph = w.service.graph();
    assert!(graph.get_project(&"storefront-v2".parse().unwrap()).await.unwrap().is_none(), "no duplicate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forks_archived_repositories_and_the_dependency_graph_follow_config() {
    let w = world_with(0, |c| {
        c.import.forks = true;
        c.import.archived = switchboard_core::config::ArchivedRepositories::Skip;
        c.import.dependency_source = DependencySource::GithubSbom;
        c.import.create_teams = false;
    })
    .await;
    let sbom: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../core/tests/fixtures/sbom/spdx-2.3-github-depgraph-google-osv-scanner.json"
        ))
        .unwrap(),
    )
    .unwrap();
    w.github.put_file("acme/fork", "go.mod", "module x\n");
    w.github.describe_repo("acme/fork", json!({"fork": true, "topics": ["team-nobody"]}));
    w.github.set_dependency_graph("acme/fork", sbom);
    w.github.put_file("acme/old", "go.mod", "module y\n");
    w.github.describe_repo("acme/old", json!({"archived": true}));
    w.github.put_file("acme/nograph", "go.mod", "module z\n");
    let team = w.service.graph().list_teams().await.unwrap()[0].slug.to_string();
    w.github.describe_repo("acme/nograph", json!({"topics": [format!("team-{team}")]}));
    let repos = ["acme/fork", "acme/old", "acme/nograph"].map(str::to_owned);
    w.webhook("installation", &installation(&repos)).await;
    let mut said = refresher(&w).run_once().await;
    said.sort();
    // With create_teams off, a team nobody made sends the project to the
    // default team, which must exist: the report says why it was skipped.
    assert!(
        said[0].starts_with("acme/fork: skipped, team unowned (import.default_team) does not exist")
            && said[0].contains("team nobody (topic) does not exist and import.create_teams is off"),
        "{said:#?}"
    );
    assert!(said[1].contains(&format!("acme/nograph → nograph: created, team {team} (topic)")), "{said:#?}");
    assert!(said[1].contains("GitHub has no dependency graph for it"), "{said:#?}");
    assert_eq!(said[2], "acme/old: skipped, archived (import.archived is \"skip\")");

    // With the default team there, the fork imports, its dependencies from GitHub's SBOM.
    let admin = switchboard_core::Caller::new("ada", switchboard_core::model::Role::Admin, "test");
    w.service.execute_json(&admin, "create_team", json!({"slug": "unowned"})).await.unwrap();
    w.service.queue_refresh("acme/fork", w.service.now()).await.unwrap();
    let said = refresher(&w).run_once().await;
    assert!(said[0].contains("created, team unowned (import.default_team)"), "{said:?}");
    assert!(said[0].contains("team nobody (topic) does not exist and import.create_teams is off"), "{said:?}");
    let fork = project(&w, "fork").await;
    assert_eq!(fork.team.as_str(), "unowned");
    assert!(fork.dependencies.len() > 10, "{}", fork.dependencies.len());
    assert!(fork.dependencies.iter().all(|d| d.source.as_deref() == Some("sbom:github")));
}

/// `import_github` (chat, API, MCP, the portal's button) queues the whole
/// organisation; the refresher lists it and imports each repository; what
/// happened is `list_imports`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn importing_the_organisation_from_chat_is_worked_by_the_refresher() {
    let w = world_with(0, |_| {}).await;
    for i in 0..3 {
        let (_, path, text) = manifest(i, "1.4.2");
        w.github.put_file(&repo(i), path, &text);
    }
    w.github.describe_repo(&repo(2), json!({"fork": true}));
    let admin = switchboard_core::Caller::new("ada", switchboard_core::model::Role::Admin, "chat");
    let editor = switchboard_core::Caller::new("carol", switchboard_core::model::Role::Editor, "chat");
    assert!(w.service.execute_json(&editor, "import_github", json!({})).await.is_err(), "admins only");
    let queued = w.service.execute_json(&admin, "import_github", json!({})).await.unwrap().to_json();
    assert_eq!(queued["queued"], "every installation", "{queued}");
    let bad = w.service.execute_json(&admin, "list_imports", json!({"outcome": "sideways"})).await.unwrap_err();
    assert!(bad.to_string().contains("is not one of created, updated, unchanged, skipped"), "{bad}");

    let r = refresher(&w);
    assert_eq!(r.run_once().await, ["import of every repository: 3 queued"]);
    assert_eq!(r.run_once().await.len(), 3);
    let list = w.service.execute_json(&editor, "list_imports", json!({})).await.unwrap().to_json();
    assert_eq!(list["counts"], json!({"created": 2, "skipped": 1, "unchanged": 0, "updated": 0}), "{list}");
    let skipped =
        w.service.execute_json(&editor, "list_imports", json!({"outcome": "skipped"})).await.unwrap().to_json();
    assert_eq!(skipped["imports"][0]["repository"], "acme/repo-002");
    assert_eq!(skipped["imports"][0]["summary"], "skipped, a fork (import.forks is off)");
}
