//! The way out to chat: one trait every platform's client implements
//! ([`ChatApi`]), the clients this process has ([`ChatApis`]), and the error a
//! call ends in. What to say is composed elsewhere (replies, the courier);
//! this is only how it is sent.

use std::sync::Arc;

use async_trait::async_trait;
use switchboard_core::model::ChatPlatform;

use crate::Reply;

/// A failed call to Slack's or Discord's API, said for logs; `permanent` when
/// trying again cannot help (no such channel, the bot not in it, a revoked
/// token, a message the platform refuses).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub message: String,
    pub permanent: bool,
}

impl ApiError {
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), permanent: false }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        Self { message: message.into(), permanent: true }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<String> for ApiError {
    fn from(message: String) -> Self {
        Self::new(message)
    }
}

/// A chat platform's client, as the courier sends through it.
#[async_trait]
pub trait ChatApi: Send + Sync {
    /// Posts `reply` in `channel`, in the thread of message `thread` when
    /// given; the platform's id for the new message.
    async fn post(&self, channel: &str, thread: Option<&str>, reply: &Reply) -> Result<String, ApiError>;
    /// Replaces message `remote` in `channel` with `reply` (buttons only if
    /// the reply has them).
    async fn edit(&self, channel: &str, remote: &str, reply: &Reply) -> Result<(), ApiError>;
    /// Shows `reply` in `channel` to `user` only (Slack's ephemeral messages).
    async fn only_for(&self, channel: &str, user: &str, reply: &Reply) -> Result<(), ApiError> {
        let _ = (channel, user, reply);
        Err(ApiError::permanent("this platform has no messages for one person outside an interaction"))
    }
}

/// The platforms this process can send to.
#[derive(Clone, Default)]
pub struct ChatApis {
    pub slack: Option<Arc<dyn ChatApi>>,
    pub discord: Option<Arc<dyn ChatApi>>,
}

impl ChatApis {
    pub fn get(&self, platform: ChatPlatform) -> Result<&dyn ChatApi, ApiError> {
        match platform {
            ChatPlatform::Slack => self.slack.as_deref().ok_or_else(|| ApiError::new("slack.bot_token is not set")),
            ChatPlatform::Discord => {
                self.discord.as_deref().ok_or_else(|| ApiError::new("discord.bot_token is not set"))
            }
            ChatPlatform::Web => Err(ApiError::permanent("the web chat has no channels to post to")),
        }
    }

    pub fn has(&self, platform: ChatPlatform) -> bool {
        self.get(platform).is_ok()
    }
}
