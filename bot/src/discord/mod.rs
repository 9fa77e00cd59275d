//! Discord over HTTP interactions at `/discord/interactions`: every request
//! is verified (Ed25519 over `X-Signature-Timestamp` + raw body with the
//! application's public key); `PING` → `PONG`; the `/sb` command; buttons.
//! Answers that take longer than Discord's 3 seconds are deferred and the
//! original response edited when ready.

pub mod commands;
pub mod gateway;

pub use crate::clients::discord as api;
pub use crate::clients::discord::embeds;

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

use crate::chat::{ChatState, Refused};
use crate::{Reply, messages};

/// Interaction response types.
const PONG: u8 = 1;
const CHANNEL_MESSAGE: u8 = 4;
const DEFERRED_CHANNEL_MESSAGE: u8 = 5;
const UPDATE_MESSAGE: u8 = 7;
/// Message flag: only the person who clicked sees it.
const EPHEMERAL: u64 = 1 << 6;

/// How long the answer may take before it is deferred.
const BUDGET: std::time::Duration = std::time::Duration::from_millis(2500);

pub fn router(state: ChatState) -> Router {
    Router::new()
        .route("/discord/interactions", post(interactions))
        .layer(DefaultBodyLimit::max(1024 * 1024))
        .with_state(state)
}

fn refuse(status: StatusCode, code: &'static str, message: &str) -> Refused {
    Refused::new(status, code, message)
}

/// `N` bytes written as `2N` hexadecimal digits.
fn unhex<const N: usize>(hex: &str) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    (hex.len() == 2 * N).then_some(out)
}

/// Whether `signature` (hex) is the key's Ed25519 signature of timestamp +
/// body; strict verification (no small-order keys or malleable signatures).
fn verified(key: &ed25519_dalek::VerifyingKey, signature: &str, timestamp: &str, body: &[u8]) -> bool {
    let Some(signature) = unhex::<64>(signature.trim()) else { return false };
    let mut signed = Vec::with_capacity(timestamp.len() + body.len());
    signed.extend_from_slice(timestamp.as_bytes());
    signed.extend_from_slice(body);
    key.verify_strict(&signed, &ed25519_dalek::Signature::from_bytes(&signature)).is_ok()
}

fn check(state: &ChatState, headers: &HeaderMap, body: &[u8]) -> Result<(), Refused> {
    let Some(key) = state.service.config().discord.public_key.as_deref() else {
        return Err(refuse(StatusCode::SERVICE_UNAVAILABLE, "not_configured", messages::discord_not_configured()));
    };
    let key =
        unhex::<32>(key.trim()).and_then(|k| ed25519_dalek::VerifyingKey::from_bytes(&k).ok()).ok_or_else(|| {
            refuse(StatusCode::SERVICE_UNAVAILABLE, "not_configured", "discord.public_key is not a valid Ed25519 key")
        })?;
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let (Some(sig), Some(ts)) = (header("x-signature-ed25519"), header("x-signature-timestamp")) else {
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            "missing_signature",
            "X-Signature-Ed25519 and X-Signature-Timestamp are required",
        ));
    };
    // Discord signs its timestamp with the body: an old one is a replay (or a
    // clock far off), refused like Slack's before the signature is checked.
    let now = state.service.now() / 1000;
    match ts.trim().parse::<i64>() {
        Ok(at) if now.abs_diff(at) <= crate::chat::WINDOW_SECS.unsigned_abs() => {}
        Ok(_) => return Err(refuse(StatusCode::UNAUTHORIZED, "stale_signature", messages::stale_signature())),
        Err(_) => {
            return Err(refuse(
                StatusCode::UNAUTHORIZED,
                "malformed_signature",
                "X-Signature-Timestamp is not a number of seconds",
            ));
        }
    }
    if verified(&key, sig, ts, body) {
        Ok(())
    } else {
        Err(refuse(StatusCode::UNAUTHORIZED, "bad_signature", "the signature does not match; check discord.public_key"))
    }
}

async fn caller(state: &ChatState, interaction: &Value) -> Caller {
    let user = interaction["member"]["user"]["id"].as_str().or(interaction["user"]["id"].as_str()).unwrap_or_default();
    match state.service.chat_caller(ChatPlatform::Discord, user, None).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "cannot resolve a Discord user; treating them as unknown");
            Caller::new("discord-someone", state.service.config().chat.unknown_role, "discord")
        }
    }
}

fn answer(kind: u8, data: Value) -> Response {
    Json(json!({"type": kind, "data": data})).into_response()
}

