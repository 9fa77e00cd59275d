//! Projects on SQLite: the upsert that keeps edges, facts, per-version counts
//! and the search index in step, and the queries over them (lookup, search,
//! dependents).

use std::collections::{HashMap, HashSet};

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use switchboard_core::ids::*;
use switchboard_core::model::*;
use switchboard_core::store::*;

use super::rows::{from_json, fts_query, id_error, limit, to_json};

/// A stored dependency edge beside the project's key `(package, ecosystem)`:
/// version, transitive, team, archived, detail.
type EdgeRow = (String, bool, String, bool, Option<String>);

/// What [`upsert_project`] does with the project's dependency edges.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Edges {
    /// Written from `p.dependencies` (where they changed).
    Write,
    /// Left as stored; `p.dependencies` is not read.
    Keep,
}

/// A project's row as stored, as much as [`upsert_project`] compares.
struct StoredRow {
    rowid: i64,
    name: String,
    description: String,
    edges_digest: Option<i64>,
    team: String,
    archived: bool,
}

/// Writes `p` as it is now, touching only what changed since it was stored:
/// a fact set on a project with hundreds of edges rewrites one fact and the
/// search row, not every edge and its per-version counts.
pub(crate) fn upsert_project(conn: &Connection, p: &Project, edges: Edges) -> rusqlite::Result<()> {
    let slug = p.slug.as_str();
    let before = conn
        .prepare_cached("SELECT rowid, name, description, edges_digest, team, archived FROM projects WHERE slug = ?1")?
        .query_row([slug], |r| {
            Ok(StoredRow {
                rowid: r.get(0)?,
                name: r.get(1)?,
                description: r.get(2)?,
                edges_digest: r.get(3)?,
                team: r.get(4)?,
                archived: r.get(5)?,
            })
        })
        .optional()?;
    let stored_digest = before.as_ref().and_then(|b| b.edges_digest);
    // The edges carry the team and the archived mark: kept only while those are.
    let kept = before.as_ref().filter(|b| b.team == p.team.as_str() && b.archived == p.archived).and(stored_digest);
    let digest = match (edges, kept) {
        (Edges::Keep, Some(kept)) => kept,
        (Edges::Keep, None) => {
            // New, moved or archived, or written before digests: the stored edges rewritten.
            let mut whole = p.clone();
            whole.dependencies = get_project(conn, slug)?.map(|s| s.dependencies).unwrap_or_default();
            return upsert_project(conn, &whole, Edges::Write);
        }
        (Edges::Write, _) => edges_digest(p),
    };
    let mut stored = p.clone();
    stored.dependencies.clear();
    conn.prepare_cached(
        "INSERT INTO projects (slug, name, description, team, project_type, archived, score, github_repository, pagerduty_service, data, github_repository_id, edges_digest)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT(slug) DO UPDATE SET name = excluded.name, description = excluded.description, team = excluded.team,
           project_type = excluded.project_type, archived = excluded.archived, score = excluded.score,
           github_repository = excluded.github_repository, pagerduty_service = excluded.pagerduty_service, data = excluded.data,
           github_repository_id = excluded.github_repository_id, edges_digest = excluded.edges_digest",
    )?
    .execute(params![
        slug,
        p.name,
        p.description,
        p.team.as_str(),
        p.project_type.as_str(),
        p.archived,
        p.score,
        p.external_ids.github_repository,
        p.external_ids.pagerduty_service,
        to_json(&stored),
        p.external_ids.github_repository_id,
        digest,
    ])?;
    let rowid = before.as_ref().map_or_else(|| conn.last_insert_rowid(), |b| b.rowid);
    if stored_digest != Some(digest) {
        write_edges(conn, p)?;
    }
    let fact_text = write_facts(conn, p)?;
    // The search row, when what it holds changed (facts are most of it).
    let old_text: Option<String> = match &before {
        Some(b) if b.name == p.name && b.description == p.description => conn
            .prepare_cached("SELECT facts FROM project_search WHERE rowid = ?1")?
            .query_row([rowid], |r| r.get(0))
            .optional()?,
        _ => None,
    };
    if old_text.as_deref() != Some(fact_text.as_str()) {
        conn.prepare_cached(
            "INSERT OR REPLACE INTO temp.search_pending (id, slug, name, description, facts) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![rowid, slug.replace('-', " "), p.name, p.description, fact_text])?;
    } else {
        // Back to what the index holds: a row an earlier write of this
        // transaction left for it is not written.
        conn.prepare_cached("DELETE FROM temp.search_pending WHERE id = ?1")?.execute([rowid])?;
    }
    Ok(())
}

/// The search rows written when their transaction ends ([`write_search_rows`]),
/// the last one of each project, on the writer's connection only. A
/// temporary table, so a write rolled back to its savepoint takes its row
/// with it (and brings back the one it replaced).
pub(crate) const SEARCH_PENDING: &str = "CREATE TEMP TABLE IF NOT EXISTS search_pending (
    id INTEGER PRIMARY KEY, slug TEXT NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL, facts TEXT NOT NULL)";

