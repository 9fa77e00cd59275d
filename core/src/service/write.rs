//! Write operations: validate against the graph and config, store, and say
//! what happened as events.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::facts::check_fact_value;
use super::{Call, Done};
use crate::error::{Error, Result};
use crate::event::EventData;
use crate::event::payload::{self, FromTo};
use crate::ids::*;
use crate::messages;
use crate::model::*;
use crate::ops::inputs::*;
use crate::ops::output::*;

const MAX_NAME: usize = 200;
const MAX_DESCRIPTION: usize = 4000;
const MAX_DEPENDENCIES: usize = 5000;

fn text(field: &str, value: &str, max: usize) -> Result<String> {
    let v = value.trim();
    if v.chars().count() > max {
        return Err(Error::field(field, format!("must be at most {max} characters")));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(Error::field(field, "must not contain control characters"));
    }
    Ok(v.to_owned())
}

pub(super) fn name(field: &str, value: &str) -> Result<String> {
    let v = text(field, value, MAX_NAME)?;
    if v.is_empty() {
        return Err(Error::field(field, "must not be empty"));
    }
    Ok(v)
}

pub(super) fn url(field: &str, value: &str) -> Result<String> {
    let v = text(field, value, 2000)?;
    if !(v.starts_with("https://") || v.starts_with("http://")) {
        return Err(Error::field(field, "must be an http:// or https:// URL"));
    }
    Ok(v)
}

fn links(links: Vec<Link>) -> Result<Vec<Link>> {
    links
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            Ok(Link {
                title: name(&format!("links[{i}].title"), &l.title)?,
                url: url(&format!("links[{i}].url"), &l.url)?,
            })
        })
        .collect()
}

fn check_project_type(call: &Call<'_>, field: &str, t: &ProjectType) -> Result<()> {
    if call.ctx.config.project_types.contains_key(t) {
        return Ok(());
    }
    let known: Vec<&str> = call.ctx.config.project_types.keys().map(|k| k.as_str()).collect();
    Err(Error::field(field, format!("unknown project type {:?}; known: {}", t.as_str(), known.join(", "))))
}

async fn check_team(call: &Call<'_>, field: &str, t: &TeamSlug) -> Result<Team> {
    call.ctx.graph.get_team(t).await?.ok_or_else(|| Error::field(field, messages::not_found("team", t.as_str())))
}

fn environments(call: &Call<'_>, envs: Vec<Environment>) -> Result<Vec<Environment>> {
    let mut seen = BTreeSet::new();
    envs.into_iter()
        .enumerate()
        .map(|(i, e)| {
            if !seen.insert(e.name.clone()) {
                return Err(Error::field(&format!("environments[{i}].name"), format!("{} is listed twice", e.name)));
            }
            if !call.ctx.config.environments.contains(&e.name) {
                let known: Vec<&str> = call.ctx.config.environments.iter().map(|e| e.as_str()).collect();
                return Err(Error::field(
                    &format!("environments[{i}].name"),
                    format!("unknown environment {:?}; configured: {}", e.name.as_str(), known.join(", ")),
                ));
            }
            let url = e.url.map(|u| url(&format!("environments[{i}].url"), &u)).transpose()?;
            Ok(Environment { name: e.name, url })
        })
        .collect()
}

fn dependencies(deps: Vec<Dependency>) -> Result<Vec<Dependency>> {
    if deps.len() > MAX_DEPENDENCIES {
        return Err(Error::field("dependencies", format!("at most {MAX_DEPENDENCIES} entries")));
    }
    let mut seen = BTreeSet::new();
    for (i, d) in deps.iter().enumerate() {
        if !seen.insert((d.ecosystem, d.package.clone())) {
            return Err(Error::field(
                &format!("dependencies[{i}]"),
                format!("{} ({}) is listed twice", d.package, d.ecosystem),
            ));
        }
    }
    let mut deps = deps;
    deps.sort();
    Ok(deps)
}

