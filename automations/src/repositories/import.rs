//! One repository to one project, the same way from every door — `import
//! github`, the installation and repository webhooks, and the refresh after
//! a push: found by GitHub's repository id (renames and transfers keep the
//! project), else by its `owner/name`; otherwise made, with its team and type
//! from the repository's own files by the `[import]` rules (docs/onboarding.md);
//! then its facts and dependencies brought up to date. A repository's
//! dependencies change in one write or not at all.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Value, json};
use switchboard_core::config::{ArchivedRepositories, DependencySource};
use switchboard_core::ids::{FactKey, ProjectType, slugify};
use switchboard_core::import::backstage;
use switchboard_core::model::Project;
use switchboard_core::policy::Caller;
use switchboard_core::{Error, Service};

use crate::github::GitHubApp;
use crate::github::files::{self, Reading, RepositoryFiles};

/// What happened to one repository.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    Updated,
    #[default]
    Unchanged,
    Skipped,
}

/// One repository's line in an import's report.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub repository: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    pub outcome: Outcome,
    /// Why it was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The owning team of a project made now, and which rule chose it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_from: Option<String>,
    /// What changed, a line each (`repository acme/a → acme/b`, `fact repo_language = Rust`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
    /// The dependency import's own report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dependencies: Option<Value>,
    /// What did not stop the import but should be known (a file skipped,
    /// a truncated listing, a team not created).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// GitHub API calls made.
    pub calls: usize,
    /// Skipped by a rule of `[import]` (a fork, an archived repository), not
    /// for a failure.
    #[serde(skip)]
    pub by_rule: bool,
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Unchanged => "unchanged",
            Self::Skipped => "skipped",
        }
    }
}

impl Report {
    fn new(repository: &str) -> Self {
        Self { repository: repository.to_owned(), ..Default::default() }
    }

    fn skip(mut self, reason: impl Into<String>) -> Self {
        self.outcome = Outcome::Skipped;
        self.reason = Some(reason.into());
        self
    }

    fn changed(&mut self, line: String) {
        if self.outcome == Outcome::Unchanged {
            self.outcome = Outcome::Updated;
        }
        self.changes.push(line);
    }

    /// The report in one line, for progress output and logs:
    /// `acme/billing → billing: created, …` or `acme/fork: skipped, …`.
    pub fn line(&self) -> String {
        match (&self.outcome, &self.project) {
            (Outcome::Skipped, _) | (_, None) => format!("{}: {}", self.repository, self.summary()),
            (_, Some(project)) => format!("{} → {project}: {}", self.repository, self.summary()),
        }
    }

    /// What happened, without naming the repository (the Imports page's column).
    pub fn summary(&self) -> String {
        let mut line = match self.outcome {
            Outcome::Skipped => format!("skipped, {}", self.reason.as_deref().unwrap_or("no reason")),
            Outcome::Created => format!(
                "created, team {} ({}), type {} ({})",
                self.team.as_deref().unwrap_or("-"),
                self.team_from.as_deref().unwrap_or("-"),
                self.project_type.as_deref().unwrap_or("-"),
                self.type_from.as_deref().unwrap_or("-"),
            ),
            Outcome::Updated | Outcome::Unchanged => self.outcome.as_str().to_owned(),
        };
        if let Some(d) = &self.dependencies {
            let n = |k: &str| d["changes"][k].as_array().map_or(0, Vec::len);
            line.push_str(&format!(
                "; dependencies {} direct, {} transitive ({} added, {} changed, {} removed)",
                d["direct"].as_u64().unwrap_or(0),
                d["transitive"].as_u64().unwrap_or(0),
                n("added"),
                n("changed"),
                n("removed")
            ));
        }
        for note in &self.notes {
            line.push_str(&format!("; {note}"));
        }
        line
    }
}

/// Keeps `report` as its repository's latest import (the Import page,
/// `list_imports`); a failure to keep it is logged, not fatal.
pub async fn record(service: &Service, report: &Report) {
    let import = switchboard_core::ops::output::RepositoryImport {
        repository: report.repository.clone(),
        project: report.project.clone(),
        outcome: report.outcome.as_str().to_owned(),
        summary: report.summary(),
        at: service.now(),
    };
    if let Err(e) = service.record_import(&import).await {
        tracing::warn!(repository = %report.repository, error = %e, "cannot keep the import's report");
    }
}

