//! The Elasticsearch/OpenSearch source: the documented `_search` answer
//! (`fixtures/elasticsearch`, with its source) read as written; the query
//! built as JSON so a project's name stays a value; `check_logs` through it
//! against a fake `_search` on loopback; errors named.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use switchboard_core::config::{Config, LogSourceConfig, LogSourceKind, LogsConfig};
use switchboard_core::logs::{Level, LogQuery};
use switchboard_logs::elasticsearch::Elasticsearch;

const FIXTURE: &str = include_str!("fixtures/elasticsearch/search_response.json");

fn source(url: &str) -> LogSourceConfig {
    let mut c = Config::default().log_sources[0].clone();
    c.name = "es".into();
    c.kind = LogSourceKind::Elasticsearch;
    c.url = Some(url.into());
    c.index = Some("logs-app-*".into());
    c
}

#[test]
fn the_documented_answer_reads_as_written() {
    let es = Elasticsearch::new(&source("http://127.0.0.1:9"), &LogsConfig::default()).unwrap();
    let lines = es.lines(&serde_json::from_str(FIXTURE).unwrap());
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].message, "GET /search HTTP/1.1 200 1070000");
    assert_eq!(lines[0].level, Level::Info, "no log.level in the example");
    assert_eq!(lines[0].ts, 4_098_435_132_000, "2099-11-15T14:12:12 read as UTC");
}

#[test]
fn a_name_stays_a_value_in_the_query() {
    let es = Elasticsearch::new(&source("http://127.0.0.1:9"), &LogsConfig::default()).unwrap();
    let q = LogQuery {
        selector: "orders\"}},{\"match_all\":{}}".into(),
        since: 1,
        until: 2,
        level: Some(Level::Warn),
        contains: Some("card \"declined\"".into()),
        limit: 10,
    };
    let body = es.body(&q).unwrap();
    assert_eq!(body["query"]["bool"]["filter"][0], json!({"term": {"service.name": "orders\"}},{\"match_all\":{}}"}}));
    assert_eq!(body["query"]["bool"]["must"][0]["match_phrase"]["message"], "card \"declined\"");
    let levels = body["query"]["bool"]["filter"][2]["terms"]["log.level"].as_array().unwrap();
    assert!(levels.contains(&json!("warn")) && levels.contains(&json!("ERROR")) && !levels.contains(&json!("info")));
    assert_eq!(body["size"], 11);
    // A selector that is a JSON clause is used as one.
    let mut q2 = q.clone();
    q2.selector = r#"{"match": {"kubernetes.labels.app": "orders"}}"#.into();
    assert_eq!(es.body(&q2).unwrap()["query"]["bool"]["filter"][0]["match"]["kubernetes.labels.app"], "orders");
    q2.selector = "{not json".into();
    assert!(es.body(&q2).unwrap_err().0.contains("not a JSON query clause"));
}

#[derive(Default)]
struct Fake {
    asked: Mutex<Vec<(String, Value)>>,
    fail: Mutex<bool>,
}

async fn search(
    State(f): State<Arc<Fake>>,
    axum::extract::Path(index): axum::extract::Path<String>,
    body: axum::Json<Value>,
) -> Response {
    f.asked.lock().unwrap().push((index, body.0.clone()));
    if *f.fail.lock().unwrap() {
        return (StatusCode::BAD_REQUEST, r#"{"error":{"type":"parsing_exception"},"status":400}"#).into_response();
    }
    let now = body.0["query"]["bool"]["filter"][1]["range"]["@timestamp"]["lt"].as_i64().unwrap();
    let hits: Vec<Value> = (0..30)
        .map(|k| {
            let level = if k < 10 { "ERROR" } else { "INFO" };
            json!({"_index": "logs-app-1", "_id": k.to_string(), "_source": {
                "@timestamp": now - 1000 - k * 60_000, "log": {"level": level},
                "message": format!("payment {k} failed: gateway timeout after {k}00 ms")}})
        })
        .collect();
    axum::Json(json!({"took": 1, "timed_out": false, "hits": {"total": {"value": 30, "relation": "eq"}, "hits": hits}}))
        .into_response()
}

#[tokio::test]
async fn check_logs_reads_elasticsearch() {
    let f = Arc::new(Fake::default());
    let app = axum::Router::new().route("/{index}/_search", axum::routing::post(search)).with_state(f.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let config = Config { log_sources: vec![source(&url)], ..Default::default() };
    let world = switchboard_testkit::World::builder()
        .config(config)
        .demo(60, 42)
        .log_sources(|c, table| switchboard_logs::open(&c.log_sources, &c.logs, table).unwrap())
        .build()
        .await;
    let viewer = switchboard_core::Caller::new("dave", switchboard_core::model::Role::Viewer, "test");
    let r = world.service.execute_json(&viewer, "check_logs", json!({"project": "orders"})).await.unwrap().to_json();
    assert_eq!(r["kind"], "elasticsearch");
    assert_eq!((r["scanned"].as_u64(), r["errors"].as_u64()), (Some(30), Some(10)));
    assert_eq!(r["counted_by_source"], false, "the lines were read and counted here");
    assert_eq!(r["signatures"][0]["template"], "payment <num> failed: gateway timeout after <num> ms");
    let (index, body) = f.asked.lock().unwrap()[0].clone();
    assert_eq!(index, "logs-app-*");
    assert_eq!(body["query"]["bool"]["filter"][0], json!({"term": {"service.name": "orders"}}));
    *f.fail.lock().unwrap() = true;
    let err = world.service.execute_json(&viewer, "check_logs", json!({"project": "orders"})).await.unwrap_err();
    assert!(err.to_string().contains(&format!("log source es at {url}: HTTP 400")), "{err}");
}
