//! SIGTERM during a flood of signed webhooks: `serve` stops taking
//! connections, finishes what is in flight, finishes the delivery being
//! processed and takes no other, and exits 0. Every delivery it answered 202
//! is in the inbox after a restart, and each is processed exactly once.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

use common::*;

const SECRET: &str = "shutdown-secret";

fn deliveries(data: &str) -> Vec<Value> {
    let out = run(&["op", "list_deliveries", "--json", r#"{"limit": 500}"#, "--data-dir", data]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    v["deliveries"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_webhook_flood_loses_nothing_and_processes_each_once() {
    switchboard_agents::install_tls_provider();
    let dir = seeded();
    let data = dir.path().to_str().unwrap().to_owned();
    let config = dir.path().join("switchboard.toml");
    let serve = |port: u16| {
        std::fs::write(
            &config,
            format!("[server]\nport = {port}\nrequire_login = false\n\n[store]\ndata_dir = {data:?}\n\n[webhooks]\ngithub_secret = {SECRET:?}\n"),
        )
        .unwrap();
        start(&["serve", "--config", config.to_str().unwrap()], port).0
    };
    let mut server = serve(free_port());
    let body =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/automations/tests/fixtures/github/push.json")).unwrap();
    let signature = format!("sha256={}", switchboard_automations::signature::hmac_hex(SECRET.as_bytes(), &body));
    let accepted = Arc::new(Mutex::new(BTreeSet::new()));
    let mut senders = Vec::new();
    for t in 0..4 {
        let (hooks, body, signature, accepted) =
            (format!("{}/hooks/github", server.base), body.clone(), signature.clone(), accepted.clone());
        senders.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for n in 0..110 {
                let id = format!("flood-{t}-{n}");
                let sent = client
                    .post(&hooks)
                    .header("content-type", "application/json")
                    .header("x-github-event", "push")
                    .header("x-github-delivery", &id)
                    .header("x-hub-signature-256", &signature)
                    .body(body.clone())
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == 202 => {
                        accepted.lock().unwrap().insert(id);
                    }
                    Ok(_) => {}
                    Err(_) => return, // the server stopped listening
                }
            }
        }));
    }
    // Mid-flood: once some are in, ask it to stop as an orchestrator would.
    let deadline = Instant::now() + Duration::from_secs(30);
    while accepted.lock().unwrap().len() < 40 {
        assert!(Instant::now() < deadline, "the flood never got going");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let pid = server.child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "serve did not stop within 30 s of SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "serve exited with {status}: {}", server.stderr.lock().unwrap());
    for s in senders {
        s.await.unwrap();
    }
    let accepted = accepted.lock().unwrap().clone();
    assert!(accepted.len() < 440, "the stop came during the flood, not after it");

    // Every 202 is stored, whether processed before the stop or not.
    let stored: BTreeSet<String> =
        deliveries(&data).iter().map(|d| d["delivery_id"].as_str().unwrap().to_owned()).collect();
    let missing: Vec<&String> = accepted.difference(&stored).collect();
    assert!(missing.is_empty(), "answered 202 but not in the inbox: {missing:?}");

    // Started again, the rest are processed; none twice.
    let _again = serve(free_port());
    // At once: what the stopped process had claimed and not begun it gave back
    // (left claimed, they would wait out the claim, minutes).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let all = deliveries(&data);
        let pending: Vec<&Value> = all.iter().filter(|d| d["status"] == "pending").collect();
        if pending.is_empty() {
            for d in all.iter().filter(|d| accepted.contains(d["delivery_id"].as_str().unwrap())) {
                assert_eq!(d["attempts"], 1, "processed more than once: {d}");
            }
            break;
        }
        assert!(Instant::now() < deadline, "{} deliveries still pending after the restart: {pending:?}", pending.len());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
