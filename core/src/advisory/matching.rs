//! Whether an installed version is affected by an advisory, by OSV's
//! evaluation rules: a range's events sorted by version, the version
//! affected when the last event at or below it introduces (`fixed` and
//! `limit` end a range at their version, `last_affected` just after it);
//! several ranges and entries for one package are a union. The first fix is
//! the lowest `fixed` above the installed version that no range affects.

use super::version::{self, Ver};
use super::{Advisory, AffectedPackage, AffectedRange, MatchStatus, RangeEvent, VulnerabilityMatch, package_key};
use crate::ids::{PackageName, ProjectSlug, TeamSlug, Version};
use crate::model::{Dependency, Ecosystem, Millis, Project};

/// What one advisory says about one installed version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    NotAffected,
    Affected { fixed: Option<String> },
    CannotEvaluate(String),
}

/// A version in a range, `introduced: "0"` being below every version.
type Bound = Option<Ver>;

fn bound(ecosystem: Ecosystem, text: &str) -> Result<Bound, String> {
    if text == "0" {
        return Ok(None);
    }
    version::parse(ecosystem, text).map(Some).map_err(|e| format!("its range holds {e}"))
}

fn evaluable(range: &AffectedRange) -> bool {
    matches!(range.kind.as_str(), "SEMVER" | "ECOSYSTEM")
}

fn in_range(ecosystem: Ecosystem, range: &AffectedRange, v: &Ver) -> Result<bool, String> {
    let mut events: Vec<(Bound, &RangeEvent)> = Vec::with_capacity(range.events.len());
    for e in &range.events {
        let text = match e {
            RangeEvent::Introduced(t) | RangeEvent::Fixed(t) | RangeEvent::LastAffected(t) | RangeEvent::Limit(t) => t,
        };
        events.push((bound(ecosystem, text)?, e));
    }
    // `None` (zero) sorts first; ties keep the record's order.
    events.sort_by(|a, b| a.0.cmp(&b.0));
    let mut affected = false;
    for (at, event) in &events {
        let at_or_above = at.as_ref().is_none_or(|b| v >= b);
        match event {
            RangeEvent::Introduced(_) if at_or_above => affected = true,
            RangeEvent::Fixed(_) | RangeEvent::Limit(_) if at_or_above => affected = false,
            RangeEvent::LastAffected(_) if at.as_ref().is_some_and(|b| v > b) => affected = false,
            _ => {}
        }
    }
    Ok(affected)
}

