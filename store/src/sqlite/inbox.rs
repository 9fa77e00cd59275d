//! `Inbox` on SQLite: a table of deliveries, unique on (source, delivery id),
//! and one of their bodies (so claiming and finishing a delivery rewrites a
//! small row, not its body); written through the one writer thread (so an
//! acknowledged delivery is committed).

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use switchboard_core::inbox::{Accepted, CLAIM_MS, Delivery, DeliveryStatus, Inbox, NewDelivery, Outcome, PRUNE_SLICE};
use switchboard_core::model::Millis;
use switchboard_core::store::StoreResult;

use super::SqliteStore;

const COLUMNS: &str = "id, source, delivery_id, event, received_at, body, status, attempts, last_error, next_attempt_at, finished_at, summary";
/// Deliveries with their bodies (`id` is the same in both).
const DELIVERIES: &str = "inbox JOIN inbox_bodies USING (id)";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Delivery> {
    let status: String = r.get(6)?;
    Ok(Delivery {
        id: r.get(0)?,
        source: r.get(1)?,
        delivery_id: r.get(2)?,
        event: r.get(3)?,
        received_at: r.get(4)?,
        body: r.get(5)?,
        status: DeliveryStatus::parse(&status).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(6, rusqlite::types::Type::Text, status.clone().into())
        })?,
        attempts: r.get(7)?,
        last_error: r.get(8)?,
        next_attempt_at: r.get(9)?,
        finished_at: r.get(10)?,
        summary: r.get(11)?,
    })
}

#[async_trait]
impl Inbox for SqliteStore {
    async fn accept(&self, d: &NewDelivery) -> StoreResult<Accepted> {
        let d = d.clone();
        self.write(move |conn| {
            let added = conn
                .prepare_cached(
                    "INSERT OR IGNORE INTO inbox (source, delivery_id, event, received_at, status, next_attempt_at)
                 VALUES (?1, ?2, ?3, ?4, 'pending', ?4)",
                )?
                .execute(params![d.source, d.delivery_id, d.event, d.received_at])?;
            if added == 1 {
                let id = conn.last_insert_rowid();
                conn.prepare_cached("INSERT INTO inbox_bodies (id, body) VALUES (?1, ?2)")?
                    .execute(params![id, d.body])?;
                return Ok(Accepted::New(id));
            }
            let id: i64 = conn
                .prepare_cached("SELECT id FROM inbox WHERE source = ?1 AND delivery_id = ?2")?
                .query_row(params![d.source, d.delivery_id], |r| r.get(0))?;
            Ok(Accepted::Duplicate(id))
        })
        .await
    }

    async fn due(&self, now: Millis, limit: usize) -> StoreResult<Vec<Delivery>> {
        // Read and claimed in one write: the writer thread makes it atomic.
        self.write(move |conn| {
            let due: Vec<Delivery> = conn
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM {DELIVERIES} WHERE status = 'pending' AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT ?2"
                ))?
                .query_map(params![now, limit as i64], row)?
                .collect::<rusqlite::Result<_>>()?;
            let mut claim = conn.prepare_cached("UPDATE inbox SET next_attempt_at = ?2 WHERE id = ?1")?;
            for d in &due {
                claim.execute(params![d.id, now + CLAIM_MS])?;
            }
            Ok(due)
        })
        .await
    }

    async fn release(&self, ids: &[i64], now: Millis) -> StoreResult<()> {
        let ids = ids.to_vec();
        self.write(move |conn| super::rows::release_claims(conn, "inbox", &ids, now)).await
    }

    async fn prune_deliveries(&self, before: Millis) -> StoreResult<u64> {
        let mut pruned = 0;
        loop {
            // A finished delivery's next_attempt_at is when it finished, so
            // the due index finds them by status and time; finished_at says.
            let n = self
                .write(move |conn| {
                    let ids: Vec<i64> = conn
                        .prepare_cached(
                            "SELECT id FROM inbox WHERE status IN ('done', 'unmapped') AND next_attempt_at < ?1
                             AND finished_at < ?1 LIMIT ?2",
                        )?
                        .query_map(params![before, PRUNE_SLICE as i64], |r| r.get(0))?
                        .collect::<rusqlite::Result<_>>()?;
                    let mut row = conn.prepare_cached("DELETE FROM inbox WHERE id = ?1")?;
                    let mut body = conn.prepare_cached("DELETE FROM inbox_bodies WHERE id = ?1")?;
                    for id in &ids {
                        row.execute([id])?;
                        body.execute([id])?;
                    }
                    Ok(ids.len())
                })
                .await?;
            pruned += n as u64;
            if n < PRUNE_SLICE {
                return Ok(pruned);
            }
        }
    }

    async fn finish(&self, id: i64, o: &Outcome) -> StoreResult<()> {
        let o = o.clone();
        self.write(move |conn| {
            conn.prepare_cached(
                "UPDATE inbox SET status = ?2, attempts = ?3, last_error = ?4, next_attempt_at = ?5, finished_at = ?6, summary = ?7
                 WHERE id = ?1",
            )?
            .execute(params![id, o.status.as_str(), o.attempts, o.error, o.next_attempt_at, o.finished_at, o.summary])?;
            Ok(())
        })
        .await
    }

    async fn list_deliveries(&self, status: Option<DeliveryStatus>, limit: usize) -> StoreResult<Vec<Delivery>> {
        self.read(move |conn| match status {
            Some(s) => conn
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM {DELIVERIES} WHERE status = ?1 ORDER BY id DESC LIMIT ?2"
                ))?
                .query_map(params![s.as_str(), limit as i64], row)?
                .collect(),
            None => conn
                .prepare_cached(&format!("SELECT {COLUMNS} FROM {DELIVERIES} ORDER BY id DESC LIMIT ?1"))?
                .query_map(params![limit as i64], row)?
                .collect(),
        })
        .await
    }

    async fn get_delivery(&self, id: i64) -> StoreResult<Option<Delivery>> {
        self.read(move |conn| {
            conn.prepare_cached(&format!("SELECT {COLUMNS} FROM {DELIVERIES} WHERE id = ?1"))?
                .query_row([id], row)
                .optional()
        })
        .await
    }

    async fn replay(&self, id: i64, now: Millis) -> StoreResult<bool> {
        self.write(move |conn| {
            let changed = conn
                .prepare_cached(
                    "UPDATE inbox SET status = 'pending', attempts = 0, next_attempt_at = ?2, finished_at = NULL
                     WHERE id = ?1 AND status IN ('dead', 'unmapped')",
                )?
                .execute(params![id, now])?;
            Ok(changed == 1)
        })
        .await
    }

    async fn oldest_pending_delivery(&self) -> StoreResult<Option<Millis>> {
        self.read(|conn| {
            conn.query_row("SELECT min(received_at) FROM inbox WHERE status = 'pending'", [], |r| r.get(0))
        })
        .await
    }

    async fn inbox_counts(&self) -> StoreResult<Vec<(DeliveryStatus, u64)>> {
        self.read(|conn| super::rows::status_counts(conn, "inbox", &DeliveryStatus::ALL, DeliveryStatus::as_str)).await
    }
}
