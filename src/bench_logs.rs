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

    // The embedded table: `lines` lines over the day before now, one in fifty an error.
    let admin = Caller::new("bench", Role::Admin, "bench");
    let now = service.now();
    let step = (24 * 3_600_000 / lines.max(1) as i64).max(1);
    let t = Instant::now();
    for chunk in (0..lines as u64).collect::<Vec<_>>().chunks(50_000) {
        let batch: Vec<(String, LogLine)> = chunk
            .iter()
            .map(|k| {
                let level = if k % 50 == 0 { Level::Error } else { Level::Info };
                let ts = now - 24 * 3_600_000 + *k as i64 * step;
                let line = LogLine { ts, level, message: message(*k), attributes: Default::default() };
                (project.to_owned(), line)
            })
            .collect();
        service.ingest_logs(&admin, batch).await?;
    }
    let ingest_per_second = lines as f64 / t.elapsed().as_secs_f64();
    let viewer = Caller::new("bench", Role::Viewer, "bench");
    let mut windows = serde_json::Map::new();
    for (name, since) in [("one_hour", "1h"), ("day", "24h")] {
        let mut took = Vec::with_capacity(samples);
        let mut scanned = 0;
        for _ in 0..samples {
            let t = Instant::now();
            let r = service.execute_json(&viewer, "check_logs", json!({"project": project, "since": since})).await?;
            took.push(t.elapsed());
            scanned = r.to_json()["scanned"].as_u64().unwrap_or(0);
        }
        windows.insert(name.into(), json!({"lines_scanned": scanned, "latency": Samples(took).json()}));
    }
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
            "check_logs": Value::Object(windows),
            "investigate": Samples(took).json(),
        },
    }))
}
