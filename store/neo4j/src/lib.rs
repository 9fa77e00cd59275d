//! The project graph on Neo4j, or any server speaking Bolt and Cypher
//! (ArcadeDB in the tests): projects, teams and packages as nodes, joined by
//! `OWNED_BY` and `USES {ecosystem, version}` relationships; deployments,
//! incidents, builds, runs (with their queue leases), tokens, sessions and
//! chat history as nodes keyed by their ids; and the webhook inbox and chat
//! outbox, so that every process on one graph shares all of its state. Each node keeps its whole record
//! as JSON in `doc`, beside the properties the queries filter and sort on.
//!
//! Every query is a constant text with parameters: nothing from the input is
//! ever spliced into Cypher. Writes are idempotent `MERGE`s, batched with
//! `UNWIND`, and a write of several statements is one transaction, retried
//! whole on transient errors (a cluster leader change, a lock conflict). The
//! unique constraints and indexes are created at start with Neo4j 5 syntax;
//! the full-text index behind project search is created by a per-server hook
//! ([`Fulltext`]), because servers differ there.
//!
//! The Bolt client is this crate's own ([`bolt`]). Every call runs under
//! `query_timeout`, which must stay well above the slowest query (a
//! 100k-project import batch).

mod advisories;
mod bolt;
mod graph;
mod projects;
mod queue;
mod search;
mod spool;
mod vectors;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bolt::{Client, Query, Row, Value as BoltType};
use switchboard_core::store::{StoreError, StoreResult};

/// How the full-text index for project search is created (and named).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fulltext {
    /// Neo4j 5: `CREATE FULLTEXT INDEX … IF NOT EXISTS` over Bolt.
    Neo4j,
    /// ArcadeDB: its Bolt endpoint does not take `CREATE FULLTEXT INDEX`, so
    /// the index is made with ArcadeDB SQL over its HTTP API at this URL
    /// (e.g. `http://127.0.0.1:2480`), with the same user and password.
    ArcadeDb { http_url: String },
}

/// Where the graph is and how to talk to it.
#[derive(Clone, Debug)]
pub struct Options {
    /// `bolt://host:7687` or `neo4j://…`.
    pub uri: String,
    pub user: String,
    pub password: String,
    /// The database; `None` is `neo4j` (Neo4j's default database).
    pub database: Option<String>,
    pub max_connections: usize,
    /// The most any one query (or transaction) may take.
    pub query_timeout: Duration,
    pub fulltext: Fulltext,
}

/// The schema version this binary writes. A graph marked with a newer one is
/// refused at start. 2: dependents counted on write (`Dependents` nodes),
/// counted once from the relationships when a graph of version 1 is opened.
const SCHEMA_VERSION: i64 = 2;

