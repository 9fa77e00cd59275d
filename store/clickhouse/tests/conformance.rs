//! The backend conformance suite with the operations log on a real
//! ClickHouse server (the rest on the embedded store), plus round trips of
//! every row type and the migrations. Needs the server scripts/test starts
//! (`scripts/clickhouse start`); built only with the `server-tests` feature,
//! and failing — never skipping — when that server does not answer.
#![cfg(feature = "server-tests")]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::json;
use switchboard_core::event::{Event, EventKind, EventQuery};
use switchboard_core::ids::ProjectSlug;
use switchboard_core::store::EventLog;
use switchboard_store::SqliteStore;
use switchboard_store_clickhouse::{ClickHouseLog, Options};
use switchboard_testkit::conformance::Backend;

fn options(database: String) -> Options {
    Options {
        url: std::env::var("SWITCHBOARD_TEST_CLICKHOUSE_URL").unwrap_or_else(|_| "http://127.0.0.1:18123".into()),
        database,
        user: None,
        password: None,
        flush_interval: Duration::ZERO,
        buffer_seconds: 1,
    }
}

/// A database of its own for each test: the suite wants an empty log.
fn fresh_database() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("sb_test_{}_{}_{}", std::process::id(), nanos % 1_000_000_000, N.fetch_add(1, Ordering::Relaxed))
}

async fn log() -> ClickHouseLog {
    let o = options(fresh_database());
    ClickHouseLog::open(&o)
        .await
        .unwrap_or_else(|e| panic!("ClickHouse at {} (start it with scripts/clickhouse start): {e}", o.url))
}

async fn backend() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path(), 2).unwrap();
    Backend {
        graph: Arc::new(store.clone()),
        log: Arc::new(log().await),
        inbox: Arc::new(store.clone()),
        outbox: Arc::new(store.clone()),
        vectors: Arc::new(store.clone()),
        queue: Arc::new(store),
        guard: Box::new(dir),
    }
}

