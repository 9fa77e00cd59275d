//! `switchboard advisories import PATH_OR_URL…`: OSV records from files,
//! directories, zips or URLs, sent through `import_advisories` in batches
//! (progress on a terminal), with one report at the end. The same reader
//! feeds the demo's sample and the `[advisories] sources` refresh.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Subcommand;
use serde_json::{Value, json};
use switchboard_core::advisory::osv::Refused;
use switchboard_core::{Caller, Service};
use tokio::sync::mpsc;

use crate::advisory_files::{self, Fetched, Item};
use crate::imports::Acting;

/// Records sent a call: well under the operation's limit, small in memory.
const BATCH: usize = 500;
/// Refusals listed in the report (all are counted).
const LISTED: usize = 50;

#[derive(Subcommand, Debug)]
pub(crate) enum AdvisoriesCommand {
    /// Import OSV advisories: JSON files (a record or a list), directories
    /// of them, zips of them (OSV publishes `ECOSYSTEM/all.zip`), or
    /// http(s) URLs of any of those. Matches every project's dependencies
    /// against them. Prints the report as JSON; progress on a terminal.
    Import {
        #[arg(required = true)]
        sources: Vec<String>,
        #[command(flatten)]
        acting: Acting,
    },
    /// Sync with Dependency-Track now (`[dependency_track]` in the config):
    /// upload every project's dependencies as a CycloneDX BOM, wait for the
    /// analysis, read findings and policy violations back as advisories and
    /// facts. Prints the report as JSON; progress on stderr.
    DependencyTrack {
        #[command(flatten)]
        acting: Acting,
    },
}

/// What an import did, summed over its batches.
#[derive(Default, Debug)]
pub(crate) struct Totals {
    pub read: u64,
    pub changed: u64,
    pub unchanged: u64,
    pub refused: u64,
    pub refusals: Vec<Refused>,
    pub notes: u64,
    pub found: u64,
    pub fixed: u64,
}

impl Totals {
    fn refuse(&mut self, r: Refused) {
        self.refused += 1;
        if self.refusals.len() < LISTED {
            self.refusals.push(r);
        }
    }

    fn add(&mut self, out: &Value) {
        let n = |k: &str| out[k].as_u64().unwrap_or(0);
        self.changed += n("changed");
        self.unchanged += n("unchanged");
        self.found += n("found");
        self.fixed += n("fixed");
        self.notes += out["notes"].as_array().map_or(0, |a| a.len() as u64);
        for r in out["refused"].as_array().into_iter().flatten() {
            let id = r["id"].as_str().map(str::to_owned);
            self.refuse(Refused { id, reason: r["reason"].as_str().unwrap_or_default().to_owned() });
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "read": self.read, "changed": self.changed, "unchanged": self.unchanged,
            "refused": self.refused, "refusals": self.refusals, "notes": self.notes,
            "found": self.found, "fixed": self.fixed,
        })
    }

    pub(crate) fn line(&self) -> String {
        format!(
            "{} record(s) read: {} new or changed, {} unchanged, {} refused; {} vulnerabilit{} found, {} fixed",
            self.read,
            self.changed,
            self.unchanged,
            self.refused,
            self.found,
            if self.found == 1 { "y" } else { "ies" },
            self.fixed
        )
    }
}

