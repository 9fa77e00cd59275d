//! `GraphStore` on SQLite.

use std::collections::BTreeSet;

use async_trait::async_trait;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use switchboard_core::ids::*;
use switchboard_core::model::*;
use switchboard_core::store::*;

use super::SqliteStore;
use super::projects::{Edges, count_projects, dependents, find_projects, get_project, project_fields, upsert_project};
use super::rows::{enum_str, from_json, limit, to_json};

fn upsert_doc(conn: &Connection, sql: &str, args: &[Value]) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute(params_from_iter(args.iter()))?;
    Ok(())
}

fn put_deployment(conn: &Connection, d: &Deployment) -> rusqlite::Result<()> {
    upsert_doc(
        conn,
        "INSERT OR REPLACE INTO deployments (id, project, environment, status, started_at, external_id, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        &[
            Value::Text(d.id.to_string()),
            Value::Text(d.project.to_string()),
            Value::Text(d.environment.to_string()),
            Value::Text(d.status.as_str().into()),
            Value::Integer(d.started_at),
            d.external_id.clone().map(Value::Text).unwrap_or(Value::Null),
            Value::Text(to_json(d)),
        ],
    )
}

fn put_incident(conn: &Connection, i: &Incident) -> rusqlite::Result<()> {
    upsert_doc(
        conn,
        "INSERT OR REPLACE INTO incidents (id, project, status, opened_at, external_id, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &[
            Value::Text(i.id.to_string()),
            Value::Text(i.project.to_string()),
            Value::Text(i.status.as_str().into()),
            Value::Integer(i.opened_at),
            i.external_id.clone().map(Value::Text).unwrap_or(Value::Null),
            Value::Text(to_json(i)),
        ],
    )
}

fn put_build(conn: &Connection, b: &Build) -> rusqlite::Result<()> {
    upsert_doc(
        conn,
        "INSERT OR REPLACE INTO builds (id, project, status, started_at, external_id, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &[
            Value::Text(b.id.to_string()),
            Value::Text(b.project.to_string()),
            Value::Text(b.status.as_str().into()),
            Value::Integer(b.started_at),
            b.external_id.clone().map(Value::Text).unwrap_or(Value::Null),
            Value::Text(to_json(b)),
        ],
    )
}

fn put_team(conn: &Connection, t: &Team) -> rusqlite::Result<()> {
    upsert_doc(
        conn,
        "INSERT OR REPLACE INTO teams (slug, data) VALUES (?1, ?2)",
        &[Value::Text(t.slug.to_string()), Value::Text(to_json(t))],
    )
}

fn put_user(conn: &Connection, u: &User) -> rusqlite::Result<()> {
    upsert_doc(
        conn,
        "INSERT OR REPLACE INTO users (name, data) VALUES (?1, ?2)",
        &[Value::Text(u.name.to_string()), Value::Text(to_json(u))],
    )
}

fn docs<T: serde::de::DeserializeOwned>(conn: &Connection, sql: &str, args: &[Value]) -> rusqlite::Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params_from_iter(args.iter()), |r| from_json::<T>(r, 0))?;
    rows.collect()
}

fn doc<T: serde::de::DeserializeOwned>(conn: &Connection, sql: &str, args: &[Value]) -> rusqlite::Result<Option<T>> {
    Ok(docs(conn, sql, args)?.into_iter().next())
}

fn text(s: impl ToString) -> Value {
    Value::Text(s.to_string())
}

/// A ticket's stored JSON.
fn ticket_value(text: &str) -> StoreResult<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("a ticket: {e}")))
}

#[async_trait]
impl GraphStore for SqliteStore {
    async fn get_project(&self, slug: &ProjectSlug) -> StoreResult<Option<Project>> {
        let slug = slug.to_string();
        self.read(move |c| get_project(c, &slug)).await
    }

    async fn put_project(&self, project: &Project) -> StoreResult<()> {
        let p = project.clone();
        self.write(move |c| upsert_project(c, &p, Edges::Write)).await
    }