fn external_ids(ids: ExternalIds) -> Result<ExternalIds> {
    if let Some(r) = &ids.github_repository {
        let ok = r.split('/').count() == 2 && r.split('/').all(|p| !p.is_empty()) && !r.contains(char::is_whitespace);
        if !ok {
            return Err(Error::field("external_ids.github_repository", "expected owner/name, e.g. acme/payments-api"));
        }
    }
    if let Some(s) = &ids.github_repository_id
        && (s.is_empty() || s.len() > 20 || !s.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(Error::field("external_ids.github_repository_id", "expected GitHub's numeric repository id"));
    }
    if let Some(s) = &ids.pagerduty_service
        && (s.is_empty() || s.len() > 64 || !s.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        return Err(Error::field("external_ids.pagerduty_service", "expected a PagerDuty service id such as PIJ90N7"));
    }
    Ok(ids)
}

pub(crate) async fn create_project(call: &Call<'_>, i: CreateProject) -> Result<Done> {
    if call.ctx.graph.get_project(&i.slug).await?.is_some() {
        return Err(Error::conflict(messages::project_exists(i.slug.as_str())));
    }
    check_project_type(call, "project_type", &i.project_type)?;
    check_team(call, "team", &i.team).await?;
    let mut facts = BTreeMap::new();
    for (key, value) in i.facts.unwrap_or_default() {
        let field = format!("facts.{key}");
        let decl = fact_decl(call, &i.project_type, &key, &field)?;
        let value = check_fact_value(decl, &value).map_err(|m| Error::field(&field, m))?;
        facts.insert(key.clone(), Fact { key, value, updated_at: call.now });
    }
    let envs = match i.environments {
        Some(e) => environments(call, e)?,
        None => call.ctx.config.environments.iter().map(|n| Environment { name: n.clone(), url: None }).collect(),
    };
    let mut project = Project {
        name: match &i.name {
            Some(n) => name("name", n)?,
            None => i.slug.to_string(),
        },
        description: text("description", i.description.as_deref().unwrap_or(""), MAX_DESCRIPTION)?,
        slug: i.slug,
        team: i.team,
        project_type: i.project_type,
        links: links(i.links.unwrap_or_default())?,
        facts,
        environments: envs,
        dependencies: dependencies(i.dependencies.unwrap_or_default())?,
        external_ids: external_ids(i.external_ids.unwrap_or_default())?,
        archived: false,
        score: 0,
        created_at: call.now,
        updated_at: call.now,
    };
    let mut events = vec![
        call.event(EventData::ProjectCreated(payload::ProjectCreated {
            name: project.name.clone(),
            team: project.team.clone(),
            project_type: project.project_type.to_string(),
        }))
        .project(&project.slug),
    ];
    if !project.dependencies.is_empty() {
        let mut e = call
            .event(EventData::DependenciesChanged(payload::DependenciesChanged {
                added: project.dependencies.clone(),
                ..Default::default()
            }))
            .project(&project.slug);
        for d in &project.dependencies {
            e = e.subject(d.package.as_str());
        }
        events.push(e);
    }
    for f in project.facts.values() {
        events.push(
            call.event(EventData::FactSet(payload::FactSet {
                key: f.key.clone(),
                value: f.value.clone(),
                previous: None,
            }))
            .project(&project.slug)
            .subject(f.key.as_str()),
        );
    }
    call.rescore(&mut project, &mut events).await?;
    call.ctx.graph.put_project(&project).await?;
    Ok(Done { output: Output::Project(Box::new(project)), events })
}

fn fact_decl<'c>(
    call: &'c Call<'_>,
    project_type: &ProjectType,
    key: &FactKey,
    field: &str,
) -> Result<&'c crate::config::FactDecl> {
    call.ctx.config.fact_decl(project_type, key).ok_or_else(|| {
        let declared: Vec<&str> = call
            .ctx
            .config
            .project_types
            .get(project_type)
            .map(|t| t.facts.keys().map(|k| k.as_str()).collect())
            .unwrap_or_default();
        Error::field(
            field,
            format!("{key} is not a fact declared for {project_type} projects; declared: {}", declared.join(", ")),
        )
    })
}

