//! `bench`'s logs section: signature extraction on one core (lines a
//! second), and `check_logs` on the embedded table holding `lines` lines for
//! one project across a day (a one-hour and a 24-hour window, p50/p99), and
//! `investigate` end to end on the same project.

use std::time::Instant;

use serde_json::{Value, json};
use switchboard_core::logs::{Level, LogLine};
use switchboard_core::model::Role;
use switchboard_core::{Caller, Service};

use crate::samples::Samples;

fn message(k: u64) -> String {
    match k % 5 {
        0 => format!("TimeoutError: upstream 10.0.{}.{}:5432 after {} ms", k % 7, k % 250, 1000 + k % 4000),
        1 => format!("order {} failed: card_declined for user=\"u{}@example.com\"", 90_000 + k, k % 977),
        2 => format!("retry {} of 5 for job-{:06}: connection reset by peer", k % 5, k),
        3 => format!("GET /api/v1/orders/{} returned 502 in {}ms id=7c9e6679-7425-40de-944b-{:012x}", k, k % 900, k),
        _ => format!("KeyError: 'currency' in refund {k} at /srv/app/refunds/handlers.py:{}", k % 400),
    }
}

pub(crate) async fn measure(service: &Service, project: &str, lines: usize, samples: usize) -> anyhow::Result<Value> {
    // Signatures: one core, the messages made before the clock starts.
    let messages: Vec<String> = (0..1_000_000u64).map(message).collect();
    let t = Instant::now();
    let mut bytes = 0usize;
    for m in &messages {
        bytes += switchboard_core::logs::signature::template(m).len();
    }
    let per_second = messages.len() as f64 / t.elapsed().as_secs_f64();
    std::hint::black_box(bytes);

    let t = Instant::now();
    fill_embedded(service, project, lines).await?;
    let ingest_per_second = lines as f64 / t.elapsed().as_secs_f64();
    let windows = windows(service, project, samples).await?;
    let viewer = Caller::new("bench", Role::Viewer, "bench");
    let mut took = Vec::with_capacity(samples);
    for _ in 0..samples {
        let t = Instant::now();
        service.execute_json(&viewer, "investigate", json!({"project": project})).await?;
        took.push(t.elapsed());
    }
    Ok(json!({
        "signatures_per_second_one_core": per_second.round(),
        "embedded": {
            "lines": lines,
            "ingest_per_second": ingest_per_second.round(),
            "check_logs": windows,
            "investigate": Samples(took).json(),
        },
    }))
}

