//! `[store]`: where the embedded store lives, and which backend keeps the
//! operations log (`[store.clickhouse]`).

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
    pub clickhouse: ClickHouseConfig,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            readers: 4,
            log: LogBackend::Sqlite,
            clickhouse: ClickHouseConfig::default(),
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
}

impl Default for ClickHouseConfig {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:8123".into(),
            database: "switchboard".into(),
            user: None,
            password: None,
            flush_interval_ms: 0,
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
        Ok(())
    }
}
