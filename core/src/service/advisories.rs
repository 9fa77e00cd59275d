//! Advisories in the service: importing OSV records, keeping every
//! project's vulnerabilities current (when an advisory arrives or changes,
//! and when a project's dependencies change), recording each one found or
//! fixed as an event, and the operations that read them and fix them.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::{Call, Done};
use crate::advisory::matching::{self, Edge};
use crate::advisory::{
    Advisory, MATCHES_READ, MatchQuery, MatchScope, MatchStatus, VulnerabilityMatch, osv, package_key,
};
use crate::error::{Error, Result};
use crate::event::{Event, EventData, EventKind, payload};
use crate::ids::{PackageName, ProjectSlug, Version};
use crate::model::{Ecosystem, Project, RunRequest};
use crate::ops::inputs::{AffectedBy, FixAdvisory, ImportAdvisories, UpgradeDependency, Vulnerabilities};
use crate::ops::output::{AdvisoryImport, AdvisoryNote, AffectedReport, Output, RunList, VulnerabilityList};
use crate::store::DependentsQuery;

/// Records one call may import: the CLI sends a large import in batches.
pub const MAX_RECORDS: usize = 5_000;
/// Dependents read per affected package when an advisory is matched.
const DEPENDENTS_READ: usize = 1_000_000;

pub(crate) async fn import_advisories(call: &Call<'_>, i: ImportAdvisories) -> Result<Done> {
    if i.records.len() > MAX_RECORDS {
        return Err(Error::field(
            "records",
            format!("holds {} records; send at most {MAX_RECORDS} a call", i.records.len()),
        ));
    }
    let mut report = AdvisoryImport {
        read: i.records.len() as u64,
        changed: 0,
        unchanged: 0,
        refused: Vec::new(),
        notes: Vec::new(),
        found: 0,
        fixed: 0,
    };
    let mut advisories: Vec<Advisory> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for record in i.records {
        match osv::read(record) {
            Ok(read) => {
                report.notes.extend(
                    read.notes.into_iter().map(|note| AdvisoryNote { advisory: read.advisory.id.clone(), note }),
                );
                // The same id twice in one batch: the newer record wins.
                match seen.get(&read.advisory.id) {
                    Some(&at) if advisories[at].modified <= read.advisory.modified => advisories[at] = read.advisory,
                    Some(_) => {}
                    None => {
                        seen.insert(read.advisory.id.clone(), advisories.len());
                        advisories.push(read.advisory);
                    }
                }
            }
            Err(refused) => report.refused.push(refused),
        }
    }
    let changed: BTreeSet<String> = call.ctx.graph.put_advisories(&advisories).await?.into_iter().collect();
    report.changed = changed.len() as u64;
    report.unchanged = advisories.len() as u64 - report.changed;
    let mut events = Vec::new();
    let changed: Vec<&Advisory> = advisories.iter().filter(|a| changed.contains(&a.id)).collect();
    // Most advisories name packages nobody here uses and matched nothing
    // before: two questions for the whole batch rule them out, instead of
    // two for each of them.
    let named: BTreeSet<(Ecosystem, String)> = changed.iter().flat_map(|a| a.packages()).collect();
    let used = call.ctx.graph.packages_in_use(&named.into_iter().collect::<Vec<_>>()).await?;
    let ids: Vec<String> = changed.iter().map(|a| a.id.clone()).collect();
    let matched = call.ctx.graph.advisories_with_matches(&ids).await?;
    for advisory in changed {
        if matched.contains(&advisory.id) || advisory.packages().iter().any(|p| used.contains(p)) {
            events.extend(rematch_advisory(call, advisory).await?);
        }
    }
    // Each project's score once, however many of the batch's advisories moved it.
    let touched: BTreeSet<ProjectSlug> = events.iter().filter_map(|e| e.project.clone()).collect();
    for slug in touched {
        rescore(call, &slug, &mut events).await?;
    }
    report.found = events.iter().filter(|e| e.kind == EventKind::VulnerabilityFound).count() as u64;
    report.fixed = events.iter().filter(|e| e.kind == EventKind::VulnerabilityFixed).count() as u64;
    Ok(Done { output: Output::AdvisoriesImported(report), events })
}

