//! Discord's gateway (`[discord] gateway = true`): a WebSocket session that
//! answers @mentions in server channels and direct messages, as a reply to
//! the message, the same way the `/sb ask` command does. It needs the
//! `GUILD_MESSAGES` and `DIRECT_MESSAGES` intents only: Discord gives an app
//! the text of messages that mention it, and of DMs, without the privileged
//! message-content intent.
//!
//! The session follows Discord's gateway protocol (v10, JSON): HELLO names
//! the heartbeat interval; IDENTIFY starts a session, RESUME continues one
//! after a dropped connection (no event lost); a heartbeat without its
//! acknowledgement before the next is a dead connection, reopened; RECONNECT
//! and INVALID_SESSION are obeyed; close codes that mean the settings are
//! wrong (a bad token, intents not allowed) end the session with why.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use switchboard_core::Caller;
use switchboard_core::model::ChatPlatform;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::api::DiscordApi;
use crate::chat::ChatState;
use crate::messages;
use crate::slack::socket::stopped;

/// GUILD_MESSAGES and DIRECT_MESSAGES.
const INTENTS: u64 = (1 << 9) | (1 << 12);
/// The longest wait between failed connections.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// How long Discord has to say HELLO after the connection opens.
const HELLO_WITHIN: Duration = Duration::from_secs(30);

/// Gateway opcodes.
const DISPATCH: u64 = 0;
const HEARTBEAT: u64 = 1;
const IDENTIFY: u64 = 2;
const RESUME: u64 = 6;
const RECONNECT: u64 = 7;
const INVALID_SESSION: u64 = 9;
const HELLO: u64 = 10;
const HEARTBEAT_ACK: u64 = 11;

/// A session that can be resumed after its connection drops.
struct Session {
    id: String,
    resume_url: String,
}

/// What a connection remembers across reconnections.
#[derive(Default)]
struct Memory {
    session: Option<Session>,
    /// The last event's sequence number, sent with heartbeats and RESUME.
    seq: Option<u64>,
    /// The bot's own user id, from READY.
    me: Option<String>,
}

/// How a connection ended.
enum Ended {
    /// The process is stopping; the connection was closed with a Close frame.
    Stopped,
    /// Discord asked for a new connection, or this one stopped answering.
    Reconnect,
}

/// Why a connection failed: worth trying again, or not until the settings change.
enum Failure {
    Again(String),
    Fatal(String),
}

/// Keeps a gateway session open while the process runs; `None` when
/// `discord.gateway` is off (or the bot token or application id is missing).
pub fn spawn(state: ChatState) -> Option<tokio::task::JoinHandle<()>> {
    // A stop nobody sends: the session lives until the task is aborted.
    spawn_until(state, tokio::sync::watch::channel(false).1)
}

