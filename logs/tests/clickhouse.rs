//! The ClickHouse source on two engines: the project's test server
//! (scripts/clickhouse, Debian's 18.16) against a down-level `otel_logs` — the
//! exporter's column names, with `DateTime` where the current exporter has
//! `DateTime64(9)`, a nanoseconds column beside it, plain `String` for
//! `LowCardinality(String)` and key/value arrays for its `Map` attributes — and
//! a current engine (scripts/clickhouse-current: chdb, ClickHouse 26 in-process
//! behind the HTTP interface) against the exporter's own default DDL, vendored
//! in fixtures/clickhouse (docs/logs.md). Signatures, new-signature detection
//! and spikes come out of both through `check_logs`.
#![cfg(feature = "server-tests")]

use std::sync::Arc;

use serde_json::json;
use switchboard_core::config::{Config, LogSourceKind};
use switchboard_core::logs::{Level, LogQuery};

fn env_url(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.into())
}

async fn exec(url: &str, sql: &str) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let resp = reqwest::Client::new().post(url).body(sql.to_owned()).send().await.unwrap();
    let status = resp.status();
    assert!(status.is_success(), "{sql}: {}", resp.text().await.unwrap());
}

/// One line of the scenario: (unix seconds, severity text, severity number, service, body, trace id).
type Line<'a> = (i64, &'a str, i32, &'a str, &'a str, &'a str);

#[tokio::test]
async fn otel_logs_on_the_test_server_give_signatures_new_errors_and_spikes() {
    let url = env_url("SWITCHBOARD_TEST_CLICKHOUSE_URL", "http://127.0.0.1:18123");
    let db = format!("sb_logs_{}", std::process::id());
    exec(&url, &format!("CREATE DATABASE IF NOT EXISTS {db}")).await;
    exec(
        &url,
        &format!(
            "CREATE TABLE {db}.otel_logs (Timestamp DateTime, TimestampNanos UInt32, TraceId String, SpanId String, \
             SeverityText String, SeverityNumber Int32, ServiceName String, Body String, \
             `ResourceAttributes.key` Array(String), `ResourceAttributes.value` Array(String), \
             `LogAttributes.key` Array(String), `LogAttributes.value` Array(String)) \
             ENGINE = MergeTree() ORDER BY (ServiceName, Timestamp)"
        ),
    )
    .await;
    let insert = |rows: &[Line<'_>]| {
        let values: Vec<String> = rows
            .iter()
            .map(|(t, text, number, service, body, trace)| {
                format!("({t}, 0, '{trace}', '', '{text}', {number}, '{service}', '{body}', [], [], [], [])")
            })
            .collect();
        format!("INSERT INTO {db}.otel_logs VALUES {}", values.join(", "))
    };
    scenario(&url, &db, insert).await;
    exec(&url, &format!("DROP DATABASE {db}")).await;
}

#[tokio::test]
async fn the_exporters_current_otel_logs_ddl_answers_the_same_on_a_current_engine() {
    let url = env_url("SWITCHBOARD_TEST_CLICKHOUSE_CURRENT_URL", "http://127.0.0.1:18124");
    let db = format!("sb_logs_current_{}", std::process::id());
    exec(&url, &format!("CREATE DATABASE IF NOT EXISTS {db}")).await;
    let ddl = include_str!("fixtures/clickhouse/otel_logs.sql");
    exec(&url, &ddl.replace("EXISTS otel_logs", &format!("EXISTS {db}.otel_logs"))).await;
    let insert = |rows: &[Line<'_>]| {
        let values: Vec<String> = rows
            .iter()
            .map(|(t, text, number, service, body, trace)| {
                // Nanoseconds kept, as the exporter writes them; attributes as maps.
                format!(
                    "(toDateTime64('{t}.123456789', 9), '{trace}', '{text}', {n}, '{service}', '{body}', \
                     map('service.name', '{service}'), map('http.route', '/orders'))",
                    n = number
                )
            })
            .collect();
        format!(
            "INSERT INTO {db}.otel_logs (Timestamp, TraceId, SeverityText, SeverityNumber, ServiceName, Body, \
             ResourceAttributes, LogAttributes) VALUES {}",
            values.join(", ")
        )
    };
    let world = scenario(&url, &db, insert).await;

    // Its primary key and partitions are on TimestampTime (whole seconds, as
    // the queries ask): mapped, the same lines come back through them.
    let mut config = Config::default();
    let mut source = config.log_sources[0].clone();
    (source.name, source.kind, source.url, source.database) =
        ("keyed".into(), LogSourceKind::Clickhouse, Some(url.clone()), Some(db.clone()));
    source.columns.insert("timestamp".into(), "TimestampTime".into());
    config.log_sources = vec![source];
    let table: Arc<dyn switchboard_core::logs::LogTable> = Arc::new(world.store.clone());
    let keyed = switchboard_logs::open(&config.log_sources, &config.logs, &table).unwrap();
    let now_s = world.service.now() / 1000;
    let batch = keyed["keyed"]
        .query(&LogQuery {
            selector: "orders".into(),
            since: (now_s - 3600) * 1000,
            until: (now_s + 1) * 1000,
            level: Some(Level::Error),
            contains: Some("timeouterror".into()),
            limit: 1000,
        })
        .await
        .unwrap();
    assert_eq!(batch.lines.len(), 40);
    assert!(batch.lines.windows(2).all(|w| w[0].ts <= w[1].ts), "oldest first");
    exec(&url, &format!("DROP DATABASE {db}")).await;
}

