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
//! caller once its rows are in. Appending an id again is a no-op: ids already
//! stored are left out of the insert, and reads keep one row per id
//! (`LIMIT 1 BY id`), which also covers two writers racing on one id.

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
}

/// The schema, one statement per version; applied in order, once each.
const MIGRATIONS: &[&str] = &[
    // 1: the events.
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
    ORDER BY (project, occurred_at, id)",
];

/// Ids looked up per query before an insert (about 40 bytes each in the query text).
const LOOKUP_IDS: usize = 2_000;

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
struct IdRow {
    id: String,
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
        let (tx, rx) = mpsc::channel(1024);
        tokio::spawn(write_loop(client.clone(), rx, o.flush_interval));
        Ok(Self { client, writer: tx })
    }
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
async fn write_loop(client: Client, mut rx: mpsc::Receiver<Pending>, flush_interval: Duration) {
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
        let result = insert_new(&client, &all).await;
        for p in batch {
            let _ = p.done.send(match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(StoreError::Backend(e.to_string())),
            });
        }
    }
}

/// Inserts the rows whose ids are not stored yet (each id once).
async fn insert_new(client: &Client, rows: &[&EventRow]) -> StoreResult<()> {
    let mut seen: HashSet<String> = HashSet::new();
    // In slices: the ids are bound into the query text, which the server caps (256 KiB by default).
    for slice in rows.chunks(LOOKUP_IDS) {
        let ids: Vec<&str> = slice.iter().map(|r| r.id.as_str()).collect();
        let (from, to) =
            slice.iter().fold((i64::MAX, i64::MIN), |(a, b), r| (a.min(r.occurred_at), b.max(r.occurred_at)));
        let stored: Vec<IdRow> = client
            .query("SELECT id FROM events WHERE occurred_at >= ? AND occurred_at <= ? AND has(?, id)")
            .bind(from)
            .bind(to)
            .bind(ids)
            .fetch_all()
            .await
            .map_err(|e| backend("look up appended ids", e))?;
        seen.extend(stored.into_iter().map(|r| r.id));
    }
    let fresh: Vec<&&EventRow> = rows.iter().filter(|r| seen.insert(r.id.clone())).collect();
    if fresh.is_empty() {
        return Ok(());
    }
    let mut insert = client.insert::<EventRow>("events").await.map_err(|e| backend("insert events", e))?;
    for r in fresh {
        insert.write(r).await.map_err(|e| backend("insert events", e))?;
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
        let mut sql = String::from("SELECT ?fields FROM events WHERE 1 = 1");
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
            .query("SELECT uniqExact(id) AS n FROM events")
            .fetch_one()
            .await
            .map_err(|e| backend("count events", e))?;
        Ok(row.n)
    }
}