/// Whether any evaluable range of `entries` affects `v` (`Err` when one cannot be read).
fn affected_by(ecosystem: Ecosystem, entries: &[&AffectedPackage], v: &Ver) -> Result<bool, String> {
    for range in entries.iter().flat_map(|e| e.ranges.iter()).filter(|r| evaluable(r)) {
        if in_range(ecosystem, range, v)? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn first_fix(ecosystem: Ecosystem, entries: &[&AffectedPackage], v: &Ver) -> Option<String> {
    let mut fixes: Vec<(Ver, &str)> = entries
        .iter()
        .flat_map(|e| e.ranges.iter())
        .filter(|r| evaluable(r))
        .flat_map(|r| r.events.iter())
        .filter_map(|e| match e {
            RangeEvent::Fixed(t) => version::parse(ecosystem, t).ok().filter(|f| f > v).map(|f| (f, t.as_str())),
            _ => None,
        })
        .collect();
    fixes.sort_by(|a, b| a.0.cmp(&b.0));
    fixes.into_iter().find(|(f, _)| affected_by(ecosystem, entries, f) == Ok(false)).map(|(_, t)| t.to_owned())
}

/// Listed versions compare as text, Go's `v` prefix aside.
fn listed(entries: &[&AffectedPackage], installed: &str) -> bool {
    let bare = |s: &str| s.trim().trim_start_matches('v').to_owned();
    let installed = bare(installed);
    entries.iter().any(|e| e.versions.iter().any(|l| bare(l) == installed))
}

/// Whether `advisory` affects `installed` of the package `name` (as the graph names it).
pub fn evaluate(advisory: &Advisory, ecosystem: Ecosystem, name: &str, installed: &str) -> Verdict {
    evaluate_with(advisory, ecosystem, name, installed, version::parse(ecosystem, installed).map_err(|e| e.to_string()))
}

fn evaluate_with(
    advisory: &Advisory,
    ecosystem: Ecosystem,
    name: &str,
    installed: &str,
    parsed: Result<Ver, String>,
) -> Verdict {
    if advisory.withdrawn.is_some() {
        return Verdict::NotAffected;
    }
    let key = package_key(ecosystem, name);
    let entries: Vec<&AffectedPackage> =
        advisory.affected.iter().filter(|a| a.ecosystem == ecosystem && a.name == key).collect();
    if entries.is_empty() {
        return Verdict::NotAffected;
    }
    let ranges: Vec<&AffectedRange> = entries.iter().flat_map(|e| e.ranges.iter()).collect();
    let any_evaluable = ranges.iter().any(|r| evaluable(r));
    let is_listed = listed(&entries, installed);
    let v = match parsed {
        Ok(v) => v,
        Err(_) if is_listed => return Verdict::Affected { fixed: None },
        Err(why) if any_evaluable => return Verdict::CannotEvaluate(why),
        Err(_) => return Verdict::NotAffected,
    };
    let fix = || first_fix(ecosystem, &entries, &v).map(|f| styled(f, installed));
    if is_listed {
        return Verdict::Affected { fixed: fix() };
    }
    match affected_by(ecosystem, &entries, &v) {
        Ok(true) => Verdict::Affected { fixed: fix() },
        Err(why) => Verdict::CannotEvaluate(why),
        Ok(false) if any_evaluable || ranges.is_empty() => Verdict::NotAffected,
        Ok(false) => {
            let kinds: Vec<&str> = ranges.iter().map(|r| r.kind.as_str()).collect();
            Verdict::CannotEvaluate(format!("only {} ranges, which cannot be compared with versions", kinds.join(", ")))
        }
    }
}

/// A fix written the way the installed version is (Go's `v`).
fn styled(fix: String, installed: &str) -> String {
    if installed.starts_with('v') && !fix.starts_with('v') { format!("v{fix}") } else { fix }
}

/// One dependency edge to match.
pub struct Edge<'a> {
    pub project: &'a ProjectSlug,
    pub team: &'a TeamSlug,
    pub ecosystem: Ecosystem,
    pub package: &'a PackageName,
    pub version: &'a Version,
    pub requirement: Option<&'a str>,
    pub transitive: bool,
}

/// The match `advisory` makes of `edge`, if any.
pub fn assess(advisory: &Advisory, edge: &Edge<'_>, now: Millis) -> Option<VulnerabilityMatch> {
    let installed = edge.version.as_str();
    let (parsed, reason) = match version::parse(edge.ecosystem, installed) {
        Ok(v) => (Ok(v), None),
        Err(e) => {
            // Known only by its requirement: judge the lowest version it allows.
            let floor = version::requirement_floor(edge.ecosystem, installed)
                .or_else(|| edge.requirement.and_then(|r| version::requirement_floor(edge.ecosystem, r)));
            match floor {
                Some((v, text)) => {
                    (Ok(v), Some(format!("no resolved version: judged by {text}, the lowest {installed} allows")))
                }
                None => (Err(e.to_string()), None),
            }
        }
    };
    let (status, fixed, reason) =
        match evaluate_with(advisory, edge.ecosystem, edge.package.as_str(), installed, parsed) {
            Verdict::NotAffected => return None,
            Verdict::Affected { fixed } => (MatchStatus::Affected, fixed, reason),
            Verdict::CannotEvaluate(why) => (MatchStatus::CannotEvaluate, None, Some(why)),
        };
    Some(VulnerabilityMatch {
        project: edge.project.clone(),
        team: edge.team.clone(),
        advisory: advisory.id.clone(),
        aliases: advisory.aliases.clone(),
        summary: advisory.summary.clone(),
        ecosystem: edge.ecosystem,
        package: edge.package.clone(),
        version: edge.version.clone(),
        fixed,
        transitive: edge.transitive,
        severity: advisory.severity,
        score: advisory.score,
        status,
        reason,
        found_at: now,
    })
}

/// Every match `advisories` make of the project's dependencies (none for an
/// archived project), each (advisory, package, version) once.
pub fn project_matches(project: &Project, advisories: &[Advisory], now: Millis) -> Vec<VulnerabilityMatch> {
    if project.archived {
        return Vec::new();
    }
    let mut out: Vec<VulnerabilityMatch> = Vec::new();
    for dep in &project.dependencies {
        let edge = edge_of(project, dep);
        for advisory in advisories {
            if let Some(m) = assess(advisory, &edge, now)
                && !out.iter().any(|o| o.key() == m.key())
            {
                out.push(m);
            }
        }
    }
    out
}

fn edge_of<'a>(project: &'a Project, dep: &'a Dependency) -> Edge<'a> {
    Edge {
        project: &project.slug,
        team: &project.team,
        ecosystem: dep.ecosystem,
        package: &dep.package,
        version: &dep.version,
        requirement: dep.requirement.as_deref(),
        transitive: dep.transitive,
    }
}
