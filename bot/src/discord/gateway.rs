//! Discord's gateway (`[discord] gateway = true`): a serenity client that
//! answers @mentions in server channels and direct messages, as a reply to
//! the message, the same way the `/sb ask` command does. It needs the
//! `GUILD_MESSAGES` and `DIRECT_MESSAGES` intents only: Discord gives an app
//! the text of messages that mention it, and of DMs, without the privileged
//! message-content intent.

use std::sync::OnceLock;

use serenity::all::{Context, EventHandler, GatewayIntents, Message, Ready, UserId};
use serenity::client::ClientBuilder;
use switchboard_core::Caller;
use switchboard_core::model::ChatPlatform;

use super::api;
use crate::chat::ChatState;
use crate::messages;

struct Handler {
    state: ChatState,
    me: OnceLock<UserId>,
}

/// Keeps a gateway session open while the process runs (serenity reconnects
/// and resumes on its own); `None` when `discord.gateway` is off.
pub fn spawn(state: ChatState) -> Option<tokio::task::JoinHandle<()>> {
    // A stop nobody sends: the session lives until the task is aborted.
    spawn_until(state, tokio::sync::watch::channel(false).1)
}

/// As `spawn`, until `stop` turns true: then the session's shards are shut
/// down (each closes its connection with a Close frame) and not started again.
pub fn spawn_until(
    state: ChatState,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    let config = state.service.config().discord.clone();
    if !config.gateway {
        return None;
    }
    let http = api::http(&config)?;
    let intents = GatewayIntents::GUILD_MESSAGES | GatewayIntents::DIRECT_MESSAGES;
    Some(tokio::spawn(async move {
        state.service.report("discord_gateway", false, "connecting");
        let service = state.service.clone();
        let handler = Handler { state, me: OnceLock::new() };
        let mut backoff = std::time::Duration::from_secs(1);
        let mut client = match ClientBuilder::new_with_http(http, intents).event_handler(handler).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "cannot start the Discord gateway client");
                return;
            }
        };
        let shards = client.shard_manager.clone();
        while !*stop.borrow() {
            let ended = tokio::select! {
                ended = client.start() => Some(ended),
                _ = crate::slack::socket::stopped(&mut stop) => None,
            };
            match ended {
                None => {
                    shards.shutdown_all().await;
                    tracing::info!("the Discord gateway closed for the stop");
                    service.report("discord_gateway", false, "stopped");
                    return;
                }
                Some(Ok(())) => tracing::info!("the Discord gateway session ended; starting again"),
                Some(Err(e)) => {
                    tracing::warn!(error = %e, wait_secs = backoff.as_secs(), "the Discord gateway failed");
                    service.report("discord_gateway", false, e.to_string());
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = crate::slack::socket::stopped(&mut stop) => {}
            }
            backoff = (backoff * 2).min(std::time::Duration::from_secs(60));
        }
    }))
}

/// The message without mentions of `me` (`<@ID>`, `<@!ID>`).
fn without_mention(text: &str, me: UserId) -> String {
    let text = text.replace(&format!("<@{me}>"), " ").replace(&format!("<@!{me}>"), " ");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, _ctx: Context, ready: Ready) {
        let _ = self.me.set(ready.user.id);
        tracing::info!(bot = %ready.user.name, "Discord gateway connected");
        self.state.service.report("discord_gateway", true, "connected");
    }

    async fn message(&self, _ctx: Context, msg: Message) {
        let Some(&me) = self.me.get() else { return };
        if msg.author.bot || msg.author.id == me {
            return;
        }
        let direct = msg.guild_id.is_none();
        if !direct && !msg.mentions.iter().any(|u| u.id == me) {
            return;
        }
        let text = without_mention(&msg.content, me);
        let text = if text.is_empty() { "help".to_owned() } else { text };
        let state = &self.state;
        let author = msg.author.id.to_string();
        let caller = match state.service.chat_caller(ChatPlatform::Discord, &author, None).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "cannot resolve a Discord user; treating them as unknown");
                Caller::new("discord-someone", state.service.config().chat.unknown_role, "discord")
            }
        };
        // A reply chain is one conversation: it continues from the message replied to.
        let root = msg.message_reference.as_ref().and_then(|r| r.message_id).unwrap_or(msg.id);
        let thread = format!("discord:{}:{root}", msg.channel_id);
        let reply = if text.eq_ignore_ascii_case("link") {
            // A code is for its owner's eyes: only in a direct message.
            if direct {
                state.link_reply(ChatPlatform::Discord, &author).await
            } else {
                crate::Reply::text(messages::link_in_private())
            }
        } else {
            state.conversation.handle(&caller, &thread, &text).await.reply
        };
        let (key, answered) = (format!("discord:message:{}", msg.id), msg.id.to_string());
        let channel = msg.channel_id.to_string();
        state.send(key, ChatPlatform::Discord, &channel, &reply, |m| m.in_thread_of_remote(&answered)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_not_part_of_the_question() {
        let me = UserId::new(42);
        assert_eq!(without_mention("<@42> who owns payments-api?", me), "who owns payments-api?");
        assert_eq!(without_mention("hey <@!42>  deploy orders to staging", me), "hey deploy orders to staging");
        assert_eq!(without_mention("<@7> is not me", me), "<@7> is not me");
    }
}
