//! A repository as the import reads it through the GitHub App: its metadata,
//! one recursive tree read of the default branch, then the contents of only
//! the files Switchboard reads — manifests and lock files
//! (`core::import::lockfiles`), the root `catalog-info.yaml` and CODEOWNERS —
//! each under the client's concurrency cap and rate-limit handling. The tree
//! alone answers whether there is a README and a CI workflow.

use futures_util::StreamExt;
use serde_json::Value;
use switchboard_core::import::lockfiles::{DEFAULT_IGNORE, Format, ignored};

use super::GitHubApp;
use super::campaign::{decode, enc};
use crate::engine::StepError;

/// The largest file read; bigger ones are reported, not read.
const MAX_FILE_BYTES: u64 = 5 * 1024 * 1024;

/// Where GitHub looks for CODEOWNERS, in its order.
const CODEOWNERS: &[&str] = &[".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"];
/// Backstage's conventional descriptor at the repository root.
const CATALOG: &[&str] = &["catalog-info.yaml", "catalog-info.yml"];

fn is_readme(path: &str) -> bool {
    !path.contains('/') && path.to_ascii_lowercase().starts_with("readme")
}

fn is_workflow(path: &str) -> bool {
    path.starts_with(".github/workflows/") && (path.ends_with(".yml") || path.ends_with(".yaml"))
}

/// A file the import reads besides manifests — the root README, a
/// workflow, the root catalog, CODEOWNERS — so adding or removing one
/// changes a repository fact or its owner.
pub fn is_repository_file(path: &str) -> bool {
    is_readme(path) || is_workflow(path) || CATALOG.contains(&path) || CODEOWNERS.contains(&path)
}

/// What to read besides the metadata and the tree.
#[derive(Clone, Debug)]
pub struct Reading<'a> {
    /// Manifests and lock files (off when dependencies come from GitHub's SBOM).
    pub manifests: bool,
    /// Directories whose manifests are left out (`[import] ignore`).
    pub ignore: &'a [&'a str],
}

impl Default for Reading<'_> {
    fn default() -> Self {
        Self { manifests: true, ignore: DEFAULT_IGNORE }
    }
}

/// What was read of one repository.
#[derive(Debug, Default)]
pub struct RepositoryFiles {
    /// `GET /repos/{owner}/{repo}`: id, name, fork, archived, topics,
    /// language, license, pushed_at…
    pub info: Value,
    pub default_branch: String,
    /// (`path`, text) of each manifest and lock file.
    pub files: Vec<(String, String)>,
    /// The root `catalog-info.yaml`, when there is one.
    pub catalog: Option<(String, String)>,
    /// CODEOWNERS (the first of GitHub's places that has one).
    pub codeowners: Option<(String, String)>,
    pub has_readme: bool,
    /// A GitHub Actions workflow under `.github/workflows/`.
    pub has_ci: bool,
    /// Files left out, each with why (too large).
    pub skipped: Vec<(String, String)>,
    /// GitHub cut the tree listing short (a very large repository): some
    /// files may be missing.
    pub truncated: bool,
    /// API calls made.
    pub calls: usize,
}

/// Reads `repo` (`owner/name`) through the App's installation on it, with
/// the default [`Reading`].
pub async fn read(gh: &GitHubApp, repo: &str) -> Result<RepositoryFiles, StepError> {
    read_with(gh, repo, &Reading::default()).await
}

