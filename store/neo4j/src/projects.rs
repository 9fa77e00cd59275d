//! Projects in Cypher: the upsert that replaces a project's `OWNED_BY` and
//! `USES` relationships, and the queries over them (filters, full-text
//! search, dependents, package names). `graph.rs` holds the rest of
//! `GraphStore`.

use crate::bolt::{Query, Value as BoltType, query};
use switchboard_core::ids::*;
use switchboard_core::model::*;
use switchboard_core::store::*;

use crate::graph::{count, text};
use crate::search::{index_query, search_text};
use crate::{Neo4jGraph, corrupt, limit, map, to_json};

/// A project's properties for `UPSERT_PROJECTS`.
fn project_row(p: &Project) -> BoltType {
    let facts: Vec<String> = p.facts.values().map(|f| format!("{}={}", f.key, f.value)).collect();
    let fact_values: Vec<String> = p.facts.values().map(|f| f.value.to_string()).collect();
    let mut uses: Vec<String> = Vec::with_capacity(p.dependencies.len() * 2);
    for d in &p.dependencies {
        uses.push(d.package.to_string());
        uses.push(format!("{} {}", d.package, d.version));
    }
    map([
        ("slug", p.slug.as_str().into()),
        ("name", p.name.as_str().into()),
        ("description", p.description.as_str().into()),
        ("score", i64::from(p.score).into()),
        ("team", p.team.as_str().into()),
        ("project_type", p.project_type.as_str().into()),
        ("archived", p.archived.into()),
        ("github_repository", p.external_ids.github_repository.clone().into()),
        ("github_repository_id", p.external_ids.github_repository_id.clone().into()),
        ("pagerduty_service", p.external_ids.pagerduty_service.clone().into()),
        ("facts", facts.into()),
        ("uses", uses.into()),
        ("search_text", search_text(p.slug.as_str(), &p.name, &p.description, &fact_values).into()),
        ("doc", to_json(p).into()),
    ])
}

fn dependency_rows(p: &Project) -> impl Iterator<Item = BoltType> + '_ {
    p.dependencies.iter().map(|d| {
        map([
            ("project", p.slug.as_str().into()),
            ("team", p.team.as_str().into()),
            ("archived", p.archived.into()),
            ("package", d.package.as_str().into()),
            ("ecosystem", d.ecosystem.as_str().into()),
            ("version", d.version.as_str().into()),
            ("transitive", d.transitive.into()),
        ])
    })
}

/// The statements that upsert projects: properties, then the owning team and
/// the packages used, replacing the relationships the project had.
pub(crate) fn upsert_projects(projects: &[Project]) -> Vec<Query> {
    let rows: Vec<BoltType> = projects.iter().map(project_row).collect();
    let deps: Vec<BoltType> = projects.iter().flat_map(dependency_rows).collect();
    vec![
        query(
            "UNWIND $rows AS r
             MERGE (p:Project {slug: r.slug})
             SET p.name = r.name, p.description = r.description, p.score = r.score, p.team = r.team, p.project_type = r.project_type, p.archived = r.archived,
                 p.github_repository = r.github_repository, p.github_repository_id = r.github_repository_id, p.pagerduty_service = r.pagerduty_service,
                 p.facts = r.facts, p.uses = r.uses, p.search_text = r.search_text, p.doc = r.doc",
        )
        .param("rows", rows.clone()),
        query(
            "UNWIND $rows AS r
             MATCH (p:Project {slug: r.slug})-[old]->()
             DELETE old",
        )
        .param("rows", rows.clone()),
        query(
            "UNWIND $rows AS r
             MATCH (p:Project {slug: r.slug})
             MERGE (t:Team {slug: r.team})
             CREATE (p)-[:OWNED_BY]->(t)",
        )
        .param("rows", rows),
        query(
            "UNWIND $deps AS d
             MATCH (p:Project {slug: d.project})
             MERGE (k:Package {name: d.package})
             CREATE (p)-[:USES {ecosystem: d.ecosystem, version: d.version, project: d.project, team: d.team,
                                archived: d.archived, transitive: d.transitive}]->(k)",
        )
        .param("deps", deps),
    ]
}

