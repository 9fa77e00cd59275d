//! ClickHouse: the OpenTelemetry exporter's `otel_logs` table (or another,
//! with its columns mapped), read with bound parameters only — the project's
//! selector is the service name, never spliced into SQL. The queries keep to
//! what old and new servers both understand (seconds from `toUnixTimestamp`,
//! `LIKE`, `has`), so they answer on the exporter's current schema
//! (DateTime64, LowCardinality, Map) and on a down-level table with the same
//! column names (DateTime, plain strings) alike — docs/logs.md says which was
//! tested where.

use async_trait::async_trait;
use clickhouse::{Client, Row};
use serde::Deserialize;
use switchboard_core::config::LogSourceConfig;
use switchboard_core::logs::{Counted, Level, LogBatch, LogError, LogLine, LogQuery, LogSource};
use switchboard_core::model::Millis;

pub struct ClickHouse {
    name: String,
    url: String,
    client: Client,
    table: String,
    ts: String,
    severity_text: String,
    severity_number: String,
    service: String,
    body: String,
}

#[derive(Row, Deserialize)]
struct CountRow {
    bucket: i64,
    severity_number: i32,
    severity_text: String,
    lines: u64,
}

#[derive(Row, Deserialize)]
struct LineRow {
    ts: u32,
    severity_text: String,
    severity_number: i32,
    body: String,
}

/// The spellings of each level and above, as `SeverityText` holds them
/// (upper-cased), for the server-side level filter.
fn spellings(min: Level) -> Vec<String> {
    let all = [
        (Level::Trace, &["TRACE", "TRC"][..]),
        (Level::Debug, &["DEBUG", "DBG"][..]),
        (Level::Info, &["INFO", "INFORMATION", "NOTICE"][..]),
        (Level::Warn, &["WARN", "WARNING", "WRN"][..]),
        (Level::Error, &["ERROR", "ERR", "SEVERE"][..]),
        (Level::Fatal, &["FATAL", "CRIT", "CRITICAL", "ALERT", "EMERG", "EMERGENCY", "PANIC"][..]),
    ];
    all.iter().filter(|(l, _)| *l >= min).flat_map(|(_, s)| s.iter().map(|x| (*x).to_owned())).collect()
}

/// The lowest `SeverityNumber` of a level (OpenTelemetry's ranges).
fn severity_number(min: Level) -> i32 {
    match min {
        Level::Trace => 1,
        Level::Debug => 5,
        Level::Info => 9,
        Level::Warn => 13,
        Level::Error => 17,
        Level::Fatal => 21,
    }
}

impl ClickHouse {
    pub fn new(c: &LogSourceConfig) -> Result<Self, String> {
        let url = c.url.clone().ok_or_else(|| format!("log source {}: a clickhouse source needs its url", c.name))?;
        let mut client = Client::default().with_url(url.trim_end_matches('/')).with_validation(false);
        if let Some(u) = &c.username {
            client = client.with_user(u);
        }
        if let Some(p) = &c.password {
            client = client.with_password(p);
        }
        // Names were checked by the config (letters, digits, _).
        let col = |role: &str, default: &str| c.columns.get(role).cloned().unwrap_or_else(|| default.to_owned());
        let database = c.database.clone().unwrap_or_else(|| "default".into());
        Ok(Self {
            name: c.name.clone(),
            url,
            client,
            table: format!("{database}.{}", c.table.clone().unwrap_or_else(|| "otel_logs".into())),
            ts: col("timestamp", "Timestamp"),
            severity_text: col("severity_text", "SeverityText"),
            severity_number: col("severity_number", "SeverityNumber"),
            service: col("service", "ServiceName"),
            body: col("body", "Body"),
        })
    }

    /// `FROM … WHERE …` for `q`, its values left to bind in order ([`Self::bind`]).
    fn filter(&self, q: &LogQuery) -> String {
        let (ts, text, number, body) = (&self.ts, &self.severity_text, &self.severity_number, &self.body);
        let mut sql = format!(
            " FROM {} WHERE {} = ? AND {ts} >= toDateTime(?) AND {ts} < toDateTime(?)",
            self.table, self.service
        );
        if q.contains.is_some() {
            sql.push_str(&format!(" AND lower(toString({body})) LIKE ?"));
        }
        if q.level.is_some() {
            sql.push_str(&format!(" AND ({number} >= ? OR has(?, upper(toString({text}))))"));
        }
        sql
    }

