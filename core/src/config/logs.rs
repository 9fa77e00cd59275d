//! `[logs]` (how lines are read and analysed, the embedded table) and
//! `[[log_sources]]` (where each project's lines are).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogsConfig {
    /// Lines read from a source for one window, at most (the newest when
    /// there are more; the answer says it was cut). Default: `200000`.
    pub max_lines: usize,
    /// The window `check_logs` reads when none is given, in minutes. Default: `60`.
    pub default_window_minutes: u32,
    /// The baseline new signatures and spikes are judged against: this many
    /// window lengths right before the window. Default: `4`.
    pub baseline_windows: u32,
    /// Time buckets a window is counted in. Default: `12`.
    pub buckets: usize,
    /// A bucket spikes at this many times the baseline's errors per bucket …
    /// Default: `3.0`.
    pub spike_factor: f64,
    /// … with at least this many errors. Default: `5`.
    pub spike_min: u64,
    /// Signatures reported at most. Default: `10`.
    pub signatures: usize,
    /// Seconds a source has to answer a query. Default: `10`.
    pub timeout_secs: u64,
    /// Retries of a failed query (with backoff). Default: `2`.
    pub retries: u32,
    /// Failures in a row that open a source's breaker (it is not asked for
    /// `breaker_cooldown_secs`). Default: `5`.
    pub breaker_failures: u32,
    /// Default: `30`.
    pub breaker_cooldown_secs: u64,
    /// The embedded table: the largest body `POST /api/v1/logs` accepts, in
    /// bytes. Default: `8388608` (8 MiB).
    pub ingest_max_bytes: usize,
    /// The embedded table keeps lines this many days. Default: `7`.
    pub retention_days: u32,
}

impl Default for LogsConfig {
    fn default() -> Self {
        Self {
            max_lines: 200_000,
            default_window_minutes: 60,
            baseline_windows: 4,
            buckets: 12,
            spike_factor: 3.0,
            spike_min: 5,
            signatures: 10,
            timeout_secs: 10,
            retries: 2,
            breaker_failures: 5,
            breaker_cooldown_secs: 30,
            ingest_max_bytes: 8 * 1024 * 1024,
            retention_days: 7,
        }
    }
}

/// What kind of place a log source is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogSourceKind {
    /// The embedded table, fed by `POST /api/v1/logs`.
    Embedded,
    /// Grafana Loki: LogQL over HTTP.
    Loki,
    /// ClickHouse: the OpenTelemetry exporter's `otel_logs`, or a mapped table.
    Clickhouse,
    /// Elasticsearch or OpenSearch: `_search`.
    Elasticsearch,
}

/// One `[[log_sources]]` entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSourceConfig {
    /// How people and the `log_source` mapping name it.
    pub name: String,
    pub kind: LogSourceKind,
    /// The source's base URL (Loki `http://loki:3100`, ClickHouse
    /// `http://clickhouse:8123`, Elasticsearch `http://es:9200`). Not for embedded.
    #[serde(default)]
    pub url: Option<String>,
    /// How a project's lines are selected, a template over `project`,
    /// `team` and `facts.KEY`, escaped for the source's language. Default:
    /// Loki `{service_name="{{ project }}"}`, ClickHouse and Elasticsearch
    /// `{{ project }}` (the service name), embedded `{{ project }}`.
    #[serde(default)]
    pub selector: Option<String>,
    /// Projects this source holds; empty: every project no other source names.
    #[serde(default)]
    pub projects: Vec<String>,
    /// Explicit selectors by project, over the template.
    #[serde(default)]
    pub selectors: BTreeMap<String, String>,
    /// Loki's tenant (`X-Scope-OrgID`).
    #[serde(default)]
    pub tenant: Option<String>,
    /// Basic auth user; its password comes from
    /// `SWITCHBOARD_LOG_SOURCE_<NAME>_PASSWORD` (or `password`).
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default, skip_serializing)]
    pub password: Option<String>,
    /// A bearer token, from `SWITCHBOARD_LOG_SOURCE_<NAME>_TOKEN` (or here).
    #[serde(default, skip_serializing)]
    pub token: Option<String>,
    /// ClickHouse: the database. Default: `default`.
    #[serde(default)]
    pub database: Option<String>,
    /// ClickHouse: the table. Default: `otel_logs`.
    #[serde(default)]
    pub table: Option<String>,
    /// ClickHouse: the table's columns when they are not the OpenTelemetry
    /// exporter's, by role: `timestamp` (`Timestamp`), `severity_text`
    /// (`SeverityText`), `severity_number` (`SeverityNumber`), `service`
    /// (`ServiceName`), `body` (`Body`).
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Elasticsearch: the index pattern. Default: `logs-*`.
    #[serde(default)]
    pub index: Option<String>,
    /// A link to the lines in the source's own UI, a template over
    /// `selector`, `since` and `until` (epoch ms), each URL-escaped, e.g.
    /// Grafana Explore. Default: none.
    #[serde(default)]
    pub explore_url: Option<String>,
}