/// Five hours of traffic on `orders` with a known error, then a new one in the
/// last 20 minutes, and a service whose name carries SQL; what `check_logs`
/// and the source make of it on the engine at `url`, in `db`.
async fn scenario(url: &str, db: &str, insert: impl Fn(&[Line<'_>]) -> String) -> switchboard_testkit::World {
    let mut config = Config::default();
    let mut source = config.log_sources[0].clone();
    source.name = "otel".into();
    source.kind = LogSourceKind::Clickhouse;
    source.url = Some(url.to_owned());
    source.database = Some(db.to_owned());
    config.log_sources = vec![source];
    let world = switchboard_testkit::World::builder()
        .config(config.clone())
        .system_clock()
        .demo(60, 42)
        .log_sources(|c, table| switchboard_logs::open(&c.log_sources, &c.logs, table).unwrap())
        .build()
        .await;
    let now_s = world.service.now() / 1000;
    // Half a minute off the minute: no line sits on the hour's boundary, which
    // moves with the clock between here and the question.
    let bodies: Vec<(i64, String)> =
        (0..300).map(|k| (now_s - 5 * 3600 + k * 60 + 30, format!("GET /orders/{k} 200"))).collect();
    let retries: Vec<(i64, String)> = (0..300)
        .step_by(10)
        .map(|k| (now_s - 5 * 3600 + k * 60 + 30, format!("retry {k}: connection reset by peer")))
        .collect();
    let timeouts: Vec<(i64, String)> = (0..40)
        .map(|k| (now_s - 20 * 60 + k * 10, format!("TimeoutError: upstream 10.1.0.{k}:5432 after 3000 ms")))
        .collect();
    let mut rows: Vec<Line<'_>> = Vec::new();
    rows.extend(bodies.iter().map(|(t, b)| (*t, "Information", 9, "orders", b.as_str(), "")));
    rows.extend(retries.iter().map(|(t, b)| (*t, "Error", 17, "orders", b.as_str(), "")));
    // No severity number: the text decides.
    rows.extend(timeouts.iter().map(|(t, b)| (*t, "ERROR", 0, "orders", b.as_str(), "abc")));
    rows.push((now_s, "Error", 17, "x'' OR 1=1 --", "injected", ""));
    exec(url, &insert(&rows)).await;

    let table: Arc<dyn switchboard_core::logs::LogTable> = Arc::new(world.store.clone());
    let sources = switchboard_logs::open(&config.log_sources, &config.logs, &table).unwrap();
    let ch = sources["otel"].clone();
    let q = |selector: &str| LogQuery {
        selector: selector.into(),
        since: (now_s - 3600) * 1000,
        until: (now_s + 1) * 1000,
        level: Some(Level::Error),
        contains: None,
        limit: 1000,
    };
    assert_eq!(ch.query(&q("orders")).await.unwrap().lines.len(), 6 + 40);
    assert!(ch.query(&q("x")).await.unwrap().lines.is_empty(), "a name is a bound value, not SQL");
    let mut text = q("orders");
    text.contains = Some("TIMEOUTERROR".into());
    assert_eq!(ch.query(&text).await.unwrap().lines.len(), 40);

    let service = world.service.clone();
    let viewer = switchboard_core::Caller::new("dave", switchboard_core::model::Role::Viewer, "test");
    let r = service
        .execute_json(&viewer, "check_logs", json!({"project": "orders", "since": "1h"}))
        .await
        .unwrap()
        .to_json();
    assert_eq!((r["kind"].as_str(), r["counted_by_source"].as_bool()), (Some("clickhouse"), Some(true)));
    assert_eq!(r["scanned"], 60 + 6 + 40, "{r}");
    let first = &r["signatures"][0];
    assert_eq!(first["template"], "TimeoutError: upstream <ip> after <num> ms");
    assert_eq!((first["count"].as_u64(), first["new"].as_bool()), (Some(40), Some(true)));
    assert_eq!(r["signatures"][1]["new"], false, "the known error was in the baseline");
    assert_eq!(r["spikes"].as_array().unwrap().len(), 1, "{r}");

    let bad = switchboard_logs::open(
        &[{
            let mut s = config.log_sources[0].clone();
            s.url = Some("http://127.0.0.1:9".into());
            s
        }],
        &config.logs,
        &(Arc::new(world.store.clone()) as Arc<dyn switchboard_core::logs::LogTable>),
    )
    .unwrap();
    let err = bad["otel"].query(&q("orders")).await.unwrap_err().0;
    assert!(err.starts_with("log source otel at http://127.0.0.1:9"), "{err}");
    world
}
