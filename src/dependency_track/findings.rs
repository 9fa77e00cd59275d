//! Reading Dependency-Track's findings: each as a (names, package,
//! version, open?) Switchboard understands, grouped by vulnerability across
//! projects, and a group as the OSV record `import_advisories` takes.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use switchboard_core::advisory::{DEPENDENCY_TRACK, Severity, osv};
use switchboard_core::import::purl::Purl;
use switchboard_core::model::Ecosystem;

/// Triage decisions that take a finding out of Switchboard's view.
const TRIAGED: [&str; 3] = ["FALSE_POSITIVE", "NOT_AFFECTED", "RESOLVED"];

/// One finding as Switchboard reads it.
pub(super) struct Finding {
    pub(super) names: Vec<String>,
    pub(super) ecosystem: Ecosystem,
    pub(super) package: String,
    pub(super) version: String,
    pub(super) about: About,
    pub(super) open: bool,
}

/// What a finding says of its vulnerability, and a group of findings of
/// what its members say.
#[derive(Clone, Default)]
pub(super) struct About {
    pub(super) severity: Severity,
    pub(super) vector: Option<String>,
    pub(super) title: String,
    pub(super) description: String,
    pub(super) references: Vec<String>,
    pub(super) published: Option<String>,
}

impl About {
    /// The worst severity of both; each text from `other` where this one has none.
    fn join(&mut self, other: &About) {
        self.severity = self.severity.max(other.severity);
        if self.vector.is_none() {
            self.vector = other.vector.clone();
        }
        if self.title.is_empty() {
            self.title = other.title.clone();
        }
        if self.description.is_empty() {
            self.description = other.description.clone();
        }
        if self.references.is_empty() {
            self.references = other.references.clone();
        }
        if self.published.is_none() {
            self.published = other.published.clone();
        }
    }
}

pub(super) fn finding(f: &Value) -> Option<Finding> {
    let c = &f["component"];
    let v = &f["vulnerability"];
    let purl = Purl::parse(c["purl"].as_str()?).ok()?;
    let (ecosystem, package) = purl.package();
    if ecosystem == Ecosystem::Other {
        return None;
    }
    let version = purl.version.clone().or_else(|| c["version"].as_str().map(str::to_owned))?;
    let id = v["vulnId"].as_str().filter(|s| !s.trim().is_empty())?.trim().to_owned();
    let mut names = vec![id];
    for alias in v["aliases"].as_array().into_iter().flatten() {
        for n in alias.as_object().into_iter().flat_map(|o| o.values()).filter_map(Value::as_str) {
            if !n.trim().is_empty() && !names.iter().any(|m| m.eq_ignore_ascii_case(n)) {
                names.push(n.trim().to_owned());
            }
        }
    }
    let analysis = &f["analysis"];
    let triaged = analysis["state"].as_str().is_some_and(|s| TRIAGED.contains(&s));
    let text = |k: &str| v[k].as_str().unwrap_or_default().trim().to_owned();
    Some(Finding {
        names,
        ecosystem,
        package,
        version,
        about: About {
            severity: v["severity"].as_str().and_then(Severity::parse).unwrap_or_default(),
            vector: v["cvssV3Vector"].as_str().or(v["cvssV4Vector"].as_str()).map(str::to_owned),
            title: text("title"),
            description: text("description"),
            references: references(v["references"].as_str().unwrap_or_default()),
            published: published(&v["published"]),
        },
        open: analysis["isSuppressed"] != true && !triaged,
    })
}

/// The URLs of Dependency-Track's Markdown reference list (`* [url](url)`).
fn references(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim().trim_start_matches(['*', '-', ' ']);
            let url = l.rsplit_once("](").map_or(l, |(_, u)| u.trim_end_matches(')'));
            (url.starts_with("https://") || url.starts_with("http://")).then(|| url.to_owned())
        })
        .take(20)
        .collect()
}

/// A finding's `published`: epoch milliseconds from the API, a
/// `2026-02-04 22:16:00.813` text in exports; RFC 3339 either way.
fn published(v: &Value) -> Option<String> {
    let ms = match v {
        Value::Number(n) => n.as_i64()?,
        Value::String(s) => {
            chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S%.f").ok()?.and_utc().timestamp_millis()
        }
        _ => return None,
    };
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.to_rfc3339())
}

