//! The run engine over the real store: approved runs worked step by step,
//! failed steps retried after a backoff, fatal ones failing the run, a run
//! resumed by another worker when the first one's lease lapses, and runs
//! that were not approved never touched.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::json;
use switchboard_automations::engine::{Action, Done, Engine, LEASE_MS, MAX_ATTEMPTS, StepError, Worked};
use switchboard_core::clock::ManualClock;
use switchboard_core::config::Config;
use switchboard_core::demo::{self, DemoOptions};
use switchboard_core::event::{EventKind, EventQuery};
use switchboard_core::model::{Role, Run, RunStatus};
use switchboard_core::queue::RunQueue;
use switchboard_core::{Caller, Service};
use switchboard_store::SqliteStore;

const NOW: i64 = 1_790_000_000_000;

/// Three steps; some fail as told; one may wait for a signal.
#[derive(Default)]
struct Steps {
    performed: Mutex<Vec<String>>,
    /// step → (failures still to give, retryable)
    failures: Mutex<HashMap<String, (usize, bool)>>,
    hold: Option<(String, Arc<tokio::sync::Notify>, Arc<tokio::sync::Notify>)>,
}

#[async_trait]
impl Action for Steps {
    fn steps(&self, _run: &Run) -> Vec<String> {
        ["prepare", "open pull request", "announce"].map(String::from).to_vec()
    }

    async fn perform(&self, step: &str, _run: &Run) -> Result<Done, StepError> {
        self.performed.lock().unwrap().push(step.to_owned());
        if let Some((held, reached, release)) = &self.hold
            && held == step
        {
            reached.notify_one();
            release.notified().await;
        }
        let mut failures = self.failures.lock().unwrap();
        if let Some((left, retryable)) = failures.get_mut(step)
            && *left > 0
        {
            *left -= 1;
            return Err(if *retryable {
                StepError::retry("GitHub answered 502")
            } else {
                StepError::fatal("no such repository")
            });
        }
        Ok(Done::said(format!("{step}: ok")))
    }
}

impl Steps {
    fn failing(step: &str, times: usize, retryable: bool) -> Self {
        let s = Self::default();
        s.failures.lock().unwrap().insert(step.into(), (times, retryable));
        s
    }

    /// Steps that stop at `step` until released: (the steps, reached, release).
    fn held_at(step: &str) -> (Arc<Self>, Arc<tokio::sync::Notify>, Arc<tokio::sync::Notify>) {
        let (reached, release) = (Arc::new(tokio::sync::Notify::new()), Arc::new(tokio::sync::Notify::new()));
        let steps = Self { hold: Some((step.into(), reached.clone(), release.clone())), ..Default::default() };
        (Arc::new(steps), reached, release)
    }

    fn performed(&self) -> Vec<String> {
        self.performed.lock().unwrap().clone()
    }
}

struct World {
    service: Service,
    clock: Arc<ManualClock>,
    queue: Arc<dyn RunQueue>,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path(), 2).unwrap();
    let config = Config::default();
    let clock = Arc::new(ManualClock::new(NOW));
    let service =
        Service::new(Arc::new(store.clone()), Arc::new(store.clone()), Arc::new(config.clone()), clock.clone());
    let admin = Caller::new(demo::DEMO_ADMIN, Role::Admin, "demo");
    for c in demo::generate(&DemoOptions { projects: 20, now: NOW, seed: 5 }, &config, 100) {
        service.import(&admin, &c.batch, &c.events).await.unwrap();
    }
    World { service, clock, queue: Arc::new(store), _dir: dir }
}

impl World {
    /// A deployment carol asks for; approved by bob unless told otherwise.
    async fn run(&self, approve: bool) -> String {
        let carol = Caller::new("carol", Role::Editor, "test");
        let args = json!({"project": "orders", "environment": "staging"});
        let run = self.service.execute_json(&carol, "deploy", args).await.unwrap().to_json();
        let id = run["id"].as_str().unwrap().to_owned();
        let bob = Caller::new("bob", Role::Approver, "test");
        let decision = if approve { "approve_run" } else { "deny_run" };
        self.service.execute_json(&bob, decision, json!({"run": id})).await.unwrap();
        id
    }

    fn engine(&self, worker: &str, action: Arc<Steps>) -> Engine {
        Engine::new(self.service.clone(), self.queue.clone(), worker)
            .with_action(switchboard_core::ops::OpKind::Deploy, action)
    }

