//! `switchboard backup` and `restore`: a consistent copy of the embedded
//! store taken while `serve` runs (SQLite's `VACUUM INTO` reads one
//! snapshot of the write-ahead log; writers go on meanwhile), checked before
//! it is called done; and putting such a copy in place of a store.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use switchboard_core::store::{StoreError, StoreResult};

use super::{DB_FILE, migrations};

/// What a backup or restore found in the copy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Copied {
    pub bytes: u64,
    /// The schema version the copy is at.
    pub schema: usize,
    pub projects: u64,
    pub events: u64,
}

fn failed(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("{what}: {e}"))
}

/// Opens `path` read-only as a Switchboard store and says what it holds;
/// refuses a file that is not one, or is damaged.
fn inspect(path: &Path) -> StoreResult<Copied> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| failed(&format!("cannot open {}", path.display()), e))?;
    let not_ours =
        |e: rusqlite::Error| failed(&format!("{} is not a Switchboard store (or is damaged)", path.display()), e);
    let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0)).map_err(not_ours)?;
    if check != "ok" {
        return Err(StoreError::Backend(format!("{} is damaged: {check}", path.display())));
    }
    let schema = conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0)).map_err(not_ours)? as usize;
    if schema == 0 || schema > migrations::LATEST {
        return Err(StoreError::Backend(format!(
            "{} is at schema version {schema}; this build reads 1 to {}",
            path.display(),
            migrations::LATEST
        )));
    }
    let count = |table: &str| -> StoreResult<u64> {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(not_ours)
    };
    let bytes = std::fs::metadata(path).map_err(|e| failed(&format!("cannot read {}", path.display()), e))?.len();
    Ok(Copied { bytes, schema, projects: count("projects")?, events: count("events")? })
}

/// Copies the store in `data_dir` to `out` (which must not exist), as of
/// one moment, and checks the copy. Safe while another process writes.
pub fn backup(data_dir: &Path, out: &Path) -> StoreResult<Copied> {
    let source = data_dir.join(DB_FILE);
    if !source.exists() {
        return Err(StoreError::Backend(format!("there is no store in {} to back up", data_dir.display())));
    }
    if out.exists() {
        return Err(StoreError::Backend(format!(
            "{} already exists; a backup never overwrites a file — name a new one",
            out.display()
        )));
    }
    let conn = Connection::open_with_flags(&source, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| failed(&format!("cannot open {}", source.display()), e))?;
    conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(|e| failed("busy timeout", e))?;
    let target = out.to_str().ok_or_else(|| StoreError::Backend(format!("{} is not a UTF-8 path", out.display())))?;
    conn.execute("VACUUM INTO ?1", [target]).map_err(|e| failed(&format!("cannot write {}", out.display()), e))?;
    inspect(out)
}

/// Puts the backup `from` in place of the store in `data_dir`. A store that
/// holds projects or events is replaced only with `force`. The copy is
/// checked first and moved in whole, and the replaced store is moved into a
/// `replaced-by-restore-<time>` directory beside it, never deleted; the
/// store is brought to this build's schema when next opened.
pub fn restore(from: &Path, data_dir: &Path, force: bool) -> StoreResult<Restored> {
    let found = inspect(from)?;
    let target = data_dir.join(DB_FILE);
    if target.exists() {
        let current = inspect(&target)?;
        if (current.projects > 0 || current.events > 0) && !force {
            return Err(StoreError::Backend(format!(
                "the store in {} is not empty ({} projects, {} events); --force replaces it (back it up first, and stop every process using it)",
                data_dir.display(),
                current.projects,
                current.events
            )));
        }
    }
    std::fs::create_dir_all(data_dir).map_err(|e| failed(&format!("cannot create {}", data_dir.display()), e))?;
    let staged: PathBuf = data_dir.join(format!("{DB_FILE}.restoring"));
    std::fs::copy(from, &staged).map_err(|e| failed(&format!("cannot copy into {}", staged.display()), e))?;
    // The store it replaces is kept aside whole (its write-ahead log with
    // it: left beside the new file, SQLite would apply it there).
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let aside = data_dir.join(format!("replaced-by-restore-{stamp}"));
    for suffix in ["", "-wal", "-shm"] {
        let p = data_dir.join(format!("{DB_FILE}{suffix}"));
        if p.exists() {
            std::fs::create_dir_all(&aside).map_err(|e| failed(&format!("cannot create {}", aside.display()), e))?;
            std::fs::rename(&p, aside.join(format!("{DB_FILE}{suffix}")))
                .map_err(|e| failed(&format!("cannot move {} aside", p.display()), e))?;
        }
    }
    std::fs::rename(&staged, &target).map_err(|e| failed(&format!("cannot move {}", staged.display()), e))?;
    Ok(Restored { copied: found, aside: aside.exists().then_some(aside) })
}

/// What a restore put in place, and where the store it replaced was kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restored {
    pub copied: Copied,
    pub aside: Option<PathBuf>,
}
