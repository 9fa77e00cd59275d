//! Slack over HTTP: the Events API (`/slack/events`), the `/sb` slash
//! command (`/slack/commands`) and interactivity (`/slack/interactions`).
//! Every request is verified first (signature v0 over the raw body, with a
//! 5-minute window on `X-Slack-Request-Timestamp`); work that can take
//! longer than Slack's 3 seconds happens after the acknowledgement.

pub mod forms;
pub mod socket;
pub mod verify;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use switchboard_core::Caller;
use switchboard_core::limits::ClientAddr;
use switchboard_core::model::ChatPlatform;

pub use crate::clients::slack::{SlackApi, blocks};

use crate::chat::{ChatState, Refused};
use crate::{Reply, messages};

/// How long a slash command may work before it answers "working on it" and
/// posts the answer when done (Slack waits 3 s).
const COMMAND_BUDGET: std::time::Duration = std::time::Duration::from_millis(2500);

pub fn router(state: ChatState) -> Router {
    Router::new()
        .route("/slack/events", post(events))
        .route("/slack/commands", post(commands))
        .route("/slack/interactions", post(interactions))
        .layer(DefaultBodyLimit::max(1024 * 1024))
        .with_state(state)
}

fn refuse(status: StatusCode, code: &'static str, message: &str) -> Refused {
    Refused::new(status, code, message)
}

/// Checks the request came from Slack; the refusal to send otherwise. The
/// MAC over a large body is computed on the service's CPU pool.
async fn check(state: &ChatState, headers: &HeaderMap, body: &Bytes) -> Result<(), Refused> {
    let Some(secret) = state.service.config().slack.signing_secret.clone() else {
        return Err(refuse(StatusCode::SERVICE_UNAVAILABLE, "not_configured", messages::slack_not_configured()));
    };
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (timestamp, signature) = (header("x-slack-request-timestamp"), header("x-slack-signature"));
    let now = state.service.now() / 1000;
    let verified = if body.len() <= 64 * 1024 {
        verify::verify(&secret, timestamp.as_deref(), signature.as_deref(), body, now)
    } else {
        let body = body.clone();
        let job = move || verify::verify(&secret, timestamp.as_deref(), signature.as_deref(), &body, now);
        match state.service.cpu().run(job).await {
            Ok(checked) => checked,
            // Slack sends the request again after a 503.
            Err(_) => return Err(refuse(StatusCode::SERVICE_UNAVAILABLE, "busy", messages::busy())),
        }
    };
    verified.map_err(|e| refuse(StatusCode::UNAUTHORIZED, "bad_signature", &e.to_string()))
}

/// Who a Slack user is: linked, or by the email Slack verified, or unknown.
/// Slack is asked for the email only for people not linked yet, and at most
/// once in [`crate::chat::EMAIL_TTL`] per person.
pub(crate) async fn caller(state: &ChatState, user: &str) -> Caller {
    let unknown = || Caller::new("slack-someone", state.service.config().chat.unknown_role, "slack");
    match state.service.linked_caller(ChatPlatform::Slack, user).await {
        Ok(Some(c)) => return c,
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(error = %e, "cannot resolve a Slack user; treating them as unknown");
            return unknown();
        }
    }
    let email = match (&state.slack, state.cached_email(user)) {
        (_, Some(cached)) => cached,
        (Some(api), None) => match api.email(user).await {
            Ok(e) => {
                state.remember_email(user, e.clone());
                e
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot look up a Slack user's email");
                None
            }
        },
        (None, None) => None,
    };
    match state.service.chat_caller(ChatPlatform::Slack, user, email.as_deref()).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "cannot resolve a Slack user; treating them as unknown");
            unknown()
        }
    }
}

/// Mentions of the bot (`<@U123>`) are not part of the question.
fn strip_mentions(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<@") {
        out.push_str(&rest[..start]);
        match rest[start..].find('>') {
            Some(end) => rest = &rest[start + end + 1..],
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn events(
    State(state): State<ChatState>,
    address: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = check(&state, &headers, &body).await {
        return state.count_refusal(address.map(|a| a.0), r).into_response();
    }
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "malformed_json", "the body is not JSON").into_response();
    };
    match v["type"].as_str() {
        Some("url_verification") => Json(json!({"challenge": v["challenge"]})).into_response(),
        Some("event_callback") => {
            event_callback(&state, &v);
            StatusCode::OK.into_response()
        }
        _ => StatusCode::OK.into_response(),
    }
}