/// Unique constraints and indexes, Neo4j 5 syntax, created at start.
const SCHEMA: &[&str] = &[
    "CREATE CONSTRAINT sb_project_slug IF NOT EXISTS FOR (n:Project) REQUIRE n.slug IS UNIQUE",
    "CREATE CONSTRAINT sb_team_slug IF NOT EXISTS FOR (n:Team) REQUIRE n.slug IS UNIQUE",
    "CREATE CONSTRAINT sb_user_name IF NOT EXISTS FOR (n:User) REQUIRE n.name IS UNIQUE",
    "CREATE CONSTRAINT sb_package_name IF NOT EXISTS FOR (n:Package) REQUIRE n.name IS UNIQUE",
    "CREATE CONSTRAINT sb_deployment_id IF NOT EXISTS FOR (n:Deployment) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT sb_incident_id IF NOT EXISTS FOR (n:Incident) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT sb_build_id IF NOT EXISTS FOR (n:Build) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT sb_run_id IF NOT EXISTS FOR (n:Run) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT sb_token_id IF NOT EXISTS FOR (n:Token) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT sb_session_hash IF NOT EXISTS FOR (n:Session) REQUIRE n.hash IS UNIQUE",
    "CREATE CONSTRAINT sb_credential_user IF NOT EXISTS FOR (n:Credential) REQUIRE n.user IS UNIQUE",
    "CREATE CONSTRAINT sb_thread_id IF NOT EXISTS FOR (n:Thread) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT sb_meta_key IF NOT EXISTS FOR (n:SwitchboardMeta) REQUIRE n.key IS UNIQUE",
    "CREATE CONSTRAINT sb_delivery_id IF NOT EXISTS FOR (n:Delivery) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT sb_delivery_key IF NOT EXISTS FOR (n:Delivery) REQUIRE n.dkey IS UNIQUE",
    "CREATE CONSTRAINT sb_message_id IF NOT EXISTS FOR (n:OutMessage) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT sb_message_key IF NOT EXISTS FOR (n:OutMessage) REQUIRE n.key IS UNIQUE",
    "CREATE CONSTRAINT sb_ticket_id IF NOT EXISTS FOR (n:Ticket) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT sb_vector_id IF NOT EXISTS FOR (n:Vector) REQUIRE n.vid IS UNIQUE",
    "CREATE INDEX sb_vector_kind IF NOT EXISTS FOR (n:Vector) ON (n.kind)",
    "CREATE CONSTRAINT sb_vector_generation IF NOT EXISTS FOR (n:VectorGeneration) REQUIRE n.kind IS UNIQUE",
    "CREATE INDEX sb_ticket_expiry IF NOT EXISTS FOR (n:Ticket) ON (n.expires_at)",
    "CREATE INDEX sb_project_github IF NOT EXISTS FOR (n:Project) ON (n.github_repository)",
    "CREATE INDEX sb_project_github_id IF NOT EXISTS FOR (n:Project) ON (n.github_repository_id)",
    "CREATE INDEX sb_project_pagerduty IF NOT EXISTS FOR (n:Project) ON (n.pagerduty_service)",
    "CREATE INDEX sb_project_team IF NOT EXISTS FOR (n:Project) ON (n.team)",
    "CREATE INDEX sb_deployment_project IF NOT EXISTS FOR (n:Deployment) ON (n.project)",
    "CREATE INDEX sb_incident_project IF NOT EXISTS FOR (n:Incident) ON (n.project)",
    "CREATE INDEX sb_build_project IF NOT EXISTS FOR (n:Build) ON (n.project)",
    "CREATE INDEX sb_run_status IF NOT EXISTS FOR (n:Run) ON (n.status)",
    "CREATE INDEX sb_token_hash IF NOT EXISTS FOR (n:Token) ON (n.hash)",
    "CREATE INDEX sb_message_thread IF NOT EXISTS FOR (n:Message) ON (n.thread)",
    "CREATE INDEX sb_message_at IF NOT EXISTS FOR (n:Message) ON (n.at)",
    "CREATE INDEX sb_delivery_status IF NOT EXISTS FOR (n:Delivery) ON (n.status)",
    "CREATE CONSTRAINT sb_dependents_key IF NOT EXISTS FOR (n:Dependents) REQUIRE n.vkey IS UNIQUE",
    "CREATE INDEX sb_dependents_package IF NOT EXISTS FOR (n:Dependents) ON (n.package)",
    "CREATE INDEX sb_outmessage_status IF NOT EXISTS FOR (n:OutMessage) ON (n.status)",
    "CREATE CONSTRAINT sb_advisory_id IF NOT EXISTS FOR (n:Advisory) REQUIRE n.id IS UNIQUE",
    "CREATE INDEX sb_advisory_name IF NOT EXISTS FOR (n:AdvisoryName) ON (n.name)",
    "CREATE INDEX sb_advisory_name_id IF NOT EXISTS FOR (n:AdvisoryName) ON (n.id)",
    "CREATE INDEX sb_advisory_package IF NOT EXISTS FOR (n:AdvisoryPackage) ON (n.pkey)",
    "CREATE INDEX sb_advisory_package_id IF NOT EXISTS FOR (n:AdvisoryPackage) ON (n.id)",
    "CREATE CONSTRAINT sb_vulnerability_key IF NOT EXISTS FOR (n:Vulnerability) REQUIRE n.vkey IS UNIQUE",
    "CREATE INDEX sb_vulnerability_project IF NOT EXISTS FOR (n:Vulnerability) ON (n.project)",
    "CREATE INDEX sb_vulnerability_advisory IF NOT EXISTS FOR (n:Vulnerability) ON (n.advisory)",
    "CREATE INDEX sb_vulnerability_team IF NOT EXISTS FOR (n:Vulnerability) ON (n.team)",
];

