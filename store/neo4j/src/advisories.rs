//! Advisories and the vulnerabilities they make, on a Bolt graph:
//! `(:Advisory {id, data})` with the record as JSON, `(:AdvisoryName {name,
//! id})` per id and alias (uppercased) and `(:AdvisoryPackage {pkey, id})` per
//! package it affects, so both lookups are index seeks; a
//! `(:Vulnerability {vkey, project, advisory, team, package, severity,
//! found_at, data})` per match. Portable Cypher only (Neo4j and ArcadeDB).

use std::collections::HashMap;

use crate::bolt::{Value as BoltType, query};
use async_trait::async_trait;
use switchboard_core::advisory::{Advisory, AdvisoryStore, MatchQuery, MatchScope, VulnerabilityMatch};
use switchboard_core::model::Ecosystem;
use switchboard_core::store::StoreResult;

use crate::{Neo4jGraph, corrupt};

fn json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(corrupt)
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(corrupt)
}

fn pkey(ecosystem: Ecosystem, package: &str) -> String {
    format!("{}|{package}", ecosystem.as_str())
}

fn row(pairs: &[(&str, BoltType)]) -> HashMap<String, BoltType> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

impl Neo4jGraph {
    async fn data_rows(&self, q: crate::bolt::Query) -> StoreResult<Vec<String>> {
        self.rows(q).await?.iter().map(|r| r.get::<String>("data").map_err(corrupt)).collect()
    }
}

#[async_trait]
impl AdvisoryStore for Neo4jGraph {
    async fn put_advisories(&self, advisories: &[Advisory]) -> StoreResult<Vec<String>> {
        if advisories.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = advisories.iter().map(|a| a.id.clone()).collect();
        let stored: HashMap<String, String> = self
            .rows(
                query("UNWIND $ids AS id MATCH (a:Advisory {id: id}) RETURN a.id AS id, a.data AS data")
                    .param("ids", ids),
            )
            .await?
            .iter()
            .map(|r| Ok((r.get::<String>("id").map_err(corrupt)?, r.get::<String>("data").map_err(corrupt)?)))
            .collect::<StoreResult<_>>()?;
        let (mut rows, mut names, mut packages, mut changed) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for a in advisories {
            let data = json(a)?;
            if stored.get(&a.id) == Some(&data) || changed.contains(&a.id) {
                continue;
            }
            rows.push(row(&[("id", a.id.clone().into()), ("data", data.into())]));
            names.extend(a.names().map(|n| row(&[("name", n.to_uppercase().into()), ("id", a.id.clone().into())])));
            packages.extend(
                a.packages()
                    .into_iter()
                    .map(|(e, p)| row(&[("pkey", pkey(e, &p).into()), ("id", a.id.clone().into())])),
            );
            changed.push(a.id.clone());
        }
        if changed.is_empty() {
            return Ok(changed);
        }
        self.transaction(vec![
            query("UNWIND $rows AS r MERGE (a:Advisory {id: r.id}) SET a.data = r.data").param("rows", rows),
            query("UNWIND $ids AS id MATCH (n:AdvisoryName {id: id}) DELETE n").param("ids", changed.clone()),
            query("UNWIND $ids AS id MATCH (n:AdvisoryPackage {id: id}) DELETE n").param("ids", changed.clone()),
            query("UNWIND $rows AS r CREATE (:AdvisoryName {name: r.name, id: r.id})").param("rows", names),
            query("UNWIND $rows AS r CREATE (:AdvisoryPackage {pkey: r.pkey, id: r.id})").param("rows", packages),
        ])
        .await?;
        Ok(changed)
    }

    async fn find_advisories(&self, id_or_alias: &str) -> StoreResult<Vec<Advisory>> {
        let q = query(
            "MATCH (n:AdvisoryName {name: $name}) WITH DISTINCT n.id AS id \
             MATCH (a:Advisory {id: id}) RETURN a.data AS data ORDER BY a.id",
        )
        .param("name", id_or_alias.trim().to_uppercase());
        self.data_rows(q).await?.iter().map(|d| parse(d)).collect()
    }