/// Imports each of `repositories` (`owner/name`) through the App, four at a
/// time (the client's cap and rate-limit handling pace the calls), calling
/// `each` with its position and report as each finishes, in order; each
/// report is recorded (`list_imports`) unless it is a dry run.
pub async fn many(
    service: &Service,
    gh: &GitHubApp,
    caller: &Caller,
    repositories: &[String],
    dry_run: bool,
    each: impl Fn(usize, &Report),
) -> Vec<Report> {
    use futures_util::StreamExt;
    futures_util::stream::iter(repositories.iter().map(|full| repository(service, gh, caller, full, dry_run)))
        .buffered(4)
        .enumerate()
        .then(|(i, r)| {
            each(i, &r);
            async move {
                if !dry_run {
                    record(service, &r).await;
                }
                r
            }
        })
        .collect()
        .await
}

/// Imports `repository` (`owner/name`) through the App: reads it, then
/// [`apply`]. A dry run reads but writes nothing.
pub async fn repository(service: &Service, gh: &GitHubApp, caller: &Caller, full: &str, dry_run: bool) -> Report {
    let config = &service.config().import;
    let ignore = config.ignore_dirs();
    let how = Reading { manifests: config.dependency_source == DependencySource::Files, ignore: &ignore };
    let read = match files::read_with(gh, full, &how).await {
        Ok(r) => r,
        Err(e) => return Report::new(full).skip(format!("GitHub: {}", e.message)),
    };
    apply(service, Some(gh), caller, &read.info.clone(), Some(read), dry_run).await
}

/// Brings `info` (a repository as GitHub describes it: at least `full_name`
/// and `name`; `id`, `fork`, `archived`, `topics`, `language`… when known)
/// into the graph. `read` is what [`files::read_with`] found in it; without it
/// (no App) only the project itself is made or updated.
pub async fn apply(
    service: &Service,
    gh: Option<&GitHubApp>,
    caller: &Caller,
    info: &Value,
    read: Option<RepositoryFiles>,
    dry_run: bool,
) -> Report {
    let full = info["full_name"].as_str().unwrap_or_default();
    let mut report = Report::new(full);
    report.calls = read.as_ref().map_or(0, |r| r.calls);
    match apply_inner(service, gh, caller, info, read.as_ref(), dry_run, &mut report).await {
        Ok(()) => report,
        Err(Error::BadInput { message, .. }) => report.skip(message),
        Err(e) => report.skip(e.to_string()),
    }
}

async fn apply_inner(
    service: &Service,
    gh: Option<&GitHubApp>,
    caller: &Caller,
    info: &Value,
    read: Option<&RepositoryFiles>,
    dry_run: bool,
    report: &mut Report,
) -> Result<(), Error> {
    let config = &service.config().import;
    let (Some(full), Some(_)) = (info["full_name"].as_str(), info["name"].as_str()) else {
        *report = std::mem::take(report).skip("GitHub gave no name for it");
        return Ok(());
    };
    let id = info["id"].as_u64().map(|i| i.to_string());
    let archived = info["archived"].as_bool().unwrap_or(false);
    let graph = service.graph();
    let mut existing = match &id {
        Some(id) => graph.project_by_external_id("github_repository_id", id).await?,
        None => None,
    };
    if existing.is_none() {
        existing = graph.project_by_external_id("github_repository", full).await?;
    }
    if existing.is_none() {
        if info["fork"].as_bool().unwrap_or(false) && !config.forks {
            *report = std::mem::take(report).skip("a fork (import.forks is off)");
            report.by_rule = true;
            return Ok(());
        }
        if archived && config.archived == ArchivedRepositories::Skip {
            *report = std::mem::take(report).skip("archived (import.archived is \"skip\")");
            report.by_rule = true;
            return Ok(());
        }
    }
    if let Some(r) = read {
        if r.truncated {
            report.notes.push("GitHub cut the file listing short; some manifests may be missing".into());
        }
        for (path, why) in &r.skipped {
            report.notes.push(format!("{path} not read: {why}"));
        }
    }
    let slug = match existing {
        Some(slug) => {
            report.project = Some(slug.to_string());
            let p = graph.get_project(&slug).await?.ok_or_else(|| Error::not_found("project", slug.as_str()))?;
            follow(service, caller, &p, full, id.as_deref(), dry_run, report).await?;
            p
        }
        None => match create(service, gh, caller, info, read, dry_run, report).await? {
            Some(p) => p,
            None => return Ok(()),
        },
    };
    if archived && !slug.archived {
        if !dry_run {
            service.execute_json(caller, "archive_project", json!({"project": slug.slug})).await?;
        }
        report.changed("archived, as its repository is".into());
    } else if !archived && slug.archived {
        report.notes.push("its repository is active again but the project stays archived".into());
    }
    if let Some(r) = read {
        facts(service, caller, &slug, info, r, dry_run, report).await?;
        dependencies(service, gh, caller, &slug, full, r, dry_run, report).await?;
    }
    Ok(())
}

