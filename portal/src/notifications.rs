//! `/notifications`: what owning teams are told, newest first (rebuilt from
//! the operations log), and `/notifications/stream`, server-sent events
//! with each new one as it happens (`notification`, an `<li>` of HTML).

use std::convert::Infallible;
use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use switchboard_core::follow::LogFollower;
use switchboard_core::ids::TeamSlug;
use switchboard_core::notification::{self, Notification};
use switchboard_core::time::format_ms;
use switchboard_core::{Error, Service};
use tokio::sync::broadcast;
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
            "deployment_succeeded" => "deployed",
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

/// How often the live feed reads the log for other processes' events.
const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_secs(2);
/// Notifications a slow page may fall behind by before it skips some.
const FEED_BUFFER: usize = 256;

/// This process's live notifications: one follower of the bus (at once) and
/// the log (every two seconds, for workers, the CLI and other replicas),
/// started by the first page that listens, each notification made once and
/// sent to every open page.
#[derive(Clone, Default)]
pub(crate) struct LiveFeed(Arc<std::sync::OnceLock<broadcast::Sender<Arc<Notification>>>>);

impl LiveFeed {
    fn subscribe(&self, service: &Service) -> broadcast::Receiver<Arc<Notification>> {
        self.0
            .get_or_init(|| {
                let (tx, _) = broadcast::channel(FEED_BUFFER);
                // Listening from now, before the task first runs.
                let bus = service.bus().subscribe();
                let log = LogFollower::from_now(service, notification::SOURCE_KINDS.to_vec());
                tokio::spawn(follow(service.clone(), bus, log, tx.clone()));
                tx
            })
            .subscribe()
    }
}

/// Feeds `tx` until the process ends.
async fn follow(
    service: Service,
    mut bus: broadcast::Receiver<Arc<switchboard_core::event::Event>>,
    mut log: LogFollower,
    tx: broadcast::Sender<Arc<Notification>>,
) {
    loop {
        let events = tokio::select! {
            received = bus.recv() => match received {
                Ok(e) => vec![(*e).clone()],
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "live notifications missed bus events; the log has them");
                    continue;
                }
                Err(RecvError::Closed) => return,
            },
            _ = tokio::time::sleep(FOLLOW_EVERY) => match log.unhandled(&service).await {
                Ok(events) => {
                    let _ = log.advance(&service, &events).await;
                    events
                }
                Err(e) => {
                    tracing::warn!(error = %e, "live notifications cannot read the log");
                    continue;
                }
            },
        };
        for e in events {
            if log.handled(e.id) {
                continue;
            }
            log.remember(e.id);
            if let Some(n) = notification::notification(&service, &e).await {
                // Nobody listening is fine: the next page starts from now.
                let _ = tx.send(Arc::new(n));
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
    let feed = state.live.subscribe(&state.service);
    let updates = futures_util::stream::unfold((feed, team), |(mut feed, team)| async move {
        loop {
            let n = match feed.recv().await {
                Ok(n) => n,
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "a live notifications page fell behind and skipped some");
                    continue;
                }
                Err(RecvError::Closed) => return None,
            };
            if team.as_ref().is_some_and(|t| n.team.as_ref() != Some(t)) {
                continue;
            }
            let html = render_html(&ItemHtml { n: &Item::from(n.as_ref()) });
            let sse = Event::default().event("notification").id(n.event.clone()).data(html);
            return Some((Ok::<_, Infallible>(sse), (feed, team)));
        }
    });
    Ok(Sse::new(updates).keep_alive(KeepAlive::default()).into_response())
}
