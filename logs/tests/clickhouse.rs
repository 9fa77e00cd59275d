//! The ClickHouse source on the real test server (scripts/clickhouse, 18.16),
//! against a down-level `otel_logs`: the exporter's column names, with
//! `DateTime` where the current exporter has `DateTime64(9)`, a nanoseconds
//! column beside it, plain `String` for `LowCardinality(String)` and key/value
//! arrays for its `Map` attributes (docs/logs.md). Signatures, new-signature
//! detection and spikes come out of it through `check_logs`.
#![cfg(feature = "server-tests")]

use std::sync::Arc;

use serde_json::json;
use switchboard_core::config::{Config, LogSourceKind};
use switchboard_core::logs::{Level, LogQuery};

fn url() -> String {
    std::env::var("SWITCHBOARD_TEST_CLICKHOUSE_URL").unwrap_or_else(|_| "http://127.0.0.1:18123".into())
}

async fn exec(sql: &str) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let resp = reqwest::Client::new().post(url()).body(sql.to_owned()).send().await.unwrap();
    let status = resp.status();
    assert!(status.is_success(), "{sql}: {}", resp.text().await.unwrap());
}

#[tokio::test]
async fn otel_logs_on_the_test_server_give_signatures_new_errors_and_spikes() {
    let db = format!("sb_logs_{}", std::process::id());
    exec(&format!("CREATE DATABASE IF NOT EXISTS {db}")).await;
    exec(&format!(
        "CREATE TABLE {db}.otel_logs (Timestamp DateTime, TimestampNanos UInt32, TraceId String, SpanId String, \
         SeverityText String, SeverityNumber Int32, ServiceName String, Body String, \
         `ResourceAttributes.key` Array(String), `ResourceAttributes.value` Array(String), \
         `LogAttributes.key` Array(String), `LogAttributes.value` Array(String)) \
         ENGINE = MergeTree() ORDER BY (ServiceName, Timestamp)"
    ))
    .await;
    let mut config = Config::default();
    let mut source = config.log_sources[0].clone();
    source.name = "otel".into();
    source.kind = LogSourceKind::Clickhouse;
    source.url = Some(url());
    source.database = Some(db.clone());
    config.log_sources = vec![source];
    let world = switchboard_testkit::World::builder()
        .config(config.clone())
        .system_clock()
        .demo(60, 42)
        .log_sources(|c, table| switchboard_logs::open(&c.log_sources, &c.logs, table).unwrap())
        .build()
        .await;
    let now_s = world.service.now() / 1000;
    let mut rows = Vec::new();
    // Five hours of traffic with a known error, then a new one in the last 20 minutes; one
    // service's name with a quote in it, to show it stays a value.
    for k in 0..300 {
        let t = now_s - 5 * 3600 + k * 60;
        rows.push(format!("({t}, 0, '', '', 'Information', 9, 'orders', 'GET /orders/{k} 200', [], [], [], [])"));
        if k % 10 == 0 {
            rows.push(format!(
                "({t}, 0, '', '', 'Error', 17, 'orders', 'retry {k}: connection reset by peer', [], [], [], [])"
            ));
        }
    }
    for k in 0..40 {
        let t = now_s - 20 * 60 + k * 10;
        rows.push(format!("({t}, 0, 'abc', '', 'ERROR', 0, 'orders', 'TimeoutError: upstream 10.1.0.{k}:5432 after 3000 ms', [], [], [], [])"));
    }
    rows.push(format!("({now_s}, 0, '', '', 'Error', 17, 'x'' OR 1=1 --', 'injected', [], [], [], [])"));
    exec(&format!("INSERT INTO {db}.otel_logs VALUES {}", rows.join(", "))).await;

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
    assert_eq!(r["kind"], "clickhouse");
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
    exec(&format!("DROP DATABASE {db}")).await;
}
