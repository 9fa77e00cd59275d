//! Web chat replies handed from the replica that wrote them to the one the
//! browser's stream reaches: a streamed turn is announced in the store when
//! it starts and its finished reply kept there, so any replica can deliver
//! it (without the words as they were written) to the person who asked.

use serde::{Deserialize, Serialize};

use super::Service;
use crate::error::Result;
use crate::ids::UserName;
use crate::model::Millis;

const REPLY: &str = "chat_reply";
/// How long a streamed reply waits to be picked up.
pub const CHAT_REPLY_TTL_MS: Millis = 10 * 60 * 1000;

/// A streamed turn: whose, and its reply (HTML) once written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatReply {
    pub user: UserName,
    #[serde(default)]
    pub html: Option<String>,
}

impl Service {
    /// Announces stream `id` of `user` (its reply is being written), or keeps its finished reply.
    pub async fn keep_chat_reply(&self, id: &str, reply: &ChatReply) -> Result<()> {
        let now = self.now();
        self.ctx.graph.prune_tickets(now).await?;
        let value = serde_json::to_value(reply).expect("replies serialize");
        self.ctx.graph.put_ticket(REPLY, id, &value, now + CHAT_REPLY_TTL_MS).await?;
        Ok(())
    }

    /// Stream `id` as `user` may see it, left in place: `None` when there is
    /// none of theirs.
    pub async fn chat_reply(&self, id: &str, user: &UserName) -> Result<Option<ChatReply>> {
        let found = self.ctx.graph.get_ticket(REPLY, id, self.now()).await?.and_then(read);
        Ok(found.filter(|r| &r.user == user))
    }

    /// Takes stream `id`'s finished reply for `user`: whoever takes it
    /// delivers it, once.
    pub async fn take_chat_reply(&self, id: &str, user: &UserName) -> Result<Option<String>> {
        if self.chat_reply(id, user).await?.and_then(|r| r.html).is_none() {
            return Ok(None);
        }
        let taken = self.ctx.graph.take_ticket(REPLY, id, self.now()).await?.and_then(read);
        Ok(taken.and_then(|r| r.html))
    }
}

fn read(v: serde_json::Value) -> Option<ChatReply> {
    serde_json::from_value(v).ok()
}
