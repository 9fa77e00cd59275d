//! MCP sessions in the store: what a client's `initialize` said, and which
//! token opened the session, so a request on the session can reach any
//! replica (the MCP server restores the session from what it kept) and no
//! other token can use it. Kept as tickets for a day after they open.

use serde_json::Value;

use super::Service;
use super::accounts::hash_token;
use crate::error::Result;
use crate::model::Millis;

const SESSION: &str = "mcp_session";
const OWNER: &str = "mcp_session_owner";
/// How long an MCP session is kept after it opened.
pub const MCP_SESSION_TTL_MS: Millis = 24 * 3600 * 1000;

impl Service {
    /// The key a session's owner is kept under: derived from the token's
    /// secret, never the secret itself nor its stored hash.
    pub fn mcp_owner(&self, secret: &str) -> String {
        hash_token(&format!("mcp-session-owner:{secret}"))
    }

    /// Keeps session `id`'s state (the client's `initialize`).
    pub async fn keep_mcp_session(&self, id: &str, state: &Value) -> Result<()> {
        let now = self.now();
        self.ctx.graph.prune_tickets(now).await?;
        self.ctx.graph.put_ticket(SESSION, id, state, now + MCP_SESSION_TTL_MS).await?;
        Ok(())
    }

    pub async fn mcp_session(&self, id: &str) -> Result<Option<Value>> {
        Ok(self.ctx.graph.get_ticket(SESSION, id, self.now()).await?)
    }

    /// Records that the token keyed `owner` ([`Service::mcp_owner`]) opened session `id`.
    pub async fn own_mcp_session(&self, id: &str, owner: &str) -> Result<()> {
        let expires = self.now() + MCP_SESSION_TTL_MS;
        self.ctx.graph.put_ticket(OWNER, id, &Value::String(owner.to_owned()), expires).await?;
        Ok(())
    }

    pub async fn mcp_session_owner(&self, id: &str) -> Result<Option<String>> {
        let owner = self.ctx.graph.get_ticket(OWNER, id, self.now()).await?;
        Ok(owner.and_then(|v| v.as_str().map(str::to_owned)))
    }

    /// Forgets session `id` (closed, or over its token's cap).
    pub async fn drop_mcp_session(&self, id: &str) -> Result<()> {
        let now = self.now();
        self.ctx.graph.take_ticket(SESSION, id, now).await?;
        self.ctx.graph.take_ticket(OWNER, id, now).await?;
        Ok(())
    }
}
