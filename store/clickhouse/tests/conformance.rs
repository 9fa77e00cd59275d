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
