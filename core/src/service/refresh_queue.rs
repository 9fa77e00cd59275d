//! The dependency refresh queue: one ticket per repository in the store, so
//! a burst of pushes is one refresh whichever replica received them, and
//! each refresh is taken once across replicas.

use serde_json::json;

use super::Service;
use crate::error::Result;
use crate::model::Millis;

const KIND: &str = "dependency-refresh";
/// A refresh nobody takes (no GitHub App in any process) is forgotten after a day.
const KEEP_MS: Millis = 24 * 3600 * 1000;

impl Service {
    /// Queues (or moves back to `due_at`) the refresh of `repository`.
    pub async fn queue_refresh(&self, repository: &str, due_at: Millis) -> Result<()> {
        let ticket = json!({"repository": repository, "due_at": due_at});
        Ok(self.ctx.graph.put_ticket(KIND, repository, &ticket, self.now() + KEEP_MS).await?)
    }

    /// Repositories whose refresh is due now (at most `limit`).
    pub async fn due_refreshes(&self, limit: usize) -> Result<Vec<String>> {
        let now = self.now();
        let queued = self.ctx.graph.list_tickets(KIND, now, limit).await?;
        Ok(queued
            .into_iter()
            .filter(|(_, t)| t["due_at"].as_i64().is_none_or(|due| due <= now))
            .map(|(r, _)| r)
            .collect())
    }

    /// Takes the refresh of `repository`: true for exactly one caller.
    pub async fn take_refresh(&self, repository: &str) -> Result<bool> {
        Ok(self.ctx.graph.take_ticket(KIND, repository, self.now()).await?.is_some())
    }
}
