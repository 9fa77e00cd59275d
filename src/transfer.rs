//! Moving an installation between backends: `switchboard migrate` (store to
//! store, in one process) and `switchboard export` / `import` (through a
//! JSON Lines file). Both go through the store traits only, so any backend
//! can be the source or the target.
//!
//! What moves: users with their password hashes, teams, projects (facts,
//! environments, dependencies), deployments, incidents, builds, automation
//! runs, API tokens, and the whole operations log. What does not: portal
//! sessions (people sign in again) and the chat's short-term memory of
//! recent turns. Every write is an upsert by id, so an interrupted move is
//! simply run again.

use std::io::{BufRead, Write};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use switchboard_core::event::{Event, EventQuery};
use switchboard_core::ids::UserName;
use switchboard_core::model::*;
use switchboard_core::store::{Counts, DeploymentQuery, EventLog, GraphBatch, GraphStore, IncidentQuery, ProjectQuery};

/// Projects (with their deployments, incidents and builds) written per import call.
const BATCH: usize = 500;
/// Events read and appended per call.
const EVENT_PAGE: usize = 5_000;

/// One line of an export.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    /// First line: what the file holds, for the progress bar and the check at the end.
    Header {
        format: u32,
        projects: u64,
        events: u64,
    },
    User {
        user: User,
        password_hash: Option<String>,
    },
    Team {
        team: Team,
    },
    Project {
        project: Project,
        deployments: Vec<Deployment>,
        incidents: Vec<Incident>,
        builds: Vec<Build>,
    },
    Run {
        run: Run,
    },
    Token {
        token: ApiToken,
    },
    Event {
        event: Event,
    },
}

const FORMAT: u32 = 1;

/// A progress bar on stderr: `projects [#####.....]  52% 52,000/100,000  12.3 s`.
pub struct Progress {
    what: &'static str,
    total: u64,
    done: u64,
    started: Instant,
    shown: Instant,
}

impl Progress {
    pub fn new(what: &'static str, total: u64) -> Self {
        let p = Progress { what, total, done: 0, started: Instant::now(), shown: Instant::now() };
        p.draw();
        p
    }

    pub fn add(&mut self, n: u64) {
        self.done += n;
        if self.shown.elapsed().as_millis() >= 200 {
            self.shown = Instant::now();
            self.draw();
        }
    }

    fn draw(&self) {
        let share = if self.total == 0 { 1.0 } else { (self.done as f64 / self.total as f64).min(1.0) };
        let filled = (share * 30.0).round() as usize;
        eprint!(
            "\r{:<9}[{}{}] {:>3}% {}/{}  {:.1} s",
            self.what,
            "#".repeat(filled),
            ".".repeat(30 - filled),
            (share * 100.0).round(),
            self.done,
            self.total,
            self.started.elapsed().as_secs_f64()
        );
        let _ = std::io::stderr().flush();
    }

    pub fn finish(self) {
        self.draw();
        eprintln!();
    }
}

/// Everything in the graph, as records, handed to `sink` in order (users,
/// teams, projects with their activity, runs, tokens). The log's events go
/// through [`read_events`].
pub async fn read_graph(
    graph: &dyn GraphStore,
    sink: &mut dyn RecordSink,
    mut progress: Option<&mut Progress>,
) -> anyhow::Result<()> {
    for user in graph.list_users().await? {
        let password_hash = graph.password_hash(&user.name).await?;
        sink.record(Record::User { user, password_hash }).await?;
    }
    for team in graph.list_teams().await? {
        sink.record(Record::Team { team }).await?;
    }
    let all = ProjectQuery { include_archived: true, limit: usize::MAX, ..Default::default() };
    for summary in graph.find_projects(&all).await? {
        let Some(project) = graph.get_project(&summary.slug).await? else { continue };
        let slug = Some(project.slug.clone());
        let deployments = graph
            .list_deployments(&DeploymentQuery { project: slug.clone(), limit: usize::MAX, ..Default::default() })
            .await?;
        let incidents =
            graph.list_incidents(&IncidentQuery { project: slug, limit: usize::MAX, ..Default::default() }).await?;
        let builds = graph.list_builds(&project.slug, usize::MAX).await?;
        sink.record(Record::Project { project, deployments, incidents, builds }).await?;
        if let Some(p) = progress.as_deref_mut() {
            p.add(1);
        }
    }
    for run in graph.list_runs(None, usize::MAX).await? {
        sink.record(Record::Run { run }).await?;
    }
    for token in graph.list_tokens(None).await? {
        sink.record(Record::Token { token }).await?;
    }
    Ok(())
}

