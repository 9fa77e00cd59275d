//! `switchboard bench-import`: an organisation of N repositories on the fake
//! GitHub (each with a Cargo manifest and lock, an npm manifest and lock, a
//! requirements file and CODEOWNERS: four manifests, a few hundred edges
//! with the transitive ones) imported the way `switchboard import github`
//! imports it, through the real client at the configured concurrency; then
//! the refresh that follows a push, sampled. Prints wall time, API calls per
//! repository, dependency edges, peak RSS and refresh latency as JSON.

use std::time::Instant;

use serde_json::json;
use switchboard_automations::github::GitHubApp;
use switchboard_automations::refresh::Refresher;
use switchboard_automations::repositories::{Outcome, import};
use switchboard_core::model::Role;
use switchboard_core::{Caller, Service};

use crate::bench_campaign::peak_rss_mib;

/// A repository's files: 4 manifests with lock files resolving `n` packages each.
fn files(i: usize, n: usize, bump: usize) -> Vec<(String, String)> {
    let mut cargo_toml = format!("[package]\nname = \"svc-{i}\"\nversion = \"0.1.0\"\n\n[dependencies]\n");
    let mut cargo_lock = format!("version = 3\n\n[[package]]\nname = \"svc-{i}\"\nversion = \"0.1.0\"\n");
    let mut package_json = String::from("{\n  \"name\": \"web\",\n  \"dependencies\": {\n");
    let mut lock_packages = vec![format!("    \"\": {{\"name\": \"web\", \"version\": \"1.0.0\"}}")];
    for k in 0..n {
        let v = format!("1.{}.{}", (k + i) % 7, if k == 0 { bump } else { 0 });
        if k < 8 {
            cargo_toml.push_str(&format!("crate-{k} = \"{v}\"\n"));
            package_json.push_str(&format!("    \"pkg-{k}\": \"^{v}\"{}\n", if k < 7 { "," } else { "" }));
        }
        cargo_lock.push_str(&format!(
            "\n[[package]]\nname = \"crate-{k}\"\nversion = \"{v}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n"
        ));
        lock_packages.push(format!("    \"node_modules/pkg-{k}\": {{\"version\": \"{v}\"}}"));
    }
    package_json.push_str("  }\n}\n");
    let package_lock = format!(
        "{{\n  \"name\": \"web\",\n  \"lockfileVersion\": 3,\n  \"packages\": {{\n{}\n  }}\n}}\n",
        lock_packages.join(",\n")
    );
    let requirements = (0..10).map(|k| format!("py-{k}==2.{}.0\n", (k + i) % 5)).collect::<String>();
    vec![
        ("Cargo.toml".into(), cargo_toml),
        ("Cargo.lock".into(), cargo_lock),
        ("web/package.json".into(), package_json),
        ("web/package-lock.json".into(), package_lock),
        ("requirements.txt".into(), requirements),
        (".github/CODEOWNERS".into(), format!("* @acme/team-{}\n", i % 20)),
        ("README.md".into(), "# svc\n".into()),
    ]
}

pub async fn run(repos: usize, packages: usize, concurrency: usize, latency_ms: u64) -> anyhow::Result<()> {
    anyhow::ensure!(repos > 0 && packages >= 8, "--repos must be at least 1 and --packages at least 8");
    switchboard_agents::install_tls_provider();
    let dir = std::env::temp_dir().join(format!("switchboard-bench-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = measure(repos, packages, concurrency, latency_ms, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    println!("{}", serde_json::to_string_pretty(&result?)?);
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    (sorted.get(i).copied().unwrap_or(0.0) * 10.0).round() / 10.0
}

async fn measure(
    repos: usize,
    packages: usize,
    concurrency: usize,
    latency_ms: u64,
    dir: &std::path::Path,
) -> anyhow::Result<serde_json::Value> {
    let (fake, config, opened) = crate::bench_campaign::with_fake_github(concurrency, dir).await?;
    let service: Service = opened.service.clone();
    let names: Vec<String> = (0..repos).map(|i| format!("acme/svc-{i:04}")).collect();
    for (i, repo) in names.iter().enumerate() {
        for (path, text) in files(i, packages, 0) {
            fake.put_file(repo, &path, &text);
        }
    }
    let gh = GitHubApp::from_config(&config.github).map_err(|e| anyhow::anyhow!(e))?.expect("an App");
    let admin = Caller::new("bench", Role::Admin, "bench");
    fake.slow_down(std::time::Duration::from_millis(latency_ms));
    eprintln!("importing {repos} repositories…");
    let started = Instant::now();
    let reports = import::many(&service, &gh, &admin, &names, false, |i, _| {
        if (i + 1) % 250 == 0 {
            eprintln!("  {} of {repos}", i + 1);
        }
    })
    .await;
    let wall = started.elapsed().as_secs_f64();
    let created = reports.iter().filter(|r| r.outcome == Outcome::Created).count();
    anyhow::ensure!(created == repos, "{created} of {repos} repositories became projects: {:?}", reports.first());
    let calls = fake.calls().len();
    let mut edges = 0;
    for r in &reports {
        edges += r
            .dependencies
            .as_ref()
            .map_or(0, |d| (d["direct"].as_u64().unwrap_or(0) + d["transitive"].as_u64().unwrap_or(0)) as usize);
    }

    // A push moves a version in each lock file; the refresher imports the repository again.
    eprintln!("refreshing after pushes…");
    let refresher = Refresher { service: service.clone(), github: gh.clone() };
    let samples = repos.min(200);
    let mut took = Vec::with_capacity(samples);
    for (i, repo) in names.iter().enumerate().take(samples) {
        for (path, text) in files(i, packages, 1) {
            fake.put_file(repo, &path, &text);
        }
        service.queue_refresh(repo, service.now()).await?;
        let t = Instant::now();
        let said = refresher.run_once().await;
        took.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(said.len() == 1 && said[0].contains("2 changed"), "refresh of {repo}: {said:?}");
    }
    took.sort_by(f64::total_cmp);
    Ok(json!({
        "repositories": repos,
        "manifests_per_repository": 5,
        "packages_per_lock": packages,
        "dependency_edges": edges,
        "concurrency": concurrency,
        "github_latency_ms": latency_ms,
        "import_wall_seconds": (wall * 100.0).round() / 100.0,
        "repositories_per_second": (repos as f64 / wall).round(),
        "github_calls": calls,
        "calls_per_repository": (calls as f64 / repos as f64 * 10.0).round() / 10.0,
        "refresh_after_push_ms": {"samples": samples, "p50": percentile(&took, 0.5), "p99": percentile(&took, 0.99)},
        "peak_rss_mib": peak_rss_mib(),
    }))
}
