//! The operations log on ClickHouse: one append-only `events` table
//! (ReplacingMergeTree, partitioned by month so time ranges read only their
//! months, ordered by project, time and id so a project's history reads only
//! its own rows), created by versioned migrations at start.
//!
//! It works on current ClickHouse and on the 18.16 server Debian ships:
//! times are epoch milliseconds in `Int64`, payloads JSON text in `String`,
//! no LowCardinality/Bool/Map/JSON/TTL, client-side `bind()` only, `has(?, col)`
//! instead of `IN ?`, and row validation off (18.16 has no
//! `RowBinaryWithNamesAndTypes`) — so every row type is round-tripped in the
//! tests, as a mismatch would not be reported clearly.
//!
//! Appends go through one writer task that sends everything queued (waiting
//! at most `flush_interval_ms` for more) as one `INSERT`, and answers each
//! caller once its rows are in. With `buffer_seconds` (the default) they go
//! into `events_buffer`, a `Buffer` table in front of `events` that holds
//! rows in the server's memory and writes them out as one part every few
//! seconds: an `INSERT` that writes a part of its own takes milliseconds
//! whatever its size, so 64 callers each waiting for theirs made at most
//! about 12,000 appends a second; into the buffer it is a fraction of a
//! millisecond. Reads go through the buffer too, so they see every answered
//! append. Appending an id again is a no-op for readers: reads keep one row
//! per id (`LIMIT 1 BY id`, `uniqExact(id)`), and `ReplacingMergeTree` folds
//! the copies when it merges. (Looking the ids up before each insert cost a
//! scan of the month's times per batch, which made appends slower the more
//! the log held.)

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use clickhouse::{Client, Row};
use serde::{Deserialize, Serialize};
use switchboard_core::event::{Event, EventKind, EventQuery};
use switchboard_core::ids::ProjectSlug;
use switchboard_core::store::{EventLog, StoreError, StoreResult};
use tokio::sync::{mpsc, oneshot};

/// Where the log is and how it writes.
#[derive(Clone, Debug)]
pub struct Options {
    /// The HTTP interface, e.g. `http://127.0.0.1:8123`.
    pub url: String,
    pub database: String,
    pub user: Option<String>,
    pub password: Option<String>,
    /// How long an append waits for others to share its `INSERT` (0: send
    /// what is queued at once).
    pub flush_interval: Duration,
    /// How long answered appends may wait in the server's memory before they
    /// are written to disk (0: no buffer, each append waits for its part).
    pub buffer_seconds: u32,
}

/// The schema, one statement per version; applied in order, once each. A
/// migration that changes `events` must drop `events_buffer` first (dropping
/// it writes out what it holds); `open` puts it back with the new columns.
const MIGRATIONS: &[&str] = &[
    // 1: the events. Granules of 1,024 rows (not 8,192): a project's history
    // reads a granule or two in each month's part, and with the default
    // reading them took 2.5 times as long at 100k projects. (Databases made
    // before keep their granules; docs/scaling.md says how to rebuild.)
    "CREATE TABLE IF NOT EXISTS events (
        id String,
        occurred_at Int64,
        kind String,
        project String,
        actor String,
        source String,
        subjects Array(String),
        payload String
    ) ENGINE = ReplacingMergeTree()
    PARTITION BY toYYYYMM(toDateTime(intDiv(occurred_at, 1000)))
    ORDER BY (project, occurred_at, id)
    SETTINGS index_granularity = 1024",
];

/// The buffer's layers (inserts into one layer take turns).
const BUFFER_LAYERS: u32 = 4;

/// A layer is written out early past this many rows or bytes.
const BUFFER_ROWS: u64 = 1_000_000;
const BUFFER_BYTES: u64 = 64 << 20;

/// Rows sent in one `INSERT` at most.
const MAX_BATCH_ROWS: usize = 10_000;

#[derive(Clone, Debug, PartialEq, Row, Serialize, Deserialize)]
struct EventRow {
    id: String,
    occurred_at: i64,
    kind: String,
    /// Empty: about no project.
    project: String,
    actor: String,
    source: String,
    subjects: Vec<String>,
    /// JSON text.
    payload: String,
}

