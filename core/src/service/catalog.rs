//! `import_catalog`: a Backstage catalog's plan ([`crate::import::backstage`])
//! turned into changes through the same writes the operations make — people
//! first (teams list them), then teams, then projects — each recorded as its
//! own operation would record it. A dry run decides the same changes and
//! makes none.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::{Call, Done, write};
use crate::error::{Error, Result};
use crate::event::{Event, EventData, payload};
use crate::ids::{FactKey, ProjectType, TeamSlug, UserName};
use crate::import::Skipped;
use crate::import::backstage::{self, ProjectPlan, Rules};
use crate::model::{ExternalIds, Role, User};
use crate::ops::inputs::*;
use crate::ops::output::*;

/// The most entities one call reads.
const MAX_ENTITIES: usize = 20_000;

pub(crate) async fn import_catalog(call: &Call<'_>, i: ImportCatalog) -> Result<Done> {
    if i.entities.len() > MAX_ENTITIES {
        let got = i.entities.len();
        return Err(Error::field("entities", format!("at most {MAX_ENTITIES} entities in one import, got {got}")));
    }
    let dry_run = i.dry_run.unwrap_or(false);
    let config = &call.ctx.config;
    let types: Vec<&ProjectType> = config.project_types.keys().collect();
    let Some(default_type) = config.import.default_type(&types).cloned() else {
        return Err(Error::bad_input(None, "no project types are configured, so no project can be imported"));
    };
    // A catalog type mapped to an undeclared project type falls back to the default.
    let catalog_types: BTreeMap<String, ProjectType> = config
        .import
        .catalog_types
        .iter()
        .filter(|(_, t)| types.contains(t))
        .map(|(k, t)| (k.clone(), t.clone()))
        .collect();
    let declared: BTreeMap<ProjectType, BTreeSet<FactKey>> =
        config.project_types.iter().map(|(t, c)| (t.clone(), c.facts.keys().cloned().collect())).collect();
    let rules = Rules {
        types: &catalog_types,
        default_type: &default_type,
        default_team: &config.import.default_team,
        declared: &declared,
    };
    let entities: Vec<(String, Value)> = i
        .entities
        .into_iter()
        .enumerate()
        .map(|(n, e)| {
            let origin = e["metadata"]["annotations"]["backstage.io/managed-by-location"]
                .as_str()
                .map(|l| l.trim_start_matches("file:").trim_start_matches("url:").to_owned())
                .unwrap_or_else(|| format!("entities[{n}]"));
            (origin, e)
        })
        .collect();
    let plan = backstage::plan(&entities, &rules);
    let mut report = CatalogImport {
        dry_run,
        entities: entities.len(),
        created: Vec::new(),
        updated: Vec::new(),
        unchanged: Vec::new(),
        skipped: plan.skipped.clone(),
        notes: plan.notes.clone(),
    };
    let mut events = Vec::new();

    // People: matched by email first (so a person who signed in through
    // Slack or single sign-on is not duplicated), then by name.
    let existing = call.ctx.graph.list_users().await?;
    let mut renamed: BTreeMap<UserName, UserName> = BTreeMap::new();
    for u in &plan.users {
        let by_email = u
            .email
            .as_ref()
            .and_then(|e| existing.iter().find(|x| x.email.as_deref().is_some_and(|m| m.eq_ignore_ascii_case(e))));
        if let Some(x) = existing.iter().find(|x| x.name == u.name).or(by_email) {
            renamed.insert(u.name.clone(), x.name.clone());
            report.unchanged.push(format!("user {}", x.name));
            continue;
        }
        report.created.push(format!("user {}", u.name));
        if !dry_run {
            let user = User {
                display_name: u.display_name.chars().take(200).collect(),
                email: u.email.clone().filter(|e| e.contains('@') && e.len() <= 254),
                ..User::new(u.name.clone(), Role::Viewer)
            };
            call.ctx.graph.put_user(&user).await?;
            let created =
                payload::UserCreated { user: user.name.clone(), role: user.role, by: Some("backstage".into()) };
            events.push(call.event(EventData::UserCreated(created)).subject(user.name.as_str()));
        }
    }

    // Teams: the catalog's Groups (members as the catalog says), and teams
    // named only as owners.
    let mut wanted: BTreeMap<TeamSlug, (String, Option<Vec<UserName>>, String)> = BTreeMap::new();
    for t in &plan.teams {
        let mut members: Vec<UserName> = Vec::new();
        for m in t.members.iter().map(|m| renamed.get(m).unwrap_or(m)) {
            if !members.contains(m) {
                members.push(m.clone());
            }
        }
        wanted.insert(t.slug.clone(), (t.name.clone(), Some(members), t.from.clone()));
    }
    for slug in &plan.owner_teams {
        wanted.entry(slug.clone()).or_insert_with(|| (slug.to_string(), None, "named as an owner".into()));
    }
    if plan.projects.iter().any(|p| p.team == config.import.default_team) {
        let slug = config.import.default_team.clone();
        wanted.entry(slug.clone()).or_insert_with(|| (slug.to_string(), None, "import.default_team".into()));
    }
    let mut missing_teams: BTreeSet<TeamSlug> = BTreeSet::new();
    for (slug, (name, members, from)) in wanted {
        match call.ctx.graph.get_team(&slug).await? {
            Some(team) => {
                let same = members.as_ref().is_none_or(|m| sorted(m) == sorted(&team.members)) && team.name == name;
                if same || members.is_none() {
                    report.unchanged.push(format!("team {slug}"));
                    continue;
                }
                report.updated.push(format!("team {slug}"));
                if !dry_run {
                    let update = UpdateTeam {
                        team: slug,
                        name: Some(name),
                        members,
                        add_members: None,
                        remove_members: None,
                        channels: None,
                    };
                    kept(write::update_team(call, update).await, &from, &mut report, &mut events)?;
                }
            }
            None if config.import.create_teams => {
                report.created.push(format!("team {slug}"));
                if !dry_run {
                    let create = CreateTeam { slug, name: Some(name), members, channels: None };
                    kept(write::create_team(call, create).await, &from, &mut report, &mut events)?;
                }
            }
            None => {
                let reason = "not created: import.create_teams is off".to_owned();
                report.notes.push(Skipped { what: format!("team {slug} ({from})"), reason });
                missing_teams.insert(slug);
            }
        }
    }

    for mut p in plan.projects {
        if missing_teams.contains(&p.team) {
            if missing_teams.contains(&config.import.default_team) {
                let reason = format!("its team {} does not exist and import.create_teams is off", p.team);
                report.skipped.push(Skipped { what: p.from.clone(), reason });
                continue;
            }
            p.team = config.import.default_team.clone();
        }
        project(call, p, dry_run, &mut report, &mut events).await?;
    }
    Ok(Done { output: Output::CatalogImported(report), events })
}

