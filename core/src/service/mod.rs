//! `Service::execute` is the one way in: policy check → operation → stores →
//! events appended → events published on the bus.

mod accounts;
mod activity;
mod advisories;
mod catalog;
pub mod chat_replies;
mod ci;
mod compare;
mod conversations;
mod dora;
mod facts;
pub mod identities;
mod investigate;
mod logs;
mod mailboxes;
pub mod mcp_sessions;
mod oidc;
pub mod proposals;
mod read;
mod readiness;
mod refresh_queue;
mod run_plan;
pub mod runs;
mod sign_in;
mod users;
pub mod vectors;
pub mod view;
mod write;

use std::sync::Arc;

use crate::bus::EventBus;
use crate::clock::Clock;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::event::{Event, EventData, payload};
use crate::model::{Millis, Project, Role};
use crate::ops::output::Output;
use crate::ops::{OpKind, Operation};
use crate::policy::{self, Caller};
use crate::score;
use crate::store::{EventLog, GraphBatch, GraphStore};

pub use accounts::{NewToken, TOKEN_PREFIX, hash_token};
pub use ci::percentile;
pub use conversations::CHAT_HISTORY;
pub use facts::check_fact_value;
pub use investigate::previous_good;
pub use oidc::OidcClaims;
pub use refresh_queue::EVERY_REPOSITORY;
pub use sign_in::MIN_PASSWORD;

/// The stores, config, clock and bus every operation works with.
pub struct Context {
    pub graph: Arc<dyn GraphStore>,
    pub log: Arc<dyn EventLog>,
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    pub bus: EventBus,
    /// Where MACs over large bodies run.
    pub cpu: crate::cpu::CpuPool,
    /// Where password hashes run: a pool of their own, so a flood of
    /// sign-ins never delays a webhook's signature check.
    pub(crate) passwords: crate::cpu::CpuPool,
    /// Rate limits and budgets (`[limits]`), in this process's memory.
    pub limits: crate::limits::Limits,
    /// A password hash unknown accounts are checked against (made on first use).
    pub(crate) dummy_hash: std::sync::OnceLock<String>,
    /// Held while an account is read, changed and written back, so two
    /// changes (an admin disabling someone while they sign in) never undo
    /// each other in this process.
    pub(crate) accounts: tokio::sync::Mutex<()>,
    /// This process among those on the store (claims name it).
    pub(crate) instance: String,
    /// The webhook inbox and the chat outbox, for the operations that look
    /// at them and act on them (replay, retry); unset in a process without.
    pub(crate) inbox: Option<Arc<dyn crate::inbox::Inbox>>,
    pub(crate) outbox: Option<Arc<dyn crate::outbox::Outbox>>,
    /// Rung when a chat message is enqueued here: the courier sends at once.
    pub(crate) chat_wake: Arc<tokio::sync::Notify>,
    /// The log sources by name (`[[log_sources]]`), each behind its guard.
    pub(crate) log_sources: std::collections::BTreeMap<String, Arc<dyn crate::logs::LogSource>>,
    /// The embedded log table, when this process keeps one.
    pub(crate) log_table: Option<Arc<dyn crate::logs::LogTable>>,
    /// Semantic search (`[embeddings]`): what embeds text, and where vectors are kept.
    pub(crate) embedder: Option<Arc<dyn crate::semantic::Embedder>>,
    pub(crate) vectors: Option<Arc<dyn crate::semantic::VectorStore>>,
    /// In-memory copies of the vectors searched, by kind, each as of a generation.
    pub(crate) vector_index:
        tokio::sync::Mutex<std::collections::HashMap<crate::semantic::VectorKind, Arc<crate::semantic::VectorIndex>>>,
    /// What long-lived parts report about themselves, for readiness.
    pub(crate) reported: crate::health::Reported,
}

impl Context {
    /// Appends events to the log, then publishes them on the bus.
    pub(crate) async fn record(&self, events: &[Event]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        debug_assert!(events.iter().all(|e| e.data().is_ok()), "an event whose payload is not its kind's: {events:?}");
        self.log.append(events).await?;
        self.bus.publish(events);
        Ok(())
    }
}

/// What a handler hands back: its output and the events it caused.
pub(crate) struct Done {
    pub output: Output,
    pub events: Vec<Event>,
}

