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
use crate::imports::{ImportCommand, JsonlArgs};
pub(crate) use crate::store_args::StoreArgs;

/// Default data directory of `demo` (and of `op` when none is given).
pub const DEMO_DATA_DIR: &str = ".switchboard-demo";

#[derive(Parser, Debug)]
#[command(name = "switchboard", version, about = "Self-hosted chat-ops bot with an integrated web portal")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
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
    /// A consistent copy of the embedded store, taken while `serve` runs and
    /// checked (docs/production.md#backups).
    Backup {
        #[command(flatten)]
        store: StoreArgs,
        /// The file to write; never overwritten.
        #[arg(long)]
        out: PathBuf,
    },
    /// Put a backup in place of the embedded store (stop every process using
    /// it first). A store that holds projects or events is replaced only with
    /// --force, and kept aside beside it.
    Restore {
        #[command(flatten)]
        store: StoreArgs,
        /// The backup to restore.
        #[arg(long = "in")]
        input: PathBuf,
        #[arg(long)]
        force: bool,
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
    /// Security advisories: `advisories import PATH_OR_URL…` reads OSV
    /// records (files, directories, zips, URLs) and matches the graph.
    Advisories {
        #[command(subcommand)]
        command: crate::advisories::AdvisoriesCommand,
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
    /// Measure the chat: `eval router` scores the intent router on a set of phrasings.
    Eval {
        #[command(subcommand)]
        command: EvalCommand,
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
    #[command(flatten)]
    Benchmark(crate::bench_commands::BenchCommand),
    /// Exit 0 when the server at URL is alive (`/livez`), or with `--ready`
    /// ready (`/readyz`: its stores answer; the checks are printed as JSON).
    /// For container and Kubernetes probes.
    Healthcheck {
        #[arg(long, default_value = "http://127.0.0.1:8080/livez")]
        url: String,
        /// Ask `/readyz` on the same server instead (the URL's path is replaced).
        #[arg(long)]
        ready: bool,
    },
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
pub(crate) enum DiscordCommand {
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
pub(crate) enum EvalCommand {
    /// Route every phrasing of a set (default: the repository's,
    /// agents/eval/router.jsonl) and print accuracy per operation and the misses.
    Router {
        /// A set of your own: one `{"text", "operation", "arguments"}` JSON object a line.
        #[arg(long)]
        set: Option<PathBuf>,
        /// Exit with failure when overall accuracy (in percent) is below this.
        #[arg(long)]
        min: Option<f64>,
        /// Print the table and the total only, not the misses.
        #[arg(long)]
        quiet: bool,
        /// Without --data-dir or --config: the demo organisation, generated in a temporary directory.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Run the LLM agent on scripted scenarios (tool calls with their
    /// arguments, prompt injections) against any OpenAI-compatible server and
    /// print a pass rate per scenario.
    Agent {
        /// The server's OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1.
        #[arg(long)]
        base_url: String,
        /// The model name the server knows.
        #[arg(long)]
        model: String,
        /// Environment variable holding the API key, if the server needs one.
        #[arg(long, default_value = "SWITCHBOARD_LLM__API_KEY")]
        api_key_env: String,
        /// How many times each scenario runs.
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        /// Stream the model's answers (as chat does by default).
        #[arg(long)]
        stream: bool,
        /// Exit with failure when the overall pass rate (in percent) is below this.
        #[arg(long)]
        min: Option<f64>,
        /// Seconds each model call may take.
        #[arg(long, default_value_t = 120)]
        timeout_secs: u64,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum RulesCommand {
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

pub(crate) fn env() -> Vec<(String, String)> {
    std::env::vars().collect()
}

/// The environment, with a warning for each `SWITCHBOARD_*` variable Switchboard does not read.
fn env_checked() -> Vec<(String, String)> {
    let env = env();
    for name in switchboard_core::config::unknown_variables(&env) {
        eprintln!("warning: {name} is set, but Switchboard reads no such variable (misspelt?)");
    }
    env
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
            app::init_telemetry(&config.log, &config.traces, false, true)?;
            let opened = app::open(&config, &config.store.data_dir).await?;
            app::serve(config, opened, switchboard_portal::Mode::Serve, None).await?;
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
        Command::Backup { store, out } => crate::backup::run_backup(&store, &out),
        Command::Restore { store, input, force } => crate::backup::run_restore(&store, &input, force),
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
        Command::Import { what, jsonl } => crate::imports::run(what, jsonl).await,
        Command::Advisories { command } => {
            switchboard_agents::install_tls_provider();
            crate::advisories::run(command).await
        }
        Command::Worker { config } => {
            let config = Config::load(&config, &env())?;
            app::init_telemetry(&config.log, &config.traces, false, true)?;
            let opened = app::open(&config, &config.store.data_dir).await?;
            app::work(opened).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { port, bind, data_dir, projects, config, seed_only } => {
            let mut config = load(config.as_ref())?;
            config.server.port = port;
            config.server.bind = bind;
            config.store.data_dir = data_dir.clone();
            app::init_telemetry(&config.log, &config.traces, false, true)?;
            if projects == 0 {
                anyhow::bail!("--projects must be at least 1");
            }
            // Approved runs act on a simulated GitHub, unless a real App is configured.
            let simulated = match config.github.configured() {
                true => None,
                false => Some(crate::simulated_github::start(&mut config).await?),
            };
            let opened = app::open(&config, &data_dir).await?;
            crate::seed::seed_if_empty(&opened.service, projects).await?;
            if seed_only {
                return Ok(ExitCode::SUCCESS);
            }
            if let Some(fake) = &simulated {
                let repos = crate::simulated_github::seed(fake, &opened.service).await?;
                tracing::info!(repos, "simulated GitHub holds a repository per demo project");
            }
            app::serve(config, opened, switchboard_portal::Mode::Demo, simulated).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckConfig { file } => match Config::load(&file, &env_checked()) {
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
                    let overridden: Vec<&str> = c.texts.loaded.overridden().collect();
                    if let Some(dir) = c.texts.dir.as_ref().filter(|_| !overridden.is_empty()) {
                        println!("texts from {}: {}", dir.display(), overridden.join(", "));
                    }
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
            let (service, dir) = store.open_in().await?;
            let caller = acting_as(&service, user, "terminal").await?;
            crate::chat::run(service, caller, Some(dir.join(crate::chat::HISTORY_FILE))).await?;
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
            let planned = rules.plan(&service, &source, &event, &std::sync::Arc::new(body)).await?;
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
        Command::Eval { command: EvalCommand::Router { set, min, quiet, store } } => {
            crate::eval::router(crate::eval::RouterArgs { set, min, quiet, store }).await
        }
        Command::Eval {
            command: EvalCommand::Agent { base_url, model, api_key_env, repeat, stream, min, timeout_secs, store },
        } => {
            let args =
                crate::eval::AgentArgs { base_url, model, api_key_env, repeat, stream, min, timeout_secs, store };
            crate::eval::agent(args).await
        }
        Command::Route { text, json, store } => {
            let service = store.open().await?;
            let catalog = switchboard_agents::Catalog::load(service.graph(), service.config()).await?;
            if catalog.projects.is_empty() {
                eprintln!(
                    "warning: the store in {} has no projects, so names cannot be resolved; run `switchboard demo` or pass --data-dir",
                    store.dir(service.config())?.display()
                );
            }
            let routed = switchboard_agents::route(&text, &catalog);
            if json {
                println!("{}", routed.to_json());
            } else {
                match routed {
                    switchboard_agents::Routed::Call { operation, arguments, .. } => {
                        println!("{} {arguments}", operation.name())
                    }
                    switchboard_agents::Routed::Reply { text } => println!("{text}"),
                    switchboard_agents::Routed::Choose { text, choices } => {
                        println!("{text}");
                        for c in choices {
                            println!("  → {c}");
                        }
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Benchmark(c) => crate::bench_commands::run(c).await,
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
        Command::Healthcheck { url, ready } => {
            let url = if ready { app::with_path(&url, "/readyz") } else { url };
            let (ok, body) = app::healthcheck(&url).await;
            if ready && !body.is_empty() {
                println!("{body}");
            }
            Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}
