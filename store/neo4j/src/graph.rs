//! `GraphStore` in Cypher: teams, users, activity (deployments, incidents,
//! builds), runs, tokens, sessions and chat history; projects and their
//! queries are in `projects.rs`.

use crate::bolt::{Query, Value as BoltType, query};
use async_trait::async_trait;
use switchboard_core::ids::*;
use switchboard_core::model::*;
use switchboard_core::store::*;

use crate::projects::upsert_projects;
use crate::{Neo4jGraph, corrupt, doc, docs, limit, map, to_json};

/// Projects (and documents) written per transaction by `import`.
const IMPORT_BATCH: usize = 500;

/// What deployments, incidents and builds share in the graph: stored by id,
/// found by project and external id, ordered by their time (`at`: a
/// deployment's or build's start, an incident's opening).
struct Activity<'a> {
    id: String,
    project: &'a ProjectSlug,
    status: &'static str,
    at: Millis,
    external_id: &'a Option<String>,
    /// Deployments only.
    environment: Option<&'a str>,
    doc: String,
}

impl<'a> From<&'a Deployment> for Activity<'a> {
    fn from(d: &'a Deployment) -> Activity<'a> {
        Activity {
            id: d.id.to_string(),
            project: &d.project,
            status: d.status.as_str(),
            at: d.started_at,
            external_id: &d.external_id,
            environment: Some(d.environment.as_str()),
            doc: to_json(d),
        }
    }
}

impl<'a> From<&'a Incident> for Activity<'a> {
    fn from(i: &'a Incident) -> Activity<'a> {
        Activity {
            id: i.id.to_string(),
            project: &i.project,
            status: i.status.as_str(),
            at: i.opened_at,
            external_id: &i.external_id,
            environment: None,
            doc: to_json(i),
        }
    }
}

impl<'a> From<&'a Build> for Activity<'a> {
    fn from(b: &'a Build) -> Activity<'a> {
        Activity {
            id: b.id.to_string(),
            project: &b.project,
            status: b.status.as_str(),
            at: b.started_at,
            external_id: &b.external_id,
            environment: None,
            doc: to_json(b),
        }
    }
}

