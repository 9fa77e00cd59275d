//! The embedded store: one SQLite file in WAL mode. One writer thread commits
//! queued writes together (group commit, each write in its own savepoint);
//! a small pool of reader connections serves queries. Implements both
//! `GraphStore` and `EventLog`. Other processes (the CLI) may open the same
//! file at the same time; SQLite's locking and a busy timeout serialize them.

mod advisories;
pub mod backup;
mod events;
mod graph;
mod inbox;
mod logs;
pub mod migrations;
mod outbox;
mod projects;
mod queue;
mod rows;
mod vectors;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use switchboard_core::store::{StoreError, StoreResult};
use tokio::sync::Semaphore;

use writer::Writer;

/// Name of the database file inside the data directory.
pub const DB_FILE: &str = "switchboard.sqlite3";

pub(crate) fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    // Queries are built from a few dozen shapes; keep them all prepared.
    conn.set_prepared_statement_cache_capacity(128);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "cache_size", -32_000)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Plans that do not change with the values bound: a value compared with
    // a partial index's condition made each read of a project's score
    // inputs compile again on every run (4,000 times a second under a flood
    // of webhooks, 6 % of the time).
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    // A log that was started over shrinks back to this (bytes) instead of
    // keeping its largest size. Far above the limit (a frame is a 4 KiB page
    // and a 24-byte header): the writer cuts the file when it starts over,
    // holding the write lock, so it should only when a flood overshot a lot.
    conn.pragma_update(None, "journal_size_limit", 4 * WAL_LIMIT_PAGES * (4096 + 24))?;
    Ok(())
}

/// The writer's page cache, KiB. Small on purpose: when a b-tree page splits,
/// SQLite renumbers pages through the lock-byte page's number (beyond any
/// database under 1 GiB), and the commit that follows walks the whole cache
/// to drop pages past the end of the file. With 32 MB that walk was 7 % of
/// webhook processing; with 4 MB processing drained 27 % more a second.
const WRITER_CACHE_KIB: i64 = 4_000;

/// Pages a write transaction may change before SQLite writes changed pages
/// to the log ahead of its commit (64 MiB). The writer's small cache would
/// otherwise be spilled by any transaction larger than it: with eight
/// advisories' matches written in one, 12 % of a full advisory match went to
/// spilling pages that the same transaction then changed and wrote again.
/// Clean pages still stay within the cache's size.
const WRITER_SPILL_PAGES: i64 = 16_384;

/// The writer's page cache while it runs a bulk load ([`GraphStore::import`]),
/// KiB: a generated 20,000-project organisation took 50 s with the small one
/// and 44 s with this (one pair of runs). Batches of advisories, matches,
/// events or log lines measured the same with either (a full advisory match
/// of 200,000 records: 44.6 s and 45.7 s), so they keep the small one.
///
/// [`GraphStore::import`]: switchboard_core::store::GraphStore::import
const BULK_CACHE_KIB: i64 = 64_000;

/// Runs a bulk load (many pages in one write) with the larger cache.
pub(crate) fn with_bulk_cache<R>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> rusqlite::Result<R>,
) -> rusqlite::Result<R> {
    conn.pragma_update(None, "cache_size", -BULK_CACHE_KIB)?;
    let result = f(conn);
    conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
    result
}

/// How often the write-ahead log is copied into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// Past this many pages the write-ahead log is checkpointed to its end and
/// started over even if that makes the writer wait: under a steady load
/// `PASSIVE` checkpoints never find a moment when the log can start over,
/// and it grew to seven times the database (7 GB for a 20,000-project org;
/// a 100,000-project org filled the disk).
const WAL_LIMIT_PAGES: i64 = 32_768;

/// Frames left uncopied when the checkpoint that starts the log over runs:
/// it holds the write lock while it copies and syncs them, so passive passes
/// catch up first.
const CATCH_UP_PAGES: i64 = 256;

