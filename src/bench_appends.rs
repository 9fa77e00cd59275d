//! `switchboard bench-appends`: appends to the operations log a config names
//! (the embedded store by default, or ClickHouse), first as they come in
//! service — many requests at once appending an event each, times moving
//! forward — then as bulk loads send them (batches of 1,000). Prints appends
//! a second, each single append's p50/p99 and how many events the log held
//! before, as JSON. `switchboard bench` runs the same measure.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use switchboard_core::config::Config;
use switchboard_core::event::{Event, EventKind};
use switchboard_core::store::EventLog;

use crate::samples::Samples;

pub(crate) struct Options {
    pub writers: usize,
    pub events: usize,
    pub config: Config,
    pub data_dir: Option<PathBuf>,
}

/// What one measure found.
pub(crate) struct Appends {
    /// Single-event appends a second, all writers together.
    pub single: f64,
    /// Each single append, from call to answer.
    pub latency: Samples,
    /// Events a second in batches of 1,000.
    pub batched: f64,
}

pub(crate) async fn run(o: Options) -> anyhow::Result<()> {
    anyhow::ensure!(o.writers > 0, "--writers must be at least 1");
    anyhow::ensure!(o.events >= o.writers, "--events must be at least --writers (each writer appends its share)");
    let dir = crate::samples::StoreDir::new(o.data_dir.as_ref(), "bench-appends");
    println!("{}", serde_json::to_string_pretty(&measure(&o, &dir.path).await?)?);
    Ok(())
}

async fn measure(o: &Options, dir: &std::path::Path) -> anyhow::Result<serde_json::Value> {
    std::fs::create_dir_all(dir)?;
    let opened = crate::app::open(&o.config, dir).await?;
    let before = opened.log.count().await?;
    eprintln!("appends: {} single events from {} writers, then as many in batches of 1,000", o.events, o.writers);
    let a = appends(&opened.log, opened.service.now(), o.writers, o.events).await?;
    Ok(json!({
        "log": o.config.store.log,
        "buffer_seconds": (o.config.store.log == switchboard_core::config::LogBackend::Clickhouse)
            .then_some(o.config.store.clickhouse.buffer_seconds),
        "events_before": before,
        "writers": o.writers,
        "single_events_per_second": a.single.round(),
        "single_event_append": a.latency.json(),
        "batches_of_1000_per_second": a.batched.round(),
        "target_single_events_per_second": 50_000
    }))
}

/// `total` single-event appends from `writers` tasks at once (each event
/// a millisecond after the last, from `now`), then `total` more in batches
/// of 1,000.
pub(crate) async fn appends(
    log: &Arc<dyn EventLog>,
    now: i64,
    writers: usize,
    total: usize,
) -> anyhow::Result<Appends> {
    let clock = Arc::new(AtomicI64::new(now));
    let t = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let log = log.clone();
        let clock = clock.clone();
        tasks.push(tokio::spawn(async move {
            let mut took = Vec::with_capacity(total / writers);
            for i in 0..total / writers {
                let at = clock.fetch_add(1, Ordering::Relaxed);
                let e = Event::new(EventKind::BuildRecorded, at, "bench", "bench", json!({"w": w, "i": i}));
                let started = Instant::now();
                log.append(std::slice::from_ref(&e)).await?;
                took.push(started.elapsed());
            }
            anyhow::Ok(took)
        }));
    }
    let mut latency: Vec<Duration> = Vec::with_capacity(total);
    for task in tasks {
        latency.extend(task.await??);
    }
    let single = latency.len() as f64 / t.elapsed().as_secs_f64();
    let start = clock.load(Ordering::Relaxed);
    let batches: Vec<Vec<Event>> = (0..total.div_ceil(1000) as i64)
        .map(|b| {
            (0..1000i64)
                .map(|i| {
                    let at = start + b * 1000 + i;
                    Event::new(EventKind::BuildRecorded, at, "bench", "bench", json!({"b": b, "i": i}))
                })
                .collect()
        })
        .collect();
    let t = Instant::now();
    for batch in &batches {
        log.append(batch).await?;
    }
    let batched = (batches.len() * 1000) as f64 / t.elapsed().as_secs_f64();
    Ok(Appends { single, latency: Samples(latency), batched })
}
