//! Read operations.

use super::{Call, Done};
use crate::error::{Error, Result};
use crate::event::EventQuery;
use crate::ids::{ProjectSlug, TeamSlug};
use crate::model::{Ecosystem, IncidentStatus, ProjectSummary};
use crate::ops::inputs::*;
use crate::ops::output::*;
use crate::score;
use crate::store::{DependentsQuery, DeploymentQuery, IncidentQuery, ProjectQuery};

/// Clamps an optional limit into `1..=max`, with a default.
pub(crate) fn limit(given: Option<u32>, default: usize, max: usize, field: &str) -> Result<usize> {
    match given {
        None => Ok(default),
        Some(0) => Err(Error::field(field, format!("must be between 1 and {max}"))),
        Some(n) if n as usize > max => Err(Error::field(field, format!("must be between 1 and {max}"))),
        Some(n) => Ok(n as usize),
    }
}

pub(crate) async fn get_project(call: &Call<'_>, i: GetProject) -> Result<Done> {
    let g = &call.ctx.graph;
    let project = call.project(&i.project).await?;
    let team = g.get_team(&project.team).await?;
    let current = g.current_deployments(&project.slug).await?;
    let environments = project
        .environments
        .iter()
        .map(|e| EnvStatus {
            name: e.name.clone(),
            url: e.url.clone(),
            current: current.iter().find(|d| d.environment == e.name).cloned(),
        })
        .collect();
    let recent_deployments = g
        .list_deployments(&DeploymentQuery { project: Some(project.slug.clone()), limit: 10, ..Default::default() })
        .await?;
    let mut open_incidents = Vec::new();
    for status in [IncidentStatus::Triggered, IncidentStatus::Acknowledged] {
        let q = IncidentQuery {
            project: Some(project.slug.clone()),
            status: Some(status),
            limit: 20,
            ..Default::default()
        };
        open_incidents.extend(g.list_incidents(&q).await?);
    }
    open_incidents.sort_by_key(|i| std::cmp::Reverse(i.opened_at));
    // Read once: the score searches them, the page shows the newest ten.
    let mut recent_builds = g.list_builds(&project.slug, score::BUILDS_SEARCHED).await?;
    let inputs = score::gather(g.as_ref(), &call.ctx.config, &project, call.now, Some(&recent_builds)).await?;
    recent_builds.truncate(10);
    let score = score::compute(&call.ctx.config, &project, &inputs, call.now);
    let last_import = match &project.external_ids.github_repository {
        Some(repo) => super::refresh_queue::latest_import(call, repo).await?,
        None => None,
    };
    Ok(Done::read(Output::ProjectDetail(Box::new(ProjectDetail {
        project,
        team,
        environments,
        score,
        recent_deployments,
        open_incidents,
        recent_builds,
        last_import,
    }))))
}

pub(crate) async fn find_projects(call: &Call<'_>, i: FindProjects) -> Result<Done> {
    let text = match i.query.as_deref().map(str::trim) {
        Some(q) if q.chars().count() > 200 => {
            return Err(Error::field("query", "must be at most 200 characters"));
        }
        Some("") | None => None,
        Some(q) => Some(q.to_owned()),
    };
    let fact = match i.fact {
        None => None,
        Some(f) => {
            let v = match &f.value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => {
                    return Err(Error::field("fact.value", "expected a string, number or boolean"));
                }
            };
            Some((f.key, v))
        }
    };
    let q = ProjectQuery {
        text,
        team: i.team,
        project_type: i.project_type,
        uses: i.uses.map(|u| (u.package, u.version)),
        fact,
        include_archived: false,
        limit: limit(i.limit, 50, 500, "limit")?,
        offset: 0,
    };
    let projects = call.ctx.graph.find_projects(&q).await?;
    let list = match &q.text {
        // Meaning joins words where only words and the team or type narrow the search.
        Some(text) if q.uses.is_none() && q.fact.is_none() => by_meaning(call, &q, text, projects).await?,
        _ => ProjectList { projects, by_meaning: Vec::new(), note: None },
    };
    Ok(Done::read(Output::Projects(list)))
}

