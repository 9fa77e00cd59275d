//! What the chat platform surfaces share: the conversation, the service and
//! a small memory of deliveries already handled (platforms retry).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use switchboard_core::Service;
use switchboard_core::limits::{ClientAddr, Limit, Who};

use switchboard_core::model::ChatPlatform;
use switchboard_core::outbox::NewMessage;

use crate::clients::discord::DiscordApi;
use crate::clients::slack::SlackApi;
use crate::send::ChatApis;
use crate::{Conversation, Reply, messages};

/// Largest distance between a platform's request timestamp and now, in
/// seconds (Slack's and Discord's signed requests alike).
pub const WINDOW_SECS: i64 = 5 * 60;

/// Deliveries remembered for de-duplication.
const SEEN: usize = 4096;
/// How long a Slack user's email (or its absence) is trusted before asking again.
pub const EMAIL_TTL: Duration = Duration::from_secs(600);
/// Emails remembered at most.
const EMAILS: usize = 10_000;

type Emails = HashMap<String, (Option<String>, Instant)>;

#[derive(Clone)]
pub struct ChatState {
    pub service: Service,
    pub conversation: Arc<Conversation>,
    pub slack: Option<SlackApi>,
    pub discord: Option<DiscordApi>,
    seen: Arc<Mutex<VecDeque<String>>>,
    emails: Arc<Mutex<Emails>>,
}

impl ChatState {
    /// Fails with a sentence when a platform's settings cannot work.
    pub fn new(service: Service, conversation: Arc<Conversation>) -> Result<Self, String> {
        let slack = SlackApi::from_config(&service.config().slack)?;
        let discord = DiscordApi::from_config(&service.config().discord);
        Ok(Self { service, conversation, slack, discord, seen: Arc::default(), emails: Arc::default() })
    }

    /// The clients the courier sends through.
    pub fn apis(&self) -> ChatApis {
        ChatApis {
            slack: self.slack.clone().map(|a| std::sync::Arc::new(a) as std::sync::Arc<dyn crate::send::ChatApi>),
            discord: self.discord.clone().map(|a| std::sync::Arc::new(a) as std::sync::Arc<dyn crate::send::ChatApi>),
        }
    }

    /// The email looked up for a Slack user recently: `Some(None)` when they have none.
    pub(crate) fn cached_email(&self, user: &str) -> Option<Option<String>> {
        let emails = self.emails.lock().unwrap_or_else(|e| e.into_inner());
        emails.get(user).filter(|(_, at)| at.elapsed() < EMAIL_TTL).map(|(e, _)| e.clone())
    }

    pub(crate) fn remember_email(&self, user: &str, email: Option<String>) {
        let mut emails = self.emails.lock().unwrap_or_else(|e| e.into_inner());
        if emails.len() >= EMAILS {
            emails.retain(|_, (_, at)| at.elapsed() < EMAIL_TTL);
            if emails.len() >= EMAILS {
                emails.clear();
            }
        }
        emails.insert(user.to_owned(), (email, Instant::now()));
    }

    /// A one-time code that links chat account `user`, and where to enter it.
    pub(crate) async fn link_reply(&self, platform: ChatPlatform, user: &str) -> Reply {
        let code = match self.service.link_code(platform, user).await {
            Ok(code) => code,
            Err(e) => {
                tracing::error!(error = %e, "cannot keep a link code");
                return Reply::text(messages::no_link_code());
            }
        };
        Reply::text(messages::link_code(&code))
            .link("Link in the portal", format!("{}/link", self.service.config().server.base_url()))
    }

    /// Sends `reply` through the outbox, the one way out to chat: durable,
    /// retried, and sent once per `key` whichever replica enqueues it.
    /// `place` says where (a thread, an edit, one person).
    pub(crate) async fn send(
        &self,
        key: String,
        platform: ChatPlatform,
        channel: &str,
        reply: &Reply,
        place: impl FnOnce(NewMessage) -> NewMessage,
    ) {
        let body = serde_json::to_string(reply).expect("replies serialize");
        let message = place(NewMessage::new(key, platform, channel.to_owned(), body, self.service.now()));
        if let Err(e) = self.service.send_chat(&message).await {
            tracing::error!(error = %e, key = %message.key, "cannot put a chat message in the outbox");
        }
    }

    /// True the first time `id` is seen (recently).
    pub(crate) fn first_time(&self, id: &str) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.iter().any(|s| s == id) {
            return false;
        }
        if seen.len() >= SEEN {
            seen.pop_front();
        }
        seen.push_back(id.to_owned());
        true
    }
}

/// A request a platform surface refuses: status, a stable code, and what to do.
#[derive(Debug)]
pub struct Refused {
    pub status: axum::http::StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds to wait, sent as `Retry-After` (rate limits).
    pub retry_after: Option<u64>,
}

impl Refused {
    pub fn new(status: axum::http::StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), retry_after: None }
    }
}

impl ChatState {
    /// A request refused for its signature counts against its address;
    /// past `limits.bad_credentials_per_minute` the refusal becomes 429.
    /// Correctly signed requests are never counted.
    pub(crate) fn count_refusal(&self, address: Option<ClientAddr>, refused: Refused) -> Refused {
        if refused.status != axum::http::StatusCode::UNAUTHORIZED {
            return refused;
        }
        let address = address.map(|a| a.0).unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        match self.service.limits().check(Limit::BadCredentials, Who::Address(address)) {
            Err(switchboard_core::Error::RateLimited { message, retry_after_secs }) => Refused {
                status: axum::http::StatusCode::TOO_MANY_REQUESTS,
                code: "rate_limited",
                message,
                retry_after: Some(retry_after_secs),
            },
            _ => refused,
        }
    }
}

impl axum::response::IntoResponse for Refused {
    fn into_response(self) -> axum::response::Response {
        tracing::info!(status = %self.status, code = self.code, "chat platform request refused");
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}
