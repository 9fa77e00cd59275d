//! Reads an OSV record (<https://ossf.github.io/osv-schema/>) into an
//! [`Advisory`]. Pure: the binary finds the files (one record, a directory,
//! a zip per ecosystem) and hands each record here. A record without an id,
//! a modification time or a valid shape is refused with why; an ecosystem or
//! range type this version cannot evaluate is kept and reported in `notes`.

use serde::Deserialize;

use super::{Advisory, AffectedPackage, AffectedRange, RangeEvent, Severity, package_key, version};
use crate::model::{Ecosystem, Millis};

/// Why a record was not imported: its id when it had one.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Refused {
    pub id: Option<String>,
    pub reason: String,
}

/// A record read, with what in it cannot be evaluated.
#[derive(Clone, Debug, PartialEq)]
pub struct Read {
    pub advisory: Advisory,
    /// `ecosystem Debian:12 has no version rules here`, `range type GIT cannot be evaluated`.
    pub notes: Vec<String>,
}

const MAX_DETAILS: usize = 4_000;
const MAX_REFERENCES: usize = 20;
/// Bounds a hostile record: a real one lists far fewer.
const MAX_AFFECTED: usize = 1_000;
const MAX_VERSIONS: usize = 20_000;

#[derive(Deserialize)]
struct Record {
    id: Option<String>,
    modified: Option<String>,
    published: Option<String>,
    withdrawn: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    severity: Vec<SeverityEntry>,
    #[serde(default)]
    affected: Vec<Affected>,
    #[serde(default)]
    references: Vec<Reference>,
    #[serde(default)]
    database_specific: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct SeverityEntry {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Deserialize)]
struct Affected {
    package: Option<Package>,
    #[serde(default)]
    ranges: Vec<Range>,
    #[serde(default)]
    versions: Vec<String>,
    #[serde(default)]
    severity: Vec<SeverityEntry>,
    #[serde(default)]
    database_specific: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Package {
    ecosystem: String,
    name: String,
}

#[derive(Deserialize)]
struct Range {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    events: Vec<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct Reference {
    url: Option<String>,
}

/// OSV's name of each ecosystem Switchboard matches.
const ECOSYSTEMS: [(&str, Ecosystem); 8] = [
    ("crates.io", Ecosystem::Cargo),
    ("npm", Ecosystem::Npm),
    ("PyPI", Ecosystem::Pypi),
    ("Go", Ecosystem::Go),
    ("Maven", Ecosystem::Maven),
    ("RubyGems", Ecosystem::Gem),
    ("NuGet", Ecosystem::Nuget),
    ("Packagist", Ecosystem::Composer),
];

/// Switchboard's ecosystem for an OSV ecosystem name (`Debian:12` and the
/// like are `Other`: kept, never matched).
pub fn ecosystem(osv: &str) -> Ecosystem {
    let base = osv.split(':').next().unwrap_or(osv);
    ECOSYSTEMS.iter().find(|(name, _)| *name == base).map_or(Ecosystem::Other, |(_, e)| *e)
}

/// OSV's name for `ecosystem` (what a record built here says).
pub fn ecosystem_name(ecosystem: Ecosystem) -> &'static str {
    ECOSYSTEMS.iter().find(|(_, e)| *e == ecosystem).map_or("other", |(name, _)| name)
}

fn time(field: &str, text: &str) -> Result<Millis, String> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.timestamp_millis())
        .map_err(|e| format!("{field} {text:?} is not an RFC 3339 time ({e})"))
}

fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

/// The worst CVSS vector among `entries` with its score; unknown vector types are skipped.
fn cvss(entries: &[SeverityEntry]) -> Option<(f64, String)> {
    entries
        .iter()
        .filter(|e| e.kind.starts_with("CVSS_V"))
        .filter_map(|e| e.score.parse::<cvss::Cvss>().ok().map(|c| (c.score(), e.score.clone())))
        .max_by(|a, b| a.0.total_cmp(&b.0))
}

fn named_severity(specific: Option<&serde_json::Value>) -> Option<Severity> {
    specific?.get("severity")?.as_str().and_then(Severity::parse)
}