/// Hands every event of `log` to `page`, a page at a time, newest first.
pub async fn read_events(
    log: &dyn EventLog,
    page: &mut dyn AsyncPage,
    mut progress: Option<&mut Progress>,
) -> anyhow::Result<()> {
    let mut until: Option<i64> = None;
    let mut size = EVENT_PAGE;
    // Ids already handed on at the millisecond the last page ended in: the
    // next page starts at that millisecond again and must not repeat them.
    let mut boundary: (Option<i64>, std::collections::HashSet<String>) = (None, Default::default());
    loop {
        let events = log.query(&EventQuery { until, limit: size, ..Default::default() }).await?;
        let Some(oldest) = events.last().map(|e| e.occurred_at) else { return Ok(()) };
        let (n, newest) = (events.len(), events[0].occurred_at);
        let fresh: Vec<Event> = events
            .into_iter()
            .filter(|e| !(boundary.0 == Some(e.occurred_at) && boundary.1.contains(&e.id.to_string())))
            .collect();
        if boundary.0 != Some(oldest) {
            boundary = (Some(oldest), Default::default());
        }
        boundary.1.extend(fresh.iter().filter(|e| e.occurred_at == oldest).map(|e| e.id.to_string()));
        let handed = fresh.len() as u64;
        page.take(fresh).await?;
        if let Some(p) = progress.as_deref_mut() {
            p.add(handed);
        }
        if n < size {
            return Ok(());
        }
        // The next page ends where this one's oldest millisecond ends; a page
        // that is all one millisecond is read again, twice as large.
        size = if newest == oldest { size * 2 } else { EVENT_PAGE };
        until = Some(oldest + 1);
    }
}

/// Somewhere graph records go.
#[async_trait::async_trait]
pub trait RecordSink: Send {
    async fn record(&mut self, record: Record) -> anyhow::Result<()>;
}

/// Somewhere pages of events go.
#[async_trait::async_trait]
pub trait AsyncPage: Send {
    async fn take(&mut self, events: Vec<Event>) -> anyhow::Result<()>;
}

/// Appends each page to a log.
pub struct AppendTo<'a>(pub &'a dyn EventLog);

#[async_trait::async_trait]
impl AsyncPage for AppendTo<'_> {
    async fn take(&mut self, events: Vec<Event>) -> anyhow::Result<()> {
        self.0.append(&events).await?;
        Ok(())
    }
}

/// Writes records into a graph, batching projects.
pub struct GraphWriter<'a> {
    graph: &'a dyn GraphStore,
    batch: GraphBatch,
    pending_projects: usize,
}

impl<'a> GraphWriter<'a> {
    pub fn new(graph: &'a dyn GraphStore) -> Self {
        GraphWriter { graph, batch: GraphBatch::default(), pending_projects: 0 }
    }

    pub async fn flush(&mut self) -> anyhow::Result<()> {
        if !self.batch.is_empty() {
            self.graph.import(&std::mem::take(&mut self.batch)).await?;
        }
        self.pending_projects = 0;
        Ok(())
    }
}

#[async_trait::async_trait]
impl RecordSink for GraphWriter<'_> {
    /// Takes one record; events are not the graph's and are refused.
    async fn record(&mut self, record: Record) -> anyhow::Result<()> {
        match record {
            Record::Header { .. } => {}
            Record::User { user, password_hash } => {
                let name: UserName = user.name.clone();
                self.batch.users.push(user);
                self.flush().await?;
                if let Some(hash) = password_hash {
                    self.graph.set_password_hash(&name, &hash).await?;
                }
            }
            Record::Team { team } => self.batch.teams.push(team),
            Record::Project { project, deployments, incidents, builds } => {
                self.batch.projects.push(project);
                self.batch.deployments.extend(deployments);
                self.batch.incidents.extend(incidents);
                self.batch.builds.extend(builds);
                self.pending_projects += 1;
                if self.pending_projects >= BATCH {
                    self.flush().await?;
                }
            }
            Record::Run { run } => self.graph.put_run(&run).await?,
            Record::Token { token } => self.graph.put_token(&token).await?,
            Record::Event { .. } => anyhow::bail!("an event is not a graph record"),
        }
        Ok(())
    }
}

