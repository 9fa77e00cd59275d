//! Backstage catalogs read into teams, people and projects. Kinds:
//! Component → project (name, title, description, `spec.type` through the
//! configured type map, `spec.lifecycle` and `spec.system` as facts when the
//! project type declares them, `spec.owner` → team, links, and the
//! `github.com/project-slug` and `pagerduty.com/service-id` annotations);
//! Group → team (display name, members); User → a viewer keyed by email
//! (catalogs set team membership, never roles). Location entities are
//! followed by whoever reads the files ([`locations`]); System, Domain, API,
//! Resource and other kinds are reported as not imported. Entity references
//! (`group:default/team-a`, `team-a`) resolve with Backstage's defaults.
//! Placeholders (`$text`, `$json`, `$yaml`) are refused only in the fields
//! read here, with a message saying which.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::Skipped;
use crate::ids::{FactKey, ProjectSlug, ProjectType, TeamSlug, UserName};
use crate::model::Link;

/// The YAML documents of one catalog file (multi-document YAML), each a JSON
/// value; empty documents are left out.
pub fn documents(text: &str) -> Result<Vec<Value>, String> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).map_err(|e| e.to_string())?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

/// Where a `Location` entity points: its `spec.target` and `spec.targets`,
/// as written (relative paths or URLs). Empty for other kinds.
pub fn locations(entity: &Value) -> Vec<String> {
    if entity["kind"].as_str() != Some("Location") {
        return Vec::new();
    }
    let spec = &entity["spec"];
    let mut out: Vec<String> = spec["target"].as_str().map(str::to_owned).into_iter().collect();
    out.extend(spec["targets"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned));
    out
}

/// How catalog values become Switchboard's (from `[import]`).
#[derive(Clone, Debug)]
pub struct Rules<'a> {
    /// Backstage `spec.type` → project type.
    pub types: &'a BTreeMap<String, ProjectType>,
    pub default_type: &'a ProjectType,
    pub default_team: &'a TeamSlug,
    /// Fact keys each project type declares (only those are kept).
    pub declared: &'a BTreeMap<ProjectType, BTreeSet<FactKey>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TeamPlan {
    pub slug: TeamSlug,
    pub name: String,
    pub members: Vec<UserName>,
    /// The entity it came from (`group:default/team-a in acme/team-a-group.yaml`).
    pub from: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct UserPlan {
    pub name: UserName,
    pub display_name: String,
    pub email: Option<String>,
    pub from: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProjectPlan {
    pub slug: ProjectSlug,
    pub name: String,
    pub description: String,
    pub team: TeamSlug,
    pub project_type: ProjectType,
    pub links: Vec<Link>,
    pub facts: BTreeMap<FactKey, String>,
    pub github_repository: Option<String>,
    pub pagerduty_service: Option<String>,
    pub from: String,
}

/// What a catalog says, in Switchboard's terms; nothing written yet.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    pub teams: Vec<TeamPlan>,
    pub users: Vec<UserPlan>,
    pub projects: Vec<ProjectPlan>,
    /// Teams named as owners that no Group in the catalog defines.
    pub owner_teams: BTreeSet<TeamSlug>,
    pub skipped: Vec<Skipped>,
    /// Notes that do not skip anything (a fact left out, an owner replaced).
    pub notes: Vec<Skipped>,
    /// Facts the catalog has that a project type does not declare: how many components.
    undeclared: BTreeMap<(ProjectType, FactKey), usize>,
}

/// A reference `[kind:][namespace/]name` with Backstage's defaults.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct EntityRef {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl EntityRef {
    pub fn parse(text: &str, default_kind: &str) -> Self {
        let text = text.trim();
        let (kind, rest) = match text.split_once(':') {
            Some((k, r)) if !k.contains('/') => (k.to_ascii_lowercase(), r),
            _ => (default_kind.to_owned(), text),
        };
        let (namespace, name) = match rest.split_once('/') {
            Some((ns, n)) => (ns.to_ascii_lowercase(), n.to_owned()),
            None => ("default".to_owned(), rest.to_owned()),
        };
        Self { kind, namespace, name }
    }
}

/// A Backstage name made a slug: lowercase, other characters to single
/// dashes; outside the default namespace the namespace leads
/// (`development-guest`). None when nothing is left.
pub fn slug(namespace: &str, name: &str) -> Option<String> {
    let full = if namespace == "default" { name.to_owned() } else { format!("{namespace}-{name}") };
    let out = crate::ids::slugify(&full);
    (!out.is_empty()).then_some(out)
}

/// A user name from a Backstage name (`frank.tiernan` stays as it is).
fn user_name(namespace: &str, name: &str) -> Option<UserName> {
    let full = if namespace == "default" { name.to_owned() } else { format!("{namespace}-{name}") };
    let cleaned: String = full.chars().filter(|c| c.is_alphanumeric() || "._@-".contains(*c)).take(64).collect();
    UserName::new(cleaned).ok()
}

