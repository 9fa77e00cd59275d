//! `check_logs`: a project's lines from its log source, analysed without a
//! model (`crate::logs::analysis`); and the embedded table's intake
//! (`POST /api/v1/logs`) and retention.

use std::collections::BTreeMap;

use super::{Call, Done, Service};
use crate::error::{Error, Result};
use crate::logs::analysis::{Tuning, analyse, bucket_ms};
use crate::logs::{Level, LogLine, LogQuery, source_for};
use crate::model::{DAY_MS, Millis};
use crate::ops::inputs::CheckLogs;
use crate::ops::output::{LogReport, Output};
use crate::policy::Caller;

/// The longest window one question reads.
const MAX_WINDOW_MS: Millis = 31 * DAY_MS;
/// Lines one intake call may carry.
pub const MAX_INTAKE_LINES: usize = 100_000;

/// What looks like a secret in a line, masked before it is shown (or sent
/// to a model): `password=…`, `token: …`, `Authorization: Bearer …`.
pub fn redact(line: &str) -> String {
    const KEYS: [&str; 8] = ["password", "passwd", "secret", "token", "api_key", "apikey", "authorization", "bearer"];
    let mut out = String::with_capacity(line.len());
    let mut mask_next = false;
    for (i, word) in line.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let lower = word.to_ascii_lowercase();
        if mask_next && !word.is_empty() {
            out.push_str("<redacted>");
            // `Authorization: Bearer TOKEN`: the scheme, then the token.
            mask_next = lower == "bearer" || lower == "basic";
            continue;
        }
        if let Some(at) = word.find(['=', ':'])
            && KEYS.iter().any(|k| lower[..at].trim_matches(['"', '\'']).ends_with(k))
        {
            out.push_str(&word[..=at]);
            if at + 1 < word.len() {
                out.push_str("<redacted>");
            } else {
                mask_next = true;
            }
            continue;
        }
        mask_next = lower == "bearer" || lower == "basic";
        out.push_str(word);
    }
    out
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(super) async fn check_logs(call: &Call<'_>, i: CheckLogs) -> Result<Done> {
    let project = call.project(&i.project).await?;
    let config = &call.ctx.config;
    let (source_config, selector) = match source_for(&config.log_sources, &project) {
        None => {
            return Err(Error::bad_input(
                None,
                format!(
                    "{} has no log source: add a [[log_sources]] entry that holds it (its `projects`, or one \
                     with none for every project) — see docs/logs.md",
                    project.slug
                ),
            ));
        }
        Some(Err(e)) => return Err(Error::bad_input(None, e)),
        Some(Ok(found)) => found,
    };
    let source = call.ctx.log_sources.get(&source_config.name).ok_or_else(|| Error::Unavailable {
        message: format!("log source {} is not open in this process", source_config.name),
    })?;
    let until = i.until.map_or(call.now, |t| t.resolve(call.now));
    let since = i.since.map_or(until - i64::from(config.logs.default_window_minutes) * 60_000, |t| t.resolve(call.now));
    if since >= until {
        return Err(Error::field("since", "must be before until"));
    }
    if until - since > MAX_WINDOW_MS {
        return Err(Error::field("since", "a window is at most 31 days; ask about a shorter one"));
    }
    let contains = i.query.map(|q| q.trim().to_owned()).filter(|q| !q.is_empty());
    if contains.as_ref().is_some_and(|q| q.len() > 500) {
        return Err(Error::field("query", "at most 500 characters"));
    }
    let q = LogQuery {
        selector: selector.clone(),
        since,
        until,
        level: i.level,
        contains: contains.clone(),
        limit: config.logs.max_lines,
    };
    let unavailable = |e: crate::logs::LogError| Error::Unavailable { message: e.0 };
    // A source that counts for itself counts every line of the window; then
    // only its error lines are read, for the signatures.
    let counted = source.count(&q, bucket_ms(since, until, config.logs.buckets)).await.map_err(unavailable)?;
    let window = match counted {
        Some(_) => {
            let errors = q.level.map_or(Level::Error, |l| l.max(Level::Error));
            source.query(&LogQuery { level: Some(errors), ..q.clone() }).await
        }
        None => source.query(&q).await,
    }
    .map_err(unavailable)?;
    let baseline_ms = (until - since) * i64::from(config.logs.baseline_windows);
    let bq = LogQuery {
        since: since - baseline_ms,
        until: since,
        level: Some(crate::logs::Level::Error),
        limit: config.logs.max_lines,
        ..q.clone()
    };
    let baseline = source.query(&bq).await.map_err(unavailable)?;
    let tuning = Tuning {
        buckets: config.logs.buckets,
        spike_factor: config.logs.spike_factor,
        spike_min: config.logs.spike_min,
        signatures: config.logs.signatures,
    };
    let mut analysis = analyse(counted.as_deref(), &window.lines, &baseline.lines, since, until, baseline_ms, tuning);
    for s in &mut analysis.signatures {
        s.sample = redact(&s.sample);
    }
    let link = source_config.explore_url.as_ref().map(|t| {
        t.replace("{{ selector }}", &percent(&selector))
            .replace("{{ since }}", &since.to_string())
            .replace("{{ until }}", &until.to_string())
    });
    let errors: u64 = analysis.counts.iter().filter(|(l, _)| l.is_error()).map(|(_, n)| n).sum();
    Ok(Done::read(Output::Logs(Box::new(LogReport {
        project: project.slug.clone(),
        source: source_config.name.clone(),
        kind: source.kind().to_owned(),
        selector,
        since,
        until,
        query: contains,
        level: i.level,
        scanned: counted.as_ref().map_or(window.lines.len() as u64, |c| c.iter().map(|c| c.lines).sum()),
        counted_by_source: counted.is_some(),
        truncated: window.truncated,
        baseline_since: since - baseline_ms,
        baseline_errors: baseline.lines.len(),
        errors,
        analysis,
        link,
    }))))
}

