//! Logs through the API: `POST /api/v1/logs` fills the embedded table (JSON
//! lines, a token of an editor, its own size limit, all or nothing), and
//! `check_logs` finds the new error, its spike and the window's counts.

mod common;

use common::*;

fn post(uri: &str, token: &str, body: String) -> Request<Body> {
    Request::post(uri)
        .header("content-type", "application/x-ndjson")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(body))
        .unwrap()
}

fn op(name: &str, token: &str, args: Value) -> Request<Body> {
    Request::post(format!("/api/v1/ops/{name}"))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(args.to_string()))
        .unwrap()
}

fn ndjson(lines: &[Value]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// Five hours of `orders` with a steady known error, then in the last hour
/// the same plus a burst of a new one twenty minutes ago.
fn orders_story() -> Vec<Value> {
    let min = 60_000;
    let mut lines = Vec::new();
    for k in 0..300 {
        let ts = NOW - 5 * 60 * min + k * min;
        lines.push(
            json!({"project": "orders", "ts": ts, "level": "INFO", "message": format!("GET /orders/{k} 200 in {k}ms")}),
        );
        if k % 10 == 0 {
            lines.push(json!({"project": "orders", "ts": ts + 1, "level": "error", "message": format!("retry {k} for job-{k:06}: connection reset by peer")}));
        }
    }
    for k in 0..40 {
        let ts = NOW - 20 * min + k * 1000;
        lines.push(json!({"project": "orders", "ts": ts, "level": 17, "message": format!("TimeoutError: upstream 10.0.3.{k}:443 after 3000 ms token=sk_live_{:016x}", k * 7919), "attributes": {"pod": "orders-1"}}));
    }
    lines
}

/// An editor's token and a viewer's.
async fn tokens(p: &Portal) -> (String, String) {
    let admin = Caller::new("cli", Role::Admin, "cli");
    let editor = p.service.create_token(&admin, &"carol".parse().unwrap(), None, None).await.unwrap().secret;
    let viewer = p.service.create_token(&admin, &"dave".parse().unwrap(), None, None).await.unwrap().secret;
    (editor, viewer)
}

#[tokio::test]
async fn lines_sent_to_the_api_are_checked_for_new_errors_and_spikes() {
    let p = portal().await;
    let (editor, viewer) = tokens(&p).await;
    let lines = orders_story();
    let (status, answer, _) = p.send(Mode::Serve, post("/api/v1/logs", &editor, ndjson(&lines))).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(serde_json::from_str::<Value>(&answer).unwrap()["written"], lines.len());

    let check = |args: Value| op("check_logs", &viewer, args);
    let (status, answer, _) = p.send(Mode::Serve, check(json!({"project": "orders", "since": "1h"}))).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let r: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!((r["source"].as_str(), r["kind"].as_str()), (Some("embedded"), Some("embedded")));
    assert_eq!(r["scanned"], 60 + 6 + 40, "{r}");
    assert_eq!((r["counted_by_source"].as_bool(), r["truncated"].as_bool()), (Some(true), Some(false)));
    assert_eq!(r["errors"], 46);
    let first = &r["signatures"][0];
    assert_eq!(first["template"], "TimeoutError: upstream <ip> after <num> ms token=<id>", "{r}");
    assert_eq!((first["count"].as_u64(), first["new"].as_bool()), (Some(40), Some(true)));
    assert!(first["sample"].as_str().unwrap().ends_with("token=<redacted>"), "secrets are masked: {first}");
    let known = &r["signatures"][1];
    assert_eq!((known["new"].as_bool(), known["count"].as_u64()), (Some(false), Some(6)), "{known}");
    assert_eq!(r["spikes"].as_array().unwrap().len(), 1, "{r}");
    assert!(r["spikes"][0]["errors"].as_u64().unwrap() >= 40);

    // Filters: only warnings and up, only lines mentioning a text.
    let (_, answer, _) =
        p.send(Mode::Serve, check(json!({"project": "orders", "since": "1h", "level": "error"}))).await;
    assert_eq!(serde_json::from_str::<Value>(&answer).unwrap()["scanned"], 46);
    let (_, answer, _) =
        p.send(Mode::Serve, check(json!({"project": "orders", "since": "1h", "query": "TIMEOUTERROR"}))).await;
    assert_eq!(serde_json::from_str::<Value>(&answer).unwrap()["scanned"], 40);

    // Bad input changes nothing and says what to fix.
    let before = p.send(Mode::Serve, check(json!({"project": "orders", "since": "6h"}))).await.1;
    for (body, said) in [
        (ndjson(&[json!({"project": "nope", "ts": NOW, "message": "x"})]), "nope"),
        (ndjson(&[json!({"project": "orders", "message": "x"})]), "an RFC 3339 time or epoch milliseconds"),
        (ndjson(&[json!({"project": "orders", "ts": "yesterday", "message": "x"})]), "RFC 3339"),
        ("{oops\n".to_owned(), "line 1"),
    ] {
        let mixed = format!(
            "{}{body}",
            ndjson(&[json!({"project": "orders", "ts": NOW - 1, "level": "error", "message": "first"})])
        );
        let (status, answer, _) = p.send(Mode::Serve, post("/api/v1/logs", &editor, mixed)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert!(answer.contains(said), "{said}: {answer}");
    }
    let (status, _, _) = p.send(Mode::Serve, post("/api/v1/logs", &viewer, ndjson(&lines[..1]))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a viewer cannot write logs");
    assert_eq!(
        p.send(Mode::Serve, check(json!({"project": "orders", "since": "6h"}))).await.1,
        before,
        "nothing written"
    );
    let (status, answer, _) =
        p.send(Mode::Serve, check(json!({"project": "orders", "since": "1h", "until": "2h"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer.contains("must be before until"), "{answer}");
}

#[tokio::test]
async fn a_window_over_max_lines_is_counted_whole_and_its_newest_errors_read() {
    let mut config = Config::default();
    config.logs.max_lines = 30;
    let p = portal_with(config).await;
    let (editor, viewer) = tokens(&p).await;
    let (status, answer, _) = p.send(Mode::Serve, post("/api/v1/logs", &editor, ndjson(&orders_story()))).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, answer, _) =
        p.send(Mode::Serve, op("check_logs", &viewer, json!({"project": "orders", "since": "1h"}))).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let r: Value = serde_json::from_str(&answer).unwrap();
    // The table counted every line of the hour; only the newest 30 error lines were read.
    assert_eq!((r["scanned"].as_u64(), r["errors"].as_u64()), (Some(60 + 6 + 40), Some(46)), "{r}");
    assert_eq!((r["counted_by_source"].as_bool(), r["truncated"].as_bool()), (Some(true), Some(true)));
    let read: u64 = r["signatures"].as_array().unwrap().iter().map(|s| s["count"].as_u64().unwrap()).sum();
    assert_eq!(read, 30, "{r}");
    assert_eq!(r["spikes"].as_array().unwrap().len(), 1, "{r}");
    let buckets: u64 = r["buckets"].as_array().unwrap().iter().map(|b| b["counts"]["info"].as_u64().unwrap_or(0)).sum();
    assert_eq!(buckets, 60, "the info lines are counted though none was read");
}

#[tokio::test]
async fn a_project_no_source_holds_is_told_how_to_map_one() {
    let mut config = Config::default();
    config.log_sources[0].projects = vec!["checkout".into()];
    let p = portal_with(config).await;
    let admin = Caller::new("cli", Role::Admin, "cli");
    let viewer = p.service.create_token(&admin, &"dave".parse().unwrap(), None, None).await.unwrap().secret;
    let (status, answer, _) = p.send(Mode::Serve, op("check_logs", &viewer, json!({"project": "orders"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer.contains("orders has no log source") && answer.contains("docs/logs.md"), "{answer}");
    let (status, answer, _) = p.send(Mode::Serve, op("check_logs", &viewer, json!({"project": "checkout"}))).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

#[tokio::test]
async fn the_intake_has_its_own_size_limit() {
    let mut config = Config::default();
    config.logs.ingest_max_bytes = 2048;
    let p = portal_with(config).await;
    let admin = Caller::new("cli", Role::Admin, "cli");
    let editor = p.service.create_token(&admin, &"carol".parse().unwrap(), None, None).await.unwrap().secret;
    let line = json!({"project": "orders", "ts": NOW, "message": "x".repeat(100)});
    let (status, _, _) = p.send(Mode::Serve, post("/api/v1/logs", &editor, ndjson(&vec![line.clone(); 40]))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, answer, _) = p.send(Mode::Serve, post("/api/v1/logs", &editor, ndjson(&vec![line; 5]))).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

#[tokio::test]
async fn lines_older_than_the_retention_are_forgotten() {
    let p = portal().await;
    let admin = Caller::new("cli", Role::Admin, "cli");
    let day = 24 * 3_600_000;
    let line = |ts: i64| {
        let l = switchboard_core::logs::LogLine {
            ts,
            level: switchboard_core::logs::Level::Error,
            message: "old".into(),
            attributes: Default::default(),
        };
        ("orders".to_owned(), l)
    };
    p.service.ingest_logs(&admin, vec![line(NOW - 8 * day), line(NOW - 6 * day), line(NOW - 60_000)]).await.unwrap();
    assert_eq!(p.service.prune_logs().await.unwrap(), 1, "[logs] retention_days is 7");
    assert_eq!(p.service.prune_logs().await.unwrap(), 0);
    let viewer = Caller::new("dave", Role::Viewer, "test");
    let r = p.service.execute_json(&viewer, "check_logs", json!({"project": "orders", "since": "7d"})).await.unwrap();
    assert_eq!(r.to_json()["scanned"], 2);
}
