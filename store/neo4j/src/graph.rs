//! `GraphStore` in Cypher.

use async_trait::async_trait;
use neo4rs::{BoltType, Query, query};
use switchboard_core::ids::*;
use switchboard_core::model::*;
use switchboard_core::store::*;

use crate::search::{index_query, search_text};
use crate::{Neo4jGraph, corrupt, doc, docs, limit, map, to_json};

/// Projects (and documents) written per transaction by `import`.
const IMPORT_BATCH: usize = 500;

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
        ])
    })
}

/// The statements that upsert projects: properties, then the owning team and
/// the packages used, replacing the relationships the project had.
fn upsert_projects(projects: &[Project]) -> Vec<Query> {
    let rows: Vec<BoltType> = projects.iter().map(project_row).collect();
    let deps: Vec<BoltType> = projects.iter().flat_map(dependency_rows).collect();
    vec![
        query(
            "UNWIND $rows AS r
             MERGE (p:Project {slug: r.slug})
             SET p.name = r.name, p.description = r.description, p.score = r.score, p.team = r.team, p.project_type = r.project_type, p.archived = r.archived,
                 p.github_repository = r.github_repository, p.pagerduty_service = r.pagerduty_service,
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
                                archived: d.archived}]->(k)",
        )
        .param("deps", deps),
    ]
}

fn upsert_deployments(ds: &[Deployment]) -> Query {
    let rows: Vec<BoltType> = ds
        .iter()
        .map(|d| {
            map([
                ("id", d.id.to_string().into()),
                ("project", d.project.as_str().into()),
                ("environment", d.environment.as_str().into()),
                ("status", d.status.as_str().into()),
                ("started_at", d.started_at.into()),
                ("external_id", d.external_id.clone().into()),
                ("doc", to_json(d).into()),
            ])
        })
        .collect();
    query(
        "UNWIND $rows AS r MERGE (n:Deployment {id: r.id})
         SET n.project = r.project, n.environment = r.environment, n.status = r.status,
             n.started_at = r.started_at, n.external_id = r.external_id, n.doc = r.doc",
    )
    .param("rows", rows)
}

fn upsert_incidents(is: &[Incident]) -> Query {
    let rows: Vec<BoltType> = is
        .iter()
        .map(|i| {
            map([
                ("id", i.id.to_string().into()),
                ("project", i.project.as_str().into()),
                ("status", i.status.as_str().into()),
                ("opened_at", i.opened_at.into()),
                ("external_id", i.external_id.clone().into()),
                ("doc", to_json(i).into()),
            ])
        })
        .collect();
    query(
        "UNWIND $rows AS r MERGE (n:Incident {id: r.id})
         SET n.project = r.project, n.status = r.status, n.opened_at = r.opened_at,
             n.external_id = r.external_id, n.doc = r.doc",
    )
    .param("rows", rows)
}

fn upsert_builds(bs: &[Build]) -> Query {
    let rows: Vec<BoltType> = bs
        .iter()
        .map(|b| {
            map([
                ("id", b.id.to_string().into()),
                ("project", b.project.as_str().into()),
                ("status", b.status.as_str().into()),
                ("started_at", b.started_at.into()),
                ("external_id", b.external_id.clone().into()),
                ("doc", to_json(b).into()),
            ])
        })
        .collect();
    query(
        "UNWIND $rows AS r MERGE (n:Build {id: r.id})
         SET n.project = r.project, n.status = r.status, n.started_at = r.started_at,
             n.external_id = r.external_id, n.doc = r.doc",
    )
    .param("rows", rows)
}

fn upsert_teams(ts: &[Team]) -> Query {
    let rows: Vec<BoltType> =
        ts.iter().map(|t| map([("slug", t.slug.as_str().into()), ("doc", to_json(t).into())])).collect();
    query("UNWIND $rows AS r MERGE (n:Team {slug: r.slug}) SET n.doc = r.doc").param("rows", rows)
}

