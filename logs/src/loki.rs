//! Grafana Loki: `GET /loki/api/v1/query_range` with the project's stream
//! selector (LogQL, rendered by core with label values escaped), read
//! backward in pages of at most 5,000 entries (Loki's usual
//! `max_entries_limit_per_query`) until the window or the limit is done.
//! A line's level comes from its stream's or structured metadata's
//! `level`/`detected_level`/`severity` label, else the line itself (logfmt
//! `level=error`, JSON `"level":"error"`, a leading `ERROR`).

use async_trait::async_trait;
use serde_json::Value;
use switchboard_core::config::{LogSourceConfig, LogsConfig};
use switchboard_core::logs::{Level, LogBatch, LogError, LogLine, LogQuery, LogSource};

use crate::http::Http;

const PAGE: usize = 5_000;
const LEVEL_LABELS: [&str; 5] = ["level", "detected_level", "severity", "severity_text", "lvl"];

pub struct Loki {
    http: Http,
    tenant: Option<String>,
}

impl Loki {
    pub fn new(c: &LogSourceConfig, logs: &LogsConfig) -> Result<Self, String> {
        Ok(Self { http: Http::new(c, logs, "Bearer")?, tenant: c.tenant.clone() })
    }

    /// The LogQL query: the selector, then a case-insensitive line filter.
    fn logql(q: &LogQuery) -> String {
        match &q.contains {
            None => q.selector.clone(),
            Some(text) => {
                // A regular expression that matches the text as written, in a LogQL string.
                let regex: String = text
                    .chars()
                    .flat_map(|c| {
                        let special = "\\.+*?()|[]{}^$".contains(c);
                        special.then_some('\\').into_iter().chain(std::iter::once(c))
                    })
                    .collect();
                let quoted = regex.replace('\\', "\\\\").replace('"', "\\\"");
                format!("{} |~ \"(?i){quoted}\"", q.selector)
            }
        }
    }

    async fn page(&self, logql: &str, start_ns: i128, end_ns: i128, limit: usize) -> Result<Value, LogError> {
        let mut req = self.http.client.get(format!("{}/loki/api/v1/query_range", self.http.base)).query(&[
            ("query", logql.to_owned()),
            ("start", start_ns.to_string()),
            ("end", end_ns.to_string()),
            ("limit", limit.to_string()),
            ("direction", "backward".to_owned()),
        ]);
        if let Some(t) = &self.tenant {
            req = req.header("X-Scope-OrgID", t);
        }
        self.http.json(req, "a Loki answer").await
    }
}

/// A line's level: its labels, else what the line says.
pub fn level_of(labels: &serde_json::Map<String, Value>, line: &str) -> Level {
    if let Some(l) = LEVEL_LABELS.iter().find_map(|k| labels.get(*k).and_then(Value::as_str)) {
        return Level::parse(l);
    }
    for key in ["level=", "\"level\":\"", "\"level\": \"", "severity=", "lvl="] {
        if let Some(at) = line.find(key) {
            let rest = &line[at + key.len()..];
            let word: String = rest.trim_start_matches('"').chars().take_while(|c| c.is_ascii_alphabetic()).collect();
            if !word.is_empty() {
                return Level::parse(&word);
            }
        }
    }
    let head = line.trim_start().split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or_default();
    match head.to_ascii_uppercase().as_str() {
        "ERROR" | "ERR" | "FATAL" | "PANIC" | "CRITICAL" | "WARN" | "WARNING" | "DEBUG" | "TRACE" => Level::parse(head),
        _ => Level::Info,
    }
}

/// The lines of a `query_range` answer (streams), newest first as Loki gives them.
pub fn lines(answer: &Value) -> Result<Vec<LogLine>, String> {
    if answer["status"] != "success" {
        return Err(format!("status {}", answer["status"]));
    }
    let kind = answer["data"]["resultType"].as_str().unwrap_or_default();
    if kind != "streams" {
        return Err(format!("a {kind:?} result, not log streams: the selector must select streams"));
    }
    let mut out = Vec::new();
    for stream in answer["data"]["result"].as_array().into_iter().flatten() {
        let labels = stream["stream"].as_object().cloned().unwrap_or_default();
        for v in stream["values"].as_array().into_iter().flatten() {
            let (Some(ts), Some(line)) = (v[0].as_str(), v[1].as_str()) else { continue };
            let Ok(ns) = ts.parse::<i128>() else { continue };
            let mut all = labels.clone();
            if let Some(meta) = v[2].as_object() {
                all.extend(meta.clone());
            }
            let attributes = all
                .iter()
                .filter(|(k, _)| !LEVEL_LABELS.contains(&k.as_str()))
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .take(8)
                .collect();
            out.push(LogLine {
                ts: (ns / 1_000_000) as i64,
                level: level_of(&all, line),
                message: line.to_owned(),
                attributes,
            });
        }
    }
    out.sort_by_key(|l| std::cmp::Reverse(l.ts));
    Ok(out)
}

#[async_trait]
impl LogSource for Loki {
    fn kind(&self) -> &'static str {
        "loki"
    }

    async fn query(&self, q: &LogQuery) -> Result<LogBatch, LogError> {
        let logql = Self::logql(q);
        let start_ns = i128::from(q.since) * 1_000_000;
        let mut end_ns = i128::from(q.until) * 1_000_000;
        let mut got: Vec<LogLine> = Vec::new();
        let mut truncated = false;
        loop {
            let want = PAGE.min(q.limit.saturating_sub(got.len()).max(1));
            let answer = self.page(&logql, start_ns, end_ns, want).await?;
            let page = lines(&answer).map_err(|e| self.http.fail(e))?;
            let full = page.len() >= want;
            let oldest = page.last().map(|l| i128::from(l.ts) * 1_000_000);
            got.extend(page.into_iter().filter(|l| q.level.is_none_or(|min| l.level >= min)));
            if got.len() >= q.limit {
                truncated = full;
                got.truncate(q.limit);
                break;
            }
            match oldest {
                // The next page ends where this one began (Loki's end is exclusive).
                Some(o) if full && o > start_ns && o < end_ns => end_ns = o,
                _ => break,
            }
        }
        got.reverse();
        Ok(LogBatch { lines: got, truncated })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_come_from_labels_then_the_line() {
        let none = serde_json::Map::new();
        let labelled: serde_json::Map<String, Value> = serde_json::from_str(r#"{"detected_level": "warn"}"#).unwrap();
        assert_eq!(level_of(&labelled, "anything"), Level::Warn);
        assert_eq!(level_of(&none, r#"ts=2026-12-05 level=error msg="boom""#), Level::Error);
        assert_eq!(level_of(&none, r#"{"level":"fatal","msg":"x"}"#), Level::Fatal);
        assert_eq!(level_of(&none, "ERROR [main] boom"), Level::Error);
        assert_eq!(level_of(&none, "GET /health 200"), Level::Info);
    }

    #[test]
    fn line_filters_are_escaped_for_logql_and_regex() {
        let q = LogQuery {
            selector: "{service_name=\"orders\"}".into(),
            since: 0,
            until: 1,
            level: None,
            contains: Some("a\"b.c (x)".into()),
            limit: 10,
        };
        assert_eq!(Loki::logql(&q), r#"{service_name="orders"} |~ "(?i)a\"b\\.c \\(x\\)""#);
    }
}
