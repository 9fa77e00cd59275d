//! One conversation turn: text → the LLM agent (when configured and well)
//! or the intent router → `Service::execute` → [`Reply`]. Every surface
//! (terminal, web chat, Slack, Discord) calls this; none of them decides
//! permissions (core does) or wording (the messages modules do).

use std::sync::{Arc, RwLock, Weak};

use serde_json::json;
use switchboard_agents::llm::{Action, Agent, OnProgress, Unavailable};
use switchboard_agents::router::is_direct;
use switchboard_agents::{Catalog, Routed, route};
use switchboard_core::model::{Run, RunPlan, RunStatus};
use switchboard_core::ops::OpKind;
use switchboard_core::ops::output::{ManifestImport, Output, SbomImport};
use switchboard_core::{Caller, Error, Service};

use crate::answer::{confirm_card, deny_card, render, render_agent, run_card};
use crate::messages;
use crate::reply::{Button, ButtonStyle, Reply};

/// Messages (questions and answers) kept per thread; core keeps the count.
pub use switchboard_core::service::CHAT_HISTORY as HISTORY;

/// What one turn did.
#[derive(Debug)]
pub struct Turn {
    pub reply: Reply,
    /// The operation that ran, if any (even when it was refused).
    pub operation: Option<OpKind>,
    /// For a click: it did what it asked (chat surfaces then update the
    /// message that carried the button); false when it was refused or stale.
    pub done: bool,
}

pub struct Conversation {
    service: Service,
    catalog: Arc<RwLock<Catalog>>,
    base_url: String,
    agent: Option<Agent>,
}

/// A reply asking which of `choices` (label, message) was meant, each a
/// button that sends its message.
fn choose(text: String, choices: Vec<(String, String)>) -> Turn {
    // A button carries its message (Discord keeps 100 characters of it).
    let buttons = choices
        .into_iter()
        .filter(|(_, c)| c.len() <= 96)
        .take(5)
        .map(|(label, c)| Button { label, action: format!("say:{c}"), style: ButtonStyle::Default })
        .collect();
    Turn { reply: Reply::text(text).buttons(buttons), operation: None, done: true }
}

impl Conversation {
    /// Loads the names the router resolves against.
    pub async fn new(service: Service) -> Result<Self, Error> {
        let catalog = Catalog::load(service.graph(), service.config()).await?;
        let base_url = service.config().server.base_url();
        let catalog = Arc::new(RwLock::new(catalog));
        follow_names(&service, Arc::downgrade(&catalog));
        let agent = Agent::new(service.clone());
        Ok(Self { service, catalog, base_url, agent })
    }

    /// Whether a language model answers (when it is well).
    pub fn has_llm(&self) -> bool {
        self.agent.is_some()
    }

    /// Handles one message in `thread` from `caller`.
    pub async fn handle(&self, caller: &Caller, thread: &str, text: &str) -> Turn {
        self.handle_streaming(caller, thread, text, &|_| {}).await
    }

    /// Handles one message, reporting the model's words and tool calls as
    /// they happen (surfaces that stream show them; the final reply is the
    /// returned turn either way).
    pub async fn handle_streaming(&self, caller: &Caller, thread: &str, text: &str, progress: OnProgress<'_>) -> Turn {
        let turn = if let Some(action) = typed_click(text) {
            self.click(caller, &action).await
        } else {
            match &self.agent {
                Some(agent) if !is_direct(text) => self.ask_agent(agent, caller, thread, text, progress).await,
                _ => self.route(caller, text).await,
            }
        };
        self.remember(thread, caller, text, &turn.reply).await;
        turn
    }

    async fn route(&self, caller: &Caller, text: &str) -> Turn {
        let routed = {
            let catalog = self.catalog.read().unwrap_or_else(|e| e.into_inner());
            route(text, &catalog)
        };
        match routed {
            Routed::Reply { text: said } => match self.closest_by_meaning(caller, text).await {
                // Names did not match; what the message means may.
                Some(choices) => choose(format!("{said}\n{}", messages::by_meaning()), choices),
                None => Turn { reply: Reply::text(said), operation: None, done: true },
            },
            Routed::Choose { text, choices } => choose(text, choices.into_iter().map(|c| (c.clone(), c)).collect()),
            Routed::Call { operation, arguments, unapplied } => {
                let from = messages::based_on(operation.name(), &arguments);
                let mut turn = self.run(caller, operation, arguments).await;
                if turn.done {
                    if !unapplied.is_empty() {
                        turn.reply = turn.reply.push_text(messages::unapplied(&unapplied));
                    }
                    turn.reply = turn.reply.push_text(from);
                }
                turn
            }
        }
    }

