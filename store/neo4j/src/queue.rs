//! `RunQueue` in Cypher: lease properties on the `Run` nodes.
//!
//! Every conditional write first touches the run (`SET n.touched = …`), which
//! takes its write lock on Neo4j, and only then checks the condition, so the
//! check sees the last committed lease and two workers cannot both claim a
//! run. Servers with optimistic concurrency (ArcadeDB) instead fail one of two
//! racing transactions, which is retried and then sees the other's lease.

use crate::bolt::query;
use async_trait::async_trait;
use switchboard_core::ids::RunId;
use switchboard_core::model::{Millis, Run};
use switchboard_core::queue::RunQueue;
use switchboard_core::store::StoreResult;

use crate::{Neo4jGraph, corrupt, doc, to_json};

/// Candidates looked at per claim: another worker may take the first.
const CANDIDATES: i64 = 8;

#[async_trait]
impl RunQueue for Neo4jGraph {
    async fn claim_run(
        &self,
        worker: &str,
        operations: &[String],
        now: Millis,
        lease_ms: i64,
    ) -> StoreResult<Option<Run>> {
        let candidates = self
            .rows(
                query(
                    "MATCH (n:Run) WHERE n.status IN ['approved', 'blocked', 'running'] AND n.next_attempt_at <= $now
                     AND (n.lease_until IS NULL OR n.lease_until < $now) AND n.operation IN $operations
                     RETURN n.id AS id ORDER BY n.next_attempt_at, n.id LIMIT $candidates",
                )
                .param("now", now)
                .param("operations", operations.to_vec())
                .param("candidates", CANDIDATES),
            )
            .await?;
        for c in &candidates {
            let id: String = c.get("id").map_err(corrupt)?;
            let claimed = self
                .transaction(vec![
                    query(
                        "MATCH (n:Run {id: $id}) SET n.touched = $now
                         WITH n WHERE n.status IN ['approved', 'blocked', 'running'] AND n.next_attempt_at <= $now
                         AND (n.lease_until IS NULL OR n.lease_until < $now)
                         SET n.lease_owner = $worker, n.lease_until = $until
                         RETURN n.doc AS doc",
                    )
                    .param("id", id)
                    .param("now", now)
                    .param("worker", worker)
                    .param("until", now + lease_ms),
                ])
                .await?;
            if let Some(row) = claimed.first() {
                return doc(row).map(Some);
            }
        }
        Ok(None)
    }

    async fn renew_lease(&self, run: &RunId, worker: &str, until: Millis) -> StoreResult<bool> {
        let rows = self
            .transaction(vec![
                query(
                    "MATCH (n:Run {id: $id}) SET n.touched = $until
                     WITH n WHERE n.lease_owner = $worker
                     SET n.lease_until = $until RETURN n.id AS id",
                )
                .param("id", run.to_string())
                .param("worker", worker)
                .param("until", until),
            ])
            .await?;
        Ok(!rows.is_empty())
    }

    async fn save_leased(&self, run: &Run, worker: &str, retry_at: Option<Millis>) -> StoreResult<bool> {
        // A finished run, or one waiting out a backoff, gives its lease up.
        let release = run.status.is_final() || retry_at.is_some();
        let cypher = if release {
            "MATCH (n:Run {id: $id}) SET n.touched = timestamp()
             WITH n WHERE n.lease_owner = $worker AND n.status <> 'cancelled'
             SET n.status = $status, n.doc = $doc, n.lease_owner = null, n.lease_until = null,
                 n.next_attempt_at = coalesce($retry_at, n.next_attempt_at)
             RETURN n.id AS id"
        } else {
            "MATCH (n:Run {id: $id}) SET n.touched = timestamp()
             WITH n WHERE n.lease_owner = $worker AND n.status <> 'cancelled'
             SET n.status = $status, n.doc = $doc
             RETURN n.id AS id"
        };
        let rows = self
            .transaction(vec![
                query(cypher)
                    .param("id", run.id.to_string())
                    .param("worker", worker)
                    .param("status", run.status.as_str())
                    .param("doc", to_json(run))
                    .param("retry_at", retry_at),
            ])
            .await?;
        Ok(!rows.is_empty())
    }

    async fn lease_of(&self, run: &RunId) -> StoreResult<Option<(String, Millis)>> {
        let rows = self
            .rows(
                query("MATCH (n:Run {id: $id}) RETURN n.lease_owner AS owner, n.lease_until AS until")
                    .param("id", run.to_string()),
            )
            .await?;
        let Some(r) = rows.first() else { return Ok(None) };
        let owner: Option<String> = r.get("owner").map_err(corrupt)?;
        let until: Option<i64> = r.get("until").map_err(corrupt)?;
        Ok(owner.zip(until))
    }
}