/// Projects found by meaning that join a search at most: each not matched
/// by its words is read from the graph, and past the first few dozen
/// nearest, meaning says little (the projects page asks for 200 a keystroke).
const MEANING_CANDIDATES: usize = 50;

/// Weight of a rank in reciprocal-rank fusion: the usual 60 keeps one list's
/// first place from drowning the other's.
const FUSION_K: f32 = 60.0;

/// `by_words` ranked together with the projects nearest in meaning to
/// `text` (reciprocal-rank fusion; a word match weighs a little more, so a
/// project named in the question stays first).
async fn by_meaning(
    call: &Call<'_>,
    q: &ProjectQuery,
    text: &str,
    by_words: Vec<ProjectSummary>,
) -> Result<ProjectList> {
    let near = match super::vectors::similar(
        call.ctx,
        crate::semantic::VectorKind::Project,
        text,
        q.limit.clamp(20, MEANING_CANDIDATES),
    )
    .await
    {
        Ok(Some(near)) => near,
        Ok(None) => return Ok(ProjectList { projects: by_words, by_meaning: Vec::new(), note: None }),
        Err(e) => {
            tracing::warn!(error = %e, "semantic search failed; matching words only");
            let note = Some(format!("Matched words only: {e}"));
            return Ok(ProjectList { projects: by_words, by_meaning: Vec::new(), note });
        }
    };
    let mut score: std::collections::HashMap<ProjectSlug, f32> = std::collections::HashMap::new();
    for (rank, p) in by_words.iter().enumerate() {
        *score.entry(p.slug.clone()).or_default() += 1.2 / (FUSION_K + rank as f32);
    }
    let worded: std::collections::HashSet<ProjectSlug> = by_words.iter().map(|p| p.slug.clone()).collect();
    let mut projects = by_words;
    let mut added = Vec::new();
    for (rank, (key, _)) in near.iter().enumerate() {
        let Ok(slug) = ProjectSlug::new(key) else { continue };
        if !worded.contains(&slug) {
            // Vectors can lag a change by a few seconds: the graph says what is true now.
            let Some(p) = call.ctx.graph.get_project(&slug).await? else { continue };
            let fits = !p.archived
                && q.team.as_ref().is_none_or(|t| *t == p.team)
                && q.project_type.as_ref().is_none_or(|t| *t == p.project_type);
            if !fits {
                continue;
            }
            projects.push(ProjectSummary::from(&p));
            added.push(slug.clone());
        }
        *score.entry(slug).or_default() += 1.0 / (FUSION_K + rank as f32);
    }
    projects.sort_by(|a, b| score[&b.slug].total_cmp(&score[&a.slug]).then_with(|| a.slug.cmp(&b.slug)));
    projects.truncate(q.limit);
    added.retain(|s| projects.iter().any(|p| &p.slug == s));
    Ok(ProjectList { projects, by_meaning: added, note: None })
}

pub(crate) async fn dependents(call: &Call<'_>, i: DependentsInput) -> Result<Done> {
    let q = DependentsQuery {
        package: i.package.clone(),
        version: i.version,
        ecosystem: i.ecosystem,
        limit: limit(i.limit, 200, 5000, "limit")?,
        direct_only: i.direct_only.unwrap_or(false),
    };
    let dependents = call.ctx.graph.dependents(&q).await?;
    let direct_only = q.direct_only;
    Ok(Done::read(Output::Dependents(DependentsOutput { package: i.package, direct_only, dependents })))
}

pub(crate) async fn get_dependency(call: &Call<'_>, i: GetDependency) -> Result<Done> {
    let p = call.project(&i.project).await?;
    // Package names are compared as ecosystems do: PyPI's normalized, others as written.
    let wanted = crate::import::purl::normalize_pypi(i.package.as_str());
    let edges = p
        .dependencies
        .into_iter()
        .filter(|d| i.ecosystem.is_none_or(|e| d.ecosystem == e))
        .filter(|d| {
            d.package == i.package
                || (d.ecosystem == Ecosystem::Pypi && crate::import::purl::normalize_pypi(d.package.as_str()) == wanted)
        })
        .collect();
    Ok(Done::read(Output::Dependency(DependencyDetail { project: p.slug, package: i.package, edges })))
}