impl Service {
    /// The embedded table's intake: `lines` (each with its project's slug)
    /// appended, for editors and up; every project must exist. Nothing is
    /// written when one line is refused.
    pub async fn ingest_logs(&self, caller: &Caller, lines: Vec<(String, LogLine)>) -> Result<usize> {
        crate::policy::authorize_log_intake(caller)?;
        let table = self.ctx.log_table.as_ref().ok_or_else(|| Error::conflict("this process keeps no log table"))?;
        if lines.len() > MAX_INTAKE_LINES {
            return Err(Error::bad_input(
                None,
                format!("at most {MAX_INTAKE_LINES} lines a call; send the rest after"),
            ));
        }
        let mut known: BTreeMap<String, bool> = BTreeMap::new();
        for (n, (project, _)) in lines.iter().enumerate() {
            if !known.contains_key(project) {
                let exists = match project.parse() {
                    Ok(slug) => self.ctx.graph.get_project(&slug).await?.is_some(),
                    Err(_) => false,
                };
                known.insert(project.clone(), exists);
            }
            if !known[project] {
                return Err(Error::bad_input(
                    Some(format!("line {}", n + 1)),
                    format!("no project {project:?}; nothing was written"),
                ));
            }
        }
        table.append_logs(&lines).await?;
        Ok(lines.len())
    }

    /// Forgets embedded log lines older than `[logs] retention_days`.
    pub async fn prune_logs(&self) -> Result<u64> {
        let Some(table) = &self.ctx.log_table else { return Ok(0) };
        let before = self.now() - i64::from(self.ctx.config.logs.retention_days) * DAY_MS;
        Ok(table.prune_logs(before).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn secrets_looking_values_are_masked() {
        assert_eq!(redact("login failed password=hunter2 user=ana"), "login failed password=<redacted> user=ana");
        assert_eq!(redact("Authorization: Bearer abc.def.ghi sent"), "Authorization: <redacted> <redacted> sent");
        assert_eq!(redact(r#"{"api_key":"sk-123"}"#), r#"{"api_key":<redacted>"#);
        assert_eq!(redact("token expired for user 42"), "token expired for user 42");
    }
}
