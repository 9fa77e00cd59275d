//! Composition: open the store, build the service, serve the routers.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use switchboard_automations::{Hooks, Processor, RuleSet, RulesMapper};
use switchboard_core::Service;
use switchboard_core::clock::SystemClock;
use switchboard_core::config::{Config, FulltextHook, GraphBackend, InboxPlacement, LogConfig, LogFormat};
use switchboard_core::inbox::Inbox;
use switchboard_core::outbox::Outbox;
use switchboard_portal::{Mode, PortalState};
use switchboard_store::SqliteStore;
use tracing_subscriber::EnvFilter;

/// What webhook deliveries run: the rules, then the upgrade campaigns' follower.
pub fn mapper(rules: &Arc<RuleSet>, service: &Service) -> Arc<dyn switchboard_automations::process::Mapper> {
    use switchboard_automations::follow::{Chain, RunFollower};
    Arc::new(Chain(vec![
        Arc::new(RulesMapper::new(rules.clone(), service.clone())),
        Arc::new(switchboard_automations::repositories::RepositoryMapper {
            service: service.clone(),
            with_app: service.config().github.configured(),
        }),
        Arc::new(switchboard_automations::refresh::RefreshQueue::new(service.clone())),
        Arc::new(RunFollower { service: service.clone() }),
    ]))
}

/// Logs go to stderr: human lines by default, JSON when configured. `quiet`
/// (one-shot CLI commands) shows warnings only unless RUST_LOG says otherwise.
pub fn init_logging(log: &LogConfig, quiet: bool) {
    // One-shot commands export no traces.
    if let Err(e) = init_telemetry(log, &switchboard_core::config::TracesConfig::default(), quiet, false) {
        eprintln!("warning: {e:#}");
    }
}

/// Logs as `init_logging`, and with `traces` (and not `quiet`) the spans of
/// this long-running process exported over OTLP. A bad traces setting (an
/// `OTEL_*` variable the config cannot check) is an error.
pub fn init_telemetry(
    log: &LogConfig,
    traces: &switchboard_core::config::TracesConfig,
    quiet: bool,
    export: bool,
) -> anyhow::Result<()> {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let level = if quiet { "warn" } else { log.level.as_str() };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    use std::io::IsTerminal;
    // Lines are written to stderr by a thread of their own (src/log_writer.rs),
    // so a request never waits on the terminal or the log collector's pipe.
    let (writer, guard) = crate::log_writer::start(std::io::stderr()).context("cannot start the log's writer")?;
    // Colours only for people at a terminal, never in files or log collectors.
    let fmt = tracing_subscriber::fmt::layer().with_writer(writer).with_ansi(std::io::stderr().is_terminal());
    let fmt = match log.format {
        LogFormat::Human => fmt.boxed(),
        LogFormat::Json => fmt.json().boxed(),
    };
    // Spans for traces have a filter of their own (core/src/traces); the
    // log lines keep their level.
    let spans = if export && !quiet { crate::telemetry::layer(traces)? } else { None };
    let installed = tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .with(spans.map(|l| l.with_filter(switchboard_core::traces::SpanFilter::default())))
        .try_init();
    if installed.is_ok() {
        *LOG_WRITER.lock().unwrap_or_else(|e| e.into_inner()) = Some(guard);
    }
    Ok(())
}

/// Keeps the log's writer thread; dropped by [`flush_logs`].
static LOG_WRITER: std::sync::Mutex<Option<crate::log_writer::LogGuard>> = std::sync::Mutex::new(None);

/// Writes out every log line still queued; the last thing `main` does.
pub fn flush_logs() {
    crate::telemetry::flush();
    drop(LOG_WRITER.lock().unwrap_or_else(|e| e.into_inner()).take());
}

