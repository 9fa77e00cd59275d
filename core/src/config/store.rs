//! `[store]`: where the embedded store lives, which backend keeps the
//! project graph (`[store.neo4j]`) and which keeps the operations log
//! (`[store.clickhouse]`).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Directory of the embedded store (created if missing). Default: `data`.
    pub data_dir: PathBuf,
    /// Read connections of the embedded store. Default: `4` (1-64).
    pub readers: usize,
    /// Where the operations log lives: `sqlite` (the embedded store) or
    /// `clickhouse` (`[store.clickhouse]`). Default: `sqlite`.
    pub log: LogBackend,
    /// Where the project graph (and the run queue) lives: `sqlite` (the
    /// embedded store) or `neo4j` (`[store.neo4j]`). Default: `sqlite`.
    pub graph: GraphBackend,
    /// Where the webhook inbox lives when the graph is on Neo4j: `graph`
    /// (shared by every process: any replica may process what another
    /// received) or `embedded` (this process's own store: accepting is a
    /// local commit, far faster, but the process must keep its data
    /// directory and processes what it received). Default: `graph`.
    pub inbox: InboxPlacement,
    pub clickhouse: ClickHouseConfig,
    pub neo4j: Neo4jConfig,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            readers: 4,
            log: LogBackend::Sqlite,
            graph: GraphBackend::Sqlite,
            inbox: InboxPlacement::Graph,
            clickhouse: ClickHouseConfig::default(),
            neo4j: Neo4jConfig::default(),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogBackend {
    #[default]
    Sqlite,
    Clickhouse,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GraphBackend {
    #[default]
    Sqlite,
    Neo4j,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InboxPlacement {
    #[default]
    Graph,
    Embedded,
}

/// How the full-text index for project search is created on the graph server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FulltextHook {
    /// Neo4j 5: `CREATE FULLTEXT INDEX` over Bolt.
    #[default]
    Neo4j,
    /// ArcadeDB: SQL over its HTTP API (`arcadedb_http_url`).
    Arcadedb,
}

/// `[store.neo4j]`: the project graph on Neo4j 5 (or another Bolt server
/// speaking Cypher).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Neo4jConfig {
    /// `bolt://`, `bolt+s://`, `neo4j://` or `neo4j+s://`. Default: `bolt://127.0.0.1:7687`.
    pub uri: String,
    /// Default: `neo4j`.
    pub user: String,
    /// `SWITCHBOARD_NEO4J_PASSWORD` wins. Required.
    pub password: Option<String>,
    /// Default: `neo4j` (Neo4j's default database).
    pub database: Option<String>,
    /// Bolt connections in the pool. Default: `16` (1-256).
    pub max_connections: usize,
    /// The most one query or transaction may take, in seconds; keep it well
    /// above the slowest (an import batch). Default: `60` (1-3600).
    pub query_timeout_secs: u64,
    /// How the project-search index is made: `neo4j` or `arcadedb`. Default: `neo4j`.
    pub fulltext: FulltextHook,
    /// ArcadeDB's HTTP API, for `fulltext = "arcadedb"`. Default: `http://127.0.0.1:2480`.
    pub arcadedb_http_url: String,
}

impl Default for Neo4jConfig {
    fn default() -> Self {
        Self {
            uri: "bolt://127.0.0.1:7687".into(),
            user: "neo4j".into(),
            password: None,
            database: None,
            max_connections: 16,
            query_timeout_secs: 60,
            fulltext: FulltextHook::Neo4j,
            arcadedb_http_url: "http://127.0.0.1:2480".into(),
        }
    }
}

impl std::fmt::Debug for Neo4jConfig {
    /// Never prints the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Neo4jConfig")
            .field("uri", &self.uri)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<set>"))
            .field("database", &self.database)
            .field("max_connections", &self.max_connections)
            .field("query_timeout_secs", &self.query_timeout_secs)
            .field("fulltext", &self.fulltext)
            .field("arcadedb_http_url", &self.arcadedb_http_url)
            .finish()
    }
}