impl LogSourceConfig {
    /// The selector template, or the kind's default.
    pub fn selector_template(&self) -> &str {
        match (&self.selector, self.kind) {
            (Some(s), _) => s,
            (None, LogSourceKind::Loki) => "{service_name=\"{{ project }}\"}",
            (None, _) => "{{ project }}",
        }
    }

    /// Secrets from `SWITCHBOARD_LOG_SOURCE_<NAME>_PASSWORD` / `_TOKEN`.
    pub(super) fn apply_env(&mut self, env: &[(String, String)]) {
        let name: String =
            self.name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
        for (k, v) in env {
            if *k == format!("SWITCHBOARD_LOG_SOURCE_{name}_PASSWORD") {
                self.password = Some(v.clone());
            } else if *k == format!("SWITCHBOARD_LOG_SOURCE_{name}_TOKEN") {
                self.token = Some(v.clone());
            }
        }
    }
}

pub(super) fn validate(logs: &LogsConfig, sources: &[LogSourceConfig]) -> Result<(), (String, String)> {
    if logs.max_lines == 0 || logs.max_lines > 10_000_000 {
        return Err(("logs.max_lines".into(), "must be between 1 and 10000000".into()));
    }
    if logs.buckets == 0 || logs.buckets > 500 {
        return Err(("logs.buckets".into(), "must be between 1 and 500".into()));
    }
    if logs.spike_factor.is_nan() || logs.spike_factor < 1.0 {
        return Err(("logs.spike_factor".into(), "must be at least 1.0".into()));
    }
    if logs.default_window_minutes == 0 || logs.baseline_windows == 0 || logs.timeout_secs == 0 {
        return Err(("logs.default_window_minutes".into(), "windows and timeouts must be at least 1".into()));
    }
    if !(1024..=1024 * 1024 * 1024).contains(&logs.ingest_max_bytes) {
        return Err(("logs.ingest_max_bytes".into(), "must be between 1024 and 1073741824 (1 GiB)".into()));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, s) in sources.iter().enumerate() {
        let at = |k: &str| format!("log_sources[{i}].{k}");
        if s.name.is_empty() || !seen.insert(s.name.clone()) {
            return Err((at("name"), format!("{:?} must be a name no other source has", s.name)));
        }
        match (s.kind, &s.url) {
            (LogSourceKind::Embedded, Some(_)) => {
                return Err((at("url"), "the embedded source has no URL".into()));
            }
            (LogSourceKind::Embedded, None) => {}
            (_, None) => return Err((at("url"), format!("a {:?} source needs its URL", s.kind).to_lowercase())),
            (_, Some(u)) if !(u.starts_with("http://") || u.starts_with("https://")) => {
                return Err((at("url"), format!("{u:?} is not an http(s) URL")));
            }
            _ => {}
        }
        if let Some(bad) = s
            .columns
            .keys()
            .find(|k| !["timestamp", "severity_text", "severity_number", "service", "body"].contains(&k.as_str()))
        {
            return Err((
                at("columns"),
                format!("{bad:?} is not one of timestamp, severity_text, severity_number, service, body"),
            ));
        }
        let ident = |v: &str| !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        for v in s.columns.values().chain(&s.table).chain(&s.database) {
            if !ident(v) {
                return Err((at("columns"), format!("{v:?} is not a plain name (letters, digits, _)")));
            }
        }
        if s.selector_template().trim().is_empty() {
            return Err((at("selector"), "must not be empty".into()));
        }
    }
    Ok(())
}
