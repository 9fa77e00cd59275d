//! Deploy runs followed to the end of the workflow they dispatched: GitHub's
//! `workflow_run` webhook for the deploy workflow (workflow_dispatch on the
//! deploy ref, created after the dispatch) is tied to the run that
//! dispatched it and recorded once, whether it succeeded or failed.

mod common;

use common::{NOW, World, fixture, world};
use serde_json::{Value, json};
use switchboard_automations::engine::Worked;
use switchboard_core::Caller;
use switchboard_core::event::{EventKind, EventQuery};
use switchboard_core::ids::RunId;
use switchboard_core::model::{Role, RunStatus};

async fn dispatched_deploy(w: &World) -> RunId {
    let carol = Caller::new("carol", Role::Editor, "test");
    let args = json!({"project": "svc-000", "environment": "staging", "version": "1.2.3"});
    let run = w.service.execute_json(&carol, "deploy", args).await.unwrap().to_json();
    let bob = Caller::new("bob", Role::Approver, "test");
    w.service.execute_json(&bob, "approve_run", json!({"run": run["id"]})).await.unwrap();
    let (done, worked) = w.engine.run_once().await.unwrap().unwrap();
    assert_eq!((worked, done.status), (Worked::Succeeded, RunStatus::Succeeded));
    assert_eq!(
        w.github.dispatches().last().unwrap().path,
        "/repos/acme/svc-000/actions/workflows/deploy.yml/dispatches"
    );
    done.id
}

/// GitHub's published workflow_run payload, as the dispatched deploy workflow's.
fn finished(id: u64, created_at: &str, conclusion: &str) -> Value {
    let mut body = fixture("workflow_run.completed.json");
    body["repository"]["full_name"] = json!("acme/svc-000");
    let wr = &mut body["workflow_run"];
    wr["id"] = json!(id);
    wr["event"] = json!("workflow_dispatch");
    wr["path"] = json!(".github/workflows/deploy.yml");
    wr["head_branch"] = json!("main");
    wr["created_at"] = json!(created_at);
    wr["conclusion"] = json!(conclusion);
    body
}

async fn followed(w: &World) -> Vec<(String, String)> {
    let q = EventQuery { kinds: vec![EventKind::RunStepFinished], limit: 100, ..Default::default() };
    let events = w.service.log().query(&q).await.unwrap();
    events
        .iter()
        .filter(|e| e.payload["followed"] == true)
        .map(|e| (e.payload["run"].as_str().unwrap().to_owned(), e.payload["detail"].as_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dispatched_workflow_is_followed_to_failure_and_to_success() {
    let w = world(2).await;
    // NOW is 2026-09-21T14:13:20Z.
    assert_eq!(NOW, 1_790_000_000_000);
    let first = dispatched_deploy(&w).await;
    w.webhook("workflow_run", &finished(501, "2026-09-21T14:13:26Z", "failure")).await;
    assert_eq!(followed(&w).await, [(first.to_string(), "failure".to_owned())]);
    // Delivered again (GitHub retries): recorded once.
    w.webhook("workflow_run", &finished(501, "2026-09-21T14:13:26Z", "failure")).await;
    assert_eq!(followed(&w).await.len(), 1);

    // Ten minutes later, a second deploy: its own workflow run is tied to it.
    w.clock.advance(10 * 60 * 1000);
    let second = dispatched_deploy(&w).await;
    w.webhook("workflow_run", &finished(502, "2026-09-21T14:23:24Z", "success")).await;
    let all = followed(&w).await;
    assert_eq!(all.len(), 2);
    assert_eq!(all[0], (second.to_string(), "success".to_owned()), "newest first");

    // A CI run (pushed, not dispatched) and another workflow are not deploys.
    let mut ci = finished(503, "2026-09-21T14:23:40Z", "failure");
    ci["workflow_run"]["event"] = json!("push");
    w.webhook("workflow_run", &ci).await;
    let mut other = finished(504, "2026-09-21T14:23:40Z", "failure");
    other["workflow_run"]["path"] = json!(".github/workflows/test.yml");
    w.webhook("workflow_run", &other).await;
    assert_eq!(followed(&w).await.len(), 2);
}
