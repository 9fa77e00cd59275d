//! The Loki source against a fake Loki on loopback answering in the shape
//! of Loki's API documentation (`fixtures/loki`, with its source): the
//! documented answer read as written; the query, window, tenant and paging
//! sent as Loki expects; errors and slowness named; and `check_logs` through
//! the service on it, a project's name unable to change the selector.

use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use switchboard_core::config::{Config, LogSourceConfig, LogSourceKind, LogsConfig};
use switchboard_core::logs::{Level, LogQuery, LogSource};
use switchboard_logs::loki::{Loki, lines};

const FIXTURE: &str = include_str!("fixtures/loki/query_range_streams.json");

/// A request's query parameters and tenant.
type Asked = (std::collections::HashMap<String, String>, Option<String>);

#[derive(Default)]
struct Fake {
    /// What each request asked.
    asked: Mutex<Vec<Asked>>,
    /// Lines the fake holds: (ns, line, level label).
    lines: Mutex<Vec<(i128, String, &'static str)>>,
    fail: Mutex<Option<(u16, String)>>,
    slow: Mutex<bool>,
}

async fn query_range(
    State(f): State<Arc<Fake>>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let tenant = headers.get("x-scope-orgid").and_then(|v| v.to_str().ok()).map(str::to_owned);
    f.asked.lock().unwrap().push((q.clone(), tenant));
    if *f.slow.lock().unwrap() {
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    }
    if let Some((status, body)) = f.fail.lock().unwrap().clone() {
        return (StatusCode::from_u16(status).unwrap(), body).into_response();
    }
    let (start, end): (i128, i128) = (q["start"].parse().unwrap(), q["end"].parse().unwrap());
    let limit: usize = q["limit"].parse().unwrap();
    let held = f.lines.lock().unwrap().clone();
    if held.is_empty() {
        return ([("content-type", "application/json")], FIXTURE).into_response();
    }
    // Backward: the newest `limit` lines in [start, end).
    let mut hit: Vec<_> = held.into_iter().filter(|(ns, _, _)| *ns >= start && *ns < end).collect();
    hit.sort_by_key(|(ns, _, _)| std::cmp::Reverse(*ns));
    hit.truncate(limit);
    let by_level = |level: &str| -> Vec<Value> {
        hit.iter().filter(|(_, _, l)| *l == level).map(|(ns, line, _)| json!([ns.to_string(), line])).collect()
    };
    let result: Vec<Value> = ["info", "error"]
        .iter()
        .map(|l| json!({"stream": {"service_name": "orders", "level": l}, "values": by_level(l)}))
        .collect();
    axum::Json(json!({"status": "success", "data": {"resultType": "streams", "result": result, "stats": {}}}))
        .into_response()
}

async fn fake() -> (Arc<Fake>, String) {
    let f = Arc::new(Fake::default());
    let app =
        axum::Router::new().route("/loki/api/v1/query_range", axum::routing::get(query_range)).with_state(f.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (f, url)
}

fn source(url: &str) -> LogSourceConfig {
    let mut c = Config::default().log_sources[0].clone();
    c.name = "loki".into();
    c.kind = LogSourceKind::Loki;
    c.url = Some(url.into());
    c.tenant = Some("team-a".into());
    c
}

fn query(selector: &str, limit: usize) -> LogQuery {
    LogQuery {
        selector: selector.into(),
        since: 1_569_266_000_000,
        until: 1_569_267_000_000,
        level: None,
        contains: None,
        limit,
    }
}

#[test]
fn the_documented_answer_reads_as_written() {
    let lines = lines(&serde_json::from_str(FIXTURE).unwrap()).unwrap();
    assert_eq!(lines.len(), 2);
    // Newest first, milliseconds from Loki's nanoseconds, the level from the label.
    assert_eq!((lines[0].ts, lines[0].message.as_str(), lines[0].level), (1_569_266_497_240, "foo", Level::Info));
    assert_eq!(lines[1].attributes["job"], "varlogs");
    let matrix = json!({"status": "success", "data": {"resultType": "matrix", "result": []}});
    assert!(super_lines_err(&matrix).contains("not log streams"));
}

fn super_lines_err(v: &Value) -> String {
    lines(v).unwrap_err()
}

#[tokio::test]
async fn queries_carry_the_window_tenant_and_filters_and_page_backward() {
    let (f, url) = fake().await;
    let loki = Loki::new(&source(&url), &LogsConfig::default()).unwrap();
    let got = loki.query(&query("{service_name=\"orders\"}", 100)).await.unwrap();
    assert_eq!(got.lines.iter().map(|l| l.message.as_str()).collect::<Vec<_>>(), ["bar", "foo"], "oldest first");
    let (asked, tenant) = f.asked.lock().unwrap()[0].clone();
    assert_eq!(tenant.as_deref(), Some("team-a"));
    assert_eq!(asked["query"], "{service_name=\"orders\"}");
    assert_eq!((asked["start"].as_str(), asked["end"].as_str()), ("1569266000000000000", "1569267000000000000"));
    assert_eq!(asked["direction"], "backward");

    // 12,000 lines in the window: read in pages of 5,000 until the limit.
    let base: i128 = 1_569_266_000_000_000_000;
    *f.lines.lock().unwrap() = (0..12_000)
        .map(|k| (base + k * 50_000_000, format!("line {k}"), if k % 100 == 0 { "error" } else { "info" }))
        .collect();
    f.asked.lock().unwrap().clear();
    let got = loki.query(&query("{service_name=\"orders\"}", 11_000)).await.unwrap();
    assert_eq!((got.lines.len(), got.truncated), (11_000, true));
    assert_eq!(got.lines.last().unwrap().message, "line 11999", "the newest are kept");
    assert_eq!(f.asked.lock().unwrap().len(), 3);
    let mut errors = query("{service_name=\"orders\"}", 100_000);
    errors.level = Some(Level::Error);
    errors.contains = Some("line 1".into());
    let got = loki.query(&errors).await.unwrap();
    assert_eq!(got.lines.len(), 120, "levels filtered here");
    assert!(f.asked.lock().unwrap().last().unwrap().0["query"].ends_with(r#" |~ "(?i)line 1""#));
}

#[tokio::test]
async fn errors_and_slowness_name_the_source() {
    let (f, url) = fake().await;
    let loki = Loki::new(&source(&url), &LogsConfig::default()).unwrap();
    *f.fail.lock().unwrap() = Some((400, "parse error at line 1, col 15: syntax error: unexpected IDENTIFIER".into()));
    let err = loki.query(&query("{service_name=orders}", 10)).await.unwrap_err().0;
    assert!(err.starts_with(&format!("log source loki at {url}: HTTP 400: parse error")), "{err}");
    *f.fail.lock().unwrap() = None;
    *f.slow.lock().unwrap() = true;
    let logs = LogsConfig { timeout_secs: 1, retries: 0, ..LogsConfig::default() };
    let guarded =
        switchboard_core::logs::guard::Guarded::new("loki", Arc::new(Loki::new(&source(&url), &logs).unwrap()), &logs);
    let started = std::time::Instant::now();
    let err = guarded.query(&query("{a=\"b\"}", 10)).await.unwrap_err().0;
    assert!(err.contains("loki did not answer within 1 s") || err.contains("log source loki at"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
}

#[tokio::test]
async fn check_logs_reads_loki_and_a_name_cannot_change_the_selector() {
    let (f, url) = fake().await;
    let mut config = Config::default();
    let mut loki = source(&url);
    loki.explore_url = Some("https://grafana.example.com/explore?left={{ selector }}&from={{ since }}".into());
    config.log_sources = vec![loki];
    let world = switchboard_testkit::World::builder()
        .config(config.clone())
        .demo(60, 42)
        .log_sources(|c, table| switchboard_logs::open(&c.log_sources, &c.logs, table).unwrap())
        .build()
        .await;
    let service = world.service.clone();
    let now = service.now() as i128 * 1_000_000;
    *f.lines.lock().unwrap() = (0..60)
        .map(|k| {
            (
                now - (60 - k) * 60_000_000_000,
                format!("OOMKilled: container {k} used 2Gi"),
                if k > 50 { "error" } else { "info" },
            )
        })
        .collect();
    let viewer = switchboard_core::Caller::new("dave", switchboard_core::model::Role::Viewer, "test");
    let r = service.execute_json(&viewer, "check_logs", json!({"project": "orders"})).await.unwrap().to_json();
    assert_eq!((r["source"].as_str(), r["kind"].as_str()), (Some("loki"), Some("loki")));
    assert_eq!(r["selector"], "{service_name=\"orders\"}");
    assert_eq!(r["errors"], 9);
    assert_eq!(r["signatures"][0]["template"], "OOMKilled: container <num> used <num>");
    assert!(r["link"].as_str().unwrap().contains("left=%7Bservice_name%3D%22orders%22%7D"), "{r}");
    // A selector rendered from a fact: its quotes and backslashes are escaped.
    let admin = switchboard_core::Caller::new("alice", switchboard_core::model::Role::Admin, "test");
    let mut c2 = config.clone();
    c2.log_sources[0].selector = Some("{app=\"{{ facts.runbook }}\"}".into());
    let p = service.graph().get_project(&"orders".parse().unwrap()).await.unwrap().unwrap();
    let _ = admin;
    let hostile = switchboard_core::model::Project {
        facts: [(
            "runbook".parse().unwrap(),
            switchboard_core::model::Fact {
                key: "runbook".parse().unwrap(),
                value: switchboard_core::model::FactValue::Text("x\"} or {job=~\".+".into()),
                updated_at: 0,
            },
        )]
        .into_iter()
        .collect(),
        ..p
    };
    let (_, sel) = switchboard_core::logs::source_for(&c2.log_sources, &hostile).unwrap().unwrap();
    assert_eq!(sel, r#"{app="x\"} or {job=~\".+"}"#, "one label value, still");
}
