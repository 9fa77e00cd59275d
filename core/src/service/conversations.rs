//! What conversations leave behind: each thread's bounded history, and the
//! audit trail of calls from outside agents. Surfaces record these through
//! the service, never by writing to a store themselves.

use super::Service;
use crate::error::Result;
use crate::event::{Event, EventData, payload};
use crate::model::ChatMessage;
use crate::policy::Caller;

/// Messages (questions and answers) kept per thread.
pub const CHAT_HISTORY: usize = 50;

/// Longest thread id and message stored; longer ones are cut.
const MAX_THREAD: usize = 200;
const MAX_MESSAGE: usize = 8000;
const MAX_REPLY: usize = 64 * 1024;

impl Service {
    /// Records one turn of `thread`: what `caller` asked and what was
    /// answered, with the answer's blocks (`reply`, JSON) when a surface
    /// shows them again.
    pub async fn record_turn(
        &self,
        caller: &Caller,
        thread: &str,
        asked: &str,
        answered: &str,
        reply: Option<String>,
    ) -> Result<()> {
        let now = self.now();
        let thread: String = thread.chars().take(MAX_THREAD).collect();
        // A reply too large to keep whole is kept as its text.
        let reply = reply.filter(|r| r.len() <= MAX_REPLY);
        for (author, text, reply) in [(caller.user.as_str(), asked, None), ("switchboard", answered, reply)] {
            let m = ChatMessage {
                thread: thread.clone(),
                at: now,
                author: author.to_owned(),
                text: text.chars().take(MAX_MESSAGE).collect(),
                reply,
            };
            self.ctx.graph.append_message(&m, CHAT_HISTORY).await?;
        }
        Ok(())
    }

    /// Deletes conversation history older than `chat.retention_days`
    /// (nothing when it is 0); returns how many messages went.
    pub async fn prune_chat(&self) -> Result<u64> {
        let days = self.ctx.config.chat.retention_days;
        if days == 0 {
            return Ok(0);
        }
        let before = self.now() - i64::from(days) * 86_400_000;
        Ok(self.ctx.graph.prune_messages(before).await?)
    }

    /// The stored messages of a thread, oldest first.
    pub async fn chat_history(&self, thread: &str) -> Result<Vec<ChatMessage>> {
        Ok(self.ctx.graph.thread_messages(thread, CHAT_HISTORY).await?)
    }

    /// Records a call from an outside agent (an MCP tool call): who, which
    /// tool, the arguments and the outcome (`ok` or an error code).
    pub async fn record_agent_call(
        &self,
        caller: &Caller,
        tool: &str,
        arguments: &serde_json::Value,
        outcome: &str,
    ) -> Result<()> {
        let call = EventData::McpCall(payload::McpCall {
            tool: tool.to_owned(),
            arguments: arguments.clone(),
            outcome: outcome.to_owned(),
        });
        let e = Event::of(&call, self.now(), caller.user.as_str(), &caller.source).subject(tool);
        self.record(&[e]).await
    }
}
