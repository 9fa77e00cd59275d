//! Security advisories (OSV records from GitHub's advisory database, RustSec,
//! PyPA, Go's vulndb…) and the vulnerabilities they make of the graph's
//! dependency edges. The model, the store contract, the OSV reader
//! (`osv`), each ecosystem's version order (`version`) and the matcher
//! (`matching`); the service keeps matches current and records them as
//! `vulnerability_found` / `vulnerability_fixed`.

mod gem;
pub mod matching;
mod maven;
pub mod osv;
pub mod version;

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::{PackageName, ProjectSlug, TeamSlug, Version};
use crate::model::{Ecosystem, Millis};
use crate::store::StoreResult;

/// How bad an advisory is: from its CVSS vector when it has one, else the
/// severity its database gives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Unknown,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [Self::Critical, Self::High, Self::Medium, Self::Low, Self::Unknown];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "critical" => Some(Self::Critical),
            "high" | "important" => Some(Self::High),
            "medium" | "moderate" => Some(Self::Medium),
            "low" => Some(Self::Low),
            "unknown" | "none" => Some(Self::Unknown),
            _ => None,
        }
    }

    /// CVSS's bands: 9.0 critical, 7.0 high, 4.0 medium, above 0 low.
    pub fn from_score(score: f64) -> Self {
        match score {
            s if s >= 9.0 => Self::Critical,
            s if s >= 7.0 => Self::High,
            s if s >= 4.0 => Self::Medium,
            s if s > 0.0 => Self::Low,
            _ => Self::Unknown,
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event of an OSV range, in the record's own shape (`{"introduced": "1.2.0"}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RangeEvent {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

/// An OSV range: `SEMVER`, `ECOSYSTEM` or `GIT` (commits, which cannot be
/// compared with versions), or a type this version does not know, kept as given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AffectedRange {
    pub kind: String,
    pub events: Vec<RangeEvent>,
}

/// One package an advisory affects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AffectedPackage {
    /// `other` for an ecosystem Switchboard has no name for (then never matched).
    pub ecosystem: Ecosystem,
    /// The ecosystem as the record names it (`crates.io`, `PyPI`, `Debian:12`).
    pub osv_ecosystem: String,
    /// The package as the graph names it (PyPI names normalized).
    pub name: String,
    #[serde(default)]
    pub ranges: Vec<AffectedRange>,
    /// Versions the record lists as affected one by one.
    #[serde(default)]
    pub versions: Vec<String>,
}

/// An advisory, as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Advisory {
    pub id: String,
    /// Other databases' ids for the same vulnerability (CVE, GHSA, RUSTSEC, PYSEC, GO).
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub summary: String,
    /// The record's details, cut at 4,000 characters.
    #[serde(default)]
    pub details: String,
    #[serde(default)]
    pub published: Option<Millis>,
    pub modified: Millis,
    /// When its database withdrew it: kept, never matched.
    #[serde(default)]
    pub withdrawn: Option<Millis>,
    pub severity: Severity,
    /// The CVSS base score, when the record has a vector.
    #[serde(default)]
    pub score: Option<f64>,
    #[serde(default)]
    pub vector: Option<String>,
    pub affected: Vec<AffectedPackage>,
    /// Where to read more (advisory pages, fixes), at most 20.
    #[serde(default)]
    pub references: Vec<String>,
    /// What made the record when it is not an advisory database's own
    /// (`dependency-track`: built from its findings, the affected versions
    /// listed one by one); from the record's `database_specific.source`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// [`Advisory::source`] of the records a Dependency-Track sync builds.
pub const DEPENDENCY_TRACK: &str = "dependency-track";

impl Advisory {
    /// Its id and aliases: the names people may use for it.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }

    /// The CVE among its names, if any: what people usually call it.
    pub fn cve(&self) -> Option<&str> {
        self.names().find(|n| n.starts_with("CVE-"))
    }

    /// The (ecosystem, package) pairs it can match, each once.
    pub fn packages(&self) -> Vec<(Ecosystem, String)> {
        let mut out: Vec<(Ecosystem, String)> = self
            .affected
            .iter()
            .filter(|a| a.ecosystem != Ecosystem::Other)
            .map(|a| (a.ecosystem, a.name.clone()))
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// Whether a match is certain or could not be worked out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchStatus {
    Affected,
    /// The installed version or the advisory's ranges cannot be compared
    /// (a GIT range only, a version outside the ecosystem's grammar): shown
    /// with why, never guessed.
    CannotEvaluate,
}

/// A project's dependency that an advisory affects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VulnerabilityMatch {
    pub project: ProjectSlug,
    pub team: TeamSlug,
    pub advisory: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub summary: String,
    pub ecosystem: Ecosystem,
    pub package: PackageName,
    /// The installed version (the declared requirement's lowest version when
    /// no lock file says more: then `reason` says so).
    pub version: Version,
    /// The first version that fixes it (and is not affected by another range).
    #[serde(default)]
    pub fixed: Option<String>,
    /// Pulled in by another package rather than declared.
    #[serde(default)]
    pub transitive: bool,
    pub severity: Severity,
    #[serde(default)]
    pub score: Option<f64>,
    pub status: MatchStatus,
    #[serde(default)]
    pub reason: Option<String>,
    pub found_at: Millis,
}

