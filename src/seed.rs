//! Filling an empty store with the demo organisation.

use std::time::Instant;

use switchboard_core::Caller;
use switchboard_core::Service;
use switchboard_core::demo::{self, DemoOptions};
use switchboard_core::model::Role;

/// Generates the demo org into `service` unless it already holds projects,
/// with its logs.
pub async fn seed_if_empty(service: &Service, projects: usize) -> anyhow::Result<()> {
    let existing = service.graph().counts().await?.projects;
    if existing > 0 {
        eprintln!(
            "Using the existing demo data ({existing} projects). Delete the data directory to generate it again."
        );
        return Ok(());
    }
    seed(service, projects, true).await?;
    seed_logs(service).await?;
    let caller = Caller::new(demo::DEMO_ADMIN, Role::Admin, "demo");
    let advisories = crate::advisories::import_sample(service, &caller).await?;
    eprintln!("Imported the advisory sample: {} (ask: are we affected by CVE-2025-29923?).", advisories.line());
    // The generated history is not news: chat and the notification webhook
    // start after it.
    switchboard_core::follow::start_after_history(service, &["courier", "notifications"]).await?;
    Ok(())
}

/// Six hours of logs for the hand-named projects into the embedded table,
/// and the story (`core::demo_logs`): a deployment of refunds to production
/// 50 minutes ago, the new error it brought, and the incident it opened.
async fn seed_logs(service: &Service) -> anyhow::Result<()> {
    use switchboard_core::demo_logs::{STORY_PROJECT, generate, story};
    if !service.has_log_table() {
        return Ok(());
    }
    let caller = Caller::new(demo::DEMO_ADMIN, Role::Admin, "demo");
    let q = switchboard_core::store::ProjectQuery { limit: 5000, ..Default::default() };
    let mut slugs: Vec<String> =
        service.graph().find_projects(&q).await?.into_iter().map(|p| p.slug.to_string()).collect();
    // The hand-named ones: no generated number in them.
    slugs.retain(|s| !s.chars().any(|c| c.is_ascii_digit()));
    slugs.sort();
    let now = service.now();
    if slugs.iter().any(|s| s == STORY_PROJECT) {
        let current = service.graph().current_deployments(&STORY_PROJECT.parse()?).await?;
        let production = current.iter().find(|d| d.environment.as_str() == "production");
        let (batch, events) = story(production.map(|d| d.version.as_str()), now);
        service.import(&caller, &batch, &events).await?;
    }
    let lines = generate(&slugs, now, 42);
    let n = lines.len();
    for chunk in lines.chunks(20_000) {
        service.ingest_logs(&caller, chunk.to_vec()).await?;
    }
    eprintln!("Generated {n} log lines for {} projects (ask: check the logs for refunds).", slugs.len());
    Ok(())
}

/// Generates the demo org of `projects` projects, printing progress when asked.
pub async fn seed(service: &Service, projects: usize, progress: bool) -> anyhow::Result<()> {
    let started = Instant::now();
    let caller = Caller::new(demo::DEMO_ADMIN, Role::Admin, "demo");
    let opts = DemoOptions { projects, now: service.now(), seed: 42 };
    let chunk = 1000;
    let mut done = 0;
    for c in demo::generate(&opts, service.config(), chunk) {
        done += c.batch.projects.len();
        service.import(&caller, &c.batch, &c.events).await?;
        if progress && projects > chunk {
            eprint!("\rGenerating the demo organisation: {done}/{projects} projects");
        }
    }
    if progress {
        eprintln!(
            "\rGenerated the demo organisation: {projects} projects in {:.1}s          ",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// The first `limit` projects' slugs: what the benchmarks' measurements pick
/// from (5,000) and link to repositories.
pub(crate) async fn some_slugs(service: &Service, limit: usize) -> anyhow::Result<Vec<String>> {
    let q = switchboard_core::store::ProjectQuery { limit, ..Default::default() };
    Ok(service.graph().find_projects(&q).await?.into_iter().map(|p| p.slug.to_string()).collect())
}