/// Writes the search rows of the projects changed in this transaction, once
/// each, after every write's savepoint has ended. Written inside each write,
/// the full-text index flushed its pending terms to a new segment at every
/// savepoint: under a flood of webhooks that and the merges it caused were a
/// sixth of the writer's time.
pub(crate) fn write_search_rows(conn: &Connection) -> rusqlite::Result<()> {
    let pending: bool =
        conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM temp.search_pending)")?.query_row([], |r| r.get(0))?;
    if !pending {
        return Ok(());
    }
    conn.prepare_cached("DELETE FROM project_search WHERE rowid IN (SELECT id FROM temp.search_pending)")?
        .execute([])?;
    conn.prepare_cached(
        "INSERT INTO project_search (rowid, slug, name, description, facts)
         SELECT id, slug, name, description, facts FROM temp.search_pending",
    )?
    .execute([])?;
    conn.prepare_cached("DELETE FROM temp.search_pending")?.execute([])?;
    Ok(())
}

/// What the project's edges are written from: its team, archived mark and
/// every edge. Another build may hash differently; a digest that differs
/// only means the edges are compared row by row.
fn edges_digest(p: &Project) -> i64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    (p.team.as_str(), p.archived, p.dependencies.len()).hash(&mut h);
    for d in &p.dependencies {
        (d.package.as_str(), d.ecosystem.as_str(), d.version.as_str(), d.transitive, detail(d)).hash(&mut h);
    }
    h.finish() as i64
}

