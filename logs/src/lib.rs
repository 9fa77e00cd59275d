//! The log sources that speak a server's protocol (`[[log_sources]]`):
//! Grafana Loki (LogQL over HTTP), ClickHouse (the OpenTelemetry exporter's
//! `otel_logs`, or a mapped table) and Elasticsearch/OpenSearch (`_search`).
//! The embedded table lives in the store crate. Each is a
//! [`LogSource`]; core puts every one behind its timeout, retry and breaker
//! guard and never lets a project's name into a query unescaped.

pub mod clickhouse;
pub mod elasticsearch;
mod http;
pub mod loki;

use std::collections::BTreeMap;
use std::sync::Arc;

use switchboard_core::config::{LogSourceConfig, LogSourceKind, LogsConfig};
use switchboard_core::logs::{LogSource, LogTable};

/// Every source `sources` names, opened (`embedded` over `table`).
pub fn open(
    sources: &[LogSourceConfig],
    logs: &LogsConfig,
    table: &Arc<dyn LogTable>,
) -> Result<BTreeMap<String, Arc<dyn LogSource>>, String> {
    let mut out = switchboard_core::logs::open_embedded(sources, table);
    for s in sources {
        let source: Arc<dyn LogSource> = match s.kind {
            LogSourceKind::Embedded => continue,
            LogSourceKind::Loki => Arc::new(loki::Loki::new(s, logs)?),
            LogSourceKind::Clickhouse => Arc::new(clickhouse::ClickHouse::new(s)?),
            LogSourceKind::Elasticsearch => Arc::new(elasticsearch::Elasticsearch::new(s, logs)?),
        };
        out.insert(s.name.clone(), source);
    }
    Ok(out)
}
