//! Command-line interface.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use switchboard_core::config::Config;
use switchboard_core::model::Role;
use switchboard_core::{Caller, Service};

use crate::accounts::{TokenCommand, UserCommand, token, user};
use crate::app;

/// Default data directory of `demo` (and of `op` when none is given).
pub const DEMO_DATA_DIR: &str = ".switchboard-demo";

#[derive(Parser, Debug)]
#[command(name = "switchboard", version, about = "Self-hosted chat-ops bot with an integrated web portal")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum ImportCommand {
    /// Read an `export` file (JSON Lines) into the store the config names.
    /// Upserts by id: safe to run again.
    Jsonl {
        #[command(flatten)]
        jsonl: JsonlArgs,
    },
    /// Every repository the GitHub App can read: a project for each (the
    /// installation webhooks' path) and its dependencies from its manifest
    /// and lock files. Progress on standard error, the report as JSON.
    Github {
        /// Only this installation (default: every one).
        #[arg(long)]
        installation: Option<u64>,
        /// Print the plan (which projects would be made) and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Act as this user, with their role (default: the local admin).
        #[arg(long = "as")]
        user: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Read Backstage catalog files (paths or URLs; every Location they name
    /// is followed): Groups become teams, Users viewers matched by email,
    /// Components projects. Prints what was created, updated, unchanged and
    /// skipped as JSON; `--dry-run` only says what would change.
    Backstage {
        /// Catalog files or URLs, e.g. `catalog/all.yaml`.
        #[arg(required = true)]
        sources: Vec<String>,
        #[arg(long)]
        dry_run: bool,
        /// Act as this user, with their role (default: the local admin).
        #[arg(long = "as")]
        user: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Read a checkout's manifests and lock files (every directory; not
    /// node_modules/, vendor/, testdata/…) into a project's dependencies:
    /// versions from lock files, direct or transitive, dev or runtime.
    /// Prints what changed as JSON.
    Repo {
        /// The project the checkout is.
        #[arg(long)]
        project: String,
        /// The checkout's root directory.
        #[arg(required_unless_present = "github", conflicts_with = "github")]
        dir: Option<PathBuf>,
        /// Read the files from this repository (`owner/name`) through the
        /// configured GitHub App instead of a checkout: one tree read, then
        /// only the manifest and lock files.
        #[arg(long)]
        github: Option<String>,
        /// Act as this user, with their role (default: the local admin).
        #[arg(long = "as")]
        user: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Read an SBOM (CycloneDX or SPDX JSON) into a project's dependencies:
    /// its components replace what the project's earlier SBOMs gave; edges
    /// from other sources stay. Prints what changed as JSON.
    Sbom {
        /// The project the SBOM describes.
        #[arg(long)]
        project: String,
        /// The SBOM file (`-`: standard input).
        file: PathBuf,
        /// Where it came from, kept on each dependency as `sbom:NAME`
        /// (default: the file's name).
        #[arg(long)]
        name: Option<String>,
        /// Act as this user, with their role (default: the local admin).
        #[arg(long = "as")]
        user: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(clap::Args, Debug)]
struct JsonlArgs {
    #[arg(long, env = "SWITCHBOARD_CONFIG")]
    config: Option<PathBuf>,
    /// The file to read (`-`: standard input).
    #[arg(long = "in")]
    input: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server from a config file.
    Serve {
        /// Path to switchboard.toml.
        #[arg(long, env = "SWITCHBOARD_CONFIG")]
        config: PathBuf,
    },
    /// Work approved runs only (no HTTP server), beside `serve` on the same
    /// store; run several for more throughput (leases keep each run with one).
    Worker {
        /// Path to switchboard.toml.
        #[arg(long, env = "SWITCHBOARD_CONFIG")]
        config: PathBuf,
    },
    /// Move an embedded store to the scale-out backends: the project graph to
    /// Neo4j (`[store.neo4j]`), the operations log to ClickHouse
    /// (`[store.clickhouse]`), or both; with a progress bar, checking the
    /// counts at the end. Safe to run again; then set `[store] graph =
    /// "neo4j"` and/or `log = "clickhouse"`.
    Migrate {
        /// The embedded store to read: `sqlite:PATH` (its data directory).
        /// Default: the config's store.data_dir.
        #[arg(long)]
        from: Option<String>,
        /// Where it goes: `neo4j`, `clickhouse` or `neo4j+clickhouse`.
        #[arg(long)]
        to: String,
        /// The config file with `[store.neo4j]` / `[store.clickhouse]`.
        #[arg(long, env = "SWITCHBOARD_CONFIG")]
        config: PathBuf,
    },
    /// Write the whole store the config names (graph and log, whatever their
    /// backends) as JSON Lines, for `import` or a backup.
    Export {
        #[arg(long, env = "SWITCHBOARD_CONFIG")]
        config: PathBuf,
        /// The file to write (`-`: standard output).
        #[arg(long)]
        out: PathBuf,
    },
    /// Read what an organisation already has into the graph: `import jsonl`
    /// (an `export` file), `import sbom` (a project's SBOM). `import --config
    /// FILE --in FILE` is `import jsonl`, as before.
    #[command(args_conflicts_with_subcommands = true)]
    Import {
        #[command(subcommand)]
        what: Option<ImportCommand>,
        #[command(flatten)]
        jsonl: JsonlArgs,
    },
    /// Run the server on an embedded store filled with a demo organisation.
    Demo {
        /// Port to listen on (127.0.0.1 unless --bind says otherwise).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        /// Where the demo store lives; reused when it already holds data.
        #[arg(long, default_value = DEMO_DATA_DIR)]
        data_dir: PathBuf,
        /// Number of projects to generate (the first 60 are hand-named).
        #[arg(long, default_value_t = 60)]
        projects: usize,
        /// Optional config file (project types, score weights…).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Generate the data and exit without serving (for `op`, `chat`, `route`).
        #[arg(long)]
        seed_only: bool,
    },
    /// Check a config file and exit: errors name the line and column.
    CheckConfig { file: PathBuf },
    /// Run any operation from the shell as the local admin and print its JSON output.
    Op {
        /// Operation name, e.g. dependents. `switchboard op help` lists them.
        name: String,
        /// The operation's arguments as a JSON object.
        #[arg(long, default_value = "{}")]
        json: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Chat with Switchboard in the terminal (works with no LLM).
    Chat {
        /// Act as this user, with their role (default: the local admin).
        #[arg(long = "as")]
        user: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Serve the MCP tools over stdin/stdout (for agents that start Switchboard as a subprocess).
    Mcp {
        /// Speak MCP on standard input and output.
        #[arg(long)]
        stdio: bool,
        /// Act as this user, with their role (default: the local admin).
        #[arg(long = "as")]
        user: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Manage portal accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Create, list and revoke API tokens (`Authorization: Bearer` on /api).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Webhook rules.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Discord application setup.
    Discord {
        #[command(subcommand)]
        command: DiscordCommand,
    },
    /// Show which operation a chat message maps to, without running it.
    Route {
        /// The message, e.g. "deploy orders to staging".
        text: String,
        /// Print `{"operation": …, "arguments": …}` (or `{"operation": null, "reply": …}`).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
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
    /// Exit 0 when the server at URL answers its health check (for container health checks).
    Healthcheck {
        #[arg(long, default_value = "http://127.0.0.1:8080/healthz")]
        url: String,
    },
}

/// Where the store is, for commands that work on one (beside a running server too).
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct StoreArgs {
    /// Data directory of the store. Default: the config's store.data_dir
    /// with --config, else the demo's (.switchboard-demo).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Optional config file (project types, environments, templates, and the
    /// store it names).
    #[arg(long, env = "SWITCHBOARD_CONFIG")]
    config: Option<PathBuf>,
}

impl StoreArgs {
    /// Loads the config and opens the store, logging warnings only.
    pub(crate) async fn open(&self) -> anyhow::Result<Service> {
        let config = load(self.config.as_ref())?;
        app::init_logging(&config.log, true);
        Ok(app::open(&config, &self.dir(&config)).await?.service)
    }

    /// `--data-dir`, else the store the config names, else the demo's.
    fn dir(&self, config: &Config) -> PathBuf {
        match (&self.data_dir, &self.config) {
            (Some(d), _) => d.clone(),
            (None, Some(_)) => config.store.data_dir.clone(),
            (None, None) => PathBuf::from(DEMO_DATA_DIR),
        }
    }
}

/// The local admin, or with `--as USER` that stored user with their role.
pub(crate) async fn acting_as(service: &Service, user: Option<String>, source: &str) -> anyhow::Result<Caller> {
    let Some(name) = user else { return Ok(Caller::new("cli", Role::Admin, source)) };
    let id = name.parse().map_err(|e| anyhow::anyhow!("--as: {e}"))?;
    let u = service
        .graph()
        .get_user(&id)
        .await?
        .with_context(|| format!("--as: there is no user {name}; the demo has alice, bob, carol, dave…"))?;
    Ok(Caller { user: u.name, role: u.role, source: source.to_owned() })
}

#[derive(Subcommand, Debug)]
enum DiscordCommand {
    /// Register (replace) the application's global `/sb` slash command.
    /// Needs discord.bot_token and discord.application_id (or their
    /// SWITCHBOARD_DISCORD_* variables).
    RegisterCommands {
        /// Optional config file with a [discord] section.
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum RulesCommand {
    /// Dry-run the rules on a payload: print the operations they would run
    /// (one JSON object a line), running nothing.
    Test {
        /// The delivery's body (JSON), e.g. a saved GitHub payload.
        #[arg(long)]
        payload: PathBuf,
        /// The event name: `push`, `deployment_status`, `incident.triggered`…
        #[arg(long)]
        event: String,
        /// The sender: `github` (default), `pagerduty` or a generic source.
        #[arg(long, default_value = "github")]
        source: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

fn env() -> Vec<(String, String)> {
    std::env::vars().collect()
}

pub(crate) fn load(config: Option<&PathBuf>) -> anyhow::Result<Config> {
    Ok(match config {
        Some(path) => Config::load(path, &env())?,
        None => Config::parse("", "defaults", &env())?,
    })
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { config } => {
            let config = Config::load(&config, &env())?;
            app::init_logging(&config.log, false);
            let opened = app::open(&config, &config.store.data_dir).await?;
            app::serve(config, opened, switchboard_portal::Mode::Serve).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { from, to, config } => {
            let targets = crate::migrate::Targets::parse(&to)?;
            let config = Config::load(&config, &env())?;
            app::init_logging(&config.log, true);
            let dir = match from {
                Some(f) => crate::migrate::parse_from(&f)?,
                None => config.store.data_dir.clone(),
            };
            crate::migrate::run(&config, &dir, targets).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { config, out } => {
            let config = Config::load(&config, &env())?;
            app::init_logging(&config.log, true);
            let opened = app::open(&config, &config.store.data_dir).await?;
            let (graph, log) = (opened.graph.as_ref(), opened.log.as_ref());
            let totals = if out.as_os_str() == "-" {
                let mut w = std::io::BufWriter::new(std::io::stdout());
                crate::transfer::export(graph, log, &mut w).await?
            } else {
                let file = std::fs::File::create(&out).with_context(|| format!("cannot create {}", out.display()))?;
                let mut w = std::io::BufWriter::new(file);
                crate::transfer::export(graph, log, &mut w).await?
            };
            eprintln!("exported {} projects and {} events", totals.all_projects, totals.events);
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { what: Some(ImportCommand::Repo { project, dir, github, user, store }), .. } => {
            import_repo(project, dir, github, user, store).await
        }
        Command::Import { what: Some(ImportCommand::Github { installation, dry_run, user, store }), .. } => {
            import_github(installation, dry_run, user, store).await
        }
        Command::Import { what: Some(ImportCommand::Backstage { sources, dry_run, user, store }), .. } => {
            import_backstage(sources, dry_run, user, store).await
        }
        Command::Import { what: Some(ImportCommand::Sbom { project, file, name, user, store }), .. } => {
            import_sbom(project, file, name, user, store).await
        }
        Command::Import { what: Some(ImportCommand::Jsonl { jsonl }), .. } | Command::Import { what: None, jsonl } => {
            let (Some(config), Some(input)) = (jsonl.config, jsonl.input) else {
                anyhow::bail!(
                    "say what to import: `switchboard import jsonl --config FILE --in FILE` (an export), \
                     `switchboard import sbom --project P FILE`, `switchboard import repo --project P DIR`, \
                     `switchboard import github` or `switchboard import backstage FILE...`"
                );
            };
            let config = Config::load(&config, &env())?;
            app::init_logging(&config.log, true);
            let opened = app::open(&config, &config.store.data_dir).await?;
            let (graph, log) = (opened.graph.as_ref(), opened.log.as_ref());
            let (projects, events) = if input.as_os_str() == "-" {
                let mut r = std::io::BufReader::new(std::io::stdin());
                crate::transfer::import(graph, log, &mut r).await?
            } else {
                let file = std::fs::File::open(&input).with_context(|| format!("cannot read {}", input.display()))?;
                crate::transfer::import(graph, log, &mut std::io::BufReader::new(file)).await?
            };
            eprintln!("imported {projects} projects and {events} events");
            println!("{}", serde_json::json!({"projects": projects, "events": events}));
            Ok(ExitCode::SUCCESS)
        }
        Command::Worker { config } => {
            let config = Config::load(&config, &env())?;
            app::init_logging(&config.log, false);
            let opened = app::open(&config, &config.store.data_dir).await?;
            app::work(opened).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { port, bind, data_dir, projects, config, seed_only } => {
            let mut config = load(config.as_ref())?;
            config.server.port = port;
            config.server.bind = bind;
            config.store.data_dir = data_dir.clone();
            app::init_logging(&config.log, false);
            if projects == 0 {
                anyhow::bail!("--projects must be at least 1");
            }
            let opened = app::open(&config, &data_dir).await?;
            crate::seed::seed_if_empty(&opened.service, projects).await?;
            if seed_only {
                return Ok(ExitCode::SUCCESS);
            }
            app::serve(config, opened, switchboard_portal::Mode::Demo).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckConfig { file } => match Config::load(&file, &env()) {
            Ok(c) => match switchboard_automations::RuleSet::load(&c) {
                Ok(rules) => {
                    println!(
                        "{}: ok ({} project types, {} environments, {} templates, {} webhook rules)",
                        file.display(),
                        c.project_types.len(),
                        c.environments.len(),
                        c.templates.len(),
                        rules.len()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("error: {}: {e}", file.display());
                    Ok(ExitCode::FAILURE)
                }
            },
            Err(e) => {
                eprintln!("error: {e}");
                Ok(ExitCode::FAILURE)
            }
        },
        Command::Op { name, json, store } => {
            if name == "help" {
                print!("{}", switchboard_core::ops::help_text());
                return Ok(ExitCode::SUCCESS);
            }
            let args: serde_json::Value = serde_json::from_str(&json)
                .context("--json is not valid JSON; pass an object such as '{\"project\": \"orders\"}'")?;
            let service = store.open().await?;
            let caller = Caller::new("cli", Role::Admin, "cli");
            match service.execute_json(&caller, &name, args).await {
                Ok(output) => {
                    println!("{}", serde_json::to_string_pretty(&output.to_json())?);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(2))
                }
            }
        }
        Command::Chat { user, store } => {
            let service = store.open().await?;
            let caller = acting_as(&service, user, "terminal").await?;
            crate::chat::run(service, caller).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Token { command } => token(command).await,
        Command::User { command } => user(command).await,
        Command::Mcp { stdio, user, store } => {
            if !stdio {
                anyhow::bail!("pass --stdio (over HTTP, `serve` and `demo` answer MCP at /mcp with a Bearer token)");
            }
            let service = store.open().await?;
            let caller = acting_as(&service, user, "mcp").await?;
            switchboard_agents::mcp::serve_stdio(service, caller)
                .await
                .map_err(|e| anyhow::anyhow!("MCP over stdio failed: {e}"))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules { command: RulesCommand::Test { payload, event, source, store } } => {
            let service = store.open().await?;
            let rules = switchboard_automations::RuleSet::load(service.config())?;
            let text = std::fs::read(&payload).with_context(|| format!("cannot read {}", payload.display()))?;
            let body: serde_json::Value =
                serde_json::from_slice(&text).with_context(|| format!("{} is not JSON", payload.display()))?;
            let planned = rules.plan(&service, &source, &event, &body).await?;
            if planned.is_empty() {
                eprintln!("no rule maps {source} {event}; a delivery like this is stored and marked unmapped");
            }
            for p in planned {
                let line = match p {
                    switchboard_automations::rules::Planned::Run { rule, operation, arguments } => {
                        serde_json::json!({"rule": rule, "operation": operation.name(), "arguments": arguments})
                    }
                    switchboard_automations::rules::Planned::NoProject { rule, by, id } => {
                        serde_json::json!({"rule": rule, "operation": null, "skipped": format!("no project with {by} {id}")})
                    }
                };
                println!("{line}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Route { text, json, store } => {
            let service = store.open().await?;
            let catalog = switchboard_agents::Catalog::load(service.graph(), service.config()).await?;
            if catalog.projects.is_empty() {
                eprintln!(
                    "warning: the store in {} has no projects, so names cannot be resolved; run `switchboard demo` or pass --data-dir",
                    store.dir(service.config()).display()
                );
            }
            let routed = switchboard_agents::route(&text, &catalog);
            if json {
                println!("{}", routed.to_json());
            } else {
                match routed {
                    switchboard_agents::Routed::Call { operation, arguments } => {
                        println!("{} {arguments}", operation.name())
                    }
                    switchboard_agents::Routed::Reply { text } => println!("{text}"),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { projects, samples, data_dir, config, edge } => {
            let store = load(config.as_ref())?.store;
            app::init_logging(
                &switchboard_core::config::LogConfig { level: "warn".into(), ..Default::default() },
                true,
            );
            let edge = edge == "on";
            #[cfg(feature = "bench")]
            crate::bench::run(crate::bench::Options { projects, samples, data_dir, store, edge }).await?;
            #[cfg(not(feature = "bench"))]
            {
                let _ = (projects, samples, data_dir, store, edge);
                anyhow::bail!(
                    "this switchboard was built without its benchmarks (they run against the test kit's fakes); \
                     build it with `cargo build --release --features bench`"
                );
            }
            #[cfg(feature = "bench")]
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchAttack { seconds, concurrency } => {
            app::init_logging(
                &switchboard_core::config::LogConfig { level: "warn".into(), ..Default::default() },
                true,
            );
            if seconds == 0 || concurrency == 0 {
                anyhow::bail!("--seconds and --concurrency must be at least 1");
            }
            crate::bench_attack::run(crate::bench_attack::Options { seconds, concurrency }).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchCampaign { repos, concurrency, latency_ms } => {
            app::init_logging(
                &switchboard_core::config::LogConfig { level: "warn".into(), ..Default::default() },
                true,
            );
            crate::bench_campaign::run(repos, concurrency, latency_ms).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Discord { command: DiscordCommand::RegisterCommands { config } } => {
            let config = load(config.as_ref())?;
            app::init_logging(&config.log, true);
            switchboard_agents::install_tls_provider();
            let api = switchboard_bot::discord::api::DiscordApi::from_config(&config.discord).context(
                "set discord.bot_token and discord.application_id (or SWITCHBOARD_DISCORD_BOT_TOKEN and SWITCHBOARD_DISCORD_APPLICATION_ID) first",
            )?;
            let commands = switchboard_bot::discord::commands::definitions();
            let n = api.register(&commands).await.map_err(|e| anyhow::anyhow!("Discord refused the commands: {e}"))?;
            println!("registered {n} command(s): /sb ask | project | deploy | link | help");
            Ok(ExitCode::SUCCESS)
        }
        Command::Healthcheck { url } => {
            Ok(if app::healthcheck(&url).await { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}

/// `import sbom`: the file through `import_sbom`, with the limit the API has.
async fn import_sbom(
    project: String,
    file: PathBuf,
    name: Option<String>,
    user: Option<String>,
    store: StoreArgs,
) -> anyhow::Result<ExitCode> {
    use std::io::Read;
    let service = store.open().await?;
    let limit = service.config().import.sbom_max_bytes;
    let mut bytes = Vec::new();
    let read = if file.as_os_str() == "-" {
        std::io::stdin().take(limit as u64 + 1).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(&file).and_then(|f| f.take(limit as u64 + 1).read_to_end(&mut bytes))
    };
    read.with_context(|| format!("cannot read {}", file.display()))?;
    if bytes.len() > limit {
        anyhow::bail!(
            "{} is larger than import.sbom_max_bytes ({limit} bytes); raise that setting to read it",
            file.display()
        );
    }
    let sbom: serde_json::Value = serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{} is not JSON (CycloneDX or SPDX JSON SBOMs are read; convert XML or tag-value first)",
            file.display()
        )
    })?;
    let name =
        name.or_else(|| file.file_name().filter(|_| file.as_os_str() != "-").map(|n| n.to_string_lossy().into_owned()));
    let caller = acting_as(&service, user, "cli").await?;
    let args = serde_json::json!({"project": project, "sbom": sbom, "name": name});
    report_import(&service, &caller, "import_sbom", args, |v| {
        let format = v["format"].as_str().unwrap_or("SBOM");
        format!("{format}: {} component(s), {} imported, {}", v["components"], v["imported"], changed(v))
    })
    .await
}

/// "3 added, 1 changed, 0 removed, 2 skipped" of an import's report.
fn changed(v: &serde_json::Value) -> String {
    let n = |k: &serde_json::Value| k.as_array().map_or(0, Vec::len);
    let c = &v["changes"];
    format!(
        "{} added, {} changed, {} removed, {} skipped",
        n(&c["added"]),
        n(&c["changed"]),
        n(&c["removed"]),
        n(&v["skipped"])
    )
}

/// Runs an import operation: `finish` completes the report and says it in a
/// line on standard error; the report goes to standard output as JSON. A
/// refused call says why and exits 2, nothing changed.
async fn report_import(
    service: &Service,
    caller: &Caller,
    operation: &str,
    args: serde_json::Value,
    finish: impl FnOnce(&mut serde_json::Value) -> String,
) -> anyhow::Result<ExitCode> {
    match service.execute_json(caller, operation, args).await {
        Ok(output) => {
            let mut v = output.to_json();
            eprintln!("{}", finish(&mut v));
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(2))
        }
    }
}

/// `import backstage`: the files read (Locations followed), then `import_catalog`.
async fn import_backstage(
    sources: Vec<String>,
    dry_run: bool,
    user: Option<String>,
    store: StoreArgs,
) -> anyhow::Result<ExitCode> {
    let service = store.open().await?;
    let caller = acting_as(&service, user, "cli").await?;
    let loaded = crate::catalog_files::load(&sources).await;
    for problem in &loaded.problems {
        eprintln!("skipped: {problem}");
    }
    eprintln!("read {} file(s), {} entities", loaded.files, loaded.entities.len());
    if loaded.files == 0 {
        anyhow::bail!("no catalog file could be read; check the paths or URLs");
    }
    let args = serde_json::json!({"entities": loaded.entities, "dry_run": dry_run});
    report_import(&service, &caller, "import_catalog", args, |v| {
        let count = |k: &str| v[k].as_array().map_or(0, Vec::len);
        let line = format!(
            "{}{} created, {} updated, {} unchanged, {} skipped",
            if dry_run { "dry run, nothing changed: " } else { "" },
            count("created"),
            count("updated"),
            count("unchanged"),
            count("skipped") + loaded.problems.len(),
        );
        v["files"] = serde_json::json!(loaded.files);
        v["unread"] = serde_json::json!(loaded.problems);
        line
    })
    .await
}

/// `import repo`: the checkout's manifest and lock files, then `import_manifests`.
async fn import_repo(
    project: String,
    dir: Option<PathBuf>,
    github: Option<String>,
    user: Option<String>,
    store: StoreArgs,
) -> anyhow::Result<ExitCode> {
    use switchboard_core::import::lockfiles::{DEFAULT_IGNORE, Format, ignored};
    let service = store.open().await?;
    let caller = acting_as(&service, user, "cli").await?;
    let Some(dir) = dir else {
        let repo = github.unwrap_or_default();
        let Some(gh) = switchboard_automations::github::GitHubApp::from_config(&service.config().github)
            .map_err(|e| anyhow::anyhow!(e))?
        else {
            anyhow::bail!(
                "--github reads through a GitHub App: set [github] app_id and private_key (see docs/automations.md)"
            );
        };
        let read = switchboard_automations::github::files::read(&gh, &repo)
            .await
            .map_err(|e| anyhow::anyhow!("{repo}: {}", e.message))?;
        if read.truncated {
            eprintln!("warning: GitHub listed only part of {repo}'s files; some manifests may be missing");
        }
        for (path, why) in &read.skipped {
            eprintln!("skipped: {path}: {why}");
        }
        let (n, branch, calls) = (read.files.len(), &read.default_branch, read.calls);
        eprintln!("read {n} manifest and lock file(s) of {repo}@{branch} in {calls} API calls");
        let files: Vec<serde_json::Value> =
            read.files.iter().map(|(path, text)| serde_json::json!({"path": path, "text": text})).collect();
        let args = serde_json::json!({"project": project, "files": files});
        return report_import(&service, &caller, "import_manifests", args, manifests_line).await;
    };
    if !dir.is_dir() {
        anyhow::bail!("{} is not a directory; give the checkout's root", dir.display());
    }
    let mut files = Vec::new();
    let mut dirs = vec![dir.clone()];
    while let Some(d) = dirs.pop() {
        let entries = std::fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let relative = path.strip_prefix(&dir).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            let kind = entry.file_type()?;
            if kind.is_dir() {
                if !ignored(&format!("{relative}/"), DEFAULT_IGNORE) {
                    dirs.push(path);
                }
            } else if kind.is_file() && Format::of(&relative).is_some() {
                match std::fs::read_to_string(&path) {
                    Ok(text) => files.push(serde_json::json!({"path": relative, "text": text})),
                    Err(e) => eprintln!("skipped: {relative}: {e}"),
                }
            }
        }
    }
    eprintln!("read {} manifest and lock file(s)", files.len());
    let args = serde_json::json!({"project": project, "files": files});
    report_import(&service, &caller, "import_manifests", args, manifests_line).await
}

/// `import_manifests`' report in a line.
fn manifests_line(v: &mut serde_json::Value) -> String {
    format!("{} direct and {} transitive; {}", v["direct"], v["transitive"], changed(v))
}

/// `import github`: every repository of the App's installations to a project
/// with its dependencies.
async fn import_github(
    installation: Option<u64>,
    dry_run: bool,
    user: Option<String>,
    store: StoreArgs,
) -> anyhow::Result<ExitCode> {
    use switchboard_automations::github::{GitHubApp, files};
    use switchboard_automations::installations::{Project, ensure_project};
    let service = store.open().await?;
    let caller = acting_as(&service, user, "cli").await?;
    let Some(gh) = GitHubApp::from_config(&service.config().github).map_err(|e| anyhow::anyhow!(e))? else {
        anyhow::bail!(
            "import github reads through a GitHub App: set [github] app_id and private_key (see docs/automations.md)"
        );
    };
    let failed = |e: switchboard_automations::engine::StepError| anyhow::anyhow!("GitHub: {}", e.message);
    let installations: Vec<(u64, String)> = gh
        .installations()
        .await
        .map_err(failed)?
        .into_iter()
        .filter(|(id, _)| installation.is_none_or(|i| i == *id))
        .collect();
    if installations.is_empty() {
        anyhow::bail!("the App has no installation{}", installation.map(|i| format!(" {i}")).unwrap_or_default());
    }
    let mut repos = Vec::new();
    for (id, account) in &installations {
        let listed = gh.installation_repositories(*id).await.map_err(failed)?;
        eprintln!("installation {id} ({account}): {} repositories", listed.len());
        repos.extend(listed);
    }
    let (mut created, mut existing, mut dependencies, mut skipped) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (i, repo) in repos.iter().enumerate() {
        let full = repo["full_name"].as_str().unwrap_or_default().to_owned();
        let project = match ensure_project(&service, repo, dry_run).await {
            Ok(Some(Project::Created(p))) => {
                created.push(p.clone());
                p
            }
            Ok(Some(Project::Existing(p))) => {
                existing.push(p.clone());
                p
            }
            Ok(None) => {
                skipped.push(serde_json::json!({"repository": full, "reason": "no usable name"}));
                continue;
            }
            Err(e) => {
                skipped.push(serde_json::json!({"repository": full, "reason": e.to_string()}));
                continue;
            }
        };
        let mut line = format!("[{}/{}] {full} → {project}", i + 1, repos.len());
        if !dry_run {
            match files::read(&gh, &full).await {
                Ok(read) => {
                    let files: Vec<serde_json::Value> =
                        read.files.iter().map(|(path, text)| serde_json::json!({"path": path, "text": text})).collect();
                    let args = serde_json::json!({"project": project, "files": files});
                    match service.execute_json(&caller, "import_manifests", args).await {
                        Ok(out) => {
                            let mut v = out.to_json();
                            line.push_str(&format!(": {}", manifests_line(&mut v)));
                            dependencies.push(serde_json::json!({"repository": full, "project": project, "report": v}));
                        }
                        Err(e) => skipped.push(serde_json::json!({"repository": full, "reason": e.to_string()})),
                    }
                }
                Err(e) => skipped.push(serde_json::json!({"repository": full, "reason": e.message})),
            }
        }
        eprintln!("{line}");
    }
    eprintln!(
        "{}{} repositories: {} projects created, {} existing, {} skipped",
        if dry_run { "dry run, nothing changed: " } else { "" },
        repos.len(),
        created.len(),
        existing.len(),
        skipped.len()
    );
    let report = serde_json::json!({"dry_run": dry_run, "repositories": repos.len(), "created": created,
                                    "existing": existing, "dependencies": dependencies, "skipped": skipped});
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}