/// Matches one advisory against every project using a package it names;
/// returns the vulnerabilities it found and fixed.
async fn rematch_advisory(call: &Call<'_>, advisory: &Advisory) -> Result<Vec<Event>> {
    let mut events = Vec::new();
    let mut new = Vec::new();
    for (ecosystem, package) in advisory.packages() {
        let Ok(name) = crate::ids::PackageName::new(package.clone()) else { continue };
        let q = DependentsQuery {
            package: name.clone(),
            version: None,
            ecosystem: Some(ecosystem),
            limit: DEPENDENTS_READ,
            direct_only: false,
        };
        for row in call.ctx.graph.dependents(&q).await?.projects {
            let edge = Edge {
                project: &row.project,
                team: &row.team,
                ecosystem: row.ecosystem,
                package: &name,
                version: &row.version,
                requirement: None,
                transitive: row.transitive,
            };
            if let Some(m) = matching::assess(advisory, &edge, call.now) {
                new.push(m);
            }
        }
    }
    let q = MatchQuery { advisories: vec![advisory.id.clone()], limit: MATCHES_READ, ..Default::default() };
    let old = call.ctx.graph.list_matches(&q).await?;
    let reason = if advisory.withdrawn.is_some() { "advisory withdrawn" } else { "no longer in the advisory's ranges" };
    let new = diff(call, &old, new, |_| reason.to_owned(), &mut events);
    // Most advisories name packages nobody here uses: nothing was and nothing is, nothing to write.
    if old.is_empty() && new.is_empty() {
        return Ok(events);
    }
    call.ctx.graph.replace_matches(&MatchScope::Advisory(advisory.id.clone()), &new).await?;
    Ok(events)
}

/// Matches a project's dependencies against the advisories naming them.
async fn rematch_project(call: &Call<'_>, project: &Project, events: &mut Vec<Event>) -> Result<()> {
    let packages: BTreeSet<(Ecosystem, String)> =
        project.dependencies.iter().map(|d| (d.ecosystem, package_key(d.ecosystem, d.package.as_str()))).collect();
    let packages: Vec<(Ecosystem, String)> = packages.into_iter().collect();
    let advisories =
        if project.archived { Vec::new() } else { call.ctx.graph.advisories_for_packages(&packages).await? };
    let new = matching::project_matches(project, &advisories, call.now);
    let q = MatchQuery { project: Some(project.slug.clone()), limit: MATCHES_READ, ..Default::default() };
    let old = call.ctx.graph.list_matches(&q).await?;
    if old.is_empty() && new.is_empty() {
        return Ok(());
    }
    let why = |gone: &VulnerabilityMatch| {
        let now = project.dependencies.iter().find(|d| d.ecosystem == gone.ecosystem && d.package == gone.package);
        match now {
            _ if project.archived => "project archived".to_owned(),
            Some(d) => format!("upgraded to {}", d.version),
            None => "removed".to_owned(),
        }
    };
    let before = events.len();
    let new = diff(call, &old, new, why, events);
    call.ctx.graph.replace_matches(&MatchScope::Project(project.slug.clone()), &new).await?;
    if events.len() > before {
        rescore(call, &project.slug, events).await?;
    }
    Ok(())
}

/// The score again, when its vulnerabilities part has weight and the
/// project's vulnerabilities just changed.
async fn rescore(call: &Call<'_>, slug: &ProjectSlug, events: &mut Vec<Event>) -> Result<()> {
    if call.ctx.config.score.weights.vulnerabilities == 0 {
        return Ok(());
    }
    if let Some(mut project) = call.ctx.graph.get_project(slug).await?
        && call.rescore(&mut project, events).await?
    {
        call.ctx.graph.put_project(&project).await?;
    }
    Ok(())
}

