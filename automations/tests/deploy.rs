//! Deploy runs followed to the end of the workflow they dispatched: the
//! dispatch sends the run's id as a workflow input, the workflow's
//! `run-name` puts it in its title, and GitHub's `workflow_run` webhook is
//! tied to the run it names — never by time — and recorded once, whether it
//! succeeded or failed.

mod common;

use std::sync::Arc;

use common::{NOW, World, fixture, world};
use serde_json::{Value, json};
use switchboard_automations::engine::Worked;
use switchboard_automations::follow::RunFollower;
use switchboard_automations::process::{Mapped, Mapper};
use switchboard_core::Caller;
use switchboard_core::event::{EventKind, EventQuery};
use switchboard_core::ids::RunId;
use switchboard_core::inbox::Inbox;
use switchboard_core::model::{Role, RunStatus};

async fn requested_deploy(w: &World, version: &str) -> RunId {
    let carol = Caller::new("carol", Role::Editor, "test");
    let args = json!({"project": "svc-000", "environment": "staging", "version": version});
    let run = w.service.execute_json(&carol, "deploy", args).await.unwrap().to_json();
    let bob = Caller::new("bob", Role::Approver, "test");
    w.service.execute_json(&bob, "approve_run", json!({"run": run["id"]})).await.unwrap();
    run["id"].as_str().unwrap().parse().unwrap()
}

async fn dispatch_one(w: &World) -> RunId {
    let (done, worked) = w.engine.run_once().await.unwrap().unwrap();
    assert_eq!((worked, done.status), (Worked::Succeeded, RunStatus::Succeeded));
    let sent = w.github.dispatches().last().unwrap().clone();
    assert_eq!(sent.path, "/repos/acme/svc-000/actions/workflows/deploy.yml/dispatches");
    assert_eq!(sent.body["inputs"]["switchboard_run"], done.id.to_string(), "the correlation id: {}", sent.body);
    done.id
}

async fn dispatched_deploy(w: &World) -> RunId {
    requested_deploy(w, "1.2.3").await;
    dispatch_one(w).await
}

/// GitHub's published workflow_run payload, as the dispatched deploy
/// workflow's with `run-name: Deploy ${{ inputs.version }} (${{ inputs.switchboard_run }})`.
fn finished(id: u64, run: &str, conclusion: &str) -> Value {
    let mut body = fixture("workflow_run.completed.json");
    body["repository"]["full_name"] = json!("acme/svc-000");
    let wr = &mut body["workflow_run"];
    wr["id"] = json!(id);
    wr["event"] = json!("workflow_dispatch");
    wr["path"] = json!(".github/workflows/deploy.yml");
    wr["head_branch"] = json!("main");
    wr["display_title"] = json!(format!("Deploy 1.2.3 ({run})"));
    wr["conclusion"] = json!(conclusion);
    body
}

