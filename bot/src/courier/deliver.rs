//! The courier's second half: sending what the outbox holds as it falls
//! due, through the platforms' APIs, each attempt recorded (sent, retried
//! with backoff, or dead), and given back unsent when the process stops.

use switchboard_core::outbox::{Attempt, MessageStatus, OutMessage, Target};

use super::{ATTEMPTS, BATCH, Courier, ONLY_FOR_SENT, PARENT_WAIT_MS, backoff_ms};
use crate::reply::Reply;
use crate::send::ApiError;

impl Courier {
    /// Sends every due message once; returns how many were attempted.
    pub async fn deliver_due(&self) -> Result<usize, String> {
        let now = self.service.now();
        let due = self.outbox.due_messages(now, BATCH).await.map_err(|e| e.to_string())?;
        let n = due.len();
        let mut due = due.into_iter();
        while let Some(m) = due.next() {
            if self.stopping() {
                // Stopping: what was claimed and not sent is given back at once.
                let left: Vec<i64> = std::iter::once(m.id).chain(due.map(|m| m.id)).collect();
                self.outbox.release_messages(&left, now).await.map_err(|e| e.to_string())?;
                break;
            }
            self.deliver(m).await?;
        }
        Ok(n)
    }

    async fn deliver(&self, m: OutMessage) -> Result<(), String> {
        let now = self.service.now();
        let target = m.target();
        let parent = match target {
            Some(Target::Remote(id)) => Some(id.to_owned()),
            Some(Target::OnlyFor(_)) | None => None,
            Some(Target::Key(key)) => match self.outbox.get_message(key).await.map_err(|e| e.to_string())? {
                Some(p) if p.status == MessageStatus::Pending => {
                    // Not sent yet: wait for it (not an attempt).
                    let later = Attempt {
                        status: MessageStatus::Pending,
                        attempts: m.attempts,
                        error: m.last_error.clone(),
                        next_attempt_at: now + PARENT_WAIT_MS,
                        sent_at: None,
                        remote_id: None,
                    };
                    return self.outbox.record_attempt(m.id, &later).await.map_err(|e| e.to_string());
                }
                Some(p) => p.remote_id,
                None => None,
            },
        };
        let result = match serde_json::from_str::<Reply>(&m.body) {
            Ok(reply) if let Some(Target::OnlyFor(user)) = target => match self.apis.get(m.platform) {
                Ok(api) => api.only_for(&m.channel, user, &reply).await.map(|()| format!("{ONLY_FOR_SENT}{user}")),
                Err(e) => Err(e),
            },
            Ok(_) if m.edit && parent.is_none() => {
                Err(ApiError::permanent("the message to edit was never sent; nothing to edit"))
            }
            Ok(reply) if m.edit => self.edit(&m, parent.as_deref().unwrap_or_default(), &reply).await,
            Ok(reply) => self.send(&m, parent.as_deref(), &reply).await,
            Err(e) => Err(ApiError::permanent(format!("the stored message is not a reply ({e}); it cannot be sent"))),
        };
        let attempts = m.attempts + 1;
        let counted = match &result {
            Ok(_) => "sent",
            Err(e) if attempts >= ATTEMPTS || e.permanent => "failed",
            Err(_) => "retrying",
        };
        switchboard_core::metrics::chat_message(m.platform.as_str(), counted);
        let attempt = match result {
            Ok(remote) => Attempt {
                status: MessageStatus::Sent,
                attempts,
                error: None,
                next_attempt_at: now,
                sent_at: Some(now),
                remote_id: Some(remote),
            },
            Err(error) => {
                let dead = attempts >= ATTEMPTS || error.permanent;
                if error.permanent {
                    tracing::error!(key = %m.key, %error, channel = %m.channel, "chat message refused for good; check the team's channel id and that the bot is in it");
                } else if dead {
                    tracing::error!(key = %m.key, %error, "chat message not delivered after {ATTEMPTS} attempts");
                } else {
                    tracing::warn!(key = %m.key, %error, attempts, "chat message not delivered; will retry");
                }
                Attempt {
                    status: if dead { MessageStatus::Dead } else { MessageStatus::Pending },
                    attempts,
                    error: Some(error.message),
                    next_attempt_at: now + backoff_ms(attempts),
                    sent_at: None,
                    remote_id: None,
                }
            }
        };
        self.outbox.record_attempt(m.id, &attempt).await.map_err(|e| e.to_string())
    }

    /// Posts one message; the platform's id for it.
    async fn send(&self, m: &OutMessage, thread: Option<&str>, reply: &Reply) -> Result<String, ApiError> {
        self.apis.get(m.platform)?.post(&m.channel, thread, reply).await
    }

    /// Replaces message `remote` (Slack `ts`, Discord message id) with
    /// `reply`; the id it keeps.
    async fn edit(&self, m: &OutMessage, remote: &str, reply: &Reply) -> Result<String, ApiError> {
        self.apis.get(m.platform)?.edit(&m.channel, remote, reply).await.map(|()| remote.to_owned())
    }
}