/// A known project follows its repository's new name and learns its id.
async fn follow(
    service: &Service,
    caller: &Caller,
    p: &Project,
    full: &str,
    id: Option<&str>,
    dry_run: bool,
    report: &mut Report,
) -> Result<(), Error> {
    let ids = &p.external_ids;
    let renamed = ids.github_repository.as_deref() != Some(full);
    let new_id = id.is_some() && ids.github_repository_id.as_deref() != id;
    if !renamed && !new_id {
        return Ok(());
    }
    if !dry_run {
        let mut x = json!({"github_repository": full});
        if let Some(id) = id {
            x["github_repository_id"] = json!(id);
        }
        service.execute_json(caller, "update_project", json!({"project": p.slug, "external_ids": x})).await?;
    }
    if renamed {
        report.changed(format!("repository {} → {full}", ids.github_repository.as_deref().unwrap_or("none")));
    } else {
        report.changed("repository id recorded".into());
    }
    Ok(())
}

/// Makes the project of a repository no project has. `None` when its name
/// makes no slug (the report says so).
async fn create(
    service: &Service,
    gh: Option<&GitHubApp>,
    caller: &Caller,
    info: &Value,
    read: Option<&RepositoryFiles>,
    dry_run: bool,
    report: &mut Report,
) -> Result<Option<Project>, Error> {
    let full = info["full_name"].as_str().unwrap_or_default();
    let name = info["name"].as_str().unwrap_or_default();
    let Some(slug) = free_slug(service, full, name, info["id"].as_u64()).await? else {
        *report = std::mem::take(report).skip(format!("{name:?} makes no project slug"));
        return Ok(None);
    };
    let component = read.and_then(|r| catalog_component(service, full, r, report));
    let plan = component.as_ref().map(|c| &c.plan);
    let (team, team_from) = owner(service, gh, caller, full, info, read, plan, dry_run, report).await?;
    let (project_type, type_from) = kind(service, info, component.as_ref());
    report.project = Some(slug.clone());
    report.outcome = Outcome::Created;
    report.team = Some(team.clone());
    report.team_from = Some(team_from);
    report.project_type = Some(project_type.clone());
    report.type_from = Some(type_from);
    let mut ids = json!({"github_repository": full});
    if let Some(id) = info["id"].as_u64() {
        ids["github_repository_id"] = json!(id.to_string());
    }
    let mut links = vec![json!({"title": "Repository", "url": format!("https://github.com/{full}")})];
    let mut description = info["description"].as_str().unwrap_or_default().to_owned();
    if let Some(c) = plan {
        if let Some(pd) = &c.pagerduty_service {
            ids["pagerduty_service"] = json!(pd);
        }
        links.extend(c.links.iter().map(|l| json!({"title": l.title, "url": l.url})));
        if description.is_empty() {
            description.clone_from(&c.description);
        }
    }
    if dry_run {
        return Ok(Some(planned(&slug, &team, &project_type)?));
    }
    let args = json!({"slug": slug, "name": name, "team": team, "project_type": project_type,
                      "description": description, "external_ids": ids, "links": links});
    match service.execute_json(caller, "create_project", args).await {
        Ok(_) => {}
        // Made meanwhile by another replica's import of the same repository.
        Err(Error::Conflict { .. }) => report.outcome = Outcome::Unchanged,
        Err(e) => return Err(e),
    }
    let slug = slug.parse().map_err(|_| Error::field("name", "makes no slug"))?;
    let made = service.graph().get_project(&slug).await?;
    let made = made.ok_or_else(|| Error::not_found("project", slug.as_str()))?;
    let mut set = false;
    for (key, value) in component.map(|c| c.plan.facts).unwrap_or_default() {
        if made.facts.get(&key).is_none_or(|f| f.value.to_string() != value) {
            service.execute_json(caller, "set_fact", json!({"project": made.slug, "key": key, "value": value})).await?;
            set = true;
        }
    }
    // Read again only when the catalog's facts changed it.
    if set {
        return Ok(Some(service.graph().get_project(&made.slug).await?.unwrap_or(made)));
    }
    Ok(Some(made))
}

