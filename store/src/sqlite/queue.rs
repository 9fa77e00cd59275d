//! `RunQueue` on SQLite: lease columns on the `runs` table, claimed and
//! written through the one writer thread, so a claim is atomic.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use switchboard_core::ids::RunId;
use switchboard_core::model::{Millis, Run};
use switchboard_core::queue::RunQueue;
use switchboard_core::store::StoreResult;

use super::SqliteStore;
use super::rows::{enum_str, from_json, to_json};

#[async_trait]
impl RunQueue for SqliteStore {
    async fn claim_run(
        &self,
        worker: &str,
        operations: &[String],
        now: Millis,
        lease_ms: i64,
    ) -> StoreResult<Option<Run>> {
        let worker = worker.to_owned();
        // The operations as a JSON array, matched with json_each: one statement shape.
        let operations = serde_json::to_string(operations).expect("strings serialize");
        self.write(move |conn| {
            let id: Option<String> = conn
                .prepare_cached(
                    "SELECT id FROM runs WHERE status IN ('approved', 'blocked', 'running') AND next_attempt_at <= ?1
                     AND (lease_until IS NULL OR lease_until < ?1)
                     AND json_extract(data, '$.operation') IN (SELECT value FROM json_each(?2))
                     ORDER BY next_attempt_at, id LIMIT 1",
                )?
                .query_row(params![now, operations], |r| r.get(0))
                .optional()?;
            let Some(id) = id else { return Ok(None) };
            conn.prepare_cached("UPDATE runs SET lease_owner = ?2, lease_until = ?3 WHERE id = ?1")?
                .execute(params![id, worker, now + lease_ms])?;
            conn.prepare_cached("SELECT data FROM runs WHERE id = ?1")?.query_row([id], |r| from_json(r, 0)).map(Some)
        })
        .await
    }

    async fn renew_lease(&self, run: &RunId, worker: &str, until: Millis) -> StoreResult<bool> {
        let (id, worker) = (run.to_string(), worker.to_owned());
        self.write(move |conn| {
            let changed = conn
                .prepare_cached("UPDATE runs SET lease_until = ?3 WHERE id = ?1 AND lease_owner = ?2")?
                .execute(params![id, worker, until])?;
            Ok(changed == 1)
        })
        .await
    }

    async fn save_leased(&self, run: &Run, worker: &str, retry_at: Option<Millis>) -> StoreResult<bool> {
        let (id, status, data, worker) = (run.id.to_string(), enum_str(&run.status), to_json(run), worker.to_owned());
        // A finished run, or one waiting out a backoff, gives its lease up.
        let release = run.status.is_final() || retry_at.is_some();
        self.write(move |conn| {
            let changed = if release {
                conn.prepare_cached(
                    "UPDATE runs SET status = ?3, data = ?4, lease_owner = NULL, lease_until = NULL,
                     next_attempt_at = COALESCE(?5, next_attempt_at)
                     WHERE id = ?1 AND lease_owner = ?2 AND status != 'cancelled'",
                )?
                .execute(params![id, worker, status, data, retry_at])?
            } else {
                conn.prepare_cached(
                    "UPDATE runs SET status = ?3, data = ?4 WHERE id = ?1 AND lease_owner = ?2 AND status != 'cancelled'",
                )?
                    .execute(params![id, worker, status, data])?
            };
            Ok(changed == 1)
        })
        .await
    }

    async fn lease_of(&self, run: &RunId) -> StoreResult<Option<(String, Millis)>> {
        let id = run.to_string();
        self.read(move |conn| {
            let lease: Option<(Option<String>, Option<Millis>)> = conn
                .prepare_cached("SELECT lease_owner, lease_until FROM runs WHERE id = ?1")?
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            Ok(lease.and_then(|(owner, until)| owner.zip(until)))
        })
        .await
    }
}
