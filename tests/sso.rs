//! Single sign-on on the built binary against a real OpenID Connect
//! provider (oidc-provider-mock, started by scripts/test), driven in
//! headless Chromium: strangers are sent to sign in, people sign in at the
//! provider and come back with the role and teams its groups give (again at
//! every sign-in), and sign out.
#![cfg(feature = "server-tests")]

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

mod common;

use common::*;

fn provider() -> String {
    env("SWITCHBOARD_TEST_OIDC_URL", "http://127.0.0.1:19400")
}

/// Sets what the provider says about `sub`.
async fn person(sub: &str, claims: Value) {
    let url = format!("{}/users/{sub}", provider());
    let resp = reqwest::Client::new()
        .put(&url)
        .json(&claims)
        .send()
        .await
        .expect("the OIDC provider (scripts/oidc-provider start)");
    assert!(resp.status().is_success(), "{url}: {}", resp.status());
}

fn browser(base: &str, sub: &str, banner: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(
        root.join("tests/browser/node_modules/playwright-core/package.json").exists(),
        "playwright-core is missing: run scripts/setup-browser (it also installs Chromium)"
    );
    let out = Command::new("node")
        .arg(root.join("tests/browser/sso.mjs"))
        .args([base, sub, banner])
        .output()
        .expect("node runs (scripts/setup-browser)");
    assert!(out.status.success(), "browser test failed:\n{}\n{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("sso ok"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_sign_in_through_the_provider_with_the_role_their_groups_give() {
    switchboard_agents::install_tls_provider();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let seeded = run(&["demo", "--seed-only", "--data-dir", data.to_str().unwrap()]);
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));
    let port = free_port();
    let config = dir.path().join("switchboard.toml");
    std::fs::write(
        &config,
        format!(
            r#"[server]
port = {port}

[store]
data_dir = {data:?}

[auth]
local_passwords = false

[auth.oidc]
issuer = "{issuer}"
client_id = "switchboard-test"
client_secret = "not-checked-by-the-mock"
scopes = ["profile", "email"]
default_role = "none"
label = "Sign in with the test provider"

[auth.oidc.roles]
sb-admins = "admin"
sb-approvers = "approver"

[auth.oidc.teams]
payments-eng = "payments"
"#,
            issuer = provider()
        ),
    )
    .unwrap();
    // Unique subjects per run: the provider remembers people between tests.
    let run_id = std::process::id();
    // ada is new here; carol has a local account (the demo's, editor) whose
    // email the provider verifies, so it becomes hers through the provider.
    let (ada, carol) = (format!("ada-{run_id}"), format!("carol-{run_id}"));
    person(
        &ada,
        json!({"preferred_username": "ada", "name": "Ada Lovelace", "email": "ada@example.com",
                        "email_verified": true, "groups": ["sb-admins", "payments-eng"]}),
    )
    .await;
    person(
        &carol,
        json!({"preferred_username": "carol", "name": "Carol Nguyen", "email": "carol@example.com",
                          "email_verified": true, "groups": ["sb-approvers"]}),
    )
    .await;

    let (server, _) = start(&["serve", "--config", config.to_str().unwrap()], port);
    browser(&server.base, &ada, "Signed in as ada (admin).");
    browser(&server.base, &carol, "Signed in as carol (approver).");

    let c = config.to_str().unwrap();
    let listed = text(&run(&["user", "list", "--config", c]).stdout);
    for who in ["ada", "carol"] {
        assert!(listed.lines().any(|l| l.contains(who) && l.contains("oidc")), "{who}: {listed}");
    }
    let team = run(&["op", "get_team", "--json", r#"{"team": "payments"}"#, "--config", c]);
    let team: Value = serde_json::from_slice(&team.stdout).unwrap();
    let members: Vec<&str> = team["team"]["members"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(members.contains(&"ada") && !members.contains(&"carol"), "{members:?}");

    // The provider's groups win at every sign-in: ada leaves the admins and payments.
    person(
        &ada,
        json!({"preferred_username": "ada", "name": "Ada Lovelace", "email": "ada@example.com",
                        "email_verified": true, "groups": ["sb-approvers"]}),
    )
    .await;
    browser(&server.base, &ada, "Signed in as ada (approver).");
    let team = run(&["op", "get_team", "--json", r#"{"team": "payments"}"#, "--config", c]);
    let team: Value = serde_json::from_slice(&team.stdout).unwrap();
    assert!(!team["team"]["members"].to_string().contains("\"ada\""), "{team}");

    // Passwords are off: the form is gone and a posted one is refused.
    let login = reqwest::get(format!("{}/login", server.base)).await.unwrap().text().await.unwrap();
    assert!(login.contains("Sign in with the test provider") && !login.contains(r#"name="password""#), "{login}");
    drop(server);
}
