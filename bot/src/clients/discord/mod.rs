//! Calls to Discord's REST API (v10): editing a deferred interaction
//! response, posting to a channel (notifications, gateway answers),
//! registering the `/sb` command, and the gateway's address. Sent as the
//! bot (`Authorization: Bot …`); `discord.api_proxy` replaces
//! `https://discord.com` (a proxy, or a fake in tests). A 429 is waited
//! out when Discord asks for at most ten seconds, up to three times; a
//! longer limit fails the call, and the outbox tries it again later.

pub mod embeds;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use switchboard_core::config::DiscordConfig;
use tracing::Instrument;

use crate::Reply;
use crate::send::{ApiError, ChatApi};

/// Discord's API, whose host `api_proxy` replaces.
const DISCORD: &str = "https://discord.com";
/// The API version every path is under.
const API: &str = "/api/v10";
/// A rate limit is waited out when Discord asks for at most this long…
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(10);
/// …this many times in one call.
const RATE_LIMIT_TRIES: usize = 3;
/// A call with no answer after this long fails.
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct DiscordApi {
    http: reqwest::Client,
    /// `https://discord.com/api/v10`, or the proxy's equivalent.
    base: String,
    /// `Bot <token>`.
    authorization: Arc<str>,
    application: u64,
}

impl std::fmt::Debug for DiscordApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscordApi").field("base", &self.base).finish_non_exhaustive()
    }
}

impl DiscordApi {
    /// `None` without a bot token and application id.
    pub fn from_config(config: &DiscordConfig) -> Option<Self> {
        let token = config.bot_token.as_deref()?;
        let application = config.application_id?;
        switchboard_agents::install_tls_provider();
        let http = reqwest::Client::builder()
            .user_agent(concat!("DiscordBot (switchboard, ", env!("CARGO_PKG_VERSION"), ")"))
            .timeout(TIMEOUT)
            .build()
            .ok()?;
        let host = config.api_proxy.as_deref().unwrap_or(DISCORD).trim_end_matches('/');
        Some(Self { http, base: format!("{host}{API}"), authorization: format!("Bot {token}").into(), application })
    }

    /// The bot's token, which the gateway's IDENTIFY carries.
    pub(crate) fn token(&self) -> &str {
        self.authorization.trim_start_matches("Bot ")
    }

    /// Replaces the deferred "thinking" response of interaction `token`.
    pub async fn edit_original(&self, token: &str, message: &Value) -> Result<(), ApiError> {
        let path = format!("/webhooks/{}/{token}/messages/@original", self.application);
        self.call("edit original interaction response", reqwest::Method::PATCH, &path, Some(message)).await.map(|_| ())
    }

    /// Posts `message` to `channel`; the new message's id.
    pub async fn post(&self, channel: u64, message: &Value) -> Result<String, ApiError> {
        if channel == 0 {
            return Err(ApiError::permanent("0 is not a Discord channel id"));
        }
        let path = format!("/channels/{channel}/messages");
        let sent = self.call("create message", reqwest::Method::POST, &path, Some(message)).await?;
        sent["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| ApiError::new("create message: Discord's answer has no id"))
    }

    /// Replaces message `message` in `channel` with `content`.
    pub async fn edit(&self, channel: u64, message: u64, content: &Value) -> Result<(), ApiError> {
        if channel == 0 || message == 0 {
            return Err(ApiError::permanent("0 is not a Discord id"));
        }
        let path = format!("/channels/{channel}/messages/{message}");
        self.call("edit message", reqwest::Method::PATCH, &path, Some(content)).await.map(|_| ())
    }

    /// Replaces the application's global commands with `commands`.
    pub async fn register(&self, commands: &Value) -> Result<usize, ApiError> {
        let path = format!("/applications/{}/commands", self.application);
        let put = self.call("bulk overwrite global application commands", reqwest::Method::PUT, &path, Some(commands));
        put.await.map(|c| c.as_array().map_or(0, Vec::len))
    }

    /// The gateway's WebSocket address (`GET /gateway/bot`).
    pub async fn gateway_url(&self) -> Result<String, ApiError> {
        let got = self.call("get gateway bot", reqwest::Method::GET, "/gateway/bot", None).await?;
        got["url"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| ApiError::new("get gateway bot: Discord's answer has no url"))
    }

    /// A call to Discord's API named `what`: in a span for traces (debug:
    /// only a trace exporter asks for it), rate limits waited out, its
    /// failure said as [`failed`] says it.
    async fn call(
        &self,
        what: &'static str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        let url = format!("{}{path}", self.base);
        async {
            for _ in 0..RATE_LIMIT_TRIES {
                let mut request = self.http.request(method.clone(), &url).header("authorization", &*self.authorization);
                if let Some(body) = body {
                    request = request.json(body);
                }
                let response = request.send().await.map_err(|e| ApiError::new(format!("{what}: {e}")))?;
                let status = response.status().as_u16();
                let retry_after =
                    response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
                let text = response.text().await.map_err(|e| ApiError::new(format!("{what}: {e}")))?;
                let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                if (200..300).contains(&status) {
                    return Ok(answer);
                }
                if status == 429
                    && let Some(wait) = rate_limit_wait(&answer, retry_after.as_deref())
                    && wait <= MAX_RATE_LIMIT_WAIT
                {
                    tracing::debug!(what, wait_ms = wait.as_millis() as u64, "Discord rate limit: waiting");
                    tokio::time::sleep(wait).await;
                    continue;
                }
                return Err(failed(what, status, &answer));
            }
            Err(ApiError::new(format!("{what}: still rate limited after {RATE_LIMIT_TRIES} waits")))
        }
        .instrument(tracing::debug_span!("discord", call = what))
        .await
    }
}

/// How long Discord asks to wait: the body's `retry_after` (seconds, with
/// a fraction), else the `Retry-After` header.
fn rate_limit_wait(answer: &Value, header: Option<&str>) -> Option<Duration> {
    let secs = answer["retry_after"].as_f64().or_else(|| header?.trim().parse::<f64>().ok())?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(3600.0)))
}

/// What a failed call says; permanent when Discord refused it for good
/// (400 a malformed message, 401 a bad token, 403 no access, 404 no such channel).
fn failed(what: &str, status: u16, answer: &Value) -> ApiError {
    let message = match answer["message"].as_str() {
        Some(m) => format!("{what}: Discord answered {status}: {m}"),
        None => format!("{what}: Discord answered {status}"),
    };
    match status {
        400 | 401 | 403 | 404 => ApiError::permanent(message),
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