/// Reads one OSV record.
pub fn read(value: serde_json::Value) -> Result<Read, Refused> {
    let id_hint = value.get("id").and_then(|v| v.as_str()).map(str::to_owned);
    let refuse = |reason: String| Refused { id: id_hint.clone(), reason };
    let record: Record = serde_json::from_value(value).map_err(|e| refuse(format!("not an OSV record: {e}")))?;
    let id = record.id.filter(|i| !i.trim().is_empty()).ok_or_else(|| refuse("it has no id".into()))?;
    if id.len() > 128 || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(refuse(format!("id {id:?} is not an advisory id")));
    }
    let modified =
        time("modified", record.modified.as_deref().ok_or_else(|| refuse("it has no modified time".into()))?)
            .map_err(refuse)?;
    let published = record.published.as_deref().map(|t| time("published", t)).transpose().map_err(refuse)?;
    let withdrawn = record.withdrawn.as_deref().map(|t| time("withdrawn", t)).transpose().map_err(refuse)?;
    if record.affected.len() > MAX_AFFECTED {
        return Err(refuse(format!("it lists {} affected packages (at most {MAX_AFFECTED})", record.affected.len())));
    }

    let mut notes = Vec::new();
    let mut affected = Vec::new();
    let mut entry_cvss = Vec::new();
    let mut entry_severity = None;
    for a in record.affected {
        let Some(package) = a.package else {
            notes.push("an affected entry without a package (commits only) is not matched".into());
            continue;
        };
        if package.name.trim().is_empty() {
            return Err(refuse("an affected package has no name".into()));
        }
        if a.versions.len() > MAX_VERSIONS {
            return Err(refuse(format!(
                "{} lists {} versions (at most {MAX_VERSIONS})",
                package.name,
                a.versions.len()
            )));
        }
        let eco = ecosystem(&package.ecosystem);
        if eco == Ecosystem::Other || !version::has_rules(eco) {
            notes.push(format!("ecosystem {} has no version rules here: stored, not matched", package.ecosystem));
        }
        let mut ranges = Vec::new();
        for r in a.ranges {
            if !matches!(r.kind.as_str(), "SEMVER" | "ECOSYSTEM") {
                notes.push(format!("range type {} cannot be evaluated", r.kind));
            }
            let mut events = Vec::new();
            for e in r.events {
                let (key, value) =
                    e.iter().next().ok_or_else(|| refuse(format!("a {} range has an empty event", r.kind)))?;
                let text = value
                    .as_str()
                    .ok_or_else(|| refuse(format!("a {} range event {key:?} is not text", r.kind)))?
                    .to_owned();
                events.push(match key.as_str() {
                    "introduced" => RangeEvent::Introduced(text),
                    "fixed" => RangeEvent::Fixed(text),
                    "last_affected" => RangeEvent::LastAffected(text),
                    "limit" => RangeEvent::Limit(text),
                    other => return Err(refuse(format!("a {} range has an unknown event {other:?}", r.kind))),
                });
            }
            ranges.push(AffectedRange { kind: r.kind, events });
        }
        entry_cvss.extend(a.severity);
        entry_severity = entry_severity.max(named_severity(a.database_specific.as_ref()));
        affected.push(AffectedPackage {
            ecosystem: eco,
            name: package_key(eco, &package.name),
            osv_ecosystem: package.ecosystem,
            ranges,
            versions: a.versions,
        });
    }
    notes.sort();
    notes.dedup();

    let scored = cvss(&record.severity).or_else(|| cvss(&entry_cvss));
    let severity = match &scored {
        Some((score, _)) => Severity::from_score(*score),
        None => named_severity(record.database_specific.as_ref()).or(entry_severity).unwrap_or_default(),
    };
    let mut aliases: Vec<String> = record.aliases.into_iter().filter(|a| !a.trim().is_empty() && *a != id).collect();
    aliases.sort();
    aliases.dedup();
    let advisory = Advisory {
        summary: cut(record.summary.as_deref().unwrap_or_default().trim(), 300),
        details: cut(record.details.as_deref().unwrap_or_default().trim(), MAX_DETAILS),
        id,
        aliases,
        published,
        modified,
        withdrawn,
        severity,
        score: scored.as_ref().map(|(s, _)| *s),
        vector: scored.map(|(_, v)| v),
        affected,
        references: record.references.into_iter().filter_map(|r| r.url).take(MAX_REFERENCES).collect(),
        source: record
            .database_specific
            .as_ref()
            .and_then(|d| d.get("source"))
            .and_then(|s| s.as_str())
            .filter(|s| !s.is_empty() && s.len() <= 40)
            .map(str::to_owned),
    };
    Ok(Read { advisory, notes })
}