/// Attempts of a transaction that meets transient errors.
const ATTEMPTS: u32 = 10;

/// The graph on a Bolt server. Cheap to clone.
#[derive(Clone)]
pub struct Neo4jGraph {
    graph: Client,
    timeout: Duration,
    /// The full-text index's name, as `db.index.fulltext.queryNodes` wants it.
    fulltext_index: &'static str,
    /// Webhook deliveries waiting to be stored together.
    accepts: Arc<spool::AcceptQueue>,
}

pub(crate) fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

pub(crate) fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl Neo4jGraph {
    /// Connects, checks the server answers (within `query_timeout`), creates
    /// the constraints and indexes it lacks, and refuses a graph written by a
    /// newer Switchboard.
    pub async fn open(o: &Options) -> StoreResult<Self> {
        let target = bolt::Target::parse(&o.uri, &o.user, &o.password, o.database.clone())
            .map_err(|e| backend(format!("Neo4j settings: {e}")))?;
        let graph = Client::new(target, o.max_connections);
        let fulltext_index = match o.fulltext {
            Fulltext::Neo4j => "sb_project_text",
            Fulltext::ArcadeDb { .. } => "Project[search_text]",
        };
        let store = Neo4jGraph { graph, timeout: o.query_timeout, fulltext_index, accepts: Arc::default() };
        match tokio::time::timeout(o.query_timeout, store.graph.rows(&bolt::query("RETURN 1 AS one"))).await {
            Err(_) => return Err(backend(format!("Neo4j at {} did not answer within {:?}", o.uri, o.query_timeout))),
            Ok(Err(e)) => return Err(backend(format!("cannot use Neo4j at {}: {e}", o.uri))),
            Ok(Ok(_)) => {}
        }
        store.migrate(o).await?;
        Ok(store)
    }

    async fn migrate(&self, o: &Options) -> StoreResult<()> {
        let found = self
            .rows(bolt::query("MATCH (m:SwitchboardMeta {key: 'schema'}) RETURN m.version AS version"))
            .await?
            .first()
            .map(|r| r.get::<i64>("version"))
            .transpose()
            .map_err(corrupt)?;
        if let Some(v) = found
            && v > SCHEMA_VERSION
        {
            return Err(backend(format!(
                "the graph was written by a newer Switchboard (schema {v}, this binary knows {SCHEMA_VERSION}): upgrade this binary"
            )));
        }
        for statement in SCHEMA {
            self.run(bolt::query(statement))
                .await
                .map_err(|e| backend(format!("creating the schema ({statement}): {e}")))?;
        }
        search::create_fulltext_index(self, o).await?;
        if found == Some(1) {
            self.count_dependents_again().await?;
        }
        self.run(
            bolt::query("MERGE (m:SwitchboardMeta {key: 'schema'}) SET m.version = $version")
                .param("version", SCHEMA_VERSION),
        )
        .await
    }

    /// Runs a read (or a single-statement write) and collects its rows.
    pub(crate) async fn rows(&self, q: Query) -> StoreResult<Vec<Row>> {
        let work = self.retrying(ATTEMPTS, || self.graph.rows(&q));
        switchboard_core::metrics::timed_store_call("bolt", "query", work).await
    }

    /// Runs a read and hands each row to `f` as it arrives, so a large
    /// answer is never held whole. Not tried again: a caller that can start
    /// over does.
    pub(crate) async fn each_row(&self, q: Query, mut f: impl FnMut(Row) -> StoreResult<()> + Send) -> StoreResult<()> {
        // The first error of `f` stops the reading, and is the one returned.
        let mut stopped = None;
        let work = self.graph.each_row(&q, |row| {
            f(row).map_err(|e| {
                stopped = Some(e);
                bolt::Error::Stopped
            })
        });
        let read = tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| backend(format!("a graph query took longer than {:?}", self.timeout)))?;
        match (read, stopped) {
            (_, Some(e)) => Err(e),
            (read, None) => read.map_err(backend),
        }
    }

    /// Runs one statement and discards its rows.
    pub(crate) async fn run(&self, q: Query) -> StoreResult<()> {
        self.rows(q).await.map(drop)
    }

    /// Runs the statements in one transaction and returns the last one's rows.
    pub(crate) async fn transaction(&self, queries: Vec<Query>) -> StoreResult<Vec<Row>> {
        let work = self.retrying(ATTEMPTS, || self.graph.transaction(&queries));
        switchboard_core::metrics::timed_store_call("bolt", "transaction", work).await
    }

    /// Like [`Self::transaction`], but tried once: for creates whose caller
    /// picks new values (a fresh id) before trying again.
    pub(crate) async fn transaction_once(&self, queries: Vec<Query>) -> StoreResult<Vec<Row>> {
        self.retrying(1, || self.graph.transaction(&queries)).await
    }

    /// Does `work` under the query timeout, again (after a short, growing,
    /// jittered pause) while it fails transiently.
    async fn retrying<F, Fut>(&self, attempts: u32, work: F) -> StoreResult<Vec<Row>>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Vec<Row>, bolt::Error>>,
    {
        let mut attempt = 1;
        loop {
            match tokio::time::timeout(self.timeout, work()).await {
                Err(_) => return Err(backend(format!("a graph query took longer than {:?}", self.timeout))),
                Ok(Ok(rows)) => return Ok(rows),
                Ok(Err(e)) if attempt < attempts && e.is_transient() => {
                    tracing::debug!(error = %e, attempt, "transient graph error; trying again");
                    // Anywhere up to a ceiling that doubles: writers that
                    // met on one record (a popular package's counts) do
                    // not meet again at the same moment.
                    let ceiling = 10u64 << attempt;
                    let nanos = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap_or_default()
                        .subsec_nanos();
                    let pause = 2 + u64::from(nanos).wrapping_mul(0x9E37_79B9_7F4A_7C15) % ceiling;
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                    attempt += 1;
                }
                Ok(Err(e)) => return Err(backend(e)),
            }
        }
    }
}

