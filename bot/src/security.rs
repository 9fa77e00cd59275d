//! Replies about vulnerabilities: who an advisory affects with the versions
//! that fix it and a Fix button, a list of findings worst first, and what
//! an advisory import did.

use switchboard_core::advisory::{Severity, VulnerabilityMatch};
use switchboard_core::messages::advisory_name;
use switchboard_core::ops::output::{AdvisoryImport, AffectedReport, VulnerabilityList};

use crate::reply::{Button, ButtonStyle, Reply};

const ROWS: usize = 15;

fn row(m: &VulnerabilityMatch, with_advisory: bool) -> Vec<String> {
    let mut row = vec![m.project.to_string(), format!("{} {}", m.package, m.version), m.fix_text()];
    row.push(if m.transitive { "transitive" } else { "direct" }.into());
    if with_advisory {
        row.insert(1, format!("{} ({})", advisory_name(&m.advisory, &m.aliases), m.severity));
    }
    row
}

fn counts(by: &std::collections::BTreeMap<Severity, u64>) -> String {
    Severity::ALL
        .iter()
        .filter_map(|s| by.get(s).filter(|n| **n > 0).map(|n| format!("{n} {s}")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The Fix button of an advisory: requests its campaigns (each approved like any).
pub fn fix_button(advisory: &str) -> Button {
    Button { label: "Fix everywhere".into(), action: format!("fix_advisory:{advisory}"), style: ButtonStyle::Primary }
}

pub fn affected(r: &AffectedReport, base_url: &str) -> Reply {
    let first = &r.advisories[0];
    let name = advisory_name(&first.id, &first.aliases);
    let page = format!("{base_url}/advisories/{}", first.id);
    let withdrawn = r.advisories.iter().all(|a| a.withdrawn.is_some());
    let head = if withdrawn {
        format!("{name} was withdrawn by its database: nothing is matched against it.")
    } else if r.affected.is_empty() {
        format!("No project is affected by {name}: no dependency in the graph is in its affected ranges.")
    } else {
        let fixes: std::collections::BTreeSet<String> =
            r.affected.iter().filter_map(|m| m.fixed.as_ref().map(|f| format!("{} {f}", m.package))).collect();
        let fixed_in = if fixes.is_empty() {
            " No fixed version is published yet.".to_owned()
        } else {
            format!(" Fixed in {}.", fixes.into_iter().collect::<Vec<_>>().join(", "))
        };
        format!("Yes: {name} ({}) affects {} project(s).{fixed_in}", first.severity, r.projects)
    };
    let mut reply = Reply::text(head);
    if !first.summary.is_empty() {
        reply = reply.push_text(first.summary.clone());
    }
    if !r.affected.is_empty() {
        let rows = r.affected.iter().take(ROWS).map(|m| row(m, false)).collect();
        reply = reply.table(&["project", "installed", "fixed in", "how"], rows);
        if r.affected.len() > ROWS {
            reply = reply.push_text(format!("Showing {ROWS} of {}.", r.affected.len()));
        }
    }
    if !r.runs.is_empty() {
        let runs: Vec<String> = r.runs.iter().map(|run| format!("{} ({})", run.summary, run.status.as_str())).collect();
        reply = reply.push_text(format!("Fix campaigns: {}", runs.join("; ")));
    } else if r.affected.iter().any(|m| m.fixed.is_some() && !m.transitive) {
        reply = reply.buttons(vec![fix_button(&first.id)]);
    }
    reply.link("Open in portal", page)
}

pub fn vulnerabilities(list: &VulnerabilityList, base_url: &str) -> Reply {
    let page = format!("{base_url}/vulnerabilities");
    if list.advisories_known == 0 {
        return Reply::text(
            "No advisories are known yet, so nothing can be matched. An admin imports them with `switchboard advisories import PATH_OR_URL` (OSV files, a directory or a zip), or sets `[advisories] sources`.",
        );
    }
    if list.vulnerabilities.is_empty() {
        return Reply::text(format!(
            "No known vulnerabilities match that ({} advisories checked).",
            list.advisories_known
        ))
        .link("Open in portal", page);
    }
    let rows = list.vulnerabilities.iter().take(ROWS).map(|m| row(m, true)).collect();
    let mut reply = Reply::text(format!(
        "{} vulnerable dependenc{} in {} project(s): {}.",
        list.total,
        if list.total == 1 { "y" } else { "ies" },
        list.projects,
        counts(&list.by_severity)
    ))
    .table(&["project", "advisory", "installed", "fixed in", "how"], rows);
    let shown = ROWS.min(list.vulnerabilities.len()) as u64;
    if shown < list.total {
        reply = reply.push_text(format!("Showing the worst {shown} of {}.", list.total));
    }
    reply.link("Open in portal", page)
}

pub fn imported(r: &AdvisoryImport, base_url: &str) -> Reply {
    let mut reply = Reply::text(format!(
        "Read {} advisory record(s): {} new or changed, {} unchanged, {} refused. {} vulnerabilit{} found, {} fixed.",
        r.read,
        r.changed,
        r.unchanged,
        r.refused.len(),
        r.found,
        if r.found == 1 { "y" } else { "ies" },
        r.fixed
    ));
    if !r.refused.is_empty() {
        let rows = r
            .refused
            .iter()
            .take(ROWS)
            .map(|x| vec![x.id.clone().unwrap_or_else(|| "(no id)".into()), x.reason.clone()])
            .collect();
        reply = reply.table(&["record", "refused because"], rows);
    }
    reply.link("Open in portal", format!("{base_url}/vulnerabilities"))
}