/// The project's edges and the per-version counts of live (non-archived)
/// dependents, changed only where an edge was added, removed or changed.
fn write_edges(conn: &Connection, p: &Project) -> rusqlite::Result<()> {
    let slug = p.slug.as_str();
    let old: HashMap<(String, String), EdgeRow> = conn
        .prepare_cached(
            "SELECT package, ecosystem, version, transitive, team, archived, detail FROM dependencies WHERE project = ?1",
        )?
        .query_map([slug], |r| Ok(((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))))?
        .collect::<rusqlite::Result<_>>()?;
    let new: HashMap<(String, String), EdgeRow> = p
        .dependencies
        .iter()
        .map(|d| {
            let key = (d.package.as_str().to_owned(), d.ecosystem.as_str().to_owned());
            (key, (d.version.as_str().to_owned(), d.transitive, p.team.as_str().to_owned(), p.archived, detail(d)))
        })
        .collect();
    // What an edge adds to its version's count: (projects, direct), none when archived.
    let counted = |row: &EdgeRow| (!row.3).then(|| (row.0.clone(), i64::from(!row.1)));
    let mut uncount = conn.prepare_cached(
        "UPDATE package_versions SET projects = projects - 1, direct = direct - ?4
         WHERE package = ?1 AND ecosystem = ?2 AND version = ?3",
    )?;
    let mut forget = conn.prepare_cached(
        "DELETE FROM package_versions WHERE package = ?1 AND ecosystem = ?2 AND version = ?3 AND projects <= 0",
    )?;
    let mut count = conn.prepare_cached(
        "INSERT INTO package_versions (package, ecosystem, version, projects, direct) VALUES (?1, ?2, ?3, 1, ?4)
         ON CONFLICT (package, ecosystem, version) DO UPDATE SET projects = projects + 1, direct = direct + ?4",
    )?;
    let mut remove =
        conn.prepare_cached("DELETE FROM dependencies WHERE package = ?1 AND project = ?2 AND ecosystem = ?3")?;
    let mut put = conn.prepare_cached(
        "INSERT INTO dependencies (package, project, ecosystem, version, team, archived, detail, transitive)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (package, project, ecosystem) DO UPDATE SET version = excluded.version, team = excluded.team,
           archived = excluded.archived, detail = excluded.detail, transitive = excluded.transitive",
    )?;
    for ((package, ecosystem), row) in &old {
        if new.contains_key(&(package.clone(), ecosystem.clone())) {
            continue;
        }
        remove.execute(params![package, slug, ecosystem])?;
        if let Some((version, direct)) = counted(row) {
            uncount.execute(params![package, ecosystem, version, direct])?;
            forget.execute(params![package, ecosystem, version])?;
        }
    }
    for ((package, ecosystem), row) in &new {
        let was = old.get(&(package.clone(), ecosystem.clone()));
        if was == Some(row) {
            continue;
        }
        let (version, transitive, team, archived, detail) = row;
        put.execute(params![package, slug, ecosystem, version, team, archived, detail, transitive])?;
        let (before, after) = (was.and_then(counted), counted(row));
        if before != after {
            if let Some((version, direct)) = before {
                uncount.execute(params![package, ecosystem, version, direct])?;
                forget.execute(params![package, ecosystem, version])?;
            }
            if let Some((version, direct)) = after {
                count.execute(params![package, ecosystem, version, direct])?;
            }
        }
    }
    Ok(())
}

/// The project's facts, changed only where a value was set or removed;
/// returns their values as the search row holds them.
fn write_facts(conn: &Connection, p: &Project) -> rusqlite::Result<String> {
    let slug = p.slug.as_str();
    let old: HashMap<String, String> = conn
        .prepare_cached("SELECT key, value FROM facts WHERE project = ?1")?
        .query_map([slug], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut put = conn.prepare_cached(
        "INSERT INTO facts (project, key, value) VALUES (?1, ?2, ?3)
         ON CONFLICT (project, key) DO UPDATE SET value = excluded.value",
    )?;
    let mut text = String::new();
    for f in p.facts.values() {
        let v = f.value.to_string();
        if old.get(f.key.as_str()) != Some(&v) {
            put.execute(params![slug, f.key.as_str(), v])?;
        }
        if f.value.is_searched() {
            text.push_str(&v);
            text.push(' ');
        }
    }
    let kept: HashSet<&str> = p.facts.keys().map(|k| k.as_str()).collect();
    let mut remove = conn.prepare_cached("DELETE FROM facts WHERE project = ?1 AND key = ?2")?;
    for key in old.keys().filter(|k| !kept.contains(k.as_str())) {
        remove.execute(params![slug, key])?;
    }
    Ok(text)
}

/// The project as its row holds it: everything but its dependencies.
pub(crate) fn project_fields(conn: &Connection, slug: &str) -> rusqlite::Result<Option<Project>> {
    conn.prepare_cached("SELECT data FROM projects WHERE slug = ?1")?
        .query_row([slug], |r| from_json::<Project>(r, 0))
        .optional()
}

pub(crate) fn get_project(conn: &Connection, slug: &str) -> rusqlite::Result<Option<Project>> {
    let Some(mut p) = project_fields(conn, slug)? else {
        return Ok(None);
    };
    let mut stmt =
        conn.prepare_cached("SELECT ecosystem, package, version, detail FROM dependencies WHERE project = ?1")?;
    let rows = stmt.query_map([slug], |r| {
        let eco: String = r.get(0)?;
        let mut d = Dependency::new(
            Ecosystem::parse(&eco).unwrap_or(Ecosystem::Other),
            PackageName::new(r.get::<_, String>(1)?).map_err(|e| id_error(1, e))?,
            Version::new(r.get::<_, String>(2)?).map_err(|e| id_error(2, e))?,
        );
        if r.get_ref(3)? != rusqlite::types::ValueRef::Null {
            let detail: Detail = from_json(r, 3)?;
            (d.requirement, d.transitive, d.scope, d.source) =
                (detail.requirement, detail.transitive, detail.scope, detail.source);
        }
        Ok(d)
    })?;
    p.dependencies = rows.collect::<rusqlite::Result<_>>()?;
    p.dependencies.sort();
    Ok(Some(p))
}

/// A dependency edge's `detail` column: what it carries beyond its version.
#[derive(serde::Serialize, serde::Deserialize)]
struct Detail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    requirement: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    transitive: bool,
    #[serde(default, skip_serializing_if = "DependencyScope::is_runtime")]
    scope: DependencyScope,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source: Option<String>,
}