/// The `WHERE` conditions of a project query over `p`, with their parameters.
/// The text itself is matched by the full-text index, not here.
fn project_filter(q: &ProjectQuery) -> (String, Vec<(&'static str, BoltType)>) {
    let mut conds: Vec<&str> = Vec::new();
    let mut params: Vec<(&'static str, BoltType)> = Vec::new();
    if !q.include_archived {
        conds.push("p.archived = false");
    }
    if let Some(t) = &q.team {
        conds.push("p.team = $team");
        params.push(("team", text(t)));
    }
    if let Some(t) = &q.project_type {
        conds.push("p.project_type = $project_type");
        params.push(("project_type", text(t)));
    }
    if let Some((package, version)) = &q.uses {
        conds.push("$uses IN p.uses");
        let uses = match version {
            Some(v) => format!("{package} {v}"),
            None => package.to_string(),
        };
        params.push(("uses", uses.into()));
    }
    if let Some((key, value)) = &q.fact {
        conds.push("$fact IN p.facts");
        params.push(("fact", format!("{key}={value}").into()));
    }
    let filter = if conds.is_empty() { String::new() } else { format!(" WHERE {}", conds.join(" AND ")) };
    (filter, params)
}

/// A project query as Cypher: `returns` after the match and filters.
/// `None` when the text leaves nothing to search for (nothing matches).
/// The shapes are a handful of constant strings; every value is a parameter.
/// `window` asks the index for only its best hits.
fn project_query(store: &Neo4jGraph, q: &ProjectQuery, returns: &str, window: Option<i64>) -> Option<Query> {
    let (filter, params) = project_filter(q);
    let options = if window.is_some() { ", {limit: $window}" } else { "" };
    let cypher = match q.text.as_deref() {
        Some(t) => query(&format!(
            "CALL db.index.fulltext.queryNodes($index, $text{options}) YIELD node AS p, score WITH p, score{filter} {returns}"
        ))
        .param("index", store.fulltext_index)
        .param("text", index_query(t)?)
        .param("window", window.unwrap_or(0)),
        None => query(&format!("MATCH (p:Project) WITH p, 0.0 AS score{filter} {returns}")),
    };
    Some(cypher.params(params))
}

/// How many of the index's best hits a text search ranks (ten per result
/// asked for, within these bounds) before falling back to all of them.
const SEARCH_WINDOW_MIN: i64 = 200;
const SEARCH_WINDOW_MAX: i64 = 2_000;

fn summary(r: &crate::bolt::Row) -> StoreResult<ProjectSummary> {
    Ok(ProjectSummary {
        slug: ProjectSlug::new(r.get::<String>("slug").map_err(corrupt)?).map_err(corrupt)?,
        name: r.get("name").map_err(corrupt)?,
        team: TeamSlug::new(r.get::<String>("team").map_err(corrupt)?).map_err(corrupt)?,
        project_type: ProjectType::new(r.get::<String>("project_type").map_err(corrupt)?).map_err(corrupt)?,
        description: r.get("description").map_err(corrupt)?,
        score: r.get::<i64>("score").map_err(corrupt)?.clamp(0, 255) as u8,
        archived: r.get("archived").map_err(corrupt)?,
    })
}

impl Neo4jGraph {
    pub(crate) async fn search_projects(&self, q: &ProjectQuery) -> StoreResult<Vec<ProjectSummary>> {
        const RETURNS: &str = "RETURN p.slug AS slug, p.name AS name, p.team AS team, p.project_type AS project_type,
            p.description AS description, p.score AS score, p.archived AS archived
            ORDER BY score DESC, p.slug SKIP $offset LIMIT $limit";
        let n = limit(q.limit);
        // A broad search ranks only the index's best hits; when the filters
        // leave too few of them, and the index had more, everything is ranked.
        let window = (q.text.is_some()).then_some((n * 10).clamp(SEARCH_WINDOW_MIN, SEARCH_WINDOW_MAX));
        let Some(cypher) = project_query(self, q, RETURNS, window) else { return Ok(vec![]) };
        let offset = q.offset.min(i64::MAX as usize) as i64;
        let mut rows = self.rows(cypher.param("limit", n).param("offset", offset)).await?;
        if let Some(w) = window
            && (rows.len() as i64) < n
        {
            let unfiltered = ProjectQuery { text: q.text.clone(), include_archived: true, ..Default::default() };
            let hits = project_query(self, &unfiltered, "RETURN count(p) AS n", window).map(|c| self.rows(c));
            let hits = match hits {
                Some(c) => count(&c.await?)?,
                None => 0,
            };
            if hits as i64 >= w
                && let Some(all) = project_query(self, q, RETURNS, None)
            {
                rows = self.rows(all.param("limit", n).param("offset", offset)).await?;
            }
        }
        rows.iter().map(summary).collect()
    }

    pub(crate) async fn count_matching(&self, q: &ProjectQuery) -> StoreResult<u64> {
        let Some(cypher) = project_query(self, q, "RETURN count(p) AS n", None) else { return Ok(0) };
        count(&self.rows(cypher).await?)
    }

    pub(crate) async fn package_dependents(&self, q: &DependentsQuery) -> StoreResult<Dependents> {
        // Everything a dependents query reads is on the relationships: the
        // projects' nodes are not loaded.
        let mut conds = String::from("u.archived = false");
        if q.version.is_some() {
            conds.push_str(" AND u.version = $version");
        }
        if q.ecosystem.is_some() {
            conds.push_str(" AND u.ecosystem = $ecosystem");
        }
        // Relationships written before edges knew it have no `transitive`: direct.
        if q.direct_only {
            conds.push_str(" AND coalesce(u.transitive, false) = false");
        }
        let with_params = |text: String| {
            let mut c = query(&text).param("package", q.package.as_str());
            if let Some(v) = &q.version {
                c = c.param("version", v.as_str());
            }
            if let Some(e) = &q.ecosystem {
                c = c.param("ecosystem", e.as_str());
            }
            c
        };
        let head = format!("MATCH (p:Project)-[u:USES]->(:Package {{name: $package}}) WHERE {conds}");
        let counted = self
            .rows(with_params(format!(
                "{head} RETURN u.ecosystem AS ecosystem, u.version AS version, count(p) AS n,
                 sum(CASE WHEN coalesce(u.transitive, false) THEN 0 ELSE 1 END) AS direct"
            )))
            .await?;
        let eco = |s: String| Ecosystem::parse(&s).unwrap_or(Ecosystem::Other);
        let mut versions = Vec::with_capacity(counted.len());
        for r in &counted {
            versions.push(VersionCount {
                ecosystem: eco(r.get("ecosystem").map_err(corrupt)?),
                version: Version::new(r.get::<String>("version").map_err(corrupt)?).map_err(corrupt)?,
                projects: r.get::<i64>("n").map_err(corrupt)?.max(0) as u64,
                direct: r.get::<i64>("direct").map_err(corrupt)?.max(0) as u64,
            });
        }
        versions.sort_by(|a, b| {
            b.projects.cmp(&a.projects).then_with(|| (a.ecosystem, &a.version).cmp(&(b.ecosystem, &b.version)))
        });
        let total = versions.iter().map(|v| v.projects).sum();
        let n = if q.limit == 0 { 200 } else { limit(q.limit) };
        let rows = self
            .rows(
                with_params(format!(
                    "{head} RETURN u.project AS project, u.team AS team, u.ecosystem AS ecosystem, u.version AS version,
                     coalesce(u.transitive, false) AS transitive
                     ORDER BY u.project, u.ecosystem LIMIT $limit"
                ))
                .param("limit", n),
            )
            .await?;
        let mut projects = Vec::with_capacity(rows.len());
        for r in &rows {
            projects.push(DependentRow {
                project: ProjectSlug::new(r.get::<String>("project").map_err(corrupt)?).map_err(corrupt)?,
                team: TeamSlug::new(r.get::<String>("team").map_err(corrupt)?).map_err(corrupt)?,
                ecosystem: eco(r.get("ecosystem").map_err(corrupt)?),
                version: Version::new(r.get::<String>("version").map_err(corrupt)?).map_err(corrupt)?,
                transitive: r.get::<bool>("transitive").map_err(corrupt)?,
            });
        }
        Ok(Dependents { total, versions, projects })
    }

    /// Package names starting with `prefix` that a live project uses.
    pub(crate) async fn package_names(&self, prefix: &str, n: usize) -> StoreResult<Vec<PackageName>> {
        let rows = self
            .rows(
                query(
                    "MATCH (k:Package) WHERE k.name STARTS WITH $prefix
                     AND EXISTS { MATCH (k)<-[u:USES]-() WHERE u.archived = false }
                     RETURN k.name AS name ORDER BY name LIMIT $limit",
                )
                .param("prefix", prefix)
                .param("limit", limit(n)),
            )
            .await?;
        let mut names = Vec::with_capacity(rows.len());
        for r in &rows {
            if let Ok(n) = PackageName::new(r.get::<String>("name").map_err(corrupt)?) {
                names.push(n);
            }
        }
        Ok(names)
    }
}