/// The service, the webhook inbox and the chat outbox over one opened store.
pub struct Opened {
    pub service: Service,
    /// The stores themselves, for what the binary does below operations:
    /// export, import, and the benchmarks' raw appends.
    pub graph: Arc<dyn switchboard_core::store::GraphStore>,
    pub log: Arc<dyn switchboard_core::store::EventLog>,
    pub inbox: Arc<dyn Inbox>,
    pub outbox: Arc<dyn Outbox>,
    pub queue: Arc<dyn switchboard_core::queue::RunQueue>,
    /// Where semantic search's vectors are kept: beside the graph.
    pub vectors: Arc<dyn switchboard_core::semantic::VectorStore>,
}

pub async fn open(config: &Config, data_dir: &Path) -> anyhow::Result<Opened> {
    let store = SqliteStore::open(data_dir, config.store.readers)
        .with_context(|| format!("cannot open the store in {}", data_dir.display()))?;
    let log: Arc<dyn switchboard_core::store::EventLog> = match config.store.log {
        switchboard_core::config::LogBackend::Sqlite => Arc::new(store.clone()),
        switchboard_core::config::LogBackend::Clickhouse => Arc::new(open_clickhouse(config).await?),
    };
    // The embedded log table lives in the embedded store, whatever the graph.
    let table: Arc<dyn switchboard_core::logs::LogTable> = Arc::new(store.clone());
    let sources = log_sources(config, &table)?;
    match config.store.graph {
        GraphBackend::Sqlite => {
            let service =
                Service::new(Arc::new(store.clone()), log.clone(), Arc::new(config.clone()), Arc::new(SystemClock))
                    .with_mailboxes(Arc::new(store.clone()), Arc::new(store.clone()))
                    .with_logs(Some(table), sources);
            let service = with_semantic(service, config, Arc::new(store.clone()))?;
            Ok(Opened {
                service,
                graph: Arc::new(store.clone()),
                log,
                inbox: Arc::new(store.clone()),
                outbox: Arc::new(store.clone()),
                vectors: Arc::new(store.clone()),
                queue: Arc::new(store),
            })
        }
        // Everything a process keeps moves with the graph (runs and their
        // queue, the chat outbox, and unless configured otherwise the webhook
        // inbox): processes on one graph share it, and any of them can take
        // any work.
        GraphBackend::Neo4j => {
            let graph = open_neo4j(config).await?;
            let inbox: Arc<dyn Inbox> = match config.store.inbox {
                InboxPlacement::Graph => Arc::new(graph.clone()),
                InboxPlacement::Embedded => Arc::new(store),
            };
            let service =
                Service::new(Arc::new(graph.clone()), log.clone(), Arc::new(config.clone()), Arc::new(SystemClock))
                    .with_mailboxes(inbox.clone(), Arc::new(graph.clone()))
                    .with_logs(Some(table), sources);
            let service = with_semantic(service, config, Arc::new(graph.clone()))?;
            let outbox = Arc::new(graph.clone());
            let vectors = Arc::new(graph.clone());
            Ok(Opened { service, graph: Arc::new(graph.clone()), log, inbox, outbox, vectors, queue: Arc::new(graph) })
        }
    }
}

/// The service with semantic search when `[embeddings]` names an endpoint;
/// its vectors kept beside the graph.
fn with_semantic(
    service: Service,
    config: &Config,
    vectors: Arc<dyn switchboard_core::semantic::VectorStore>,
) -> anyhow::Result<Service> {
    let embedder =
        switchboard_embeddings::OpenAiEmbedder::from_config(&config.embeddings).map_err(|e| anyhow::anyhow!(e))?;
    Ok(match embedder {
        Some(e) => service.with_semantic(Arc::new(e), vectors),
        None => service,
    })
}

/// The sources `[[log_sources]]` names, opened.
fn log_sources(
    config: &Config,
    table: &Arc<dyn switchboard_core::logs::LogTable>,
) -> anyhow::Result<std::collections::BTreeMap<String, Arc<dyn switchboard_core::logs::LogSource>>> {
    switchboard_logs::open(&config.log_sources, &config.logs, table).map_err(|e| anyhow::anyhow!(e))
}

