//! `switchboard import`: what an organisation already has, read into the
//! graph — an export (JSON Lines), SBOMs, Backstage catalogs, a checkout's or
//! a repository's manifests and lock files, a GitHub App's installations.
//! Each reads files here and writes through the operations (`import_sbom`,
//! `import_catalog`, `import_manifests`), as the local admin unless `--as`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use switchboard_core::config::Config;
use switchboard_core::{Caller, Service};

use crate::app;
use crate::cli::{StoreArgs, acting_as, env};

#[derive(Subcommand, Debug)]
pub(crate) enum ImportCommand {
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
        #[command(flatten)]
        acting: Acting,
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
        #[command(flatten)]
        acting: Acting,
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
        #[command(flatten)]
        acting: Acting,
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
        #[command(flatten)]
        acting: Acting,
    },
}

#[derive(clap::Args, Debug)]
pub(crate) struct JsonlArgs {
    #[arg(long, env = "SWITCHBOARD_CONFIG")]
    config: Option<PathBuf>,
    /// The file to read (`-`: standard input).
    #[arg(long = "in")]
    input: Option<PathBuf>,
}

/// Who an import acts as, and on which store.
#[derive(clap::Args, Debug)]
pub(crate) struct Acting {
    /// Act as this user, with their role (default: the local admin).
    #[arg(long = "as")]
    user: Option<String>,
    #[command(flatten)]
    store: StoreArgs,
}

impl Acting {
    pub(crate) async fn open(self) -> anyhow::Result<(Service, Caller)> {
        let service = self.store.open().await?;
        let caller = acting_as(&service, self.user, "cli").await?;
        Ok((service, caller))
    }
}

pub(crate) async fn run(what: Option<ImportCommand>, jsonl: JsonlArgs) -> anyhow::Result<ExitCode> {
    match what {
        Some(ImportCommand::Repo { project, dir, github, acting }) => import_repo(project, dir, github, acting).await,
        Some(ImportCommand::Github { installation, dry_run, acting }) => {
            import_github(installation, dry_run, acting).await
        }
        Some(ImportCommand::Backstage { sources, dry_run, acting }) => import_backstage(sources, dry_run, acting).await,
        Some(ImportCommand::Sbom { project, file, name, acting }) => import_sbom(project, file, name, acting).await,
        Some(ImportCommand::Jsonl { jsonl: given }) => import_jsonl(given).await,
        None => import_jsonl(jsonl).await,
    }
}

/// `import jsonl` (or `import --config --in`): an export file into the store.
async fn import_jsonl(jsonl: JsonlArgs) -> anyhow::Result<ExitCode> {
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

/// `import sbom`: the file through `import_sbom`, with the limit the API has.
async fn import_sbom(project: String, file: PathBuf, name: Option<String>, acting: Acting) -> anyhow::Result<ExitCode> {
    use std::io::Read;
    let (service, caller) = acting.open().await?;
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
async fn import_backstage(sources: Vec<String>, dry_run: bool, acting: Acting) -> anyhow::Result<ExitCode> {
    let (service, caller) = acting.open().await?;
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
    acting: Acting,
) -> anyhow::Result<ExitCode> {
    use switchboard_core::import::lockfiles::{DEFAULT_IGNORE, Format, ignored};
    let (service, caller) = acting.open().await?;
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
/// with its team, type, facts and dependencies — the path the webhooks and
/// refreshes take (`repositories::import`).
async fn import_github(installation: Option<u64>, dry_run: bool, acting: Acting) -> anyhow::Result<ExitCode> {
    use switchboard_automations::github::GitHubApp;
    use switchboard_automations::repositories::{Outcome, import};
    let (service, caller) = acting.open().await?;
    // The same role the import_github operation needs, from core's policy.
    let kind = switchboard_core::ops::OpKind::ImportGithub;
    switchboard_core::policy::authorize(&caller, kind, &service.config().policy).map_err(|e| anyhow::anyhow!(e))?;
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
        repos.extend(listed.into_iter().filter_map(|r| r["full_name"].as_str().map(str::to_owned)));
    }
    let started = std::time::Instant::now();
    let total = repos.len();
    let mut reports = import::many(&service, &gh, &caller, &repos, dry_run, |i, r| {
        eprintln!("[{}/{total}] {}", i + 1, r.line());
    })
    .await;
    reports.sort_by(|a, b| a.repository.cmp(&b.repository));
    let count = |o: Outcome| reports.iter().filter(|r| r.outcome == o).count();
    let calls: usize = reports.iter().map(|r| r.calls).sum();
    eprintln!(
        "{}{total} repositories in {:.1} s: {} created, {} updated, {} unchanged, {} skipped; {calls} GitHub calls",
        if dry_run { "dry run, nothing changed: " } else { "" },
        started.elapsed().as_secs_f64(),
        count(Outcome::Created),
        count(Outcome::Updated),
        count(Outcome::Unchanged),
        count(Outcome::Skipped),
    );
    let report = serde_json::json!({"dry_run": dry_run, "repositories": total, "created": count(Outcome::Created),
                                    "updated": count(Outcome::Updated), "unchanged": count(Outcome::Unchanged),
                                    "skipped": count(Outcome::Skipped), "github_calls": calls, "report": reports});
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}
