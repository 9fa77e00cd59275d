//! Filling an empty store with the demo organisation.

use std::time::Instant;

use switchboard_core::Caller;
use switchboard_core::Service;
use switchboard_core::demo::{self, DemoOptions};
use switchboard_core::model::Role;

/// Generates the demo org into `service` unless it already holds projects.
pub async fn seed_if_empty(service: &Service, projects: usize) -> anyhow::Result<()> {
    let existing = service.graph().counts().await?.projects;
    if existing > 0 {
        eprintln!(
            "Using the existing demo data ({existing} projects). Delete the data directory to generate it again."
        );
        return Ok(());
    }
    seed(service, projects, true).await
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