/// The operations log on ClickHouse, as `[store.clickhouse]` says.
pub async fn open_clickhouse(config: &Config) -> anyhow::Result<switchboard_store_clickhouse::ClickHouseLog> {
    let c = &config.store.clickhouse;
    let options = switchboard_store_clickhouse::Options {
        url: c.url.clone(),
        database: c.database.clone(),
        user: c.user.clone(),
        password: c.password.clone(),
        flush_interval: std::time::Duration::from_millis(c.flush_interval_ms),
        buffer_seconds: c.buffer_seconds,
    };
    switchboard_store_clickhouse::ClickHouseLog::open(&options)
        .await
        .with_context(|| format!("cannot open the operations log on ClickHouse at {} (store.clickhouse)", c.url))
}

/// The project graph on Neo4j, as `[store.neo4j]` says.
pub async fn open_neo4j(config: &Config) -> anyhow::Result<switchboard_store_neo4j::Neo4jGraph> {
    let c = &config.store.neo4j;
    let options = switchboard_store_neo4j::Options {
        uri: c.uri.clone(),
        user: c.user.clone(),
        password: c.password.clone().unwrap_or_default(),
        database: c.database.clone(),
        max_connections: c.max_connections,
        query_timeout: std::time::Duration::from_secs(c.query_timeout_secs),
        fulltext: match c.fulltext {
            FulltextHook::Neo4j => switchboard_store_neo4j::Fulltext::Neo4j,
            FulltextHook::Arcadedb => {
                switchboard_store_neo4j::Fulltext::ArcadeDb { http_url: c.arcadedb_http_url.clone() }
            }
        },
    };
    switchboard_store_neo4j::Neo4jGraph::open(&options)
        .await
        .with_context(|| format!("cannot open the project graph on Neo4j at {} (store.neo4j)", c.uri))
}