/// `NULL` for a plain edge (most of them: no JSON to store or read).
fn detail(d: &Dependency) -> Option<String> {
    let plain = d.requirement.is_none() && !d.transitive && d.scope.is_runtime() && d.source.is_none();
    (!plain).then(|| {
        let detail = Detail {
            requirement: d.requirement.clone(),
            transitive: d.transitive,
            scope: d.scope,
            source: d.source.clone(),
        };
        serde_json::to_string(&detail).expect("a dependency's detail serializes")
    })
}

fn summary(r: &rusqlite::Row<'_>) -> rusqlite::Result<ProjectSummary> {
    Ok(ProjectSummary {
        slug: ProjectSlug::new(r.get::<_, String>(0)?).map_err(|e| id_error(0, e))?,
        name: r.get(1)?,
        team: TeamSlug::new(r.get::<_, String>(2)?).map_err(|e| id_error(2, e))?,
        project_type: ProjectType::new(r.get::<_, String>(3)?).map_err(|e| id_error(3, e))?,
        description: r.get(4)?,
        score: r.get(5)?,
        archived: r.get(6)?,
    })
}

/// `FROM … WHERE …` of a project query, its arguments, and whether it searches text.
/// `text` is the FTS5 expression to match, if any.
fn project_filter(q: &ProjectQuery, text: Option<String>) -> (String, Vec<Value>, bool) {
    let mut sql = String::from(" FROM projects p");
    let mut args: Vec<Value> = Vec::new();
    let mut conds: Vec<&str> = Vec::new();
    if let Some(t) = &text {
        sql.push_str(" JOIN project_search s ON s.rowid = p.rowid");
        conds.push("project_search MATCH ?");
        args.push(Value::Text(t.clone()));
    }
    if !q.include_archived {
        conds.push("p.archived = 0");
    }
    if let Some(t) = &q.team {
        conds.push("p.team = ?");
        args.push(Value::Text(t.to_string()));
    }
    if let Some(t) = &q.project_type {
        conds.push("p.project_type = ?");
        args.push(Value::Text(t.to_string()));
    }
    if let Some((package, version)) = &q.uses {
        args.push(Value::Text(package.to_string()));
        if let Some(v) = version {
            conds.push(
                "EXISTS (SELECT 1 FROM dependencies d WHERE d.package = ? AND d.project = p.slug AND d.version = ?)",
            );
            args.push(Value::Text(v.to_string()));
        } else {
            conds.push("EXISTS (SELECT 1 FROM dependencies d WHERE d.package = ? AND d.project = p.slug)");
        }
    }
    if let Some((key, value)) = &q.fact {
        conds.push("EXISTS (SELECT 1 FROM facts f WHERE f.project = p.slug AND f.key = ? AND f.value = ?)");
        args.push(Value::Text(key.to_string()));
        args.push(Value::Text(value.clone()));
    }
    if !conds.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    (sql, args, text.is_some())
}