/// A message only the clicking person sees: a refusal, or a question with
/// its buttons (confirm a production approval, say why a denial).
fn ephemeral(reply: &Reply) -> Response {
    let mut data = embeds::message(reply, true);
    data["flags"] = json!(EPHEMERAL);
    answer(CHANNEL_MESSAGE, data)
}

async fn interactions(
    State(state): State<ChatState>,
    address: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = check(&state, &headers, &body) {
        return state.count_refusal(address.map(|a| a.0), r).into_response();
    }
    let Ok(i) = serde_json::from_slice::<Value>(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "malformed_json", "the body is not JSON").into_response();
    };
    // Within the timestamp's window, the same interaction twice is a replay:
    // Discord sends each one once, with an id of its own.
    if !state.first_time(&format!("discord-interaction:{}", i["id"])) {
        let r = refuse(StatusCode::UNAUTHORIZED, "replayed", messages::replayed());
        return state.count_refusal(address.map(|a| a.0), r).into_response();
    }
    match i["type"].as_u64() {
        Some(1) => Json(json!({"type": PONG})).into_response(),
        Some(2) => command(state, i).await,
        Some(3) => component(state, i).await,
        _ => refuse(StatusCode::BAD_REQUEST, "unknown_interaction", "only PING, commands and buttons are handled")
            .into_response(),
    }
}

/// `/sb …`: the text it stands for, answered at once or deferred.
async fn command(state: ChatState, i: Value) -> Response {
    let caller = caller(&state, &i).await;
    let user = caller.user.to_string();
    let text = match commands::text_of(&i["data"]) {
        Ok(commands::Said::Link) => {
            let discord_user = i["member"]["user"]["id"].as_str().or(i["user"]["id"].as_str()).unwrap_or_default();
            return ephemeral(&state.link_reply(ChatPlatform::Discord, discord_user).await);
        }
        Ok(commands::Said::Text(t)) => t,
        Err(e) => return ephemeral(&Reply::text(e)),
    };
    let channel = i["channel_id"].as_str().unwrap_or("dm");
    let thread = format!("discord:{channel}:{user}");
    converse(state, caller, thread, text, &i).await
}

/// One conversation turn answered in the channel: at once when it is quick,
/// else deferred and the original response edited when the answer is ready.
async fn converse(state: ChatState, caller: Caller, thread: String, text: String, i: &Value) -> Response {
    let mut work = {
        let state = state.clone();
        tokio::spawn(async move { state.conversation.handle(&caller, &thread, &text).await })
    };
    match tokio::time::timeout(BUDGET, &mut work).await {
        Ok(Ok(turn)) => answer(CHANNEL_MESSAGE, embeds::message(&turn.reply, true)),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "a Discord command failed");
            ephemeral(&Reply::text(messages::internal_error()))
        }
        Err(_) => {
            let token = i["token"].as_str().unwrap_or_default().to_owned();
            tokio::spawn(async move {
                let Ok(turn) = work.await else { return };
                let Some(api) = &state.discord else {
                    tracing::warn!("a deferred Discord answer is ready but discord.bot_token is not set");
                    return;
                };
                if let Err(e) = api.edit_original(&token, &embeds::message(&turn.reply, true)).await {
                    tracing::error!(error = %e, "cannot send a deferred Discord answer");
                }
            });
            answer(DEFERRED_CHANNEL_MESSAGE, json!({}))
        }
    }
}

/// A button: decided through core's policy as the clicking person; the
/// message updated when it worked (its buttons gone once decided), a message
/// only they see when not.
async fn component(state: ChatState, i: Value) -> Response {
    let Some(action) = i["data"]["custom_id"].as_str() else {
        return refuse(StatusCode::BAD_REQUEST, "malformed_json", "a component interaction without data.custom_id")
            .into_response();
    };
    let caller = caller(&state, &i).await;
    if let Some(question) = crate::answer::investigate_question(action) {
        // Investigate on a notification: answered in the channel, for everyone.
        let thread = format!(
            "discord:{}:{}",
            i["channel_id"].as_str().unwrap_or("dm"),
            i["message"]["id"].as_str().unwrap_or("")
        );
        return converse(state, caller, thread, question, &i).await;
    }
    let turn = state.conversation.click(&caller, action).await;
    // A decided run's reply has no buttons; one still waiting for approvals keeps them.
    if turn.done { answer(UPDATE_MESSAGE, embeds::message(&turn.reply, true)) } else { ephemeral(&turn.reply) }
}