impl VulnerabilityMatch {
    /// The fix as people read it: the version, `no fix yet`, or `cannot evaluate`.
    pub fn fix_text(&self) -> String {
        match (self.status, &self.fixed) {
            (MatchStatus::CannotEvaluate, _) => "cannot evaluate".to_owned(),
            (_, Some(f)) => f.clone(),
            (_, None) => "no fix yet".to_owned(),
        }
    }

    /// What identifies a match across recomputations.
    pub fn key(&self) -> (&str, &str, Ecosystem, &str, &str) {
        (self.project.as_str(), self.advisory.as_str(), self.ecosystem, self.package.as_str(), self.version.as_str())
    }
}

/// Which stored matches a recomputation replaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MatchScope {
    Project(ProjectSlug),
    Advisory(String),
}

/// Filters for `list_matches`; all present filters apply.
#[derive(Clone, Debug, Default)]
pub struct MatchQuery {
    pub project: Option<ProjectSlug>,
    pub team: Option<TeamSlug>,
    /// By advisory id (not alias: the service resolves aliases first).
    pub advisories: Vec<String>,
    pub package: Option<PackageName>,
    pub min_severity: Option<Severity>,
    pub found_since: Option<Millis>,
    /// 0 means 1,000.
    pub limit: usize,
}

/// What a [`MatchQuery`] selects, counted (its limit aside) before records
/// known by one another's names are merged, and the rows merging could fold.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MatchCounts {
    /// Rows by owning team and severity.
    pub by_team: BTreeMap<(TeamSlug, Severity), u64>,
    /// Distinct projects among them.
    pub projects: u64,
    /// The selected rows whose advisory shares a name (id or alias) with
    /// another stored advisory, in list order — a superset of the rows
    /// merging folds (a backend may return more, up to every row).
    pub aliased: Vec<VulnerabilityMatch>,
}

/// Matches read at most by a whole-organisation question.
pub const MATCHES_READ: usize = 10_000_000;

/// Where advisories and their matches are kept (every graph backend).
///
/// Contract (the conformance suite): `put_advisories` upserts by id and
/// returns the ids whose stored record changed (new ones included);
/// `find_advisories` finds by id or alias, case-insensitively, ordered by
/// id; `advisories_for_packages` returns each advisory affecting any of the
/// packages once, ordered by id; `list_matches` orders by severity (worst
/// first), then project, advisory and package.
#[async_trait]
pub trait AdvisoryStore: Send + Sync {
    async fn put_advisories(&self, advisories: &[Advisory]) -> StoreResult<Vec<String>>;
    async fn find_advisories(&self, id_or_alias: &str) -> StoreResult<Vec<Advisory>>;
    async fn advisories_for_packages(&self, packages: &[(Ecosystem, String)]) -> StoreResult<Vec<Advisory>>;
    async fn count_advisories(&self) -> StoreResult<u64>;
    /// Whether any advisory is stored: asked after every dependency change,
    /// so a backend whose count reads every record answers it cheaper.
    async fn any_advisories(&self) -> StoreResult<bool> {
        Ok(self.count_advisories().await? > 0)
    }
    /// Of `ids`, those with at least one stored match: a bulk import skips
    /// recomputing the (many) advisories that matched nothing and name no
    /// package in use. The default asks once per id.
    async fn advisories_with_matches(&self, ids: &[String]) -> StoreResult<BTreeSet<String>> {
        let mut out = BTreeSet::new();
        for id in ids {
            let q = MatchQuery { advisories: vec![id.clone()], limit: 1, ..Default::default() };
            if !self.list_matches(&q).await?.is_empty() {
                out.insert(id.clone());
            }
        }
        Ok(out)
    }
    /// Replaces every stored match in `scope` by `matches` (all in that scope).
    async fn replace_matches(&self, scope: &MatchScope, matches: &[VulnerabilityMatch]) -> StoreResult<()>;
    async fn list_matches(&self, query: &MatchQuery) -> StoreResult<Vec<VulnerabilityMatch>>;
    /// The counts of what `query` selects without reading every row: the
    /// organisation's summary. The default reads every row.
    async fn count_matches(&self, query: &MatchQuery) -> StoreResult<MatchCounts> {
        let rows = self.list_matches(&MatchQuery { limit: MATCHES_READ, ..query.clone() }).await?;
        let mut counts = MatchCounts::default();
        for m in &rows {
            *counts.by_team.entry((m.team.clone(), m.severity)).or_default() += 1;
        }
        counts.projects = rows.iter().map(|m| &m.project).collect::<BTreeSet<_>>().len() as u64;
        counts.aliased = rows;
        Ok(counts)
    }
}

/// The name the graph and the advisories share for a package of `ecosystem`
/// (PyPI's PEP 503 form; npm and crates.io lowercase).
pub fn package_key(ecosystem: Ecosystem, name: &str) -> String {
    match ecosystem {
        Ecosystem::Pypi => crate::import::purl::normalize_pypi(name),
        Ecosystem::Npm | Ecosystem::Cargo => name.to_lowercase(),
        _ => name.to_owned(),
    }
}