/// Compares a recomputation with what was stored: a (project, advisory,
/// package) newly affected is found, one no longer affected is fixed (with
/// `why`); one still affected keeps when it was first found. Returns the
/// matches to store.
fn diff(
    call: &Call<'_>,
    old: &[VulnerabilityMatch],
    mut new: Vec<VulnerabilityMatch>,
    why: impl Fn(&VulnerabilityMatch) -> String,
    events: &mut Vec<Event>,
) -> Vec<VulnerabilityMatch> {
    let key = |m: &VulnerabilityMatch| {
        (m.project.as_str().to_owned(), m.advisory.clone(), m.ecosystem, m.package.as_str().to_owned())
    };
    let old_keys: HashMap<_, &VulnerabilityMatch> = old.iter().map(|m| (key(m), m)).collect();
    let new_keys: BTreeSet<_> = new.iter().map(key).collect();
    for m in &mut new {
        match old_keys.get(&key(m)) {
            Some(before) => m.found_at = before.found_at,
            None => events.push(found_event(call, m)),
        }
    }
    for m in old {
        if !new_keys.contains(&key(m)) {
            events.push(fixed_event(call, m, why(m)));
        }
    }
    new
}

fn subjects(event: Event, m: &VulnerabilityMatch) -> Event {
    let mut e = event.project(&m.project).subject(m.package.as_str()).subject(&m.advisory);
    for a in &m.aliases {
        e = e.subject(a);
    }
    e
}

fn found_event(call: &Call<'_>, m: &VulnerabilityMatch) -> Event {
    let data = EventData::VulnerabilityFound(payload::VulnerabilityFound {
        advisory: m.advisory.clone(),
        aliases: m.aliases.clone(),
        summary: m.summary.clone(),
        ecosystem: m.ecosystem,
        package: m.package.clone(),
        version: m.version.clone(),
        fixed: m.fixed.clone(),
        severity: m.severity,
        transitive: m.transitive,
        status: m.status,
    });
    subjects(call.event(data), m)
}

fn fixed_event(call: &Call<'_>, m: &VulnerabilityMatch, reason: String) -> Event {
    let data = EventData::VulnerabilityFixed(payload::VulnerabilityFixed {
        advisory: m.advisory.clone(),
        aliases: m.aliases.clone(),
        ecosystem: m.ecosystem,
        package: m.package.clone(),
        version: m.version.clone(),
        reason,
    });
    subjects(call.event(data), m)
}

/// After any operation: the projects whose dependencies changed (or that
/// were created or archived) are matched again, their events appended.
pub(crate) async fn follow_dependency_changes(call: &Call<'_>, events: &mut Vec<Event>) -> Result<()> {
    let touched: BTreeSet<ProjectSlug> = events
        .iter()
        .filter(|e| {
            matches!(e.kind, EventKind::DependenciesChanged | EventKind::ProjectCreated | EventKind::ProjectArchived)
        })
        .filter_map(|e| e.project.clone())
        .collect();
    if touched.is_empty() || !call.ctx.graph.any_advisories().await? {
        return Ok(());
    }
    let mut more = Vec::new();
    for slug in touched {
        if let Some(project) = call.ctx.graph.get_project(&slug).await? {
            rematch_project(call, &project, &mut more).await?;
        }
    }
    events.extend(more);
    Ok(())
}

