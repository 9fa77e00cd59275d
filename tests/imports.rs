//! `switchboard import` on the built binary: SBOMs, Backstage catalogs,
//! checkouts and repositories through the GitHub App (the fake, on loopback),
//! each against a store the demo seeded.

mod common;

use std::process::Command;

use common::*;
use serde_json::Value;

/// `import sbom` reads a real SBOM into a project; `import` without a
/// subcommand or with a bad file says what to do and changes nothing.
#[test]
fn import_sbom_reads_a_real_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    assert!(run(&["demo", "--seed-only", "--data-dir", data, "--projects", "30"]).status.success());
    let sbom = format!("{}/core/tests/fixtures/sbom/cyclonedx-1.3-laravel-7.12.0.json", env!("CARGO_MANIFEST_DIR"));
    let out = run(&["import", "sbom", "--project", "orders", &sbom, "--data-dir", data]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("CycloneDX 1.3: 62 component(s)"), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["project"], "orders");
    let out = run(&["op", "get_project", "--json", r#"{"project":"orders"}"#, "--data-dir", data]);
    let project: Value = serde_json::from_slice(&out.stdout).unwrap();
    let framework = project["project"]["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["package"] == "laravel/framework")
        .cloned()
        .unwrap();
    assert_eq!(framework["ecosystem"], "composer");
    assert_eq!(framework["source"], "sbom:cyclonedx-1.3-laravel-7.12.0.json");
    assert_eq!(framework["transitive"], true);

    let before = run(&["op", "get_project", "--json", r#"{"project":"orders"}"#, "--data-dir", data]).stdout;
    let not_json = dir.path().join("bom.xml");
    std::fs::write(&not_json, "<bom/>").unwrap();
    let out = run(&["import", "sbom", "--project", "orders", not_json.to_str().unwrap(), "--data-dir", data]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("is not JSON"), "{}", text(&out.stderr));
    let out = run(&["import", "sbom", "--project", "orders", "/no/such/file.json", "--data-dir", data]);
    assert!(text(&out.stderr).contains("cannot read /no/such/file.json"), "{}", text(&out.stderr));
    let out = run(&["import"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("switchboard import sbom --project P FILE"), "{}", text(&out.stderr));
    let after = run(&["op", "get_project", "--json", r#"{"project":"orders"}"#, "--data-dir", data]).stdout;
    assert_eq!(before, after, "nothing changed");
}

/// `import backstage` follows the example catalog's Locations from its root
/// and imports it; again, nothing changes; an unreadable file is named.
#[test]
fn import_backstage_follows_locations() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    assert!(run(&["demo", "--seed-only", "--data-dir", data, "--projects", "6"]).status.success());
    let root = format!("{}/core/tests/fixtures/backstage", env!("CARGO_MANIFEST_DIR"));
    let (all, acme) = (format!("{root}/all.yaml"), format!("{root}/acme-corp.yaml"));
    let out = run(&["import", "backstage", &all, &acme, "--dry-run", "--data-dir", data]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("dry run, nothing changed"), "{}", text(&out.stderr));
    let out = run(&["import", "backstage", &all, &acme, "--data-dir", data]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["files"].as_u64().unwrap() > 40, "every Location followed: {}", v["files"]);
    assert!(v["created"].as_array().unwrap().iter().any(|c| c == "project wayback-search"), "{}", v["created"]);
    let out = run(&["op", "get_project", "--json", r#"{"project":"wayback-search"}"#, "--data-dir", data]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let again = run(&["import", "backstage", &all, &acme, "--data-dir", data]);
    assert!(text(&again.stderr).contains("0 created, 0 updated"), "{}", text(&again.stderr));
    let missing = run(&["import", "backstage", "/no/catalog.yaml", "--data-dir", data]);
    assert!(!missing.status.success());
    assert!(text(&missing.stderr).contains("/no/catalog.yaml: cannot read it"), "{}", text(&missing.stderr));
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "kind: Component\nmetadata: [name: x\n").unwrap();
    let out = run(&["import", "backstage", broken.to_str().unwrap(), &acme, "--data-dir", data]);
    assert!(out.status.success(), "the rest still imports: {}", text(&out.stderr));
    assert!(text(&out.stderr).contains("broken.yaml: not a catalog file"), "{}", text(&out.stderr));
}

/// `import repo` reads a real workspace checkout's manifests and lock file.
#[test]
fn import_repo_reads_a_checkout() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    assert!(run(&["demo", "--seed-only", "--data-dir", data, "--projects", "30"]).status.success());
    let checkout = format!("{}/core/tests/fixtures/lockfiles/cargo-workspace", env!("CARGO_MANIFEST_DIR"));
    let out = run(&["import", "repo", "--project", "orders", &checkout, "--data-dir", data]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["files"].as_array().unwrap().len(), 4, "{}", v["files"]);
    assert!(v["transitive"].as_u64().unwrap() > 300);
    let out =
        run(&["op", "get_dependency", "--json", r#"{"project":"orders","package":"bincode"}"#, "--data-dir", data]);
    let dep: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(dep["edges"][0]["version"], "2.0.1");
    assert_eq!(dep["edges"][0]["source"], "Cargo.lock");
    let out = run(&["import", "repo", "--project", "orders", "/no/such/dir", "--data-dir", data]);
    assert!(text(&out.stderr).contains("is not a directory"), "{}", text(&out.stderr));
}

/// `import repo --github` reads a repository's files through the App (the
/// fake GitHub here) into a project; without an App it says what to set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_repo_reads_through_the_github_app() {
    use switchboard_automations::github::{self, fake::FakeGitHub};
    let fake = FakeGitHub::start(&[]).await.unwrap();
    let go = "module example.com/orders\n\nrequire (\n\tgithub.com/redis/go-redis/v9 v9.5.1\n\tgolang.org/x/sys v0.20.0 // indirect\n)\n";
    fake.put_file("acme/orders", "go.mod", go);
    fake.put_file("acme/orders", "README.md", "# orders\n");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("switchboard.toml");
    std::fs::write(
        &config,
        format!("[store]\ndata_dir = {:?}\n\n[github]\napp_id = 7\napi_url = {:?}\n", data.to_str().unwrap(), fake.url),
    )
    .unwrap();
    let (config, data) = (config.to_str().unwrap().to_owned(), data.to_str().unwrap().to_owned());
    let out = tokio::task::spawn_blocking(move || {
        assert!(run(&["demo", "--seed-only", "--data-dir", &data, "--projects", "30"]).status.success());
        let import = Command::new(BIN)
            .args(["import", "repo", "--project", "orders", "--github", "acme/orders", "--config", &config])
            .env("SWITCHBOARD_GITHUB_PRIVATE_KEY", github::fake::TEST_APP_KEY)
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        let without_app = Command::new(BIN)
            .args(["import", "repo", "--project", "orders", "--github", "acme/orders", "--data-dir", &data])
            .env_remove("SWITCHBOARD_GITHUB_PRIVATE_KEY")
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        (import, without_app)
    })
    .await
    .unwrap();
    let (import, without_app) = out;
    assert!(import.status.success(), "{}", text(&import.stderr));
    assert!(
        text(&import.stderr).contains("read 1 manifest and lock file(s) of acme/orders@main"),
        "{}",
        text(&import.stderr)
    );
    let v: Value = serde_json::from_slice(&import.stdout).unwrap();
    assert_eq!((v["direct"].as_u64(), v["transitive"].as_u64()), (Some(1), Some(1)));
    assert!(!without_app.status.success());
    assert!(text(&without_app.stderr).contains("set [github] app_id and private_key"), "{}", text(&without_app.stderr));
}

/// `import github` turns every repository the App can read into a project
/// with its dependencies; a dry run only plans; a second run makes nothing new.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_github_fills_the_graph_from_the_installation() {
    use switchboard_automations::github::{self, fake::FakeGitHub};
    let fake = FakeGitHub::start(&[]).await.unwrap();
    fake.put_file(
        "acme/billing",
        "go.mod",
        "module example.com/billing\n\nrequire github.com/stripe/stripe-go/v76 v76.1.0\n",
    );
    fake.put_file("acme/web", "package.json", r#"{"name": "web", "dependencies": {"react": "18.2.0"}}"#);
    fake.put_file("acme/orders", "README.md", "# orders: the demo's project of that repository\n");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("switchboard.toml");
    let toml =
        format!("[store]\ndata_dir = {:?}\n\n[github]\napp_id = 7\napi_url = {:?}\n", data.to_str().unwrap(), fake.url);
    std::fs::write(&config, toml).unwrap();
    let (config, data) = (config.to_str().unwrap().to_owned(), data.to_str().unwrap().to_owned());
    let runs = tokio::task::spawn_blocking(move || {
        assert!(run(&["demo", "--seed-only", "--data-dir", &data, "--projects", "30"]).status.success());
        let import = |extra: &[&str]| {
            Command::new(BIN)
                .args(["import", "github", "--config", &config])
                .args(extra)
                .env("SWITCHBOARD_GITHUB_PRIVATE_KEY", github::fake::TEST_APP_KEY)
                .env_remove("RUST_LOG")
                .output()
                .unwrap()
        };
        let planned = import(&["--dry-run"]);
        let first = import(&[]);
        let second = import(&[]);
        let project = run(&[
            "op",
            "get_dependency",
            "--json",
            r#"{"project":"billing","package":"github.com/stripe/stripe-go/v76"}"#,
            "--data-dir",
            &data,
        ]);
        (planned, first, second, project)
    })
    .await
    .unwrap();
    let (planned, first, second, project) = runs;
    for out in [&planned, &first, &second] {
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let outcomes = |v: &Value| -> Vec<(String, String)> {
        let report = v["report"].as_array().unwrap();
        report
            .iter()
            .map(|r| (r["repository"].as_str().unwrap().to_owned(), r["outcome"].as_str().unwrap().to_owned()))
            .collect()
    };
    let plan: Value = serde_json::from_slice(&planned.stdout).unwrap();
    let expected = |orders: &str| {
        vec![
            ("acme/billing".to_owned(), "created".to_owned()),
            ("acme/orders".to_owned(), orders.to_owned()),
            ("acme/web".to_owned(), "created".to_owned()),
        ]
    };
    // The demo's orders has acme/orders already: it only learns the id and facts.
    assert_eq!(outcomes(&plan), expected("updated"), "{plan}");
    assert!(text(&planned.stderr).contains("dry run, nothing changed"));
    let done: Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(outcomes(&done), expected("updated"), "{done}");
    let said = text(&first.stderr);
    assert!(
        said.contains("acme/billing → billing: created, team unowned (import.default_team), type api (import.default_type); dependencies 1 direct, 0 transitive (1 added"),
        "{said}"
    );
    assert!(said.contains("[3/3]") && said.contains("GitHub calls"), "{said}");
    let again: Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!((again["created"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(3)), "{again}");
    let edge: Value = serde_json::from_slice(&project.stdout).unwrap();
    assert_eq!(edge["edges"][0]["version"], "v76.1.0", "{edge}");
}

/// Day one, as a new user has it: `serve` on an empty store with a GitHub
/// App (the fake) and a webhook secret. A signed `installation` webhook
/// fills the graph — projects with their owners (CODEOWNERS), facts and
/// dependencies from lock files — and a push that changes a lock file moves
/// the version, all through the running process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_fills_the_graph_from_the_apps_installation_and_keeps_it_current() {
    use switchboard_automations::github::{self, fake::FakeGitHub};
    switchboard_agents::install_tls_provider();
    let fake = FakeGitHub::start(&[]).await.unwrap();
    let go = "module example.com/billing\n\ngo 1.22\n\nrequire github.com/stripe/stripe-go/v76 v76.1.0\n";
    fake.put_file("acme/billing", "go.mod", go);
    fake.put_file("acme/billing", ".github/CODEOWNERS", "* @acme/payments\n");
    fake.put_file("acme/web", "package.json", r#"{"name": "web", "dependencies": {"react": "18.2.0"}}"#);
    fake.describe_repo("acme/web", serde_json::json!({"language": "TypeScript", "topics": ["team-frontend"]}));
    fake.put_file("acme/old-fork", "go.mod", "module x\n");
    fake.describe_repo("acme/old-fork", serde_json::json!({"fork": true}));

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let config = dir.path().join("switchboard.toml");
    let toml = format!(
        "[server]\nport = {port}\n\n[store]\ndata_dir = {:?}\n\n[github]\napp_id = 7\napi_url = {:?}\n",
        data.to_str().unwrap(),
        fake.url
    );
    std::fs::write(&config, toml).unwrap();
    let secret = "day-one-secret";
    let env =
        [("SWITCHBOARD_GITHUB_WEBHOOK_SECRET", secret), ("SWITCHBOARD_GITHUB_PRIVATE_KEY", github::fake::TEST_APP_KEY)];
    let out = Command::new(BIN)
        .args(["token", "create", "--user", "robot", "--role", "editor", "--config", config.to_str().unwrap()])
        .envs(env)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = text(&out.stdout).lines().last().unwrap().to_owned();
    let (server, _) = start_with(&["serve", "--config", config.to_str().unwrap()], port, &env);

    let http = reqwest::Client::new();
    let hook = |event: &'static str, body: Vec<u8>| {
        let sig = format!("sha256={}", switchboard_automations::signature::hmac_hex(secret.as_bytes(), &body));
        http.post(format!("{}/hooks/github", server.base))
            .header("content-type", "application/json")
            .header("x-github-event", event)
            .header("x-github-delivery", format!("{event}-{}", body.len()))
            .header("x-hub-signature-256", sig)
            .body(body)
            .send()
    };
    let mut installation: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/automations/tests/fixtures/github/installation.created.json"
        ))
        .unwrap(),
    )
    .unwrap();
    installation["repositories"] = serde_json::json!([
        {"id": 1, "name": "billing", "full_name": "acme/billing", "private": true},
        {"id": 2, "name": "web", "full_name": "acme/web", "private": true},
        {"id": 3, "name": "old-fork", "full_name": "acme/old-fork", "private": true}
    ]);
    let sent = hook("installation", serde_json::to_vec(&installation).unwrap()).await.unwrap();
    assert_eq!(sent.status(), 202);

    let get = |path: String| {
        let (http, token) = (http.clone(), token.clone());
        async move {
            let r = http.get(path).bearer_auth(token).send().await.unwrap();
            (r.status(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    // The refresher works the queue every few seconds.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(40);
    let billing = loop {
        let (status, body) = get(format!("{}/api/v1/projects/billing", server.base)).await;
        if status == 200 && !body["project"]["dependencies"].as_array().is_none_or(Vec::is_empty) {
            break body;
        }
        assert!(std::time::Instant::now() < deadline, "billing never appeared: {status} {body}");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    };
    assert_eq!(billing["project"]["team"], "payments", "from CODEOWNERS: {billing}");
    assert_eq!(billing["project"]["dependencies"][0]["version"], "v76.1.0");
    assert_eq!(billing["project"]["facts"]["repo_has_codeowners"]["value"], true, "{billing}");
    assert_eq!(billing["last_import"]["outcome"], "created", "{billing}");
    let (_, web) = get(format!("{}/api/v1/projects/web", server.base)).await;
    assert_eq!(web["project"]["team"], "frontend", "from its team- topic: {web}");
    let (status, _) = get(format!("{}/api/v1/projects/old-fork", server.base)).await;
    assert_eq!(status, 404, "forks are skipped");

    // A push changing go.mod on the default branch: the version moves.
    fake.put_file("acme/billing", "go.mod", &go.replace("v76.1.0", "v76.2.0"));
    let mut push: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/automations/tests/fixtures/github/push.json"))
            .unwrap(),
    )
    .unwrap();
    push["ref"] = serde_json::json!("refs/heads/main");
    push["deleted"] = serde_json::json!(false);
    push["repository"]["full_name"] = serde_json::json!("acme/billing");
    push["repository"]["default_branch"] = serde_json::json!("main");
    push["commits"] = serde_json::json!([{"id": "1", "added": [], "removed": [], "modified": ["go.mod"]}]);
    push["size"] = serde_json::json!(1);
    assert_eq!(hook("push", serde_json::to_vec(&push).unwrap()).await.unwrap().status(), 202);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(40);
    loop {
        let (_, body) = get(format!("{}/api/v1/projects/billing", server.base)).await;
        if body["project"]["dependencies"][0]["version"] == "v76.2.0" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the push never moved the version: {body}");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

#[test]
fn bench_import_prints_its_json() {
    let out = run(&["bench-import", "--repos", "20", "--packages", "12"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["repositories"].as_u64(), v["dependency_edges"].as_u64()), (Some(20), Some(20 * (12 * 2 + 10))));
    // Per repository: metadata, tree, five manifests, CODEOWNERS; and once
    // the installation and its token.
    assert_eq!(v["github_calls"], 20 * 8 + 2, "{v}");
    assert_eq!(v["refresh_after_push_ms"]["samples"], 20);
    assert!(v["peak_rss_mib"].as_f64().unwrap() > 0.0);
    let bad = run(&["bench-import", "--repos", "0"]);
    assert!(!bad.status.success() && text(&bad.stderr).contains("--repos must be at least 1"));
}
