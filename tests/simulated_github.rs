//! The demo runs its automations: approved runs act on the built-in
//! simulated GitHub, which answers with signed webhooks to the demo itself —
//! a deploy is dispatched, reports its deployment and finishes; an upgrade's
//! pull requests pass their checks, merge, and move the graph. Driven as a
//! newcomer would: `demo`, then the terminal chat as two people.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

fn op(data: &str, name: &str, json: &str) -> Value {
    let out = run(&["op", name, "--data-dir", data, "--json", json]);
    assert!(out.status.success(), "{name}: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The run id a chat answer names (`Run  0193…`).
fn run_id(said: &str) -> String {
    let line = said.lines().find(|l| l.trim_start().starts_with("Run ")).unwrap_or_else(|| panic!("{said}"));
    line.split_whitespace().last().unwrap().to_owned()
}

/// Polls until `done` holds (up to a minute), returning the last value read.
fn until(what: &str, mut read: impl FnMut() -> Value, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = read();
        if done(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "{what} did not happen: {v}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[tokio::test]
async fn approved_runs_happen_on_the_simulated_github() {
    switchboard_agents::install_tls_provider();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let port = free_port();
    let (server, _) = start(&["demo", "--port", &port.to_string(), "--data-dir", data], port);
    // The log is written by a thread of its own: the line may follow "is up".
    let said = server.said_by_now("GitHub is simulated");
    assert!(said.contains("GitHub is simulated"), "{said}");

    // carol asks to deploy orders to staging; bob approves.
    let asked = text(&chat(data, "carol", "deploy orders to staging\n").stdout);
    let deploy = run_id(&asked);
    assert!(asked.contains("what development runs") && asked.contains("→"), "{asked}");
    let version = op(data, "get_run", &format!(r#"{{"run":"{deploy}"}}"#))["plan"]["to"].as_str().unwrap().to_owned();
    let approved = text(&chat(data, "bob", &format!("approve {deploy}\n")).stdout);
    assert!(approved.contains("approved by bob"), "{approved}");

    // The run dispatches, GitHub reports the deployment, the run succeeds, labelled simulated.
    let run = until(
        "the deploy",
        || op(data, "get_run", &format!(r#"{{"run":"{deploy}"}}"#)),
        |r| r["status"] == "succeeded",
    );
    let step = run["steps"][0]["detail"].as_str().unwrap();
    assert!(step.contains("deploy.yml on acme/orders") && step.ends_with("(simulated GitHub)"), "{run}");
    // GitHub reports the deployment a few seconds later: staging runs it.
    let staging = |p: &Value| {
        p["environments"].as_array().unwrap().iter().find(|e| e["name"] == "staging").unwrap()["current"].clone()
    };
    let project = until(
        "the deployment",
        || op(data, "get_project", r#"{"project":"orders"}"#),
        |p| staging(p)["version"] == version.as_str(),
    );
    assert_eq!(staging(&project)["url"].as_str().map(|u| u.contains("simulated")), Some(true), "{project}");
    let page = reqwest::get(format!("{}/deployments", server.base)).await.unwrap().text().await.unwrap();
    assert!(page.contains(&version), "the deployments page shows it");
    // The web chat's thread under the request says all of it, and stops asking.
    let thread =
        reqwest::get(format!("{}/chat/runs/{deploy}/thread", server.base)).await.unwrap().text().await.unwrap();
    for line in [
        "<li>Approved by bob.</li>",
        "<li>Succeeded.</li>",
        &format!("<li>Deployment of {version} to staging: succeeded.</li>"),
    ] {
        assert!(thread.contains(line), "{line}: {thread}");
    }
    assert!(!thread.contains("hx-get"), "nothing more will come: {thread}");
    // The team hears that what it asked for happened.
    let told = format!("Deployed {version} to staging");
    let page = reqwest::get(format!("{}/notifications", server.base)).await.unwrap().text().await.unwrap();
    assert!(page.contains(&told) && page.contains("badge k-deployment_succeeded"), "{page}");

    // An upgrade: pull requests opened, checks passed, merged; the graph moves.
    let asked = text(&chat(data, "carol", "upgrade lodash from 4.17.19 to 4.17.21 everywhere\n").stdout);
    let upgrade = run_id(&asked);
    assert!(
        asked.contains("acme/orders") && asked.contains("4.17.19 → 4.17.21"),
        "the card lists what it touches: {asked}"
    );
    chat(data, "bob", &format!("approve {upgrade}\n"));
    until(
        "the merge moving the graph",
        || op(data, "get_project", r#"{"project":"orders"}"#),
        |p| {
            p["project"]["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["package"] == "lodash" && d["version"] == "4.17.21")
        },
    );
    let page = reqwest::get(format!("{}/runs/{upgrade}", server.base)).await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"id="campaign-counts">"#) && page.contains(" merged"), "{page}");
    assert!(page.contains("(simulated GitHub)"), "{page}");
    drop(server);
}