/// Copies the write-ahead log into the database every [`CHECKPOINT_EVERY`]
/// with `PASSIVE` checkpoints, which wait for no reader or writer; past
/// [`WAL_LIMIT_PAGES`], passive passes catch up and `restart_due` asks the
/// writer to run the `RESTART` checkpoint that starts the log over, between
/// two of its transactions. Not `TRUNCATE`: cutting the file drops its
/// cached pages while the write lock is held, and under a flood of webhooks
/// every write then waited 180–340 ms (840 ms with a 1 GiB limit). Stops
/// when the store is dropped.
fn spawn_checkpointer(conn: Connection, store: std::sync::Weak<Inner>, restart_due: Arc<AtomicBool>) {
    let spawned = std::thread::Builder::new().name("sqlite-checkpoint".into()).spawn(move || {
        // The log's length when a restart was last asked for: until a write
        // starts it over, the log still reads as that long, and asking again
        // would have the writer checkpoint for nothing.
        let mut restarted = None;
        loop {
            std::thread::sleep(CHECKPOINT_EVERY);
            if store.strong_count() == 0 {
                return;
            }
            match passive(&conn) {
                Ok((pages, _)) if pages > WAL_LIMIT_PAGES && restarted != Some(pages) => {
                    // Each pass copies what the writer added during the one before.
                    for _ in 0..8 {
                        match passive(&conn) {
                            Ok((log, copied)) if log - copied > CATCH_UP_PAGES => continue,
                            _ => break,
                        }
                    }
                    restart_due.store(true, Ordering::Relaxed);
                    restarted = Some(pages);
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot checkpoint the write-ahead log; trying again"),
            }
        }
    });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the checkpoint thread; the write-ahead log will grow");
    }
}

/// A `PASSIVE` checkpoint: frames in the log, frames copied to the database.
fn passive(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get(1)?, r.get(2)?)))
}

/// The embedded SQLite store.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Writer,
    readers: Arc<Mutex<Vec<Connection>>>,
    permits: Arc<Semaphore>,
}

impl SqliteStore {
    /// Opens (creating if needed) the store in `data_dir`, migrating it to the
    /// latest schema.
    pub fn open(data_dir: &Path, readers: usize) -> StoreResult<Self> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| StoreError::Backend(format!("cannot create data directory {}: {e}", data_dir.display())))?;
        let path = data_dir.join(DB_FILE);
        let mut conn = Connection::open(&path).map_err(backend)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(backend)?;
        configure(&conn).map_err(backend)?;
        migrations::migrate(&mut conn).map_err(backend)?;
        conn.execute_batch(projects::SEARCH_PENDING).map_err(backend)?;
        conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB).map_err(backend)?;
        conn.pragma_update(None, "cache_spill", WRITER_SPILL_PAGES).map_err(backend)?;
        let readers = readers.clamp(1, 64);
        let mut pool = Vec::with_capacity(readers);
        for _ in 0..readers {
            let r = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
            )
            .map_err(backend)?;
            configure(&r).map_err(backend)?;
            pool.push(r);
        }
        // Checkpoints run beside the writer, not inside one of its commits
        // (SQLite's automatic checkpoint would stall every queued write).
        conn.pragma_update(None, "wal_autocheckpoint", 0).map_err(backend)?;
        let checkpointer = Connection::open(&path).map_err(backend)?;
        configure(&checkpointer).map_err(backend)?;
        let restart_due = Arc::new(AtomicBool::new(false));
        let inner = Arc::new(Inner {
            path,
            writer: Writer::start(conn, projects::write_search_rows, restart_due.clone())?,
            readers: Arc::new(Mutex::new(pool)),
            permits: Arc::new(Semaphore::new(readers)),
        });
        spawn_checkpointer(checkpointer, Arc::downgrade(&inner), restart_due);
        Ok(Self { inner })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs a read on a pooled connection off the async threads.
    pub(crate) async fn read<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<R> + Send + 'static,
    ) -> StoreResult<R> {
        let work = async move {
            let permit = self.inner.permits.clone().acquire_owned().await.map_err(|_| StoreError::Closed)?;
            let pool = self.inner.readers.clone();
            tokio::task::spawn_blocking(move || {
                let conn = pool.lock().map_err(|_| StoreError::Closed)?.pop().ok_or(StoreError::Closed)?;
                let result = f(&conn);
                pool.lock().map_err(|_| StoreError::Closed)?.push(conn);
                drop(permit);
                result.map_err(backend)
            })
            .await
            .map_err(|e| StoreError::Backend(format!("read task failed: {e}")))?
        };
        switchboard_core::metrics::timed_store_call("sqlite", "read", work).await
    }

    /// Queues a write; it commits with whatever else is queued.
    pub(crate) async fn write<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<R> + Send + 'static,
    ) -> StoreResult<R> {
        switchboard_core::metrics::timed_store_call("sqlite", "write", self.inner.writer.write(f)).await
    }
}
