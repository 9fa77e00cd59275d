//! Calls to Slack's Web API through slack-morphism: replies in threads,
//! message updates after a decision, ephemeral messages for one person,
//! and the verified email behind a user id. A 429 is retried after Slack's
//! `Retry-After` (up to [`RETRIES`] times, waiting at most [`MAX_WAIT`] each).
//! slack-morphism's own throttle is not used: it allows one
//! `chat.postMessage` a second for the whole workspace, where Slack allows
//! one a second per channel, which would queue every conversation behind
//! every other.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper_rustls::HttpsConnectorBuilder;
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;
use switchboard_core::config::SlackConfig;

pub mod blocks;

use self::blocks as slack_blocks;
use crate::Reply;
use crate::send::{ApiError, ChatApi};

type Connector =
    SlackClientHyperConnector<hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>>;

#[derive(Clone)]
pub struct SlackApi {
    client: Arc<SlackClient<Connector>>,
    token: SlackApiToken,
}

impl std::fmt::Debug for SlackApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackApi").finish_non_exhaustive()
    }
}

/// A call's result; see [`ApiError`].
pub type ApiResult<T> = Result<T, ApiError>;

/// Slack's error codes that no retry can fix.
const PERMANENT: [&str; 12] = [
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "missing_scope",
    "msg_too_long",
    "invalid_blocks",
    "no_text",
    "user_not_found",
];

/// Retries of one call that Slack answered 429.
pub const RETRIES: usize = 3;
/// The longest `Retry-After` waited for in line; a longer one fails the call
/// (the outbox tries again later).
pub const MAX_WAIT: Duration = Duration::from_secs(30);

/// Runs `call`, again after `Retry-After` when Slack answers 429.
async fn retrying<T, F, Fut>(what: &str, call: F) -> ApiResult<T>
where
    F: Fn() -> Fut,
    Fut: Future<Output = ClientResult<T>>,
{
    use tracing::Instrument;
    // A span for traces (debug: only a trace exporter asks for it), retries included.
    attempts(what, call).instrument(tracing::debug_span!("slack", call = what)).await
}

async fn attempts<T, F, Fut>(what: &str, call: F) -> ApiResult<T>
where
    F: Fn() -> Fut,
    Fut: Future<Output = ClientResult<T>>,
{
    let mut retried = 0;
    loop {
        match call().await {
            Ok(v) => return Ok(v),
            Err(SlackClientError::RateLimitError(e)) if retried < RETRIES => {
                let wait = e.retry_after.unwrap_or(Duration::from_secs(1));
                if wait > MAX_WAIT {
                    return Err(ApiError::new(format!("{what}: rate limited for {}s", wait.as_secs())));
                }
                tracing::info!(call = what, wait_ms = wait.as_millis() as u64, "Slack asked to slow down; waiting");
                tokio::time::sleep(wait).await;
                retried += 1;
            }
            Err(SlackClientError::ApiError(e)) => {
                let message = format!("{what}: {}", e.code);
                return Err(if PERMANENT.contains(&e.code.as_str()) {
                    ApiError::permanent(message)
                } else {
                    ApiError::new(message)
                });
            }
            Err(e) => return Err(ApiError::new(format!("{what}: {e}"))),
        }
    }
}

impl SlackApi {
    /// `None` without a bot token (Slack then gets answers only where the
    /// HTTP response can carry them: slash commands).
    pub fn from_config(config: &SlackConfig) -> Result<Option<Self>, String> {
        let Some(token) = config.bot_token.clone() else { return Ok(None) };
        let https = HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| format!("cannot load the system's TLS roots for Slack: {e}"))?
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .build();
        // slack-morphism joins `{base}/{method}`.
        let api_url = config.api_url.trim_end_matches('/').to_owned();
        let connector = SlackClientHyperConnector::from(https).with_slack_api_url(&api_url);
        Ok(Some(Self { client: Arc::new(SlackClient::new(connector)), token: SlackApiToken::new(token.into()) }))
    }

    fn content(reply: &Reply) -> SlackMessageContent {
        SlackMessageContent::new()
            .with_text(slack_blocks::fallback_text(reply))
            .with_blocks(slack_blocks::blocks(reply))
    }

    /// Posts `reply` in `channel`, in the thread of `thread_ts` when given; returns its ts.
    pub async fn post(&self, channel: &str, thread_ts: Option<&str>, reply: &Reply) -> ApiResult<String> {
        let mut req = SlackApiChatPostMessageRequest::new(channel.into(), Self::content(reply));
        if let Some(ts) = thread_ts {
            req = req.with_thread_ts(ts.into());
        }
        let session = self.client.open_session(&self.token);
        let resp = retrying("chat.postMessage", || session.chat_post_message(&req)).await?;
        Ok(resp.ts.to_string())
    }

    /// Replaces the message `ts` in `channel` with `reply`.
    pub async fn update(&self, channel: &str, ts: &str, reply: &Reply) -> ApiResult<()> {
        let req = SlackApiChatUpdateRequest::new(channel.into(), Self::content(reply), ts.into());
        let session = self.client.open_session(&self.token);
        retrying("chat.update", || session.chat_update(&req)).await.map(|_| ())
    }

    /// A message only `user` sees.
    pub async fn ephemeral(&self, channel: &str, user: &str, reply: &Reply) -> ApiResult<()> {
        let req = SlackApiChatPostEphemeralRequest::new(channel.into(), user.into(), Self::content(reply));
        let session = self.client.open_session(&self.token);
        retrying("chat.postEphemeral", || session.chat_post_ephemeral(&req)).await.map(|_| ())
    }

    /// Opens the modal `view` (Block Kit JSON) for the person behind `trigger_id`.
    pub async fn open_view(&self, trigger_id: &str, view: serde_json::Value) -> ApiResult<()> {
        let view: SlackView = serde_json::from_value(view)
            .map_err(|e| ApiError::permanent(format!("a form Slack would not take: {e}")))?;
        let req = SlackApiViewsOpenRequest::new(trigger_id.into(), view);
        let session = self.client.open_session(&self.token);
        retrying("views.open", || session.views_open(&req)).await.map(|_| ())
    }

    /// The email Slack has for `user` (needs the `users:read.email` scope).
    pub async fn email(&self, user: &str) -> ApiResult<Option<String>> {
        let session = self.client.open_session(&self.token);
        let req = SlackApiUsersInfoRequest::new(user.into());
        let resp = retrying("users.info", || session.users_info(&req)).await?;
        Ok(resp.user.profile.and_then(|p| p.email).map(|e| e.to_string()))
    }
}

#[async_trait::async_trait]
impl ChatApi for SlackApi {
    async fn post(&self, channel: &str, thread: Option<&str>, reply: &Reply) -> ApiResult<String> {
        SlackApi::post(self, channel, thread, reply).await
    }

    async fn edit(&self, channel: &str, remote: &str, reply: &Reply) -> ApiResult<()> {
        self.update(channel, remote, reply).await
    }

    async fn only_for(&self, channel: &str, user: &str, reply: &Reply) -> ApiResult<()> {
        self.ephemeral(channel, user, reply).await
    }
}
