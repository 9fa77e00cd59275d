//! `/notifications`: what owning teams are told, newest first (rebuilt from
//! the operations log), and `/notifications/stream`, server-sent events
//! with each new one as it happens (`notification`, an `<li>` of HTML).

use std::collections::VecDeque;
use std::convert::Infallible;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use switchboard_core::Error;
use switchboard_core::follow::LogFollower;
use switchboard_core::ids::TeamSlug;
use switchboard_core::notification::{self, Notification};
use switchboard_core::time::format_ms;
use tokio::sync::broadcast::error::RecvError;

use crate::chat_stream::render_html;
use crate::error::PageError;
use crate::views::banner;
use crate::{PageCaller, PortalState};

/// Notifications listed at most.
const SHOWN: usize = 100;

pub(crate) fn routes() -> Router<PortalState> {
    Router::new().route("/notifications", get(page)).route("/notifications/stream", get(stream))
}

pub(crate) struct Item {
    pub kind: &'static str,
    pub label: &'static str,
    pub project: String,
    pub team: String,
    pub title: String,
    pub when: String,
    /// The event it is about: a live list shows each once.
    pub event: String,
}

impl From<&Notification> for Item {
    fn from(n: &Notification) -> Self {
        let label = match n.kind {
            "incident_triggered" => "incident",
            "incident_resolved" => "resolved",
            "deployment_failed" => "deployment failed",
            "score_dropped" => "score dropped",
            "build_anomaly" => "slow build",
            _ => "notice",
        };
        Self {
            kind: n.kind,
            label,
            project: n.project.clone(),
            team: n.team.clone().unwrap_or_default(),
            title: n.title.clone(),
            when: format_ms(n.at),
            event: n.event.clone(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "notifications.html")]
struct Page {
    banner: Option<String>,
    team: String,
    stream: String,
    items: Vec<Item>,
}

#[derive(Template)]
#[template(path = "notification_item.html")]
struct ItemHtml<'a> {
    n: &'a Item,
}

#[derive(Deserialize)]
struct TeamFilter {
    team: Option<String>,
}

/// The team asked for, checked.
fn team(f: TeamFilter) -> Result<Option<TeamSlug>, PageError> {
    match f.team.filter(|t| !t.trim().is_empty()) {
        Some(t) => Ok(Some(
            t.trim()
                .parse()
                .map_err(|e: switchboard_core::ids::IdError| PageError(Error::field("team", e.to_string())))?,
        )),
        None => Ok(None),
    }
}

async fn page(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    Query(f): Query<TeamFilter>,
) -> Result<Page, PageError> {
    let team = team(f)?;
    let list = notification::recent(&state.service, team.as_ref().map(TeamSlug::as_str), SHOWN).await?;
    let stream = match &team {
        Some(t) => format!("/notifications/stream?team={t}"),
        None => "/notifications/stream".into(),
    };
    Ok(Page {
        banner: banner(&state.mode, &caller),
        team: team.map(|t| t.to_string()).unwrap_or_default(),
        stream,
        items: list.iter().map(Item::from).collect(),
    })
}

/// How often a live stream reads the log for other processes' events.
const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// Where a live stream is: this process's bus (at once), the log from a
/// cursor in memory (every two seconds, for workers, the CLI and other
/// replicas), events read and not yet sent, the event ids already sent.
struct Live {
    bus: tokio::sync::broadcast::Receiver<std::sync::Arc<switchboard_core::event::Event>>,
    log: LogFollower,
    waiting: VecDeque<switchboard_core::event::Event>,
    state: PortalState,
    team: Option<String>,
}

impl Live {
    /// The next event to consider, from the bus or the log.
    async fn next_event(&mut self) -> Option<switchboard_core::event::Event> {
        loop {
            if let Some(e) = self.waiting.pop_front() {
                if self.log.handled(e.id) {
                    continue;
                }
                self.log.remember(e.id);
                return Some(e);
            }
            tokio::select! {
                received = self.bus.recv() => match received {
                    Ok(e) => self.waiting.push_back((*e).clone()),
                    Err(RecvError::Lagged(missed)) => {
                        tracing::debug!(missed, "a live notifications stream missed bus events; the log has them");
                    }
                    Err(RecvError::Closed) => return None,
                },
                _ = tokio::time::sleep(FOLLOW_EVERY) => match self.log.unhandled(&self.state.service).await {
                    Ok(events) => {
                        let _ = self.log.advance(&self.state.service, &events).await;
                        self.waiting.extend(events);
                    }
                    Err(e) => tracing::warn!(error = %e, "a live notifications stream cannot read the log"),
                },
            }
        }
    }
}

async fn stream(
    State(state): State<PortalState>,
    PageCaller(_caller): PageCaller,
    Query(f): Query<TeamFilter>,
) -> Result<Response, PageError> {
    let team = team(f)?.map(|t| t.to_string());
    let live = Live {
        bus: state.service.bus().subscribe(),
        log: LogFollower::from_now(&state.service, notification::SOURCE_KINDS.to_vec()),
        waiting: VecDeque::new(),
        state,
        team,
    };
    let updates = futures_util::stream::unfold(live, |mut live| async move {
        loop {
            let event = live.next_event().await?;
            let Some(n) = notification::notification(&live.state.service, &event).await else { continue };
            if live.team.as_ref().is_some_and(|t| n.team.as_ref() != Some(t)) {
                continue;
            }
            let html = render_html(&ItemHtml { n: &Item::from(&n) });
            let sse = Event::default().event("notification").id(n.event.clone()).data(html);
            return Some((Ok::<_, Infallible>(sse), live));
        }
    });
    Ok(Sse::new(updates).keep_alive(KeepAlive::default()).into_response())
}