pub(crate) async fn update_project(call: &Call<'_>, i: UpdateProject) -> Result<Done> {
    let mut p = call.project(&i.project).await?;
    let mut changes = BTreeMap::new();
    let mut change = |field: &str, from: serde_json::Value, to: serde_json::Value| {
        if from != to {
            changes.insert(field.to_owned(), FromTo { from, to });
        }
    };
    if let Some(n) = &i.name {
        let n = name("name", n)?;
        change("name", json!(p.name), json!(n));
        p.name = n;
    }
    if let Some(d) = &i.description {
        let d = text("description", d, MAX_DESCRIPTION)?;
        change("description", json!(p.description), json!(d));
        p.description = d;
    }
    if let Some(t) = i.team {
        check_team(call, "team", &t).await?;
        change("team", json!(p.team), json!(t));
        p.team = t;
    }
    if let Some(t) = i.project_type {
        check_project_type(call, "project_type", &t)?;
        change("project_type", json!(p.project_type), json!(t));
        p.project_type = t;
    }
    if let Some(l) = i.links {
        let l = links(l)?;
        change("links", json!(p.links), json!(l));
        p.links = l;
    }
    if let Some(e) = i.environments {
        let e = environments(call, e)?;
        change("environments", json!(p.environments), json!(e));
        p.environments = e;
    }
    if let Some(x) = i.external_ids {
        // Given ids replace, absent ones stay, empty ones are removed.
        let merge = |given: Option<String>, old: &Option<String>| match given {
            None => old.clone(),
            Some(v) if v.trim().is_empty() => None,
            Some(v) => Some(v),
        };
        let x = external_ids(ExternalIds {
            github_repository: merge(x.github_repository, &p.external_ids.github_repository),
            github_repository_id: merge(x.github_repository_id, &p.external_ids.github_repository_id),
            pagerduty_service: merge(x.pagerduty_service, &p.external_ids.pagerduty_service),
        })?;
        change("external_ids", json!(p.external_ids), json!(x));
        p.external_ids = x;
    }
    let mut events = Vec::new();
    if !changes.is_empty() {
        p.updated_at = call.now;
        events.push(call.event(EventData::ProjectUpdated(payload::ProjectUpdated { changes })).project(&p.slug));
        call.rescore(&mut p, &mut events).await?;
        call.ctx.graph.put_project(&p).await?;
    }
    Ok(Done { output: Output::Project(Box::new(p)), events })
}

pub(crate) async fn archive_project(call: &Call<'_>, i: ArchiveProject) -> Result<Done> {
    let mut p = call.project(&i.project).await?;
    let mut events = Vec::new();
    if !p.archived {
        p.archived = true;
        p.updated_at = call.now;
        call.ctx.graph.put_project(&p).await?;
        events.push(call.event(EventData::ProjectArchived(payload::ProjectArchived {})).project(&p.slug));
    }
    Ok(Done { output: Output::Project(Box::new(p)), events })
}

pub(crate) async fn set_fact(call: &Call<'_>, i: SetFact) -> Result<Done> {
    // A fact changes neither the edges nor what they are written with (team, archived).
    let mut p = call.project_fields(&i.project).await?;
    let decl = fact_decl(call, &p.project_type, &i.key, "key")?;
    let previous = p.facts.get(&i.key).map(|f| f.value.clone());
    let mut events = Vec::new();
    if i.value.is_null() {
        if p.facts.remove(&i.key).is_some() {
            events.push(
                call.event(EventData::FactRemoved(payload::FactRemoved {
                    key: i.key.clone(),
                    previous: previous.clone(),
                }))
                .project(&p.slug)
                .subject(i.key.as_str()),
            );
        }
    } else {
        let value = check_fact_value(decl, &i.value).map_err(|m| Error::field("value", m))?;
        if previous.as_ref() != Some(&value) {
            events.push(
                call.event(EventData::FactSet(payload::FactSet {
                    key: i.key.clone(),
                    value: value.clone(),
                    previous: previous.clone(),
                }))
                .project(&p.slug)
                .subject(i.key.as_str()),
            );
            p.facts.insert(i.key.clone(), Fact { key: i.key.clone(), value, updated_at: call.now });
        }
    }
    if !events.is_empty() {
        p.updated_at = call.now;
        // Rescored only when the fact can move the score; the periodic
        // rescore keeps the rest current (a push's `last_commit` read the
        // project's builds and incidents for nothing).
        if crate::score::fact_moves_score(decl, previous.as_ref(), p.facts.get(&i.key).map(|f| &f.value)) {
            call.rescore(&mut p, &mut events).await?;
        }
        call.ctx.graph.put_project_fields(&p).await?;
    }
    let fact = p.facts.get(&i.key).cloned();
    Ok(Done { output: Output::Fact(FactChange { project: p.slug, key: i.key, fact, score: p.score }), events })
}