/// A string field, refusing placeholders with the field's name.
fn text(v: &Value, field: &str) -> Result<Option<String>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
        Value::Object(o) if o.keys().any(|k| k.starts_with('$')) => {
            let which = o.keys().find(|k| k.starts_with('$')).cloned().unwrap_or_default();
            Err(format!(
                "{field} uses the placeholder {which}, which Switchboard does not resolve; write the value itself"
            ))
        }
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        _ => Err(format!("{field} is not text")),
    }
}

fn texts(v: &Value, field: &str) -> Result<Vec<String>, String> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => {
            items.iter().enumerate().filter_map(|(i, x)| text(x, &format!("{field}[{i}]")).transpose()).collect()
        }
        other => Ok(text(other, field)?.into_iter().collect()),
    }
}

/// Maps `entities` (each with where it came from) to a plan.
pub fn plan(entities: &[(String, Value)], rules: &Rules<'_>) -> Plan {
    let mut out = Plan::default();
    let mut teams: BTreeMap<EntityRef, TeamPlan> = BTreeMap::new();
    let mut users: BTreeMap<EntityRef, UserPlan> = BTreeMap::new();
    let mut memberships: Vec<(EntityRef, EntityRef)> = Vec::new(); // (group, user)
    let mut components = Vec::new();
    for (origin, entity) in entities {
        let kind = entity["kind"].as_str().unwrap_or_default().to_owned();
        let name = entity["metadata"]["name"].as_str().unwrap_or_default().to_owned();
        let namespace = entity["metadata"]["namespace"].as_str().unwrap_or("default").to_ascii_lowercase();
        let at = format!("{}:{namespace}/{name} in {origin}", kind.to_ascii_lowercase());
        if kind.is_empty() || name.is_empty() {
            out.skipped.push(Skipped {
                what: origin.clone(),
                reason: "not an entity: it has no kind or metadata.name".into(),
            });
            continue;
        }
        let me = EntityRef { kind: kind.to_ascii_lowercase(), namespace: namespace.clone(), name: name.clone() };
        let result = match kind.as_str() {
            "Group" => group(entity, &me, &at).map(|(t, members)| {
                memberships.extend(members.into_iter().map(|m| (me.clone(), m)));
                teams.insert(me.clone(), t);
            }),
            "User" => user(entity, &me, &at).map(|(u, groups)| {
                memberships.extend(groups.into_iter().map(|g| (g, me.clone())));
                users.insert(me.clone(), u);
            }),
            "Component" => {
                components.push((me.clone(), at.clone(), entity));
                Ok(())
            }
            "Location" => Ok(()),
            other => Err(format!("kind {other} is not imported")),
        };
        if let Err(reason) = result {
            out.skipped.push(Skipped { what: at, reason });
        }
    }
    // Members: a group's `members` and a user's `memberOf`, for people the catalog defines.
    for (group, member) in memberships {
        let (Some(u), Some(t)) = (users.get(&member), teams.get_mut(&group)) else {
            continue;
        };
        if !t.members.contains(&u.name) {
            t.members.push(u.name.clone());
        }
    }
    for (me, at, entity) in components {
        match component(entity, &me, &at, &teams, rules, &mut out) {
            Ok(p) => out.projects.push(p),
            Err(reason) => out.skipped.push(Skipped { what: at, reason }),
        }
    }
    // One note per fact a project type does not declare, not one per component.
    for ((project_type, key), n) in std::mem::take(&mut out.undeclared) {
        out.notes.push(Skipped {
            what: format!("spec.{key} of {n} component(s)"),
            reason: format!(
                "not kept: {project_type} projects do not declare a `{key}` fact \
                 (add it under [project_types.{project_type}.facts] and import again)"
            ),
        });
    }
    out.teams = teams.into_values().collect();
    out.users = users.into_values().collect();
    out
}

fn group(entity: &Value, me: &EntityRef, at: &str) -> Result<(TeamPlan, Vec<EntityRef>), String> {
    let slug = slug(&me.namespace, &me.name).ok_or("its name makes no team slug")?;
    let slug = TeamSlug::new(slug).map_err(|e| e.to_string())?;
    let spec = &entity["spec"];
    let name = text(&spec["profile"]["displayName"], "spec.profile.displayName")?
        .or(text(&entity["metadata"]["title"], "metadata.title")?)
        .unwrap_or_else(|| me.name.clone());
    let members = texts(&spec["members"], "spec.members")?.iter().map(|m| EntityRef::parse(m, "user")).collect();
    Ok((TeamPlan { slug, name, members: Vec::new(), from: at.to_owned() }, members))
}

