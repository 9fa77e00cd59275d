//! `switchboard migrate --to clickhouse`: copies the embedded store's
//! operations log into the ClickHouse log the config names, newest pages
//! first, with progress on stderr, and checks at the end that every event
//! arrived. Appends are idempotent by event id, so an interrupted copy is
//! simply run again.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use switchboard_core::config::Config;
use switchboard_core::event::EventQuery;
use switchboard_core::store::EventLog;
use switchboard_store::SqliteStore;
use switchboard_store_clickhouse::{ClickHouseLog, Options};

const PAGE: usize = 5_000;

pub async fn to_clickhouse(config: &Config, data_dir: &Path) -> anyhow::Result<()> {
    let source = SqliteStore::open(data_dir, config.store.readers)
        .with_context(|| format!("cannot open the store in {}", data_dir.display()))?;
    let c = &config.store.clickhouse;
    let options = Options {
        url: c.url.clone(),
        database: c.database.clone(),
        user: c.user.clone(),
        password: c.password.clone(),
        flush_interval: std::time::Duration::ZERO,
    };
    let target = ClickHouseLog::open(&options)
        .await
        .with_context(|| format!("cannot open the operations log on ClickHouse at {} (store.clickhouse)", c.url))?;
    let total = source.count().await?;
    let before = target.count().await?;
    eprintln!("copying {total} events from {} to {} (database {})", data_dir.display(), c.url, c.database);
    let mut until: Option<i64> = None;
    let mut copied = 0u64;
    let mut page = PAGE;
    loop {
        let q = EventQuery { until, limit: page, ..Default::default() };
        let events = source.query(&q).await?;
        if events.is_empty() {
            break;
        }
        let oldest = events.last().map(|e| e.occurred_at).unwrap_or_default();
        target.append(&events).await?;
        copied += events.len() as u64;
        eprint!("\r{:>10} / {total} events", copied.min(total));
        let _ = std::io::stderr().flush();
        if events.len() < page {
            break;
        }
        // The next page ends where this one's oldest millisecond begins; a
        // page that is one millisecond only is read again, larger.
        if Some(oldest + 1) == until || events.first().map(|e| e.occurred_at) == Some(oldest) {
            page *= 2;
            until = Some(oldest + 1);
            continue;
        }
        until = Some(oldest + 1);
        page = PAGE;
    }
    eprintln!();
    let after = target.count().await?;
    let arrived = after.saturating_sub(before);
    anyhow::ensure!(
        after >= total,
        "ClickHouse holds {after} events, fewer than the {total} in the embedded store: run the command again"
    );
    eprintln!(
        "done: ClickHouse holds {after} events ({arrived} new, {} were there already); the embedded store holds {total}",
        total.saturating_sub(arrived)
    );
    println!("{}", serde_json::json!({"source_events": total, "target_events": after, "new": arrived}));
    Ok(())
}