pub(crate) async fn set_dependencies(call: &Call<'_>, i: SetDependencies) -> Result<Done> {
    let mut p = call.project(&i.project).await?;
    let new = dependencies(i.dependencies)?;
    if let Some(eco) = i.ecosystem
        && let Some((n, d)) = new.iter().enumerate().find(|(_, d)| d.ecosystem != eco)
    {
        return Err(Error::field(
            &format!("dependencies[{n}].ecosystem"),
            format!("is {} but only {eco} dependencies are being replaced", d.ecosystem),
        ));
    }
    let in_scope = |d: &Dependency| i.ecosystem.is_none_or(|e| d.ecosystem == e);
    let (changes, events) = replace_dependencies(call, &mut p, in_scope, new).await?;
    Ok(Done { output: Output::Dependencies(changes), events })
}

/// Reads a project's SBOM: its edges replace the project's earlier SBOM
/// edges; a package the project has from another source keeps that edge.
pub(crate) async fn import_sbom(call: &Call<'_>, i: ImportSbom) -> Result<Done> {
    let name = i.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if let Some(n) = name
        && (n.chars().count() > 200 || n.chars().any(char::is_control))
    {
        return Err(Error::field("name", "must be at most 200 characters, without control characters"));
    }
    let source = name.map_or_else(|| "sbom".to_owned(), |n| format!("sbom:{n}"));
    let parsed = crate::import::sbom::parse(&i.sbom, &source).map_err(|e| Error::field("sbom", e))?;
    let mut p = call.project(&i.project).await?;
    let others: BTreeMap<_, _> =
        p.dependencies.iter().filter(|d| !d.from_sbom()).map(|d| ((d.ecosystem, d.package.clone()), d)).collect();
    let (kept, new): (Vec<Dependency>, Vec<Dependency>) =
        parsed.dependencies.into_iter().partition(|d| others.contains_key(&(d.ecosystem, d.package.clone())));
    let imported = new.len();
    let before: BTreeSet<Dependency> = p.dependencies.iter().filter(|d| d.from_sbom()).cloned().collect();
    let unchanged = new.iter().filter(|d| before.contains(*d)).count();
    let (changes, events) = replace_dependencies(call, &mut p, Dependency::from_sbom, new).await?;
    let output = SbomImport {
        project: p.slug,
        format: parsed.format,
        subject: parsed.subject,
        components: parsed.components,
        imported,
        changes,
        unchanged,
        kept: kept.into_iter().map(|d| d.package).collect(),
        skipped: parsed.skipped,
    };
    Ok(Done { output: Output::SbomImported(output), events })
}

/// The most files one `import_manifests` reads, and the largest one.
const MAX_MANIFEST_FILES: usize = 2_000;
const MAX_MANIFEST_BYTES: usize = 5 * 1024 * 1024;