/// A project as a dry run would make it, so facts and dependencies can be planned.
fn planned(slug: &str, team: &str, project_type: &str) -> Result<Project, Error> {
    let bad = |e: switchboard_core::ids::IdError| Error::bad_input(None, e.to_string());
    Ok(Project {
        slug: slug.parse().map_err(bad)?,
        name: slug.to_owned(),
        description: String::new(),
        team: team.parse().map_err(bad)?,
        project_type: project_type.parse().map_err(bad)?,
        links: vec![],
        facts: BTreeMap::new(),
        environments: vec![],
        dependencies: vec![],
        external_ids: Default::default(),
        archived: false,
        score: 0,
        created_at: 0,
        updated_at: 0,
    })
}

/// The slug for a new repository's project: from its name; taken, with the
/// owner in front; taken again, with GitHub's id behind.
async fn free_slug(service: &Service, full: &str, name: &str, id: Option<u64>) -> Result<Option<String>, Error> {
    let owner = full.split('/').next().unwrap_or_default();
    let mut candidates = vec![slugify(name), slugify(&format!("{owner}-{name}"))];
    if let Some(id) = id {
        candidates.push(slugify(&format!("{owner}-{name}-{id}")));
    }
    for c in candidates {
        let Ok(slug) = c.parse() else { continue };
        if service.graph().get_project(&slug).await?.is_none() {
            return Ok(Some(c));
        }
    }
    Ok(None)
}

/// The root catalog's Component for this repository (the one annotated
/// with it, else the only one), in Switchboard's terms, with the
/// `spec.type` it declares. Groups and Users in a repository's catalog are
/// not read: anyone who can push to it could otherwise change who is in a team.
fn catalog_component(service: &Service, full: &str, read: &RepositoryFiles, report: &mut Report) -> Option<Component> {
    let (path, text) = read.catalog.as_ref()?;
    let documents = match backstage::documents(text) {
        Ok(d) => d,
        Err(e) => {
            report.notes.push(format!("{path} not read: {e}"));
            return None;
        }
    };
    let mut components: Vec<Value> = documents.into_iter().filter(|d| d["kind"] == "Component").collect();
    let names_this = |d: &Value| {
        d["metadata"]["annotations"]["github.com/project-slug"].as_str().is_some_and(|r| r.eq_ignore_ascii_case(full))
    };
    let chosen = match (components.iter().position(names_this), components.len()) {
        (Some(i), _) => components.swap_remove(i),
        (None, 1) => components.pop()?,
        (None, 0) => return None,
        (None, n) => {
            report.notes.push(format!("{path} has {n} components and none names {full}; its owner is not used"));
            return None;
        }
    };
    let spec_type = chosen["spec"]["type"].as_str().map(str::to_owned);
    let config = service.config();
    let types: Vec<&ProjectType> = config.project_types.keys().collect();
    let default_type = config.import.default_type(&types)?;
    let declared: BTreeMap<ProjectType, BTreeSet<FactKey>> =
        config.project_types.iter().map(|(t, c)| (t.clone(), c.facts.keys().cloned().collect())).collect();
    let rules = backstage::Rules {
        types: &config.import.catalog_types,
        default_type,
        default_team: &config.import.default_team,
        declared: &declared,
    };
    let plan = backstage::plan(&[(path.clone(), chosen)], &rules).projects.pop()?;
    Some(Component { plan, spec_type })
}

/// A repository's own catalog Component.
struct Component {
    plan: backstage::ProjectPlan,
    /// Its `spec.type` as written.
    spec_type: Option<String>,
}