impl Neo4jConfig {
    /// Checked only when the graph is on Neo4j.
    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        const SCHEMES: [&str; 4] = ["bolt://", "bolt+s://", "neo4j://", "neo4j+s://"];
        if !SCHEMES.iter().any(|s| self.uri.starts_with(s)) {
            return Err((
                "store.neo4j.uri".into(),
                "must start with bolt://, bolt+s://, neo4j:// or neo4j+s://".into(),
            ));
        }
        if self.password.as_deref().unwrap_or("").is_empty() {
            return Err((
                "store.neo4j.password".into(),
                "is required: set it here or in SWITCHBOARD_NEO4J_PASSWORD".into(),
            ));
        }
        if let Some(db) = &self.database
            && (db.is_empty() || !db.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)))
        {
            return Err(("store.neo4j.database".into(), "letters, digits, _, - and . only".into()));
        }
        if !(1..=256).contains(&self.max_connections) {
            return Err(("store.neo4j.max_connections".into(), "between 1 and 256".into()));
        }
        if !(1..=3600).contains(&self.query_timeout_secs) {
            return Err(("store.neo4j.query_timeout_secs".into(), "between 1 and 3600".into()));
        }
        if self.fulltext == FulltextHook::Arcadedb {
            if self.database.is_none() {
                return Err((
                    "store.neo4j.database".into(),
                    "must name the database when fulltext = \"arcadedb\" (the index is made over HTTP in it)".into(),
                ));
            }
            if !(self.arcadedb_http_url.starts_with("http://") || self.arcadedb_http_url.starts_with("https://")) {
                return Err(("store.neo4j.arcadedb_http_url".into(), "must start with http:// or https://".into()));
            }
        }
        Ok(())
    }
}

/// `[store.clickhouse]`: the operations log on ClickHouse (current versions
/// and 18.16 alike).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClickHouseConfig {
    /// The HTTP interface. Default: `http://127.0.0.1:8123`.
    pub url: String,
    /// Created if missing (letters, digits, `_`). Default: `switchboard`.
    pub database: String,
    /// Default: the server's default user.
    pub user: Option<String>,
    /// `SWITCHBOARD_CLICKHOUSE_PASSWORD` wins. Default: none.
    pub password: Option<String>,
    /// How long an append waits for others to share its `INSERT`, in
    /// milliseconds (0: what is queued goes at once). Default: `0`.
    pub flush_interval_ms: u64,
    /// How long answered appends may wait in ClickHouse's memory (a `Buffer`
    /// table) before they are written to disk, in seconds; a ClickHouse
    /// server that crashes loses at most this much (0: no buffer, each
    /// append waits for its own part, about 12,000 a second at most).
    /// Default: `1`.
    pub buffer_seconds: u32,
}

impl Default for ClickHouseConfig {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:8123".into(),
            database: "switchboard".into(),
            user: None,
            password: None,
            flush_interval_ms: 0,
            buffer_seconds: 1,
        }
    }
}

impl std::fmt::Debug for ClickHouseConfig {
    /// Never prints the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClickHouseConfig")
            .field("url", &self.url)
            .field("database", &self.database)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<set>"))
            .field("flush_interval_ms", &self.flush_interval_ms)
            .field("buffer_seconds", &self.buffer_seconds)
            .finish()
    }
}

impl ClickHouseConfig {
    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err((
                "store.clickhouse.url".into(),
                "must start with http:// or https:// (the HTTP interface)".into(),
            ));
        }
        if self.database.is_empty() || !self.database.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(("store.clickhouse.database".into(), "letters, digits and _ only".into()));
        }
        if self.flush_interval_ms > 10_000 {
            return Err(("store.clickhouse.flush_interval_ms".into(), "at most 10000 (10 s)".into()));
        }
        if self.buffer_seconds > 60 {
            return Err((
                "store.clickhouse.buffer_seconds".into(),
                "at most 60 (a crashed ClickHouse loses what the buffer holds); 0 turns the buffer off".into(),
            ));
        }
        Ok(())
    }
}