impl EventRow {
    fn of(e: &Event) -> Self {
        Self {
            id: e.id.to_string(),
            occurred_at: e.occurred_at,
            kind: e.kind.as_str().to_owned(),
            project: e.project.as_ref().map(|p| p.to_string()).unwrap_or_default(),
            actor: e.actor.clone(),
            source: e.source.clone(),
            subjects: e.subjects.clone(),
            payload: e.payload.to_string(),
        }
    }

    fn event(self) -> StoreResult<Event> {
        let corrupt = |what: &str, e: String| StoreError::Corrupt(format!("event {}: {what}: {e}", self.id));
        Ok(Event {
            id: self.id.parse().map_err(|e: uuid::Error| corrupt("id", e.to_string()))?,
            occurred_at: self.occurred_at,
            kind: EventKind::parse(&self.kind).ok_or_else(|| corrupt("kind", self.kind.clone()))?,
            project: if self.project.is_empty() {
                None
            } else {
                Some(ProjectSlug::new(&self.project).map_err(|e| corrupt("project", e.to_string()))?)
            },
            actor: self.actor.clone(),
            source: self.source.clone(),
            subjects: self.subjects.clone(),
            payload: serde_json::from_str(&self.payload).map_err(|e| corrupt("payload", e.to_string()))?,
        })
    }
}

#[derive(Row, Deserialize)]
struct TableRow {
    create_table_query: String,
}

#[derive(Row, Deserialize)]
struct CountRow {
    n: u64,
}

#[derive(Row, Deserialize)]
struct VersionRow {
    version: u32,
}

#[derive(Row, Serialize)]
struct MigrationRow {
    version: u32,
    applied_at: i64,
}

fn backend(what: &str, e: clickhouse::error::Error) -> StoreError {
    StoreError::Backend(format!("ClickHouse: {what}: {e}"))
}

struct Pending {
    rows: Vec<EventRow>,
    done: oneshot::Sender<StoreResult<()>>,
}

/// The operations log on a ClickHouse server.
#[derive(Clone)]
pub struct ClickHouseLog {
    client: Client,
    writer: mpsc::Sender<Pending>,
    /// What appends go into and reads come from: `events_buffer` or `events`.
    table: &'static str,
}

impl std::fmt::Debug for ClickHouseLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClickHouseLog").finish_non_exhaustive()
    }
}

fn client(o: &Options) -> Client {
    let mut c = Client::default().with_url(o.url.trim_end_matches('/')).with_validation(false);
    if let Some(u) = &o.user {
        c = c.with_user(u);
    }
    if let Some(p) = &o.password {
        c = c.with_password(p);
    }
    c
}

impl ClickHouseLog {
    /// Connects, creates the database and brings the schema up to date.
    pub async fn open(o: &Options) -> StoreResult<Self> {
        let valid = !o.database.is_empty() && o.database.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(StoreError::Backend(format!(
                "store.clickhouse.database {:?}: letters, digits and _ only",
                o.database
            )));
        }
        let server = client(o);
        server
            .query(&format!("CREATE DATABASE IF NOT EXISTS {}", o.database))
            .execute()
            .await
            .map_err(|e| backend(&format!("cannot reach {} or create the database", o.url), e))?;
        let client = server.with_database(&o.database);
        migrate(&client).await?;
        let table = place_buffer(&client, &o.database, o.buffer_seconds).await?;
        let (tx, rx) = mpsc::channel(1024);
        tokio::spawn(write_loop(client.clone(), table, rx, o.flush_interval));
        Ok(Self { client, writer: tx, table })
    }
}

/// The engine arguments after the database and table, as numbers.
fn buffer_arguments(seconds: u32) -> Vec<u64> {
    let s = u64::from(seconds);
    vec![u64::from(BUFFER_LAYERS), s, s, BUFFER_ROWS, BUFFER_ROWS, BUFFER_BYTES, BUFFER_BYTES]
}