/// A listening socket with a long queue of connections not yet accepted
/// (the kernel caps it at `net.core.somaxconn`): when a flood of new
/// connections fills a short one, the kernel drops the next ones' first
/// packet and a health check waits a second for its retry.
fn listen(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    const BACKLOG: u32 = 4096;
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// Serves until stopped. `simulated`: the demo's simulated GitHub, whose
/// webhooks come back to this listener (`serve` never passes one).
pub async fn serve(
    config: Config,
    opened: Opened,
    mode: Mode,
    simulated: Option<switchboard_automations::github::fake::FakeGitHub>,
) -> anyhow::Result<()> {
    let Opened { service, inbox, outbox, queue: opened_queue, .. } = opened;
    if config.metrics.enabled {
        // Installed before anything is counted.
        switchboard_portal::health::recorder();
    }
    let rules = Arc::new(RuleSet::load(&config).context("the webhook rules are not valid")?);
    let addr: SocketAddr = format!("{}:{}", config.server.bind, config.server.port)
        .parse()
        .with_context(|| format!("{}:{} is not an address to listen on", config.server.bind, config.server.port))?;
    let listener = listen(addr)
        .with_context(|| format!("cannot listen on {addr}; is another server using it? Pick another with --port"))?;
    let state = PortalState::new(service.clone(), mode).await.context("cannot load the chat's names")?;
    match &config.llm.base_url {
        Some(url) => tracing::info!(model = %config.llm.model, %url, "chat answers with a language model"),
        None => tracing::info!("no language model configured ([llm]); the intent router answers chat"),
    }
    let chat = switchboard_bot::chat::ChatState::new(service.clone(), state.conversation.clone())
        .map_err(|e| anyhow::anyhow!("chat platforms: {e}"))?;
    log_chat_platforms(&config);
    // Turns true when the server has stopped: the webhook processor and the
    // chat courier finish what they are doing, take nothing more, and give
    // back what they had taken.
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let courier = switchboard_bot::courier::Courier::new(&chat, outbox).until(stopping.clone());
    let (mut background, delivery) = if courier.active() {
        (vec![courier.clone().spawn_listener()], Some(courier.spawn_delivery()))
    } else {
        (Vec::new(), None)
    };
    // Closed with a goodbye at the stop, then waited for (briefly) below.
    let connections: Vec<_> = [
        switchboard_bot::slack::socket::spawn_until(chat.clone(), stopping.clone()),
        switchboard_bot::discord::gateway::spawn_until(chat.clone(), stopping.clone()),
    ]
    .into_iter()
    .flatten()
    .collect();
    let hosts = config.server.hosts();
    let hooks = Hooks::new(service.clone(), inbox);
    let notifier = switchboard_automations::notify::spawn(service.clone());
    let rescoring = spawn_rescoring(service.clone());
    background.push(spawn_expiry(service.clone()));
    background.push(spawn_retention(service.clone()));
    if service.semantic() {
        background.push(tokio::spawn(switchboard_core::service::vectors::keep_current(service.clone())));
    }
    background.extend(spawn_schedules(service.clone()));
    background.extend(crate::advisories::spawn_refresh(service.clone()));
    background.extend(crate::dependency_track::spawn_sync(service.clone()));
    let engine = spawn_engine(&service, opened_queue, stopping.clone())?;
    background.extend(spawn_refresher(&service)?);
    if let Some(fake) = simulated {
        let at = listener.local_addr()?;
        let host = if at.ip().is_unspecified() { std::net::IpAddr::from([127, 0, 0, 1]) } else { at.ip() };
        let hooks = format!("http://{}/hooks/github", SocketAddr::new(host, at.port()));
        let secret = config.webhooks.github_secret.clone().unwrap_or_default();
        tracing::info!("GitHub is simulated (demo): approved runs act on it, and it answers with webhooks");
        background.push(crate::simulated_github::spawn(fake, hooks, secret));
    }
    // Deliveries left from before a restart (or a crash) are processed first thing.
    let processor =
        config.webhooks.processing.then(|| Processor::new(hooks.clone(), mapper(&rules, &service)).spawn(stopping));
    tracing::info!(
        rules = rules.len(),
        "webhook receivers at /hooks/github, /hooks/pagerduty, /hooks/generic/{{source}}"
    );
    let app = switchboard_portal::router(state)
        .merge(switchboard_agents::mcp::router(service.clone(), hosts))
        .merge(switchboard_automations::router(hooks))
        .merge(switchboard_bot::slack::router(chat.clone()))
        .merge(switchboard_bot::discord::router(chat));
    let app = switchboard_portal::edge::wrap(app, &config.server);
    if config.server.public_without_base_url() {
        tracing::warn!(
            bind = %config.server.bind,
            "server.base_url is not set while listening beyond this machine: only loopback host names are answered; set server.base_url (or server.allowed_hosts) to the name people use"
        );
    }
    if let Some(task) = spawn_metrics_listener(&config, &service).await? {
        background.push(task);
    }
    let url = config.server.base_url();
    tracing::info!(%url, "Switchboard is listening");
    eprintln!("Switchboard is up: open {url}");
    remember_url(&config, &url);
    switchboard_portal::edge::serve(listener, app, &service, shutdown()).await.context("server failed")?;
    // Nothing more arrives: the delivery being processed is finished, no
    // other is taken (they wait in the inbox), then the rest stops.
    let _ = stop.send(true);
    let grace = std::time::Duration::from_secs(config.server.shutdown_grace_secs);
    if let Some(processor) = processor
        && tokio::time::timeout(grace, processor).await.is_err()
    {
        tracing::warn!(
            "a webhook delivery was still being processed after server.shutdown_grace_secs; it is processed again at the next start"
        );
    }
    if let Some(engine) = engine {
        engine.stop(grace).await;
    }
    for mut connection in connections {
        if tokio::time::timeout(std::time::Duration::from_secs(5), &mut connection).await.is_err() {
            connection.abort();
        }
    }
    if let Some(delivery) = delivery
        && tokio::time::timeout(grace, delivery).await.is_err()
    {
        tracing::warn!(
            "a chat message was still being sent after server.shutdown_grace_secs; it is sent when its claim lapses"
        );
    }
    for task in [notifier, rescoring].into_iter().flatten().chain(background) {
        task.abort();
    }
    tracing::info!("stopped");
    Ok(())
}

/// `[metrics] listen`: `/metrics` (and the probes) on an address of its own.
async fn spawn_metrics_listener(
    config: &Config,
    service: &Service,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    let Some(addr) = config.metrics.listen.as_ref().filter(|_| config.metrics.enabled) else { return Ok(None) };
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr} for metrics ([metrics] listen); is another server using it?")
    })?;
    tracing::info!(%addr, "Prometheus metrics at /metrics");
    let app = switchboard_portal::health::own_listener(service.clone());
    Ok(Some(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    })))
}

