//! Slack over Socket Mode: Switchboard opens a WebSocket to Slack
//! (`apps.connections.open` with the app-level token) and receives the same
//! events, slash commands and clicks it would get over HTTP, each in an
//! envelope it acknowledges on the socket — for servers Slack cannot reach.
//! Connections are reopened when Slack asks (`disconnect`) or drops them,
//! waiting longer after each failure.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::{Command, command_answer, event_callback, interaction};
use crate::chat::ChatState;

/// The longest wait between failed connections.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Keeps a Socket Mode connection open while the process runs; `None` when
/// `slack.socket_mode` is off.
pub fn spawn(state: ChatState) -> Option<tokio::task::JoinHandle<()>> {
    // A stop nobody sends: the connection lives until the task is aborted.
    spawn_until(state, tokio::sync::watch::channel(false).1)
}

/// Resolves when `stop` turns true (never, once its sender is gone).
pub(crate) async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// As `spawn`, until `stop` turns true: then the connection is closed with
/// a Close frame (Slack sends nothing more to it) and not opened again.
pub fn spawn_until(
    state: ChatState,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    let config = state.service.config().slack.clone();
    if !config.socket_mode {
        return None;
    }
    let app_token = config.app_token.clone()?;
    Some(tokio::spawn(async move {
        let mut backoff = Duration::from_secs(1);
        state.service.report("slack_socket", false, "connecting");
        while !*stop.borrow() {
            match connect_once(&state, &app_token, &config.api_url, &mut stop).await {
                Ok(true) => {
                    tracing::info!("Slack Socket Mode closed for the stop");
                    state.service.report("slack_socket", false, "stopped");
                    break;
                }
                Ok(false) => {
                    tracing::info!("Slack closed the Socket Mode connection; reconnecting");
                    state.service.report("slack_socket", false, "reconnecting");
                    backoff = Duration::from_secs(1);
                }
                Err(e) => {
                    tracing::warn!(error = %e, wait_secs = backoff.as_secs(), "Slack Socket Mode failed; trying again");
                    state.service.report("slack_socket", false, e);
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stopped(&mut stop) => {}
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }))
}

/// The WebSocket URL Slack gives for a new connection.
async fn open_url(app_token: &str, api_url: &str) -> Result<String, String> {
    let slack = crate::clients::slack::SlackApi::with_token(api_url, app_token)?;
    let opened = slack
        .call("apps.connections.open", None, &[])
        .await
        .map_err(|e| format!("{e} (is slack.app_token an xapp- token with connections:write?)"))?;
    opened["url"].as_str().map(str::to_owned).ok_or_else(|| "apps.connections.open: Slack's answer has no url".into())
}

/// One connection: until Slack says to reconnect (`Ok`) or it fails. Each
/// envelope is handled on its own task (a slash command may take seconds);
/// acknowledgements go back through one writer.
/// One connection, until Slack ends it (`Ok(false)`) or `stop` does (`Ok(true)`).
async fn connect_once(
    state: &ChatState,
    app_token: &str,
    api_url: &str,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> Result<bool, String> {
    let url = open_url(app_token, api_url).await?;
    let (socket, _) =
        tokio_tungstenite::connect_async(url.as_str()).await.map_err(|e| format!("cannot open the socket: {e}"))?;
    let (mut sink, mut stream) = socket.split();
    let (acks, mut outgoing) = tokio::sync::mpsc::unbounded_channel::<Message>();
    let mut writer = tokio::spawn(async move {
        while let Some(m) = outgoing.recv().await {
            let closing = matches!(m, Message::Close(_));
            if let Err(e) = sink.send(m).await {
                tracing::warn!(error = %e, "cannot write to the Slack socket");
                return;
            }
            if closing {
                let _ = sink.close().await;
                return;
            }
        }
    });
    let result = loop {
        let message = tokio::select! {
            m = stream.next() => m,
            _ = stopped(stop) => {
                // Goodbye, then the writer sends it and ends (briefly waited for).
                let _ = acks.send(Message::Close(None));
                let _ = tokio::time::timeout(Duration::from_secs(2), &mut writer).await;
                break Ok(true);
            }
        };
        let Some(message) = message else { break Ok(false) };
        let text = match message {
            Ok(Message::Text(t)) => t,
            Ok(Message::Ping(p)) => {
                let _ = acks.send(Message::Pong(p));
                continue;
            }
            Ok(Message::Close(_)) => break Ok(false),
            Ok(_) => continue,
            Err(e) => break Err(format!("the socket failed: {e}")),
        };
        let Ok(envelope) = serde_json::from_str::<Value>(text.as_str()) else {
            tracing::warn!("Slack sent a Socket Mode message that is not JSON; ignored");
            continue;
        };
        match envelope["type"].as_str() {
            Some("hello") => {
                tracing::info!("Slack Socket Mode connected");
                state.service.report("slack_socket", true, "connected");
            }
            Some("disconnect") => break Ok(false),
            _ => {
                let (state, acks) = (state.clone(), acks.clone());
                tokio::spawn(async move {
                    if let Some(ack) = answer(&state, envelope).await {
                        let _ = acks.send(Message::text(ack.to_string()));
                    }
                });
            }
        }
    };
    writer.abort();
    result
}

/// The acknowledgement of one envelope, with the answer it carries if any.
async fn answer(state: &ChatState, envelope: Value) -> Option<Value> {
    let id = envelope["envelope_id"].as_str()?.to_owned();
    let payload = envelope["payload"].clone();
    let answer = match envelope["type"].as_str() {
        Some("events_api") => {
            event_callback(state, &payload);
            None
        }
        Some("slash_commands") => match serde_json::from_value::<Command>(payload) {
            Ok(cmd) => Some(command_answer(state, cmd).await),
            Err(e) => {
                tracing::warn!(error = %e, "a Socket Mode slash command without user_id or channel_id; ignored");
                None
            }
        },
        Some("interactive") => interaction(state, payload).await,
        other => {
            tracing::debug!(kind = ?other, "a Socket Mode envelope Switchboard does not handle");
            None
        }
    };
    Some(match answer {
        Some(payload) => json!({"envelope_id": id, "payload": payload}),
        None => json!({"envelope_id": id}),
    })
}