/// Reads a project's manifests and lock files: the edges they give replace
/// those earlier manifest imports and hand edits gave, and any SBOM edge of
/// the same package (a repository's own files are the better word); other
/// SBOM edges stay. One write, or none.
pub(crate) async fn import_manifests(call: &Call<'_>, i: ImportManifests) -> Result<Done> {
    use crate::import::lockfiles;
    if i.files.len() > MAX_MANIFEST_FILES {
        return Err(Error::field("files", format!("at most {MAX_MANIFEST_FILES} files, got {}", i.files.len())));
    }
    let mut skipped = Vec::new();
    let mut files = Vec::new();
    for (n, f) in i.files.into_iter().enumerate() {
        let path = f.path.trim().trim_start_matches("./").to_owned();
        if path.is_empty() || path.starts_with('/') || path.split('/').any(|s| s == "..") || path.len() > 1000 {
            return Err(Error::field(&format!("files[{n}].path"), "must be a relative path inside the repository"));
        }
        if lockfiles::Format::of(&path).is_none() || lockfiles::ignored(&path, lockfiles::DEFAULT_IGNORE) {
            continue;
        }
        if f.text.len() > MAX_MANIFEST_BYTES {
            let reason = format!("{} bytes, over the {MAX_MANIFEST_BYTES} read", f.text.len());
            skipped.push(crate::import::Skipped { what: path, reason });
            continue;
        }
        files.push((path, f.text));
    }
    let (edges, problems) = lockfiles::repository(&files);
    skipped.extend(problems);
    let mut p = call.project(&i.project).await?;
    let read: BTreeSet<(Ecosystem, PackageName)> = edges.iter().map(|d| (d.ecosystem, d.package.clone())).collect();
    let (direct, transitive) =
        (edges.iter().filter(|d| !d.transitive).count(), edges.iter().filter(|d| d.transitive).count());
    let in_scope = |d: &Dependency| !d.from_sbom() || read.contains(&(d.ecosystem, d.package.clone()));
    let (changes, events) = replace_dependencies(call, &mut p, in_scope, edges).await?;
    let output = ManifestImport {
        project: p.slug,
        files: files.into_iter().map(|(path, _)| path).collect(),
        direct,
        transitive,
        changes,
        skipped,
    };
    Ok(Done { output: Output::ManifestsImported(output), events })
}

/// Replaces the project's edges that `in_scope` picks with `new` and saves
/// it when anything differs (a version, or what an edge carries); the
/// `dependencies_changed` event lists what was added, removed and moved.
async fn replace_dependencies(
    call: &Call<'_>,
    p: &mut Project,
    in_scope: impl Fn(&Dependency) -> bool,
    new: Vec<Dependency>,
) -> Result<(DependencyChanges, Vec<crate::event::Event>)> {
    let key = |d: &Dependency| (d.ecosystem, d.package.clone());
    let old: BTreeMap<_, _> = p.dependencies.iter().filter(|d| in_scope(d)).map(|d| (key(d), d.clone())).collect();
    let newm: BTreeMap<_, _> = new.iter().map(|d| (key(d), d.clone())).collect();
    let added: Vec<Dependency> = newm.iter().filter(|(k, _)| !old.contains_key(k)).map(|(_, d)| d.clone()).collect();
    let removed: Vec<Dependency> = old.iter().filter(|(k, _)| !newm.contains_key(k)).map(|(_, d)| d.clone()).collect();
    let changed: Vec<VersionChange> = newm
        .iter()
        .filter_map(|(k, d)| {
            old.get(k).filter(|o| o.version != d.version).map(|o| VersionChange {
                ecosystem: d.ecosystem,
                package: d.package.clone(),
                from: o.version.clone(),
                to: d.version.clone(),
            })
        })
        .collect();
    let mut events = Vec::new();
    if !(added.is_empty() && removed.is_empty() && changed.is_empty()) {
        let mut e = call
            .event(EventData::DependenciesChanged(payload::DependenciesChanged {
                added: added.clone(),
                removed: removed.clone(),
                changed: changed.clone(),
            }))
            .project(&p.slug);
        for name in added.iter().chain(&removed).map(|d| &d.package).chain(changed.iter().map(|c| &c.package)) {
            e = e.subject(name.as_str());
        }
        events.push(e);
    }
    let mut all: Vec<Dependency> = p.dependencies.iter().filter(|d| !in_scope(d)).cloned().collect();
    all.extend(new);
    all.sort();
    if all != p.dependencies {
        p.dependencies = all;
        p.updated_at = call.now;
        call.ctx.graph.put_project(p).await?;
    }
    Ok((DependencyChanges { project: p.slug.clone(), added, removed, changed }, events))
}

