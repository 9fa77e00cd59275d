//! Advisories and the vulnerabilities they make, on SQLite: the record as
//! JSON beside the names (id and aliases, uppercased) and packages it is
//! found by; a match row per (project, advisory, package, version).

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params, params_from_iter};
use switchboard_core::advisory::{
    Advisory, AdvisoryStore, MatchCounts, MatchQuery, MatchScope, Severity, VulnerabilityMatch,
};
use switchboard_core::ids::TeamSlug;
use switchboard_core::model::Ecosystem;
use switchboard_core::store::StoreResult;

use super::SqliteStore;

fn json<T: serde::Serialize>(value: &T) -> rusqlite::Result<String> {
    serde_json::to_string(value).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> rusqlite::Result<T> {
    serde_json::from_str(text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

/// Severity as a number, so `min_severity` is a range on the index.
fn rank(s: Severity) -> i64 {
    s as i64
}

#[async_trait]
impl AdvisoryStore for SqliteStore {
    async fn put_advisories(&self, advisories: &[Advisory]) -> StoreResult<Vec<String>> {
        let rows: Vec<(Advisory, String)> = advisories
            .iter()
            .map(|a| json(a).map(|j| (a.clone(), j)))
            .collect::<Result<_, _>>()
            .map_err(super::backend)?;
        self.write(move |c| {
            let mut changed = Vec::new();
            let mut get = c.prepare_cached("SELECT data FROM advisories WHERE id = ?1")?;
            let mut put = c.prepare_cached(
                "INSERT INTO advisories (id, data) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET data = excluded.data",
            )?;
            let mut forget_names = c.prepare_cached("DELETE FROM advisory_names WHERE id = ?1")?;
            let mut forget_packages = c.prepare_cached("DELETE FROM advisory_packages WHERE id = ?1")?;
            let mut name = c.prepare_cached("INSERT OR IGNORE INTO advisory_names (name, id) VALUES (?1, ?2)")?;
            let mut package = c.prepare_cached(
                "INSERT OR IGNORE INTO advisory_packages (ecosystem, package, id) VALUES (?1, ?2, ?3)",
            )?;
            // An advisory sharing a name with others marks itself and them (a
            // partner it stops sharing with stays marked: a superset is enough).
            let mut unmark = c.prepare_cached("DELETE FROM advisory_aliased WHERE id = ?1")?;
            let mut mark = c.prepare_cached(
                "WITH partners AS (SELECT n2.id FROM advisory_names n1 \
                 JOIN advisory_names n2 ON n2.name = n1.name AND n2.id <> n1.id WHERE n1.id = ?1) \
                 INSERT OR IGNORE INTO advisory_aliased (id) \
                 SELECT id FROM partners UNION SELECT ?1 WHERE EXISTS (SELECT 1 FROM partners)",
            )?;
            for (a, data) in &rows {
                let stored: Option<String> = get.query_row(params![a.id], |r| r.get(0)).optional()?;
                if stored.as_deref() == Some(data.as_str()) {
                    continue;
                }
                put.execute(params![a.id, data])?;
                forget_names.execute(params![a.id])?;
                forget_packages.execute(params![a.id])?;
                for n in a.names() {
                    name.execute(params![n.to_uppercase(), a.id])?;
                }
                for (eco, p) in a.packages() {
                    package.execute(params![eco.as_str(), p, a.id])?;
                }
                unmark.execute(params![a.id])?;
                mark.execute(params![a.id])?;
                changed.push(a.id.clone());
            }
            Ok(changed)
        })
        .await
    }

    async fn find_advisories(&self, id_or_alias: &str) -> StoreResult<Vec<Advisory>> {
        let name = id_or_alias.trim().to_uppercase();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT a.data FROM advisory_names n JOIN advisories a ON a.id = n.id WHERE n.name = ?1 ORDER BY a.id",
            )?;
            let rows = stmt.query_map(params![name], |r| r.get::<_, String>(0))?;
            rows.map(|r| r.and_then(|d| parse(&d))).collect()
        })
        .await
    }

    async fn advisories_for_packages(&self, packages: &[(Ecosystem, String)]) -> StoreResult<Vec<Advisory>> {
        let packages = packages.to_vec();
        self.read(move |c| {
            let mut ids = std::collections::BTreeSet::new();
            let mut stmt =
                c.prepare_cached("SELECT id FROM advisory_packages WHERE ecosystem = ?1 AND package = ?2")?;
            for (eco, p) in &packages {
                for id in stmt.query_map(params![eco.as_str(), p], |r| r.get::<_, String>(0))? {
                    ids.insert(id?);
                }
            }
            let mut get = c.prepare_cached("SELECT data FROM advisories WHERE id = ?1")?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(data) = get.query_row(params![id], |r| r.get::<_, String>(0)).optional()? {
                    out.push(parse(&data)?);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn count_advisories(&self) -> StoreResult<u64> {
        self.read(|c| c.query_row("SELECT COUNT(*) FROM advisories", [], |r| r.get::<_, i64>(0)).map(|n| n as u64))
            .await
    }

    async fn any_advisories(&self) -> StoreResult<bool> {
        self.read(|c| c.query_row("SELECT EXISTS (SELECT 1 FROM advisories)", [], |r| r.get::<_, bool>(0))).await
    }

    async fn advisories_with_matches(&self, ids: &[String]) -> StoreResult<BTreeSet<String>> {
        let ids = ids.to_vec();
        self.read(move |c| {
            let mut stmt = c.prepare_cached("SELECT EXISTS (SELECT 1 FROM vulnerabilities WHERE advisory = ?1)")?;
            let mut out = BTreeSet::new();
            for id in ids {
                if stmt.query_row(params![id], |r| r.get::<_, bool>(0))? {
                    out.insert(id);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn replace_matches(&self, scope: &MatchScope, matches: &[VulnerabilityMatch]) -> StoreResult<()> {
        let rows: Vec<(VulnerabilityMatch, String)> = matches
            .iter()
            .map(|m| json(m).map(|j| (m.clone(), j)))
            .collect::<Result<_, _>>()
            .map_err(super::backend)?;
        let scope = scope.clone();
        self.write(move |c| {
            // Only what changed is written: an advisory about a popular
            // package keeps most of its thousands of rows when it is
            // recomputed, and a row whose text moved (its fix) keeps its
            // index entries.
            let (column, value) = match &scope {
                MatchScope::Project(p) => ("project", p.as_str().to_owned()),
                MatchScope::Advisory(a) => ("advisory", a.clone()),
            };
            let mut stored: HashMap<(String, String, String, String, String), String> = HashMap::new();
            let mut stmt = c.prepare_cached(&format!(
                "SELECT project, advisory, ecosystem, package, version, data FROM vulnerabilities WHERE {column} = ?1"
            ))?;
            let mut found = stmt.query(params![value])?;
            while let Some(r) = found.next()? {
                stored.insert((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?), r.get(5)?);
            }
            // An update leaves the indexes whose columns did not change alone.
            let mut put = c.prepare_cached(
                "INSERT INTO vulnerabilities \
                 (project, advisory, ecosystem, package, version, team, severity, found_at, data) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
                 ON CONFLICT (project, advisory, ecosystem, package, version) DO UPDATE SET \
                 team = excluded.team, severity = excluded.severity, found_at = excluded.found_at, data = excluded.data",
            )?;
            let mut gone = c.prepare_cached(
                "DELETE FROM vulnerabilities \
                 WHERE project = ?1 AND advisory = ?2 AND ecosystem = ?3 AND package = ?4 AND version = ?5",
            )?;
            for (m, data) in &rows {
                let key = (
                    m.project.as_str().to_owned(),
                    m.advisory.clone(),
                    m.ecosystem.as_str().to_owned(),
                    m.package.as_str().to_owned(),
                    m.version.as_str().to_owned(),
                );
                if stored.remove(&key).is_some_and(|before| before == *data) {
                    continue;
                }
                put.execute(params![
                    m.project.as_str(),
                    m.advisory,
                    m.ecosystem.as_str(),
                    m.package.as_str(),
                    m.version.as_str(),
                    m.team.as_str(),
                    rank(m.severity),
                    m.found_at,
                    data
                ])?;
            }
            for (project, advisory, ecosystem, package, version) in stored.into_keys() {
                gone.execute(params![project, advisory, ecosystem, package, version])?;
            }
            Ok(())
        })
        .await
    }

    async fn list_matches(&self, query: &MatchQuery) -> StoreResult<Vec<VulnerabilityMatch>> {
        let (filter, args) = filters(query);
        let limit = if query.limit == 0 { 1_000 } else { query.limit };
        let order = order(query);
        let sql = if narrowed(query) {
            format!("SELECT data FROM vulnerabilities WHERE {filter} {order} LIMIT {limit}")
        } else {
            // Across the organisation the order is not an index's: the keys
            // are sorted from an index alone (its entries hold the whole
            // key), and only the rows listed are read. Reading each row
            // before sorting took 460 ms for the critical ones of 330,000.
            format!(
                "SELECT data FROM vulnerabilities WHERE (project, advisory, ecosystem, package, version) IN \
                 (SELECT project, advisory, ecosystem, package, version FROM vulnerabilities \
                 WHERE {filter} {order} LIMIT {limit}) {order}"
            )
        };
        self.read(move |c| rows(c, &sql, &args)).await
    }

    async fn count_matches(&self, query: &MatchQuery) -> StoreResult<MatchCounts> {
        let (filter, args) = filters(query);
        let order = order(query);
        self.read(move |c| {
            let mut counts = MatchCounts::default();
            let sql = format!("SELECT team, severity, COUNT(*) FROM vulnerabilities WHERE {filter} GROUP BY team, severity");
            let mut stmt = c.prepare(&sql)?;
            let mut found = stmt.query(params_from_iter(args.iter()))?;
            while let Some(r) = found.next()? {
                let team = TeamSlug::new(r.get::<_, String>(0)?).map_err(|e| super::rows::id_error(0, e))?;
                counts.by_team.insert((team, severity(r.get(1)?)), r.get::<_, i64>(2)? as u64);
            }
            let sql = format!("SELECT COUNT(DISTINCT project) FROM vulnerabilities WHERE {filter}");
            counts.projects = c.query_row(&sql, params_from_iter(args.iter()), |r| r.get::<_, i64>(0))? as u64;
            let sql = format!(
                "SELECT data FROM vulnerabilities WHERE {filter} AND advisory IN (SELECT id FROM advisory_aliased) {order}"
            );
            counts.aliased = rows(c, &sql, &args)?;
            Ok(counts)
        })
        .await
    }
}

/// The `WHERE` clause of a match query and its arguments.
fn filters(query: &MatchQuery) -> (String, Vec<rusqlite::types::Value>) {
    let mut sql = String::from("1 = 1");
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    let mut arg = |sql: &mut String, clause: &str, v: rusqlite::types::Value| {
        args.push(v);
        sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
    };
    if let Some(p) = &query.project {
        arg(&mut sql, " AND project = ?", p.as_str().to_owned().into());
    }
    if let Some(t) = &query.team {
        arg(&mut sql, " AND team = ?", t.as_str().to_owned().into());
    }
    if let Some(p) = &query.package {
        arg(&mut sql, " AND package = ?", p.as_str().to_owned().into());
    }
    if let Some(s) = query.min_severity {
        arg(&mut sql, " AND severity >= ?", rank(s).into());
    }
    if let Some(t) = query.found_since {
        arg(&mut sql, " AND found_at >= ?", t.into());
    }
    if !query.advisories.is_empty() {
        sql.push_str(" AND advisory IN (");
        for (i, a) in query.advisories.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            arg(&mut sql, "?", a.clone().into());
        }
        sql.push(')');
    }
    (sql, args)
}

/// Narrowed to a project or to advisories: a few rows, found by their key.
fn narrowed(query: &MatchQuery) -> bool {
    query.project.is_some() || !query.advisories.is_empty()
}

/// The list order: worst first, then project, advisory, package, version.
fn order(query: &MatchQuery) -> &'static str {
    // Narrowed to a project or advisories, the key finds the few rows and
    // they are sorted after (`+severity` keeps the planner from walking
    // the whole severity index in order, which grew with every match).
    if narrowed(query) {
        "ORDER BY +severity DESC, project, advisory, package, version"
    } else {
        "ORDER BY severity DESC, project, advisory, package, version"
    }
}

fn rows(
    c: &rusqlite::Connection,
    sql: &str,
    args: &[rusqlite::types::Value],
) -> rusqlite::Result<Vec<VulnerabilityMatch>> {
    let mut stmt = c.prepare(sql)?;
    let rows = stmt.query_map(params_from_iter(args.iter()), |r| r.get::<_, String>(0))?;
    rows.map(|r| r.and_then(|d| parse(&d))).collect()
}

/// [`rank`] read back.
fn severity(n: i64) -> Severity {
    Severity::ALL.into_iter().find(|s| rank(*s) == n).unwrap_or_default()
}
