//! The webhook inbox in the portal: deliveries by status, why each failed
//! or was not mapped, and a Replay button for dead letters and unmapped
//! deliveries (editors and up; CSRF-checked). Below it, the chat outbox:
//! what was sent to Slack and Discord, what waits, what failed and why, with
//! Retry for the dead.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use switchboard_core::Error;
use switchboard_core::inbox::DeliveryStatus;
use switchboard_core::outbox::MessageStatus;
use switchboard_core::time::format_ms;

use crate::error::PageError;
use crate::views::banner;
use crate::{PageCaller, PortalState};

pub(crate) fn routes() -> Router<PortalState> {
    Router::new()
        .route("/inbox", get(page))
        .route("/inbox/{id}/replay", post(replay))
        .route("/outbox/{id}/retry", post(retry))
}

pub(crate) struct DeliveryRow {
    pub id: i64,
    pub source: String,
    pub event: String,
    pub delivery_id: String,
    pub received: String,
    pub status: &'static str,
    pub attempts: u32,
    pub note: String,
    pub replayable: bool,
}

pub(crate) struct MessageRow {
    pub id: i64,
    pub key: String,
    pub platform: &'static str,
    pub channel: String,
    pub created: String,
    pub status: &'static str,
    pub attempts: u32,
    pub error: String,
    pub retryable: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "inbox.html")]
struct InboxPage {
    banner: Option<String>,
    csrf: String,
    available: bool,
    status: String,
    counts: Vec<(&'static str, u64)>,
    deliveries: Vec<DeliveryRow>,
    outbox: bool,
    message_counts: Vec<(&'static str, u64)>,
    messages: Vec<MessageRow>,
}

#[derive(Deserialize)]
struct Filter {
    status: Option<String>,
}

fn unavailable() -> PageError {
    PageError(Error::not_found("page", "/inbox"))
}

async fn page(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
    Query(f): Query<Filter>,
) -> Result<Response, PageError> {
    let (csrf, set_cookie) = crate::csrf::token(&headers, state.secure_cookies());
    let status = f.status.filter(|s| !s.is_empty());
    let wanted = match &status {
        Some(s) => Some(DeliveryStatus::parse(s).ok_or_else(|| {
            PageError(Error::field("status", format!("{s:?} is not one of pending, done, unmapped, dead")))
        })?),
        None => None,
    };
    let (available, counts, deliveries) = match &state.inbox {
        Some(inbox) => {
            let counts = inbox.inbox_counts().await.map_err(|e| PageError(Error::from(e)))?;
            let list = inbox.list_deliveries(wanted, 200).await.map_err(|e| PageError(Error::from(e)))?;
            let rows = list
                .into_iter()
                .map(|d| DeliveryRow {
                    id: d.id,
                    source: d.source,
                    event: d.event,
                    delivery_id: d.delivery_id,
                    received: format_ms(d.received_at),
                    status: d.status.as_str(),
                    attempts: d.attempts,
                    note: d.summary.or(d.last_error).unwrap_or_default(),
                    replayable: matches!(d.status, DeliveryStatus::Dead | DeliveryStatus::Unmapped),
                })
                .collect();
            (true, counts.into_iter().map(|(s, n)| (s.as_str(), n)).collect(), rows)
        }
        None => (false, Vec::new(), Vec::new()),
    };
    let (message_counts, messages) = match &state.outbox {
        Some(outbox) => {
            let counts = outbox.outbox_counts().await.map_err(|e| PageError(Error::from(e)))?;
            let list = outbox.list_messages(None, 50).await.map_err(|e| PageError(Error::from(e)))?;
            let rows = list
                .into_iter()
                .map(|m| MessageRow {
                    id: m.id,
                    key: m.key,
                    platform: m.platform.as_str(),
                    channel: m.channel,
                    created: format_ms(m.created_at),
                    status: m.status.as_str(),
                    attempts: m.attempts,
                    error: m.last_error.unwrap_or_default(),
                    retryable: m.status == MessageStatus::Dead,
                })
                .collect();
            (counts.into_iter().map(|(s, n)| (s.as_str(), n)).collect(), rows)
        }
        None => (Vec::new(), Vec::new()),
    };
    let page = InboxPage {
        banner: banner(&state.mode, &caller),
        csrf,
        available,
        status: status.unwrap_or_default(),
        counts,
        deliveries,
        outbox: state.outbox.is_some(),
        message_counts,
        messages,
    };
    Ok(crate::with_cookie(page.into_response(), set_cookie))
}

#[derive(Deserialize)]
struct ReplayForm {
    csrf: Option<String>,
}

async fn replay(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<ReplayForm>,
) -> Result<Response, PageError> {
    crate::csrf::require(&headers, form.csrf.as_deref())?;
    switchboard_core::policy::authorize_replay(&caller)?;
    let inbox = state.inbox.as_ref().ok_or_else(unavailable)?;
    let replayed = inbox.replay(id, state.service.now()).await.map_err(|e| PageError(Error::from(e)))?;
    if !replayed {
        return Err(PageError(Error::not_found("dead or unmapped delivery", id)));
    }
    tracing::info!(delivery = id, by = %caller.user, "webhook delivery replayed");
    Ok(Redirect::to("/inbox?status=pending").into_response())
}

/// Retry: a dead chat message is sent again (editors and up; CSRF-checked).
async fn retry(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    headers: HeaderMap,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<ReplayForm>,
) -> Result<Response, PageError> {
    crate::csrf::require(&headers, form.csrf.as_deref())?;
    switchboard_core::policy::authorize_replay(&caller)?;
    let outbox = state.outbox.as_ref().ok_or_else(|| PageError(Error::not_found("page", "/outbox")))?;
    if !outbox.retry_message(id, state.service.now()).await.map_err(|e| PageError(Error::from(e)))? {
        return Err(PageError(Error::not_found("dead chat message", id)));
    }
    tracing::info!(message = id, by = %caller.user, "chat message retried");
    Ok(Redirect::to("/inbox#outbox").into_response())
}