/// `redis 7`, `redis@7.2`, `redis v7` → (`redis`, Some(`7`)).
fn parse_subject(s: &str) -> Result<(String, Option<String>)> {
    let s = s.trim();
    if s.is_empty() || s.len() > 214 {
        return Err(Error::field("subject", "must be a package or fact name, optionally with a version: redis 7"));
    }
    let (name, version) = match s.rsplit_once(['@', ' ']) {
        Some((n, v)) if !n.trim().is_empty() && !v.trim().is_empty() => (n.trim(), Some(v.trim())),
        _ => (s, None),
    };
    let version = version.map(|v| v.trim_start_matches(['v', 'V', '^', '~', '=']).to_owned());
    Ok((name.to_lowercase(), version.filter(|v| !v.is_empty())))
}

/// Whether `version` is `prefix` or starts with it at a component boundary.
fn version_matches(version: &str, prefix: &str) -> bool {
    let v = version.trim_start_matches(['v', 'V', '^', '~', '=']);
    v == prefix || (v.starts_with(prefix) && v[prefix.len()..].starts_with(['.', '-', '+']))
}

/// Whether `event` gave the project `name` at a version starting with `prefix`.
fn event_reaches(event: &crate::event::Event, name: &str, prefix: &str) -> bool {
    use crate::event::EventData;
    match event.data() {
        Ok(EventData::DependenciesChanged(p)) => {
            let named = |package: &str| package.eq_ignore_ascii_case(name);
            p.added.iter().any(|d| named(d.package.as_str()) && version_matches(d.version.as_str(), prefix))
                || p.changed.iter().any(|c| named(c.package.as_str()) && version_matches(c.to.as_str(), prefix))
        }
        Ok(EventData::FactSet(p)) => version_matches(&p.value.to_string(), prefix),
        _ => false,
    }
}

pub(crate) async fn project_history(call: &Call<'_>, i: ProjectHistory) -> Result<Done> {
    let project = call.project(&i.project).await?;
    let subject = i.subject.as_deref().map(parse_subject).transpose()?;
    let since = i.since.map(|t| t.resolve(call.now));
    let until = i.until.map(|t| t.resolve(call.now));
    if let (Some(s), Some(u)) = (since, until)
        && s >= u
    {
        return Err(Error::field("until", "must be after `since`"));
    }
    let limit = limit(i.limit, 100, 1000, "limit")?;
    let q = EventQuery {
        project: Some(project.slug.clone()),
        kinds: i.kinds.unwrap_or_default(),
        subject: subject.as_ref().map(|(n, _)| n.clone()),
        since,
        until,
        // With a version filter, matching happens here: read more than we return.
        limit: if subject.as_ref().is_some_and(|s| s.1.is_some()) { 10_000 } else { limit },
    };
    let mut events = call.ctx.log.query(&q).await?;
    let mut first = None;
    if let Some((name, version)) = &subject {
        if let Some(prefix) = version {
            events.retain(|e| event_reaches(e, name, prefix));
        }
        first = events.last().cloned();
    }
    events.truncate(limit);
    Ok(Done::read(Output::History(History {
        project: project.slug,
        subject: i.subject.map(|s| s.trim().to_owned()),
        events,
        first,
    })))
}

/// How far back a list with an `until` reads before dropping what came after it.
const UNTIL_SCAN: usize = 5000;

pub(crate) async fn list_deployments(call: &Call<'_>, i: ListDeployments) -> Result<Done> {
    if let Some(p) = &i.project {
        call.project(p).await?;
    }
    let wanted = limit(i.limit, 50, 1000, "limit")?;
    let until = i.until.map(|t| t.resolve(call.now));
    // With an end, read further back and drop what started after it.
    let q = DeploymentQuery {
        project: i.project,
        environment: i.environment,
        since: i.since.map(|t| t.resolve(call.now)),
        limit: if until.is_some() { UNTIL_SCAN } else { wanted },
    };
    let mut deployments = call.ctx.graph.list_deployments(&q).await?;
    if let Some(u) = until {
        deployments.retain(|d| d.started_at < u);
        deployments.truncate(wanted);
    }
    Ok(Done::read(Output::Deployments(DeploymentList { deployments })))
}

