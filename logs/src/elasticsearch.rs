//! Elasticsearch and OpenSearch: `POST {index}/_search`, newest first, the
//! body built as JSON (so every value is a JSON string, never query text):
//! a term on the service field with the project's selector — or, when the
//! selector is a JSON query clause (`{"match": {"kubernetes.labels.app":
//! "{{ project }}"}}`, values escaped by core), that clause — the window as
//! an `epoch_millis` range, the level as the spellings at or above it, the
//! text as a `match_phrase`. Fields default to the Elastic Common Schema's
//! (`@timestamp`, `service.name`, `log.level`, `message`); `columns` maps
//! others.

use async_trait::async_trait;
use serde_json::{Value, json};
use switchboard_core::config::{LogSourceConfig, LogsConfig};
use switchboard_core::logs::{Level, LogBatch, LogError, LogLine, LogQuery, LogSource};

use crate::http::Http;

pub struct Elasticsearch {
    http: Http,
    index: String,
    ts: String,
    service: String,
    level: String,
    body: String,
}

/// A field of a document by its dotted name, nested (`{"log": {"level"}}`)
/// or flat (`"log.level"`).
fn field<'a>(doc: &'a Value, name: &str) -> Option<&'a Value> {
    if let Some(v) = doc.get(name) {
        return Some(v);
    }
    let (head, rest) = name.split_once('.')?;
    field(doc.get(head)?, rest)
}

/// A timestamp as documents hold it: RFC 3339, the same without a zone
/// (UTC then), or epoch milliseconds.
fn millis(v: &Value) -> Option<i64> {
    if let Some(n) = v.as_i64() {
        return Some(n);
    }
    let s = v.as_str()?;
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc().timestamp_millis());
    }
    s.parse().ok()
}

/// The spellings of each level and above, lower and upper case.
fn spellings(min: Level) -> Vec<String> {
    let names: &[(Level, &[&str])] = &[
        (Level::Trace, &["trace"]),
        (Level::Debug, &["debug"]),
        (Level::Info, &["info", "information", "notice"]),
        (Level::Warn, &["warn", "warning"]),
        (Level::Error, &["error", "err"]),
        (Level::Fatal, &["fatal", "critical", "crit", "alert", "emergency", "panic"]),
    ];
    names
        .iter()
        .filter(|(l, _)| *l >= min)
        .flat_map(|(_, s)| s.iter().flat_map(|x| [x.to_string(), x.to_uppercase()]))
        .collect()
}

impl Elasticsearch {
    pub fn new(c: &LogSourceConfig, logs: &LogsConfig) -> Result<Self, String> {
        let col = |role: &str, default: &str| c.columns.get(role).cloned().unwrap_or_else(|| default.to_owned());
        Ok(Self {
            http: Http::new(c, logs, "ApiKey")?,
            index: c.index.clone().unwrap_or_else(|| "logs-*".into()),
            ts: col("timestamp", "@timestamp"),
            service: col("service", "service.name"),
            level: col("severity_text", "log.level"),
            body: col("body", "message"),
        })
    }

    /// The `_search` body for `q`.
    pub fn body(&self, q: &LogQuery) -> Result<Value, LogError> {
        let selector = q.selector.trim();
        let scope = if selector.starts_with('{') {
            serde_json::from_str::<Value>(selector)
                .map_err(|e| self.http.fail(format!("the selector is not a JSON query clause: {e}")))?
        } else {
            json!({"term": {self.service.clone(): selector}})
        };
        let mut filter =
            vec![scope, json!({"range": {self.ts.clone(): {"gte": q.since, "lt": q.until, "format": "epoch_millis"}}})];
        if let Some(min) = q.level {
            filter.push(json!({"terms": {self.level.clone(): spellings(min)}}));
        }
        let mut bool_query = json!({"filter": filter});
        if let Some(text) = &q.contains {
            bool_query["must"] = json!([{"match_phrase": {self.body.clone(): text}}]);
        }
        Ok(json!({
            "size": q.limit + 1,
            "sort": [{self.ts.clone(): {"order": "desc"}}],
            "_source": [self.ts, self.level, self.body],
            "query": {"bool": bool_query},
        }))
    }

    /// The lines of a `_search` answer, newest first as asked.
    pub fn lines(&self, answer: &Value) -> Vec<LogLine> {
        answer["hits"]["hits"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|h| {
                let doc = &h["_source"];
                let ts = millis(field(doc, &self.ts)?)?;
                let message = field(doc, &self.body).and_then(Value::as_str).unwrap_or_default().to_owned();
                let level = field(doc, &self.level).and_then(Value::as_str).map_or(Level::Info, Level::parse);
                Some(LogLine { ts, level, message, attributes: Default::default() })
            })
            .collect()
    }
}

#[async_trait]
impl LogSource for Elasticsearch {
    fn kind(&self) -> &'static str {
        "elasticsearch"
    }

    async fn query(&self, q: &LogQuery) -> Result<LogBatch, LogError> {
        let body = self.body(q)?;
        let req = self.http.client.post(format!("{}/{}/_search", self.http.base, self.index)).json(&body);
        let answer = self.http.json(req, "a _search answer").await?;
        let mut lines = self.lines(&answer);
        let truncated = lines.len() > q.limit;
        lines.truncate(q.limit);
        lines.reverse();
        Ok(LogBatch { lines, truncated })
    }
}