/// A parameter map for `UNWIND $rows AS r`.
pub(crate) fn map<const N: usize>(pairs: [(&str, BoltType); N]) -> BoltType {
    let m: HashMap<String, BoltType> = pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    m.into()
}

/// A row's `doc` column, deserialized.
pub(crate) fn doc<T: serde::de::DeserializeOwned>(row: &Row) -> StoreResult<T> {
    let text: String = row.get("doc").map_err(corrupt)?;
    serde_json::from_str(&text).map_err(corrupt)
}

pub(crate) fn docs<T: serde::de::DeserializeOwned>(rows: &[Row]) -> StoreResult<Vec<T>> {
    rows.iter().map(doc).collect()
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("records serialize")
}

/// The largest `LIMIT` sent. Some servers size a buffer by the limit of an
/// ordered query (ArcadeDB: a priority queue, which fails past `i32::MAX`),
/// so "everything" is read as this many.
pub(crate) const MAX_LIMIT: usize = 1_000_000;

/// A `LIMIT`: 0 means the default of 50; at most [`MAX_LIMIT`].
pub(crate) fn limit(n: usize) -> i64 {
    if n == 0 { 50 } else { n.min(MAX_LIMIT) as i64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_stay_within_what_servers_take() {
        assert_eq!(limit(0), 50);
        assert_eq!(limit(7), 7);
        assert_eq!(limit(usize::MAX), MAX_LIMIT as i64);
    }
}