    async fn get_project_fields(&self, slug: &ProjectSlug) -> StoreResult<Option<Project>> {
        let slug = slug.to_string();
        self.read(move |c| project_fields(c, &slug)).await
    }

    async fn put_project_fields(&self, project: &Project) -> StoreResult<()> {
        let p = project.clone();
        self.write(move |c| upsert_project(c, &p, Edges::Keep)).await
    }

    async fn find_projects(&self, query: &ProjectQuery) -> StoreResult<Vec<ProjectSummary>> {
        let q = query.clone();
        self.read(move |c| find_projects(c, &q)).await
    }

    async fn count_projects(&self, query: &ProjectQuery) -> StoreResult<u64> {
        let q = query.clone();
        self.read(move |c| count_projects(c, &q)).await
    }

    async fn project_by_external_id(&self, kind: &str, id: &str) -> StoreResult<Option<ProjectSlug>> {
        let column = match kind {
            "github_repository" => "github_repository",
            "github_repository_id" => "github_repository_id",
            "pagerduty_service" => "pagerduty_service",
            _ => return Ok(None),
        };
        let id = id.to_owned();
        let sql = format!("SELECT slug FROM projects WHERE {column} = ?1 ORDER BY archived, slug LIMIT 1");
        let slug: Option<String> =
            self.read(move |c| c.prepare_cached(&sql)?.query_row([id], |r| r.get(0)).optional()).await?;
        Ok(slug.and_then(|s| ProjectSlug::new(s).ok()))
    }

    async fn dependents(&self, query: &DependentsQuery) -> StoreResult<Dependents> {
        let q = query.clone();
        self.read(move |c| dependents(c, &q)).await
    }