pub(crate) async fn run(command: AdvisoriesCommand) -> anyhow::Result<ExitCode> {
    match command {
        AdvisoriesCommand::Import { sources, acting } => {
            let (service, caller) = acting.open().await?;
            let progress = std::io::stderr().is_terminal();
            let mut totals = Totals::default();
            let http = http_client();
            let mut failed = Vec::new();
            for source in &sources {
                if let Err(e) = import_source(&service, &caller, &http, source, progress, &mut totals).await {
                    eprintln!("{source}: {e}");
                    failed.push(source.clone());
                }
            }
            eprintln!("{}", totals.line());
            println!("{}", serde_json::to_string_pretty(&totals.to_json())?);
            Ok(if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        AdvisoriesCommand::DependencyTrack { acting } => {
            let (service, _) = acting.open().await?;
            if service.config().dependency_track.url.is_none() {
                anyhow::bail!(
                    "no Dependency-Track configured: set [dependency_track] url in the config (and SWITCHBOARD_DEPENDENCY_TRACK_API_KEY)"
                );
            }
            let report = crate::dependency_track::sync(&service, true).await?;
            eprintln!("{}", report.line());
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(if report.errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}

pub(crate) fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(15))
        .timeout(std::time::Duration::from_secs(600))
        .build()
        .unwrap_or_default()
}

/// Imports one path or URL (downloaded whole first, without validators).
async fn import_source(
    service: &Service,
    caller: &Caller,
    http: &reqwest::Client,
    source: &str,
    progress: bool,
    totals: &mut Totals,
) -> anyhow::Result<()> {
    if source.starts_with("http://") || source.starts_with("https://") {
        match advisory_files::fetch(http, source, None, None).await.map_err(anyhow::Error::msg)? {
            Fetched::Body { file, .. } => import_path(service, caller, file.path(), progress, totals).await,
            Fetched::NotModified => Ok(()),
        }
    } else {
        let path = std::path::Path::new(source.strip_prefix("file:").unwrap_or(source));
        if !path.exists() {
            anyhow::bail!("no such file or directory (give an OSV JSON file, a directory or zip of them, or a URL)");
        }
        import_path(service, caller, path, progress, totals).await
    }
}

/// Streams the records under `path` into `import_advisories` calls.
pub(crate) async fn import_path(
    service: &Service,
    caller: &Caller,
    path: &std::path::Path,
    progress: bool,
    totals: &mut Totals,
) -> anyhow::Result<()> {
    let (tx, mut rx) = mpsc::channel::<Item>(2 * BATCH);
    let owned = path.to_owned();
    let reader = tokio::task::spawn_blocking(move || advisory_files::read_path(&owned, &tx));
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let item = rx.recv().await;
        let done = item.is_none();
        match item {
            Some(Ok(record)) => batch.push(record),
            Some(Err(refused)) => totals.refuse(refused),
            None => {}
        }
        if batch.len() >= BATCH || (done && !batch.is_empty()) {
            totals.read += batch.len() as u64;
            let records = std::mem::take(&mut batch);
            let out = service.execute_json(caller, "import_advisories", json!({ "records": records })).await?;
            totals.add(&out.to_json());
            if progress {
                eprint!("\r{}", totals.line());
            }
        }
        if done {
            break;
        }
    }
    if progress {
        eprintln!();
    }
    reader.await?.map_err(anyhow::Error::msg)
}

/// The demo's sample (`core/osv/`), imported as the demo admin.
pub(crate) async fn import_sample(service: &Service, caller: &Caller) -> anyhow::Result<Totals> {
    let records = switchboard_core::demo_advisories::sample();
    let mut totals = Totals { read: records.len() as u64, ..Totals::default() };
    let out = service.execute_json(caller, "import_advisories", json!({ "records": records })).await?;
    totals.add(&out.to_json());
    Ok(totals)
}

/// `[advisories] sources`, imported at start and every `refresh_hours` by
/// one process among those on the store; an unchanged URL answers 304 to
/// the validators its last download gave.
pub(crate) fn spawn_refresh(service: Service) -> Option<tokio::task::JoinHandle<()>> {
    let config = service.config().advisories.clone();
    if config.sources.is_empty() {
        return None;
    }
    Some(tokio::spawn(async move {
        let caller = Caller::new("switchboard", switchboard_core::model::Role::Admin, "advisories");
        let http = http_client();
        let every = std::time::Duration::from_secs(u64::from(config.refresh_hours.max(1)) * 3600);
        let mut validators: std::collections::HashMap<String, (Option<String>, Option<String>)> = Default::default();
        loop {
            let until = service.now() + every.as_millis() as i64 - 60_000;
            for source in &config.sources {
                match service.claim_once("advisory_refresh", source, until).await {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(e) => {
                        tracing::warn!(source = %source, error = %e, "cannot claim the advisory refresh");
                        continue;
                    }
                }
                let mut totals = Totals::default();
                let result = refresh_one(&service, &caller, &http, source, &mut validators, &mut totals).await;
                match result {
                    Ok(false) => tracing::info!(source = %source, "advisories unchanged since the last refresh"),
                    Ok(true) => tracing::info!(source = %source, "advisories refreshed: {}", totals.line()),
                    Err(e) => {
                        tracing::warn!(source = %source, error = %e, "cannot refresh advisories; trying again next refresh")
                    }
                }
            }
            if config.refresh_hours == 0 {
                return;
            }
            tokio::time::sleep(every).await;
        }
    }))
}

/// Imports one source if it changed; whether it did.
async fn refresh_one(
    service: &Service,
    caller: &Caller,
    http: &reqwest::Client,
    source: &str,
    validators: &mut std::collections::HashMap<String, (Option<String>, Option<String>)>,
    totals: &mut Totals,
) -> anyhow::Result<bool> {
    if !(source.starts_with("http://") || source.starts_with("https://")) {
        import_path(service, caller, std::path::Path::new(source), false, totals).await?;
        return Ok(true);
    }
    let (etag, modified) = validators.get(source).cloned().unwrap_or_default();
    match advisory_files::fetch(http, source, etag.as_deref(), modified.as_deref()).await.map_err(anyhow::Error::msg)? {
        Fetched::NotModified => Ok(false),
        Fetched::Body { file, etag, last_modified } => {
            import_path(service, caller, file.path(), false, totals).await?;
            validators.insert(source.to_owned(), (etag, last_modified));
            Ok(true)
        }
    }
}
