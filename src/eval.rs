//! `switchboard eval router`: the intent router scored on a set of
//! phrasings (the repository's own by default), against a store's names —
//! the demo organisation, generated in a temporary directory, unless
//! `--data-dir` or `--config` names a store.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use switchboard_agents::eval;

use crate::cli::StoreArgs;

pub(crate) struct RouterArgs {
    pub set: Option<PathBuf>,
    pub min: Option<f64>,
    pub quiet: bool,
    pub store: StoreArgs,
}

pub(crate) async fn router(a: RouterArgs) -> anyhow::Result<ExitCode> {
    let text = match &a.set {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?,
        None => eval::ROUTER_SET.to_owned(),
    };
    let origin = a.set.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "the repository's set".into());
    let cases = eval::parse_set(&text).map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
    // The demo organisation in a directory of its own, unless a store is named.
    let temp;
    let service = if a.store.names_a_store() {
        a.store.open().await?
    } else {
        temp = tempfile::tempdir().context("cannot create a temporary directory for the demo store")?;
        let store = StoreArgs::at(temp.path().to_path_buf());
        let service = store.open().await?;
        crate::seed::seed(&service, 60, false).await?;
        service
    };
    let catalog = switchboard_agents::Catalog::load(service.graph(), service.config()).await?;
    if catalog.projects.is_empty() {
        anyhow::bail!(
            "the store has no projects, so no name can be resolved; run `switchboard demo --seed-only` first"
        );
    }
    let started = std::time::Instant::now();
    let report = eval::run(&cases, &catalog);
    let per_message = started.elapsed().as_secs_f64() * 1e6 / cases.len() as f64;
    print!("{}", report.render(!a.quiet));
    println!("({} phrasings from {origin}, {per_message:.0} µs a message)", cases.len());
    match a.min {
        Some(min) if 100.0 * report.accuracy() < min => {
            eprintln!("below the required {min:.1}%");
            Ok(ExitCode::FAILURE)
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}