/// Where the portal is served, kept beside the store so the CLI's links
/// (`chat`, `op`) use the port actually served, not the default.
pub const PORTAL_URL_FILE: &str = "portal-url";

fn remember_url(config: &Config, url: &str) {
    let path = config.store.data_dir.join(PORTAL_URL_FILE);
    if let Err(e) = std::fs::write(&path, url) {
        tracing::warn!(path = %path.display(), error = %e, "cannot note where the portal is served; the CLI's links will use the configured port");
    }
}

fn log_chat_platforms(config: &Config) {
    if config.slack.socket_mode {
        tracing::info!("Slack over Socket Mode (a WebSocket to Slack; no public URL needed)");
    }
    match (&config.slack.signing_secret, &config.slack.bot_token) {
        (Some(_), Some(_)) => tracing::info!("Slack at /slack/events, /slack/commands, /slack/interactions"),
        (Some(_), None) => tracing::warn!(
            "Slack requests are verified but slack.bot_token is not set: only slash commands can be answered"
        ),
        _ if config.slack.socket_mode => {}
        _ => tracing::info!("Slack is off (no slack.signing_secret)"),
    }
    match (&config.discord.public_key, &config.discord.bot_token) {
        (Some(_), _) => {
            tracing::info!(gateway = config.discord.gateway, "Discord interactions at /discord/interactions")
        }
        _ => tracing::info!("Discord is off (no discord.public_key)"),
    }
}

/// The run engine, when a GitHub App is configured (the actions act through
/// it); without one, approved runs wait in the queue.
fn spawn_engine(
    service: &Service,
    queue: Arc<dyn switchboard_core::queue::RunQueue>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<Option<switchboard_automations::engine::Running>> {
    let worker = format!("switchboard-{}", std::process::id());
    let Some(engine) =
        switchboard_automations::github::engine(service, queue, &worker).map_err(|e| anyhow::anyhow!(e))?
    else {
        tracing::info!("no GitHub App configured ([github]): approved runs wait until one is");
        return Ok(None);
    };
    tracing::info!(%worker, "run engine working approved runs (deploy, scaffold_project, upgrade_dependency)");
    Ok(Some(engine.spawn_until(stop)))
}

/// The dependency refresh queue's worker, when a GitHub App is configured:
/// pushes that change a manifest or lock file are read through it.
fn spawn_refresher(service: &Service) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    let github = switchboard_automations::github::GitHubApp::from_config(&service.config().github)
        .map_err(|e| anyhow::anyhow!(e))?;
    Ok(github.map(|github| switchboard_automations::refresh::Refresher { service: service.clone(), github }.spawn()))
}

/// `switchboard worker`: only the run engine, beside `serve` on the same
/// store (or several of them: leases keep each run with one worker).
pub async fn work(opened: Opened) -> anyhow::Result<()> {
    let config = opened.service.config().clone();
    if config.metrics.enabled {
        switchboard_portal::health::recorder();
    }
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let Some(engine) = spawn_engine(&opened.service, opened.queue, stopping)? else {
        anyhow::bail!("a worker needs a GitHub App: set github.app_id and github.private_key");
    };
    let listener = spawn_metrics_listener(&config, &opened.service).await?;
    let expiry = spawn_expiry(opened.service.clone());
    let refresher = spawn_refresher(&opened.service)?;
    eprintln!("Switchboard worker is up: working approved runs until stopped");
    shutdown().await;
    // The run being worked finishes its step, or its lease is given back.
    let _ = stop.send(true);
    engine.stop(std::time::Duration::from_secs(config.server.shutdown_grace_secs)).await;
    if let Some(r) = refresher {
        r.abort();
    }
    expiry.abort();
    if let Some(l) = listener {
        l.abort();
    }
    tracing::info!("worker stopped");
    Ok(())
}

