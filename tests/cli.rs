//! End-to-end tests of the built `switchboard` binary: config checking, the
//! demo server, `op` next to a running server (the benchmark commands: cli_bench.rs).

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

use common::*;

fn start_demo(dir: &Path, projects: &str) -> (Server, String) {
    let port = free_port();
    start(&["demo", "--port", &port.to_string(), "--data-dir", dir.to_str().unwrap(), "--projects", projects], port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_serves_the_portal_and_op_works_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let (server, said) = start_demo(dir.path(), "60");
    assert!(said.contains("Generated the demo organisation: 60 projects"), "{said}");
    switchboard_agents::install_tls_provider();
    let http = reqwest::Client::new();
    let home = http.get(&server.base).send().await.unwrap();
    assert_eq!(home.status(), 200);
    let html = home.text().await.unwrap();
    assert!(html.contains("Demo mode") && html.contains(r#"id="count-projects">60<"#), "{html}");

    // The CLI works on the same data directory while the server runs.
    let data = dir.path().to_str().unwrap();
    let out = run(&["op", "dependents", "--json", r#"{"package":"redis"}"#, "--data-dir", data]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["total"].as_u64().unwrap() > 0);
    assert!(v["projects"].as_array().unwrap().iter().all(|p| p["version"].is_string() && p["project"].is_string()));
    assert!(!v["versions"].as_array().unwrap().is_empty());

    let out = run(&[
        "op",
        "set_fact",
        "--json",
        r#"{"project":"orders","key":"oncall","value":"checkout-night"}"#,
        "--data-dir",
        data,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let api: Value =
        http.get(format!("{}/api/v1/projects/orders", server.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(api["project"]["facts"]["oncall"]["value"], "checkout-night", "the server sees the CLI's write");
    let hist: Value = http
        .get(format!("{}/api/v1/projects/orders/history?subject=oncall", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(hist["events"][0]["actor"], "cli");
    assert_eq!(hist["events"][0]["source"], "cli");

    // Bad input from the shell: clear message, exit code 2, nothing changed.
    let out = run(&["op", "get_project", "--json", r#"{"project":"Nope Nope"}"#, "--data-dir", data]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("Invalid input in `project`"));
    let out = run(&["op", "deploy_all", "--data-dir", data]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("Unknown operation"));
    let out = run(&["op", "get_project", "--json", "{oops", "--data-dir", data]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--json is not valid JSON"));
    let out = run(&["op", "help"]);
    assert!(text(&out.stdout).contains("upgrade_dependency"));
    drop(server);

    // Starting again reuses the data.
    let (server, said) = start_demo(dir.path(), "60");
    assert!(said.contains("Using the existing demo data (60 projects)"), "{said}");
    let api: Value =
        reqwest::get(format!("{}/api/v1/projects/orders", server.base)).await.unwrap().json().await.unwrap();
    assert_eq!(api["project"]["facts"]["oncall"]["value"], "checkout-night");
    let health = run(&["healthcheck", "--url", &format!("{}/healthz", server.base)]);
    assert!(health.status.success());
    let mcp = reqwest::Client::new().post(format!("{}/mcp", server.base)).body("{}").send().await.unwrap();
    assert_eq!(mcp.status(), 401, "the MCP endpoint is mounted and wants a token");
    drop(server);
    let health = run(&["healthcheck", "--url", &format!("http://127.0.0.1:{}/healthz", free_port())]);
    assert!(!health.status.success());
}

#[test]
fn demo_refuses_a_busy_port() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["demo", "--port", &port, "--data-dir", dir.path().to_str().unwrap(), "--projects", "6"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("cannot listen on"), "{}", text(&out.stderr));
}

#[test]
fn route_prints_the_operation_as_json() {
    let dir = seeded();
    let data = dir.path().to_str().unwrap();
    let cases = [
        (
            "deploy orders to staging",
            r#"{"arguments":{"environment":"staging","project":"orders"},"operation":"deploy"}"#,
        ),
        (
            "When did checkout get redis 7?",
            r#"{"arguments":{"project":"checkout","subject":"redis 7"},"operation":"project_history"}"#,
        ),
        (
            "which projects use left-pad 1.2.3?",
            r#"{"arguments":{"package":"left-pad","version":"1.2.3"},"operation":"dependents"}"#,
        ),
        ("who owns payments?", r#"{"arguments":{"team":"payments"},"operation":"get_team"}"#),
    ];
    for (message, expected) in cases {
        let out = run(&["route", "--json", message, "--data-dir", data]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout).trim(), expected, "{message}");
    }
    let out = run(&["route", "--json", "Create a new consumer project for me", "--data-dir", data]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["operation"].is_null());
    assert!(v["reply"].as_str().unwrap().contains("What should the new consumer project be called?"));
}

#[test]
fn chat_answers_in_the_terminal() {
    let dir = seeded();
    let input = "who owns payments-api?\ndeploy orders to staging\nwhat is waiting for approval?\nexit\nnever read\n";
    let out = chat(dir.path().to_str().unwrap(), "carol", input);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains("payments-api is owned by Payments (team payments)."), "{said}");
    assert!(
        said.contains("I've asked for approval: Deploy orders ")
            && said.contains("(what development runs) to staging."),
        "{said}"
    );
    assert!(said.contains("Requested by  carol"), "{said}");
    assert!(said.contains("[Approve: say `approve "), "{said}");
    assert!(!said.contains("never read"));
    let out = run(&["chat", "--data-dir", dir.path().to_str().unwrap(), "--as", "nobody"]);
    assert!(text(&out.stderr).contains("there is no user nobody"));
}

/// `chat` with `input` on stdin and `env`; returns (stdout, stderr).
fn chat_with(dir: &Path, env: &[(&str, &str)], input: &[u8]) -> (String, String) {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(["chat", "--data-dir", dir.to_str().unwrap(), "--as", "carol"])
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    (text(&out.stdout), text(&out.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_uses_a_configured_model_and_falls_back_when_it_is_down() {
    use switchboard_testkit::llm::{FakeLlm, Step};
    let dir = seeded();
    let fake = FakeLlm::start(vec![
        Step::call("get_project", serde_json::json!({"project": "orders"})),
        Step::text("orders is a service of the fulfilment team."),
    ])
    .await
    .unwrap();
    let url = fake.url.clone();
    let path = dir.path().to_owned();
    let (said, _) = tokio::task::spawn_blocking(move || {
        let env = [("SWITCHBOARD_LLM__BASE_URL", url.as_str()), ("SWITCHBOARD_LLM__MODEL", "scripted")];
        chat_with(&path, &env, b"tell me about orders\n/sb get_project project=orders\nexit\n")
    })
    .await
    .unwrap();
    assert!(said.contains("orders is a service of the fulfilment team."), "{said}");
    assert!(said.contains("Open in portal: http://127.0.0.1:8080/projects/orders"), "the command answered: {said}");
    assert_eq!(fake.requests().len(), 2, "the command did not go to the model");
    assert_eq!(fake.requests()[0]["messages"][0]["role"], "system");

    // Nothing listens there: the router answers and says why.
    let dead = format!("http://127.0.0.1:{}/v1", free_port());
    let env = [
        ("SWITCHBOARD_LLM__BASE_URL", dead.as_str()),
        ("SWITCHBOARD_LLM__MODEL", "m"),
        ("SWITCHBOARD_LLM__MAX_RETRIES", "0"),
    ];
    let (said, _) = chat_with(dir.path(), &env, b"who owns payments-api?\n");
    assert!(said.contains("payments-api is owned by Payments (team payments)."), "{said}");
    assert!(said.contains("The language model is not available: it cannot be reached at"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_takes_bearer_tokens_from_the_cli() {
    let dir = seeded();
    let data = dir.path().to_str().unwrap();
    let port = free_port();
    let config = dir.path().join("switchboard.toml");
    std::fs::write(&config, format!("[server]\nport = {port}\n\n[store]\ndata_dir = {data:?}\n")).unwrap();
    let out = run(&["token", "create", "--user", "robot", "--role", "editor", "--expires", "30d", "--data-dir", data]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(printed.contains("Created user robot (editor)."), "{printed}");
    let secret = printed.lines().last().unwrap().to_owned();
    assert!(secret.starts_with("sb_"), "the token is the last line: {printed}");

    let (server, _) = start(&["serve", "--config", config.to_str().unwrap()], port);
    switchboard_agents::install_tls_provider();
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/ops/set_fact", server.base);
    let body = r#"{"project": "orders", "key": "tier", "value": "2"}"#;
    let json = |r: reqwest::RequestBuilder| r.header("content-type", "application/json").body(body);
    let anonymous = json(http.post(&url)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401, "serve requires a token (server.require_login)");
    let read = http.get(format!("{}/api/v1/teams", server.base)).send().await.unwrap();
    assert_eq!(read.status(), 401, "reads too");
    let home = http.get(&server.base).send().await.unwrap();
    assert!(home.url().path() == "/login", "pages send people to sign in: {}", home.url());
    let html = home.text().await.unwrap();
    assert!(!html.contains("Demo mode") && html.contains(r#"name="password""#));
    let ok = json(http.post(&url).bearer_auth(&secret)).send().await.unwrap();
    assert_eq!(ok.status(), 200);

    let out = run(&["token", "list", "--data-dir", data]);
    let listed = text(&out.stdout);
    assert!(listed.contains("robot  editor"), "{listed}");
    assert!(!listed.contains(&secret));
    let id = listed.split_whitespace().next().unwrap().to_owned();
    let out = run(&["token", "revoke", &id, "--data-dir", data]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let refused = json(http.post(&url).bearer_auth(&secret)).send().await.unwrap();
    assert_eq!(refused.status(), 401, "a token revoked by the CLI is refused by the running server");
    let out = run(&["token", "create", "--user", "robot", "--role", "admin", "--data-dir", data]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot have more rights than its user"));

    // A person signs in to the portal with a password an admin set from the shell.
    let mut child = Command::new(BIN)
        .args(["user", "set-password", "--user", "bob", "--data-dir", data])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"bobs long passphrase\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(text(&out.stdout).contains("Password set for bob"), "{}", text(&out.stdout));
    switchboard_agents::install_tls_provider();
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = browser.get(format!("{}/login", server.base)).send().await.unwrap();
    let cookie = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    let token = cookie["sb_csrf=".len()..cookie.find(';').unwrap()].to_owned();
    let signed = browser
        .post(format!("{}/login", server.base))
        .header("cookie", format!("sb_csrf={token}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={token}&user=bob&password=bobs+long+passphrase"))
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), 303);
    let session = signed.headers()["set-cookie"].to_str().unwrap().to_owned();
    let session = &session[..session.find(';').unwrap()];
    let home = browser.get(&server.base).header("cookie", session).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("Signed in as bob (approver)."), "{home}");
    drop(server);
}

#[test]
fn mcp_over_stdio_lists_the_users_tools() {
    use std::io::{BufRead, BufReader, Write};
    let dir = seeded();
    let mut child = Command::new(BIN)
        .args(["mcp", "--stdio", "--data-dir", dir.path().to_str().unwrap(), "--as", "dave"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut send = |v: Value| {
        stdin.write_all(format!("{v}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
    };
    send(serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}}));
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let init: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(init["result"]["serverInfo"]["name"], "switchboard", "{line}");
    send(serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    send(serde_json::json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}));
    line.clear();
    stdout.read_line(&mut line).unwrap();
    let tools: Value = serde_json::from_str(&line).unwrap();
    let names: Vec<&str> =
        tools["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"dependents") && names.contains(&"get_project"), "{names:?}");
    assert!(!names.contains(&"set_fact"), "dave is a viewer: {names:?}");
    send(
        serde_json::json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "get_team", "arguments": {"team": "payments"}}}),
    );
    line.clear();
    stdout.read_line(&mut line).unwrap();
    let called: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(called["result"]["structuredContent"]["team"]["slug"], "payments", "{line}");
    drop(stdin);
    let status = child.wait().unwrap();
    assert!(status.success(), "the server ends when the client hangs up");
}

/// The web chat in a real browser (headless Chromium driven by
/// playwright-core; `scripts/setup-browser` installs both): streamed replies
/// appear, and buttons inside them work.
#[test]
fn web_chat_works_in_a_real_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("tests/browser/chat.mjs");
    assert!(
        root.join("tests/browser/node_modules/playwright-core/package.json").exists(),
        "playwright-core is missing: run scripts/setup-browser (it also installs Chromium)"
    );
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = start_demo(dir.path(), "60");
    let out = Command::new("node").arg(&script).arg(&server.base).output().expect("node runs (scripts/setup-browser)");
    drop(server);
    assert!(out.status.success(), "browser test failed:\n{}\n{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("web chat ok"));
}

fn fixture(path: &str) -> String {
    format!("{}/automations/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn rules_test_prints_what_a_payload_would_do() {
    let dir = seeded();
    let data = dir.path().to_str().unwrap();
    let dry = |file: &str, event: &str| {
        let out = run(&["rules", "test", "--payload", &fixture(file), "--event", event, "--data-dir", data]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        (text(&out.stdout), text(&out.stderr))
    };
    let (said, _) = dry("github/deployment_status.json", "deployment_status");
    let v: Value = serde_json::from_str(said.trim()).unwrap();
    assert_eq!(v["operation"], Value::Null, "no project has that repository yet: {said}");
    assert!(v["skipped"].as_str().unwrap().contains("github_repository Codertocat/Hello-World"));

    let ids = r#"{"project": "orders", "external_ids": {"github_repository": "Codertocat/Hello-World"}}"#;
    assert!(run(&["op", "update_project", "--json", ids, "--data-dir", data]).status.success());
    let before =
        run(&["op", "list_deployments", "--json", r#"{"project": "orders", "limit": 1000}"#, "--data-dir", data]);
    let (said, _) = dry("github/deployment_status.json", "deployment_status");
    let v: Value = serde_json::from_str(said.trim()).unwrap();
    assert_eq!(v["operation"], "record_deployment");
    assert_eq!(v["rule"], "github deployment status: deployment");
    assert_eq!(v["arguments"]["project"], "orders");
    assert_eq!(v["arguments"]["environment"], "production");
    assert_eq!(v["arguments"]["status"], "succeeded");
    let after =
        run(&["op", "list_deployments", "--json", r#"{"project": "orders", "limit": 1000}"#, "--data-dir", data]);
    assert_eq!(before.stdout, after.stdout, "a dry run changes nothing");

    let (said, err) = dry("github/installation.created.json", "installation");
    assert!(said.is_empty() && err.contains("no rule maps github installation"), "{err}");
    let out = run(&["rules", "test", "--payload", "/nope.json", "--event", "push", "--data-dir", data]);
    assert!(text(&out.stderr).contains("cannot read /nope.json"));
}

/// A delivery accepted by a server that dies before processing it is
/// processed by the next server on the same store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_delivery_survives_a_crash() {
    switchboard_agents::install_tls_provider();
    let dir = seeded();
    let data = dir.path().to_str().unwrap();
    let ids = r#"{"project": "orders", "external_ids": {"github_repository": "Codertocat/Hello-World"}}"#;
    assert!(run(&["op", "update_project", "--json", ids, "--data-dir", data]).status.success());
    let secret = "crash-test-secret";
    let port = free_port();
    let args = ["demo", "--port", &port.to_string(), "--data-dir", data];
    let receive_only = [("SWITCHBOARD_GITHUB_WEBHOOK_SECRET", secret), ("SWITCHBOARD_WEBHOOKS__PROCESSING", "false")];
    let (server, _) = start_with(&args, port, &receive_only);
    let body = std::fs::read(fixture("github/deployment_status.json")).unwrap();
    let sig = format!("sha256={}", switchboard_automations::signature::hmac_hex(secret.as_bytes(), &body));
    let http = reqwest::Client::new();
    let resp = http
        .post(format!("{}/hooks/github", server.base))
        .header("X-GitHub-Event", "deployment_status")
        .header("X-GitHub-Delivery", "crash-1")
        .header("X-Hub-Signature-256", sig)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    drop(server); // SIGKILL: no graceful shutdown.

    let deployed = |out: Output| text(&out.stdout).contains("github-deployment-145988746");
    let list = ["op", "list_deployments", "--json", r#"{"project": "orders", "limit": 1000}"#, "--data-dir", data];
    assert!(!deployed(run(&list)), "not processed before the crash");
    let port = free_port();
    let args = ["demo", "--port", &port.to_string(), "--data-dir", data];
    let (server, _) = start_with(&args, port, &[("SWITCHBOARD_GITHUB_WEBHOOK_SECRET", secret)]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !deployed(run(&list)) {
        assert!(Instant::now() < deadline, "the delivery was not processed after the restart");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(server);
}

/// A PagerDuty incident, signed as PagerDuty signs it, reaches the owning
/// team's Slack and Discord channels (fakes of both APIs on loopback) with
/// its context and buttons; a restart does not send it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_reaches_the_owning_teams_slack_and_discord() {
    switchboard_agents::install_tls_provider();
    let slack = switchboard_testkit::chat::slack().await.unwrap();
    let discord = switchboard_testkit::chat::discord().await.unwrap();
    let dir = seeded();
    let data = dir.path().to_str().unwrap();
    let orders = run(&["op", "get_project", "--json", r#"{"project": "orders"}"#, "--data-dir", data]);
    let team = serde_json::from_slice::<Value>(&orders.stdout).unwrap()["project"]["team"].as_str().unwrap().to_owned();
    let channels = serde_json::json!({"team": team, "channels": [
        {"platform": "slack", "id": "C0ORDERS"}, {"platform": "discord", "id": "900000000000000001"}]});
    assert!(run(&["op", "update_team", "--json", &channels.to_string(), "--data-dir", data]).status.success());
    let ids = r#"{"project": "orders", "external_ids": {"pagerduty_service": "PA2P440"}}"#;
    assert!(run(&["op", "update_project", "--json", ids, "--data-dir", data]).status.success());

    let secret = "pd-e2e-secret";
    let slack_api = format!("{}/api/", slack.url);
    let env = [
        ("SWITCHBOARD_PAGERDUTY_WEBHOOK_SECRET", secret),
        ("SWITCHBOARD_SLACK_SIGNING_SECRET", "slack-e2e-secret"),
        ("SWITCHBOARD_SLACK_BOT_TOKEN", "xoxb-e2e"),
        ("SWITCHBOARD_SLACK__API_URL", slack_api.as_str()),
        ("SWITCHBOARD_DISCORD_PUBLIC_KEY", "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"),
        ("SWITCHBOARD_DISCORD_BOT_TOKEN", "discord-e2e"),
        ("SWITCHBOARD_DISCORD_APPLICATION_ID", "1"),
        ("SWITCHBOARD_DISCORD__API_PROXY", discord.url.as_str()),
    ];
    let port = free_port();
    let args = ["demo", "--port", &port.to_string(), "--data-dir", data];
    let (server, _) = start_with(&args, port, &env);
    let body = std::fs::read(fixture("pagerduty/incident.triggered.json")).unwrap();
    let sig = format!("v1={}", switchboard_automations::signature::hmac_hex(secret.as_bytes(), &body));
    let resp = reqwest::Client::new()
        .post(format!("{}/hooks/pagerduty", server.base))
        .header("X-PagerDuty-Signature", sig)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);

    let posted = slack.wait_for("chat.postMessage", 1, 20).await;
    assert_eq!(posted.len(), 1, "{:?}", slack.calls());
    let m = &posted[0].body;
    assert_eq!(m["channel"], "C0ORDERS");
    assert!(m["text"].as_str().unwrap().contains("Incident: Test Incident 3"), "{m}");
    let blocks = m["blocks"].to_string();
    assert!(blocks.contains("investigate:orders") && blocks.contains("/projects/orders"), "buttons: {blocks}");
    let sent = discord.wait_for("/channels/900000000000000001/messages", 1, 20).await;
    assert_eq!(sent.len(), 1, "{:?}", discord.calls());
    let d = &sent[0].body;
    assert!(d["embeds"][0]["description"].as_str().unwrap().contains("Incident: Test Incident 3"), "{d}");
    let components = d["components"].to_string();
    assert!(components.contains("investigate:orders") && components.contains("/projects/orders"), "{components}");
    // Delivery is at least once: a message is marked sent just after the platform took it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(server);

    // Started again on the same store: the catch-up finds the message already sent.
    let port = free_port();
    let args = ["demo", "--port", &port.to_string(), "--data-dir", data];
    let (server, _) = start_with(&args, port, &env);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(slack.wait_for("chat.postMessage", 2, 0).await.len(), 1, "not sent twice");
    assert_eq!(discord.wait_for("/messages", 2, 0).await.len(), 1, "not sent twice");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_register_commands_puts_the_sb_command() {
    let discord = switchboard_testkit::chat::discord().await.unwrap();
    let fake = discord.clone();
    let out = run(&["discord", "register-commands"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("set discord.bot_token and discord.application_id"), "{}", text(&out.stderr));
    let out = tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(["discord", "register-commands"])
            .env("SWITCHBOARD_DISCORD_BOT_TOKEN", "discord-cli")
            .env("SWITCHBOARD_DISCORD_APPLICATION_ID", "42")
            .env("SWITCHBOARD_DISCORD__API_PROXY", &discord.url)
            .output()
            .unwrap()
    });
    let out = out.await.unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("registered 1 command"), "{}", text(&out.stdout));
    let put = fake.wait_for("/applications/42/commands", 1, 0).await;
    assert_eq!((put.len(), put[0].method.as_str()), (1, "PUT"));
    assert_eq!(put[0].body[0]["name"], "sb");
}

/// `user` and `token` open the store `--config` names (they used to open
/// the demo's default even then), and manage accounts as operations.
#[test]
fn user_and_token_commands_manage_the_configured_store() {
    let dir = seeded();
    let config = dir.path().join("switchboard.toml");
    std::fs::write(&config, format!("[store]\ndata_dir = {:?}\n", dir.path().to_str().unwrap())).unwrap();
    let c = config.to_str().unwrap();
    let ok = |args: &[&str]| {
        let out = run(args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    assert!(
        ok(&["user", "set-role", "--user", "carol", "--role", "approver", "--config", c]).contains("carol is approver")
    );
    let said = ok(&["user", "disable", "--user", "frank", "--reason", "left", "--config", c]);
    assert!(said.contains("frank is") && said.contains("disabled"), "{said}");
    let listed = ok(&["user", "list", "--config", c]);
    assert!(listed.contains("carol") && listed.contains("approver"), "{listed}");
    assert!(listed.lines().any(|l| l.contains("frank") && l.contains("disabled")), "{listed}");
    let listed = ok(&["user", "list", "--data-dir", dir.path().to_str().unwrap()]);
    assert!(listed.lines().any(|l| l.contains("frank") && l.contains("disabled")), "the same store: {listed}");
    ok(&["user", "enable", "--user", "frank", "--config", c]);
    ok(&["user", "sign-out-everywhere", "--user", "carol", "--config", c]);
    assert!(
        ok(&["user", "set-email", "--user", "carol", "--email", "carol@new.example.com", "--config", c])
            .contains("carol@new.example.com")
    );
    let out = run(&["user", "set-email", "--user", "carol", "--email", "not-an-address", "--config", c]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("email"), "{}", text(&out.stderr));
    let out = run(&["user", "set-role", "--user", "nobody", "--role", "admin", "--config", c]);
    assert_eq!(out.status.code(), Some(2));

    let created = ok(&["token", "create", "--user", "bob", "--config", c]);
    let id = created.split_whitespace().nth(1).unwrap().to_owned();
    let old = created.lines().last().unwrap().to_owned();
    let rotated = ok(&["token", "rotate", &id, "--config", c]);
    let new = rotated.lines().last().unwrap();
    assert!(new.starts_with("sb_") && new != old, "{rotated}");
    let listed = ok(&["token", "list", "--config", c]);
    assert!(listed.lines().any(|l| l.starts_with(&id) && l.contains("revoked")), "{listed}");
}

/// The policy of `tests/fixtures/approval-rules.toml` on the demo
/// organisation: payments (alice, bob, carol), checkout (dave, erin, frank).
const APPROVAL_RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/approval-rules.toml");

/// `switchboard <args>` under the approval rules; stdin fed `input` when given.
fn under_rules(args: &[&str], input: Option<&[u8]>) -> Output {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .env("SWITCHBOARD_CONFIG", APPROVAL_RULES)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.unwrap_or_default()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn approval_rules_refuse_the_cli_and_the_terminal_chat() {
    let dir = seeded();
    let data = dir.path().to_str().unwrap();
    // Asked in the terminal chat by frank (checkout) and carol (payments).
    let asked = |who: &str, text_: &str| {
        let out = under_rules(&["chat", "--data-dir", data, "--as", who], Some(format!("{text_}\n").as_bytes()));
        let said = text(&out.stdout);
        let at = said.find("say `approve ").unwrap_or_else(|| panic!("{said}")) + "say `approve ".len();
        said[at..at + 36].to_owned()
    };
    let production = asked("frank", "deploy orders to production");
    let frozen = asked("carol", "deploy payments-api to staging");

    // `op` acts as the CLI's admin, who is in no team: checkout's rule refuses it.
    let approve = format!(r#"{{"run":"{production}"}}"#);
    let out = under_rules(&["op", "approve_run", "--json", &approve, "--data-dir", data], None);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("needs an approver from team checkout"), "{}", text(&out.stderr));

    // In the terminal chat: bob in payments' freeze; carol outside her team.
    let out = under_rules(&["chat", "--data-dir", data, "--as", "bob"], Some(format!("approve {frozen}\n").as_bytes()));
    assert!(text(&out.stdout).contains("during the freeze \"payments freeze\""), "{}", text(&out.stdout));
    let out = under_rules(&["chat", "--data-dir", data, "--as", "carol"], Some(b"deploy orders to staging\n"));
    assert!(text(&out.stdout).contains("editors change only their own teams"), "{}", text(&out.stdout));
    // erin gives the first of two approvals: production asks her to confirm, in words.
    let out =
        under_rules(&["chat", "--data-dir", data, "--as", "erin"], Some(format!("approve {production}\n").as_bytes()));
    assert!(text(&out.stdout).contains(&format!("`approve {production} confirm`")), "{}", text(&out.stdout));
    let said = format!("approve {production} confirm\n");
    let out = under_rules(&["chat", "--data-dir", data, "--as", "erin"], Some(said.as_bytes()));
    assert!(text(&out.stdout).contains("approved by erin, and it needs more approvals"), "{}", text(&out.stdout));
}