impl Done {
    fn read(output: Output) -> Self {
        Self { output, events: Vec::new() }
    }
}

/// A running invocation: who, through what, when.
pub(crate) struct Call<'a> {
    pub ctx: &'a Context,
    pub caller: &'a Caller,
    pub now: Millis,
}

impl Call<'_> {
    /// A new event stamped with the caller and time.
    pub fn event(&self, data: EventData) -> Event {
        Event::of(&data, self.now, self.caller.user.as_str(), &self.caller.source)
    }

    pub async fn project(&self, slug: &crate::ids::ProjectSlug) -> Result<Project> {
        self.ctx.graph.get_project(slug).await?.ok_or_else(|| Error::not_found("project", slug))
    }

    /// The project without its dependencies ([`GraphStore::get_project_fields`]).
    pub async fn project_fields(&self, slug: &crate::ids::ProjectSlug) -> Result<Project> {
        self.ctx.graph.get_project_fields(slug).await?.ok_or_else(|| Error::not_found("project", slug))
    }

    /// Recomputes the project's score; when it moved, stores it and records a
    /// `score_changed` event. Returns whether the project was changed.
    pub async fn rescore(&self, project: &mut Project, events: &mut Vec<Event>) -> Result<bool> {
        self.rescore_with(project, events, None).await
    }

    /// `rescore`, with the project's newest builds when already read.
    pub async fn rescore_with(
        &self,
        project: &mut Project,
        events: &mut Vec<Event>,
        builds: Option<&[crate::model::Build]>,
    ) -> Result<bool> {
        let inputs = score::gather(self.ctx.graph.as_ref(), &self.ctx.config, project, self.now, builds).await?;
        let breakdown = score::compute(&self.ctx.config, project, &inputs, self.now);
        if breakdown.score == project.score {
            return Ok(false);
        }
        let components = breakdown
            .components
            .iter()
            .map(|c| payload::ScorePart {
                name: c.name.into(),
                weight: c.weight,
                value: c.value,
                points: c.points,
                detail: c.detail.clone(),
            })
            .collect();
        let changed = payload::ScoreChanged { from: project.score, to: breakdown.score, components };
        events.push(self.event(EventData::ScoreChanged(changed)).project(&project.slug));
        project.score = breakdown.score;
        Ok(true)
    }
}

#[derive(Clone)]
pub struct Service {
    ctx: Arc<Context>,
}

