//! `switchboard bench-campaign`: an upgrade campaign over N repositories
//! (Cargo.toml, package.json, requirements.txt in turn) against the fake
//! GitHub on loopback, through the real engine and App client at the
//! configured concurrency (and, with `--latency-ms`, a GitHub that takes
//! that long per answer): wall time from approval to the last pull
//! request, calls made, and the process's peak RSS (the fake included).

use std::time::Instant;

use serde_json::json;
use switchboard_automations::engine::Worked;
use switchboard_automations::github::{self, fake::FakeGitHub};
use switchboard_core::campaign::ItemState;
use switchboard_core::config::Config;
use switchboard_core::model::Role;
use switchboard_core::{Caller, Service};

fn manifest(i: usize, v: &str) -> (&'static str, &'static str, String) {
    match i % 3 {
        0 => {
            ("cargo", "Cargo.toml", format!("[package]\nname = \"svc\"\n\n[dependencies]\nacme-telemetry = \"{v}\"\n"))
        }
        1 => {
            ("npm", "package.json", format!("{{\n  \"dependencies\": {{\n    \"acme-telemetry\": \"^{v}\"\n  }}\n}}\n"))
        }
        _ => ("pypi", "requirements.txt", format!("acme-telemetry=={v}\nrequests==2.32.3\n")),
    }
}

/// The process's peak resident set, in MiB (Linux; 0 elsewhere).
pub(crate) fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    (kib / 1024.0 * 10.0).round() / 10.0
}

pub async fn run(repos: usize, concurrency: usize, latency_ms: u64) -> anyhow::Result<()> {
    anyhow::ensure!(repos > 0, "--repos must be at least 1");
    switchboard_agents::install_tls_provider();
    let dir = tempfile_dir()?;
    let result = measure(repos, concurrency, latency_ms, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    println!("{}", serde_json::to_string_pretty(&result?)?);
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("switchboard-bench-campaign-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// A fake GitHub on loopback, a config whose App points at it with
/// `concurrency` requests in flight, and a store opened in `dir`.
pub(crate) async fn with_fake_github(
    concurrency: usize,
    dir: &std::path::Path,
) -> anyhow::Result<(FakeGitHub, Config, crate::app::Opened)> {
    let fake = FakeGitHub::start(&[]).await?;
    let mut config = Config::default();
    config.github.app_id = Some(7);
    config.github.private_key = Some(github::fake::TEST_APP_KEY.into());
    config.github.api_url = fake.url.clone();
    config.github.concurrency = concurrency;
    let opened = crate::app::open(&config, dir).await?;
    Ok((fake, config, opened))
}

async fn measure(
    repos: usize,
    concurrency: usize,
    latency_ms: u64,
    dir: &std::path::Path,
) -> anyhow::Result<serde_json::Value> {
    let (fake, config, opened) = with_fake_github(concurrency, dir).await?;
    let service: Service = opened.service.clone();
    let admin = Caller::new("bench", Role::Admin, "bench");
    crate::seed::seed(&service, 5, false).await?;
    let team = service.graph().list_teams().await?.first().map(|t| t.slug.to_string()).unwrap_or_default();
    let project_type = config.project_types.keys().next().map(|t| t.to_string()).unwrap_or_default();
    let seeding = Instant::now();
    for i in 0..repos {
        let (ecosystem, path, text) = manifest(i, "1.4.2");
        let repo = format!("acme/svc-{i:04}");
        fake.put_file(&repo, path, &text);
        let args = json!({"slug": format!("svc-{i:04}"), "team": team, "project_type": project_type,
                          "dependencies": [{"ecosystem": ecosystem, "package": "acme-telemetry", "version": "1.4.2"}],
                          "external_ids": {"github_repository": repo}});
        service.execute_json(&admin, "create_project", args).await?;
    }
    eprintln!("{repos} repositories in {:.1} s; running the campaign…", seeding.elapsed().as_secs_f64());
    let requester = Caller::new("carol", Role::Editor, "bench");
    let args = json!({"package": "acme-telemetry", "from": "1.4.2", "to": "1.5.0"});
    let run = service.execute_json(&requester, "upgrade_dependency", args).await?.to_json();
    let approver = Caller::new("bob", Role::Approver, "bench");
    service.execute_json(&approver, "approve_run", json!({"run": run["id"]})).await?;
    let engine = github::engine(&service, opened.queue.clone(), "bench")
        .map_err(|e| anyhow::anyhow!(e))?
        .ok_or_else(|| anyhow::anyhow!("no GitHub App"))?;
    fake.slow_down(std::time::Duration::from_millis(latency_ms));
    let started = Instant::now();
    let (done, worked) =
        engine.run_once().await.map_err(|e| anyhow::anyhow!(e))?.ok_or_else(|| anyhow::anyhow!("no run claimed"))?;
    let wall = started.elapsed().as_secs_f64();
    anyhow::ensure!(worked == Worked::Succeeded, "the campaign ended {worked:?}");
    let summary = service.campaign_summary(&done.id).await?;
    let opened_prs = summary.count(ItemState::Opened);
    anyhow::ensure!(opened_prs == repos, "{opened_prs} of {repos} pull requests opened");
    anyhow::ensure!(fake.all_pulls().len() == repos, "the fake holds {} pull requests", fake.all_pulls().len());
    let calls = fake.calls().len();
    Ok(json!({
        "repositories": repos,
        "concurrency": concurrency,
        "github_latency_ms": latency_ms,
        "batch": config.github.upgrades.batch,
        "steps": done.steps.len(),
        "wall_seconds": (wall * 100.0).round() / 100.0,
        "repositories_per_second": (repos as f64 / wall).round(),
        "github_calls": calls,
        "calls_per_repository": (calls as f64 / repos as f64 * 10.0).round() / 10.0,
        "pull_requests": opened_prs,
        "peak_rss_mib": peak_rss_mib(),
    }))
}