fn upsert_users(us: &[User]) -> Query {
    let rows: Vec<BoltType> =
        us.iter().map(|u| map([("name", u.name.as_str().into()), ("doc", to_json(u).into())])).collect();
    query("UNWIND $rows AS r MERGE (n:User {name: r.name}) SET n.doc = r.doc").param("rows", rows)
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

fn summary(r: &neo4rs::Row) -> StoreResult<ProjectSummary> {
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

fn count(rows: &[neo4rs::Row]) -> StoreResult<u64> {
    let n: i64 = rows.first().map(|r| r.get("n")).transpose().map_err(corrupt)?.unwrap_or(0);
    Ok(n.max(0) as u64)
}

fn text(s: impl ToString) -> BoltType {
    s.to_string().into()
}

#[async_trait]
impl GraphStore for Neo4jGraph {
    async fn get_project(&self, slug: &ProjectSlug) -> StoreResult<Option<Project>> {
        let rows = self
            .rows(query("MATCH (p:Project {slug: $slug}) RETURN p.doc AS doc").param("slug", slug.as_str()))
            .await?;
        let Some(row) = rows.first() else { return Ok(None) };
        let mut p: Project = doc(row)?;
        p.dependencies.sort();
        Ok(Some(p))
    }

    async fn put_project(&self, project: &Project) -> StoreResult<()> {
        self.transaction(upsert_projects(std::slice::from_ref(project))).await.map(drop)
    }

    async fn find_projects(&self, q: &ProjectQuery) -> StoreResult<Vec<ProjectSummary>> {
        const RETURNS: &str = "RETURN p.slug AS slug, p.name AS name, p.team AS team, p.project_type AS project_type,
            p.description AS description, p.score AS score, p.archived AS archived
            ORDER BY score DESC, p.slug LIMIT $limit";
        let n = limit(q.limit);
        // A broad search ranks only the index's best hits; when the filters
        // leave too few of them, and the index had more, everything is ranked.
        let window = (q.text.is_some()).then_some((n * 10).clamp(SEARCH_WINDOW_MIN, SEARCH_WINDOW_MAX));
        let Some(cypher) = project_query(self, q, RETURNS, window) else { return Ok(vec![]) };
        let mut rows = self.rows(cypher.param("limit", n)).await?;
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
                rows = self.rows(all.param("limit", n)).await?;
            }
        }
        rows.iter().map(summary).collect()
    }

    async fn count_projects(&self, q: &ProjectQuery) -> StoreResult<u64> {
        let Some(cypher) = project_query(self, q, "RETURN count(p) AS n", None) else { return Ok(0) };
        count(&self.rows(cypher).await?)
    }

    async fn project_by_external_id(&self, kind: &str, id: &str) -> StoreResult<Option<ProjectSlug>> {
        let cypher = match kind {
            "github_repository" => {
                "MATCH (p:Project {github_repository: $id}) RETURN p.slug AS slug ORDER BY p.archived, p.slug LIMIT 1"
            }
            "pagerduty_service" => {
                "MATCH (p:Project {pagerduty_service: $id}) RETURN p.slug AS slug ORDER BY p.archived, p.slug LIMIT 1"
            }
            _ => return Ok(None),
        };
        let rows = self.rows(query(cypher).param("id", id)).await?;
        let slug: Option<String> = rows.first().map(|r| r.get("slug")).transpose().map_err(corrupt)?;
        Ok(slug.and_then(|s| ProjectSlug::new(s).ok()))
    }

    async fn dependents(&self, q: &DependentsQuery) -> StoreResult<Dependents> {
        // Everything a dependents query reads is on the relationships: the
        // projects' nodes are not loaded.
        let mut conds = String::from("u.archived = false");
        if q.version.is_some() {
            conds.push_str(" AND u.version = $version");
        }
        if q.ecosystem.is_some() {
            conds.push_str(" AND u.ecosystem = $ecosystem");
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
            .rows(with_params(format!("{head} RETURN u.ecosystem AS ecosystem, u.version AS version, count(p) AS n")))
            .await?;
        let eco = |s: String| Ecosystem::parse(&s).unwrap_or(Ecosystem::Other);
        let mut versions = Vec::with_capacity(counted.len());
        for r in &counted {
            versions.push(VersionCount {
                ecosystem: eco(r.get("ecosystem").map_err(corrupt)?),
                version: Version::new(r.get::<String>("version").map_err(corrupt)?).map_err(corrupt)?,
                projects: r.get::<i64>("n").map_err(corrupt)?.max(0) as u64,
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
                    "{head} RETURN u.project AS project, u.team AS team, u.ecosystem AS ecosystem, u.version AS version
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
            });
        }
        Ok(Dependents { total, versions, projects })
    }

    async fn packages(&self, prefix: &str, n: usize) -> StoreResult<Vec<PackageName>> {
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

    async fn get_team(&self, slug: &TeamSlug) -> StoreResult<Option<Team>> {
        let rows = self
            .rows(
                query("MATCH (t:Team {slug: $slug}) WHERE t.doc IS NOT NULL RETURN t.doc AS doc")
                    .param("slug", slug.as_str()),
            )
            .await?;
        rows.first().map(doc).transpose()
    }

    async fn put_team(&self, team: &Team) -> StoreResult<()> {
        self.run(upsert_teams(std::slice::from_ref(team))).await
    }

    async fn list_teams(&self) -> StoreResult<Vec<Team>> {
        // Teams named by a project but never stored are only join points.
        docs(&self.rows(query("MATCH (t:Team) WHERE t.doc IS NOT NULL RETURN t.doc AS doc ORDER BY t.slug")).await?)
    }

    async fn get_user(&self, name: &UserName) -> StoreResult<Option<User>> {
        let rows =
            self.rows(query("MATCH (u:User {name: $name}) RETURN u.doc AS doc").param("name", name.as_str())).await?;
        rows.first().map(doc).transpose()
    }

    async fn put_user(&self, user: &User) -> StoreResult<()> {
        self.run(upsert_users(std::slice::from_ref(user))).await
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        docs(&self.rows(query("MATCH (u:User) RETURN u.doc AS doc ORDER BY u.name")).await?)
    }

    async fn put_deployment(&self, deployment: &Deployment) -> StoreResult<()> {
        self.run(upsert_deployments(std::slice::from_ref(deployment))).await
    }

    async fn deployment_by_external_id(
        &self,
        project: &ProjectSlug,
        external_id: &str,
    ) -> StoreResult<Option<Deployment>> {
        let rows = self
            .rows(
                query(
                    "MATCH (n:Deployment {project: $project, external_id: $external_id})
                     RETURN n.doc AS doc ORDER BY n.id LIMIT 1",
                )
                .param("project", project.as_str())
                .param("external_id", external_id),
            )
            .await?;
        rows.first().map(doc).transpose()
    }

    async fn list_deployments(&self, q: &DeploymentQuery) -> StoreResult<Vec<Deployment>> {
        let mut conds = Vec::new();
        let mut params: Vec<(&str, BoltType)> = Vec::new();
        if let Some(p) = &q.project {
            conds.push("n.project = $project");
            params.push(("project", text(p)));
        }
        if let Some(e) = &q.environment {
            conds.push("n.environment = $environment");
            params.push(("environment", text(e)));
        }
        if let Some(s) = q.since {
            conds.push("n.started_at >= $since");
            params.push(("since", s.into()));
        }
        let filter = if conds.is_empty() { String::new() } else { format!("WHERE {}", conds.join(" AND ")) };
        let cypher = query(&format!(
            "MATCH (n:Deployment) {filter} RETURN n.doc AS doc ORDER BY n.started_at DESC, n.id DESC LIMIT $limit"
        ))
        .params(params)
        .param("limit", limit(q.limit));
        docs(&self.rows(cypher).await?)
    }

    async fn current_deployments(&self, project: &ProjectSlug) -> StoreResult<Vec<Deployment>> {
        let rows = self
            .rows(
                query(
                    "MATCH (n:Deployment {project: $project, status: 'succeeded'})
                     WITH n ORDER BY n.started_at DESC, n.id DESC
                     WITH n.environment AS environment, collect(n.doc) AS docs
                     RETURN docs[0] AS doc ORDER BY environment",
                )
                .param("project", project.as_str()),
            )
            .await?;
        docs(&rows)
    }

    async fn put_incident(&self, incident: &Incident) -> StoreResult<()> {
        self.run(upsert_incidents(std::slice::from_ref(incident))).await
    }

    async fn incident_by_external_id(&self, project: &ProjectSlug, external_id: &str) -> StoreResult<Option<Incident>> {
        let rows = self
            .rows(
                query(
                    "MATCH (n:Incident {project: $project, external_id: $external_id})
                     RETURN n.doc AS doc ORDER BY n.id LIMIT 1",
                )
                .param("project", project.as_str())
                .param("external_id", external_id),
            )
            .await?;
        rows.first().map(doc).transpose()
    }

    async fn list_incidents(&self, q: &IncidentQuery) -> StoreResult<Vec<Incident>> {
        let mut conds = Vec::new();
        let mut params: Vec<(&str, BoltType)> = Vec::new();
        let head = match &q.team {
            Some(t) => {
                params.push(("team", text(t)));
                "MATCH (p:Project {team: $team}) MATCH (n:Incident {project: p.slug})"
            }
            None => "MATCH (n:Incident)",
        };
        if let Some(p) = &q.project {
            conds.push("n.project = $project");
            params.push(("project", text(p)));
        }
        if let Some(s) = q.status {
            conds.push("n.status = $status");
            params.push(("status", s.as_str().into()));
        }
        if let Some(s) = q.since {
            conds.push("n.opened_at >= $since");
            params.push(("since", s.into()));
        }
        let filter = if conds.is_empty() { String::new() } else { format!("WHERE {}", conds.join(" AND ")) };
        let cypher =
            query(&format!("{head} {filter} RETURN n.doc AS doc ORDER BY n.opened_at DESC, n.id DESC LIMIT $limit"))
                .params(params)
                .param("limit", limit(q.limit));
        docs(&self.rows(cypher).await?)
    }

    async fn put_build(&self, build: &Build) -> StoreResult<()> {
        self.run(upsert_builds(std::slice::from_ref(build))).await
    }

    async fn build_by_external_id(&self, project: &ProjectSlug, external_id: &str) -> StoreResult<Option<Build>> {
        let rows = self
            .rows(
                query(
                    "MATCH (n:Build {project: $project, external_id: $external_id})
                     RETURN n.doc AS doc ORDER BY n.id LIMIT 1",
                )
                .param("project", project.as_str())
                .param("external_id", external_id),
            )
            .await?;
        rows.first().map(doc).transpose()
    }

    async fn list_builds(&self, project: &ProjectSlug, n: usize) -> StoreResult<Vec<Build>> {
        let rows = self
            .rows(
                query(
                    "MATCH (n:Build {project: $project})
                     RETURN n.doc AS doc ORDER BY n.started_at DESC, n.id DESC LIMIT $limit",
                )
                .param("project", project.as_str())
                .param("limit", limit(n)),
            )
            .await?;
        docs(&rows)
    }

    async fn score_inputs(&self, project: &ProjectSlug, window_start: Millis) -> StoreResult<ScoreInputs> {
        let slug = project.as_str();
        let (incidents, build, deploy) = tokio::try_join!(
            self.rows(
                query("MATCH (n:Incident {project: $project}) WHERE n.opened_at >= $since RETURN count(n) AS n")
                    .param("project", slug)
                    .param("since", window_start),
            ),
            self.rows(
                query("MATCH (n:Build {project: $project, status: 'success'}) RETURN max(n.started_at) AS at")
                    .param("project", slug),
            ),
            self.rows(
                query("MATCH (n:Deployment {project: $project, status: 'succeeded'}) RETURN max(n.started_at) AS at")
                    .param("project", slug),
            ),
        )?;
        let at = |rows: &[neo4rs::Row]| -> StoreResult<Option<Millis>> {
            Ok(rows.first().map(|r| r.get::<Option<i64>>("at")).transpose().map_err(corrupt)?.flatten())
        };
        Ok(ScoreInputs {
            incidents_in_window: count(&incidents)?,
            last_green_build_at: at(&build)?,
            last_successful_deploy_at: at(&deploy)?,
        })
    }

    async fn put_run(&self, run: &Run) -> StoreResult<()> {
        // Leaves the queue's properties (lease, next attempt) alone.
        self.run(
            query(
                "MERGE (n:Run {id: $id})
                 ON CREATE SET n.next_attempt_at = 0
                 SET n.status = $status, n.operation = $operation, n.doc = $doc",
            )
            .param("id", run.id.to_string())
            .param("status", run.status.as_str())
            .param("operation", run.operation.as_str())
            .param("doc", to_json(run)),
        )
        .await
    }

    async fn get_run(&self, id: &RunId) -> StoreResult<Option<Run>> {
        let rows = self.rows(query("MATCH (n:Run {id: $id}) RETURN n.doc AS doc").param("id", id.to_string())).await?;
        rows.first().map(doc).transpose()
    }

    async fn list_runs(&self, status: Option<RunStatus>, n: usize) -> StoreResult<Vec<Run>> {
        let cypher = match status {
            Some(s) => query("MATCH (n:Run {status: $status}) RETURN n.doc AS doc ORDER BY n.id DESC LIMIT $limit")
                .param("status", s.as_str()),
            None => query("MATCH (n:Run) RETURN n.doc AS doc ORDER BY n.id DESC LIMIT $limit"),
        };
        docs(&self.rows(cypher.param("limit", limit(n))).await?)
    }

    async fn put_token(&self, token: &ApiToken) -> StoreResult<()> {
        self.run(
            query(
                "MERGE (n:Token {id: $id})
                 SET n.hash = $hash, n.user = $user, n.created_at = $created_at, n.doc = $doc",
            )
            .param("id", token.id.as_str())
            .param("hash", token.hash.as_str())
            .param("user", token.user.as_str())
            .param("created_at", token.created_at)
            .param("doc", to_json(token)),
        )
        .await
    }

    async fn get_token(&self, id: &str) -> StoreResult<Option<ApiToken>> {
        let rows = self.rows(query("MATCH (n:Token {id: $id}) RETURN n.doc AS doc").param("id", id)).await?;
        rows.first().map(doc).transpose()
    }

    async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<ApiToken>> {
        let rows =
            self.rows(query("MATCH (n:Token {hash: $hash}) RETURN n.doc AS doc LIMIT 1").param("hash", hash)).await?;
        rows.first().map(doc).transpose()
    }

    async fn list_tokens(&self, user: Option<&UserName>) -> StoreResult<Vec<ApiToken>> {
        let cypher = match user {
            Some(u) => query("MATCH (n:Token {user: $user}) RETURN n.doc AS doc ORDER BY n.created_at DESC, n.id DESC")
                .param("user", u.as_str()),
            None => query("MATCH (n:Token) RETURN n.doc AS doc ORDER BY n.created_at DESC, n.id DESC"),
        };
        docs(&self.rows(cypher).await?)
    }

    async fn set_password_hash(&self, user: &UserName, hash: &str) -> StoreResult<()> {
        self.run(
            query("MERGE (n:Credential {user: $user}) SET n.password_hash = $hash")
                .param("user", user.as_str())
                .param("hash", hash),
        )
        .await
    }

    async fn password_hash(&self, user: &UserName) -> StoreResult<Option<String>> {
        let rows = self
            .rows(
                query("MATCH (n:Credential {user: $user}) RETURN n.password_hash AS hash").param("user", user.as_str()),
            )
            .await?;
        rows.first().map(|r| r.get::<String>("hash")).transpose().map_err(corrupt)
    }

    async fn put_session(&self, session: &Session) -> StoreResult<()> {
        self.run(
            query("MERGE (n:Session {hash: $hash}) SET n.user = $user, n.expires_at = $expires_at, n.doc = $doc")
                .param("hash", session.hash.as_str())
                .param("user", session.user.as_str())
                .param("expires_at", session.expires_at)
                .param("doc", to_json(session)),
        )
        .await
    }

    async fn session_by_hash(&self, hash: &str) -> StoreResult<Option<Session>> {
        let rows = self.rows(query("MATCH (n:Session {hash: $hash}) RETURN n.doc AS doc").param("hash", hash)).await?;
        rows.first().map(doc).transpose()
    }

    async fn delete_session(&self, hash: &str) -> StoreResult<()> {
        self.run(query("MATCH (n:Session {hash: $hash}) DELETE n").param("hash", hash)).await
    }

    async fn append_message(&self, m: &ChatMessage, keep: usize) -> StoreResult<()> {
        // The thread node numbers its messages; taking its write lock orders
        // concurrent appends to one thread.
        let keep = keep.max(1).min(i64::MAX as usize) as i64;
        self.transaction(vec![
            query(
                "MERGE (t:Thread {id: $thread})
                 SET t.last = coalesce(t.last, 0) + 1
                 CREATE (m:Message {thread: $thread, seq: t.last, at: $at, author: $author, text: $text})",
            )
            .param("thread", m.thread.as_str())
            .param("at", m.at)
            .param("author", m.author.as_str())
            .param("text", m.text.as_str()),
            query(
                "MATCH (t:Thread {id: $thread}) MATCH (m:Message {thread: $thread})
                 WHERE m.seq <= t.last - $keep DELETE m",
            )
            .param("thread", m.thread.as_str())
            .param("keep", keep),
        ])
        .await
        .map(drop)
    }

    async fn thread_messages(&self, thread: &str, n: usize) -> StoreResult<Vec<ChatMessage>> {
        let rows = self
            .rows(
                query(
                    "MATCH (m:Message {thread: $thread})
                     RETURN m.thread AS thread, m.at AS at, m.author AS author, m.text AS text
                     ORDER BY m.seq DESC LIMIT $limit",
                )
                .param("thread", thread)
                .param("limit", limit(n)),
            )
            .await?;
        let mut messages = Vec::with_capacity(rows.len());
        for r in rows.iter().rev() {
            messages.push(ChatMessage {
                thread: r.get("thread").map_err(corrupt)?,
                at: r.get("at").map_err(corrupt)?,
                author: r.get("author").map_err(corrupt)?,
                text: r.get("text").map_err(corrupt)?,
            });
        }
        Ok(messages)
    }

    async fn counts(&self) -> StoreResult<Counts> {
        let n = |cypher: &'static str| async move { count(&self.rows(query(cypher)).await?) };
        let (projects, teams, dependencies, deployments, open_incidents, pending_runs) = tokio::try_join!(
            n("MATCH (p:Project) WHERE p.archived = false RETURN count(p) AS n"),
            n("MATCH (t:Team) WHERE t.doc IS NOT NULL RETURN count(t) AS n"),
            n("MATCH (:Project)-[u:USES]->(:Package) WHERE u.archived = false RETURN count(u) AS n"),
            n("MATCH (d:Deployment) RETURN count(d) AS n"),
            n("MATCH (i:Incident) WHERE i.status <> 'resolved' RETURN count(i) AS n"),
            n("MATCH (r:Run {status: 'pending'}) RETURN count(r) AS n"),
        )?;
        Ok(Counts { projects, teams, dependencies, deployments, open_incidents, pending_runs })
    }

    async fn import(&self, batch: &GraphBatch) -> StoreResult<()> {
        // One transaction per slice: a 100k-project org is not one giant
        // transaction, and every statement is an idempotent upsert, so a
        // failed import can simply be run again.
        for us in batch.users.chunks(IMPORT_BATCH) {
            self.run(upsert_users(us)).await?;
        }
        for ts in batch.teams.chunks(IMPORT_BATCH) {
            self.run(upsert_teams(ts)).await?;
        }
        for ps in batch.projects.chunks(IMPORT_BATCH) {
            self.transaction(upsert_projects(ps)).await?;
        }
        for ds in batch.deployments.chunks(IMPORT_BATCH) {
            self.run(upsert_deployments(ds)).await?;
        }
        for is in batch.incidents.chunks(IMPORT_BATCH) {
            self.run(upsert_incidents(is)).await?;
        }
        for bs in batch.builds.chunks(IMPORT_BATCH) {
            self.run(upsert_builds(bs)).await?;
        }
        Ok(())
    }
}
