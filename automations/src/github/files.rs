//! A repository's manifest and lock files through the GitHub App: one
//! recursive tree read of the default branch, then the contents of only the
//! paths Switchboard reads (`core::import::lockfiles`), each under the
//! client's concurrency cap and rate-limit handling. What `import repo
//! --github` and, as it lands, the repository import read.

use futures_util::StreamExt;
use switchboard_core::import::lockfiles::{DEFAULT_IGNORE, Format, ignored};

use super::GitHubApp;
use super::campaign::{decode, enc};
use crate::engine::StepError;

/// The largest file read; bigger ones are reported, not read.
const MAX_FILE_BYTES: u64 = 5 * 1024 * 1024;

/// What was read of one repository.
#[derive(Debug, Default)]
pub struct RepositoryFiles {
    pub default_branch: String,
    /// (`path`, text) of each manifest and lock file.
    pub files: Vec<(String, String)>,
    /// Files left out, each with why (too large).
    pub skipped: Vec<(String, String)>,
    /// GitHub cut the tree listing short (a very large repository): some
    /// files may be missing.
    pub truncated: bool,
    /// API calls made.
    pub calls: usize,
}

/// Reads `repo` (`owner/name`) through the App's installation on it.
pub async fn read(gh: &GitHubApp, repo: &str) -> Result<RepositoryFiles, StepError> {
    let client = gh.for_repository(repo).await?;
    let info = gh.request(&client, "GET", &format!("/repos/{repo}"), None).await?.require(&format!("read {repo}"))?;
    let branch = info["default_branch"].as_str().unwrap_or("main").to_owned();
    let route = format!("/repos/{repo}/git/trees/{}?recursive=1", enc(&branch));
    let tree = gh.request(&client, "GET", &route, None).await?.require(&format!("list the files of {repo}"))?;
    let mut out = RepositoryFiles { default_branch: branch.clone(), calls: 2, ..Default::default() };
    out.truncated = tree["truncated"].as_bool().unwrap_or(false);
    let mut wanted = Vec::new();
    for entry in tree["tree"].as_array().into_iter().flatten() {
        let Some(path) = entry["path"].as_str() else { continue };
        if entry["type"] != "blob" || Format::of(path).is_none() || ignored(path, DEFAULT_IGNORE) {
            continue;
        }
        match entry["size"].as_u64() {
            Some(size) if size > MAX_FILE_BYTES => {
                out.skipped.push((path.to_owned(), format!("{size} bytes, over the {MAX_FILE_BYTES} read")));
            }
            _ => wanted.push(path.to_owned()),
        }
    }
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
        out.files.push(read?);
    }
    out.files.sort();
    Ok(out)
}