/// Reads `repo` (`owner/name`) through the App's installation on it.
pub async fn read_with(gh: &GitHubApp, repo: &str, how: &Reading<'_>) -> Result<RepositoryFiles, StepError> {
    let client = gh.for_repository(repo).await?;
    let info = gh.request(&client, "GET", &format!("/repos/{repo}"), None).await?.require(&format!("read {repo}"))?;
    let branch = info["default_branch"].as_str().unwrap_or("main").to_owned();
    let mut out = RepositoryFiles { info, default_branch: branch.clone(), calls: 1, ..Default::default() };
    let route = format!("/repos/{repo}/git/trees/{}?recursive=1", enc(&branch));
    let tree = gh.request(&client, "GET", &route, None).await?;
    out.calls += 1;
    // An empty repository has no tree: nothing to read.
    if tree.status == 409 || tree.status == 404 {
        return Ok(out);
    }
    let tree = tree.require(&format!("list the files of {repo}"))?;
    out.truncated = tree["truncated"].as_bool().unwrap_or(false);
    let mut wanted = Vec::new();
    for entry in tree["tree"].as_array().into_iter().flatten() {
        let Some(path) = entry["path"].as_str() else { continue };
        if entry["type"] != "blob" {
            continue;
        }
        out.has_readme |= is_readme(path);
        out.has_ci |= is_workflow(path);
        let signal = CATALOG.contains(&path) || CODEOWNERS.contains(&path);
        let manifest = how.manifests && Format::of(path).is_some() && !ignored(path, how.ignore);
        if !signal && !manifest {
            continue;
        }
        match entry["size"].as_u64() {
            Some(size) if size > MAX_FILE_BYTES => {
                out.skipped.push((path.to_owned(), format!("{size} bytes, over the {MAX_FILE_BYTES} read")));
            }
            _ => wanted.push(path.to_owned()),
        }
    }
    // Only the CODEOWNERS GitHub would use: the first of its places that has one.
    let codeowners = CODEOWNERS.iter().find(|c| wanted.iter().any(|p| p == *c)).copied();
    wanted.retain(|p| !CODEOWNERS.contains(&p.as_str()) || Some(p.as_str()) == codeowners);
    // The files at once, as many as the client's cap lets through.
    let reads = futures_util::stream::iter(wanted.into_iter().map(|path| {
        let (client, branch) = (client.clone(), branch.clone());
        async move {
            let route = format!("/repos/{repo}/contents/{path}?ref={}", enc(&branch));
            let file = gh.request(&client, "GET", &route, None).await?.require(&format!("read {path}"))?;
            let (_, text) = decode(&file)?;
            Ok::<_, StepError>((path, text))
        }
    }))
    .buffer_unordered(16)
    .collect::<Vec<_>>()
    .await;
    for read in reads {
        out.calls += 1;
        let (path, text) = read?;
        if CATALOG.contains(&path.as_str()) {
            out.catalog = Some((path, text));
        } else if CODEOWNERS.contains(&path.as_str()) {
            out.codeowners = Some((path, text));
        } else {
            out.files.push((path, text));
        }
    }
    out.files.sort();
    Ok(out)
}

/// The team CODEOWNERS names as the repository's owner: the team on the
/// catch-all `*` rule, else the first team named on any rule
/// (`@org/team-slug` → `team-slug`). Users and emails are not teams.
pub fn codeowners_team(text: &str) -> Option<String> {
    let rules: Vec<(&str, Vec<&str>)> = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .filter(|l| !l.is_empty())
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let pattern = words.next()?;
            Some((pattern, words.collect()))
        })
        .collect();
    let team = |owners: &[&str]| {
        owners.iter().find_map(|o| o.strip_prefix('@').and_then(|o| o.split_once('/')).map(|(_, t)| t.to_owned()))
    };
    // The last `*` rule wins in GitHub's reading; its team is the owner.
    rules
        .iter()
        .rev()
        .find(|(p, _)| *p == "*" || *p == "/*" || *p == "/")
        .and_then(|(_, o)| team(o))
        .or_else(|| rules.iter().find_map(|(_, o)| team(o)))
}

/// The repository's teams with admin or maintain permission, strongest
/// first (`GET /repos/{repo}/teams`; needs the App's Administration: read).
pub async fn admin_teams(gh: &GitHubApp, repo: &str) -> Result<Vec<String>, StepError> {
    let client = gh.for_repository(repo).await?;
    let list = gh.request(&client, "GET", &format!("/repos/{repo}/teams?per_page=100"), None).await?;
    let list = list.require(&format!("list the teams of {repo}"))?;
    let mut teams: Vec<(u8, String)> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| {
            let rank = match t["permission"].as_str()? {
                "admin" => 0,
                "maintain" => 1,
                _ => return None,
            };
            Some((rank, t["slug"].as_str()?.to_owned()))
        })
        .collect();
    teams.sort();
    Ok(teams.into_iter().map(|(_, t)| t).collect())
}

/// GitHub's dependency graph as an SPDX 2.3 SBOM
/// (`GET /repos/{repo}/dependency-graph/sbom`; needs Contents: read and the
/// dependency graph enabled). `None` when GitHub has none for it.
pub async fn dependency_graph_sbom(gh: &GitHubApp, repo: &str) -> Result<Option<Value>, StepError> {
    let client = gh.for_repository(repo).await?;
    let got = gh.request(&client, "GET", &format!("/repos/{repo}/dependency-graph/sbom"), None).await?;
    if got.status == 404 {
        return Ok(None);
    }
    got.require(&format!("read the dependency graph of {repo}")).map(Some)
}

#[cfg(test)]
mod tests {
    use super::codeowners_team;

    #[test]
    fn codeowners_names_the_catch_all_team_first() {
        let text = "# owners\n/docs/ @acme/writers\n*       @alice @acme/payments  # default\n*.js @acme/web\n";
        assert_eq!(codeowners_team(text).as_deref(), Some("payments"));
        assert_eq!(codeowners_team("/api/ someone@example.com @acme/api-team\n").as_deref(), Some("api-team"));
        assert_eq!(codeowners_team("* @alice\n"), None);
        assert_eq!(codeowners_team(""), None);
    }
}