    async fn advisories_for_packages(&self, packages: &[(Ecosystem, String)]) -> StoreResult<Vec<Advisory>> {
        if packages.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = packages.iter().map(|(e, p)| pkey(*e, p)).collect();
        let q = query(
            "UNWIND $keys AS k MATCH (n:AdvisoryPackage {pkey: k}) WITH DISTINCT n.id AS id \
             MATCH (a:Advisory {id: id}) RETURN a.data AS data ORDER BY a.id",
        )
        .param("keys", keys);
        self.data_rows(q).await?.iter().map(|d| parse(d)).collect()
    }

    async fn count_advisories(&self) -> StoreResult<u64> {
        let rows = self.rows(query("MATCH (a:Advisory) RETURN count(a) AS n")).await?;
        Ok(rows.first().map(|r| r.get::<i64>("n")).transpose().map_err(corrupt)?.unwrap_or(0) as u64)
    }

    async fn replace_matches(&self, scope: &MatchScope, matches: &[VulnerabilityMatch]) -> StoreResult<()> {
        let forget = match scope {
            MatchScope::Project(p) => {
                query("MATCH (v:Vulnerability {project: $key}) DELETE v").param("key", p.as_str().to_owned())
            }
            MatchScope::Advisory(a) => {
                query("MATCH (v:Vulnerability {advisory: $key}) DELETE v").param("key", a.clone())
            }
        };
        let mut rows = Vec::with_capacity(matches.len());
        for m in matches {
            let (p, a, e, pk, v) = m.key();
            rows.push(row(&[
                ("vkey", format!("{p}|{a}|{}|{pk}|{v}", e.as_str()).into()),
                ("project", p.to_owned().into()),
                ("advisory", a.to_owned().into()),
                ("team", m.team.as_str().to_owned().into()),
                ("package", pk.to_owned().into()),
                ("version", v.to_owned().into()),
                ("severity", (m.severity as i64).into()),
                ("found_at", m.found_at.into()),
                ("data", json(m)?.into()),
            ]));
        }
        self.transaction(vec![
            forget,
            query(
                "UNWIND $rows AS r MERGE (v:Vulnerability {vkey: r.vkey}) \
                 SET v.project = r.project, v.advisory = r.advisory, v.team = r.team, v.package = r.package, \
                 v.version = r.version, v.severity = r.severity, v.found_at = r.found_at, v.data = r.data",
            )
            .param("rows", rows),
        ])
        .await
        .map(drop)
    }

    async fn list_matches(&self, query_: &MatchQuery) -> StoreResult<Vec<VulnerabilityMatch>> {
        let mut clauses = vec!["true".to_owned()];
        let mut params: Vec<(&str, BoltType)> = Vec::new();
        if let Some(p) = &query_.project {
            clauses.push("v.project = $project".into());
            params.push(("project", p.as_str().to_owned().into()));
        }
        if let Some(t) = &query_.team {
            clauses.push("v.team = $team".into());
            params.push(("team", t.as_str().to_owned().into()));
        }
        if let Some(p) = &query_.package {
            clauses.push("v.package = $package".into());
            params.push(("package", p.as_str().to_owned().into()));
        }
        if let Some(s) = query_.min_severity {
            clauses.push("v.severity >= $severity".into());
            params.push(("severity", (s as i64).into()));
        }
        if let Some(t) = query_.found_since {
            clauses.push("v.found_at >= $since".into());
            params.push(("since", t.into()));
        }
        if !query_.advisories.is_empty() {
            clauses.push("v.advisory IN $advisories".into());
            params.push(("advisories", query_.advisories.clone().into()));
        }
        let limit = if query_.limit == 0 { 1_000 } else { query_.limit };
        let mut q = query(&format!(
            "MATCH (v:Vulnerability) WHERE {} RETURN v.data AS data \
             ORDER BY v.severity DESC, v.project, v.advisory, v.package, v.version LIMIT {limit}",
            clauses.join(" AND ")
        ));
        for (k, v) in params {
            q = q.param(k, v);
        }
        self.data_rows(q).await?.iter().map(|d| parse(d)).collect()
    }
}
