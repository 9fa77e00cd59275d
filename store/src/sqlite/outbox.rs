//! `Outbox` on SQLite: one table, unique on the message key, written through
//! the one writer thread (so an enqueued message is committed).

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use switchboard_core::model::{ChatPlatform, Millis};
use switchboard_core::outbox::{Attempt, CLAIM_MS, MessageStatus, NewMessage, OutMessage, Outbox};
use switchboard_core::store::StoreResult;

use super::SqliteStore;

const COLUMNS: &str = "id, key, platform, channel, reply_to, body, created_at, status, attempts, last_error, next_attempt_at, sent_at, remote_id, edit";

fn corrupt(column: usize, value: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, value.into())
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutMessage> {
    let platform: String = r.get(2)?;
    let status: String = r.get(7)?;
    Ok(OutMessage {
        id: r.get(0)?,
        key: r.get(1)?,
        platform: ChatPlatform::parse(&platform).ok_or_else(|| corrupt(2, platform.clone()))?,
        channel: r.get(3)?,
        reply_to: r.get(4)?,
        body: r.get(5)?,
        created_at: r.get(6)?,
        status: MessageStatus::parse(&status).ok_or_else(|| corrupt(7, status.clone()))?,
        attempts: r.get(8)?,
        last_error: r.get(9)?,
        next_attempt_at: r.get(10)?,
        sent_at: r.get(11)?,
        remote_id: r.get(12)?,
        edit: r.get(13)?,
    })
}

#[async_trait]
impl Outbox for SqliteStore {
    async fn enqueue(&self, m: &NewMessage) -> StoreResult<bool> {
        let m = m.clone();
        self.write(move |conn| {
            let added = conn
                .prepare_cached(
                    "INSERT OR IGNORE INTO outbox (key, platform, channel, reply_to, body, created_at, status, next_attempt_at, edit)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?8, ?7)",
                )?
                .execute(params![
                    m.key,
                    m.platform.as_str(),
                    m.channel,
                    m.reply_to,
                    m.body,
                    m.created_at,
                    m.edit,
                    m.not_before.unwrap_or(m.created_at)
                ])?;
            Ok(added == 1)
        })
        .await
    }

    async fn due_messages(&self, now: Millis, limit: usize) -> StoreResult<Vec<OutMessage>> {
        // Read and claimed in one write: the writer thread makes it atomic.
        self.write(move |conn| {
            let due: Vec<OutMessage> = conn
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT ?2"
                ))?
                .query_map(params![now, limit as i64], row)?
                .collect::<rusqlite::Result<_>>()?;
            let mut claim = conn.prepare_cached("UPDATE outbox SET next_attempt_at = ?2 WHERE id = ?1")?;
            for m in &due {
                claim.execute(params![m.id, now + CLAIM_MS])?;
            }
            Ok(due)
        })
        .await
    }

    async fn record_attempt(&self, id: i64, a: &Attempt) -> StoreResult<()> {
        let a = a.clone();
        self.write(move |conn| {
            conn.prepare_cached(
                "UPDATE outbox SET status = ?2, attempts = ?3, last_error = ?4, next_attempt_at = ?5, sent_at = ?6, remote_id = ?7
                 WHERE id = ?1",
            )?
            .execute(params![id, a.status.as_str(), a.attempts, a.error, a.next_attempt_at, a.sent_at, a.remote_id])?;
            Ok(())
        })
        .await
    }

    async fn get_message(&self, key: &str) -> StoreResult<Option<OutMessage>> {
        let key = key.to_owned();
        self.read(move |conn| {
            conn.prepare_cached(&format!("SELECT {COLUMNS} FROM outbox WHERE key = ?1"))?
                .query_row([key], row)
                .optional()
        })
        .await
    }

    async fn message(&self, id: i64) -> StoreResult<Option<OutMessage>> {
        self.read(move |conn| {
            conn.prepare_cached(&format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"))?.query_row([id], row).optional()
        })
        .await
    }

    async fn list_messages(&self, status: Option<MessageStatus>, limit: usize) -> StoreResult<Vec<OutMessage>> {
        self.read(move |conn| match status {
            Some(s) => conn
                .prepare_cached(&format!("SELECT {COLUMNS} FROM outbox WHERE status = ?1 ORDER BY id DESC LIMIT ?2"))?
                .query_map(params![s.as_str(), limit as i64], row)?
                .collect(),
            None => conn
                .prepare_cached(&format!("SELECT {COLUMNS} FROM outbox ORDER BY id DESC LIMIT ?1"))?
                .query_map(params![limit as i64], row)?
                .collect(),
        })
        .await
    }

    async fn release_messages(&self, ids: &[i64], now: Millis) -> StoreResult<()> {
        let ids = ids.to_vec();
        self.write(move |conn| super::rows::release_claims(conn, "outbox", &ids, now)).await
    }

    async fn oldest_pending_message(&self) -> StoreResult<Option<Millis>> {
        self.read(|conn| {
            conn.query_row("SELECT min(created_at) FROM outbox WHERE status = 'pending'", [], |r| r.get(0))
        })
        .await
    }

    async fn outbox_counts(&self) -> StoreResult<Vec<(MessageStatus, u64)>> {
        self.read(|conn| super::rows::status_counts(conn, "outbox", &MessageStatus::ALL, MessageStatus::as_str)).await
    }

    async fn retry_message(&self, id: i64, now: Millis) -> StoreResult<bool> {
        self.write(move |conn| {
            let changed = conn
                .prepare_cached(
                    "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?2 WHERE id = ?1 AND status = 'dead'",
                )?
                .execute(params![id, now])?;
            Ok(changed == 1)
        })
        .await
    }
}