    /// With semantic search, the projects nearest in meaning to `message`
    /// (at most three), each with the message said again about it; `None`
    /// without semantic search or when nothing is near enough.
    async fn closest_by_meaning(&self, caller: &Caller, message: &str) -> Option<Vec<(String, String)>> {
        if !self.service.semantic() || message.trim().is_empty() {
            return None;
        }
        let query: String = message.chars().take(200).collect();
        let output = self.service.execute_json(caller, "find_projects", json!({"query": query, "limit": 3})).await;
        let Ok(Output::Projects(list)) = output else { return None };
        let choices: Vec<(String, String)> = list
            .projects
            .iter()
            .map(|p| {
                let again = format!("{} ({})", message.trim(), p.slug);
                (p.slug.to_string(), if again.len() <= 96 { again } else { format!("about {}", p.slug) })
            })
            .collect();
        (!choices.is_empty()).then_some(choices)
    }

    async fn ask_agent(
        &self,
        agent: &Agent,
        caller: &Caller,
        thread: &str,
        text: &str,
        progress: OnProgress<'_>,
    ) -> Turn {
        let history = match self.service.chat_history(thread).await {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(error = %e, "cannot read chat history; the model answers without it");
                Vec::new()
            }
        };
        match agent.turn(caller, &history, text, progress).await {
            // The model looked nothing up, yet the message names things the
            // graph knows: its prose is not an answer about them. The router's
            // operation answers instead, and says so.
            Ok(answer) if !answer.actions.iter().any(grounds) && self.names_known(text) => {
                let mut turn = self.route(caller, text).await;
                turn.reply = turn.reply.push_text(messages::ungrounded());
                turn
            }
            Ok(answer) => self.agent_turn(caller, answer.actions.first().map(action_op), &answer, None).await,
            Err(Unavailable::Failed { reason, actions } | Unavailable::OverBudget { message: reason, actions })
                if !actions.is_empty() =>
            {
                let answer = switchboard_agents::llm::Answer { actions, ..Default::default() };
                self.agent_turn(caller, answer.actions.first().map(action_op), &answer, Some(reason)).await
            }
            Err(unavailable) => {
                let mut turn = self.route(caller, text).await;
                turn.reply = turn.reply.push_text(messages::llm_fallback(&unavailable.reason()));
                turn
            }
        }
    }

    /// Whether `text` names a project, team, package or person the catalog knows.
    /// (With [`grounds`]: a model whose tools all failed has looked nothing up either.)
    fn names_known(&self, text: &str) -> bool {
        let catalog = self.catalog.read().unwrap_or_else(|e| e.into_inner());
        switchboard_agents::router::text::clean(text).words.iter().any(|w| {
            let w = w.trim_end_matches("'s");
            catalog.projects.contains(w)
                || catalog.teams.contains(w)
                || catalog.packages.contains(w)
                || catalog.users.contains(w)
        })
    }

    async fn agent_turn(
        &self,
        caller: &Caller,
        operation: Option<Option<OpKind>>,
        answer: &switchboard_agents::llm::Answer,
        failed: Option<String>,
    ) -> Turn {
        let mut ids = Vec::new();
        for action in &answer.actions {
            if let Action::Proposed { operation, arguments } = action {
                // Kept in the store: the confirmation may reach another replica.
                match self.service.propose(caller, *operation, arguments.clone()).await {
                    Ok(id) => ids.push(id),
                    Err(e) => return Turn { reply: Reply::text(e.to_string()), operation: None, done: false },
                }
            }
            if let Action::Done { output, .. } = action {
                self.learn(output);
            }
        }
        let mut reply = match &failed {
            Some(reason) => Reply::text(messages::llm_failed_midway(reason)),
            None => Reply::default(),
        };
        reply.blocks.extend(render_agent(answer, &ids, &self.base_url).blocks);
        if reply.blocks.is_empty() {
            reply = Reply::text(switchboard_agents::messages::cannot_tell(None));
        }
        // What the answer stands on: the operations the model's tools ran.
        let used: Vec<String> = answer
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::Done { operation, arguments, .. } => Some(messages::based_on(operation.name(), arguments)),
                _ => None,
            })
            .collect();
        if !used.is_empty() {
            reply = reply.push_text(used.join("\n"));
        }
        Turn { reply, operation: operation.flatten(), done: true }
    }

    /// A button click: `approve_run:<id>`, `deny_run:<id>`, or `confirm:<id>` /
    /// `cancel:<id>` on a change the agent proposed.
    pub async fn click(&self, caller: &Caller, action: &str) -> Turn {
        let Some((op, id)) = action.split_once(':') else {
            return Turn { reply: Reply::text(messages::unknown_action(action)), operation: None, done: false };
        };
        match (op, OpKind::from_name(op)) {
            // An approval that needs a confirmation asks for it first.
            (_, Some(OpKind::ApproveRun)) => match self.pending_run(id).await {
                Some(run) if run.plan.as_ref().is_some_and(RunPlan::needs_confirmation) => {
                    // Asked only of someone who may approve it.
                    match self.service.why_not_approve(caller, &run).await {
                        Ok(None) => Turn { reply: confirm_card(&run, &self.base_url), operation: None, done: false },
                        Ok(Some(why)) => {
                            Turn { reply: Reply::text(why), operation: Some(OpKind::ApproveRun), done: false }
                        }
                        Err(e) => Turn { reply: Reply::text(e.to_string()), operation: None, done: false },
                    }
                }
                _ => self.run(caller, OpKind::ApproveRun, json!({"run": id})).await,
            },
            ("approve_confirmed", _) => self.run(caller, OpKind::ApproveRun, json!({"run": id, "confirm": true})).await,
            // Deny asks why first: a reason in one click, or in words.
            (_, Some(OpKind::DenyRun)) => match self.pending_run(id).await {
                Some(run) => Turn { reply: deny_card(&run), operation: None, done: false },
                None => self.run(caller, OpKind::DenyRun, json!({"run": id})).await,
            },
            ("deny_because", _) => match id
                .split_once(':')
                .and_then(|(run, code)| Some((run, messages::deny_reason(code)?)))
            {
                Some((run, reason)) => self.run(caller, OpKind::DenyRun, json!({"run": run, "reason": reason})).await,
                None => Turn { reply: Reply::text(messages::unknown_action(action)), operation: None, done: false },
            },
            ("confirm" | "cancel", _) => self.answer_proposal(caller, id, op == "confirm").await,
            // The Fix button of an advisory: its campaigns, each approved like any.
            (_, Some(OpKind::FixAdvisory)) => self.run(caller, OpKind::FixAdvisory, json!({"advisory": id})).await,
            // A "did you mean" button: the message again, with the name chosen.
            ("say", _) => self.route(caller, id).await,
            // Roll back from an investigation: a deploy request whose version
            // is resolved (the previous good one) when it is made, and approved
            // like every automation.
            ("rollback", _) => match id.split_once(':') {
                Some((project, environment)) => {
                    let args = json!({"project": project, "environment": environment, "rollback": true});
                    self.run(caller, OpKind::Deploy, args).await
                }
                None => Turn { reply: Reply::text(messages::unknown_action(action)), operation: None, done: false },
            },
            // Promote from a comparison: the version `from` runs, pinned when
            // the request is made.
            ("promote", _) => match id.splitn(3, ':').collect::<Vec<_>>().as_slice() {
                [project, from, to] => {
                    let args = json!({"project": project, "environment": to, "from_environment": from});
                    self.run(caller, OpKind::Deploy, args).await
                }
                _ => Turn { reply: Reply::text(messages::unknown_action(action)), operation: None, done: false },
            },
            _ => Turn { reply: Reply::text(messages::unknown_action(action)), operation: None, done: false },
        }
    }

    /// The run `id` names while it waits for a decision (`None` otherwise:
    /// the operation then says what became of it).
    async fn pending_run(&self, id: &str) -> Option<Run> {
        let run = self.service.graph().get_run(&id.parse().ok()?).await.ok()??;
        (run.status_at(self.service.now()) == RunStatus::Pending).then_some(run)
    }

    async fn answer_proposal(&self, caller: &Caller, id: &str, confirm: bool) -> Turn {
        use switchboard_core::service::proposals::Answered;
        let said = |text: String| Turn { reply: Reply::text(text), operation: None, done: false };
        let p = match self.service.answer_proposal(caller, id).await {
            Ok(Answered::Yours(p)) => p,
            Ok(Answered::NotYours(user)) => return said(messages::proposal_not_yours(user.as_str())),
            Ok(Answered::Gone) => return said(messages::proposal_gone()),
            Err(e) => return said(e.to_string()),
        };
        if confirm {
            self.run(caller, p.operation, p.arguments).await
        } else {
            Turn { reply: Reply::text(messages::proposal_cancelled(p.operation.name())), operation: None, done: true }
        }
    }

    async fn run(&self, caller: &Caller, operation: OpKind, arguments: serde_json::Value) -> Turn {
        match self.run_operation(caller, operation, arguments).await {
            Ok(reply) => Turn { reply, operation: Some(operation), done: true },
            // User errors say what to do next; internal ones carry a reference.
            Err(e) => Turn { reply: Reply::text(e.to_string()), operation: Some(operation), done: false },
        }
    }

    /// Runs `operation` as `caller` (for forms and buttons): its reply, or
    /// the error that refused it (user errors name their field).
    pub async fn run_operation(
        &self,
        caller: &Caller,
        operation: OpKind,
        arguments: serde_json::Value,
    ) -> Result<Reply, switchboard_core::Error> {
        let output = self.service.execute_json(caller, operation.name(), arguments).await?;
        self.learn(&output);
        Ok(match (&output, operation) {
            (Output::Run(run), OpKind::UpgradeDependency | OpKind::Deploy | OpKind::ScaffoldProject) => {
                let card = run_card(run, &self.base_url);
                Reply {
                    blocks: Reply::text(messages::run_created(&run.summary))
                        .blocks
                        .into_iter()
                        .chain(card.blocks)
                        .collect(),
                }
            }
            (Output::Run(run), OpKind::ApproveRun | OpKind::DenyRun) => {
                let by = run.approvals.last().map(|a| a.by.to_string()).unwrap_or_default();
                if run.status == RunStatus::Pending {
                    // An approval that waits for more (policy.approval_rules):
                    // the card keeps its buttons for the next approver.
                    let said = Reply::text(messages::run_waiting(&run.summary, &by));
                    return Ok(Reply {
                        blocks: said.blocks.into_iter().chain(run_card(run, &self.base_url).blocks).collect(),
                    });
                }
                let said = match run.status {
                    // Approved, and waiting for a process that runs it.
                    RunStatus::Blocked => Reply::text(messages::run_decided(&run.summary, "approved", &by)).push_text(
                        messages::run_blocked(&switchboard_core::messages::run_blocked(run.operation.name())),
                    ),
                    status => {
                        let said = messages::run_decided(&run.summary, status.as_str(), &by);
                        match run.approvals.last().and_then(|a| a.reason.as_deref()) {
                            Some(why) if status == RunStatus::Denied => {
                                Reply::text(said).push_text(messages::because(why))
                            }
                            _ => Reply::text(said),
                        }
                    }
                };
                said.link("Open in portal", format!("{}/runs/{}", self.base_url, run.id))
            }
            _ => render(&output, &self.base_url),
        })
    }

    /// New names become resolvable at once (before the bus delivers them).
    fn learn(&self, output: &Output) {
        let mut catalog = self.catalog.write().unwrap_or_else(|e| e.into_inner());
        match output {
            Output::Project(p) => catalog.projects.insert(p.slug.to_string()),
            Output::Team(t) => catalog.teams.insert(t.slug.to_string()),
            Output::Dependencies(changes)
            | Output::SbomImported(SbomImport { changes, .. })
            | Output::ManifestsImported(ManifestImport { changes, .. }) => {
                for d in &changes.added {
                    catalog.packages.insert(d.package.to_string());
                }
            }
            _ => {}
        }
    }

    /// Stores the turn; a storage failure is logged, never shown instead of the answer.
    async fn remember(&self, thread: &str, caller: &Caller, asked: &str, reply: &Reply) {
        // The blocks are kept so a chat shows the answer again as it was.
        let blocks = serde_json::to_string(reply).ok();
        if let Err(e) = self.service.record_turn(caller, thread, asked, &reply.to_text(), blocks).await {
            tracing::error!(error = %e, "cannot store a chat turn");
        }
    }

    /// The last turns of a thread, oldest first, each with who asked.
    pub async fn history(&self, thread: &str) -> Vec<PastTurn> {
        let messages = self.service.chat_history(thread).await.unwrap_or_default();
        let mut turns = Vec::new();
        let mut asked: Option<(String, String)> = None;
        for m in messages {
            if m.author == "switchboard" {
                if let Some((speaker, asked)) = asked.take() {
                    let reply = m.reply.as_deref().and_then(|r| serde_json::from_str(r).ok());
                    turns.push(PastTurn { speaker, asked, answered: m.text, reply });
                }
            } else {
                asked = Some((m.author, m.text));
            }
        }
        turns
    }
}