/// An Events API callback (over HTTP or Socket Mode): handled once, after
/// the acknowledgement.
pub(crate) fn event_callback(state: &ChatState, v: &Value) {
    let id = v["event_id"].as_str().unwrap_or_default().to_owned();
    if id.is_empty() || state.first_time(&format!("slack-event:{id}")) {
        let (state, e) = (state.clone(), v["event"].clone());
        tokio::spawn(async move { on_event(state, e).await });
    }
}

/// A mention or a direct message: one conversation turn, answered in its thread.
async fn on_event(state: ChatState, e: Value) {
    let kind = e["type"].as_str().unwrap_or_default();
    let direct = kind == "message" && e["channel_type"] == "im" && e["subtype"].is_null() && e["bot_id"].is_null();
    if kind != "app_mention" && !direct {
        return;
    }
    let (Some(user), Some(channel), Some(ts)) = (e["user"].as_str(), e["channel"].as_str(), e["ts"].as_str()) else {
        return;
    };
    let thread_ts = e["thread_ts"].as_str().unwrap_or(ts);
    let text = strip_mentions(e["text"].as_str().unwrap_or_default());
    let caller = caller(&state, user).await;
    let reply = if text.eq_ignore_ascii_case("link") {
        state.link_reply(ChatPlatform::Slack, user).await
    } else {
        let thread = format!("slack:{channel}:{thread_ts}");
        state.conversation.handle(&caller, &thread, &text).await.reply
    };
    let key = format!("slack:message:{channel}:{ts}");
    state.send(key, ChatPlatform::Slack, channel, &reply, |m| m.in_thread_of_remote(thread_ts)).await;
}

#[derive(serde::Deserialize)]
pub(crate) struct Command {
    user_id: String,
    channel_id: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    trigger_id: Option<String>,
}

async fn commands(
    State(state): State<ChatState>,
    address: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = check(&state, &headers, &body).await {
        return state.count_refusal(address.map(|a| a.0), r).into_response();
    }
    let Ok(cmd) = serde_urlencoded::from_bytes::<Command>(&body) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "malformed_form",
            "expected Slack's slash command form (user_id, channel_id, text)",
        )
        .into_response();
    };
    Json(command_answer(&state, cmd).await).into_response()
}

/// The answer to `/sb …` (over HTTP or Socket Mode): at once when it is
/// quick, else "working on it" now and the answer posted when ready.
pub(crate) async fn command_answer(state: &ChatState, cmd: Command) -> Value {
    let text = cmd.text.trim().to_owned();
    if text.eq_ignore_ascii_case("link") {
        return slash_answer(&state.link_reply(ChatPlatform::Slack, &cmd.user_id).await, true);
    }
    if forms::opens_form(&text) {
        let opened = match (&state.slack, &cmd.trigger_id) {
            (Some(api), Some(trigger)) => match forms::scaffold_view(state, &cmd.channel_id).await {
                Ok(view) => api.open_view(trigger, view).await.map_err(|e| e.message),
                Err(e) => Err(e),
            },
            _ => Err(messages::forms_need_token().to_owned()),
        };
        let said = match opened {
            Ok(()) => messages::form_opened().to_owned(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot open a Slack form");
                e
            }
        };
        return slash_answer(&Reply::text(said), true);
    }
    let text = if text.is_empty() { "help".to_owned() } else { text };
    let caller = caller(state, &cmd.user_id).await;
    let thread = format!("slack:{}:command:{}", cmd.channel_id, cmd.user_id);
    let mut work = {
        let (state, caller) = (state.clone(), caller.clone());
        tokio::spawn(async move { state.conversation.handle(&caller, &thread, &text).await })
    };
    match tokio::time::timeout(COMMAND_BUDGET, &mut work).await {
        Ok(Ok(turn)) => slash_answer(&turn.reply, false),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "a slash command failed");
            slash_answer(&Reply::text(messages::internal_error()), true)
        }
        Err(_) => {
            // Slow (a language model): acknowledge now, post the answer when done.
            let (channel, state) = (cmd.channel_id.clone(), state.clone());
            let key = match &cmd.trigger_id {
                Some(t) => format!("slack:command:{t}"),
                None => format!("slack:command:{}", uuid::Uuid::new_v4().simple()),
            };
            tokio::spawn(async move {
                let Ok(turn) = work.await else { return };
                state.send(key, ChatPlatform::Slack, &channel, &turn.reply, |m| m).await;
            });
            slash_answer(&Reply::text(messages::working()), true)
        }
    }
}

