//! `[advisories]`: where OSV advisories are refreshed from, and who is told
//! about new vulnerabilities (docs/advisories.md).

use serde::{Deserialize, Serialize};

use crate::advisory::Severity;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdvisoriesConfig {
    /// OSV sources `serve` imports at start and then every `refresh_hours`:
    /// http(s) URLs (asked with `If-None-Match` / `If-Modified-Since`, so an
    /// unchanged source costs one request) or paths, each a JSON record, a
    /// list, a directory or a zip of them, e.g.
    /// `https://osv-vulnerabilities.storage.googleapis.com/crates.io/all.zip`.
    /// Default: none (import by hand with `switchboard advisories import`).
    pub sources: Vec<String>,
    /// Hours between refreshes. Default: `6`; `0`: only at start.
    pub refresh_hours: u32,
    /// The owning team is told of a new vulnerability in its project of this
    /// severity or worse (`critical`, `high`, `medium`, `low`, `unknown`),
    /// once per project and advisory. Default: `high`.
    pub notify_min_severity: Severity,
    /// Tell teams at all. Default: `true`.
    pub notify: bool,
}

impl Default for AdvisoriesConfig {
    fn default() -> Self {
        Self { sources: Vec::new(), refresh_hours: 6, notify_min_severity: Severity::High, notify: true }
    }
}

impl AdvisoriesConfig {
    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        for (i, s) in self.sources.iter().enumerate() {
            let s = s.trim();
            let url = s.starts_with("http://") || s.starts_with("https://");
            if s.is_empty() || (s.contains("://") && !url) {
                return Err((
                    format!("advisories.sources[{i}]"),
                    format!(
                        "{s:?} is not an http(s) URL or a path; e.g. \"https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip\""
                    ),
                ));
            }
        }
        Ok(())
    }
}
