//! Logs: where a project's lines are read from (`[[log_sources]]`), and what
//! `check_logs` makes of them without a language model — counts by level
//! over time, error signatures (templates of messages, grouped) with which
//! are new against a baseline window before, and spikes. Sources are
//! implementations of [`LogSource`]: the embedded table (store crate), Loki,
//! ClickHouse `otel_logs`, Elasticsearch/OpenSearch (`switchboard-logs`).

pub mod analysis;
pub mod guard;
pub mod signature;

use std::collections::BTreeMap;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::Millis;

/// How severe a line is, in the usual order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

impl Level {
    pub const ALL: [Level; 6] = [Self::Trace, Self::Debug, Self::Info, Self::Warn, Self::Error, Self::Fatal];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trace => "trace",
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
            Self::Fatal => "fatal",
        }
    }

    /// A level as sources spell it (`ERROR`, `Warning`, `err`, `E`, `crit`,
    /// OpenTelemetry's `SeverityText`); unknown spellings are info.
    pub fn parse(text: &str) -> Self {
        match text.trim().to_ascii_lowercase().as_str() {
            "trace" | "trc" | "t" | "verbose" => Self::Trace,
            "debug" | "dbg" | "d" => Self::Debug,
            "warn" | "warning" | "wrn" | "w" => Self::Warn,
            "error" | "err" | "e" | "eror" | "severe" => Self::Error,
            "fatal" | "crit" | "critical" | "alert" | "emerg" | "emergency" | "panic" | "f" => Self::Fatal,
            _ => Self::Info,
        }
    }

    /// OpenTelemetry's `SeverityNumber` (1-24).
    pub fn from_severity_number(n: i64) -> Self {
        match n {
            1..=4 => Self::Trace,
            5..=8 => Self::Debug,
            13..=16 => Self::Warn,
            17..=20 => Self::Error,
            21..=24 => Self::Fatal,
            _ => Self::Info,
        }
    }

    /// Error or fatal: what signatures and spikes are made of.
    pub fn is_error(self) -> bool {
        self >= Self::Error
    }
}

/// One log line as every source gives it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LogLine {
    pub ts: Millis,
    pub level: Level,
    pub message: String,
    /// A few attributes worth showing (`trace_id`, `pod`…).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

/// What to read from a source.
#[derive(Clone, Debug, PartialEq)]
pub struct LogQuery {
    /// The source's own selector for the project, rendered from its
    /// template (a LogQL stream selector, a service name, a query).
    pub selector: String,
    pub since: Millis,
    pub until: Millis,
    /// Only lines at this level or above.
    pub level: Option<Level>,
    /// Only lines whose message contains this text.
    pub contains: Option<String>,
    /// At most this many lines (the newest when there are more).
    pub limit: usize,
}

/// What a source gave for a query.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogBatch {
    /// Oldest first.
    pub lines: Vec<LogLine>,
    /// The source had more lines in the window than the limit.
    pub truncated: bool,
}

/// Lines of one level in one time bucket (its index from the window's start).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counted {
    pub bucket: i64,
    pub level: Level,
    pub lines: u64,
}

/// Why a source could not answer; the message names the source and its address.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LogError(pub String);

/// A place log lines are read from.
#[async_trait]
pub trait LogSource: Send + Sync {
    /// `embedded`, `loki`, `clickhouse`, `elasticsearch`.
    fn kind(&self) -> &'static str;
    async fn query(&self, q: &LogQuery) -> Result<LogBatch, LogError>;
    /// Lines for `q` (its limit unused) counted by the source itself, by
    /// level and time bucket — the bucket a line falls in is
    /// `(ts - q.since) / bucket_ms` — so a large window is counted where the
    /// lines are instead of read here. `None` when the source cannot; its
    /// lines are then counted as they are read.
    async fn count(&self, _q: &LogQuery, _bucket_ms: Millis) -> Result<Option<Vec<Counted>>, LogError> {
        Ok(None)
    }
    /// A link to the same lines in the source's own UI, when it has one.
    fn explore_url(&self, _q: &LogQuery) -> Option<String> {
        None
    }
}