switchboard_testkit::conformance_suite!(backend().await);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_of_an_event_round_trips() {
    let log = log().await;
    let mut about = Event::new(
        EventKind::DeploymentRecorded,
        1_790_000_000_123,
        "carol",
        "github",
        json!({"deployment": {"version": "1.4.0", "notes": "ünïcode — \"quoted\"\nnew line", "n": 12345678901i64, "ok": true, "none": null}}),
    );
    about.project = Some(ProjectSlug::new("payments-api").unwrap());
    about = about.subject("Staging").subject("1.4.0");
    let mut none = Event::new(EventKind::ScheduleFired, 1_790_000_000_124, "scheduler", "schedule", json!({}));
    none.subjects = vec![];
    let empty_payload = Event::new(EventKind::McpCall, 1, "x", "mcp", json!([]));
    log.append(&[about.clone(), none.clone(), empty_payload.clone()]).await.unwrap();
    let got = log.query(&EventQuery { limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(got, vec![none, about, empty_payload], "newest first, every field as written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_again_migrates_nothing_and_keeps_the_events() {
    let database = fresh_database();
    let first = ClickHouseLog::open(&options(database.clone())).await.unwrap();
    let e = Event::new(EventKind::FactSet, 5, "a", "api", json!({"key": "tier"}));
    first.append(std::slice::from_ref(&e)).await.unwrap();
    let again = ClickHouseLog::open(&options(database)).await.unwrap();
    assert_eq!(again.count().await.unwrap(), 1);
    assert_eq!(again.query(&EventQuery::default()).await.unwrap(), vec![e]);
}

#[derive(clickhouse::Row, serde::Deserialize)]
struct Create {
    create_table_query: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_log_reads_in_small_granules_through_a_buffer() {
    let database = fresh_database();
    let _log = ClickHouseLog::open(&options(database.clone())).await.unwrap();
    let o = options(database.clone());
    let client = clickhouse::Client::default().with_url(&o.url).with_validation(false);
    let sql = "SELECT create_table_query FROM system.tables WHERE database = ? AND name = ?";
    let events: Create = client.query(sql).bind(&database).bind("events").fetch_one().await.unwrap();
    assert!(events.create_table_query.contains("index_granularity = 1024"), "{}", events.create_table_query);
    let buffer: Create = client.query(sql).bind(&database).bind("events_buffer").fetch_one().await.unwrap();
    assert!(buffer.create_table_query.contains("Buffer("), "{}", buffer.create_table_query);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_database_name_is_refused_before_anything_is_sent() {
    let err = ClickHouseLog::open(&options("x; DROP DATABASE y".into())).await.unwrap_err().to_string();
    assert!(err.contains("letters, digits and _ only"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_append_is_one_call_and_appending_it_again_adds_nothing() {
    let log = log().await;
    let events: Vec<Event> = (0..5_000)
        .map(|i| Event::new(EventKind::BuildRecorded, 1_790_000_000_000 + i, "ci", "github", json!({"n": i})))
        .collect();
    log.append(&events).await.unwrap();
    log.append(&events).await.unwrap();
    assert_eq!(log.count().await.unwrap(), 5_000);
    let newest = log.query(&EventQuery { limit: 1, ..Default::default() }).await.unwrap();
    assert_eq!(newest, vec![events[4_999].clone()]);
}

#[derive(clickhouse::Row, serde::Deserialize)]
struct Count {
    n: u64,
}

/// Rows in a table of the test's database, read past Switchboard.
async fn rows_in(o: &Options, table: &str) -> u64 {
    let client = clickhouse::Client::default().with_url(&o.url).with_database(&o.database).with_validation(false);
    let sql = format!("SELECT count() AS n FROM {table}");
    client.query(&sql).fetch_one::<Count>().await.unwrap().n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buffered_appends_are_read_at_once_and_written_out_within_the_buffer_time() {
    let o = options(fresh_database());
    let log = ClickHouseLog::open(&o).await.unwrap();
    let events: Vec<Event> = (0..300)
        .map(|i| Event::new(EventKind::BuildRecorded, 1_790_000_000_000 + i, "ci", "github", json!({"n": i})))
        .collect();
    // Many callers at once share inserts into the buffer.
    let calls = events.chunks(3).map(|c| log.append(c));
    for r in futures_util::future::join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(log.count().await.unwrap(), 300, "every answered append is read at once");
    let newest = log.query(&EventQuery { limit: 2, ..Default::default() }).await.unwrap();
    assert_eq!(newest, vec![events[299].clone(), events[298].clone()]);
    // The buffer writes out after its second; give a busy server ten.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while rows_in(&o, "events").await < 300 {
        assert!(std::time::Instant::now() < deadline, "the buffer was not written to events within 10 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(rows_in(&o, "events").await, 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_or_turning_off_the_buffer_loses_nothing_it_held() {
    let mut o = options(fresh_database());
    o.buffer_seconds = 60;
    let first = ClickHouseLog::open(&o).await.unwrap();
    let a = Event::new(EventKind::FactSet, 10, "a", "api", json!({"key": "tier"}));
    first.append(std::slice::from_ref(&a)).await.unwrap();
    assert_eq!(rows_in(&o, "events").await, 0, "held in the buffer for a minute");
    // Other timings: the buffer is replaced, what it held written out.
    o.buffer_seconds = 30;
    let second = ClickHouseLog::open(&o).await.unwrap();
    assert_eq!(rows_in(&o, "events").await, 1);
    let b = Event::new(EventKind::FactSet, 11, "a", "api", json!({"key": "owner"}));
    second.append(std::slice::from_ref(&b)).await.unwrap();
    // Off: the buffer is gone and reads come from events alone.
    o.buffer_seconds = 0;
    let third = ClickHouseLog::open(&o).await.unwrap();
    assert_eq!(rows_in(&o, "events").await, 2);
    assert_eq!(third.query(&EventQuery::default()).await.unwrap(), vec![b.clone(), a.clone()]);
    let c = Event::new(EventKind::FactSet, 12, "a", "api", json!({"key": "lang"}));
    third.append(std::slice::from_ref(&c)).await.unwrap();
    assert_eq!(rows_in(&o, "events").await, 3, "unbuffered: each append waits for its part");
    // The same again: no buffer to drop, nothing changes.
    let fourth = ClickHouseLog::open(&o).await.unwrap();
    assert_eq!(fourth.count().await.unwrap(), 3);
    // Appending an id again adds nothing a reader sees, buffered or not.
    fourth.append(std::slice::from_ref(&c)).await.unwrap();
    o.buffer_seconds = 1;
    let fifth = ClickHouseLog::open(&o).await.unwrap();
    fifth.append(&[a.clone(), b.clone()]).await.unwrap();
    assert_eq!(fifth.count().await.unwrap(), 3);
    assert_eq!(fifth.query(&EventQuery::default()).await.unwrap(), vec![c, b, a]);
}