/// `[[schedules]]`: every 20 s, each schedule whose cron slot has come
/// requests its automation (once, however many slots a stop missed).
fn spawn_schedules(service: Service) -> Option<tokio::task::JoinHandle<()>> {
    if service.config().schedules.is_empty() {
        return None;
    }
    tracing::info!(schedules = service.config().schedules.len(), "schedules on (cron times are UTC)");
    let since = service.now();
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(20));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            for (name, fired) in service.fire_due_schedules(since).await {
                match fired {
                    Ok(run) => tracing::info!(schedule = %name, run = %run.id, "schedule requested its run"),
                    Err(e) => tracing::error!(schedule = %name, error = %e, "schedule could not request its run"),
                }
            }
        }
    }))
}

/// Pending runs past their expiry become expired within a minute, so their
/// requests in chat read as expired without anyone trying to decide them.
fn spawn_expiry(service: Service) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match service.expire_runs().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(runs = n, "pending runs expired"),
                Err(e) => tracing::warn!(error = %e, "cannot expire pending runs; trying again in a minute"),
            }
        }
    })
}

/// Conversation history older than `chat.retention_days`, embedded log lines
/// older than `logs.retention_days`, and processed webhook deliveries older
/// than `webhooks.retention_days` are deleted at start and then hourly.
fn spawn_retention(service: Service) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match service.prune_chat().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(messages = n, "old conversation history deleted (chat.retention_days)"),
                Err(e) => tracing::warn!(error = %e, "cannot delete old conversation history; trying again in an hour"),
            }
            match service.prune_logs().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(lines = n, "old log lines deleted (logs.retention_days)"),
                Err(e) => tracing::warn!(error = %e, "cannot delete old log lines; trying again in an hour"),
            }
            match service.prune_inbox().await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(deliveries = n, "old processed webhook deliveries deleted (webhooks.retention_days)")
                }
                Err(e) => tracing::warn!(error = %e, "cannot delete old webhook deliveries; trying again in an hour"),
            }
        }
    })
}

/// Recomputes every score now and then every `score.recompute_interval_mins`.
fn spawn_rescoring(service: Service) -> Option<tokio::task::JoinHandle<()>> {
    let mins = service.config().score.recompute_interval_mins;
    (mins > 0).then(|| {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(u64::from(mins) * 60));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let started = std::time::Instant::now();
                match service.rescore_all().await {
                    Ok((checked, changed)) => {
                        tracing::info!(checked, changed, ms = started.elapsed().as_millis() as u64, "scores recomputed")
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot recompute scores; trying again next interval"),
                }
            }
        })
    })
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// `url` with its path replaced by `path` (`http://host:port/livez` → `…/readyz`).
pub fn with_path(url: &str, path: &str) -> String {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let host = rest.split_once('/').map_or(rest, |(h, _)| h);
    format!("http://{host}{path}")
}

/// A plain HTTP/1.1 GET without a client library, for container health
/// checks: whether it answered 200, and the body it sent.
pub async fn healthcheck(url: &str) -> (bool, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Some(rest) = url.strip_prefix("http://") else {
        return (false, String::new());
    };
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let work = async {
        let mut s = tokio::net::TcpStream::connect(host).await.ok()?;
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes())
            .await
            .ok()?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.ok()?;
        let text = String::from_utf8_lossy(&buf);
        let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b).trim().to_owned();
        Some((buf.starts_with(b"HTTP/1.1 200"), body))
    };
    tokio::time::timeout(std::time::Duration::from_secs(5), work).await.ok().flatten().unwrap_or_default()
}