/// Matches several rows known by aliases of one another (a CVE with a GHSA
/// and a GO record) once: the first (worst) keeps the others' ids as aliases.
/// Linear in the matches: each is compared only with the rows of its own
/// edge (the whole organisation's hundreds of thousands are listed at once).
fn merge_aliases(matches: Vec<VulnerabilityMatch>) -> Vec<VulnerabilityMatch> {
    let mut out: Vec<VulnerabilityMatch> = Vec::with_capacity(matches.len());
    // The rows kept for each (project, package, version), by their place in `out`.
    let mut edges: HashMap<(ProjectSlug, PackageName, Version), Vec<usize>> = HashMap::new();
    for m in matches {
        let kept = edges.entry((m.project.clone(), m.package.clone(), m.version.clone())).or_default();
        let names: BTreeSet<&str> =
            std::iter::once(m.advisory.as_str()).chain(m.aliases.iter().map(String::as_str)).collect();
        let same = kept.iter().copied().find(|&at| {
            let o = &out[at];
            std::iter::once(o.advisory.as_str()).chain(o.aliases.iter().map(String::as_str)).any(|n| names.contains(n))
        });
        match same.map(|at| &mut out[at]) {
            Some(o) => {
                for n in names {
                    if n != o.advisory && !o.aliases.iter().any(|a| a == n) {
                        o.aliases.push(n.to_owned());
                    }
                }
            }
            None => {
                kept.push(out.len());
                out.push(m);
            }
        }
    }
    out
}

pub(crate) async fn vulnerabilities(call: &Call<'_>, i: Vulnerabilities) -> Result<Done> {
    let limit = super::read::limit(i.limit, 100, 1_000, "limit")?;
    if let Some(p) = &i.project {
        call.project(p).await?;
    }
    if let Some(t) = &i.team
        && call.ctx.graph.get_team(t).await?.is_none()
    {
        return Err(Error::not_found("team", t));
    }
    let q = MatchQuery {
        project: i.project,
        team: i.team,
        package: i.package,
        min_severity: i.severity,
        found_since: i.since.map(|t| t.resolve(call.now)),
        ..Default::default()
    };
    // Counted by the store; only the rows whose advisories go by one
    // another's names are read to take out what merging folds.
    let counts = call.ctx.graph.count_matches(&q).await?;
    let kept: Vec<VulnerabilityMatch> = merge_aliases(counts.aliased.clone());
    let kept: HashSet<_> = kept.iter().map(VulnerabilityMatch::key).collect();
    let mut by_team = counts.by_team;
    let mut folded = 0;
    for m in counts.aliased.iter().filter(|m| !kept.contains(&m.key())) {
        folded += 1;
        if let Some(n) = by_team.get_mut(&(m.team.clone(), m.severity)) {
            *n = n.saturating_sub(1);
        }
    }
    let (mut by_severity, mut teams) = (BTreeMap::new(), BTreeMap::new());
    for ((team, severity), n) in by_team.into_iter().filter(|(_, n)| *n > 0) {
        *by_severity.entry(severity).or_insert(0u64) += n;
        teams.entry(team).or_insert_with(BTreeMap::new).insert(severity, n);
    }
    let total = by_severity.values().sum::<u64>();
    // Merging folds a row into an earlier one only: the first rows of the
    // merged list come from the first `limit + folded` rows.
    let first = call.ctx.graph.list_matches(&MatchQuery { limit: limit + folded, ..q }).await?;
    let vulnerabilities: Vec<VulnerabilityMatch> = merge_aliases(first).into_iter().take(limit).collect();
    let list = VulnerabilityList {
        total,
        projects: counts.projects,
        by_severity,
        by_team: teams,
        truncated: total > vulnerabilities.len() as u64,
        vulnerabilities,
        advisories_known: call.ctx.graph.count_advisories().await?,
    };
    Ok(Done::read(Output::Vulnerabilities(list)))
}

fn check_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.len() > 128 || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::field("advisory", "must be an advisory id such as CVE-2025-29923 or GHSA-92cp-5422-2mw7"));
    }
    Ok(name.to_owned())
}

/// Every record going by `name`, or a not-found that says how to get them.
async fn advisories_named(call: &Call<'_>, name: &str) -> Result<Vec<Advisory>> {
    let found = call.ctx.graph.find_advisories(name).await?;
    if found.is_empty() {
        return Err(Error::not_found("advisory", name));
    }
    Ok(found)
}