/// The owning team of a new project, by the first rule that names one:
/// the catalog's owner, CODEOWNERS, a GitHub team with admin or maintain
/// permission, a `team-<slug>` topic; else the default. A team named but
/// missing is made when `import.create_teams` is on.
#[allow(clippy::too_many_arguments)]
async fn owner(
    service: &Service,
    gh: Option<&GitHubApp>,
    caller: &Caller,
    full: &str,
    info: &Value,
    read: Option<&RepositoryFiles>,
    component: Option<&backstage::ProjectPlan>,
    dry_run: bool,
    report: &mut Report,
) -> Result<(String, String), Error> {
    let config = service.config();
    let mut named: Option<(String, String)> = None;
    if let Some(c) = component
        && c.team != config.import.default_team
    {
        named = Some((c.team.to_string(), "catalog-info.yaml".into()));
    }
    if named.is_none()
        && let Some((path, text)) = read.and_then(|r| r.codeowners.as_ref())
    {
        named = files::codeowners_team(text).map(|t| (slugify(&t), path.clone()));
    }
    if named.is_none()
        && read.is_some()
        && let Some(gh) = gh
    {
        report.calls += 1;
        match files::admin_teams(gh, full).await {
            Ok(teams) => named = teams.first().map(|t| (slugify(t), "GitHub team permission".into())),
            Err(e) => {
                report.notes.push(format!("GitHub teams not read ({}); give the App Administration: read", e.message))
            }
        }
    }
    if named.is_none() {
        let topics = info["topics"].as_array().into_iter().flatten().filter_map(Value::as_str);
        named = topics.filter_map(|t| t.strip_prefix("team-")).map(|t| (slugify(t), "topic".into())).next();
    }
    let fallback = match &config.webhooks.new_repositories {
        Some(n) => (n.team.clone(), "webhooks.new_repositories".to_owned()),
        None => (config.import.default_team.to_string(), "import.default_team".to_owned()),
    };
    let (team, from) = match named {
        Some((t, from)) if !t.is_empty() => (t, from),
        _ => fallback.clone(),
    };
    let Ok(slug) = team.parse() else {
        report.notes.push(format!("{team:?} ({from}) is not a team slug"));
        return Ok(fallback);
    };
    if service.graph().get_team(&slug).await?.is_some() {
        return Ok((team, from));
    }
    if !config.import.create_teams {
        if team == fallback.0 {
            return Err(Error::bad_input(
                None,
                format!("team {team} ({from}) does not exist and import.create_teams is off"),
            ));
        }
        report.notes.push(format!("team {team} ({from}) does not exist and import.create_teams is off"));
        return default_owner(service, fallback).await;
    }
    if dry_run {
        report.notes.push(format!("team {team} would be created"));
    } else {
        match service.execute_json(caller, "create_team", json!({"slug": team})).await {
            Ok(_) => report.notes.push(format!("team {team} created")),
            Err(Error::Conflict { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok((team, from))
}

/// The default team, which must exist when teams are not created.
async fn default_owner(service: &Service, fallback: (String, String)) -> Result<(String, String), Error> {
    let slug = fallback.0.parse().map_err(|_| Error::bad_input(None, format!("{} is not a team slug", fallback.0)))?;
    if service.graph().get_team(&slug).await?.is_none() {
        return Err(Error::bad_input(
            None,
            format!("team {} ({}) does not exist and import.create_teams is off", fallback.0, fallback.1),
        ));
    }
    Ok(fallback)
}

/// The type of a new project: the catalog's `spec.type` (through
/// `import.catalog_types`), a topic naming a declared type, the language
/// (through `import.language_types`); else the default.
fn kind(service: &Service, info: &Value, component: Option<&Component>) -> (String, String) {
    let config = service.config();
    let declared = |t: &str| config.project_types.keys().any(|k| k.as_str() == t);
    if let Some(c) = component
        && c.spec_type.as_deref().and_then(|t| config.import.catalog_types.get(t)).is_some()
    {
        return (c.plan.project_type.to_string(), "catalog-info.yaml".into());
    }
    let topics = info["topics"].as_array().into_iter().flatten().filter_map(Value::as_str);
    if let Some(t) = topics.into_iter().find(|t| declared(t)) {
        return (t.to_owned(), "topic".into());
    }
    if let Some(lang) = info["language"].as_str()
        && let Some((_, t)) = config.import.language_types.iter().find(|(l, _)| l.eq_ignore_ascii_case(lang))
    {
        return (t.to_string(), format!("language {lang}"));
    }
    if let Some(n) = &config.webhooks.new_repositories {
        return (n.project_type.clone(), "webhooks.new_repositories".into());
    }
    let types: Vec<&ProjectType> = config.project_types.keys().collect();
    let t = config.import.default_type(&types).map(|t| t.to_string()).unwrap_or_default();
    (t, "import.default_type".into())
}

/// The repository facts `[import] repository_facts` names, set where they differ.
async fn facts(
    service: &Service,
    caller: &Caller,
    p: &Project,
    info: &Value,
    read: &RepositoryFiles,
    dry_run: bool,
    report: &mut Report,
) -> Result<(), Error> {
    let wanted = &service.config().import.repository_facts;
    let text = |v: &Value| v.as_str().filter(|s| !s.is_empty() && *s != "NOASSERTION").map(|s| json!(s));
    let values = [
        ("repo_language", text(&info["language"])),
        ("repo_default_branch", text(&info["default_branch"])),
        ("repo_last_commit", info["pushed_at"].as_str().and_then(|t| t.get(..10)).map(|d| json!(d))),
        ("repo_license", text(&info["license"]["spdx_id"])),
        ("repo_has_codeowners", Some(json!(read.codeowners.is_some()))),
        ("repo_has_ci", Some(json!(read.has_ci))),
        ("repo_has_readme", Some(json!(read.has_readme))),
    ];
    for (key, value) in values {
        let Some(value) = value else { continue };
        if !wanted.iter().any(|k| k.as_str() == key) {
            continue;
        }
        let shown = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
        if p.facts.iter().any(|(k, f)| k.as_str() == key && f.value.to_string() == shown) {
            continue;
        }
        if !dry_run {
            service.execute_json(caller, "set_fact", json!({"project": p.slug, "key": key, "value": value})).await?;
        }
        report.changed(format!("fact {key} = {shown}"));
    }
    Ok(())
}

/// The dependencies, from the files read or GitHub's dependency graph.
#[allow(clippy::too_many_arguments)]
async fn dependencies(
    service: &Service,
    gh: Option<&GitHubApp>,
    caller: &Caller,
    p: &Project,
    full: &str,
    read: &RepositoryFiles,
    dry_run: bool,
    report: &mut Report,
) -> Result<(), Error> {
    let (op, args) = match service.config().import.dependency_source {
        DependencySource::Files => {
            let from_files = p.dependencies.iter().any(|d| d.source.as_deref().is_some_and(|s| !s.starts_with("sbom")));
            if read.files.is_empty() && !from_files {
                return Ok(());
            }
            let files: Vec<Value> = read.files.iter().map(|(path, text)| json!({"path": path, "text": text})).collect();
            ("import_manifests", json!({"project": p.slug, "files": files}))
        }
        DependencySource::GithubSbom => {
            let Some(gh) = gh else { return Ok(()) };
            report.calls += 1;
            match files::dependency_graph_sbom(gh, full).await {
                Ok(Some(sbom)) => ("import_sbom", json!({"project": p.slug, "name": "github", "sbom": sbom})),
                Ok(None) => {
                    report.notes.push("GitHub has no dependency graph for it (is it enabled?)".into());
                    return Ok(());
                }
                Err(e) => {
                    report.notes.push(format!("dependency graph not read: {}", e.message));
                    return Ok(());
                }
            }
        }
    };
    if dry_run {
        return Ok(());
    }
    let out = service.execute_json(caller, op, args).await?.to_json();
    let n = |k: &str| out["changes"][k].as_array().map_or(0, Vec::len);
    if n("added") + n("changed") + n("removed") > 0 {
        report.changed(format!(
            "dependencies: {} added, {} changed, {} removed",
            n("added"),
            n("changed"),
            n("removed")
        ));
    }
    if let Some(skipped) = out["skipped"].as_array() {
        for s in skipped {
            let (what, why) = (s["what"].as_str().unwrap_or("?"), s["reason"].as_str().unwrap_or("?"));
            report.notes.push(format!("{what} not read: {why}"));
        }
    }
    report.dependencies = Some(out);
    Ok(())
}
