//! The chat outbox: every message Switchboard sends to Slack or Discord on
//! its own (notifications, approval requests, run progress) is stored here
//! first, then delivered with retries. A message has a key that says what it
//! is about (`incident:<event>:slack:C024BE91L`), so enqueueing the same news
//! twice sends it once; a reply names the key of the message whose thread it
//! goes in (or which it edits), and waits until that one is sent.

use async_trait::async_trait;
use serde::Serialize;

use crate::model::{ChatPlatform, Millis};
use crate::store::StoreResult;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Waiting to be sent (first time, or again after a failure).
    Pending,
    Sent,
    /// Failed every attempt; kept for a person to look at.
    Dead,
}

impl MessageStatus {
    pub const ALL: [Self; 3] = [Self::Pending, Self::Sent, Self::Dead];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A message to send, before it is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMessage {
    /// What the message is about, unique: enqueueing a key again does nothing.
    pub key: String,
    pub platform: ChatPlatform,
    /// The platform's channel id.
    pub channel: String,
    /// The key of the message this one answers in its thread; or, written
    /// with [`NewMessage::in_thread_of_remote`], [`NewMessage::editing_remote`]
    /// and [`NewMessage::only_for`], a message the platform names itself,
    /// or the one person who sees it (see [`Target`]).
    pub reply_to: Option<String>,
    /// Replace the message `reply_to` names (an edit in place) instead of
    /// answering it.
    pub edit: bool,
    /// What to say: the bot's platform-neutral reply, as JSON.
    pub body: String,
    pub created_at: Millis,
    /// Not sent before then (quiet hours); `None`: as soon as it is stored.
    pub not_before: Option<Millis>,
}

/// `reply_to` naming a platform's own message id rather than an outbox key.
const REMOTE: &str = "remote:";
/// `reply_to` naming the one person who sees the message (Slack's ephemeral).
const ONLY_FOR: &str = "only:";

impl NewMessage {
    /// A message in `channel` about `key`, saying `reply` (the bot's reply as JSON).
    pub fn new(key: String, platform: ChatPlatform, channel: String, reply: String, created_at: Millis) -> Self {
        Self { key, platform, channel, reply_to: None, edit: false, body: reply, created_at, not_before: None }
    }

    /// In the thread of the platform's message `remote` (a Slack `ts`, a Discord message id).
    pub fn in_thread_of_remote(mut self, remote: &str) -> Self {
        self.reply_to = Some(format!("{REMOTE}{remote}"));
        self
    }

    /// Replacing the platform's message `remote`.
    pub fn editing_remote(mut self, remote: &str) -> Self {
        self.reply_to = Some(format!("{REMOTE}{remote}"));
        self.edit = true;
        self
    }

    /// Seen by `user` (the platform's user id) only.
    pub fn only_for(mut self, user: &str) -> Self {
        self.reply_to = Some(format!("{ONLY_FOR}{user}"));
        self
    }
}

/// What a stored message's `reply_to` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target<'a> {
    /// Another message of the outbox, by key.
    Key(&'a str),
    /// A message by the platform's own id.
    Remote(&'a str),
    /// The one person who sees it.
    OnlyFor(&'a str),
}

impl OutMessage {
    pub fn target(&self) -> Option<Target<'_>> {
        let to = self.reply_to.as_deref()?;
        Some(if let Some(r) = to.strip_prefix(REMOTE) {
            Target::Remote(r)
        } else if let Some(u) = to.strip_prefix(ONLY_FOR) {
            Target::OnlyFor(u)
        } else {
            Target::Key(to)
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutMessage {
    pub id: i64,
    pub key: String,
    pub platform: ChatPlatform,
    pub channel: String,
    pub reply_to: Option<String>,
    pub edit: bool,
    pub body: String,
    pub created_at: Millis,
    pub status: MessageStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub next_attempt_at: Millis,
    pub sent_at: Option<Millis>,
    /// The platform's id for the sent message (Slack `ts`, Discord message id).
    pub remote_id: Option<String>,
}

/// The result of one delivery attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub status: MessageStatus,
    pub attempts: u32,
    pub error: Option<String>,
    pub next_attempt_at: Millis,
    pub sent_at: Option<Millis>,
    pub remote_id: Option<String>,
}

/// How long a message handed out by [`Outbox::due_messages`] stays with its courier.
pub const CLAIM_MS: Millis = 120_000;

#[async_trait]
pub trait Outbox: Send + Sync {
    /// Stores the message durably unless its key is already there; true when
    /// it was new.
    async fn enqueue(&self, message: &NewMessage) -> StoreResult<bool>;
    /// Pending messages due at `now`, oldest first, now claimed: none of
    /// them is due again before `now + CLAIM_MS` unless
    /// [`Outbox::record_attempt`] says so. With several couriers on one
    /// shared outbox, each message is sent by one of them.
    async fn due_messages(&self, now: Millis, limit: usize) -> StoreResult<Vec<OutMessage>>;
    /// Records an attempt's outcome.
    async fn record_attempt(&self, id: i64, attempt: &Attempt) -> StoreResult<()>;
    async fn get_message(&self, key: &str) -> StoreResult<Option<OutMessage>>;
    /// The message numbered `id` (the number the outbox page and `list_messages` show).
    async fn message(&self, id: i64) -> StoreResult<Option<OutMessage>>;
    /// Newest first, optionally of one status.
    async fn list_messages(&self, status: Option<MessageStatus>, limit: usize) -> StoreResult<Vec<OutMessage>>;
    /// Messages per status.
    async fn outbox_counts(&self) -> StoreResult<Vec<(MessageStatus, u64)>>;
    /// Gives back the claims on messages handed out by
    /// [`Outbox::due_messages`] but not sent (the process is stopping): those
    /// still pending are due again at `now`.
    async fn release_messages(&self, ids: &[i64], now: Millis) -> StoreResult<()>;
    /// When the oldest message still waiting to be sent was made, if any.
    async fn oldest_pending_message(&self) -> StoreResult<Option<Millis>>;
    /// Makes a dead message pending again, due at `now`, with its attempts
    /// reset; false when there is no such dead message.
    async fn retry_message(&self, id: i64, now: Millis) -> StoreResult<bool>;
}