fn slash_answer(reply: &Reply, ephemeral: bool) -> Value {
    json!({
        "response_type": if ephemeral { "ephemeral" } else { "in_channel" },
        "text": blocks::fallback_text(reply),
        "blocks": blocks::blocks_json(reply),
    })
}

#[derive(serde::Deserialize)]
struct Interaction {
    payload: String,
}

async fn interactions(
    State(state): State<ChatState>,
    address: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = check(&state, &headers, &body).await {
        return state.count_refusal(address.map(|a| a.0), r).into_response();
    }
    let payload = serde_urlencoded::from_bytes::<Interaction>(&body)
        .ok()
        .and_then(|i| serde_json::from_str::<Value>(&i.payload).ok());
    let Some(p) = payload else {
        return refuse(StatusCode::BAD_REQUEST, "malformed_form", "expected payload=<JSON> as Slack sends it")
            .into_response();
    };
    match interaction(&state, p).await {
        Some(answer) => Json(answer).into_response(),
        None => StatusCode::OK.into_response(),
    }
}

/// An interaction payload (over HTTP or Socket Mode); `Some` when the
/// acknowledgement carries an answer.
pub(crate) async fn interaction(state: &ChatState, p: Value) -> Option<Value> {
    match p["type"].as_str() {
        Some("block_actions") => {
            let id = format!(
                "slack-action:{}:{}",
                p["trigger_id"].as_str().unwrap_or_default(),
                p["actions"][0]["action_ts"].as_str().unwrap_or_default()
            );
            if state.first_time(&id) {
                let state = state.clone();
                tokio::spawn(async move { on_action(state, p).await });
            }
            None
        }
        Some("view_submission") => Some(forms::submit(state, &p).await),
        _ => None,
    }
}

/// A button: the decision through core's policy as the clicking person; the
/// message updated when it worked, a message only they see when not.
async fn on_action(state: ChatState, p: Value) {
    let Some(action) = p["actions"][0]["action_id"].as_str().map(str::to_owned) else { return };
    if action.starts_with("link:") {
        return; // a link button: Slack opened the URL
    }
    let Some(user) = p["user"]["id"].as_str() else { return };
    let channel = p["channel"]["id"].as_str().or(p["container"]["channel_id"].as_str()).map(str::to_owned);
    let ts = p["message"]["ts"].as_str().or(p["container"]["message_ts"].as_str()).map(str::to_owned);
    let caller = caller(&state, user).await;
    // One answer per click, whichever replica Slack's retry reaches.
    let key = match p["actions"][0]["action_ts"].as_str().filter(|t| !t.is_empty()) {
        Some(ts) => format!("slack:action:{ts}:{user}"),
        None => format!("slack:action:{}", uuid::Uuid::new_v4().simple()),
    };
    if let Some(question) = crate::answer::investigate_question(&action) {
        // Investigate on a notification: the answer goes in the notification's thread, for everyone.
        let (Some(channel), Some(ts)) = (channel, ts) else { return };
        let thread = format!("slack:{channel}:{ts}");
        let turn = state.conversation.handle(&caller, &thread, &question).await;
        state.send(key, ChatPlatform::Slack, &channel, &turn.reply, |m| m.in_thread_of_remote(&ts)).await;
        return;
    }
    let turn = state.conversation.click(&caller, &action).await;
    let Some(channel) = channel else {
        tracing::warn!("a Slack button was clicked in no channel; there is nowhere to answer");
        return;
    };
    // A button on a message only the clicker saw (confirm a production
    // approval, say why a denial): Slack cannot edit it, so what was
    // decided goes to the channel for everyone.
    let from_ephemeral = p["container"]["is_ephemeral"].as_bool() == Some(true);
    match (turn.done, ts) {
        (true, _) if from_ephemeral => state.send(key, ChatPlatform::Slack, &channel, &turn.reply, |m| m).await,
        (true, Some(ts)) => {
            state.send(key, ChatPlatform::Slack, &channel, &turn.reply, |m| m.editing_remote(&ts)).await
        }
        _ => state.send(key, ChatPlatform::Slack, &channel, &turn.reply, |m| m.only_for(user)).await,
    }
}