async fn members(call: &Call<'_>, members: Vec<UserName>) -> Result<Vec<UserName>> {
    let mut seen = BTreeSet::new();
    for (i, m) in members.iter().enumerate() {
        if !seen.insert(m) {
            return Err(Error::field(&format!("members[{i}]"), format!("{m} is listed twice")));
        }
        if call.ctx.graph.get_user(m).await?.is_none() {
            return Err(Error::field(&format!("members[{i}]"), messages::not_found("user", m.as_str())));
        }
    }
    Ok(members)
}

fn channels(channels: Vec<ChatChannel>) -> Result<Vec<ChatChannel>> {
    for (i, c) in channels.iter().enumerate() {
        if c.id.trim().is_empty() || c.id.len() > 64 || c.id.contains(char::is_whitespace) {
            return Err(Error::field(
                &format!("channels[{i}].id"),
                "expected the platform's channel id, e.g. C024BE91L",
            ));
        }
    }
    Ok(channels)
}

pub(crate) async fn create_team(call: &Call<'_>, i: CreateTeam) -> Result<Done> {
    if call.ctx.graph.get_team(&i.slug).await?.is_some() {
        return Err(Error::conflict(messages::team_exists(i.slug.as_str())));
    }
    let team = Team {
        name: match &i.name {
            Some(n) => name("name", n)?,
            None => i.slug.to_string(),
        },
        members: members(call, i.members.unwrap_or_default()).await?,
        channels: channels(i.channels.unwrap_or_default())?,
        slug: i.slug,
        created_at: call.now,
        updated_at: call.now,
    };
    call.ctx.graph.put_team(&team).await?;
    let created = payload::TeamCreated { team: team.slug.clone(), name: team.name.clone() };
    let event = call.event(EventData::TeamCreated(created)).subject(team.slug.as_str());
    Ok(Done { output: Output::Team(team), events: vec![event] })
}

pub(crate) async fn update_team(call: &Call<'_>, i: UpdateTeam) -> Result<Done> {
    let mut team = call.ctx.graph.get_team(&i.team).await?.ok_or_else(|| Error::not_found("team", &i.team))?;
    let mut changes = BTreeMap::new();
    if let Some(n) = &i.name {
        let n = name("name", n)?;
        if n != team.name {
            changes.insert("name".into(), FromTo { from: json!(team.name), to: json!(n) });
            team.name = n;
        }
    }
    if i.members.is_some() && (i.add_members.is_some() || i.remove_members.is_some()) {
        return Err(Error::field("members", "give the whole list, or add_members/remove_members, not both"));
    }
    // Adding and removing people edit the list the team has now.
    let edited = (i.add_members.is_some() || i.remove_members.is_some()).then(|| {
        let mut list = team.members.clone();
        for u in i.add_members.into_iter().flatten() {
            if !list.contains(&u) {
                list.push(u);
            }
        }
        let removed = i.remove_members.unwrap_or_default();
        list.retain(|u| !removed.contains(u));
        list
    });
    if let Some(m) = i.members.or(edited) {
        let m = members(call, m).await?;
        if m != team.members {
            changes.insert("members".into(), FromTo { from: json!(team.members), to: json!(m) });
            team.members = m;
        }
    }
    if let Some(c) = i.channels {
        let c = channels(c)?;
        if c != team.channels {
            changes.insert("channels".into(), FromTo { from: json!(team.channels), to: json!(c) });
            team.channels = c;
        }
    }
    let mut events = Vec::new();
    if !changes.is_empty() {
        team.updated_at = call.now;
        call.ctx.graph.put_team(&team).await?;
        events.push(
            call.event(EventData::TeamUpdated(payload::TeamUpdated::Changed { team: team.slug.clone(), changes }))
                .subject(team.slug.as_str()),
        );
    }
    Ok(Done { output: Output::Team(team), events })
}