    async fn packages_in_use(&self, packages: &[(Ecosystem, String)]) -> StoreResult<BTreeSet<(Ecosystem, String)>> {
        let packages = packages.to_vec();
        self.read(move |c| {
            // The per-version counts cover active projects only: one key lookup a package.
            let mut stmt = c.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM package_versions WHERE package = ?1 AND ecosystem = ?2 AND projects > 0)",
            )?;
            let mut out = BTreeSet::new();
            for (ecosystem, name) in packages {
                if stmt.query_row(params![name, ecosystem.as_str()], |r| r.get::<_, bool>(0))? {
                    out.insert((ecosystem, name));
                }
            }
            Ok(out)
        })
        .await
    }

    async fn packages(&self, prefix: &str, limit: usize) -> StoreResult<Vec<PackageName>> {
        let (prefix, limit) = (prefix.to_owned(), self::limit(limit));
        let names: Vec<String> = self
            .read(move |c| {
                // Range scan on the primary key instead of LIKE, which ignores the index.
                let mut stmt = c.prepare_cached(
                    "SELECT DISTINCT package FROM package_versions WHERE package >= ?1 AND package < ?1 || char(1114111) ORDER BY package LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![prefix, limit], |r| r.get(0))?;
                rows.collect()
            })
            .await?;
        Ok(names.into_iter().filter_map(|n| PackageName::new(n).ok()).collect())
    }

    async fn get_team(&self, slug: &TeamSlug) -> StoreResult<Option<Team>> {
        let args = [text(slug)];
        self.read(move |c| doc(c, "SELECT data FROM teams WHERE slug = ?1", &args)).await
    }

    async fn put_team(&self, team: &Team) -> StoreResult<()> {
        let t = team.clone();
        self.write(move |c| put_team(c, &t)).await
    }

    async fn list_teams(&self) -> StoreResult<Vec<Team>> {
        self.read(|c| docs(c, "SELECT data FROM teams ORDER BY slug", &[])).await
    }

    async fn get_user(&self, name: &UserName) -> StoreResult<Option<User>> {
        let args = [text(name)];
        self.read(move |c| doc(c, "SELECT data FROM users WHERE name = ?1", &args)).await
    }

    async fn put_user(&self, user: &User) -> StoreResult<()> {
        let u = user.clone();
        self.write(move |c| put_user(c, &u)).await
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        self.read(|c| docs(c, "SELECT data FROM users ORDER BY name", &[])).await
    }

    async fn put_deployment(&self, deployment: &Deployment) -> StoreResult<()> {
        let d = deployment.clone();
        self.write(move |c| put_deployment(c, &d)).await
    }

    async fn deployment_by_external_id(
        &self,
        project: &ProjectSlug,
        external_id: &str,
    ) -> StoreResult<Option<Deployment>> {
        let args = [text(project), text(external_id)];
        self.read(move |c| {
            doc(c, "SELECT data FROM deployments WHERE project = ?1 AND external_id = ?2 ORDER BY id LIMIT 1", &args)
        })
        .await
    }

    async fn list_deployments(&self, q: &DeploymentQuery) -> StoreResult<Vec<Deployment>> {
        let mut conds = Vec::new();
        let mut args = Vec::new();
        if let Some(p) = &q.project {
            args.push(text(p));
            conds.push(format!("project = ?{}", args.len()));
        }
        if let Some(e) = &q.environment {
            args.push(text(e));
            conds.push(format!("environment = ?{}", args.len()));
        }
        if let Some(s) = q.since {
            args.push(Value::Integer(s));
            conds.push(format!("started_at >= ?{}", args.len()));
        }
        let filter = if conds.is_empty() { String::new() } else { format!("WHERE {}", conds.join(" AND ")) };
        args.push(Value::Integer(limit(q.limit)));
        let sql =
            format!("SELECT data FROM deployments {filter} ORDER BY started_at DESC, id DESC LIMIT ?{}", args.len());
        self.read(move |c| docs(c, &sql, &args)).await
    }

    async fn current_deployments(&self, project: &ProjectSlug) -> StoreResult<Vec<Deployment>> {
        let args = [text(project)];
        // SQLite takes the bare `data` column from the row holding max(started_at).
        self.read(move |c| {
            docs(
                c,
                "SELECT data, max(started_at) FROM deployments WHERE project = ?1 AND status = 'succeeded' GROUP BY environment ORDER BY environment",
                &args,
            )
        })
        .await
    }

    async fn put_incident(&self, incident: &Incident) -> StoreResult<()> {
        let i = incident.clone();
        self.write(move |c| put_incident(c, &i)).await
    }

    async fn incident_by_external_id(&self, project: &ProjectSlug, external_id: &str) -> StoreResult<Option<Incident>> {
        let args = [text(project), text(external_id)];
        self.read(move |c| {
            doc(c, "SELECT data FROM incidents WHERE project = ?1 AND external_id = ?2 ORDER BY id LIMIT 1", &args)
        })
        .await
    }

    async fn list_incidents(&self, q: &IncidentQuery) -> StoreResult<Vec<Incident>> {
        let mut conds = Vec::new();
        let mut args = Vec::new();
        if let Some(p) = &q.project {
            args.push(text(p));
            conds.push(format!("i.project = ?{}", args.len()));
        }
        if let Some(t) = &q.team {
            args.push(text(t));
            conds.push(format!("i.project IN (SELECT slug FROM projects WHERE team = ?{})", args.len()));
        }
        if let Some(s) = q.status {
            args.push(text(s.as_str()));
            conds.push(format!("i.status = ?{}", args.len()));
        }
        if let Some(s) = q.since {
            args.push(Value::Integer(s));
            conds.push(format!("i.opened_at >= ?{}", args.len()));
        }
        let filter = if conds.is_empty() { String::new() } else { format!("WHERE {}", conds.join(" AND ")) };
        args.push(Value::Integer(limit(q.limit)));
        let sql = format!(
            "SELECT i.data FROM incidents i {filter} ORDER BY i.opened_at DESC, i.id DESC LIMIT ?{}",
            args.len()
        );
        self.read(move |c| docs(c, &sql, &args)).await
    }

    async fn put_build(&self, build: &Build) -> StoreResult<()> {
        let b = build.clone();
        self.write(move |c| put_build(c, &b)).await
    }

    async fn build_by_external_id(&self, project: &ProjectSlug, external_id: &str) -> StoreResult<Option<Build>> {
        let args = [text(project), text(external_id)];
        self.read(move |c| {
            doc(c, "SELECT data FROM builds WHERE project = ?1 AND external_id = ?2 ORDER BY id LIMIT 1", &args)
        })
        .await
    }

    async fn list_builds(&self, project: &ProjectSlug, n: usize) -> StoreResult<Vec<Build>> {
        let args = [text(project), Value::Integer(limit(n))];
        self.read(move |c| {
            docs(c, "SELECT data FROM builds WHERE project = ?1 ORDER BY started_at DESC, id DESC LIMIT ?2", &args)
        })
        .await
    }

    async fn score_inputs(&self, project: &ProjectSlug, window_start: Millis) -> StoreResult<ScoreInputs> {
        let slug = project.to_string();
        self.read(move |c| {
            let incidents: i64 = c
                .prepare_cached("SELECT count(*) FROM incidents WHERE project = ?1 AND opened_at >= ?2")?
                .query_row(params![slug, window_start], |r| r.get(0))?;
            let build: Option<i64> = c
                .prepare_cached("SELECT max(started_at) FROM builds WHERE project = ?1 AND status = 'success'")?
                .query_row([&slug], |r| r.get(0))?;
            let deploy: Option<i64> = c
                .prepare_cached("SELECT max(started_at) FROM deployments WHERE project = ?1 AND status = 'succeeded'")?
                .query_row([&slug], |r| r.get(0))?;
            Ok(ScoreInputs {
                incidents_in_window: incidents as u64,
                last_green_build_at: build,
                last_successful_deploy_at: deploy,
                ..Default::default()
            })
        })
        .await
    }

    async fn put_run(&self, run: &Run) -> StoreResult<()> {
        let args = [text(run.id), text(enum_str(&run.status)), Value::Text(to_json(run))];
        // An upsert that leaves the queue's columns (lease, next attempt) alone.
        let sql = "INSERT INTO runs (id, status, data) VALUES (?1, ?2, ?3)
                   ON CONFLICT(id) DO UPDATE SET status = excluded.status, data = excluded.data";
        self.write(move |c| upsert_doc(c, sql, &args)).await
    }

    async fn get_run(&self, id: &RunId) -> StoreResult<Option<Run>> {
        let args = [text(id)];
        self.read(move |c| doc(c, "SELECT data FROM runs WHERE id = ?1", &args)).await
    }

    async fn list_runs(&self, status: Option<RunStatus>, n: usize) -> StoreResult<Vec<Run>> {
        let (sql, args) = match status {
            Some(s) => (
                "SELECT data FROM runs WHERE status = ?1 ORDER BY id DESC LIMIT ?2",
                vec![text(s.as_str()), Value::Integer(limit(n))],
            ),
            None => ("SELECT data FROM runs ORDER BY id DESC LIMIT ?1", vec![Value::Integer(limit(n))]),
        };
        self.read(move |c| docs(c, sql, &args)).await
    }

    async fn put_token(&self, token: &ApiToken) -> StoreResult<()> {
        let args = [
            text(&token.id),
            text(&token.hash),
            text(&token.user),
            Value::Integer(token.created_at),
            Value::Text(to_json(token)),
        ];
        self.write(move |c| {
            upsert_doc(
                c,
                "INSERT OR REPLACE INTO tokens (id, hash, user, created_at, data) VALUES (?1, ?2, ?3, ?4, ?5)",
                &args,
            )
        })
        .await
    }

    async fn get_token(&self, id: &str) -> StoreResult<Option<ApiToken>> {
        let args = [text(id)];
        self.read(move |c| doc(c, "SELECT data FROM tokens WHERE id = ?1", &args)).await
    }

    async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<ApiToken>> {
        let args = [text(hash)];
        self.read(move |c| doc(c, "SELECT data FROM tokens WHERE hash = ?1", &args)).await
    }

    async fn list_tokens(&self, user: Option<&UserName>) -> StoreResult<Vec<ApiToken>> {
        let (sql, args) = match user {
            Some(u) => ("SELECT data FROM tokens WHERE user = ?1 ORDER BY created_at DESC, id DESC", vec![text(u)]),
            None => ("SELECT data FROM tokens ORDER BY created_at DESC, id DESC", vec![]),
        };
        self.read(move |c| docs(c, sql, &args)).await
    }

    async fn set_password_hash(&self, user: &UserName, hash: &str) -> StoreResult<()> {
        let args = [text(user), text(hash)];
        self.write(move |c| {
            upsert_doc(c, "INSERT OR REPLACE INTO credentials (user, password_hash) VALUES (?1, ?2)", &args)
        })
        .await
    }

    async fn password_hash(&self, user: &UserName) -> StoreResult<Option<String>> {
        let user = user.to_string();
        self.read(move |c| {
            c.prepare_cached("SELECT password_hash FROM credentials WHERE user = ?1")?
                .query_row([user], |r| r.get(0))
                .optional()
        })
        .await
    }

    async fn put_session(&self, session: &Session) -> StoreResult<()> {
        let args = [
            text(&session.hash),
            text(&session.user),
            Value::Integer(session.expires_at),
            Value::Text(to_json(session)),
        ];
        self.write(move |c| {
            upsert_doc(
                c,
                "INSERT OR REPLACE INTO sessions (hash, user, expires_at, data) VALUES (?1, ?2, ?3, ?4)",
                &args,
            )
        })
        .await
    }

    async fn session_by_hash(&self, hash: &str) -> StoreResult<Option<Session>> {
        let args = [text(hash)];
        self.read(move |c| doc(c, "SELECT data FROM sessions WHERE hash = ?1", &args)).await
    }

    async fn delete_session(&self, hash: &str) -> StoreResult<()> {
        let args = [text(hash)];
        self.write(move |c| upsert_doc(c, "DELETE FROM sessions WHERE hash = ?1", &args)).await
    }

    async fn put_ticket(
        &self,
        kind: &str,
        key: &str,
        value: &serde_json::Value,
        expires_at: Millis,
    ) -> StoreResult<()> {
        let args = [text(kind), text(key), Value::Text(value.to_string()), Value::Integer(expires_at)];
        self.write(move |c| {
            upsert_doc(
                c,
                "INSERT OR REPLACE INTO tickets (kind, key, value, expires_at) VALUES (?1, ?2, ?3, ?4)",
                &args,
            )
        })
        .await
    }

    async fn get_ticket(&self, kind: &str, key: &str, now: Millis) -> StoreResult<Option<serde_json::Value>> {
        let (kind, key) = (kind.to_owned(), key.to_owned());
        let found: Option<String> = self
            .read(move |c| {
                c.prepare_cached("SELECT value FROM tickets WHERE kind = ?1 AND key = ?2 AND expires_at > ?3")?
                    .query_row(params![kind, key, now], |r| r.get(0))
                    .optional()
            })
            .await?;
        found.as_deref().map(ticket_value).transpose()
    }

    async fn take_ticket(&self, kind: &str, key: &str, now: Millis) -> StoreResult<Option<serde_json::Value>> {
        let (kind, key) = (kind.to_owned(), key.to_owned());
        let taken: Option<String> = self
            .write(move |c| {
                c.prepare_cached(
                    "DELETE FROM tickets WHERE kind = ?1 AND key = ?2 AND expires_at > ?3 RETURNING value",
                )?
                .query_row(params![kind, key, now], |r| r.get(0))
                .optional()
            })
            .await?;
        taken.as_deref().map(ticket_value).transpose()
    }

    async fn claim_ticket(
        &self,
        kind: &str,
        key: &str,
        holder: &str,
        expires_at: Millis,
        now: Millis,
    ) -> StoreResult<bool> {
        let (kind, key, holder) = (kind.to_owned(), key.to_owned(), serde_json::json!(holder).to_string());
        self.write(move |c| {
            c.execute(
                "DELETE FROM tickets WHERE kind = ?1 AND key = ?2 AND expires_at <= ?3",
                params![kind, key, now],
            )?;
            let added = c.execute(
                "INSERT OR IGNORE INTO tickets (kind, key, value, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![kind, key, holder, expires_at],
            )?;
            Ok(added == 1)
        })
        .await
    }

    async fn list_tickets(
        &self,
        kind: &str,
        now: Millis,
        limit: usize,
    ) -> StoreResult<Vec<(String, serde_json::Value)>> {
        let kind = kind.to_owned();
        let limit = limit.clamp(1, 100_000) as i64;
        let rows: Vec<(String, String)> = self
            .read(move |c| {
                c.prepare_cached(
                    "SELECT key, value FROM tickets WHERE kind = ?1 AND expires_at > ?2 ORDER BY key LIMIT ?3",
                )?
                .query_map(params![kind, now, limit], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
            })
            .await?;
        rows.into_iter().map(|(k, v)| Ok((k, ticket_value(&v)?))).collect()
    }

    async fn prune_tickets(&self, now: Millis) -> StoreResult<u64> {
        self.write(move |c| c.execute("DELETE FROM tickets WHERE expires_at <= ?1", params![now]))
            .await
            .map(|n| n as u64)
    }

    async fn append_message(&self, m: &ChatMessage, keep: usize) -> StoreResult<()> {
        let m = m.clone();
        let keep = keep.max(1) as i64;
        self.write(move |c| {
            c.prepare_cached("INSERT INTO messages (thread, at, author, text, reply) VALUES (?1, ?2, ?3, ?4, ?5)")?
                .execute(params![m.thread, m.at, m.author, m.text, m.reply])?;
            c.prepare_cached(
                "DELETE FROM messages WHERE thread = ?1 AND id <= (SELECT id FROM messages WHERE thread = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
            )?
            .execute(params![m.thread, keep])?;
            Ok(())
        })
        .await
    }

    async fn thread_messages(&self, thread: &str, limit: usize) -> StoreResult<Vec<ChatMessage>> {
        let (thread, limit) = (thread.to_owned(), self::limit(limit));
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT thread, at, author, text, reply FROM (SELECT * FROM messages WHERE thread = ?1 ORDER BY id DESC LIMIT ?2) ORDER BY id",
            )?;
            let rows = stmt.query_map(params![thread, limit], |r| {
                Ok(ChatMessage { thread: r.get(0)?, at: r.get(1)?, author: r.get(2)?, text: r.get(3)?, reply: r.get(4)? })
            })?;
            rows.collect()
        })
        .await
    }

    async fn prune_messages(&self, before: Millis) -> StoreResult<u64> {
        self.write(move |c| c.prepare_cached("DELETE FROM messages WHERE at < ?1")?.execute(params![before]))
            .await
            .map(|n| n as u64)
    }

    async fn counts(&self) -> StoreResult<Counts> {
        self.read(|c| {
            let n = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0)).map(|v| v as u64);
            Ok(Counts {
                projects: n("SELECT count(*) FROM projects WHERE archived = 0")?,
                teams: n("SELECT count(*) FROM teams")?,
                dependencies: n("SELECT coalesce(sum(projects), 0) FROM package_versions")?,
                deployments: n("SELECT count(*) FROM deployments")?,
                open_incidents: n("SELECT count(*) FROM incidents WHERE status != 'resolved'")?,
                pending_runs: n("SELECT count(*) FROM runs WHERE status = 'pending'")?,
            })
        })
        .await
    }

    async fn import(&self, batch: &GraphBatch) -> StoreResult<()> {
        let b = batch.clone();
        self.write(move |c| super::with_bulk_cache(c, |c| import(c, &b))).await
    }
}

/// A bulk load's rows, in one write.
fn import(c: &Connection, b: &GraphBatch) -> rusqlite::Result<()> {
    for u in &b.users {
        put_user(c, u)?;
    }
    for t in &b.teams {
        put_team(c, t)?;
    }
    for p in &b.projects {
        upsert_project(c, p, Edges::Write)?;
    }
    for d in &b.deployments {
        put_deployment(c, d)?;
    }
    for i in &b.incidents {
        put_incident(c, i)?;
    }
    for x in &b.builds {
        put_build(c, x)?;
    }
    Ok(())
}
