//! The run engine: workers take approved runs from the run queue (with a
//! lease they keep renewing), plan each run's steps through its [`Action`],
//! perform the steps not done yet in order, and save each completed step
//! while they still hold the lease — so a run resumes after a crash from its
//! last completed step, and a worker presumed dead cannot overwrite its
//! successor. A failed step is tried again after an exponential backoff
//! with jitter, up to [`MAX_ATTEMPTS`]; a step that cannot succeed fails the
//! run at once. Progress is events (`run_started`, `run_step_finished`,
//! `run_succeeded`, `run_failed`), which the portal's run page and the chat
//! thread the run came from show. A cancelled run stops before its next
//! step (and nothing the worker was doing is saved over the cancellation).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use switchboard_core::Service;
use switchboard_core::event::EventKind;
use switchboard_core::event::payload::Progress;
use switchboard_core::ids::RunId;
use switchboard_core::model::{Millis, Run, RunStatus, RunStep, StepStatus};
use switchboard_core::ops::OpKind;
use switchboard_core::queue::RunQueue;
use switchboard_core::service::runs::EXECUTOR_TTL_MS;
use tokio::sync::broadcast::error::RecvError;

/// How long a claim lasts without renewal, by default (`policy.run_lease_secs`).
pub const LEASE_MS: i64 = 60_000;
/// Attempts of one step before the run fails.
pub const MAX_ATTEMPTS: usize = 5;
/// The longest one step may take before it counts as failed.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(600);

/// Why a step did not succeed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepError {
    pub message: String,
    /// Trying again later may work (a timeout, a 5xx, a rate limit).
    pub retryable: bool,
}

impl StepError {
    pub fn retry(message: impl Into<String>) -> Self {
        Self { message: message.into(), retryable: true }
    }

    pub fn fatal(message: impl Into<String>) -> Self {
        Self { message: message.into(), retryable: false }
    }
}

/// What a step did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Done {
    /// A line for people (the run page, the chat thread).
    pub detail: Option<String>,
    /// What later steps need (a plan), kept with the step in the run.
    pub data: Option<serde_json::Value>,
}

impl Done {
    /// A step that did what `detail` says.
    pub fn said(detail: impl Into<String>) -> Self {
        Self { detail: Some(detail.into()), data: None }
    }
}

/// What one kind of run does. Steps must be idempotent: a step may run
/// again after a crash, so it checks what already exists before it creates.
#[async_trait]
pub trait Action: Send + Sync {
    /// The run's steps, in order. Asked again after every completed step,
    /// so a first step's data can plan the rest; for the same run and the
    /// same completed steps it must give the same list.
    fn steps(&self, run: &Run) -> Vec<String>;
    /// Performs `step`.
    async fn perform(&self, step: &str, run: &Run) -> Result<Done, StepError>;
}

/// The wait before attempt `failed + 1`: 10 s doubling to 10 minutes, ±20 %.
pub fn backoff_ms(failed: usize, jitter: f64) -> Millis {
    let base = (10_000i64 << failed.saturating_sub(1).min(6)).min(600_000) as f64;
    (base * (0.8 + 0.4 * jitter.clamp(0.0, 1.0))) as Millis
}

/// A cheap jitter in [0, 1) from the clock and the run: workers that failed
/// together do not all come back together.
fn jitter(run: &Run, now: Millis) -> f64 {
    let mut x = (now as u64) ^ run.id.0.as_u128() as u64;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    (x % 10_000) as f64 / 10_000.0
}

/// How a claimed run was left.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Worked {
    Succeeded,
    Failed(String),
    /// A step failed and is tried again at this time.
    Retrying(Millis),
    /// A freeze window keeps the approved run from starting until then.
    Held(Millis),
    /// Another worker took the run over (this one's lease lapsed).
    LostLease,
    /// Someone cancelled the run; no step runs after that.
    Cancelled,
}

#[derive(Clone)]
pub struct Engine {
    service: Service,
    queue: Arc<dyn RunQueue>,
    actions: Arc<HashMap<OpKind, Arc<dyn Action>>>,
    worker: String,
    lease_ms: i64,
    /// When this engine last told the store which runs it runs.
    announced: Arc<std::sync::atomic::AtomicI64>,
    /// The run being worked now, if any: its lease is given back when a
    /// stop cannot wait for it.
    current: Arc<std::sync::Mutex<Option<RunId>>>,
}

/// A spawned engine that stops when asked (`Engine::spawn_until`).
pub struct Running {
    task: tokio::task::JoinHandle<()>,
    engine: Engine,
}