impl Service {
    pub fn new(graph: Arc<dyn GraphStore>, log: Arc<dyn EventLog>, config: Arc<Config>, clock: Arc<dyn Clock>) -> Self {
        let limits = crate::limits::Limits::new(&config.limits, clock.clone());
        Self {
            ctx: Arc::new(Context {
                graph,
                log,
                config,
                clock,
                bus: EventBus::default(),
                cpu: crate::cpu::CpuPool::default(),
                passwords: crate::cpu::CpuPool::default(),
                limits,
                dummy_hash: std::sync::OnceLock::new(),
                accounts: tokio::sync::Mutex::new(()),
                instance: format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()),
                inbox: None,
                outbox: None,
                chat_wake: Arc::default(),
                log_sources: Default::default(),
                log_table: None,
                embedder: None,
                vectors: None,
                vector_index: Default::default(),
                reported: Default::default(),
            }),
        }
    }

    /// The service with the webhook inbox and the chat outbox it offers to
    /// operations; call before the service is shared.
    pub fn with_mailboxes(
        mut self,
        inbox: Arc<dyn crate::inbox::Inbox>,
        outbox: Arc<dyn crate::outbox::Outbox>,
    ) -> Self {
        let ctx = Arc::get_mut(&mut self.ctx).expect("mailboxes are set before the service is shared");
        ctx.inbox = Some(inbox);
        ctx.outbox = Some(outbox);
        self
    }

    /// The service with the embedded log table and the log sources opened
    /// for `[[log_sources]]` (each put behind the timeout, retry and
    /// breaker guard); call before the service is shared.
    pub fn with_logs(
        mut self,
        table: Option<Arc<dyn crate::logs::LogTable>>,
        sources: std::collections::BTreeMap<String, Arc<dyn crate::logs::LogSource>>,
    ) -> Self {
        let ctx = Arc::get_mut(&mut self.ctx).expect("log sources are set before the service is shared");
        ctx.log_sources = sources
            .into_iter()
            .map(|(name, s)| {
                let guarded: Arc<dyn crate::logs::LogSource> =
                    Arc::new(crate::logs::guard::Guarded::new(&name, s, &ctx.config.logs));
                (name, guarded)
            })
            .collect();
        ctx.log_table = table;
        self
    }

    pub fn config(&self) -> &Config {
        &self.ctx.config
    }

    /// Whether this process keeps the embedded log table.
    pub fn has_log_table(&self) -> bool {
        self.ctx.log_table.is_some()
    }

    /// Puts a chat message in the outbox (the one way out to chat) and
    /// wakes this process's courier; false when its key was there already.
    pub async fn send_chat(&self, message: &crate::outbox::NewMessage) -> Result<bool> {
        let outbox = self.ctx.outbox.as_ref().ok_or_else(|| Error::conflict("this process keeps no chat outbox"))?;
        let new = outbox.enqueue(message).await?;
        if new {
            self.ctx.chat_wake.notify_one();
        }
        Ok(new)
    }

    /// What wakes the courier when a chat message is enqueued in this process.
    pub fn chat_wake(&self) -> Arc<tokio::sync::Notify> {
        self.ctx.chat_wake.clone()
    }

    /// Whether this process is the one, among all on the store, that does
    /// the thing named (`kind`, `key`): the first to ask is, until `until`;
    /// every other asker is told no.
    pub async fn claim_once(&self, kind: &str, key: &str, until: Millis) -> Result<bool> {
        Ok(self.ctx.graph.claim_ticket(kind, key, &self.ctx.instance, until, self.now()).await?)
    }

    /// A background job's own state between its runs (what a sync made
    /// last time), kept in the store under (`kind`, `key`) until replaced.
    pub async fn keep_state(&self, kind: &str, key: &str, value: &serde_json::Value) -> Result<()> {
        Ok(self.ctx.graph.put_ticket(kind, key, value, Millis::MAX / 4).await?)
    }

    /// What [`Service::keep_state`] kept, if anything.
    pub async fn kept_state(&self, kind: &str, key: &str) -> Result<Option<serde_json::Value>> {
        Ok(self.ctx.graph.get_ticket(kind, key, self.now()).await?)
    }

    pub fn bus(&self) -> &EventBus {
        &self.ctx.bus
    }

    pub fn now(&self) -> Millis {
        self.ctx.clock.now()
    }

    /// Rate limits and budgets, shared by every surface.
    pub fn limits(&self) -> &crate::limits::Limits {
        &self.ctx.limits
    }

    /// The bounded pool for MACs over large bodies, shared by every surface.
    pub fn cpu(&self) -> &crate::cpu::CpuPool {
        &self.ctx.cpu
    }

    /// Read access for surfaces that render lists the operations do not cover
    /// (home page counts, recent events). Writes always go through `execute`.
    pub fn graph(&self) -> view::GraphView<'_> {
        view::GraphView(self.ctx.graph.as_ref())
    }

    /// The operations log, read-only: events are appended by operations.
    pub fn log(&self) -> view::LogView<'_> {
        view::LogView(self.ctx.log.as_ref())
    }

    /// The graph store itself, for core's own followers and claims.
    pub(crate) fn store(&self) -> &dyn GraphStore {
        self.ctx.graph.as_ref()
    }

    /// Runs a typed input and returns its typed output:
    /// `service.call(&caller, GetProject { project }).await?`.
    pub async fn call<O: crate::ops::typed::TypedOp>(&self, caller: &Caller, input: O) -> Result<O::Output> {
        let output = self.execute(caller, input.operation()).await?;
        O::output(output).ok_or_else(|| Error::internal("an operation's output", "it returned another kind of output"))
    }

    /// Parses `args` for the operation `name` and executes it.
    pub async fn execute_json(&self, caller: &Caller, name: &str, args: serde_json::Value) -> Result<Output> {
        let kind = OpKind::from_name(name).ok_or_else(|| Error::UnknownOperation { name: name.to_owned() })?;
        // Authorize before parsing so a caller without the role learns nothing from validation.
        policy::authorize(caller, kind, &self.ctx.config.policy)?;
        self.execute(caller, Operation::parse(name, args)?).await
    }

    /// `policy.editors_own_teams_only`: an editor's write or automation
    /// touches only what their teams own. What does not exist yet is left to
    /// the operation to refuse, in its own words.
    async fn authorize_owner(&self, caller: &Caller, op: &Operation) -> Result<()> {
        let policy = &self.ctx.config.policy;
        if !policy.editors_own_teams_only || caller.role != crate::model::Role::Editor {
            return Ok(());
        }
        for owned in op.owned() {
            let team = match owned {
                crate::ops::Owned::Project(slug) => match self.ctx.graph.get_project(slug).await? {
                    Some(p) => p.team,
                    None => continue,
                },
                crate::ops::Owned::Team(t) => t.clone(),
            };
            let members = self.ctx.graph.get_team(&team).await?.map(|t| t.members).unwrap_or_default();
            policy::authorize_team_change(caller, op.kind(), &team, &members, policy)?;
        }
        Ok(())
    }

    /// The one way to run an operation; counted by name, surface and outcome.
    pub async fn execute(&self, caller: &Caller, op: Operation) -> Result<Output> {
        use tracing::Instrument;
        let (name, started) = (op.kind().name(), std::time::Instant::now());
        // A span for traces (debug: only a trace exporter asks for it).
        let span = tracing::debug_span!("operation", name, surface = %caller.source);
        let result = self.execute_counted(caller, op).instrument(span).await;
        let outcome = crate::metrics::outcome(result.as_ref().map(|_| ()));
        crate::metrics::operation(name, &caller.source, outcome, started.elapsed());
        result
    }

    async fn execute_counted(&self, caller: &Caller, op: Operation) -> Result<Output> {
        let kind = op.kind();
        policy::authorize(caller, kind, &self.ctx.config.policy)?;
        self.authorize_owner(caller, &op).await?;
        let call = Call { ctx: &self.ctx, caller, now: self.ctx.clock.now() };
        let done = match op {
            Operation::GetProject(i) => read::get_project(&call, i).await?,
            Operation::FindProjects(i) => read::find_projects(&call, i).await?,
            Operation::Dependents(i) => read::dependents(&call, i).await?,
            Operation::GetDependency(i) => read::get_dependency(&call, i).await?,
            Operation::ProjectHistory(i) => read::project_history(&call, i).await?,
            Operation::ListDeployments(i) => read::list_deployments(&call, i).await?,
            Operation::ListIncidents(i) => read::list_incidents(&call, i).await?,
            Operation::ProjectScore(i) => read::project_score(&call, i).await?,
            Operation::CiHealth(i) => crate::service::ci::ci_health(&call, i).await?,
            Operation::Dora(i) => crate::service::dora::dora(&call, i).await?,
            Operation::GetTeam(i) => read::get_team(&call, i).await?,
            Operation::ListTeams(_) => read::list_teams(&call).await?,
            Operation::ListRuns(i) => runs::list_runs(&call, i).await?,
            Operation::GetRun(i) => runs::get_run(&call, i).await?,
            Operation::CreateProject(i) => write::create_project(&call, i).await?,
            Operation::UpdateProject(i) => write::update_project(&call, i).await?,
            Operation::ArchiveProject(i) => write::archive_project(&call, i).await?,
            Operation::SetFact(i) => write::set_fact(&call, i).await?,
            Operation::SetDependencies(i) => write::set_dependencies(&call, i).await?,
            Operation::ImportSbom(i) => write::import_sbom(&call, i).await?,
            Operation::ImportManifests(i) => write::import_manifests(&call, i).await?,
            Operation::ImportCatalog(i) => catalog::import_catalog(&call, i).await?,
            Operation::CreateTeam(i) => write::create_team(&call, i).await?,
            Operation::UpdateTeam(i) => write::update_team(&call, i).await?,
            Operation::RecordDeployment(i) => activity::record_deployment(&call, i).await?,
            Operation::RecordIncident(i) => activity::record_incident(&call, i).await?,
            Operation::RecordBuild(i) => activity::record_build(&call, i).await?,
            Operation::RecordChange(i) => activity::record_change(&call, i).await?,
            Operation::UpgradeDependency(i) => runs::upgrade_dependency(&call, i).await?,
            Operation::Deploy(i) => runs::deploy(&call, i).await?,
            Operation::ScaffoldProject(i) => runs::scaffold_project(&call, i).await?,
            Operation::ApproveRun(i) => runs::decide(&call, kind, i.run, None, i.confirm == Some(true)).await?,
            Operation::DenyRun(i) => runs::decide(&call, kind, i.run, Some(i.reason), false).await?,
            Operation::CancelRun(i) => runs::cancel(&call, i).await?,
            Operation::ListUsers(_) => users::list_users(&call).await?,
            Operation::SetUserRole(i) => users::set_user_role(&call, i).await?,
            Operation::SetUserEmail(i) => users::set_user_email(&call, i).await?,
            Operation::DisableUser(i) => users::disable_user(&call, i).await?,
            Operation::EnableUser(i) => users::enable_user(&call, i).await?,
            Operation::SignOutEverywhere(i) => users::sign_out_everywhere(&call, i).await?,
            Operation::ImportGithub(i) => refresh_queue::import_github(&call, i).await?,
            Operation::ListImports(i) => refresh_queue::list_imports(&call, i).await?,
            Operation::CheckLogs(i) => logs::check_logs(&call, i).await?,
            Operation::Investigate(i) => investigate::investigate(&call, i).await?,
            Operation::CompareEnvironments(i) => compare::compare_environments(&call, i).await?,
            Operation::ListDeliveries(i) => mailboxes::list_deliveries(&call, i).await?,
            Operation::ReplayDelivery(i) => mailboxes::replay_delivery(&call, i).await?,
            Operation::ListMessages(i) => mailboxes::list_messages(&call, i).await?,
            Operation::RetryMessage(i) => mailboxes::retry_message(&call, i).await?,
            Operation::Vulnerabilities(i) => advisories::vulnerabilities(&call, i).await?,
            Operation::AffectedBy(i) => advisories::affected_by(&call, i).await?,
            Operation::ImportAdvisories(i) => advisories::import_advisories(&call, i).await?,
            Operation::FixAdvisory(i) => advisories::fix_advisory(&call, i).await?,
        };
        let mut done = done;
        // A project whose dependencies changed is matched against the advisories again.
        advisories::follow_dependency_changes(&call, &mut done.events).await?;
        self.record(&done.events).await?;
        Ok(done.output)
    }

    /// Appends events to the log, then publishes them: the last step of every change.
    pub(crate) async fn record(&self, events: &[Event]) -> Result<()> {
        self.ctx.record(events).await
    }

    /// Recomputes every active project's score as of now (time moves scores:
    /// incidents leave the window, green builds and deployments age). A moved
    /// score is stored and recorded as `score_changed` by `system`, like any
    /// change. Returns (projects checked, scores changed).
    pub async fn rescore_all(&self) -> Result<(u64, u64)> {
        let caller = Caller::new("system", Role::Admin, "scheduler");
        let q = crate::store::ProjectQuery { limit: 10_000_000, ..Default::default() };
        let (mut checked, mut changed) = (0, 0);
        for summary in self.ctx.graph.find_projects(&q).await? {
            let call = Call { ctx: &self.ctx, caller: &caller, now: self.now() };
            let Some(mut project) = self.ctx.graph.get_project(&summary.slug).await? else { continue };
            checked += 1;
            let mut events = Vec::new();
            if call.rescore(&mut project, &mut events).await? {
                self.ctx.graph.put_project(&project).await?;
                self.record(&events).await?;
                changed += 1;
            }
        }
        Ok((checked, changed))
    }

    /// Bulk-loads graph data and its history (demo org, migrations). Admin only;
    /// the data is trusted to be valid (it comes from a generator or an export).
    pub async fn import(&self, caller: &Caller, batch: &GraphBatch, events: &[Event]) -> Result<()> {
        if caller.role < Role::Admin {
            return Err(Error::Denied {
                operation: "import".into(),
                reason: crate::error::DenyReason::Role { needed: Role::Admin, actual: caller.role },
            });
        }
        if !batch.is_empty() {
            self.ctx.graph.import(batch).await?;
        }
        if !events.is_empty() {
            self.ctx.log.append(events).await?;
        }
        Ok(())
    }
}
