//! The benchmark commands (`bench`, `bench-attack`, `bench-vectors`,
//! `bench-appends`, `bench-logs`, `bench-import`, `bench-campaign`, `bench-webhooks`,
//! `bench-receive`): their arguments and how each runs; each prints JSON and
//! logs only warnings (`bench --metrics on` its access log too, as `serve`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use crate::app;
use crate::cli::{StoreArgs, load};

/// The benchmark subcommands (flattened into the top-level command list).
#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Generate an organisation and print latency percentiles as JSON.
    Bench {
        /// Number of projects to generate.
        #[arg(long, default_value_t = 10_000)]
        projects: usize,
        /// Samples per measured query.
        #[arg(long, default_value_t = 2000)]
        samples: usize,
        /// Store directory (default: a temporary directory, removed afterwards).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// A config file whose `[store]` is used (e.g. `log = "clickhouse"`).
        #[arg(long)]
        config: Option<PathBuf>,
        /// `on`: serve the webhook and Slack benchmarks behind the HTTP edge
        /// (request ids, Host check, limits at their defaults), as `serve`
        /// does; `off`: the bare routers, to compare.
        #[arg(long, default_value = "on", value_parser = ["on", "off"])]
        edge: String,
        /// `on`: Prometheus metrics recorded and the access log written (a
        /// line a request to stderr, as `serve` does); `off`: neither, to
        /// measure what they cost.
        #[arg(long, default_value = "on", value_parser = ["on", "off"])]
        metrics: String,
        /// `on`: every span exported over OTLP/HTTP (sampled at 100 %, or
        /// `OTEL_TRACES_SAMPLER_ARG`) to a receiver on a thread of its own in
        /// this process that reads and drops each batch; `off`: none, as
        /// `serve` without an endpoint.
        #[arg(long, default_value = "off", value_parser = ["on", "off"])]
        traces: String,
    },
    /// Run an upgrade campaign over N repositories against a fake GitHub on
    /// loopback and print its wall time and peak memory as JSON.
    BenchCampaign {
        /// Repositories in the campaign.
        #[arg(long, default_value_t = 1000)]
        repos: usize,
        /// Requests in flight to GitHub at once (github.concurrency).
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        /// The fake answers each request after this many milliseconds.
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
    },
    /// Webhook processing on the embedded store: a backlog of signed GitHub
    /// pushes processed from nothing, then floods over HTTP (at a steady
    /// rate, then as fast as accepted) while processing runs — backlog each
    /// second and time to drain; prints JSON.
    BenchWebhooks {
        /// Projects in the generated organisation.
        #[arg(long, default_value_t = 2000)]
        projects: usize,
        /// Repositories the pushes are to (one project each).
        #[arg(long, default_value_t = 1000)]
        repos: usize,
        /// Deliveries in the backlog processed from nothing.
        #[arg(long, default_value_t = 100_000)]
        deliveries: usize,
        /// Length of each flood.
        #[arg(long, default_value_t = 15)]
        seconds: u64,
        /// Deliveries a second of the steady flood.
        #[arg(long, default_value_t = 10_000)]
        rate: usize,
        /// webhooks.processing_concurrency (default: the config's default).
        #[arg(long)]
        concurrency: Option<usize>,
    },
    /// Receiving measured from outside: a `serve` process of this binary on
    /// a generated organisation and wrk (another process) sending signed
    /// GitHub pushes over kept-alive connections; prints wrk's rate and
    /// latency, the server's CPU per delivery and the inbox backlog as JSON.
    BenchReceive {
        /// Projects in the generated organisation.
        #[arg(long, default_value_t = 2000)]
        projects: usize,
        /// Repositories the pushes are to (one project each).
        #[arg(long, default_value_t = 1000)]
        repos: usize,
        /// Distinct signed bodies wrk cycles through (each request has its
        /// own delivery id).
        #[arg(long, default_value_t = 5000)]
        bodies: usize,
        /// Length of the flood.
        #[arg(long, default_value_t = 15)]
        seconds: u64,
        /// Connections wrk keeps open.
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// wrk's threads.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// The wrk program.
        #[arg(long, default_value = "wrk")]
        wrk: PathBuf,
        /// `off`: the server only receives (`webhooks.processing = false`),
        /// to measure receiving alone; the backlog is left unprocessed.
        #[arg(long, default_value = "on", value_parser = ["on", "off"])]
        processing: String,
    },
    /// Advisories matched against the generated organisation (embedded
    /// store): the full computation from nothing, and the incremental update
    /// after one advisory and after one project's dependencies change
    /// (p50/p99), with peak memory; prints JSON.
    BenchAdvisories {
        /// Projects in the generated organisation.
        #[arg(long, default_value_t = 100_000)]
        projects: usize,
        /// Synthetic OSV advisories.
        #[arg(long, default_value_t = 200_000)]
        advisories: usize,
        /// Incremental updates timed, of each kind.
        #[arg(long, default_value_t = 200)]
        samples: usize,
    },
    /// Semantic search's exact scan: N vectors of D dimensions stored in the
    /// store a config names (the embedded one by default), then `nearest`
    /// sampled; prints vectors stored a second and p50/p99 as JSON.
    BenchVectors {
        /// Vectors stored.
        #[arg(long, default_value_t = 100_000)]
        count: usize,
        /// Their dimensions (384 for small embedding models, 768 for nomic-embed-text, 1536 for OpenAI's small).
        #[arg(long, default_value_t = 768)]
        dims: usize,
        /// Searches timed.
        #[arg(long, default_value_t = 20)]
        samples: usize,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Appends to the operations log the config names (embedded, or
    /// ClickHouse): single events from many writers at once, as requests
    /// append them, then batches of 1,000; prints appends a second and each
    /// append's p50/p99 as JSON.
    BenchAppends {
        /// Tasks appending at once, one event per call.
        #[arg(long, default_value_t = 64)]
        writers: usize,
        /// Single events appended (and as many again in batches).
        #[arg(long, default_value_t = 100_000)]
        events: usize,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// `check_logs` over a day of one project's lines (10 million by
    /// default) on the embedded table, or on a ClickHouse `otel_logs`;
    /// p50/p99 for a one-hour and a 24-hour window, as JSON.
    BenchLogs {
        /// Lines of one project across a day.
        #[arg(long, default_value_t = 10_000_000)]
        lines: usize,
        /// A ClickHouse server's HTTP URL: the lines go into an `otel_logs`
        /// there instead of the embedded table.
        #[arg(long)]
        clickhouse: Option<String>,
        /// Samples per window.
        #[arg(long, default_value_t = 20)]
        samples: usize,
    },
    /// Import an organisation of N repositories (manifests and lock files)
    /// from a fake GitHub on loopback as `import github` does, then sample
    /// the refresh after a push; print wall time, calls per repository,
    /// edges, refresh latency and peak memory as JSON.
    BenchImport {
        /// Repositories in the organisation.
        #[arg(long, default_value_t = 1000)]
        repos: usize,
        /// Packages each lock file resolves.
        #[arg(long, default_value_t = 60)]
        packages: usize,
        /// Requests in flight to GitHub at once (github.concurrency).
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        /// The fake answers each request after this many milliseconds.
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
    },
    /// Run the attacks an outside test found against a `serve` process of
    /// this binary (signature floods, large bodies, password guessing, idle
    /// and slow connections, stalled bodies, guessed tokens), each for a few
    /// seconds, and print how long health, the API and a signed webhook took
    /// meanwhile, as JSON.
    BenchAttack {
        /// Seconds each attack lasts.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Attacking connections at once.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
    },
}

fn quiet() {
    app::init_logging(&switchboard_core::config::LogConfig { level: "warn".into(), ..Default::default() }, true);
}

pub(crate) async fn run(command: BenchCommand) -> anyhow::Result<ExitCode> {
    match command {
        BenchCommand::Bench { projects, samples, data_dir, config, edge, metrics, traces } => {
            let store = load(config.as_ref())?.store;
            let observed = metrics == "on";
            // With metrics on, the access log is on as in `serve` (only it: the
            // rest of the log stays at warn); redirect stderr to keep it.
            let level = if observed { "warn,switchboard_portal::edge=info" } else { "warn" };
            let log = switchboard_core::config::LogConfig { level: level.into(), ..Default::default() };
            let mut spans = switchboard_core::config::TracesConfig::default();
            if traces == "on" {
                spans.endpoint = Some(span_sink().await?);
            }
            app::init_telemetry(&log, &spans, false, traces == "on")?;
            if observed {
                switchboard_portal::health::recorder();
            }
            let edge = edge == "on";
            #[cfg(feature = "bench")]
            crate::bench::run(crate::bench::Options { projects, samples, data_dir, store, edge, observed }).await?;
            #[cfg(not(feature = "bench"))]
            {
                let _ = (projects, samples, data_dir, store, edge, observed);
                anyhow::bail!(
                    "this switchboard was built without its benchmarks (they run against the test kit's fakes); \
                 build it with `cargo build --release --features bench`"
                );
            }
            #[cfg(feature = "bench")]
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::BenchAttack { seconds, concurrency } => {
            quiet();
            if seconds == 0 || concurrency == 0 {
                anyhow::bail!("--seconds and --concurrency must be at least 1");
            }
            crate::bench_attack::run(crate::bench_attack::Options { seconds, concurrency }).await?;
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::BenchVectors { count, dims, samples, store } => {
            let config = load(store.config.as_ref())?;
            quiet();
            let data_dir = store.data_dir.clone();
            crate::bench_vectors::run(crate::bench_vectors::Options { count, dims, samples, config, data_dir }).await?;
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::BenchAppends { writers, events, store } => {
            let config = load(store.config.as_ref())?;
            quiet();
            let data_dir = store.data_dir.clone();
            crate::bench_appends::run(crate::bench_appends::Options { writers, events, config, data_dir }).await?;
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::BenchLogs { lines, clickhouse, samples } => {
            quiet();
            #[cfg(feature = "bench")]
            crate::bench_logs::standalone(lines, clickhouse, samples).await?;
            #[cfg(not(feature = "bench"))]
            {
                let _ = (lines, clickhouse, samples);
                anyhow::bail!(
                    "this switchboard was built without its benchmarks; build it with `cargo build --release --features bench`"
                );
            }
            #[cfg(feature = "bench")]
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::BenchImport { repos, packages, concurrency, latency_ms } => {
            quiet();
            crate::bench_import::run(repos, packages, concurrency, latency_ms).await?;
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::BenchAdvisories { projects, advisories, samples } => {
            quiet();
            crate::bench_advisories::run(crate::bench_advisories::Options { projects, advisories, samples }).await?;
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::BenchWebhooks { projects, repos, deliveries, seconds, rate, concurrency } => {
            quiet();
            let o = crate::bench_webhooks::Options { projects, repos, deliveries, seconds, rate, concurrency };
            crate::bench_webhooks::run(o).await?;
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::BenchReceive { projects, repos, bodies, seconds, connections, threads, wrk, processing } => {
            quiet();
            let processing = processing == "on";
            let o = crate::bench_receive::Options {
                projects,
                repos,
                bodies,
                seconds,
                connections,
                threads,
                wrk,
                processing,
            };
            crate::bench_receive::run(o).await?;
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::BenchCampaign { repos, concurrency, latency_ms } => {
            quiet();
            crate::bench_campaign::run(repos, concurrency, latency_ms).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A collector for `bench --traces on`: takes each OTLP batch and drops it.
/// It runs on a thread and runtime of its own, as a collector beside the
/// service would be a process of its own: its work shares the machine's
/// cores but never waits in line with the requests measured.
async fn span_sink() -> anyhow::Result<String> {
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(|body: axum::body::Bytes| async move {
            drop(body);
            axum::http::StatusCode::OK
        }),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let url = format!("http://{}", listener.local_addr()?);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    std::thread::Builder::new().name("span-sink".into()).spawn(move || {
        runtime.block_on(async move {
            let served = match tokio::net::TcpListener::from_std(listener) {
                Ok(listener) => axum::serve(listener, app).await,
                Err(e) => Err(e),
            };
            if let Err(e) = served {
                eprintln!("warning: the span sink stopped: {e}");
            }
        })
    })?;
    Ok(url)
}
