//! The benchmark commands (`bench`, `bench-attack`, `bench-vectors`,
//! `bench-logs`, `bench-import`, `bench-campaign`, `bench-webhooks`): each prints JSON and
//! logs only warnings (`bench --metrics on` its access log too, as `serve`).

use std::process::ExitCode;

use crate::app;
use crate::cli::{Command, load};

fn quiet() {
    app::init_logging(&switchboard_core::config::LogConfig { level: "warn".into(), ..Default::default() }, true);
}

pub(crate) async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Bench { projects, samples, data_dir, config, edge, metrics, traces } => {
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
        Command::BenchAttack { seconds, concurrency } => {
            quiet();
            if seconds == 0 || concurrency == 0 {
                anyhow::bail!("--seconds and --concurrency must be at least 1");
            }
            crate::bench_attack::run(crate::bench_attack::Options { seconds, concurrency }).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchVectors { count, dims, samples, store } => {
            let config = load(store.config.as_ref())?;
            quiet();
            let data_dir = store.data_dir.clone();
            crate::bench_vectors::run(crate::bench_vectors::Options { count, dims, samples, config, data_dir }).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchLogs { lines, clickhouse, samples } => {
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
        Command::BenchImport { repos, packages, concurrency, latency_ms } => {
            quiet();
            crate::bench_import::run(repos, packages, concurrency, latency_ms).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchAdvisories { projects, advisories, samples } => {
            quiet();
            crate::bench_advisories::run(crate::bench_advisories::Options { projects, advisories, samples }).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchWebhooks { projects, repos, deliveries, seconds, rate, concurrency } => {
            quiet();
            let o = crate::bench_webhooks::Options { projects, repos, deliveries, seconds, rate, concurrency };
            crate::bench_webhooks::run(o).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchReceive { projects, repos, bodies, seconds, connections, threads, wrk, processing } => {
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
        Command::BenchCampaign { repos, concurrency, latency_ms } => {
            quiet();
            crate::bench_campaign::run(repos, concurrency, latency_ms).await?;
            Ok(ExitCode::SUCCESS)
        }
        _ => anyhow::bail!("not a benchmark command"),
    }
}

/// A collector for `bench --traces on`: takes each OTLP batch and drops it.
async fn span_sink() -> anyhow::Result<String> {
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(|body: axum::body::Bytes| async move {
            drop(body);
            axum::http::StatusCode::OK
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("warning: the span sink stopped: {e}");
        }
    });
    Ok(url)
}