/// Open findings of one vulnerability (all its names) across every project.
#[derive(Default)]
pub(super) struct Group {
    pub(super) names: BTreeSet<String>,
    pub(super) affected: BTreeMap<(Ecosystem, String), BTreeSet<String>>,
    pub(super) about: About,
}

/// Groups open findings by vulnerability: findings sharing any name (a CVE
/// reported by NVD and its GHSA by GitHub) are one.
pub(super) fn group(findings: &[Finding]) -> Vec<Group> {
    let mut groups: Vec<Option<Group>> = Vec::new();
    let mut by_name: BTreeMap<String, usize> = BTreeMap::new();
    for f in findings.iter().filter(|f| f.open) {
        let mut hits: Vec<usize> = f.names.iter().filter_map(|n| by_name.get(&n.to_uppercase()).copied()).collect();
        hits.sort_unstable();
        hits.dedup();
        let at = match hits.first() {
            Some(&first) => {
                for &other in &hits[1..] {
                    let merged = groups[other].take().unwrap_or_default();
                    let g = groups[first].get_or_insert_with(Group::default);
                    g.names.extend(merged.names);
                    for (k, v) in merged.affected {
                        g.affected.entry(k).or_default().extend(v);
                    }
                    g.about.join(&merged.about);
                }
                first
            }
            None => {
                groups.push(Some(Group::default()));
                groups.len() - 1
            }
        };
        let g = groups[at].get_or_insert_with(Group::default);
        g.names.extend(f.names.iter().cloned());
        g.affected.entry((f.ecosystem, f.package.clone())).or_default().insert(f.version.clone());
        g.about.join(&f.about);
        let names: Vec<String> = g.names.iter().map(|n| n.to_uppercase()).collect();
        for n in names {
            by_name.insert(n, at);
        }
    }
    groups.into_iter().flatten().collect()
}

/// The id a group's record takes: a GHSA (what OSV itself keys npm, PyPI
/// and Go advisories by), else a CVE, else the first name.
pub(super) fn record_id(names: &BTreeSet<String>) -> String {
    names
        .iter()
        .find(|n| n.starts_with("GHSA-"))
        .or_else(|| names.iter().find(|n| n.starts_with("CVE-")))
        .or_else(|| names.iter().next())
        .cloned()
        .unwrap_or_default()
}

/// The group as an OSV record `import_advisories` reads.
pub(super) fn record(id: &str, g: &Group, modified: &str) -> Value {
    let aliases: Vec<&String> = g.names.iter().filter(|n| !n.eq_ignore_ascii_case(id)).collect();
    let about = &g.about;
    let summary = if about.title.is_empty() {
        about.description.split(['\n', '.']).next().unwrap_or_default().chars().take(200).collect()
    } else {
        about.title.clone()
    };
    let affected: Vec<Value> = g
        .affected
        .iter()
        .map(|((eco, name), versions)| {
            json!({"package": {"ecosystem": osv::ecosystem_name(*eco), "name": name}, "versions": versions})
        })
        .collect();
    let mut r = json!({
        "schema_version": "1.6.0", "id": id, "aliases": aliases, "modified": modified,
        "summary": summary, "details": about.description, "affected": affected,
        "references": about.references.iter().map(|u| json!({"type": "WEB", "url": u})).collect::<Vec<_>>(),
        "database_specific": {"source": DEPENDENCY_TRACK, "severity": about.severity.as_str().to_uppercase()},
    });
    if let Some(p) = &about.published {
        r["published"] = json!(p);
    }
    if let Some(v) = &about.vector {
        let kind = if v.starts_with("CVSS:4") { "CVSS_V4" } else { "CVSS_V3" };
        r["severity"] = json!([{"type": kind, "score": v}]);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_read_from_markdown_lists() {
        let text = "* [https://github.com/axios/axios/pull/10661](https://github.com/axios/axios/pull/10661)\n* [x](http://e.example/a)\nnot a link";
        assert_eq!(references(text), ["https://github.com/axios/axios/pull/10661", "http://e.example/a"]);
    }

    #[test]
    fn published_times_from_the_api_and_exports() {
        assert_eq!(published(&json!("2026-02-04 22:16:00.813")).as_deref(), Some("2026-02-04T22:16:00.813+00:00"));
        assert_eq!(published(&json!(1_770_243_360_813_i64)).as_deref(), Some("2026-02-04T22:16:00.813+00:00"));
        assert_eq!(published(&json!("yesterday")), None);
    }
}