impl Running {
    /// Waits up to `grace` for the run being worked to reach a step's end
    /// (the engine claims nothing after the stop); past it, the work is
    /// dropped and its run's lease given back at once, so another worker
    /// takes it over now instead of when the lease would lapse. Returns the
    /// run given back, if one was.
    pub async fn stop(self, grace: Duration) -> Option<RunId> {
        let mut task = self.task;
        if tokio::time::timeout(grace, &mut task).await.is_ok() {
            return None;
        }
        task.abort();
        let _ = task.await;
        let id = self.engine.current.lock().unwrap_or_else(|e| e.into_inner()).take()?;
        // Ended before now: claimable at once (a lease is taken once it has passed).
        let ended = self.engine.service.now() - 1;
        match self.engine.queue.renew_lease(&id, &self.engine.worker, ended).await {
            Ok(_) => tracing::warn!(run = %id, "a run was still being worked at the stop; its lease is given back"),
            Err(e) => tracing::warn!(run = %id, error = %e, "cannot give a run's lease back; it lapses instead"),
        }
        Some(id)
    }
}

impl Engine {
    /// An engine for `worker` (a name unique among the replicas).
    pub fn new(service: Service, queue: Arc<dyn RunQueue>, worker: impl Into<String>) -> Self {
        let lease_ms = i64::from(service.config().policy.run_lease_secs) * 1000;
        Self {
            service,
            queue,
            actions: Arc::default(),
            worker: worker.into(),
            lease_ms,
            announced: Arc::default(),
            current: Arc::default(),
        }
    }

    /// Runs of `operation` are done by `action`.
    pub fn with_action(mut self, operation: OpKind, action: Arc<dyn Action>) -> Self {
        Arc::make_mut(&mut self.actions).insert(operation, action);
        self
    }