/// The embedded table of log lines (the store crate keeps it in SQLite).
#[async_trait]
pub trait LogTable: Send + Sync {
    /// Appends lines, each with its project's slug.
    async fn append_logs(&self, lines: &[(String, LogLine)]) -> crate::store::StoreResult<()>;
    /// The lines of `project` for `q` (its selector unused), oldest first.
    async fn read_logs(&self, project: &str, q: &LogQuery) -> crate::store::StoreResult<LogBatch>;
    /// The lines of `project` for `q` counted by level and bucket (`LogSource::count`).
    async fn count_logs(
        &self,
        project: &str,
        q: &LogQuery,
        bucket_ms: Millis,
    ) -> crate::store::StoreResult<Vec<Counted>>;
    /// Forgets lines older than `before`; how many.
    async fn prune_logs(&self, before: Millis) -> crate::store::StoreResult<u64>;
}

/// The embedded table as a source: the selector is the project's slug.
pub struct Embedded(pub std::sync::Arc<dyn LogTable>);

#[async_trait]
impl LogSource for Embedded {
    fn kind(&self) -> &'static str {
        "embedded"
    }

    async fn query(&self, q: &LogQuery) -> Result<LogBatch, LogError> {
        self.0.read_logs(&q.selector, q).await.map_err(|e| LogError(format!("the embedded log table: {e}")))
    }

    async fn count(&self, q: &LogQuery, bucket_ms: Millis) -> Result<Option<Vec<Counted>>, LogError> {
        let counted = self.0.count_logs(&q.selector, q, bucket_ms).await;
        counted.map(Some).map_err(|e| LogError(format!("the embedded log table: {e}")))
    }
}

/// A value made safe for a source's query language.
pub fn escape(kind: crate::config::LogSourceKind, value: &str) -> String {
    use crate::config::LogSourceKind::*;
    match kind {
        // A LogQL label value sits in double quotes.
        Loki => value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n"),
        // Inside a JSON string of the query template.
        Elasticsearch => {
            let quoted = serde_json::to_string(value).unwrap_or_default();
            quoted[1..quoted.len().saturating_sub(1)].to_owned()
        }
        // Bound as a parameter, never spliced into SQL.
        Clickhouse | Embedded => value.to_owned(),
    }
}

/// `template` with `{{ project }}`, `{{ team }}` and `{{ facts.KEY }}`
/// filled, each value escaped for `kind`. An unknown name is an error.
pub fn render(
    template: &str,
    kind: crate::config::LogSourceKind,
    project: &crate::model::Project,
) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").ok_or_else(|| format!("an unclosed {{{{ in {template:?}"))? + start;
        let name = rest[start + 2..end].trim();
        let value = match name {
            "project" => project.slug.to_string(),
            "team" => project.team.to_string(),
            _ => match name.strip_prefix("facts.") {
                Some(k) => project
                    .facts
                    .iter()
                    .find(|(key, _)| key.as_str() == k)
                    .map(|(_, f)| f.value.to_string())
                    .ok_or_else(|| format!("{} has no fact {k} for its log selector", project.slug))?,
                None => return Err(format!("{{{{ {name} }}}} is not project, team or facts.KEY")),
            },
        };
        out.push_str(&escape(kind, &value));
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The source that holds `project`'s lines and its selector there: an
/// explicit `selectors` entry, else the source whose `projects` names it,
/// else the first source that names no projects.
pub fn source_for<'a>(
    sources: &'a [crate::config::LogSourceConfig],
    project: &crate::model::Project,
) -> Option<Result<(&'a crate::config::LogSourceConfig, String), String>> {
    let slug = project.slug.as_str();
    if let Some(s) = sources.iter().find(|s| s.selectors.contains_key(slug)) {
        return Some(Ok((s, s.selectors[slug].clone())));
    }
    let s = sources
        .iter()
        .find(|s| s.projects.iter().any(|p| p == slug))
        .or_else(|| sources.iter().find(|s| s.projects.is_empty()))?;
    Some(render(s.selector_template(), s.kind, project).map(|sel| (s, sel)))
}

/// The embedded sources `[[log_sources]]` names, over `table` (the others
/// are opened by the crates that speak their protocols).
pub fn open_embedded(
    sources: &[crate::config::LogSourceConfig],
    table: &std::sync::Arc<dyn LogTable>,
) -> BTreeMap<String, std::sync::Arc<dyn LogSource>> {
    sources
        .iter()
        .filter(|s| s.kind == crate::config::LogSourceKind::Embedded)
        .map(|s| {
            let source: std::sync::Arc<dyn LogSource> = std::sync::Arc::new(Embedded(table.clone()));
            (s.name.clone(), source)
        })
        .collect()
}
