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
use switchboard_core::ops::Operation;
use switchboard_core::ops::inputs::{ListDeliveries, ListMessages, ReplayDelivery, RetryMessage};
use switchboard_core::ops::output::Output;
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
    /// `webhooks.retention_days`: how long processed deliveries stay (0: always).
    retention_days: u32,
}

#[derive(Deserialize)]
struct Filter {
    status: Option<String>,
}

/// The states that hold something, in their order (`statuses`).
fn nonzero(
    counts: &std::collections::BTreeMap<&'static str, u64>,
    statuses: impl IntoIterator<Item = &'static str>,
) -> Vec<(&'static str, u64)> {
    statuses.into_iter().filter_map(|s| counts.get(s).filter(|n| **n > 0).map(|n| (s, *n))).collect()
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
    // The page shows what the operations return: the same role (editor)
    // and the same rows as the API, MCP and chat.
    let listed =
        state.service.execute(&caller, Operation::ListDeliveries(ListDeliveries { status: wanted, limit: Some(200) }));
    let (available, counts, deliveries) = match listed.await {
        Ok(Output::Deliveries(list)) => {
            let rows = list
                .deliveries
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
            (true, nonzero(&list.counts, DeliveryStatus::ALL.map(DeliveryStatus::as_str)), rows)
        }
        // A process without an inbox says so on the page.
        Ok(_) | Err(Error::Conflict { .. }) => (false, Vec::new(), Vec::new()),
        Err(e) => return Err(PageError(e)),
    };
    let listed =
        state.service.execute(&caller, Operation::ListMessages(ListMessages { status: None, limit: Some(50) }));
    let (outbox, message_counts, messages) = match listed.await {
        Ok(Output::Messages(list)) => {
            let rows = list
                .messages
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
            (true, nonzero(&list.counts, MessageStatus::ALL.map(MessageStatus::as_str)), rows)
        }
        Ok(_) | Err(Error::Conflict { .. }) => (false, Vec::new(), Vec::new()),
        Err(e) => return Err(PageError(e)),
    };
    let page = InboxPage {
        banner: banner(&state.mode, &caller),
        csrf,
        available,
        status: status.unwrap_or_default(),
        counts,
        deliveries,
        outbox,
        message_counts,
        messages,
        retention_days: state.service.config().webhooks.retention_days,
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
    let replay = Operation::ReplayDelivery(ReplayDelivery { delivery: id });
    state.service.execute(&caller, replay).await?;
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
    state.service.execute(&caller, Operation::RetryMessage(RetryMessage { message: id })).await?;
    Ok(Redirect::to("/inbox#outbox").into_response())
}
