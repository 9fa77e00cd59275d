//! What people say about vulnerabilities: "are we affected by CVE-…?",
//! "fix CVE-… everywhere", "which projects have critical vulnerabilities?",
//! "is checkout vulnerable?". An advisory is named by any of its ids (CVE,
//! GHSA, RUSTSEC, PYSEC, GO, OSV, MAL), whatever the case.

use serde_json::json;
use switchboard_core::ops::OpKind;

use super::{Msg, Routed, Strictness, attempt};

/// Words that mean security findings.
const STRONG: &[&str] = &[
    "vulnerable",
    "vulnerability",
    "vulnerabilities",
    "vuln",
    "vulns",
    "exposed",
    "exposure",
    "insecure",
    "exploitable",
];
/// Words about advisories that, beside a package, ask who uses it (a blast
/// radius: `dependents`) rather than for findings ("security" alone names
/// teams too: it needs "issues" or the like beside it).
const WEAK: &[&str] = &["cve", "cves", "advisory", "advisories"];
/// Words asking who uses a package.
const USES: &[&str] =
    &["depends", "depend", "dependents", "pull", "pulls", "use", "uses", "using", "affected", "afected", "relies"];

/// Verbs that change something: a message starting so is a request, not a question.
const CHANGES: &[&str] =
    &["deploy", "upgrade", "update", "bump", "create", "set", "make", "archive", "approve", "deny", "cancel"];

/// Verbs that fix.
const FIX: &[&str] = &["fix", "patch", "remediate", "mitigate"];

/// The advisory id in the message, spelt as its database spells it
/// (`CVE-2025-29923`, `GHSA-92cp-5422-2mw7`).
fn advisory_id(m: &Msg<'_>) -> Option<String> {
    m.raw.iter().find_map(|raw| {
        let w = raw.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-');
        let (prefix, rest) = w.split_once('-')?;
        let prefix = prefix.to_ascii_uppercase();
        let parts: Vec<&str> = rest.split('-').collect();
        let digits = |s: &str, min: usize| s.len() >= min && s.bytes().all(|b| b.is_ascii_digit());
        let ok = match prefix.as_str() {
            "CVE" => parts.len() == 2 && digits(parts[0], 4) && digits(parts[1], 4),
            "GHSA" => {
                parts.len() == 3 && parts.iter().all(|p| p.len() == 4 && p.bytes().all(|b| b.is_ascii_alphanumeric()))
            }
            "RUSTSEC" | "PYSEC" | "GO" | "OSV" | "MAL" | "GSD" | "PSF" => {
                parts.len() == 2 && digits(parts[0], 4) && digits(parts[1], 1)
            }
            _ => false,
        };
        let rest = if prefix == "GHSA" { rest.to_ascii_lowercase() } else { rest.to_ascii_uppercase() };
        ok.then(|| format!("{prefix}-{rest}"))
    })
}

/// `fix CVE-2025-29923 everywhere`, `patch GHSA-… please`, `open PRs for CVE-…`.
pub(super) fn fix(m: &Msg<'_>) -> Option<Routed> {
    let id = advisory_id(m)?;
    let verb = m.has(FIX)
        || (m.has(&["upgrade", "update", "bump"]) && m.has(&["affected", "vulnerable", "everything", "everywhere"]))
        || (m.has(&["open", "raise", "create"]) && m.has(&["pr", "prs", "pull", "requests"]));
    // "is CVE-… fixed?", "was it patched?": questions about it, not requests.
    let asks = (m.is_question() && !m.polite()) || m.has(&["fixed", "patched", "resolved", "closed"]);
    if !verb || asks {
        return None;
    }
    let mut args = json!({"advisory": id});
    if let Some(p) = m.packages().first() {
        args["package"] = json!(p.package);
    }
    Some(Routed::call(OpKind::FixAdvisory, args))
}

/// `are we affected by CVE-2025-29923?`, `who is exposed to GHSA-…`, `CVE-…?`.
pub(super) fn affected_by(m: &Msg<'_>) -> Option<Routed> {
    let id = advisory_id(m)?;
    Some(Routed::call(OpKind::AffectedBy, json!({"advisory": id})))
}

/// `which projects have critical vulnerabilities?`, `is checkout vulnerable?`,
/// `security issues of team payments`, `new CVEs this week`, `vulns in lodash`.
pub(super) fn vulnerabilities(m: &Msg<'_>) -> Option<Routed> {
    let issues = m.has(&["issue", "issues", "problems", "findings", "holes", "risks", "alerts"]);
    let weak = m.has(WEAK) || (m.has(&["security"]) && issues);
    if !(m.has(STRONG) || weak) || m.first_is(CHANGES) {
        return None;
    }
    // A package beside a CVE: who uses it (or which version), or moving off it.
    let package = m.packages().first();
    let moving = !m.versions(0).is_empty() && (m.has(&["to", "onto", "off"]) || m.text.contains("->"));
    if moving || (package.is_some() && (m.has(USES) || package.is_some_and(|p| p.version.is_some()) || !m.has(STRONG)))
    {
        return None;
    }
    let mut args = json!({});
    if let Some((_, team)) = attempt!(m.team(0, Strictness::Forgiving)).filter(|(i, _)| m.team_marked(*i)) {
        args["team"] = json!(team);
    } else if let Some((_, project)) = attempt!(m.project(0, Strictness::Forgiving)) {
        args["project"] = json!(project);
    } else if let Some((_, team)) = attempt!(m.team(0, Strictness::Forgiving)) {
        args["team"] = json!(team);
    }
    if let Some(p) = m.packages().first() {
        args["package"] = json!(p.package);
    }
    let severity = if m.has(&["critical"]) && !m.has(&["high"]) {
        Some("critical")
    } else if m.has(&["high", "severe", "serious", "important"]) {
        Some("high")
    } else if m.has(&["medium", "moderate"]) {
        Some("medium")
    } else if m.has(&["low"]) {
        Some("low")
    } else {
        None
    };
    if let Some(s) = severity {
        args["severity"] = json!(s);
    }
    if let Some(s) = &m.time.since {
        args["since"] = json!(s);
    }
    Some(Routed::call(OpKind::Vulnerabilities, args))
}