/// What a store holds, to compare source and target after a move.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub counts: Counts,
    /// Archived ones included.
    pub all_projects: u64,
    pub users: u64,
    pub runs: u64,
    pub tokens: u64,
    pub events: u64,
}

pub async fn totals(graph: &dyn GraphStore, log: &dyn EventLog) -> anyhow::Result<Totals> {
    Ok(Totals {
        counts: graph.counts().await?,
        all_projects: graph.count_projects(&ProjectQuery { include_archived: true, ..Default::default() }).await?,
        users: graph.list_users().await?.len() as u64,
        runs: graph.list_runs(None, usize::MAX).await?.len() as u64,
        tokens: graph.list_tokens(None).await?.len() as u64,
        events: log.count().await?,
    })
}

/// Writes the whole store as JSON Lines: a header, the graph's records, then
/// every event.
pub async fn export(
    graph: &dyn GraphStore,
    log: &dyn EventLog,
    out: &mut (dyn Write + Send),
) -> anyhow::Result<Totals> {
    let before = totals(graph, log).await?;
    let mut lines = Lines(out);
    lines.line(&Record::Header { format: FORMAT, projects: before.all_projects, events: before.events })?;
    let mut progress = Progress::new("projects", before.all_projects);
    read_graph(graph, &mut lines, Some(&mut progress)).await?;
    progress.finish();
    let mut progress = Progress::new("events", before.events);
    read_events(log, &mut lines, Some(&mut progress)).await?;
    progress.finish();
    lines.0.flush()?;
    Ok(before)
}

/// Records as JSON Lines.
struct Lines<'w>(&'w mut (dyn Write + Send));

impl Lines<'_> {
    fn line(&mut self, r: &Record) -> anyhow::Result<()> {
        serde_json::to_writer(&mut *self.0, r)?;
        self.0.write_all(b"\n")?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl RecordSink for Lines<'_> {
    async fn record(&mut self, record: Record) -> anyhow::Result<()> {
        self.line(&record)
    }
}

#[async_trait::async_trait]
impl AsyncPage for Lines<'_> {
    async fn take(&mut self, events: Vec<Event>) -> anyhow::Result<()> {
        for event in events {
            self.line(&Record::Event { event })?;
        }
        Ok(())
    }
}

/// Reads an export into a store. A bad line stops the import with its line
/// number; what was written before it stays (every write is an upsert, so
/// fixing the file and importing again is safe).
pub async fn import(
    graph: &dyn GraphStore,
    log: &dyn EventLog,
    input: &mut (dyn BufRead + Send),
) -> anyhow::Result<(u64, u64)> {
    let mut writer = GraphWriter::new(graph);
    let mut events: Vec<Event> = Vec::with_capacity(EVENT_PAGE);
    let (mut projects, mut event_count) = (0u64, 0u64);
    let mut progress: Option<Progress> = None;
    let mut line = String::new();
    let mut number = 0u64;
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            break;
        }
        number += 1;
        if line.trim().is_empty() {
            continue;
        }
        let record: Record = serde_json::from_str(&line)
            .map_err(|e| anyhow::anyhow!("line {number} is not a Switchboard export record: {e}"))?;
        match record {
            Record::Header { format, projects, events } => {
                anyhow::ensure!(
                    format <= FORMAT,
                    "the export is format {format}, newer than this binary reads ({FORMAT}): upgrade Switchboard"
                );
                progress = Some(Progress::new("records", projects + events));
            }
            Record::Event { event } => {
                events.push(event);
                event_count += 1;
                if events.len() >= EVENT_PAGE {
                    writer.flush().await?;
                    log.append(&std::mem::take(&mut events)).await?;
                }
                if let Some(p) = progress.as_mut() {
                    p.add(1);
                }
            }
            other => {
                if matches!(other, Record::Project { .. }) {
                    projects += 1;
                    if let Some(p) = progress.as_mut() {
                        p.add(1);
                    }
                }
                writer.record(other).await?;
            }
        }
    }
    writer.flush().await?;
    log.append(&events).await?;
    if let Some(p) = progress {
        p.finish();
    }
    Ok((projects, event_count))
}