pub(crate) async fn list_incidents(call: &Call<'_>, i: ListIncidents) -> Result<Done> {
    if let Some(p) = &i.project {
        call.project(p).await?;
    }
    if let Some(t) = &i.team {
        team_exists(call, t).await?;
    }
    let wanted = limit(i.limit, 50, 1000, "limit")?;
    let until = i.until.map(|t| t.resolve(call.now));
    let mut q = IncidentQuery {
        project: i.project,
        team: i.team,
        status: None,
        since: i.since.map(|t| t.resolve(call.now)),
        limit: if until.is_some() { UNTIL_SCAN } else { wanted },
    };
    let incidents = match i.status {
        None => call.ctx.graph.list_incidents(&q).await?,
        Some(filter) => {
            // One query per status, merged newest first (`open` is two).
            let mut all = Vec::new();
            for s in filter.statuses() {
                q.status = Some(*s);
                all.extend(call.ctx.graph.list_incidents(&q).await?);
            }
            all.sort_by(|a, b| b.opened_at.cmp(&a.opened_at).then_with(|| a.id.cmp(&b.id)));
            all
        }
    };
    let mut incidents = incidents;
    if let Some(u) = until {
        incidents.retain(|x| x.opened_at < u);
    }
    incidents.truncate(wanted);
    Ok(Done::read(Output::Incidents(IncidentList { incidents })))
}

async fn team_exists(call: &Call<'_>, t: &TeamSlug) -> Result<crate::model::Team> {
    call.ctx.graph.get_team(t).await?.ok_or_else(|| Error::not_found("team", t))
}

pub(crate) async fn project_score(call: &Call<'_>, i: ProjectScore) -> Result<Done> {
    let project = call.project(&i.project).await?;
    let inputs = score::gather(call.ctx.graph.as_ref(), &call.ctx.config, &project, call.now, None).await?;
    Ok(Done::read(Output::Score(score::compute(&call.ctx.config, &project, &inputs, call.now))))
}

pub(crate) async fn get_team(call: &Call<'_>, i: GetTeam) -> Result<Done> {
    let team = team_exists(call, &i.team).await?;
    let mut members = Vec::new();
    for m in &team.members {
        if let Some(u) = call.ctx.graph.get_user(m).await? {
            members.push(u);
        }
    }
    let projects = call
        .ctx
        .graph
        .find_projects(&ProjectQuery { team: Some(team.slug.clone()), limit: 1000, ..Default::default() })
        .await?;
    Ok(Done::read(Output::TeamDetail(Box::new(TeamDetail { team, members, projects }))))
}

pub(crate) async fn list_teams(call: &Call<'_>) -> Result<Done> {
    let mut teams = Vec::new();
    for team in call.ctx.graph.list_teams().await? {
        let q = ProjectQuery { team: Some(team.slug.clone()), ..Default::default() };
        let project_count = call.ctx.graph.count_projects(&q).await?;
        teams.push(TeamSummary { team, project_count });
    }
    Ok(Done::read(Output::Teams(TeamList { teams })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_parse() {
        assert_eq!(parse_subject("redis 7").unwrap(), ("redis".into(), Some("7".into())));
        assert_eq!(parse_subject("Redis@v7.2").unwrap(), ("redis".into(), Some("7.2".into())));
        assert_eq!(parse_subject("@types/node").unwrap(), ("@types/node".into(), None));
        assert_eq!(parse_subject("tier").unwrap(), ("tier".into(), None));
        assert!(parse_subject("  ").is_err());
    }

    #[test]
    fn versions_match_on_boundaries() {
        assert!(version_matches("7.2.4", "7"));
        assert!(version_matches("^7.2", "7.2"));
        assert!(!version_matches("70.1", "7"));
        assert!(version_matches("v7", "7"));
    }
}
