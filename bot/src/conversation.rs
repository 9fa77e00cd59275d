//! One conversation turn: text → router → `Service::execute` → [`Reply`].
//! Every surface (terminal, web chat, Slack, Discord) calls this; none of
//! them decides permissions (core does) or wording (the messages modules do).

use std::sync::{Arc, RwLock, Weak};

use serde_json::json;
use switchboard_agents::{Catalog, Routed, route};
use switchboard_core::ops::OpKind;
use switchboard_core::ops::output::Output;
use switchboard_core::{Caller, Error, Service};

use crate::answer::{render, run_card};
use crate::messages;
use crate::reply::Reply;

/// Messages (questions and answers) kept per thread; core keeps the count.
pub use switchboard_core::service::CHAT_HISTORY as HISTORY;

/// What one turn did.
#[derive(Debug)]
pub struct Turn {
    pub reply: Reply,
    /// The operation that ran, if any (even when it was refused).
    pub operation: Option<OpKind>,
}

pub struct Conversation {
    service: Service,
    catalog: Arc<RwLock<Catalog>>,
    base_url: String,
}

impl Conversation {
    /// Loads the names the router resolves against.
    pub async fn new(service: Service) -> Result<Self, Error> {
        let catalog = Catalog::load(service.graph(), service.config()).await?;
        let base_url = service.config().server.base_url();
        let catalog = Arc::new(RwLock::new(catalog));
        follow_names(&service, Arc::downgrade(&catalog));
        Ok(Self { service, catalog, base_url })
    }

    /// Handles one message in `thread` from `caller`.
    pub async fn handle(&self, caller: &Caller, thread: &str, text: &str) -> Turn {
        let routed = {
            let catalog = self.catalog.read().unwrap_or_else(|e| e.into_inner());
            route(text, &catalog)
        };
        let turn = match routed {
            Routed::Reply { text } => Turn { reply: Reply::text(text), operation: None },
            Routed::Call { operation, arguments } => self.run(caller, operation, arguments).await,
        };
        self.remember(thread, caller, text, &turn.reply.to_text()).await;
        turn
    }

    /// A button click: `approve_run:<id>` or `deny_run:<id>`.
    pub async fn click(&self, caller: &Caller, action: &str) -> Turn {
        let Some((op, run)) = action.split_once(':') else {
            return Turn { reply: Reply::text(messages::unknown_action(action)), operation: None };
        };
        match OpKind::from_name(op) {
            Some(kind @ (OpKind::ApproveRun | OpKind::DenyRun)) => self.run(caller, kind, json!({"run": run})).await,
            _ => Turn { reply: Reply::text(messages::unknown_action(action)), operation: None },
        }
    }

    async fn run(&self, caller: &Caller, operation: OpKind, arguments: serde_json::Value) -> Turn {
        let reply = match self.service.execute_json(caller, operation.name(), arguments).await {
            Ok(output) => {
                self.learn(&output);
                match (&output, operation) {
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
                        Reply::text(messages::run_decided(&run.summary, run.status.as_str(), &by))
                            .link("Open in portal", format!("{}/runs/{}", self.base_url, run.id))
                    }
                    _ => render(&output, &self.base_url),
                }
            }
            // User errors say what to do next; internal ones carry a reference.
            Err(e) => Reply::text(e.to_string()),
        };
        Turn { reply, operation: Some(operation) }
    }

    /// New names become resolvable at once (before the bus delivers them).
    fn learn(&self, output: &Output) {
        let mut catalog = self.catalog.write().unwrap_or_else(|e| e.into_inner());
        match output {
            Output::Project(p) => catalog.projects.insert(p.slug.to_string()),
            Output::Team(t) => catalog.teams.insert(t.slug.to_string()),
            Output::Dependencies(c) => {
                for d in &c.added {
                    catalog.packages.insert(d.package.to_string());
                }
            }
            _ => {}
        }
    }

    /// Stores the turn; a storage failure is logged, never shown instead of the answer.
    async fn remember(&self, thread: &str, caller: &Caller, asked: &str, answered: &str) {
        if let Err(e) = self.service.record_turn(caller, thread, asked, answered).await {
            tracing::error!(error = %e, "cannot store a chat turn");
        }
    }

    /// The last turns of a thread, oldest first: (what was asked, what was answered).
    pub async fn history(&self, thread: &str) -> Vec<(String, String)> {
        let messages = self.service.chat_history(thread).await.unwrap_or_default();
        let mut turns = Vec::new();
        let mut asked: Option<String> = None;
        for m in messages {
            if m.author == "switchboard" {
                if let Some(a) = asked.take() {
                    turns.push((a, m.text));
                }
            } else {
                asked = Some(m.text);
            }
        }
        turns
    }
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
                _ => {}
            }
        }
    });
}
