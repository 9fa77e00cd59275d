//! What Switchboard says in Slack and Discord on its own: notifications for
//! owning teams (with the incident's context and Investigate / Open
//! buttons), approval requests, and a run's progress as replies in the
//! request's thread. Each is composed from a domain event, stored in the
//! durable outbox under a key naming what it is about, then delivered with
//! retries — a restart or an unreachable platform loses nothing, and the
//! same event never sends twice.

mod deliver;
mod thread;

pub use thread::{read_run_thread, run_thread};

use std::sync::Arc;
use std::time::Duration;

use switchboard_core::Service;
use switchboard_core::campaign::Summary as Campaign;
use switchboard_core::event::{Event, EventData, EventKind, EventQuery};
use switchboard_core::follow::LogFollower;
use switchboard_core::ids::RunId;
use switchboard_core::model::{ChatChannel, ChatPlatform, Millis, Role, RunRequest};
use switchboard_core::notification::{self, Notification};
use switchboard_core::ops::OpKind;
use switchboard_core::outbox::{NewMessage, Outbox};
use switchboard_core::store::DeploymentQuery;
use switchboard_core::time::format_ms;
use tokio::sync::Notify;
use tokio::sync::broadcast::error::RecvError;

use crate::chat::ChatState;
use crate::reply::{Button, ButtonStyle, Reply};
use crate::send::ChatApis;
use crate::{answer, messages};

/// Run events said in chat: the request, its decision, its progress.
const RUN_KINDS: [EventKind; 12] = [
    EventKind::RunRequested,
    EventKind::RunApproved,
    EventKind::RunApprovalAdded,
    EventKind::RunDenied,
    EventKind::RunExpired,
    EventKind::RunHeld,
    EventKind::RunBlocked,
    EventKind::RunStarted,
    EventKind::RunStepFinished,
    EventKind::RunSucceeded,
    EventKind::RunFailed,
    EventKind::RunCancelled,
];

/// What a message only one person saw keeps as its id (it has none to edit).
const ONLY_FOR_SENT: &str = "only-for:";

/// Attempts before a message is given up (dead): about an hour of retries.
pub const ATTEMPTS: u32 = 10;
/// Messages taken per pass.
const BATCH: usize = 50;
/// How often the log is read for events made by other processes.
const FOLLOW_EVERY: Duration = Duration::from_secs(2);
/// How far back the courier looks the first time it runs on a store, for
/// events whose messages may not have been enqueued.
const FIRST_LOOK_BACK_MS: Millis = 60 * 60 * 1000;
/// How long a reply waits for the message whose thread it goes in.
const PARENT_WAIT_MS: Millis = 2_000;

/// The wait before attempt `n + 1` after `n` failed: 5 s doubling, at most 10 minutes.
pub fn backoff_ms(failed: u32) -> Millis {
    (5_000i64 << failed.saturating_sub(1).min(7)).min(600_000)
}

#[derive(Clone)]
pub struct Courier {
    service: Service,
    outbox: Arc<dyn Outbox>,
    apis: ChatApis,
    wake: Arc<Notify>,
    /// Turns true when the process is stopping: no further message is taken.
    stop: Option<tokio::sync::watch::Receiver<bool>>,
}

impl Courier {
    pub fn new(chat: &ChatState, outbox: Arc<dyn Outbox>) -> Self {
        Self { service: chat.service.clone(), outbox, apis: chat.apis(), wake: chat.service.chat_wake(), stop: None }
    }

    /// Stops delivering when `stop` turns true: the message being sent is
    /// finished, the claims on the others taken are given back, and the
    /// delivery task ends.
    pub fn until(mut self, stop: tokio::sync::watch::Receiver<bool>) -> Self {
        self.stop = Some(stop);
        self
    }