/// The numbers in an existing buffer's `ENGINE = Buffer(db, table, …)`
/// (servers differ in how they quote the names).
fn existing_arguments(create_table_query: &str) -> Option<Vec<u64>> {
    let inside = create_table_query.split("Buffer(").nth(1)?.split(')').next()?;
    inside.split(',').skip(2).map(|n| n.trim().parse().ok()).collect()
}

/// Puts `events_buffer` in front of `events` with the timing asked for, or
/// takes it away when `seconds` is 0, and says which table to use. A buffer
/// with other timings is replaced; dropping a `Buffer` table writes out what
/// it holds first, so nothing answered is lost.
async fn place_buffer(client: &Client, database: &str, seconds: u32) -> StoreResult<&'static str> {
    let existing: Vec<TableRow> = client
        .query("SELECT create_table_query FROM system.tables WHERE database = ? AND name = 'events_buffer'")
        .bind(database)
        .fetch_all()
        .await
        .map_err(|e| backend("look for events_buffer", e))?;
    let wanted = buffer_arguments(seconds);
    if let Some(current) = existing.first() {
        if seconds > 0 && existing_arguments(&current.create_table_query).as_ref() == Some(&wanted) {
            return Ok("events_buffer");
        }
        client
            .query("DROP TABLE IF EXISTS events_buffer")
            .execute()
            .await
            .map_err(|e| backend("drop events_buffer", e))?;
        tracing::info!(seconds, "ClickHouse log: the old events_buffer written out and dropped");
    }
    if seconds == 0 {
        return Ok("events");
    }
    let numbers: Vec<String> = wanted.iter().map(u64::to_string).collect();
    let sql = format!(
        "CREATE TABLE IF NOT EXISTS events_buffer AS events ENGINE = Buffer({database}, events, {})",
        numbers.join(", ")
    );
    client.query(&sql).execute().await.map_err(|e| backend("create events_buffer", e))?;
    Ok("events_buffer")
}

