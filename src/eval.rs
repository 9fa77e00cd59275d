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
    let (service, _temp) = store_or_demo(&a.store).await?;
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

/// The store named by `--data-dir`/`--config`, or the demo organisation in
/// a temporary directory (kept while the returned guard lives).
async fn store_or_demo(store: &StoreArgs) -> anyhow::Result<(switchboard_core::Service, Option<tempfile::TempDir>)> {
    if store.names_a_store() {
        return Ok((store.open().await?, None));
    }
    let temp = tempfile::tempdir().context("cannot create a temporary directory for the demo store")?;
    let service = StoreArgs::at(temp.path().to_path_buf()).open().await?;
    crate::seed::seed(&service, 60, false).await?;
    Ok((service, Some(temp)))
}

pub(crate) struct AgentArgs {
    pub base_url: String,
    pub model: String,
    pub api_key_env: String,
    pub repeat: usize,
    pub stream: bool,
    pub min: Option<f64>,
    pub timeout_secs: u64,
    pub store: StoreArgs,
}

/// `switchboard eval agent`: the scenarios of `agents::eval::agent` against
/// a model server, with a line per scenario as it finishes.
pub(crate) async fn agent(a: AgentArgs) -> anyhow::Result<ExitCode> {
    use switchboard_agents::eval::agent as scenarios;
    if a.repeat == 0 {
        anyhow::bail!("--repeat must be at least 1");
    }
    let (service, _temp) = store_or_demo(&a.store).await?;
    let config = switchboard_core::config::LlmConfig {
        base_url: Some(a.base_url.clone()),
        model: a.model.clone(),
        api_key: std::env::var(&a.api_key_env).ok().filter(|k| !k.is_empty()),
        stream: a.stream,
        timeout_secs: a.timeout_secs,
        max_retries: 1,
        // Every scenario is judged on its own: the breaker never rests.
        breaker_failures: u32::MAX,
        ..service.config().llm.clone()
    };
    let agent = switchboard_agents::llm::Agent::with_config(service, config)
        .context("--base-url is required to build the agent")?;
    eprintln!("{} scenarios × {} against {} ({})", scenarios::scenarios().len(), a.repeat, a.base_url, a.model);
    let outcomes = scenarios::run(&agent, a.repeat, &|o| {
        eprintln!(
            "  {:<42} {}/{}{}",
            o.name,
            o.passed,
            o.runs,
            if o.errors > 0 { format!(" ({} errors)", o.errors) } else { String::new() }
        );
    })
    .await;
    print!("{}", scenarios::render(&outcomes));
    let (passed, runs) = outcomes.iter().fold((0, 0), |(p, r), o| (p + o.passed, r + o.runs));
    let errors: usize = outcomes.iter().map(|o| o.errors).sum();
    if errors > 0 {
        println!("({errors} run(s) failed to reach an answer: the server or the plumbing, not the model's judgement)");
    }
    match a.min {
        Some(min) if scenarios::rate(passed, runs) < min => {
            eprintln!("below the required {min:.1}%");
            Ok(ExitCode::FAILURE)
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}
