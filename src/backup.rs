//! `switchboard backup` and `restore`: the embedded store copied while
//! `serve` runs, and such a copy put back (docs/production.md#backups).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use switchboard_store::sqlite::backup;

use crate::cli::load;
use crate::store_args::StoreArgs;

pub(crate) fn run_backup(store: &StoreArgs, out: &Path) -> anyhow::Result<ExitCode> {
    let config = load(store.config.as_ref())?;
    let dir = store.dir(&config)?;
    let copied = backup::backup(&dir, out).with_context(|| format!("backing up the store in {}", dir.display()))?;
    println!(
        "backed up {} to {}: {} projects, {} events, schema {}, {} bytes (checked)",
        dir.display(),
        out.display(),
        copied.projects,
        copied.events,
        copied.schema,
        copied.bytes
    );
    if config.store.graph != switchboard_core::config::GraphBackend::Sqlite
        || config.store.log != switchboard_core::config::LogBackend::Sqlite
    {
        eprintln!(
            "note: this copies the embedded store only; the graph on Neo4j and the log on ClickHouse are backed up \
             with their own tools, or all of it with `switchboard export` (docs/production.md#backups)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn run_restore(store: &StoreArgs, input: &Path, force: bool) -> anyhow::Result<ExitCode> {
    let config = load(store.config.as_ref())?;
    let dir = match &store.data_dir {
        Some(d) => d.clone(),
        None => store.dir(&config)?,
    };
    let restored = backup::restore(input, &dir, force)
        .with_context(|| format!("restoring {} into {}", input.display(), dir.display()))?;
    let c = &restored.copied;
    println!(
        "restored {} into {}: {} projects, {} events, schema {}",
        input.display(),
        dir.display(),
        c.projects,
        c.events,
        c.schema
    );
    if let Some(aside) = restored.aside {
        println!("the store it replaced is kept in {}", aside.display());
    }
    Ok(ExitCode::SUCCESS)
}