    /// `query` with the values of [`Self::filter`]'s placeholders bound.
    fn bind(query: clickhouse::query::Query, q: &LogQuery) -> clickhouse::query::Query {
        let secs = |ms: i64| u32::try_from(ms.div_euclid(1000)).unwrap_or(0);
        // The window in whole seconds, covering every millisecond of it.
        let (since, until) = (secs(q.since), secs(q.until + 999));
        let mut query = query.bind(q.selector.as_str()).bind(since).bind(until);
        if let Some(c) = &q.contains {
            query = query.bind(like(c));
        }
        if let Some(min) = q.level {
            query = query.bind(severity_number(min)).bind(spellings(min));
        }
        query
    }

    fn failed(&self, e: clickhouse::error::Error) -> LogError {
        LogError(format!(
            "log source {} at {}: {e}",
            self.name,
            switchboard_core::config::without_credentials(&self.url)
        ))
    }
}

/// A line's level: its severity number when it has one, else its text.
fn level(number: i32, text: &str) -> Level {
    if number > 0 { Level::from_severity_number(i64::from(number)) } else { Level::parse(text) }
}

/// `text` as a LIKE pattern that matches it anywhere, its own `%`, `_` and `\` escaped.
fn like(text: &str) -> String {
    let escaped = text.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

#[async_trait]
impl LogSource for ClickHouse {
    fn kind(&self) -> &'static str {
        "clickhouse"
    }

    async fn query(&self, q: &LogQuery) -> Result<LogBatch, LogError> {
        let (ts, text, number, body) = (&self.ts, &self.severity_text, &self.severity_number, &self.body);
        let sql = format!(
            "SELECT toUInt32(toUnixTimestamp({ts})) AS ts, toString({text}) AS severity_text, \
             toInt32({number}) AS severity_number, toString({body}) AS body{} ORDER BY {ts} DESC LIMIT ?",
            self.filter(q)
        );
        let query = Self::bind(self.client.query(&sql), q).bind(q.limit as u64 + 1);
        let rows: Vec<LineRow> = query.fetch_all().await.map_err(|e| self.failed(e))?;
        let truncated = rows.len() > q.limit;
        let mut lines: Vec<LogLine> = rows
            .into_iter()
            .take(q.limit)
            .map(|r| LogLine {
                ts: i64::from(r.ts) * 1000,
                level: level(r.severity_number, &r.severity_text),
                message: r.body,
                attributes: Default::default(),
            })
            .collect();
        lines.reverse();
        Ok(LogBatch { lines, truncated })
    }

    /// Counted on the server: a row per bucket and spelling of the level.
    async fn count(&self, q: &LogQuery, bucket_ms: Millis) -> Result<Option<Vec<Counted>>, LogError> {
        let (ts, text, number) = (&self.ts, &self.severity_text, &self.severity_number);
        let sql = format!(
            "SELECT intDiv(toInt64(toUnixTimestamp({ts})) * 1000 - ?, ?) AS bucket, \
             toInt32({number}) AS severity_number, upper(toString({text})) AS severity_text, count() AS lines{} \
             GROUP BY bucket, severity_number, severity_text",
            self.filter(q)
        );
        let query = Self::bind(self.client.query(&sql).bind(q.since).bind(bucket_ms.max(1)), q);
        let rows: Vec<CountRow> = query.fetch_all().await.map_err(|e| self.failed(e))?;
        Ok(Some(
            rows.into_iter()
                .map(|r| Counted {
                    bucket: r.bucket,
                    level: level(r.severity_number, &r.severity_text),
                    lines: r.lines,
                })
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_match_the_text_as_written() {
        assert_eq!(like("50% of_Orders"), "%50\\% of\\_orders%");
        assert!(
            spellings(Level::Error).contains(&"FATAL".to_owned())
                && !spellings(Level::Error).contains(&"WARN".to_owned())
        );
    }
}
