//! `[dependency_track]`: the optional Dependency-Track server each project's
//! dependencies are uploaded to as a CycloneDX BOM, and whose findings and
//! policy violations come back as vulnerabilities and facts
//! (docs/advisories.md).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::{FactDecl, ProjectTypeConfig};
use crate::ids::{FactKey, ProjectType};
use crate::model::FactType;

/// The facts a sync sets on each project it reads back.
pub const FACTS: [(&str, &str); 2] = [
    ("dependency_track_findings", "open Dependency-Track findings (not suppressed or triaged away)"),
    ("dependency_track_policy_violations", "Dependency-Track policy violations (not suppressed)"),
];

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DependencyTrackConfig {
    /// The API server's base URL, e.g. `https://dtrack.example.com` (the
    /// `/api/v1/...` paths are added). Default: none — off.
    pub url: Option<String>,
    /// An API key of a Dependency-Track team with BOM_UPLOAD,
    /// PROJECT_CREATION_UPLOAD, VIEW_PORTFOLIO, VIEW_VULNERABILITY and
    /// VIEW_POLICY_VIOLATION. `SWITCHBOARD_DEPENDENCY_TRACK_API_KEY` wins
    /// (keep it out of the file). Default: unset.
    pub api_key: Option<String>,
    /// The Dependency-Track project version each project is uploaded as
    /// (the project's name there is its slug). Default: `switchboard`.
    pub project_version: String,
    /// Hours between syncs `serve` runs (one process per period); `0`:
    /// only at start. Default: `6`.
    pub sync_hours: u32,
    /// How long a sync waits for Dependency-Track to analyse what it
    /// uploaded before reading findings back. Default: `300`.
    pub wait_secs: u32,
}

impl Default for DependencyTrackConfig {
    fn default() -> Self {
        Self { url: None, api_key: None, project_version: "switchboard".into(), sync_hours: 6, wait_secs: 300 }
    }
}

impl DependencyTrackConfig {
    pub(super) fn apply_env(&mut self, env: &[(String, String)]) {
        if let Some((_, v)) = env.iter().find(|(k, _)| k == "SWITCHBOARD_DEPENDENCY_TRACK_API_KEY") {
            self.api_key = Some(v.clone()).filter(|v| !v.trim().is_empty());
        }
    }

    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        let Some(url) = &self.url else { return Ok(()) };
        let u = url.trim();
        if !(u.starts_with("http://") || u.starts_with("https://")) || u.len() < 10 {
            return Err((
                "dependency_track.url".into(),
                format!("{url:?} is not an http(s) address such as https://dtrack.example.com"),
            ));
        }
        if self.api_key.is_none() {
            return Err((
                "dependency_track.url".into(),
                "needs an API key: set SWITCHBOARD_DEPENDENCY_TRACK_API_KEY (a key of a Dependency-Track team with BOM_UPLOAD, PROJECT_CREATION_UPLOAD, VIEW_PORTFOLIO, VIEW_VULNERABILITY, VIEW_POLICY_VIOLATION)".into(),
            ));
        }
        let v = self.project_version.trim();
        if v.is_empty() || v.len() > 255 {
            return Err(("dependency_track.project_version".into(), "must be 1-255 characters".into()));
        }
        if !(1..=3600).contains(&self.wait_secs) {
            return Err(("dependency_track.wait_secs".into(), "must be 1-3600 seconds".into()));
        }
        Ok(())
    }

    /// With a server configured: declares the facts a sync sets, with
    /// weight 0, on every project type that does not declare them itself.
    pub(super) fn declare_facts(&self, types: &mut BTreeMap<ProjectType, ProjectTypeConfig>) {
        if self.url.is_none() {
            return;
        }
        for (key, description) in FACTS {
            let Ok(key) = FactKey::new(key) else { continue };
            for t in types.values_mut() {
                t.facts.entry(key.clone()).or_insert_with(|| FactDecl {
                    fact_type: FactType::Integer,
                    weight: 0,
                    description: description.to_owned(),
                });
            }
        }
    }
}