/// Above this many text matches, ranking every match costs more than it is
/// worth: results are then name matches first, oldest project first.
const RANKED_SEARCH_LIMIT: i64 = 2000;

pub(crate) fn find_projects(conn: &Connection, q: &ProjectQuery) -> rusqlite::Result<Vec<ProjectSummary>> {
    const COLUMNS: &str = "SELECT p.slug, p.name, p.team, p.project_type, p.description, p.score, p.archived";
    let Some(text) = q.text.as_deref().and_then(fts_query) else {
        let (filter, mut args, _) = project_filter(q, None);
        args.push(Value::Integer(limit(q.limit)));
        args.push(Value::Integer(q.offset.min(i64::MAX as usize) as i64));
        return select(conn, &format!("{COLUMNS}{filter} ORDER BY p.slug LIMIT ? OFFSET ?"), &args);
    };
    if q.offset > 0 {
        // A search's page: its first `offset + limit` matches, the first skipped.
        let first = ProjectQuery { limit: (limit(q.limit) as usize).saturating_add(q.offset), offset: 0, ..q.clone() };
        let mut found = find_projects(conn, &first)?;
        return Ok(found.split_off(q.offset.min(found.len())));
    }
    let matches: i64 = conn
        .prepare_cached("SELECT count(*) FROM (SELECT 1 FROM project_search WHERE project_search MATCH ?1 LIMIT ?2)")?
        .query_row(params![text, RANKED_SEARCH_LIMIT + 1], |r| r.get(0))?;
    if matches <= RANKED_SEARCH_LIMIT {
        let (filter, mut args, _) = project_filter(q, Some(text));
        args.push(Value::Integer(limit(q.limit)));
        return select(conn, &format!("{COLUMNS}{filter} ORDER BY s.rank, p.slug LIMIT ?"), &args);
    }
    // Broad search: name and slug matches first, then the rest, each in rowid
    // (creation) order, which the full-text index returns without sorting.
    let names = format!("{{slug name}} : ({text})");
    let (filter, mut args, _) = project_filter(q, Some(names.clone()));
    args.push(Value::Integer(limit(q.limit)));
    let mut found = select(conn, &format!("{COLUMNS}{filter} ORDER BY s.rowid LIMIT ?"), &args)?;
    let missing = limit(q.limit) - found.len() as i64;
    if missing > 0 {
        let (filter, mut args, _) = project_filter(q, Some(text));
        args.push(Value::Text(names));
        args.push(Value::Integer(missing));
        let sql = format!(
            "{COLUMNS}{filter} AND s.rowid NOT IN (SELECT rowid FROM project_search WHERE project_search MATCH ?) ORDER BY s.rowid LIMIT ?"
        );
        found.extend(select(conn, &sql, &args)?);
    }
    Ok(found)
}

fn select(conn: &Connection, sql: &str, args: &[Value]) -> rusqlite::Result<Vec<ProjectSummary>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params_from_iter(args.iter()), summary)?;
    rows.collect()
}

pub(crate) fn count_projects(conn: &Connection, q: &ProjectQuery) -> rusqlite::Result<u64> {
    let (filter, args, _) = project_filter(q, q.text.as_deref().and_then(fts_query));
    let mut stmt = conn.prepare_cached(&format!("SELECT count(*){filter}"))?;
    stmt.query_row(params_from_iter(args.iter()), |r| r.get::<_, i64>(0)).map(|n| n as u64)
}