/// One write's events kept; its bad input reported as a skip (the write
/// changed nothing), so one entity never stops the rest. Store errors stop.
fn kept(result: Result<Done>, from: &str, report: &mut CatalogImport, events: &mut Vec<Event>) -> Result<()> {
    match result {
        Ok(done) => {
            events.extend(done.events);
            Ok(())
        }
        Err(Error::BadInput { field, message }) => {
            let reason = field.map_or(message.clone(), |f| format!("{f}: {message}"));
            report.skipped.push(Skipped { what: from.to_owned(), reason });
            Ok(())
        }
        Err(e) => Err(e),
    }
}

fn sorted(v: &[UserName]) -> Vec<&UserName> {
    let mut v: Vec<&UserName> = v.iter().collect();
    v.sort();
    v
}

/// One Component: created, or the project it already is (by its repository,
/// else by slug) brought in line with the catalog.
async fn project(
    call: &Call<'_>,
    p: ProjectPlan,
    dry_run: bool,
    report: &mut CatalogImport,
    events: &mut Vec<Event>,
) -> Result<()> {
    let by_repo = match &p.github_repository {
        Some(repo) => call.ctx.graph.project_by_external_id("github_repository", repo).await?,
        None => None,
    };
    let slug = by_repo.unwrap_or_else(|| p.slug.clone());
    let ids = ExternalIds {
        github_repository: p.github_repository.clone(),
        pagerduty_service: p.pagerduty_service.clone(),
        ..Default::default()
    };
    let facts: BTreeMap<FactKey, Value> = p.facts.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let Some(existing) = call.ctx.graph.get_project(&slug).await? else {
        if dry_run {
            report.created.push(format!("project {}", p.slug));
            return Ok(());
        }
        let create = CreateProject {
            slug: p.slug.clone(),
            name: Some(p.name),
            description: Some(p.description),
            team: p.team,
            project_type: p.project_type,
            links: Some(p.links),
            facts: Some(facts),
            environments: None,
            dependencies: None,
            external_ids: Some(ids),
        };
        let skipped = report.skipped.len();
        kept(write::create_project(call, create).await, &p.from, report, events)?;
        if report.skipped.len() == skipped {
            report.created.push(format!("project {}", p.slug));
        }
        return Ok(());
    };
    let ids_differ = (ids.github_repository.is_some()
        && ids.github_repository != existing.external_ids.github_repository)
        || (ids.pagerduty_service.is_some() && ids.pagerduty_service != existing.external_ids.pagerduty_service);
    let differs = existing.name != p.name
        || existing.description != p.description
        || existing.team != p.team
        || existing.project_type != p.project_type
        || existing.links != p.links
        || ids_differ;
    let fact_changes: Vec<(FactKey, Value)> = p
        .facts
        .iter()
        .filter(|(k, v)| existing.facts.get(*k).is_none_or(|f| f.value.to_string() != **v))
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    if !differs && fact_changes.is_empty() {
        report.unchanged.push(format!("project {slug}"));
        return Ok(());
    }
    report.updated.push(format!("project {slug}"));
    if dry_run {
        return Ok(());
    }
    if differs {
        let update = UpdateProject {
            project: slug.clone(),
            name: Some(p.name),
            description: Some(p.description),
            team: Some(p.team),
            project_type: Some(p.project_type),
            links: Some(p.links),
            environments: None,
            external_ids: ids_differ.then_some(ids),
        };
        kept(write::update_project(call, update).await, &p.from, report, events)?;
    }
    for (key, value) in fact_changes {
        kept(write::set_fact(call, SetFact { project: slug.clone(), key, value }).await, &p.from, report, events)?;
    }
    Ok(())
}