    /// Works the queue while the process runs: one run at a time per worker,
    /// woken by an approval in this process, and looking every second
    /// otherwise (approvals made by other processes, retries that fall due).
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        // A stop nobody can send: the engine works until its task is aborted.
        let (_, never) = tokio::sync::watch::channel(false);
        self.spawn_until(never).task
    }

    /// As `spawn`, until `stop` turns true: no run is claimed after that,
    /// and `Running::stop` waits for the one being worked.
    pub fn spawn_until(self, mut stop: tokio::sync::watch::Receiver<bool>) -> Running {
        let mut events = self.service.bus().subscribe();
        let engine = self.clone();
        let task = tokio::spawn(async move {
            while !*stop.borrow() {
                match self.run_once().await {
                    Ok(Some(_)) => continue,
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "the run engine cannot read its queue; trying again"),
                }
                let approved = async {
                    loop {
                        match events.recv().await {
                            Ok(e) if matches!(e.kind, EventKind::RunApproved | EventKind::RunBlocked) => return,
                            Ok(_) | Err(RecvError::Lagged(_)) => continue,
                            Err(RecvError::Closed) => std::future::pending::<()>().await,
                        }
                    }
                };
                tokio::select! {
                    _ = approved => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = async {
                        if stop.changed().await.is_err() {
                            std::future::pending::<()>().await;
                        }
                    } => {}
                }
            }
        });
        Running { task, engine }
    }

    /// Tells the store which runs this engine runs (at most every 20 s), so
    /// approvals of them are not marked blocked.
    async fn announce(&self) {
        use std::sync::atomic::Ordering;
        let now = self.service.now();
        let last = self.announced.load(Ordering::Relaxed);
        if now - last < EXECUTOR_TTL_MS / 4 && last != 0 {
            return;
        }
        let operations: Vec<OpKind> = self.actions.keys().copied().collect();
        match self.service.announce_executor(&self.worker, &operations).await {
            Ok(()) => self.announced.store(now, Ordering::Relaxed),
            Err(e) => tracing::warn!(error = %e, "the run engine cannot say which runs it runs"),
        }
    }

    /// Claims one due run and works it as far as it goes now; `None` when
    /// nothing is due.
    pub async fn run_once(&self) -> Result<Option<(Run, Worked)>, String> {
        self.announce().await;
        let now = self.service.now();
        let operations: Vec<String> = self.actions.keys().map(|k| k.name().to_owned()).collect();
        let claimed = self.queue.claim_run(&self.worker, &operations, now, self.lease_ms).await;
        let Some(run) = claimed.map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(run.id);
        let worked = self.work(run.clone()).await;
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let worked = worked?;
        let run = self.service.graph().get_run(&run.id).await.map_err(|e| e.to_string())?.unwrap_or(run);
        Ok(Some((run, worked)))
    }

    /// Saves the run under this worker's lease and records the transition's event.
    async fn advance(&self, run: &Run, retry_at: Option<Millis>, progress: Progress) -> Result<bool, String> {
        let moved = self.service.advance_run(self.queue.as_ref(), &self.worker, run, retry_at, progress).await;
        moved.map_err(|e| e.to_string())
    }

    /// Why a save did not land: the run was cancelled, or the lease lost.
    async fn not_saved(&self, run: &Run) -> Result<Worked, String> {
        Ok(if self.cancelled(run).await? { Worked::Cancelled } else { Worked::LostLease })
    }

    async fn cancelled(&self, run: &Run) -> Result<bool, String> {
        let stored = self.service.graph().get_run(&run.id).await.map_err(|e| e.to_string())?;
        Ok(stored.is_some_and(|r| r.status == RunStatus::Cancelled))
    }

    async fn work(&self, mut run: Run) -> Result<Worked, String> {
        let Some(action) = self.actions.get(&run.operation).cloned() else {
            let reason = format!("Switchboard cannot run {} here yet: no action is set up for it", run.operation);
            return self.fail(run, reason).await;
        };
        // A blocked run was approved when nobody ran its kind: this engine does.
        if run.status == RunStatus::Blocked {
            run.status = RunStatus::Approved;
        }
        if run.status == RunStatus::Approved {
            // A freeze that began after the approval holds the run: it is
            // due again when the window ends, still approved.
            if let Some((freeze, until)) = self.service.freeze_holding(&run).await.map_err(|e| e.to_string())? {
                if !self.advance(&run, Some(until), Progress::Held { freeze, until }).await? {
                    return self.not_saved(&run).await;
                }
                return Ok(Worked::Held(until));
            }
            run.status = RunStatus::Running;
            if !self.advance(&run, None, Progress::Started).await? {
                return self.not_saved(&run).await;
            }
        }
        loop {
            let next = action
                .steps(&run)
                .into_iter()
                .find(|step| !run.steps.iter().any(|s| &s.name == step && s.status == StepStatus::Done));
            let Some(step) = next else { break };
            if self.cancelled(&run).await? {
                return Ok(Worked::Cancelled);
            }
            let result = self.perform(action.as_ref(), &step, &run).await;
            let now = self.service.now();
            match result {
                Ok(Done { detail, data }) => {
                    // The demo's GitHub is simulated: every step it did says so.
                    let detail = match detail {
                        Some(d) if self.service.config().github.simulated => Some(format!("{d} (simulated GitHub)")),
                        d => d,
                    };
                    run.steps.push(RunStep {
                        name: step.clone(),
                        status: StepStatus::Done,
                        detail: detail.clone(),
                        at: now,
                        data,
                    });
                    if !self.advance(&run, None, Progress::StepDone { step, detail }).await? {
                        return self.not_saved(&run).await;
                    }
                }
                Err(e) => {
                    let failed =
                        run.steps.iter().filter(|s| s.name == step && s.status == StepStatus::Failed).count() + 1;
                    run.steps.push(RunStep {
                        name: step.clone(),
                        status: StepStatus::Failed,
                        detail: Some(e.message.clone()),
                        at: now,
                        data: None,
                    });
                    if !e.retryable || failed >= MAX_ATTEMPTS {
                        let reason = if e.retryable {
                            format!("{step}: {} (after {failed} attempts)", e.message)
                        } else {
                            format!("{step}: {}", e.message)
                        };
                        return self.fail(run, reason).await;
                    }
                    let at = now + backoff_ms(failed, jitter(&run, now));
                    if !self
                        .advance(&run, Some(at), Progress::StepFailed { step, detail: e.message, retry_at: at })
                        .await?
                    {
                        return self.not_saved(&run).await;
                    }
                    return Ok(Worked::Retrying(at));
                }
            }
        }
        run.status = RunStatus::Succeeded;
        if !self.advance(&run, None, Progress::Succeeded).await? {
            return self.not_saved(&run).await;
        }
        Ok(Worked::Succeeded)
    }

    async fn fail(&self, mut run: Run, reason: String) -> Result<Worked, String> {
        run.status = RunStatus::Failed;
        if !self.advance(&run, None, Progress::Failed { reason: reason.clone() }).await? {
            return self.not_saved(&run).await;
        }
        tracing::warn!(run = %run.id, %reason, "run failed");
        Ok(Worked::Failed(reason))
    }

    /// One step under a timeout, renewing the lease while it works.
    async fn perform(&self, action: &dyn Action, step: &str, run: &Run) -> Result<Done, StepError> {
        let renew = {
            let (queue, worker, service, id) = (self.queue.clone(), self.worker.clone(), self.service.clone(), run.id);
            let lease_ms = self.lease_ms;
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(lease_ms as u64 / 3)).await;
                    match queue.renew_lease(&id, &worker, service.now() + lease_ms).await {
                        Ok(true) => {}
                        Ok(false) => return,
                        Err(e) => tracing::warn!(error = %e, "cannot renew a run's lease"),
                    }
                }
            })
        };
        let result = match tokio::time::timeout(STEP_TIMEOUT, action.perform(step, run)).await {
            Ok(r) => r,
            Err(_) => Err(StepError::retry(format!("took longer than {} s", STEP_TIMEOUT.as_secs()))),
        };
        renew.abort();
        result
    }
}