/// Upserts `records` as `label` nodes (`Deployment`, `Incident`, `Build`: a
/// constant, never input).
fn upsert_activity<'a, T: 'a>(label: &'static str, records: impl IntoIterator<Item = &'a T>) -> Query
where
    &'a T: Into<Activity<'a>>,
{
    let rows: Vec<BoltType> = records
        .into_iter()
        .map(|r| {
            let a: Activity<'_> = r.into();
            map([
                ("id", a.id.into()),
                ("project", a.project.as_str().into()),
                ("status", a.status.into()),
                ("at", a.at.into()),
                ("external_id", a.external_id.clone().into()),
                ("environment", a.environment.map(str::to_owned).into()),
                ("doc", a.doc.into()),
            ])
        })
        .collect();
    query(&format!(
        "UNWIND $rows AS r MERGE (n:{label} {{id: r.id}})
         SET n.project = r.project, n.status = r.status, n.at = r.at, n.external_id = r.external_id,
             n.environment = r.environment, n.doc = r.doc"
    ))
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

pub(crate) fn count(rows: &[crate::bolt::Row]) -> StoreResult<u64> {
    let n: i64 = rows.first().map(|r| r.get("n")).transpose().map_err(corrupt)?.unwrap_or(0);
    Ok(n.max(0) as u64)
}

pub(crate) fn text(s: impl ToString) -> BoltType {
    s.to_string().into()
}

impl Neo4jGraph {
    /// The first `label` node (by id) of `project` with `external_id`, deserialized.
    async fn activity_by_external_id<T: serde::de::DeserializeOwned>(
        &self,
        label: &'static str,
        project: &ProjectSlug,
        external_id: &str,
    ) -> StoreResult<Option<T>> {
        let rows = self
            .rows(
                query(&format!(
                    "MATCH (n:{label} {{project: $project, external_id: $external_id}})
                     RETURN n.doc AS doc ORDER BY n.id LIMIT 1"
                ))
                .param("project", project.as_str())
                .param("external_id", external_id),
            )
            .await?;
        rows.first().map(doc).transpose()
    }
}

/// The `value` of the first row, a ticket's JSON.
fn ticket_value(rows: &[crate::bolt::Row]) -> StoreResult<Option<serde_json::Value>> {
    let Some(row) = rows.first() else { return Ok(None) };
    let text: String = row.get("value").map_err(corrupt)?;
    serde_json::from_str(&text).map(Some).map_err(|e| StoreError::Corrupt(format!("a ticket: {e}")))
}

/// A ticket's node id: its kind and key.
fn ticket_id(kind: &str, key: &str) -> String {
    format!("{kind}:{key}")
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
        self.search_projects(q).await
    }

    async fn count_projects(&self, q: &ProjectQuery) -> StoreResult<u64> {
        self.count_matching(q).await
    }

    async fn project_by_external_id(&self, kind: &str, id: &str) -> StoreResult<Option<ProjectSlug>> {
        let cypher = match kind {
            "github_repository" => {
                "MATCH (p:Project {github_repository: $id}) RETURN p.slug AS slug ORDER BY p.archived, p.slug LIMIT 1"
            }
            "github_repository_id" => {
                "MATCH (p:Project {github_repository_id: $id}) RETURN p.slug AS slug ORDER BY p.archived, p.slug LIMIT 1"
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
        self.package_dependents(q).await
    }

    async fn packages(&self, prefix: &str, n: usize) -> StoreResult<Vec<PackageName>> {
        self.package_names(prefix, n).await
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
        self.run(upsert_activity("Deployment", [deployment])).await
    }

    async fn deployment_by_external_id(
        &self,
        project: &ProjectSlug,
        external_id: &str,
    ) -> StoreResult<Option<Deployment>> {
        self.activity_by_external_id("Deployment", project, external_id).await
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
            conds.push("n.at >= $since");
            params.push(("since", s.into()));
        }
        let filter = if conds.is_empty() { String::new() } else { format!("WHERE {}", conds.join(" AND ")) };
        let cypher = query(&format!(
            "MATCH (n:Deployment) {filter} RETURN n.doc AS doc ORDER BY n.at DESC, n.id DESC LIMIT $limit"
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
                     WITH n ORDER BY n.at DESC, n.id DESC
                     WITH n.environment AS environment, collect(n.doc) AS docs
                     RETURN docs[0] AS doc ORDER BY environment",
                )
                .param("project", project.as_str()),
            )
            .await?;
        docs(&rows)
    }

    async fn put_incident(&self, incident: &Incident) -> StoreResult<()> {
        self.run(upsert_activity("Incident", [incident])).await
    }

    async fn incident_by_external_id(&self, project: &ProjectSlug, external_id: &str) -> StoreResult<Option<Incident>> {
        self.activity_by_external_id("Incident", project, external_id).await
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
            conds.push("n.at >= $since");
            params.push(("since", s.into()));
        }
        let filter = if conds.is_empty() { String::new() } else { format!("WHERE {}", conds.join(" AND ")) };
        let cypher = query(&format!("{head} {filter} RETURN n.doc AS doc ORDER BY n.at DESC, n.id DESC LIMIT $limit"))
            .params(params)
            .param("limit", limit(q.limit));
        docs(&self.rows(cypher).await?)
    }

    async fn put_build(&self, build: &Build) -> StoreResult<()> {
        self.run(upsert_activity("Build", [build])).await
    }

    async fn build_by_external_id(&self, project: &ProjectSlug, external_id: &str) -> StoreResult<Option<Build>> {
        self.activity_by_external_id("Build", project, external_id).await
    }

    async fn list_builds(&self, project: &ProjectSlug, n: usize) -> StoreResult<Vec<Build>> {
        let rows = self
            .rows(
                query(
                    "MATCH (n:Build {project: $project})
                     RETURN n.doc AS doc ORDER BY n.at DESC, n.id DESC LIMIT $limit",
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
                query("MATCH (n:Incident {project: $project}) WHERE n.at >= $since RETURN count(n) AS n")
                    .param("project", slug)
                    .param("since", window_start),
            ),
            self.rows(
                query("MATCH (n:Build {project: $project, status: 'success'}) RETURN max(n.at) AS at")
                    .param("project", slug),
            ),
            self.rows(
                query("MATCH (n:Deployment {project: $project, status: 'succeeded'}) RETURN max(n.at) AS at")
                    .param("project", slug),
            ),
        )?;
        let at = |rows: &[crate::bolt::Row]| -> StoreResult<Option<Millis>> {
            Ok(rows.first().map(|r| r.get::<Option<i64>>("at")).transpose().map_err(corrupt)?.flatten())
        };
        Ok(ScoreInputs {
            incidents_in_window: count(&incidents)?,
            last_green_build_at: at(&build)?,
            last_successful_deploy_at: at(&deploy)?,
            ..Default::default()
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
            .param("operation", run.operation.name())
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

    async fn put_ticket(
        &self,
        kind: &str,
        key: &str,
        value: &serde_json::Value,
        expires_at: Millis,
    ) -> StoreResult<()> {
        self.run(
            query("MERGE (n:Ticket {id: $id}) SET n.value = $value, n.expires_at = $expires_at, n.nonce = $nonce")
                .param("id", ticket_id(kind, key))
                .param("value", value.to_string())
                .param("expires_at", expires_at)
                .param("nonce", uuid::Uuid::new_v4().to_string()),
        )
        .await
    }

    async fn get_ticket(&self, kind: &str, key: &str, now: Millis) -> StoreResult<Option<serde_json::Value>> {
        let rows = self
            .rows(
                query("MATCH (n:Ticket {id: $id}) WHERE n.expires_at > $now RETURN n.value AS value")
                    .param("id", ticket_id(kind, key))
                    .param("now", now),
            )
            .await?;
        ticket_value(&rows)
    }

    async fn take_ticket(&self, kind: &str, key: &str, now: Millis) -> StoreResult<Option<serde_json::Value>> {
        // Two takers can both match the ticket before either deletes it, and a
        // server need not refuse the second delete (ArcadeDB does not). Each
        // taker also creates a marker whose id the ticket's nonce makes unique:
        // the second creation breaks the unique constraint, is tried again,
        // and then finds no ticket. Markers expire with the ticket.
        let rows = self
            .transaction(vec![
                query(
                    "MATCH (n:Ticket {id: $id}) WHERE n.expires_at > $now
                     CREATE (:Ticket {id: $id + '|taken|' + coalesce(n.nonce, 'unversioned'),
                                      value: 'null', expires_at: n.expires_at})
                     WITH n, n.value AS value DELETE n RETURN value",
                )
                .param("id", ticket_id(kind, key))
                .param("now", now),
            ])
            .await?;
        ticket_value(&rows)
    }

    async fn list_tickets(
        &self,
        kind: &str,
        now: Millis,
        limit: usize,
    ) -> StoreResult<Vec<(String, serde_json::Value)>> {
        let prefix = ticket_id(kind, "");
        let rows = self
            .rows(
                query(
                    "MATCH (n:Ticket) WHERE n.id STARTS WITH $prefix AND n.expires_at > $now AND NOT n.id CONTAINS '|taken|'
                     RETURN n.id AS id, n.value AS value ORDER BY n.id LIMIT $limit",
                )
                .param("prefix", prefix.clone())
                .param("now", now)
                .param("limit", limit.clamp(1, 100_000) as i64),
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: String = r.get("id").map_err(corrupt)?;
            let value = ticket_value(std::slice::from_ref(r))?.unwrap_or(serde_json::Value::Null);
            out.push((id[prefix.len()..].to_owned(), value));
        }
        Ok(out)
    }

    async fn claim_ticket(
        &self,
        kind: &str,
        key: &str,
        holder: &str,
        expires_at: Millis,
        now: Millis,
    ) -> StoreResult<bool> {
        // The unique id makes concurrent MERGEs of one ticket wait for each other.
        let rows = self
            .transaction(vec![
                query("MATCH (n:Ticket {id: $id}) WHERE n.expires_at <= $now DELETE n")
                    .param("id", ticket_id(kind, key))
                    .param("now", now),
                query(
                    "MERGE (n:Ticket {id: $id})
                     ON CREATE SET n.value = $holder, n.expires_at = $expires_at
                     RETURN n.value = $holder AS mine",
                )
                .param("id", ticket_id(kind, key))
                .param("holder", serde_json::json!(holder).to_string())
                .param("expires_at", expires_at),
            ])
            .await?;
        Ok(rows.first().and_then(|r| r.get::<bool>("mine").ok()).unwrap_or(false))
    }

    async fn prune_tickets(&self, now: Millis) -> StoreResult<u64> {
        let rows = self
            .rows(
                query("MATCH (n:Ticket) WHERE n.expires_at <= $now WITH n DELETE n RETURN count(*) AS n")
                    .param("now", now),
            )
            .await?;
        Ok(rows.first().and_then(|r| r.get::<i64>("n").ok()).unwrap_or(0).max(0) as u64)
    }

    async fn append_message(&self, m: &ChatMessage, keep: usize) -> StoreResult<()> {
        // The thread node numbers its messages; taking its write lock orders
        // concurrent appends to one thread.
        let keep = keep.max(1).min(i64::MAX as usize) as i64;
        self.transaction(vec![
            query(
                "MERGE (t:Thread {id: $thread})
                 SET t.last = coalesce(t.last, 0) + 1
                 CREATE (m:Message {thread: $thread, seq: t.last, at: $at, author: $author, text: $text, reply: $reply})",
            )
            .param("thread", m.thread.as_str())
            .param("at", m.at)
            .param("author", m.author.as_str())
            .param("text", m.text.as_str())
            .param("reply", m.reply.clone()),
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
                     RETURN m.thread AS thread, m.at AS at, m.author AS author, m.text AS text, m.reply AS reply
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
                reply: r.get::<Option<String>>("reply").map_err(corrupt)?,
            });
        }
        Ok(messages)
    }

    async fn prune_messages(&self, before: Millis) -> StoreResult<u64> {
        // In slices, so one transaction never holds a whole history.
        let mut pruned = 0;
        loop {
            let rows = self
                .rows(
                    query("MATCH (m:Message) WHERE m.at < $before WITH m LIMIT 5000 DELETE m RETURN count(*) AS n")
                        .param("before", before),
                )
                .await?;
            let n = count(&rows)?;
            pruned += n;
            if n < 5000 {
                return Ok(pruned);
            }
        }
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
            self.run(upsert_activity("Deployment", ds)).await?;
        }
        for is in batch.incidents.chunks(IMPORT_BATCH) {
            self.run(upsert_activity("Incident", is)).await?;
        }
        for bs in batch.builds.chunks(IMPORT_BATCH) {
            self.run(upsert_activity("Build", bs)).await?;
        }
        Ok(())
    }
}
