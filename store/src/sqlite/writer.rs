//! The single writer thread. It takes every write queued so far, runs each in
//! its own savepoint inside one transaction, runs the store's work left for
//! the end of a transaction (outside every savepoint), commits once, then
//! answers each caller: many small writes cost one fsync.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use rusqlite::Connection;
use switchboard_core::store::{StoreError, StoreResult};
use tokio::sync::oneshot;

use super::backend;

/// Most writes committed together.
const MAX_GROUP: usize = 1024;

type Finish = Box<dyn FnOnce(Result<(), String>) + Send>;
/// Runs against the connection, or (given `None`) reports that it could not run.
type Job = Box<dyn FnOnce(Option<&Connection>) -> (bool, Finish) + Send>;
/// Run in each transaction after its writes and before its commit; a failure
/// rolls the whole transaction back.
pub(crate) type BeforeCommit = fn(&Connection) -> rusqlite::Result<()>;

pub(crate) struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    /// `restart_due`: set by the checkpointer when the write-ahead log
    /// should start over (see [`restart_log`]).
    pub fn start(conn: Connection, before_commit: BeforeCommit, restart_due: Arc<AtomicBool>) -> StoreResult<Self> {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, rx, before_commit, &restart_due))
            .map_err(|e| StoreError::Backend(format!("cannot start the writer thread: {e}")))?;
        Ok(Self { tx })
    }

    pub async fn write<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<R> + Send + 'static,
    ) -> StoreResult<R> {
        let (reply, answer) = oneshot::channel::<StoreResult<R>>();
        let job: Job = Box::new(move |conn| match conn.map(f) {
            None => (
                false,
                Box::new(move |msg: Result<(), String>| {
                    drop(reply.send(msg.and(Err("write not run".into())).map_err(StoreError::Backend)))
                }),
            ),
            Some(Ok(value)) => (
                true,
                Box::new(move |commit: Result<(), String>| {
                    let _ = reply.send(commit.map(|()| value).map_err(StoreError::Backend));
                }),
            ),
            Some(Err(e)) => {
                let e = backend(e);
                (false, Box::new(move |_| drop(reply.send(Err(e)))))
            }
        });
        self.tx.send(job).map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

fn run(conn: Connection, rx: mpsc::Receiver<Job>, before_commit: BeforeCommit, restart_due: &AtomicBool) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        if let Err(e) = statement(&conn, "BEGIN IMMEDIATE") {
            let msg = format!("cannot start a write transaction: {e}");
            for job in jobs {
                let (_, finish) = job(None);
                finish(Err(msg.clone()));
            }
            continue;
        }
        let mut finishes = Vec::with_capacity(jobs.len());
        let outcome = if jobs.len() == 1 {
            // Alone in its group: no savepoint (it would copy every page it
            // touches to the sub-journal); a failure rolls the transaction back.
            let job = jobs.pop().expect("one job");
            let (ok, finish) = job(Some(&conn));
            finishes.push(finish);
            if ok { commit(&conn, before_commit) } else { rollback(&conn) }
        } else {
            for job in jobs {
                let ok_sp = statement(&conn, "SAVEPOINT job").is_ok();
                let (ok, finish) = job(Some(&conn));
                if ok_sp {
                    let end = if ok { Ok(()) } else { statement(&conn, "ROLLBACK TO job") };
                    if let Err(e) = end.and_then(|()| statement(&conn, "RELEASE job")) {
                        tracing::error!(error = %e, "savepoint end failed");
                    }
                }
                finishes.push(finish);
            }
            commit(&conn, before_commit)
        };
        for finish in finishes {
            finish(outcome.clone());
        }
        if restart_due.swap(false, Ordering::Relaxed) {
            restart_log(&conn);
        }
    }
}

/// Starts the write-ahead log over, between two transactions. The
/// checkpointer has copied all but the last few frames by then; here the
/// rest are copied and the log restarted while no write is running. Asked of
/// the checkpointer's own connection, the same checkpoint had to win the
/// write lock from a writer that takes it back microseconds after each
/// commit: it waited seconds in SQLite's busy handler (sleeps of up to
/// 100 ms) while the log grew, then held the lock for a second copying what
/// the writer had added meanwhile — a fifth of a bulk write's time spent
/// waiting.
fn restart_log(conn: &Connection) {
    match conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get::<_, i64>(0)) {
        Ok(0) => {}
        Ok(_) => tracing::warn!("the write-ahead log could not start over (a reader is busy); trying again"),
        Err(e) => tracing::warn!(error = %e, "cannot start the write-ahead log over; trying again"),
    }
}

/// One statement kept prepared: the writer runs these for every job, and
/// parsing them each time was a twentieth of a webhook delivery's work.
fn statement(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

fn commit(conn: &Connection, before_commit: BeforeCommit) -> Result<(), String> {
    before_commit(conn).and_then(|()| statement(conn, "COMMIT")).map_err(|e| {
        let _ = statement(conn, "ROLLBACK");
        format!("commit failed: {e}")
    })
}

/// Ends the transaction of a lone failed job; its own error is what its caller sees.
fn rollback(conn: &Connection) -> Result<(), String> {
    if let Err(e) = statement(conn, "ROLLBACK") {
        tracing::error!(error = %e, "rollback failed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restarting_copies_the_log_and_the_next_write_starts_it_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        conn.execute_batch("CREATE TABLE filler (b BLOB NOT NULL)").unwrap();
        for _ in 0..20 {
            conn.execute("INSERT INTO filler (b) VALUES (zeroblob(65536))", []).unwrap();
        }
        // No checkpoint has run: SQLite cannot start the log over by itself.
        restart_log(&conn);
        conn.execute("INSERT INTO filler (b) VALUES (zeroblob(100))", []).unwrap();
        let other = Connection::open(&path).unwrap();
        let (frames, rows): (i64, i64) = (
            crate::sqlite::passive(&other).unwrap().0,
            other.query_row("SELECT COUNT(*) FROM filler", [], |r| r.get(0)).unwrap(),
        );
        assert!(frames < 10, "the write after the restart is at the log's start, not after its {frames} frames");
        assert_eq!(rows, 21, "what the log held is in the database");
    }
}
