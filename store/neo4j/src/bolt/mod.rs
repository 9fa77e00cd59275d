//! A Bolt client: what this store needs of Neo4j's protocol (Bolt 4.1–4.4,
//! which Neo4j 4.1 and later and ArcadeDB speak) and nothing more —
//! statements with parameters, on their own or several in one transaction,
//! rows read by column name, a pool of connections.
//!
//! Written here rather than taken from a driver crate because the one
//! available left Nagle's algorithm on: every request with more than a few
//! kilobytes of parameters (a webhook's body, a batch of projects) waited
//! 40 ms for the server's delayed acknowledgement. Here each connection has
//! `TCP_NODELAY`, and a transaction's requests (`BEGIN`, every `RUN` and
//! `PULL`, `COMMIT`) go in one write, answered in one round trip.

mod connection;
mod packstream;

use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

use connection::Connection;
pub use packstream::{FromValue, Value};

/// A failure talking to the server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The server refused a statement (its code, e.g.
    /// `Neo.ClientError.Statement.SyntaxError`, and message).
    #[error("{code}: {message}")]
    Failure { code: String, message: String },
    /// A request the server ignored after an earlier one failed.
    #[error("the server ignored a request after a failure")]
    Ignored,
    #[error("login refused: {0}")]
    Auth(String),
    #[error("Bolt protocol error: {0}")]
    Protocol(String),
    /// A column was not of the type read.
    #[error("{0}")]
    Conversion(String),
    /// The caller stopped reading rows.
    #[error("stopped by the caller")]
    Stopped,
}

impl Error {
    /// Whether the same work may succeed when tried again: a lost
    /// connection, a transient server error (a lock conflict, a cluster
    /// leader change), or a conflict of concurrent writers (ArcadeDB reports
    /// its optimistic-concurrency conflicts as database errors; two
    /// transactions `MERGE`ing one new node break a unique constraint, and
    /// the next try finds the node).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Io(_) => true,
            Error::Failure { code, message } => {
                code.contains("TransientError")
                    || code.ends_with("ConstraintValidationFailed")
                    || message.contains("ConcurrentModification")
            }
            _ => false,
        }
    }
}

/// A statement and its parameters. Cheap to clone only when small: the
/// parameters are copied.
#[derive(Clone, Debug)]
pub struct Query {
    text: String,
    params: Vec<(String, Value)>,
}

/// A statement (its text a constant of the caller's: values go in parameters).
pub fn query(text: &str) -> Query {
    Query { text: text.to_owned(), params: Vec::new() }
}

impl Query {
    /// Sets `$name`.
    pub fn param(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.params.retain(|(k, _)| k != name);
        self.params.push((name.to_owned(), value.into()));
        self
    }

    /// Sets each `$name`.
    pub fn params<K: AsRef<str>, V: Into<Value>>(self, params: impl IntoIterator<Item = (K, V)>) -> Self {
        params.into_iter().fold(self, |q, (k, v)| q.param(k.as_ref(), v))
    }
}

/// One record, its values read by column name.
#[derive(Clone, Debug)]
pub struct Row {
    columns: Arc<[String]>,
    values: Vec<Value>,
}

impl Row {
    /// The column `name` as `T`; a missing column is an error.
    pub fn get<T: FromValue>(&self, name: &str) -> Result<T, Error> {
        let i = self
            .columns
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| Error::Conversion(format!("no column {name:?} in {:?}", self.columns)))?;
        let value = self.values.get(i).cloned().unwrap_or(Value::Null);
        T::from_value(value).map_err(|e| Error::Conversion(format!("column {name:?}: {e}")))
    }
}

/// Where the server is and how to log in.
#[derive(Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub database: Option<String>,
    /// TLS (`bolt+s://`, `neo4j+s://`), with the platform's trusted roots.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl Target {
    /// Reads `bolt://host:port`, `bolt+s://…`, `neo4j://…` or `neo4j+s://…`
    /// (7687 when no port is given). `neo4j://` connects to the server
    /// named, as `bolt://` does: requests are not routed across a cluster.
    pub fn parse(uri: &str, user: &str, password: &str, database: Option<String>) -> Result<Target, String> {
        let (scheme, rest) =
            uri.split_once("://").ok_or_else(|| format!("{uri:?} is not a bolt:// or neo4j:// URI"))?;
        let tls = match scheme {
            "bolt" | "neo4j" => false,
            "bolt+s" | "neo4j+s" => true,
            other => return Err(format!("{other}:// is not a Bolt scheme (bolt, bolt+s, neo4j, neo4j+s)")),
        };
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        let (host, port) = match authority.strip_prefix('[') {
            // An IPv6 address: [::1]:7687.
            Some(v6) => {
                let (host, after) = v6.split_once(']').ok_or_else(|| format!("{uri:?}: an unclosed ["))?;
                (host, after.strip_prefix(':'))
            }
            None => match authority.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            },
        };
        let port = match port {
            Some(p) => p.parse::<u16>().map_err(|_| format!("{p:?} in {uri:?} is not a port"))?,
            None => 7687,
        };
        if host.is_empty() {
            return Err(format!("{uri:?} names no server"));
        }
        let tls = if tls {
            let mut roots = rustls::RootCertStore::empty();
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
            let config =
                rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                    .with_safe_default_protocol_versions()
                    .map_err(|e| format!("TLS for {uri:?}: {e}"))?
                    .with_root_certificates(roots)
                    .with_no_client_auth();
            Some(Arc::new(config))
        } else {
            None
        };
        Ok(Target { host: host.to_owned(), port, user: user.to_owned(), password: password.to_owned(), database, tls })
    }
}