    async fn events(&self, kind: EventKind) -> Vec<serde_json::Value> {
        let q = EventQuery { kinds: vec![kind], limit: 100, ..Default::default() };
        self.service.log().query(&q).await.unwrap().into_iter().map(|e| e.payload).collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_run_is_worked_step_by_step() {
    let w = world().await;
    let denied = w.run(false).await;
    let id = w.run(true).await;
    let action = Arc::new(Steps::default());
    let engine = w.engine("w1", action.clone());
    let (run, worked) = engine.run_once().await.unwrap().expect("the approved run");
    assert_eq!((run.id.to_string(), worked), (id.clone(), Worked::Succeeded));
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(action.performed(), ["prepare", "open pull request", "announce"]);
    assert_eq!(run.steps.iter().filter(|s| s.status == switchboard_core::model::StepStatus::Done).count(), 3);
    assert_eq!(w.events(EventKind::RunStarted).await.len(), 1);
    let steps = w.events(EventKind::RunStepFinished).await;
    assert_eq!(steps.len(), 3);
    assert!(steps.iter().all(|p| p["run"] == id.as_str() && p["status"] == "done"), "{steps:?}");
    assert_eq!(w.events(EventKind::RunSucceeded).await.len(), 1);

    // Nothing else is due: the denied run is never worked.
    assert!(engine.run_once().await.unwrap().is_none());
    let denied = w.service.graph().get_run(&denied.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!((denied.status, denied.steps.len()), (RunStatus::Denied, 0));

    // Nor is one nobody decided before it expired, before or after the sweep records it.
    let carol = Caller::new("carol", Role::Editor, "test");
    let args = json!({"project": "orders", "environment": "staging"});
    let undecided = w.service.execute_json(&carol, "deploy", args).await.unwrap().to_json();
    w.clock.advance(w.service.config().run_expiry_ms() + 1);
    assert!(engine.run_once().await.unwrap().is_none());
    assert_eq!(w.service.expire_runs().await.unwrap(), 1);
    assert!(engine.run_once().await.unwrap().is_none());
    let expired = w.service.graph().get_run(&undecided["id"].as_str().unwrap().parse().unwrap()).await.unwrap();
    let expired = expired.unwrap();
    assert_eq!((expired.status, expired.steps.len()), (RunStatus::Expired, 0));
    assert_eq!(action.performed().len(), 3, "no step of a denied or expired run ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_step_is_retried_after_a_backoff_and_the_run_resumes_there() {
    let w = world().await;
    w.run(true).await;
    let action = Arc::new(Steps::failing("open pull request", 2, true));
    let engine = w.engine("w1", action.clone());
    let (run, worked) = engine.run_once().await.unwrap().unwrap();
    let Worked::Retrying(at) = worked else { panic!("{worked:?}") };
    let wait = at - w.service.now();
    assert!((8_000..=12_000).contains(&wait), "10 s ± 20 %: {wait}");
    assert_eq!(run.status, RunStatus::Running);
    assert!(engine.run_once().await.unwrap().is_none(), "not before its backoff");

    w.clock.set(at);
    let (_, worked) = engine.run_once().await.unwrap().unwrap();
    let Worked::Retrying(at) = worked else { panic!("{worked:?}") };
    let wait = at - w.service.now();
    assert!((16_000..=24_000).contains(&wait), "doubled: {wait}");
    w.clock.set(at);
    let (run, worked) = engine.run_once().await.unwrap().unwrap();
    assert_eq!(worked, Worked::Succeeded);
    // The completed step was not done again.
    assert_eq!(
        action.performed(),
        ["prepare", "open pull request", "open pull request", "open pull request", "announce"]
    );
    assert_eq!(run.steps.iter().filter(|s| s.status == switchboard_core::model::StepStatus::Failed).count(), 2);
    let failed: Vec<_> =
        w.events(EventKind::RunStepFinished).await.into_iter().filter(|p| p["status"] == "failed").collect();
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[0]["detail"], "GitHub answered 502");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_that_cannot_succeed_fails_the_run() {
    let w = world().await;
    w.run(true).await;
    let action = Arc::new(Steps::failing("open pull request", 1, false));
    let (run, worked) = w.engine("w1", action.clone()).run_once().await.unwrap().unwrap();
    assert_eq!(worked, Worked::Failed("open pull request: no such repository".into()));
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(action.performed(), ["prepare", "open pull request"], "announce never ran");
    let failed = w.events(EventKind::RunFailed).await;
    assert_eq!(failed[0]["reason"], "open pull request: no such repository");

    // Retryable failures give up after MAX_ATTEMPTS.
    w.run(true).await;
    let action = Arc::new(Steps::failing("prepare", 100, true));
    let engine = w.engine("w1", action.clone());
    let mut last = None;
    for _ in 0..MAX_ATTEMPTS {
        let (_, worked) = engine.run_once().await.unwrap().unwrap();
        if let Worked::Retrying(at) = worked {
            w.clock.set(at);
        }
        last = Some(worked);
    }
    assert_eq!(last, Some(Worked::Failed(format!("prepare: GitHub answered 502 (after {MAX_ATTEMPTS} attempts)"))));
    assert!(engine.run_once().await.unwrap().is_none());

    // A worker with no action for an operation leaves its runs approved, waiting.
    let id = w.run(true).await;
    assert!(Engine::new(w.service.clone(), w.queue.clone(), "w2").run_once().await.unwrap().is_none());
    let waiting = w.service.graph().get_run(&id.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(waiting.status, RunStatus::Approved);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_worker_loses_the_run_to_another_and_cannot_overwrite_it() {
    let w = world().await;
    let id = w.run(true).await;
    let (stalled, reached, release) = Steps::held_at("open pull request");
    let first = w.engine("w1", stalled.clone());
    let working = tokio::spawn(async move { first.run_once().await });
    reached.notified().await;

    // w1 is stuck in its second step; its lease lapses; w2 resumes after the first step.
    w.clock.advance(LEASE_MS + 1);
    let healthy = Arc::new(Steps::default());
    let (run, worked) = w.engine("w2", healthy.clone()).run_once().await.unwrap().unwrap();
    assert_eq!((run.id.to_string(), worked), (id, Worked::Succeeded));
    assert_eq!(healthy.performed(), ["open pull request", "announce"], "prepare was done by w1");

    release.notify_one();
    let (_, worked) = working.await.unwrap().unwrap().unwrap();
    assert_eq!(worked, Worked::LostLease);
    let run = w.service.graph().get_run(&run.id).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Succeeded, "w1 wrote nothing after losing its lease");
    assert_eq!(run.steps.iter().filter(|s| s.name == "open pull request").count(), 1);
    assert_eq!(w.events(EventKind::RunSucceeded).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_run_stops_before_its_next_step() {
    let w = world().await;
    let id = w.run(true).await;
    let (held, reached, release) = Steps::held_at("open pull request");
    let engine = w.engine("w1", held.clone());
    let working = tokio::spawn(async move { engine.run_once().await });
    reached.notified().await;
    let carol = Caller::new("carol", Role::Editor, "test");
    w.service.execute_json(&carol, "cancel_run", json!({"run": id})).await.unwrap();
    release.notify_one();
    let (run, worked) = working.await.unwrap().unwrap().unwrap();
    assert_eq!(worked, Worked::Cancelled);
    assert_eq!(run.status, RunStatus::Cancelled, "the cancellation was not saved over");
    assert_eq!(held.performed(), ["prepare", "open pull request"], "announce never ran");
    assert!(w.events(EventKind::RunSucceeded).await.is_empty());
    assert!(w.engine("w2", Arc::new(Steps::default())).run_once().await.unwrap().is_none(), "never claimed again");
}

/// At a stop the engine claims nothing more and waits for the step being
/// worked; past the grace it gives the run's lease back, so another worker
/// takes the run over at once instead of when the lease would lapse.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_waits_for_the_step_then_gives_the_lease_back() {
    let w = world().await;
    let id = w.run(true).await;
    let (held, reached, _release) = Steps::held_at("open pull request");
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let running = w.engine("w1", held.clone()).spawn_until(stopping);
    reached.notified().await;
    // Before the stop, the lease is w1's: nobody else may claim the run.
    assert!(w.engine("w2", Arc::new(Steps::default())).run_once().await.unwrap().is_none());
    stop.send(true).unwrap();
    let given_back = running.stop(std::time::Duration::from_millis(300)).await;
    assert_eq!(given_back.map(|r| r.to_string()), Some(id.clone()), "the held step outlived the grace");
    // No time has passed (the clock is manual): w2 takes it over now.
    let healthy = Arc::new(Steps::default());
    let (run, worked) = w.engine("w2", healthy.clone()).run_once().await.unwrap().expect("the run, at once");
    assert_eq!((run.id.to_string(), worked), (id, Worked::Succeeded));
    assert_eq!(healthy.performed(), ["open pull request", "announce"], "prepare was done by w1");

    // A stop with nothing in hand gives nothing back and ends at once.
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let idle = w.engine("w3", Arc::new(Steps::default())).spawn_until(stopping);
    stop.send(true).unwrap();
    assert_eq!(idle.stop(std::time::Duration::from_secs(5)).await, None);
}
