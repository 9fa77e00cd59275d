//! The embedded log table: lines by project and time, for the demo and
//! small installs (`[[log_sources]] kind = "embedded"`, fed by
//! `POST /api/v1/logs`). Levels are stored as their order (0 trace … 5
//! fatal) so "at least warn" is one comparison on the index's rows.

use async_trait::async_trait;
use rusqlite::params;
use switchboard_core::logs::{Counted, Level, LogBatch, LogLine, LogQuery, LogTable};
use switchboard_core::model::Millis;
use switchboard_core::store::StoreResult;

use super::SqliteStore;

fn rank(l: Level) -> i64 {
    Level::ALL.iter().position(|x| *x == l).unwrap_or(2) as i64
}

#[async_trait]
impl LogTable for SqliteStore {
    async fn append_logs(&self, lines: &[(String, LogLine)]) -> StoreResult<()> {
        let rows: Vec<(String, Millis, i64, String, Option<String>)> = lines
            .iter()
            .map(|(p, l)| {
                let attrs =
                    (!l.attributes.is_empty()).then(|| serde_json::to_string(&l.attributes).unwrap_or_default());
                (p.clone(), l.ts, rank(l.level), l.message.clone(), attrs)
            })
            .collect();
        // The writer runs each write in its own savepoint: all lines or none.
        self.write(move |c| {
            let mut insert = c.prepare_cached(
                "INSERT INTO log_lines (project, ts, level, message, attributes) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for r in &rows {
                insert.execute(params![r.0, r.1, r.2, r.3, r.4])?;
            }
            Ok(())
        })
        .await
    }

    async fn read_logs(&self, project: &str, q: &LogQuery) -> StoreResult<LogBatch> {
        let (project, q) = (project.to_owned(), q.clone());
        self.read(move |c| {
            let level = q.level.map_or(0, rank);
            let contains = q.contains.as_deref().map(str::to_lowercase).unwrap_or_default();
            let limit = q.limit as i64;
            let mut stmt = c.prepare_cached(
                "SELECT ts, level, message, attributes FROM log_lines
                 WHERE project = ?1 AND ts >= ?2 AND ts < ?3 AND level >= ?4
                   AND (?5 = '' OR instr(lower(message), ?5) > 0)
                 ORDER BY ts DESC LIMIT ?6",
            )?;
            let rows = stmt.query_map(params![project, q.since, q.until, level, contains, limit + 1], |r| {
                let attrs: Option<String> = r.get(3)?;
                Ok(LogLine {
                    ts: r.get(0)?,
                    level: Level::ALL.get(r.get::<_, i64>(1)? as usize).copied().unwrap_or(Level::Info),
                    message: r.get(2)?,
                    attributes: attrs.and_then(|a| serde_json::from_str(&a).ok()).unwrap_or_default(),
                })
            })?;
            let mut lines: Vec<LogLine> = rows.collect::<rusqlite::Result<_>>()?;
            let truncated = lines.len() as i64 > limit;
            lines.truncate(limit as usize);
            lines.reverse();
            Ok(LogBatch { lines, truncated })
        })
        .await
    }

    async fn count_logs(&self, project: &str, q: &LogQuery, bucket_ms: Millis) -> StoreResult<Vec<Counted>> {
        let (project, q) = (project.to_owned(), q.clone());
        let bucket_ms = bucket_ms.max(1);
        self.read(move |c| {
            let level = q.level.map_or(0, rank);
            let contains = q.contains.as_deref().map(str::to_lowercase).unwrap_or_default();
            let mut stmt = c.prepare_cached(
                "SELECT (ts - ?2) / ?6 AS bucket, level, count(*) FROM log_lines
                 WHERE project = ?1 AND ts >= ?2 AND ts < ?3 AND level >= ?4
                   AND (?5 = '' OR instr(lower(message), ?5) > 0)
                 GROUP BY bucket, level",
            )?;
            let rows = stmt.query_map(params![project, q.since, q.until, level, contains, bucket_ms], |r| {
                Ok(Counted {
                    bucket: r.get(0)?,
                    level: Level::ALL.get(r.get::<_, i64>(1)? as usize).copied().unwrap_or(Level::Info),
                    lines: r.get::<_, i64>(2)? as u64,
                })
            })?;
            rows.collect::<rusqlite::Result<_>>()
        })
        .await
    }

    async fn prune_logs(&self, before: Millis) -> StoreResult<u64> {
        self.write(move |c| c.prepare_cached("DELETE FROM log_lines WHERE ts < ?1")?.execute(params![before]))
            .await
            .map(|n| n as u64)
    }
}