fn action_op(action: &Action) -> Option<OpKind> {
    match action {
        Action::Done { operation, .. } | Action::Proposed { operation, .. } => Some(*operation),
        Action::Failed { tool, .. } => OpKind::from_name(tool),
    }
}

/// `confirm <id>` / `cancel <id>` typed (terminal) instead of clicked.
fn typed_click(text: &str) -> Option<String> {
    let mut words = text.split_whitespace();
    let (verb, id) = (words.next()?.to_lowercase(), words.next()?);
    let is_id = id.len() == 12 && id.chars().all(|c| c.is_ascii_hexdigit());
    ((verb == "confirm" || verb == "cancel") && is_id && words.next().is_none()).then(|| format!("{verb}:{id}"))
}

/// One earlier turn of a thread.
#[derive(Clone, Debug)]
pub struct PastTurn {
    /// Who asked (a user name).
    pub speaker: String,
    pub asked: String,
    /// The answer as text (what a model is given as memory).
    pub answered: String,
    /// The answer's blocks, when they were kept.
    pub reply: Option<Reply>,
}

/// Whether a tool call gives an answer something to stand on: it ran, or it
/// is a change waiting for the person's confirmation.
fn grounds(action: &Action) -> bool {
    matches!(action, Action::Done { .. } | Action::Proposed { .. })
}