/// `switchboard bench-logs`: `check_logs` over `lines` lines of one project
/// across a day, on the embedded table and (with `clickhouse`) on a
/// ClickHouse `otel_logs` filled by the server itself; p50/p99 for a
/// one-hour and a 24-hour window.
pub(crate) async fn standalone(lines: usize, clickhouse: Option<String>, samples: usize) -> anyhow::Result<()> {
    anyhow::ensure!(lines >= 1000 && samples > 0, "--lines must be at least 1000 and --samples at least 1");
    switchboard_agents::install_tls_provider();
    let dir = std::env::temp_dir().join(format!("switchboard-bench-logs-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run_standalone(lines, clickhouse, samples, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    println!("{}", serde_json::to_string_pretty(&result?)?);
    Ok(())
}

/// The lines span the day less a minute: a 24-hour window asked a moment
/// later still holds every one (the first line is not on the boundary).
const SPAN_MS: i64 = 24 * 3_600_000 - 60_000;

/// `lines` lines of `project` over the day before now into the embedded
/// table, one in fifty an error.
async fn fill_embedded(service: &Service, project: &str, lines: usize) -> anyhow::Result<()> {
    let admin = Caller::new("bench", Role::Admin, "bench");
    let now = service.now();
    for start in (0..lines as u64).step_by(50_000) {
        let batch: Vec<(String, LogLine)> = (start..(start + 50_000).min(lines as u64))
            .map(|k| {
                let level = if k % 50 == 0 { Level::Error } else { Level::Info };
                let ts = now - SPAN_MS + (k as i128 * SPAN_MS as i128 / lines.max(1) as i128) as i64;
                (project.to_owned(), LogLine { ts, level, message: message(k), attributes: Default::default() })
            })
            .collect();
        service.ingest_logs(&admin, batch).await?;
    }
    Ok(())
}

/// `check_logs` over the last hour and the last day, `samples` times each.
async fn windows(service: &Service, project: &str, samples: usize) -> anyhow::Result<Value> {
    let viewer = Caller::new("bench", Role::Viewer, "bench");
    let mut out = serde_json::Map::new();
    for (name, since) in [("one_hour", "1h"), ("day", "24h")] {
        let mut took = Vec::with_capacity(samples);
        let mut scanned = 0;
        for _ in 0..samples {
            let t = Instant::now();
            let r = service.execute_json(&viewer, "check_logs", json!({"project": project, "since": since})).await?;
            took.push(t.elapsed());
            scanned = r.to_json()["scanned"].as_u64().unwrap_or(0);
        }
        out.insert(name.into(), json!({"lines_scanned": scanned, "latency": Samples(took).json()}));
    }
    Ok(Value::Object(out))
}

async fn run_standalone(
    lines: usize,
    clickhouse: Option<String>,
    samples: usize,
    dir: &std::path::Path,
) -> anyhow::Result<Value> {
    let mut config = switchboard_core::config::Config::default();
    // Every line of a day read: the limit is the table.
    config.logs.max_lines = lines.min(10_000_000);
    let db = format!("sb_bench_logs_{}", std::process::id());
    if let Some(url) = &clickhouse {
        let mut s = config.log_sources[0].clone();
        s.name = "otel".into();
        s.kind = switchboard_core::config::LogSourceKind::Clickhouse;
        s.url = Some(url.clone());
        s.database = Some(db.clone());
        config.log_sources = vec![s];
    }
    let opened = crate::app::open(&config, dir).await?;
    let service = opened.service.clone();
    crate::seed::seed(&service, 60, false).await?;
    let project = "orders";
    let mut out = json!({"lines": lines, "project": project});
    match &clickhouse {
        None => {
            eprintln!("filling the embedded table with {lines} lines…");
            let t = Instant::now();
            fill_embedded(&service, project, lines).await?;
            out["fill_seconds"] = json!((t.elapsed().as_secs_f64() * 10.0).round() / 10.0);
            out["embedded"] = windows(&service, project, samples).await?;
        }
        Some(url) => {
            eprintln!("filling otel_logs on {url} with {lines} lines (the server generates them)…");
            let http = reqwest::Client::new();
            let exec = |sql: String| {
                let http = http.clone();
                async move {
                    let r = http.post(url).body(sql.clone()).send().await?;
                    anyhow::ensure!(r.status().is_success(), "{sql}: {}", r.text().await?);
                    Ok::<_, anyhow::Error>(())
                }
            };
            exec(format!("CREATE DATABASE IF NOT EXISTS {db}")).await?;
            exec(format!(
                "CREATE TABLE {db}.otel_logs (Timestamp DateTime, SeverityText String, SeverityNumber Int32, \
                 ServiceName String, Body String) ENGINE = MergeTree() ORDER BY (ServiceName, Timestamp)"
            ))
            .await?;
            let now = service.now() / 1000;
            let t = Instant::now();
            exec(format!(
                "INSERT INTO {db}.otel_logs SELECT toDateTime({now} - {span} + intDiv(number * {span}, {lines})), \
                 if(number % 50 = 0, 'ERROR', 'INFO'), if(number % 50 = 0, 17, 9), 'orders', \
                 if(number % 50 = 0, concat('TimeoutError: upstream 10.0.', toString(number % 7), '.', toString(number % 250), ' after ', toString(1000 + number % 4000), ' ms'), \
                 concat('GET /api/v1/orders/', toString(number), ' 200 in ', toString(number % 900), 'ms')) \
                 FROM system.numbers LIMIT {lines}",
                span = SPAN_MS / 1000
            ))
            .await?;
            out["fill_seconds"] = json!((t.elapsed().as_secs_f64() * 10.0).round() / 10.0);
            let measured = windows(&service, project, samples).await;
            exec(format!("DROP DATABASE {db}")).await?;
            out["clickhouse"] = measured?;
        }
    }
    Ok(out)
}