pub(crate) async fn affected_by(call: &Call<'_>, i: AffectedBy) -> Result<Done> {
    let asked = check_name(&i.advisory)?;
    let advisories = advisories_named(call, &asked).await?;
    let ids: Vec<String> = advisories.iter().map(|a| a.id.clone()).collect();
    let q = MatchQuery { advisories: ids, limit: MATCHES_READ, ..Default::default() };
    let affected = merge_aliases(call.ctx.graph.list_matches(&q).await?);
    let projects = affected.iter().map(|m| &m.project).collect::<BTreeSet<_>>().len() as u64;
    let runs = fix_runs(call, &affected).await?;
    Ok(Done::read(Output::Affected(Box::new(AffectedReport { asked, advisories, affected, projects, runs }))))
}

/// Upgrade runs whose package and target are an affected package and its fix.
async fn fix_runs(call: &Call<'_>, affected: &[VulnerabilityMatch]) -> Result<Vec<crate::model::Run>> {
    let fixes: BTreeSet<(&str, &str)> =
        affected.iter().filter_map(|m| Some((m.package.as_str(), m.fixed.as_deref()?))).collect();
    if fixes.is_empty() {
        return Ok(Vec::new());
    }
    let runs = call.ctx.graph.list_runs(None, 500).await?;
    Ok(runs
        .into_iter()
        .filter(|r| match r.request() {
            Ok(RunRequest::UpgradeDependency(u)) => fixes.contains(&(u.package.as_str(), u.to.as_str())),
            _ => false,
        })
        .collect())
}

pub(crate) async fn fix_advisory(call: &Call<'_>, i: FixAdvisory) -> Result<Done> {
    let asked = check_name(&i.advisory)?;
    let advisories = advisories_named(call, &asked).await?;
    let q = MatchQuery {
        advisories: advisories.iter().map(|a| a.id.clone()).collect(),
        limit: MATCHES_READ,
        ..Default::default()
    };
    let affected: Vec<VulnerabilityMatch> = merge_aliases(call.ctx.graph.list_matches(&q).await?)
        .into_iter()
        .filter(|m| i.package.as_ref().is_none_or(|p| &m.package == p))
        .collect();
    if affected.is_empty() {
        let what = i.package.as_ref().map(|p| format!(" in {p}")).unwrap_or_default();
        return Err(Error::field("advisory", format!("{asked} affects no project{what}: nothing to fix")));
    }
    // One campaign per (package, installed version): every project on that
    // version moves to its first fix. Transitive uses are fixed by upgrading
    // what pulls them in, so they are left out.
    let mut groups: BTreeMap<(String, String), Option<String>> = BTreeMap::new();
    for m in affected.iter().filter(|m| !m.transitive && m.status == MatchStatus::Affected) {
        groups.insert((m.package.as_str().to_owned(), m.version.as_str().to_owned()), m.fixed.clone());
    }
    let (fixable, unfixable): (Vec<_>, Vec<_>) = groups.into_iter().partition(|(_, fix)| fix.is_some());
    if fixable.is_empty() {
        let why = if unfixable.is_empty() {
            "only transitive uses or versions that cannot be evaluated: upgrade the packages that pull it in"
        } else {
            "no fixed version is published yet"
        };
        return Err(Error::field("advisory", format!("{asked} cannot be fixed by an upgrade here: {why}")));
    }
    let mut runs = Vec::new();
    let mut events = Vec::new();
    for ((package, from), to) in fixable {
        let input = UpgradeDependency {
            package: crate::ids::PackageName::new(package).map_err(|e| Error::internal("an affected package", e))?,
            from: Some(Version::new(from).map_err(|e| Error::internal("an affected version", e))?),
            to: Version::new(to.unwrap_or_default()).map_err(|e| Error::field("advisory", e.to_string()))?,
            project: None,
        };
        let done = super::runs::upgrade_dependency(call, input).await?;
        if let Output::Run(run) = done.output {
            runs.push(*run);
        }
        events.extend(done.events);
    }
    Ok(Done { output: Output::Runs(RunList { runs }), events })
}