/// As `spawn`, until `stop` turns true: then the connection is closed with
/// a Close frame and not opened again.
pub fn spawn_until(
    state: ChatState,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    let config = state.service.config().discord.clone();
    if !config.gateway {
        return None;
    }
    let api = DiscordApi::from_config(&config)?;
    Some(tokio::spawn(async move {
        let service = state.service.clone();
        service.report("discord_gateway", false, "connecting");
        let mut memory = Memory::default();
        let mut backoff = Duration::from_secs(1);
        while !*stop.borrow() {
            match connect_once(&state, &api, &mut memory, &mut stop).await {
                Ok(Ended::Stopped) => {
                    tracing::info!("the Discord gateway closed for the stop");
                    service.report("discord_gateway", false, "stopped");
                    return;
                }
                Ok(Ended::Reconnect) => {
                    tracing::info!("the Discord gateway asked for a new connection; reconnecting");
                    backoff = Duration::from_secs(1);
                    continue;
                }
                Err(Failure::Fatal(why)) => {
                    tracing::error!(error = %why, "the Discord gateway refused the session; not trying again");
                    service.report("discord_gateway", false, why);
                    return;
                }
                Err(Failure::Again(why)) => {
                    tracing::warn!(error = %why, wait_secs = backoff.as_secs(), "the Discord gateway failed");
                    service.report("discord_gateway", false, why);
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = stopped(&mut stop) => {}
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }))
}

fn frame(op: u64, d: Value) -> Message {
    Message::text(json!({"op": op, "d": d}).to_string())
}

/// A close code that means the settings are wrong: trying again cannot help.
fn fatal_close(code: u16) -> Option<&'static str> {
    Some(match code {
        4004 => "Discord refused the bot token (close 4004): check discord.bot_token",
        4010 | 4011 => "Discord wants this bot sharded (close 4010/4011), which Switchboard does not do",
        4012 => "Discord does not take this gateway version (close 4012)",
        4013 | 4014 => {
            "Discord refused the intents (close 4013/4014): GUILD_MESSAGES and DIRECT_MESSAGES must be allowed"
        }
        _ => return None,
    })
}

/// One connection: HELLO, IDENTIFY or RESUME, then events and heartbeats
/// until it ends.
async fn connect_once(
    state: &ChatState,
    api: &DiscordApi,
    memory: &mut Memory,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> Result<Ended, Failure> {
    let again = |e: &dyn std::fmt::Display| Failure::Again(e.to_string());
    let base = match &memory.session {
        Some(s) => s.resume_url.clone(),
        None => api.gateway_url().await.map_err(|e| again(&e))?,
    };
    let url = format!("{}/?v=10&encoding=json", base.trim_end_matches('/'));
    let (socket, _) = tokio_tungstenite::connect_async(url.as_str()).await.map_err(|e| again(&e))?;
    let (mut tx, mut rx) = socket.split();

    let hello = tokio::time::timeout(HELLO_WITHIN, rx.next()).await.map_err(|_| again(&"no HELLO from Discord"))?;
    let hello = match hello {
        Some(Ok(Message::Text(t))) => serde_json::from_str::<Value>(t.as_str()).unwrap_or(Value::Null),
        other => return Err(again(&format!("the gateway's first frame was not HELLO: {other:?}"))),
    };
    let interval = match (hello["op"].as_u64(), hello["d"]["heartbeat_interval"].as_u64()) {
        (Some(HELLO), Some(ms)) if ms > 0 => Duration::from_millis(ms),
        _ => return Err(again(&format!("the gateway's first frame was not HELLO: {hello}"))),
    };

    let token = api.token();
    let resume = match (&memory.session, memory.seq) {
        (Some(s), Some(seq)) => Some(frame(RESUME, json!({"token": token, "session_id": s.id, "seq": seq}))),
        _ => None,
    };
    let greeting = match resume {
        Some(resume) => resume,
        None => {
            (memory.session, memory.seq) = (None, None);
            let properties = json!({"os": std::env::consts::OS, "browser": "switchboard", "device": "switchboard"});
            frame(IDENTIFY, json!({"token": token, "intents": INTENTS, "properties": properties}))
        }
    };
    tx.send(greeting).await.map_err(|e| again(&e))?;

    // The first heartbeat after a random share of the interval, as Discord asks.
    let jitter = interval.mul_f64(f64::from(uuid::Uuid::new_v4().as_bytes()[0]) / 256.0);
    let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + jitter, interval);
    let mut acknowledged = true;
    loop {
        tokio::select! {
            _ = stopped(stop) => {
                let close = CloseFrame { code: CloseCode::Normal, reason: "stopping".into() };
                let _ = tx.send(Message::Close(Some(close))).await;
                let _ = tx.flush().await;
                return Ok(Ended::Stopped);
            }
            _ = beat.tick() => {
                if !acknowledged {
                    // No acknowledgement since the last heartbeat: the connection is dead.
                    return Ok(Ended::Reconnect);
                }
                acknowledged = false;
                tx.send(frame(HEARTBEAT, json!(memory.seq))).await.map_err(|e| again(&e))?;
            }
            incoming = rx.next() => {
                let text = match incoming {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(close))) => {
                        let code = close.as_ref().map_or(1005, |c| u16::from(c.code));
                        if let Some(why) = fatal_close(code) {
                            return Err(Failure::Fatal(why.into()));
                        }
                        // An invalid sequence, or a session that timed out: start a new one.
                        if matches!(code, 4007 | 4009) {
                            memory.session = None;
                        }
                        return Err(again(&format!("Discord closed the gateway connection ({code})")));
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Err(again(&e)),
                    None => return Err(again(&"the gateway connection ended")),
                };
                let Ok(event) = serde_json::from_str::<Value>(text.as_str()) else { continue };
                if let Some(seq) = event["s"].as_u64() {
                    memory.seq = Some(seq);
                }
                match event["op"].as_u64() {
                    Some(DISPATCH) => dispatch(state, memory, event["t"].as_str().unwrap_or_default(), &event["d"]),
                    Some(HEARTBEAT) => tx.send(frame(HEARTBEAT, json!(memory.seq))).await.map_err(|e| again(&e))?,
                    Some(HEARTBEAT_ACK) => acknowledged = true,
                    Some(RECONNECT) => return Ok(Ended::Reconnect),
                    Some(INVALID_SESSION) => {
                        if !event["d"].as_bool().unwrap_or(false) {
                            memory.session = None;
                        }
                        // Discord asks for a pause of one to five seconds before identifying again.
                        let pause = 1000 + u64::from(uuid::Uuid::new_v4().as_bytes()[0]) * 16;
                        tokio::time::sleep(Duration::from_millis(pause)).await;
                        return Ok(Ended::Reconnect);
                    }
                    _ => {}
                }
            }
        }
    }
}

/// An event: READY starts the session, RESUMED continues it, a message is answered.
fn dispatch(state: &ChatState, memory: &mut Memory, name: &str, data: &Value) {
    match name {
        "READY" => {
            let (Some(id), Some(url)) = (data["session_id"].as_str(), data["resume_gateway_url"].as_str()) else {
                tracing::warn!("Discord's READY names no session; it cannot be resumed");
                return;
            };
            memory.session = Some(Session { id: id.to_owned(), resume_url: url.to_owned() });
            memory.me = data["user"]["id"].as_str().map(str::to_owned);
            tracing::info!(bot = data["user"]["username"].as_str().unwrap_or_default(), "Discord gateway connected");
            state.service.report("discord_gateway", true, "connected");
        }
        "RESUMED" => {
            tracing::info!("Discord gateway session resumed");
            state.service.report("discord_gateway", true, "connected");
        }
        "MESSAGE_CREATE" => {
            let Some(me) = memory.me.clone() else { return };
            let (state, message) = (state.clone(), data.clone());
            // Each message on its own task: a slow answer does not hold up the heartbeats.
            tokio::spawn(async move { answer(&state, &me, &message).await });
        }
        _ => {}
    }
}

/// The message without mentions of `me` (`<@ID>`, `<@!ID>`).
fn without_mention(text: &str, me: &str) -> String {
    let text = text.replace(&format!("<@{me}>"), " ").replace(&format!("<@!{me}>"), " ");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Answers a message that mentions the bot, or any direct message; others
/// (and messages from bots) are left alone.
async fn answer(state: &ChatState, me: &str, msg: &Value) {
    let author = msg["author"]["id"].as_str().unwrap_or_default();
    if author.is_empty() || msg["author"]["bot"].as_bool().unwrap_or(false) || author == me {
        return;
    }
    let (Some(id), Some(channel)) = (msg["id"].as_str(), msg["channel_id"].as_str()) else { return };
    let direct = msg["guild_id"].as_str().is_none();
    let mentioned = msg["mentions"].as_array().is_some_and(|m| m.iter().any(|u| u["id"].as_str() == Some(me)));
    if !direct && !mentioned {
        return;
    }
    let text = without_mention(msg["content"].as_str().unwrap_or_default(), me);
    let text = if text.is_empty() { "help".to_owned() } else { text };
    let caller = match state.service.chat_caller(ChatPlatform::Discord, author, None).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "cannot resolve a Discord user; treating them as unknown");
            Caller::new("discord-someone", state.service.config().chat.unknown_role, "discord")
        }
    };
    // A reply chain is one conversation: it continues from the message replied to.
    let root = msg["message_reference"]["message_id"].as_str().unwrap_or(id);
    let thread = format!("discord:{channel}:{root}");
    let reply = if text.eq_ignore_ascii_case("link") {
        // A code is for its owner's eyes: only in a direct message.
        if direct {
            state.link_reply(ChatPlatform::Discord, author).await
        } else {
            crate::Reply::text(messages::link_in_private())
        }
    } else {
        state.conversation.handle(&caller, &thread, &text).await.reply
    };
    let key = format!("discord:message:{id}");
    state.send(key, ChatPlatform::Discord, channel, &reply, |m| m.in_thread_of_remote(id)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_not_part_of_the_question() {
        assert_eq!(without_mention("<@42> who owns payments-api?", "42"), "who owns payments-api?");
        assert_eq!(without_mention("hey <@!42>  deploy orders to staging", "42"), "hey deploy orders to staging");
        assert_eq!(without_mention("<@7> is not me", "42"), "<@7> is not me");
    }

    #[test]
    fn close_codes_that_need_new_settings_are_fatal() {
        assert!(fatal_close(4004).unwrap().contains("bot_token"));
        assert!(fatal_close(4014).unwrap().contains("intents"));
        for code in [1000, 1001, 1006, 4000, 4007, 4009] {
            assert!(fatal_close(code).is_none(), "{code}");
        }
    }
}
