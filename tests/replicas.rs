//! Two `serve` replicas on one graph (a real Bolt server, ArcadeDB, started
//! by scripts/test) share everything: a webhook accepted by a replica that
//! only receives is processed by the other, and a third process reads the
//! result from the graph. With `[store] inbox = "embedded"` a replica keeps
//! what it received in its own data directory instead.
#![cfg(feature = "server-tests")]

mod common;

use std::time::{Duration, Instant};

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_received_by_one_replica_is_processed_by_another() {
    switchboard_agents::install_tls_provider();
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed");
    let out = run(&["demo", "--seed-only", "--data-dir", seed.to_str().unwrap(), "--projects", "20"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ids = r#"{"project": "orders", "external_ids": {"github_repository": "Codertocat/Hello-World"}}"#;
    assert!(run(&["op", "update_project", "--json", ids, "--data-dir", seed.to_str().unwrap()]).status.success());
    let graph = graph_settings(&format!("sb_replicas_{}", std::process::id()));
    let config = |name: &str, port: u16, extra: &str| {
        let path = dir.path().join(format!("{name}.toml"));
        let data = dir.path().join(name);
        std::fs::write(
            &path,
            format!(
                "[server]\nbind = \"127.0.0.1\"\nport = {port}\n\n[store]\ndata_dir = {:?}\ngraph = \"neo4j\"\n{extra}\n{graph}",
                data.to_str().unwrap()
            ),
        )
        .unwrap();
        (path, data)
    };
    let (seed_config, _) = config("migrator", 0, "");
    let from = format!("sqlite:{}", seed.to_str().unwrap());
    let out = run(&["migrate", "--from", &from, "--to", "neo4j", "--config", seed_config.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let secret = "replica-secret";
    let (port_a, port_b) = (free_port(), free_port());
    let (config_a, _) = config("a", port_a, "");
    let (config_b, _) = config("b", port_b, "");
    let receive_only = [("SWITCHBOARD_GITHUB_WEBHOOK_SECRET", secret), ("SWITCHBOARD_WEBHOOKS__PROCESSING", "false")];
    let (a, _) = start_with(&["serve", "--config", config_a.to_str().unwrap()], port_a, &receive_only);
    let (b, _) = start_with(
        &["serve", "--config", config_b.to_str().unwrap()],
        port_b,
        &[("SWITCHBOARD_GITHUB_WEBHOOK_SECRET", secret)],
    );

    let body =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/automations/tests/fixtures/github/deployment_status.json"))
            .unwrap();
    let sig = format!("sha256={}", switchboard_automations::signature::hmac_hex(secret.as_bytes(), &body));
    let resp = reqwest::Client::new()
        .post(format!("{}/hooks/github", a.base))
        .header("X-GitHub-Event", "deployment_status")
        .header("X-GitHub-Delivery", "replica-1")
        .header("X-Hub-Signature-256", sig)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202, "replica A accepts");

    // A third process (the CLI) reads the graph: B processed what A received.
    let (reader, reader_data) = config("reader", 0, "");
    let list = [
        "op",
        "list_deployments",
        "--json",
        r#"{"project": "orders", "limit": 1000}"#,
        "--config",
        reader.to_str().unwrap(),
        "--data-dir",
        reader_data.to_str().unwrap(),
    ];
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = run(&list);
        assert!(out.status.success(), "{}", text(&out.stderr));
        if text(&out.stdout).contains("github-deployment-145988746") {
            break;
        }
        assert!(Instant::now() < deadline, "replica B never processed the delivery replica A received");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop((a, b));
}
