//! `switchboard migrate --from sqlite:PATH --to neo4j+clickhouse`: copies an
//! embedded store's project graph to Neo4j and/or its operations log to
//! ClickHouse (the servers the config's `[store.neo4j]` and
//! `[store.clickhouse]` name), with a progress bar on stderr, and checks at
//! the end that the targets hold what the source holds. Every write is an
//! upsert by id, so an interrupted move is simply run again. Then set
//! `[store] graph = "neo4j"` / `log = "clickhouse"`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use switchboard_core::config::Config;
use switchboard_core::store::{EventLog, GraphStore};
use switchboard_store::SqliteStore;

use crate::transfer::{self, AppendTo, GraphWriter, Progress, RecordSink};

/// Which parts move.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Targets {
    pub graph: bool,
    pub log: bool,
}

impl Targets {
    /// `neo4j`, `clickhouse` or `neo4j+clickhouse` (either order).
    pub fn parse(to: &str) -> anyhow::Result<Self> {
        let mut t = Targets { graph: false, log: false };
        for part in to.split('+') {
            match part.trim() {
                "neo4j" => t.graph = true,
                "clickhouse" => t.log = true,
                other => anyhow::bail!(
                    "--to {to:?}: {other:?} is not a backend to move to; use neo4j, clickhouse or neo4j+clickhouse"
                ),
            }
        }
        Ok(t)
    }
}

/// `sqlite:PATH` (the embedded store's data directory).
pub fn parse_from(from: &str) -> anyhow::Result<PathBuf> {
    match from.strip_prefix("sqlite:") {
        Some(path) if !path.is_empty() => Ok(PathBuf::from(path)),
        _ => anyhow::bail!("--from {from:?}: name the embedded store as sqlite:PATH (its data directory)"),
    }
}

pub async fn run(config: &Config, data_dir: &Path, to: Targets) -> anyhow::Result<()> {
    anyhow::ensure!(
        data_dir.join(switchboard_store::DB_FILE).exists(),
        "there is no embedded store in {} (no {}): check --from",
        data_dir.display(),
        switchboard_store::DB_FILE
    );
    let source = SqliteStore::open(data_dir, config.store.readers)
        .with_context(|| format!("cannot open the store in {}", data_dir.display()))?;
    let graph: Box<dyn GraphStore> =
        if to.graph { Box::new(crate::app::open_neo4j(config).await?) } else { Box::new(source.clone()) };
    let log: Box<dyn EventLog> =
        if to.log { Box::new(crate::app::open_clickhouse(config).await?) } else { Box::new(source.clone()) };
    let before = transfer::totals(&source, &source).await?;
    eprintln!(
        "moving from {}: {} projects, {} users, {} runs, {} tokens, {} events",
        data_dir.display(),
        before.all_projects,
        before.users,
        before.runs,
        before.tokens,
        before.events
    );
    if to.graph {
        eprintln!("the graph goes to {}", config.store.neo4j.uri);
        let mut progress = Progress::new("projects", before.all_projects);
        let mut writer = GraphWriter::new(graph.as_ref());
        transfer::read_graph(&source, &mut writer as &mut dyn RecordSink, Some(&mut progress)).await?;
        writer.flush().await?;
        progress.finish();
    }
    if to.log {
        eprintln!("the log goes to {} (database {})", config.store.clickhouse.url, config.store.clickhouse.database);
        let mut progress = Progress::new("events", before.events);
        transfer::read_events(&source, &mut AppendTo(log.as_ref()), Some(&mut progress)).await?;
        progress.finish();
    }
    let after = transfer::totals(graph.as_ref(), log.as_ref()).await?;
    let mut missing = Vec::new();
    if to.graph {
        let (a, b) = (&after, &before);
        for (what, got, want) in [
            ("projects", a.all_projects, b.all_projects),
            ("live projects", a.counts.projects, b.counts.projects),
            ("teams", a.counts.teams, b.counts.teams),
            ("dependencies", a.counts.dependencies, b.counts.dependencies),
            ("deployments", a.counts.deployments, b.counts.deployments),
            ("open incidents", a.counts.open_incidents, b.counts.open_incidents),
            ("pending runs", a.counts.pending_runs, b.counts.pending_runs),
            ("users", a.users, b.users),
            ("runs", a.runs, b.runs),
            ("tokens", a.tokens, b.tokens),
        ] {
            if got < want {
                missing.push(format!("{what}: {got} of {want}"));
            }
        }
    }
    if to.log && after.events < before.events {
        missing.push(format!("events: {} of {}", after.events, before.events));
    }
    anyhow::ensure!(
        missing.is_empty(),
        "the target holds less than the source ({}): run the command again",
        missing.join(", ")
    );
    eprintln!(
        "done: every count matches. Now set [store]{}{} in the config.",
        if to.graph { " graph = \"neo4j\"" } else { "" },
        if to.log { " log = \"clickhouse\"" } else { "" }
    );
    println!("{}", serde_json::json!({"source": before, "target": after}));
    Ok(())
}
