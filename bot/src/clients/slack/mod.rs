//! Calls to Slack's Web API: replies in threads, message updates after a
//! decision, ephemeral messages for one person, forms, and the verified
//! email behind a user id. Each is an HTTPS call with the bot token
//! (`POST {api_url}/{method}` with a JSON body; `users.info` a GET), whose
//! answer says `ok` or names an error. A 429 is retried after Slack's
//! `Retry-After` (up to [`RETRIES`] times, waiting at most [`MAX_WAIT`]
//! each); nothing else throttles, since Slack allows one message a second
//! per channel, not per workspace.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use switchboard_core::config::SlackConfig;

pub mod blocks;

use self::blocks as slack_blocks;
use crate::Reply;
use crate::send::{ApiError, ChatApi};

#[derive(Clone)]
pub struct SlackApi {
    http: reqwest::Client,
    /// `slack.api_url` without a trailing slash.
    base: Arc<str>,
    /// `Bearer <bot token>`.
    authorization: Arc<str>,
}

impl std::fmt::Debug for SlackApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackApi").field("base", &self.base).finish_non_exhaustive()
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
/// A call with no answer after this long fails.
const TIMEOUT: Duration = Duration::from_secs(30);

impl SlackApi {
    /// Calls as `token` (a bot token, or an app-level one for Socket Mode)
    /// to the Web API at `api_url`.
    pub(crate) fn with_token(api_url: &str, token: &str) -> Result<Self, String> {
        switchboard_agents::install_tls_provider();
        let http = reqwest::Client::builder()
            .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| format!("cannot build the Slack client: {e}"))?;
        Ok(Self { http, base: api_url.trim_end_matches('/').into(), authorization: format!("Bearer {token}").into() })
    }

    /// One Web API call: `POST {base}/{method}` with `body` as JSON (or
    /// nothing), or a GET with `query`; in a span for traces (debug: only a
    /// trace exporter asks for it), 429s waited out. The answer when Slack
    /// says `ok`; else its error code, permanent when no retry can fix it.
    pub(crate) async fn call(
        &self,
        method: &'static str,
        body: Option<&Value>,
        query: &[(&str, &str)],
    ) -> ApiResult<Value> {
        use tracing::Instrument;
        self.attempts(method, body, query).instrument(tracing::debug_span!("slack", call = method)).await
    }

    async fn attempts(&self, method: &'static str, body: Option<&Value>, query: &[(&str, &str)]) -> ApiResult<Value> {
        let url = format!("{}/{method}", self.base);
        let http = &self.http;
        let mut retried = 0;
        loop {
            let request = match body {
                _ if !query.is_empty() => http.get(&url).query(query),
                Some(body) => http.post(&url).json(body),
                None => http.post(&url).header("content-type", "application/x-www-form-urlencoded"),
            };
            let response = request
                .header("authorization", &*self.authorization)
                .send()
                .await
                .map_err(|e| ApiError::new(format!("{method}: {e}")))?;
            let status = response.status().as_u16();
            let retry_after =
                response.headers().get("retry-after").and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
            let answer: Value = response.json().await.unwrap_or(Value::Null);
            if status == 429 && retried < RETRIES {
                let wait = Duration::from_secs(retry_after.unwrap_or(1));
                if wait > MAX_WAIT {
                    return Err(ApiError::new(format!("{method}: rate limited for {}s", wait.as_secs())));
                }
                tracing::info!(call = method, wait_ms = wait.as_millis() as u64, "Slack asked to slow down; waiting");
                tokio::time::sleep(wait).await;
                retried += 1;
                continue;
            }
            if answer["ok"].as_bool() == Some(true) {
                return Ok(answer);
            }
            let code = answer["error"].as_str().map_or_else(|| format!("HTTP {status}"), str::to_owned);
            let message = format!("{method}: {code}");
            return Err(if PERMANENT.contains(&code.as_str()) {
                ApiError::permanent(message)
            } else {
                ApiError::new(message)
            });
        }
    }

    /// `None` without a bot token (Slack then gets answers only where the
    /// HTTP response can carry them: slash commands).
    pub fn from_config(config: &SlackConfig) -> Result<Option<Self>, String> {
        let Some(token) = config.bot_token.as_deref() else { return Ok(None) };
        Self::with_token(&config.api_url, token).map(Some)
    }

    /// A message's `text` (what notifications and previews show) and `blocks`.
    fn content(reply: &Reply) -> Value {
        json!({"text": slack_blocks::fallback_text(reply), "blocks": slack_blocks::blocks_json(reply)})
    }

    /// Sends a message (`body` made from `reply`); when Slack refuses its
    /// blocks, sends it again as text alone rather than lose it.
    async fn send_reply(&self, method: &'static str, mut body: Value, reply: &Reply) -> ApiResult<Value> {
        match self.call(method, Some(&body), &[]).await {
            Err(e) if e.to_string().ends_with(": invalid_blocks") => {
                tracing::error!(call = method, "Slack refused a reply's blocks; sending it as text");
                body["blocks"] = slack_blocks::text_only(reply);
                self.call(method, Some(&body), &[]).await
            }
            sent => sent,
        }
    }

    /// Posts `reply` in `channel`, in the thread of `thread_ts` when given; returns its ts.
    pub async fn post(&self, channel: &str, thread_ts: Option<&str>, reply: &Reply) -> ApiResult<String> {
        let mut body = Self::content(reply);
        body["channel"] = json!(channel);
        if let Some(ts) = thread_ts {
            body["thread_ts"] = json!(ts);
        }
        let sent = self.send_reply("chat.postMessage", body, reply).await?;
        sent["ts"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| ApiError::new("chat.postMessage: Slack's answer has no ts"))
    }

    /// Replaces the message `ts` in `channel` with `reply`.
    pub async fn update(&self, channel: &str, ts: &str, reply: &Reply) -> ApiResult<()> {
        let mut body = Self::content(reply);
        (body["channel"], body["ts"]) = (json!(channel), json!(ts));
        self.send_reply("chat.update", body, reply).await.map(|_| ())
    }

    /// A message only `user` sees.
    pub async fn ephemeral(&self, channel: &str, user: &str, reply: &Reply) -> ApiResult<()> {
        let mut body = Self::content(reply);
        (body["channel"], body["user"]) = (json!(channel), json!(user));
        self.send_reply("chat.postEphemeral", body, reply).await.map(|_| ())
    }

    /// Opens the modal `view` (Block Kit JSON) for the person behind `trigger_id`.
    pub async fn open_view(&self, trigger_id: &str, view: Value) -> ApiResult<()> {
        if view["type"] != "modal" {
            return Err(ApiError::permanent("a form Slack would not take: a view's type must be \"modal\""));
        }
        let body = json!({"trigger_id": trigger_id, "view": view});
        self.call("views.open", Some(&body), &[]).await.map(|_| ())
    }

    /// The email Slack has for `user` (needs the `users:read.email` scope).
    pub async fn email(&self, user: &str) -> ApiResult<Option<String>> {
        let got = self.call("users.info", None, &[("user", user)]).await?;
        Ok(got["user"]["profile"]["email"].as_str().filter(|e| !e.is_empty()).map(str::to_owned))
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
