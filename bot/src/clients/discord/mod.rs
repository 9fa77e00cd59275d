//! Calls to Discord's REST API through serenity's `Http`: editing a
//! deferred interaction response, posting to a channel (notifications),
//! registering the `/sb` command. `discord.api_proxy` points it elsewhere
//! (serenity ignores a proxy while its rate limiter is on, so it is off
//! then; Discord's 429s are retried after `retry_after` here).

pub mod embeds;

use std::sync::Arc;

use serde_json::Value;
use serenity::http::{Http, HttpBuilder};
use serenity::model::id::{ApplicationId, ChannelId, MessageId};
use switchboard_core::config::DiscordConfig;
use tracing::Instrument;

use crate::Reply;
use crate::send::{ApiError, ChatApi};

/// serenity's client for the configured application; `None` without a bot
/// token and application id.
pub fn http(config: &DiscordConfig) -> Option<Http> {
    let token = config.bot_token.as_deref()?;
    let app = config.application_id?;
    let mut builder = HttpBuilder::new(token).application_id(ApplicationId::new(app));
    if let Some(proxy) = &config.api_proxy {
        builder = builder.proxy(proxy.trim_end_matches('/')).ratelimiter_disabled(true);
    }
    Some(builder.build())
}

#[derive(Clone)]
pub struct DiscordApi {
    http: Arc<Http>,
}

impl std::fmt::Debug for DiscordApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscordApi").finish_non_exhaustive()
    }
}

impl DiscordApi {
    /// `None` without a bot token and application id.
    pub fn from_config(config: &DiscordConfig) -> Option<Self> {
        Some(Self { http: Arc::new(http(config)?) })
    }

    /// Replaces the deferred "thinking" response of interaction `token`.
    pub async fn edit_original(&self, token: &str, message: &Value) -> Result<(), ApiError> {
        call(
            "edit original interaction response",
            self.http.edit_original_interaction_response(token, message, Vec::new()),
        )
        .await
        .map(|_| ())
    }

    /// Posts `message` to `channel`; the new message's id.
    pub async fn post(&self, channel: u64, message: &Value) -> Result<String, ApiError> {
        if channel == 0 {
            return Err(ApiError::permanent("0 is not a Discord channel id"));
        }
        call("create message", self.http.send_message(ChannelId::new(channel), Vec::new(), message))
            .await
            .map(|m| m.id.to_string())
    }

    /// Replaces message `message` in `channel` with `content`.
    pub async fn edit(&self, channel: u64, message: u64, content: &Value) -> Result<(), ApiError> {
        if channel == 0 || message == 0 {
            return Err(ApiError::permanent("0 is not a Discord id"));
        }
        call(
            "edit message",
            self.http.edit_message(ChannelId::new(channel), MessageId::new(message), content, Vec::new()),
        )
        .await
        .map(|_| ())
    }

    /// Replaces the application's global commands with `commands`.
    pub async fn register(&self, commands: &Value) -> Result<usize, ApiError> {
        call("bulk overwrite global application commands", self.http.create_global_commands(commands))
            .await
            .map(|c| c.len())
    }
}

/// A call to Discord's API named `what`: in a span for traces (debug: only a
/// trace exporter asks for it), its failure said as [`failed`] says it.
async fn call<T>(what: &'static str, request: impl Future<Output = serenity::Result<T>>) -> Result<T, ApiError> {
    request.instrument(tracing::debug_span!("discord", call = what)).await.map_err(|e| failed(what, e))
}

/// What a failed call says; permanent when Discord refused it for good
/// (400 a malformed message, 401 a bad token, 403 no access, 404 no such channel).
fn failed(what: &str, e: serenity::Error) -> ApiError {
    let status = match &e {
        serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(r)) => Some(r.status_code.as_u16()),
        _ => None,
    };
    let message = format!("{what}: {e}");
    match status {
        Some(400 | 401 | 403 | 404) => ApiError::permanent(message),
        _ => ApiError::new(message),
    }
}

#[async_trait::async_trait]
impl ChatApi for DiscordApi {
    async fn post(&self, channel: &str, thread: Option<&str>, reply: &Reply) -> Result<String, ApiError> {
        let channel: u64 =
            channel.parse().map_err(|_| ApiError::permanent(format!("{channel} is not a Discord channel id")))?;
        let mut message = embeds::message(reply, true);
        if let Some(parent) = thread {
            message["message_reference"] = serde_json::json!({"message_id": parent, "fail_if_not_exists": false});
        }
        DiscordApi::post(self, channel, &message).await
    }

    async fn edit(&self, channel: &str, remote: &str, reply: &Reply) -> Result<(), ApiError> {
        let (Ok(channel), Ok(message)) = (channel.parse::<u64>(), remote.parse::<u64>()) else {
            return Err(ApiError::permanent(format!("{channel} / {remote} are not Discord ids")));
        };
        DiscordApi::edit(self, channel, message, &embeds::message(reply, true)).await
    }
}
