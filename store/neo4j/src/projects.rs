//! Projects in Cypher: the upsert that replaces a project's `OWNED_BY` and
//! `USES` relationships when they changed, and the queries over them
//! (filters, full-text search, dependents, package names). `graph.rs` holds
//! the rest of `GraphStore`.
//!
//! How many live projects use each version of a package is kept on write,
//! in `(:Dependents {vkey, package, ecosystem, version, n, direct})` nodes
//! moved in the transaction that replaces the relationships: counting the
//! dependents of a package used by tens of thousands of projects would read
//! every one of their relationships.

use crate::bolt::{Query, Value as BoltType, query};
use switchboard_core::ids::*;
use switchboard_core::model::*;
use switchboard_core::store::*;

use crate::graph::{count, text};
use crate::search::{index_query, search_text};
use crate::{Neo4jGraph, corrupt, limit, map, to_json};

/// A project's properties for `UPSERT_PROJECTS`.
fn project_row(p: &Project, edges: &str) -> BoltType {
    let facts: Vec<String> = p.facts.values().map(|f| format!("{}={}", f.key, f.value)).collect();
    let fact_values: Vec<String> =
        p.facts.values().filter(|f| f.value.is_searched()).map(|f| f.value.to_string()).collect();
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
        ("edges", edges.into()),
    ])
}

/// A digest of what a project's relationships hold (its team, whether it is
/// archived, its dependencies): a write with the digest the project has
/// leaves its relationships, and the dependents counts, as they are — a
/// new fact or score does not rewrite fifty relationships.
fn edges_digest(p: &Project) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(p.team.as_str());
    h.update([0, u8::from(p.archived)]);
    for d in &p.dependencies {
        for part in [d.package.as_str(), d.ecosystem.as_str(), d.version.as_str()] {
            h.update(part);
            h.update([0]);
        }
        h.update([u8::from(d.transitive)]);
    }
    h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// A project's dependencies, as its `keys` row holds them.
fn dependency_rows(p: &Project) -> Vec<BoltType> {
    p.dependencies
        .iter()
        .map(|d| {
            map([
                ("package", d.package.as_str().into()),
                ("ecosystem", d.ecosystem.as_str().into()),
                ("version", d.version.as_str().into()),
                ("transitive", d.transitive.into()),
            ])
        })
        .collect()
}

/// The dependents the live projects of a batch add, per package version.
fn batch_counts(projects: &[Project]) -> Vec<BoltType> {
    let mut counts: std::collections::BTreeMap<(&str, &str, &str), (i64, i64)> = Default::default();
    for d in projects.iter().filter(|p| !p.archived).flat_map(|p| &p.dependencies) {
        let c = counts.entry((d.package.as_str(), d.ecosystem.as_str(), d.version.as_str())).or_default();
        c.0 += 1;
        c.1 += i64::from(!d.transitive);
    }
    counts
        .into_iter()
        .map(|((package, ecosystem, version), (n, direct))| {
            map([
                ("vkey", format!("{package}\n{ecosystem}\n{version}").into()),
                ("package", package.into()),
                ("ecosystem", ecosystem.into()),
                ("version", version.into()),
                ("n", n.into()),
                ("direct", direct.into()),
            ])
        })
        .collect()
}

