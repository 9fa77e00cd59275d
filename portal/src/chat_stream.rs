//! Streaming web chat answers. Posting a message with `stream=1` starts the
//! turn in the background and returns at once with a placeholder that names
//! a stream; the page's script opens it as server-sent events: `tool`
//! (an operation is being called), `delta` (words of the answer), and one
//! `reply` event carrying the finished reply as HTML, which replaces the
//! placeholder. The turn completes and is stored even if nobody listens.
//!
//! Behind several replicas the stream may be opened on another one than
//! the one writing the reply: the turn is announced in the store when it
//! starts and its reply kept there when done, so that replica sends the
//! `reply` event when it is ready (without the words as they came).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use askama::Template;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use switchboard_agents::llm::Progress;
use switchboard_bot::Reply;
use switchboard_core::service::chat_replies::ChatReply;
use switchboard_core::{Caller, Error};
use tokio::sync::mpsc;

use crate::error::PageError;
use crate::{PageCaller, PortalState};

/// A stream nobody opened within this time is dropped (its turn is stored anyway).
const UNCLAIMED: Duration = Duration::from_secs(300);

pub(crate) enum Update {
    Progress(Progress),
    /// The finished reply as HTML.
    Reply(String),
}

struct Pending {
    user: String,
    updates: mpsc::UnboundedReceiver<Update>,
    created: Instant,
}

/// Streams started and not yet opened, by id.
#[derive(Clone, Default)]
pub(crate) struct Streams(Arc<Mutex<HashMap<String, Pending>>>);

impl Streams {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Starts `text` as a turn in the background, announced in the store first
/// (so any replica knows the stream); returns the stream's URL.
pub(crate) async fn start(
    state: &PortalState,
    caller: Caller,
    thread: String,
    text: String,
    render: impl FnOnce(&Reply) -> String + Send + 'static,
) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (tx, rx) = mpsc::unbounded_channel();
    {
        let mut streams = state.streams.lock();
        streams.retain(|_, p| p.created.elapsed() < UNCLAIMED);
        streams.insert(id.clone(), Pending { user: caller.user.to_string(), updates: rx, created: Instant::now() });
    }
    let conversation = state.conversation.clone();
    let service = state.service.clone();
    let stream = id.clone();
    let mut kept = ChatReply { user: caller.user.clone(), html: None };
    if let Err(e) = service.keep_chat_reply(&stream, &kept).await {
        tracing::warn!(error = %e, "cannot announce a chat stream to the other replicas");
    }
    tokio::spawn(async move {
        let progress = |p: Progress| {
            let _ = tx.send(Update::Progress(p));
        };
        let turn = conversation.handle_streaming(&caller, &thread, &text, &progress).await;
        let html = render(&turn.reply);
        // Kept before it is sent here: whoever delivers it takes it, once.
        kept.html = Some(html.clone());
        if let Err(e) = service.keep_chat_reply(&stream, &kept).await {
            tracing::warn!(error = %e, "cannot keep a chat reply for the other replicas");
        }
        let _ = tx.send(Update::Reply(html));
    });
    format!("/chat/stream/{id}")
}

/// `GET /chat/stream/{id}`: only the person who asked can open it, once.
pub(crate) async fn open(
    State(state): State<PortalState>,
    PageCaller(caller): PageCaller,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let pending = {
        let mut streams = state.streams.lock();
        match streams.get(&id) {
            Some(p) if p.user == caller.user.as_str() => streams.remove(&id),
            _ => None,
        }
    };
    let Some(pending) = pending else {
        return elsewhere(&state, &caller, id).await;
    };
    let (service, user) = (state.service.clone(), caller.user.clone());
    let events = futures_util::stream::unfold(pending.updates, move |mut rx| {
        let (service, user, id) = (service.clone(), user.clone(), id.clone());
        async move {
            let event = match rx.recv().await? {
                Update::Progress(Progress::Text(t)) => Event::default().event("delta").data(t),
                Update::Progress(Progress::Tool(op)) => Event::default().event("tool").data(op.name()),
                Update::Reply(html) => {
                    // Delivered here: no other replica delivers it again.
                    if let Err(e) = service.take_chat_reply(&id, &user).await {
                        tracing::warn!(error = %e, "cannot take a delivered chat reply from the store");
                    }
                    Event::default().event("reply").data(html)
                }
            };
            Some((Ok::<_, Infallible>(event), rx))
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()).into_response())
}

/// How often a stream another replica writes is looked for in the store.
const LOOK_EVERY: Duration = Duration::from_millis(500);

/// A stream this process did not start: another replica is writing it.
/// Its reply is sent when the store has it; an unknown stream, or someone
/// else's, is not found.
async fn elsewhere(state: &PortalState, caller: &Caller, id: String) -> Result<Response, PageError> {
    let service = state.service.clone();
    let user = caller.user.clone();
    if service.chat_reply(&id, &user).await?.is_none() {
        return Err(PageError(Error::not_found("chat stream", &id)));
    }
    let started = Instant::now();
    let events = futures_util::stream::unfold(Some(()), move |going| {
        let (service, user, id) = (service.clone(), user.clone(), id.clone());
        async move {
            going?;
            loop {
                match service.chat_reply(&id, &user).await {
                    Ok(Some(ChatReply { html: Some(_), .. })) => {
                        // Finished: taken here, or by someone else first.
                        let html = service.take_chat_reply(&id, &user).await.ok().flatten()?;
                        return Some((Ok::<_, Infallible>(Event::default().event("reply").data(html)), None));
                    }
                    Ok(Some(_)) if started.elapsed() < UNCLAIMED => tokio::time::sleep(LOOK_EVERY).await,
                    Ok(_) => return None,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read a chat reply another replica keeps");
                        return None;
                    }
                }
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()).into_response())
}

/// Renders a template to a string for an SSE event, or says what went wrong.
pub(crate) fn render_html(t: &impl Template) -> String {
    t.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot render a chat reply");
        "<div class=\"reply\"><p class=\"reply-text\">The answer could not be shown; reload the page.</p></div>".into()
    })
}