    fn stopping(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| *s.borrow())
    }

    /// Whether this server can post to any platform (a bot token is set).
    pub fn active(&self) -> bool {
        self.apis.has(ChatPlatform::Slack) || self.apis.has(ChatPlatform::Discord)
    }

    /// Enqueues what events call for while the process runs, and delivers.
    /// Events come from this process's bus at once, and from the log every
    /// two seconds (from a cursor kept in the store), so events made by
    /// workers, the CLI and other replicas are said too; the outbox's keys
    /// keep every message single however often an event is seen.
    pub fn spawn(self) -> Vec<tokio::task::JoinHandle<()>> {
        let mut tasks = vec![self.clone().spawn_listener()];
        tasks.push(self.spawn_delivery());
        tasks
    }

    /// Enqueues what events call for (the first half of [`Courier::spawn`]).
    pub fn spawn_listener(self) -> tokio::task::JoinHandle<()> {
        let mut events = self.service.bus().subscribe();
        let c = self;
        tokio::spawn(async move {
            let mut follower = LogFollower::start(&c.service, "courier", Self::kinds(), FIRST_LOOK_BACK_MS).await;
            let mut tick = tokio::time::interval(FOLLOW_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    received = events.recv() => match received {
                        Ok(e) => {
                            if follower.handled(e.id) {
                                continue;
                            }
                            match c.enqueue_for(&e).await {
                                Ok(_) => follower.remember(e.id),
                                // The log is read again on the next tick.
                                Err(err) => tracing::error!(error = %err, event = %e.id, "cannot enqueue a chat message"),
                            }
                        }
                        // Missed bus events are read from the log on the next tick.
                        Err(RecvError::Lagged(missed)) => tracing::warn!(missed, "chat messages missed bus events; reading them from the log"),
                        Err(RecvError::Closed) => return,
                    },
                    _ = tick.tick() => match c.follow(&mut follower).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(messages = n, "chat messages enqueued for events read from the log"),
                        Err(e) => tracing::warn!(error = %e, "cannot read the operations log for chat messages; trying again"),
                    },
                }
            }
        })
    }

    /// Sends what the outbox holds as it falls due, woken by every message
    /// enqueued in this process (the second half of [`Courier::spawn`]; alone,
    /// it delivers what the chat handlers enqueue).
    pub fn spawn_delivery(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            while !self.stopping() {
                let sent = match self.deliver_due().await {
                    Ok(n) => n,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read the chat outbox; trying again");
                        0
                    }
                };
                if sent < BATCH && !self.stopping() {
                    let mut stop = self.stop.clone();
                    let stopped = async move {
                        match stop.as_mut() {
                            Some(s) => drop(s.wait_for(|s| *s).await),
                            None => std::future::pending::<()>().await,
                        }
                    };
                    tokio::select! {
                        _ = tokio::time::timeout(Duration::from_secs(1), self.wake.notified()) => {}
                        () = stopped => {}
                    }
                }
            }
        })
    }

    /// The kinds of events chat may say something about.
    fn kinds() -> Vec<EventKind> {
        let mut kinds = notification::SOURCE_KINDS.to_vec();
        kinds.extend(RUN_KINDS);
        kinds.push(EventKind::CampaignUpdated);
        kinds
    }

    /// Enqueues what the log's events not handled yet call for, oldest
    /// first, and moves the follower on; how many messages were new.
    pub async fn follow(&self, follower: &mut LogFollower) -> Result<usize, String> {
        let events = follower.unhandled(&self.service).await.map_err(|e| e.to_string())?;
        let mut n = 0;
        for e in &events {
            n += self.enqueue_for(e).await?;
            follower.remember(e.id);
        }
        follower.advance(&self.service, &events).await.map_err(|e| e.to_string())?;
        Ok(n)
    }

    /// Enqueues the messages events since `since` call for; returns how many were new.
    pub async fn catch_up(&self, since: Millis) -> Result<usize, String> {
        let q = EventQuery { kinds: Self::kinds(), since: Some(since), limit: 5000, ..Default::default() };
        let mut events = self.service.log().query(&q).await.map_err(|e| e.to_string())?;
        events.reverse(); // oldest first: a request before its decision
        let mut n = 0;
        for e in &events {
            n += self.enqueue_for(e).await?;
        }
        Ok(n)
    }

    /// Enqueues what `event` calls for; returns how many messages were new.
    pub async fn enqueue_for(&self, event: &Event) -> Result<usize, String> {
        if !self.active() {
            return Ok(0);
        }
        let mut messages = Vec::new();
        if let Some(n) = notification::notification(&self.service, event).await {
            let reply = self.notification_reply(&n).await;
            // Quiet hours count from when it is said, not when it happened.
            let held = n.held_until(self.service.config(), self.service.now());
            for c in self.team_channels(n.team.as_deref()).await {
                let mut m = self.message(format!("{}:{}", n.kind, n.event), &c, None, &reply, event.occurred_at);
                m.not_before = held;
                messages.push(m);
            }
        }
        let data = event.data().ok();
        let run_id = data.as_ref().and_then(EventData::run).map(|r| r.to_string());
        let operation = data.as_ref().and_then(EventData::operation);
        if let Some(run) = run_id.as_deref() {
            let channels = self.approval_channels(event).await;
            let parent = |c: &ChatChannel| format!("approval:{run}:{}:{}", c.platform.as_str(), c.id);
            match event.kind {
                EventKind::RunRequested => {
                    let summary = match &data {
                        Some(EventData::RunRequested(r)) => r.summary.as_str(),
                        _ => "an automation",
                    };
                    let reply = self.approval_reply(event, run, summary).await;
                    for c in &channels {
                        messages.push(self.message(format!("approval:{run}"), c, None, &reply, event.occurred_at));
                    }
                }
                kind if RUN_KINDS.contains(&kind) => {
                    // In the request's thread; a decision or an outcome also edits the
                    // request itself (its buttons gone).
                    let reply = thread::progress_reply(event, data.as_ref());
                    // An approval that waits for more, and a freeze's hold,
                    // leave the request (and its buttons) as it is.
                    let edits = !matches!(
                        kind,
                        EventKind::RunStarted
                            | EventKind::RunStepFinished
                            | EventKind::RunApprovalAdded
                            | EventKind::RunHeld
                            | EventKind::RunBlocked
                    );
                    let decided = if edits { Some(self.decided_reply(event, run, operation).await) } else { None };
                    for c in &channels {
                        let about = format!("run:{run}:{}", event.id);
                        messages.push(self.message(about.clone(), c, Some(parent(c)), &reply, event.occurred_at));
                        if let Some(decided) = &decided {
                            let mut edit =
                                self.message(format!("{about}:edit"), c, Some(parent(c)), decided, event.occurred_at);
                            edit.edit = true;
                            messages.push(edit);
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some(run) = run_id.as_deref()
            && operation == Some(OpKind::UpgradeDependency)
        {
            messages.extend(self.campaign_messages(event, run).await);
        }
        if let Some(EventData::RunSucceeded(done)) = &data
            && done.operation == OpKind::ScaffoldProject
        {
            messages.extend(self.scaffold_announcement(done.run, event.occurred_at).await);
        }
        if event.kind == EventKind::DeploymentRecorded
            && let Some((run, reply)) = thread::deployment_of_a_run(event, &self.service.config().texts)
        {
            for c in &self.approval_channels(event).await {
                let parent = format!("approval:{run}:{}:{}", c.platform.as_str(), c.id);
                let about = format!("run:{run}:deployment:{}", event.id);
                messages.push(self.message(about, c, Some(parent), &reply, event.occurred_at));
            }
        }
        let mut new = 0;
        for m in &messages {
            if self.outbox.enqueue(m).await.map_err(|e| e.to_string())? {
                new += 1;
            }
        }
        if new > 0 {
            self.wake.notify_one();
        }
        Ok(new)
    }

    fn message(
        &self,
        about: String,
        c: &ChatChannel,
        reply_to: Option<String>,
        reply: &Reply,
        at: Millis,
    ) -> NewMessage {
        NewMessage {
            key: format!("{about}:{}:{}", c.platform.as_str(), c.id),
            platform: c.platform,
            channel: c.id.clone(),
            reply_to,
            edit: false,
            body: serde_json::to_string(reply).expect("replies serialize"),
            created_at: at,
            not_before: None,
        }
    }

    fn can_post(&self, platform: ChatPlatform) -> bool {
        self.apis.has(platform)
    }

    /// The team's channels on the platforms this server can post to.
    async fn team_channels(&self, team: Option<&str>) -> Vec<ChatChannel> {
        let Some(slug) = team.and_then(|t| t.parse().ok()) else { return Vec::new() };
        match self.service.graph().get_team(&slug).await {
            Ok(Some(t)) => t.channels.into_iter().filter(|c| self.can_post(c.platform)).collect(),
            Ok(None) => Vec::new(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot look up a team's chat channels");
                Vec::new()
            }
        }
    }

    /// An upgrade campaign's summary in its request's thread: posted when
    /// the run ends, then edited as its pull requests merge, close or finish
    /// their checks (webhooks).
    async fn campaign_messages(&self, event: &Event, run: &str) -> Vec<NewMessage> {
        let Ok(id) = run.parse() else { return Vec::new() };
        let ends = matches!(event.kind, EventKind::RunSucceeded | EventKind::RunFailed | EventKind::RunCancelled);
        let later = event.kind == EventKind::CampaignUpdated && event.source == "github";
        if !ends && !later {
            return Vec::new();
        }
        let stored = self.service.graph().get_run(&id).await.ok().flatten();
        let Some(stored) = stored.filter(|r| r.status.is_final()) else { return Vec::new() };
        let Ok(summary) = self.service.campaign_summary(&id).await else { return Vec::new() };
        let reply = campaign_reply(&summary, &format!("{}/runs/{run}", self.service.config().server.base_url()));
        let mut out = Vec::new();
        for c in &self.channels_for(stored.project.as_ref()).await {
            let summary_key = format!("campaign:{run}");
            if ends {
                let parent = format!("approval:{run}:{}:{}", c.platform.as_str(), c.id);
                out.push(self.message(summary_key, c, Some(parent), &reply, event.occurred_at));
            } else {
                let parent = format!("{summary_key}:{}:{}", c.platform.as_str(), c.id);
                let mut edit = self.message(
                    format!("{summary_key}:{}:edit", event.id),
                    c,
                    Some(parent),
                    &reply,
                    event.occurred_at,
                );
                edit.edit = true;
                out.push(edit);
            }
        }
        out
    }

    /// A project created from a template, announced in its team's channels.
    async fn scaffold_announcement(&self, id: RunId, at: Millis) -> Vec<NewMessage> {
        let Ok(Some(run)) = self.service.graph().get_run(&id).await else { return Vec::new() };
        let Ok(RunRequest::ScaffoldProject(a)) = run.request() else { return Vec::new() };
        let (name, team) = (a.name.as_str(), a.team.as_str());
        let project = self.service.graph().get_project(&a.name).await.ok().flatten();
        let repo = project.as_ref().and_then(|p| p.external_ids.github_repository.clone());
        let said =
            messages::project_scaffolded(name, a.project_type.as_str(), a.template.as_str(), run.requested_by.as_str());
        let base_url = self.service.config().server.base_url();
        let mut reply = Reply::text(said);
        if let Some(repo) = repo {
            reply = reply.fields(vec![("Repository".to_owned(), repo)]);
        }
        let reply = reply.link("Open in portal", format!("{base_url}/projects/{name}"));
        let mut out = Vec::new();
        for c in self.team_channels(Some(team)).await {
            out.push(self.message(format!("scaffold:{id}"), &c, None, &reply, at));
        }
        out
    }

    /// The owning team's channels and the configured approvals channels.
    async fn approval_channels(&self, event: &Event) -> Vec<ChatChannel> {
        self.channels_for(event.project.as_ref()).await
    }

    /// The channels of `project`'s team (if any) and the approvals channels.
    async fn channels_for(&self, project: Option<&switchboard_core::ids::ProjectSlug>) -> Vec<ChatChannel> {
        let team = match project {
            Some(p) => self.service.graph().get_project(p).await.ok().flatten().map(|p| p.team.to_string()),
            None => None,
        };
        let mut channels = self.team_channels(team.as_deref()).await;
        let config = self.service.config();
        let extra = [
            (ChatPlatform::Slack, config.slack.approvals_channel.clone()),
            (ChatPlatform::Discord, config.discord.approvals_channel.clone()),
        ];
        for (platform, id) in extra {
            if let Some(id) = id
                && self.can_post(platform)
                && !channels.iter().any(|c| c.platform == platform && c.id == id)
            {
                channels.push(ChatChannel { platform, id, name: None });
            }
        }
        channels
    }

    /// A notification with what an on-call engineer looks at first: the
    /// project's score, its latest deployments and merged changes.
    async fn notification_reply(&self, n: &Notification) -> Reply {
        let mut fields = vec![("Project".to_owned(), n.project.clone())];
        if let Some(t) = &n.team {
            fields.push(("Team".into(), t.clone()));
        }
        let slug = n.project.parse().ok();
        if let Some(slug) = &slug
            && let Ok(Some(p)) = self.service.graph().get_project(slug).await
        {
            fields.push(("Score".into(), p.score.to_string()));
        }
        fields.push(("When".into(), format_ms(n.at)));
        let mut reply = Reply::text(n.title.clone()).fields(fields);
        if let Some(advisory) = &n.advisory {
            reply = reply.buttons(vec![crate::security::fix_button(advisory)]);
        }
        let context = matches!(n.kind, "incident_triggered" | "deployment_failed" | "build_anomaly");
        if context && let Some(slug) = slug {
            let q = DeploymentQuery { project: Some(slug.clone()), limit: 3, ..Default::default() };
            let deployments = self.service.graph().list_deployments(&q).await.unwrap_or_default();
            let rows = deployments
                .iter()
                .map(|d| {
                    vec![
                        d.version.clone(),
                        d.environment.to_string(),
                        d.status.as_str().to_owned(),
                        format_ms(d.started_at),
                    ]
                })
                .collect();
            reply = reply.table(&["deployed", "to", "status", "at"], rows);
            let q = EventQuery {
                project: Some(slug),
                kinds: vec![EventKind::ChangeMerged],
                limit: 3,
                ..Default::default()
            };
            let changes = self.service.log().query(&q).await.unwrap_or_default();
            let rows = changes
                .iter()
                .filter_map(|e| match e.data() {
                    Ok(EventData::ChangeMerged(m)) => {
                        Some(vec![m.change.title, m.change.author.unwrap_or_default(), format_ms(e.occurred_at)])
                    }
                    _ => None,
                })
                .collect();
            reply = reply.table(&["merged", "by", "at"], rows);
            reply = reply.buttons(vec![Button {
                label: "Investigate".into(),
                action: format!("investigate:{}", n.project),
                style: ButtonStyle::Primary,
            }]);
        }
        reply.link("Open in portal", n.url.clone())
    }

    /// The request, then the run's card (with Approve / Deny while it is pending).
    async fn approval_reply(&self, event: &Event, run: &str, summary: &str) -> Reply {
        let config = self.service.config();
        let base_url = config.server.base_url();
        let stored = match run.parse() {
            Ok(id) => self.service.graph().get_run(&id).await.ok().flatten(),
            Err(_) => None,
        };
        let about = serde_json::json!({
            "id": run,
            "operation": stored.as_ref().map(|r| r.operation.name()),
            "project": stored.as_ref().and_then(|r| r.project.as_ref()).map(|p| p.as_str()),
        });
        let context = serde_json::json!({
            "requested_by": event.actor, "summary": summary, "role": Role::Approver.as_str(), "run": about,
        });
        let asked = Reply::text(config.texts.render("approval_request.txt", &context));
        match stored {
            Some(run) => {
                Reply { blocks: asked.blocks.into_iter().chain(answer::run_card(&run, &base_url).blocks).collect() }
            }
            None => asked.link("Open the run", format!("{base_url}/runs/{run}")),
        }
    }

    /// The approval request as it reads once decided: what, how it ended, by whom.
    async fn decided_reply(&self, event: &Event, run: &str, operation: Option<OpKind>) -> Reply {
        let summary = match run.parse() {
            Ok(id) => self.service.graph().get_run(&id).await.ok().flatten().map(|r| r.summary),
            Err(_) => None,
        };
        let summary = summary.unwrap_or_else(|| operation.map_or("the run", OpKind::name).to_owned());
        let status = match event.kind {
            EventKind::RunApproved => "approved",
            EventKind::RunDenied => "denied",
            EventKind::RunSucceeded => "succeeded",
            EventKind::RunFailed => "failed",
            EventKind::RunCancelled => "cancelled",
            _ => "expired",
        };
        let by = match event.kind {
            EventKind::RunExpired => Some("nobody in time"),
            EventKind::RunSucceeded | EventKind::RunFailed => None,
            _ => Some(event.actor.as_str()),
        };
        let context = serde_json::json!({"summary": summary, "status": status, "by": by});
        let text = self.service.config().texts.render("run_outcome.txt", &context);
        Reply::text(text).link("Open the run", format!("{}/runs/{run}", self.service.config().server.base_url()))
    }
}

/// A campaign's counts, the repositories that need someone (conflicts,
/// failures, failing checks) and the skipped ones with why.
fn campaign_reply(summary: &Campaign, url: &str) -> Reply {
    use switchboard_core::campaign::ItemState::*;
    let mut reply = Reply::text(format!("Campaign: {}.", summary.counts_line()));
    let attention: Vec<Vec<String>> = summary
        .items
        .iter()
        .filter(|i| matches!(i.state, Conflict | Failed | ChecksFailing | Skipped))
        .take(15)
        .map(|i| {
            let what = if i.repository.is_empty() {
                i.project.as_ref().map(|p| p.to_string()).unwrap_or_default()
            } else {
                i.repository.clone()
            };
            let pull = i.number.map(|n| format!("#{n}")).unwrap_or_default();
            vec![what, i.state.as_str().to_owned(), pull, i.reason.clone().unwrap_or_default()]
        })
        .collect();
    if !attention.is_empty() {
        reply = reply.table(&["repository", "state", "pull request", "why"], attention);
    }
    reply.link("Open the campaign", url.to_owned())
}