/// Keeps the catalog in step with names created anywhere in this process
/// (API, portal, webhooks): a bus subscriber that ends with the conversation.
fn follow_names(service: &Service, catalog: Weak<RwLock<Catalog>>) {
    use switchboard_core::event::EventKind;
    use tokio::sync::broadcast::error::RecvError;
    let mut events = service.bus().subscribe();
    tokio::spawn(async move {
        loop {
            let event = match events.recv().await {
                Ok(e) => e,
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "chat names missed bus events; new names resolve after a restart");
                    continue;
                }
                Err(RecvError::Closed) => return,
            };
            let Some(catalog) = catalog.upgrade() else { return };
            let mut catalog = catalog.write().unwrap_or_else(|e| e.into_inner());
            match event.kind {
                EventKind::ProjectCreated => {
                    if let Some(p) = &event.project {
                        catalog.projects.insert(p.to_string());
                    }
                }
                EventKind::TeamCreated => catalog.teams.insert(event.subjects.first().cloned().unwrap_or_default()),
                EventKind::DependenciesChanged => {
                    for s in &event.subjects {
                        catalog.packages.insert(s.clone());
                    }
                }
                // A new run is named by a fragment of its id at once.
                EventKind::RunRequested => {
                    if let Ok(switchboard_core::event::EventData::RunRequested(r)) = event.data() {
                        catalog.add_run(r.run.to_string());
                    }
                }
                _ => {}
            }
        }
    });
}