/// Connections to one server, at most `size` at once, kept open between uses.
#[derive(Clone)]
pub struct Client {
    target: Arc<Target>,
    idle: Arc<Mutex<Vec<Connection>>>,
    permits: Arc<Semaphore>,
}

impl Client {
    pub fn new(target: Target, size: usize) -> Client {
        Client { target: Arc::new(target), idle: Arc::default(), permits: Arc::new(Semaphore::new(size.max(1))) }
    }

    /// Does `work` on a connection (an idle one, or a new one), returning
    /// it to the pool when it is still fit to use.
    async fn with_connection<T>(
        &self,
        work: impl AsyncFnOnce(&mut Connection) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let _permit = self.permits.acquire().await.map_err(|_| Error::Protocol("the pool is closed".into()))?;
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut c = match idle {
            Some(c) => c,
            None => Connection::open(&self.target).await?,
        };
        let outcome = work(&mut c).await;
        match &outcome {
            // A refused statement leaves the connection reset and usable.
            Ok(_) | Err(Error::Failure { .. } | Error::Ignored) => {
                self.idle.lock().unwrap_or_else(|e| e.into_inner()).push(c)
            }
            // A broken connection: the idle ones went the same way (a
            // restarted server) and are not tried one after another.
            Err(Error::Io(_)) => {
                let stale = std::mem::take(&mut *self.idle.lock().unwrap_or_else(|e| e.into_inner()));
                drop(stale);
            }
            // Unread records, or an answer not understood: not used again.
            Err(_) => c.close().await,
        }
        outcome
    }

    /// Runs one statement on its own and collects its rows.
    pub async fn rows(&self, q: &Query) -> Result<Vec<Row>, Error> {
        let mut rows = Vec::new();
        self.each_row(q, |row| {
            rows.push(row);
            Ok(())
        })
        .await?;
        Ok(rows)
    }

    /// Runs one statement on its own, each row to `f` as it arrives (an
    /// error from `f` stops the reading and is returned).
    pub async fn each_row(&self, q: &Query, mut f: impl FnMut(Row) -> Result<(), Error> + Send) -> Result<(), Error> {
        self.with_connection(async |c| c.execute(q, &mut f).await).await
    }

    /// Runs the statements in one transaction and returns the last one's rows.
    pub async fn transaction(&self, queries: &[Query]) -> Result<Vec<Row>, Error> {
        self.with_connection(async |c| c.transaction(queries).await).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_name_the_server_and_whether_it_is_tls() {
        let t = Target::parse("bolt://127.0.0.1:17687", "u", "p", None).unwrap();
        assert_eq!((t.host.as_str(), t.port, t.tls.is_some()), ("127.0.0.1", 17687, false));
        let t = Target::parse("neo4j+s://graph.example.com", "u", "p", Some("neo4j".into())).unwrap();
        assert_eq!((t.host.as_str(), t.port, t.tls.is_some()), ("graph.example.com", 7687, true));
        let t = Target::parse("bolt://[::1]:7688/", "u", "p", None).unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 7688));
        let t = Target::parse("bolt://[::1]", "u", "p", None).unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 7687));
        for bad in ["http://x:1", "bolt://:7687", "bolt://x:port", "127.0.0.1:7687", "bolt://[::1", "bolt://x:99999"] {
            assert!(Target::parse(bad, "u", "p", None).is_err(), "{bad}");
        }
    }

    #[test]
    fn conflicts_and_lost_connections_are_tried_again_and_nothing_else() {
        let failure = |code: &str, message: &str| Error::Failure { code: code.into(), message: message.into() };
        assert!(failure("Neo.ClientError.Schema.ConstraintValidationFailed", "").is_transient());
        assert!(failure("Neo.TransientError.Transaction.DeadlockDetected", "").is_transient());
        assert!(failure("Neo.DatabaseError.General.UnknownError", "ConcurrentModificationException").is_transient());
        assert!(Error::Io(std::io::Error::other("reset")).is_transient());
        assert!(!failure("Neo.ClientError.Statement.SyntaxError", "").is_transient());
        assert!(!Error::Conversion("x".into()).is_transient());
        assert!(!Error::Auth("wrong password".into()).is_transient());
    }

    #[test]
    fn a_parameter_set_twice_keeps_the_last_value() {
        let q = query("RETURN $a").param("a", 1i64).param("a", "two");
        assert_eq!(q.params, [("a".to_owned(), Value::from("two"))]);
    }
}

#[cfg(all(test, feature = "server-tests"))]
mod server_tests;