/// What the run follower says of a workflow_run delivered signed (the rules
/// ran on it too, recording a CI build).
async fn follower_says(w: &World, body: &Value) -> String {
    w.webhook("workflow_run", body).await;
    let delivery = w.store.list_deliveries(None, 1).await.unwrap().remove(0);
    match (RunFollower { service: w.service.clone() }).apply(&delivery, &Arc::new(body.clone())).await {
        Ok(Mapped::Ran(said) | Mapped::Unmapped(said)) => said,
        Err(_) => panic!("the follower failed"),
    }
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
    w.webhook("workflow_run", &finished(501, &first.to_string(), "failure")).await;
    assert_eq!(followed(&w).await, [(first.to_string(), "failure".to_owned())]);
    // Delivered again (GitHub retries): recorded once.
    w.webhook("workflow_run", &finished(501, &first.to_string(), "failure")).await;
    assert_eq!(followed(&w).await.len(), 1);

    // Ten minutes later, a second deploy: its own workflow run is tied to it.
    w.clock.advance(10 * 60 * 1000);
    let second = dispatched_deploy(&w).await;
    w.webhook("workflow_run", &finished(502, &second.to_string(), "success")).await;
    let all = followed(&w).await;
    assert_eq!(all.len(), 2);
    assert_eq!(all[0], (second.to_string(), "success".to_owned()), "newest first");

    // A CI run (pushed, not dispatched) and another workflow are not deploys.
    let mut ci = finished(503, &second.to_string(), "failure");
    ci["workflow_run"]["event"] = json!("push");
    w.webhook("workflow_run", &ci).await;
    let mut other = finished(504, &second.to_string(), "failure");
    other["workflow_run"]["path"] = json!(".github/workflows/test.yml");
    w.webhook("workflow_run", &other).await;
    assert_eq!(followed(&w).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_deploys_at_once_are_told_apart_by_their_correlation_ids() {
    let w = world(2).await;
    // Two deploys of one project dispatched in the same second; their
    // workflows finish in the other order.
    requested_deploy(&w, "1.2.3").await;
    requested_deploy(&w, "1.2.4").await;
    let (a, b) = (dispatch_one(&w).await, dispatch_one(&w).await);
    assert_ne!(a, b);
    w.webhook("workflow_run", &finished(602, &b.to_string(), "success")).await;
    w.webhook("workflow_run", &finished(601, &a.to_string(), "failure")).await;
    let mut all = followed(&w).await;
    all.sort();
    let mut expected = vec![(a.to_string(), "failure".to_owned()), (b.to_string(), "success".to_owned())];
    expected.sort();
    assert_eq!(all, expected);

    // A workflow run whose title names no run, or a run that is not this
    // project's deploy, is left unmapped, saying why; nothing is recorded.
    let mut untitled = finished(603, "no id here", "failure");
    untitled["workflow_run"]["display_title"] = json!("Deploy");
    let said = follower_says(&w, &untitled).await;
    assert!(said.contains("names no run") && said.contains("inputs.switchboard_run"), "{said}");
    let said = follower_says(&w, &finished(604, &RunId::new().to_string(), "failure")).await;
    assert!(said.contains("is not a deploy of svc-000"), "{said}");
    assert_eq!(followed(&w).await.len(), 2);
}

/// GitHub's published deployment_status payload, as a deployment of svc-000
/// to staging.
fn deployment_status(id: u64, state: &str) -> Value {
    let mut body = fixture("deployment_status.json");
    body["repository"]["full_name"] = json!("acme/svc-000");
    body["deployment"]["id"] = json!(id);
    body["deployment"]["environment"] = json!("staging");
    body["deployment"]["payload"] = json!({"version": "1.2.3"});
    body["deployment_status"]["state"] = json!(state);
    body
}

async fn deployment_run(w: &World, id: u64) -> Option<RunId> {
    let project = "svc-000".parse().unwrap();
    let d = w.service.graph().deployment_by_external_id(&project, &format!("github-deployment-{id}")).await.unwrap();
    d.expect("recorded").run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_names_its_run_through_its_payload_or_its_workflow_runs_title() {
    let w = world(2).await;
    let run = dispatched_deploy(&w).await;
    // A deployment the workflow made through the API, the run's id in its payload.
    let mut by_api = deployment_status(701, "success");
    by_api["deployment"]["payload"]["switchboard_run"] = json!(run.to_string());
    w.webhook("deployment_status", &by_api).await;
    assert_eq!(deployment_run(&w, 701).await, Some(run));
    // One an Actions job made: its workflow run's title carries the id.
    let mut by_job = deployment_status(702, "in_progress");
    by_job["workflow_run"] = json!({"id": 501, "display_title": format!("Deploy 1.2.3 ({run})")});
    w.webhook("deployment_status", &by_job).await;
    assert_eq!(deployment_run(&w, 702).await, Some(run));
    // Its later statuses keep the link even when they do not repeat it.
    w.webhook("deployment_status", &deployment_status(702, "success")).await;
    assert_eq!(deployment_run(&w, 702).await, Some(run));
    // A deployment made by hand names no run.
    w.webhook("deployment_status", &deployment_status(703, "success")).await;
    assert_eq!(deployment_run(&w, 703).await, None);
}