fn user(entity: &Value, me: &EntityRef, at: &str) -> Result<(UserPlan, Vec<EntityRef>), String> {
    let name = user_name(&me.namespace, &me.name).ok_or("its name makes no user name")?;
    let profile = &entity["spec"]["profile"];
    let email = text(&profile["email"], "spec.profile.email")?;
    let display_name = text(&profile["displayName"], "spec.profile.displayName")?.unwrap_or_else(|| me.name.clone());
    let groups = texts(&entity["spec"]["memberOf"], "spec.memberOf")?
        .iter()
        .map(|g| {
            let mut r = EntityRef::parse(g, "group");
            // A bare group name in memberOf is in the user's own namespace.
            if !g.contains('/') {
                r.namespace = me.namespace.clone();
            }
            r
        })
        .collect();
    Ok((UserPlan { name, display_name, email, from: at.to_owned() }, groups))
}

fn component(
    entity: &Value,
    me: &EntityRef,
    at: &str,
    teams: &BTreeMap<EntityRef, TeamPlan>,
    rules: &Rules<'_>,
    out: &mut Plan,
) -> Result<ProjectPlan, String> {
    let project = slug(&me.namespace, &me.name).ok_or("its name makes no project slug")?;
    let project = ProjectSlug::new(project).map_err(|e| e.to_string())?;
    let metadata = &entity["metadata"];
    let spec = &entity["spec"];
    let name = text(&metadata["title"], "metadata.title")?.unwrap_or_else(|| me.name.clone());
    let description = text(&metadata["description"], "metadata.description")?.unwrap_or_default();
    let kind = text(&spec["type"], "spec.type")?;
    let project_type = match kind.as_deref().and_then(|k| rules.types.get(k)) {
        Some(t) => t.clone(),
        None => {
            if let Some(k) = &kind {
                let reason = format!("spec.type {k} is not in import.catalog_types; made a {}", rules.default_type);
                out.notes.push(Skipped { what: at.to_owned(), reason });
            }
            rules.default_type.clone()
        }
    };
    let owner = text(&spec["owner"], "spec.owner")?;
    let team = match owner.as_deref().map(|o| EntityRef::parse(o, "group")) {
        Some(r) if r.kind == "group" => match teams.get(&r) {
            Some(t) => t.slug.clone(),
            None => {
                let s = slug(&r.namespace, &r.name).and_then(|s| TeamSlug::new(s).ok());
                match s {
                    Some(s) => {
                        out.owner_teams.insert(s.clone());
                        s
                    }
                    None => rules.default_team.clone(),
                }
            }
        },
        Some(r) => {
            let reason = format!("owned by {}:{} (not a group); given to team {}", r.kind, r.name, rules.default_team);
            out.notes.push(Skipped { what: at.to_owned(), reason });
            rules.default_team.clone()
        }
        None => {
            let reason = format!("no spec.owner; given to team {}", rules.default_team);
            out.notes.push(Skipped { what: at.to_owned(), reason });
            rules.default_team.clone()
        }
    };
    let declared = rules.declared.get(&project_type);
    let mut facts = BTreeMap::new();
    for key in ["lifecycle", "system"] {
        let Some(value) = text(&spec[key], &format!("spec.{key}"))? else { continue };
        let fact = FactKey::new(key).map_err(|e| e.to_string())?;
        if declared.is_some_and(|d| d.contains(&fact)) {
            facts.insert(fact, value);
        } else {
            *out.undeclared.entry((project_type.clone(), fact)).or_default() += 1;
        }
    }
    let annotations = &metadata["annotations"];
    let github_repository =
        text(&annotations["github.com/project-slug"], "metadata.annotations.github.com/project-slug")?;
    let pagerduty_service =
        text(&annotations["pagerduty.com/service-id"], "metadata.annotations.pagerduty.com/service-id")?;
    let mut links = Vec::new();
    for (i, l) in metadata["links"].as_array().into_iter().flatten().enumerate() {
        let Some(url) = text(&l["url"], &format!("metadata.links[{i}].url"))? else { continue };
        let title = text(&l["title"], &format!("metadata.links[{i}].title"))?.unwrap_or_else(|| url.clone());
        links.push(Link { title, url });
    }
    Ok(ProjectPlan {
        slug: project,
        name,
        description,
        team,
        project_type,
        links,
        facts,
        github_repository,
        pagerduty_service,
        from: at.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_take_backstages_defaults() {
        assert_eq!(
            EntityRef::parse("team-a", "group"),
            EntityRef { kind: "group".into(), namespace: "default".into(), name: "team-a".into() }
        );
        assert_eq!(EntityRef::parse("user:guest", "group").kind, "user");
        let r = EntityRef::parse("group:development/ops", "user");
        assert_eq!((r.kind.as_str(), r.namespace.as_str(), r.name.as_str()), ("group", "development", "ops"));
        assert_eq!(slug("default", "Team_A  big"), Some("team-a-big".into()));
        assert_eq!(slug("development", "guest"), Some("development-guest".into()));
        assert_eq!(slug("default", "!!!"), None);
    }
}