/// Applies the migrations the database has not seen, in order.
async fn migrate(client: &Client) -> StoreResult<usize> {
    client
        .query("CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, applied_at Int64) ENGINE = MergeTree() ORDER BY version")
        .execute()
        .await
        .map_err(|e| backend("create schema_migrations", e))?;
    let done: Vec<VersionRow> = client
        .query("SELECT version FROM schema_migrations")
        .fetch_all()
        .await
        .map_err(|e| backend("read schema_migrations", e))?;
    let current = done.iter().map(|r| r.version as usize).max().unwrap_or(0);
    if current > MIGRATIONS.len() {
        return Err(StoreError::Backend(format!(
            "the ClickHouse schema is at version {current}, newer than this build ({}); upgrade Switchboard",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let version = i as u32 + 1;
        client.query(sql).execute().await.map_err(|e| backend(&format!("migration {version}"), e))?;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let mut insert =
            client.insert::<MigrationRow>("schema_migrations").await.map_err(|e| backend("record migration", e))?;
        insert
            .write(&MigrationRow { version, applied_at: now.as_millis() as i64 })
            .await
            .map_err(|e| backend("record migration", e))?;
        insert.end().await.map_err(|e| backend("record migration", e))?;
        tracing::info!(version, "ClickHouse log migrated");
    }
    Ok(MIGRATIONS.len() - current)
}

/// The writer: everything queued goes out as one `INSERT`.
async fn write_loop(client: Client, table: &'static str, mut rx: mpsc::Receiver<Pending>, flush_interval: Duration) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        let mut rows = batch[0].rows.len();
        let deadline = tokio::time::Instant::now() + flush_interval;
        while rows < MAX_BATCH_ROWS {
            let next = if flush_interval.is_zero() {
                rx.try_recv().ok()
            } else {
                tokio::time::timeout_at(deadline, rx.recv()).await.ok().flatten()
            };
            let Some(p) = next else { break };
            rows += p.rows.len();
            batch.push(p);
        }
        let all: Vec<&EventRow> = batch.iter().flat_map(|p| p.rows.iter()).collect();
        let result = insert(&client, table, &all).await;
        for p in batch {
            let _ = p.done.send(match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(StoreError::Backend(e.to_string())),
            });
        }
    }
}

/// Sends the rows as one `INSERT` (each id once).
async fn insert(client: &Client, table: &str, rows: &[&EventRow]) -> StoreResult<()> {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut insert = client.insert::<EventRow>(table).await.map_err(|e| backend("insert events", e))?;
    for r in rows.iter().filter(|r| seen.insert(r.id.as_str())) {
        insert.write(*r).await.map_err(|e| backend("insert events", e))?;
    }
    insert.end().await.map_err(|e| backend("insert events", e))
}

#[async_trait]
impl EventLog for ClickHouseLog {
    async fn append(&self, events: &[Event]) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let (done, answer) = oneshot::channel();
        let rows = events.iter().map(EventRow::of).collect();
        let work = async move {
            self.writer.send(Pending { rows, done }).await.map_err(|_| StoreError::Closed)?;
            answer.await.map_err(|_| StoreError::Closed)?
        };
        switchboard_core::metrics::timed_store_call("clickhouse", "write", work).await
    }

    async fn query(&self, q: &EventQuery) -> StoreResult<Vec<Event>> {
        let mut sql = format!("SELECT ?fields FROM {} WHERE 1 = 1", self.table);
        if q.project.is_some() {
            sql.push_str(" AND project = ?");
        }
        if q.subject.is_some() {
            sql.push_str(" AND has(subjects, ?)");
        }
        if !q.kinds.is_empty() {
            sql.push_str(" AND has(?, kind)");
        }
        if q.since.is_some() {
            sql.push_str(" AND occurred_at >= ?");
        }
        if q.until.is_some() {
            sql.push_str(" AND occurred_at < ?");
        }
        sql.push_str(" ORDER BY occurred_at DESC, id DESC LIMIT 1 BY id LIMIT ?");
        let mut query = self.client.query(&sql);
        if let Some(p) = &q.project {
            query = query.bind(p.as_str());
        }
        if let Some(s) = &q.subject {
            query = query.bind(s.to_lowercase());
        }
        if !q.kinds.is_empty() {
            query = query.bind(q.kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>());
        }
        if let Some(s) = q.since {
            query = query.bind(s);
        }
        if let Some(u) = q.until {
            query = query.bind(u);
        }
        query = query.bind(if q.limit == 0 { 100 } else { q.limit as u64 });
        let fetched = switchboard_core::metrics::timed_store_call("clickhouse", "read", query.fetch_all::<EventRow>());
        let rows: Vec<EventRow> = fetched.await.map_err(|e| backend("query events", e))?;
        rows.into_iter().map(EventRow::event).collect()
    }

    async fn count(&self) -> StoreResult<u64> {
        let row: CountRow = self
            .client
            .query(&format!("SELECT uniqExact(id) AS n FROM {}", self.table))
            .fetch_one()
            .await
            .map_err(|e| backend("count events", e))?;
        Ok(row.n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_s_timings_are_read_back_as_either_server_writes_them() {
        let wanted = buffer_arguments(1);
        // 18.16, and current servers (which quote the names; the test engine
        // for current ClickHouse cannot take the client's binary inserts).
        let old = "CREATE TABLE sb.events_buffer ( id String) ENGINE = Buffer(sb, events, 4, 1, 1, 1000000, 1000000, 67108864, 67108864)";
        let new = "CREATE TABLE sb.events_buffer (`id` String) ENGINE = Buffer('sb', 'events', 4, 1, 1, 1000000, 1000000, 67108864, 67108864)";
        assert_eq!(existing_arguments(old), Some(wanted.clone()));
        assert_eq!(existing_arguments(new), Some(wanted));
        assert_ne!(existing_arguments(old), Some(buffer_arguments(2)), "other timings are told apart");
        assert_eq!(existing_arguments("CREATE TABLE x (a String) ENGINE = Memory"), None);
        assert_eq!(existing_arguments("ENGINE = Buffer(sb, events, 4, x)"), None);
    }
}