/// The statements that upsert projects: the relationships of those whose
/// digest changed (or that are new) replaced, the dependents counts moved
/// with them, then the properties and the new digest.
///
/// Statements match each project once and walk its dependencies from its
/// row (`UNWIND r.deps`): matching a project for each of its fifty
/// dependencies made a batch's relationships take 70 % longer. Packages
/// are created in a statement of their own, before the relationships: a
/// `MERGE` followed by a `CREATE` makes the server buffer every row between
/// them, and ArcadeDB charges each buffered row with what it holds — with
/// the project's node or its whole dependency list, a few thousand
/// dependencies passed its query budget (3 GB with a 6 GB heap, 256 MB
/// with the tests' 512 MB). The counts
/// are added for the whole batch at once, grouped here, and taken back for
/// the projects whose relationships were already as written: ArcadeDB took
/// as long to group a batch's 30,000 relationships on the server as to
/// write them, and a new batch has nothing to take back.
pub(crate) fn upsert_projects(projects: &[Project]) -> Vec<Query> {
    let digests: Vec<String> = projects.iter().map(edges_digest).collect();
    let rows: Vec<BoltType> = projects.iter().zip(&digests).map(|(p, e)| project_row(p, e)).collect();
    // What the statements before the last need of each project: not its
    // document and text, sent once.
    let keys: Vec<BoltType> = projects
        .iter()
        .zip(&digests)
        .map(|(p, e)| {
            map([
                ("slug", p.slug.as_str().into()),
                ("team", p.team.as_str().into()),
                ("archived", p.archived.into()),
                ("edges", e.as_str().into()),
                ("deps", dependency_rows(p).into()),
            ])
        })
        .collect();
    vec![
        query("UNWIND $rows AS r MERGE (p:Project {slug: r.slug}) SET p.edges = coalesce(p.edges, '')")
            .param("rows", keys.clone()),
        query(
            "UNWIND $rows AS r
             MATCH (p:Project {slug: r.slug})-[old:USES]->(k:Package) WHERE p.edges <> r.edges AND old.archived = false
             WITH k.name + '\n' + old.ecosystem + '\n' + old.version AS vkey, count(*) AS n,
                  sum(CASE WHEN coalesce(old.transitive, false) THEN 0 ELSE 1 END) AS direct
             MATCH (c:Dependents {vkey: vkey})
             SET c.n = c.n - n, c.direct = c.direct - direct",
        )
        .param("rows", keys.clone()),
        query(
            "UNWIND $rows AS r
             MATCH (p:Project {slug: r.slug})-[old]->() WHERE p.edges <> r.edges
             DELETE old",
        )
        .param("rows", keys.clone()),
        query(
            "UNWIND $rows AS r
             MATCH (p:Project {slug: r.slug}) WHERE p.edges <> r.edges
             MERGE (t:Team {slug: r.team})
             CREATE (p)-[:OWNED_BY]->(t)",
        )
        .param("rows", keys.clone()),
        query(
            "UNWIND $rows AS r
             MATCH (p:Project {slug: r.slug}) WHERE p.edges <> r.edges
             UNWIND r.deps AS d
             WITH DISTINCT d.package AS name
             MERGE (:Package {name: name})",
        )
        .param("rows", keys.clone()),
        query(
            "UNWIND $rows AS r
             MATCH (p:Project {slug: r.slug}) WHERE p.edges <> r.edges
             UNWIND r.deps AS d
             MATCH (k:Package {name: d.package})
             CREATE (p)-[:USES {ecosystem: d.ecosystem, version: d.version, project: r.slug, team: r.team,
                                archived: r.archived, transitive: d.transitive}]->(k)",
        )
        .param("rows", keys.clone()),
        query(
            "UNWIND $counts AS c
             MERGE (d:Dependents {vkey: c.vkey})
             SET d.package = c.package, d.ecosystem = c.ecosystem, d.version = c.version,
                 d.n = coalesce(d.n, 0) + c.n, d.direct = coalesce(d.direct, 0) + c.direct",
        )
        .param("counts", batch_counts(projects)),
        query(
            "UNWIND $rows AS r
             MATCH (p:Project {slug: r.slug}) WHERE p.edges = r.edges AND r.archived = false
             UNWIND r.deps AS d
             WITH d.package + '\n' + d.ecosystem + '\n' + d.version AS vkey, count(*) AS n,
                  sum(CASE WHEN d.transitive THEN 0 ELSE 1 END) AS direct
             MATCH (c:Dependents {vkey: vkey})
             SET c.n = c.n - n, c.direct = c.direct - direct",
        )
        .param("rows", keys),
        query(
            "UNWIND $rows AS r
             MATCH (p:Project {slug: r.slug})
             SET p.name = r.name, p.description = r.description, p.score = r.score, p.team = r.team, p.project_type = r.project_type, p.archived = r.archived,
                 p.github_repository = r.github_repository, p.github_repository_id = r.github_repository_id, p.pagerduty_service = r.pagerduty_service,
                 p.facts = r.facts, p.uses = r.uses, p.search_text = r.search_text, p.doc = r.doc, p.edges = r.edges",
        )
        .param("rows", rows),
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
        // The counts kept on write: a few nodes, however many use the package.
        let mut counts = String::from("c.package = $package");
        if q.version.is_some() {
            counts.push_str(" AND c.version = $version");
        }
        if q.ecosystem.is_some() {
            counts.push_str(" AND c.ecosystem = $ecosystem");
        }
        let n = if q.direct_only { "c.direct" } else { "c.n" };
        let counted = self
            .rows(with_params(format!(
                "MATCH (c:Dependents) WHERE {counts} AND {n} > 0
                 RETURN c.ecosystem AS ecosystem, c.version AS version, {n} AS n, c.direct AS direct"
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

    /// Counts every package's dependents from the relationships, replacing
    /// the counts kept: for a graph written before they were kept on write.
    pub(crate) async fn count_dependents_again(&self) -> StoreResult<()> {
        let rows = self.rows(query("MATCH (k:Package) RETURN k.name AS name")).await?;
        let names: Vec<String> = rows.iter().map(|r| r.get("name").map_err(corrupt)).collect::<StoreResult<_>>()?;
        tracing::info!(packages = names.len(), "counting each package's dependents (once, for schema 2)");
        for chunk in names.chunks(200) {
            self.transaction(vec![
                query("UNWIND $names AS name MATCH (c:Dependents {package: name}) DELETE c")
                    .param("names", chunk.to_vec()),
                query(
                    "UNWIND $names AS name
                     MATCH (:Package {name: name})<-[u:USES]-() WHERE u.archived = false
                     WITH name, u.ecosystem AS ecosystem, u.version AS version, count(*) AS n,
                          sum(CASE WHEN coalesce(u.transitive, false) THEN 0 ELSE 1 END) AS direct
                     CREATE (:Dependents {vkey: name + '\n' + ecosystem + '\n' + version, package: name,
                                          ecosystem: ecosystem, version: version, n: n, direct: direct})",
                )
                .param("names", chunk.to_vec()),
            ])
            .await?;
        }
        Ok(())
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