pub(crate) fn dependents(conn: &Connection, q: &DependentsQuery) -> rusqlite::Result<Dependents> {
    let mut cond = String::from("package = ?1 AND archived = 0");
    let mut args = vec![Value::Text(q.package.to_string())];
    if let Some(v) = &q.version {
        args.push(Value::Text(v.to_string()));
        cond.push_str(&format!(" AND version = ?{}", args.len()));
    }
    if let Some(e) = &q.ecosystem {
        args.push(Value::Text(e.as_str().into()));
        cond.push_str(&format!(" AND ecosystem = ?{}", args.len()));
    }
    let eco = |s: String| Ecosystem::parse(&s).unwrap_or(Ecosystem::Other);
    let counted = cond.replace(" AND archived = 0", "");
    let users = if q.direct_only { "direct" } else { "projects" };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT ecosystem, version, {users}, direct FROM package_versions WHERE {counted} AND {users} > 0"
    ))?;
    let mut versions: Vec<VersionCount> = stmt
        .query_map(params_from_iter(args.iter()), |r| {
            Ok(VersionCount {
                ecosystem: eco(r.get(0)?),
                version: Version::new(r.get::<_, String>(1)?).map_err(|e| id_error(1, e))?,
                projects: r.get::<_, i64>(2)? as u64,
                direct: r.get::<_, i64>(3)? as u64,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    if q.direct_only {
        cond.push_str(" AND transitive = 0");
    }
    versions.sort_by(|a, b| {
        b.projects.cmp(&a.projects).then_with(|| (a.ecosystem, &a.version).cmp(&(b.ecosystem, &b.version)))
    });
    let total = versions.iter().map(|v| v.projects).sum();
    args.push(Value::Integer(if q.limit == 0 { 200 } else { q.limit as i64 }));
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT project, team, ecosystem, version, transitive FROM dependencies WHERE {cond}
         ORDER BY project, ecosystem LIMIT ?{}",
        args.len()
    ))?;
    let projects = stmt
        .query_map(params_from_iter(args.iter()), |r| {
            Ok(DependentRow {
                project: ProjectSlug::new(r.get::<_, String>(0)?).map_err(|e| id_error(0, e))?,
                team: TeamSlug::new(r.get::<_, String>(1)?).map_err(|e| id_error(1, e))?,
                ecosystem: eco(r.get(2)?),
                version: Version::new(r.get::<_, String>(3)?).map_err(|e| id_error(3, e))?,
                transitive: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Dependents { total, versions, projects })
}

#[cfg(test)]
mod tests {
    use switchboard_core::model::FactValue;
    use switchboard_testkit::conformance::project;

    use super::*;

    fn found(conn: &Connection, word: &str) -> bool {
        conn.query_row("SELECT EXISTS (SELECT 1 FROM project_search WHERE project_search MATCH ?1)", [word], |r| {
            r.get(0)
        })
        .unwrap()
    }

    /// What the writer does around its writes: each in a savepoint, the
    /// search rows after the last one, then the commit.
    #[test]
    fn search_rows_hold_the_last_write_of_the_transaction() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::migrations::migrate(&mut conn).unwrap();
        conn.execute_batch(SEARCH_PENDING).unwrap();
        let with = |value: &str| project("ledger").fact("runbook", FactValue::Text(value.into())).build();
        let transaction = |writes: &[(&str, bool)]| {
            conn.execute_batch("BEGIN").unwrap();
            for (value, kept) in writes {
                conn.execute_batch("SAVEPOINT job").unwrap();
                upsert_project(&conn, &with(value), Edges::Write).unwrap();
                let end = if *kept { "RELEASE job" } else { "ROLLBACK TO job; RELEASE job" };
                conn.execute_batch(end).unwrap();
            }
            write_search_rows(&conn).unwrap();
            conn.execute_batch("COMMIT").unwrap();
        };
        transaction(&[("alpha", true)]);
        assert!(found(&conn, "alpha"));
        // Changed, then back to what the index holds, in one transaction.
        transaction(&[("beta", true), ("alpha", true)]);
        assert!(found(&conn, "alpha") && !found(&conn, "beta"));
        // A write rolled back to its savepoint leaves the one before it.
        transaction(&[("gamma", true), ("delta", false)]);
        assert!(found(&conn, "gamma") && !found(&conn, "delta") && !found(&conn, "alpha"));
    }
}
