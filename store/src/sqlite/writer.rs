//! The single writer thread. It takes every write queued so far, runs each in
//! its own savepoint inside one transaction, runs the store's work left for
//! the end of a transaction (outside every savepoint), commits once, then
//! answers each caller: many small writes cost one fsync.

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
    pub fn start(conn: Connection, before_commit: BeforeCommit) -> StoreResult<Self> {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, rx, before_commit))
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

fn run(conn: Connection, rx: mpsc::Receiver<Job>, before_commit: BeforeCommit) {
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
