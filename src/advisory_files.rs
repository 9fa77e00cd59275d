//! Reading OSV records for `switchboard advisories import` and the
//! `[advisories] sources` refresh: a JSON file (one record or an array of
//! them), a directory of them (walked), a zip of them (as OSV publishes one
//! per ecosystem), or an http(s) URL of any of those. Records stream through
//! a bounded channel to batches of `import_advisories` calls, so a large
//! import holds only a batch in memory.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;
use switchboard_core::advisory::osv::Refused;
use tokio::sync::mpsc;

/// A record read, or why a file gave none.
pub(crate) type Item = Result<Value, Refused>;

/// The largest single record file or zip entry read.
const MAX_RECORD_BYTES: u64 = 8 * 1024 * 1024;
/// The largest download kept.
const MAX_DOWNLOAD_BYTES: u64 = 2 * 1024 * 1024 * 1024;

fn refused(what: impl std::fmt::Display, reason: impl std::fmt::Display) -> Refused {
    Refused { id: None, reason: format!("{what}: {reason}") }
}

/// Reads `bytes` (one file's or one zip entry's) as records.
fn records(name: &str, bytes: &[u8], out: &mpsc::Sender<Item>) -> bool {
    let items: Vec<Item> = match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Array(records)) => records.into_iter().map(Ok).collect(),
        Ok(record @ Value::Object(_)) => vec![Ok(record)],
        Ok(_) => vec![Err(refused(name, "not an OSV record (a JSON object) or a list of them"))],
        Err(e) => vec![Err(refused(name, format!("not JSON ({e})")))],
    };
    items.into_iter().all(|i| out.blocking_send(i).is_ok())
}

fn is_zip(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut magic)).is_ok() && magic == *b"PK\x03\x04"
}

fn read_zip(path: &Path, out: &mpsc::Sender<Item>) -> Result<(), String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| format!("not a zip: {e}"))?;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| e.to_string())?;
        let inner = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        let name = format!("{}:{inner}", path.display());
        if entry.is_dir() || !inner.ends_with(".json") {
            continue;
        }
        if entry.size() > MAX_RECORD_BYTES {
            if out
                .blocking_send(Err(refused(&name, format!("{} bytes, over the {MAX_RECORD_BYTES} read", entry.size()))))
                .is_err()
            {
                return Ok(());
            }
            continue;
        }
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        if let Err(e) = (&mut entry).take(MAX_RECORD_BYTES).read_to_end(&mut bytes) {
            if out.blocking_send(Err(refused(&name, e))).is_err() {
                return Ok(());
            }
            continue;
        }
        if !records(&name, &bytes, out) {
            return Ok(());
        }
    }
    Ok(())
}

fn read_file(path: &Path, out: &mpsc::Sender<Item>) -> Result<(), String> {
    if is_zip(path) {
        return read_zip(path, out);
    }
    let len = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if len > MAX_RECORD_BYTES {
        return Err(format!("{len} bytes, over the {MAX_RECORD_BYTES} a JSON file may have (zip large sets)"));
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    records(&path.display().to_string(), &bytes, out);
    Ok(())
}

/// Every `.json` and `.zip` file under `dir`, in name order.
fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        if e.file_type()?.is_dir() {
            walk(&path, found)?;
        } else if path.extension().is_some_and(|x| x == "json" || x == "zip") {
            found.push(path);
        }
    }
    Ok(())
}

/// Reads a local path (file, directory or zip) into `out`, on this thread.
pub(crate) fn read_path(path: &Path, out: &mpsc::Sender<Item>) -> Result<(), String> {
    if path.is_dir() {
        let mut files = Vec::new();
        walk(path, &mut files).map_err(|e| format!("{}: {e}", path.display()))?;
        for f in files {
            if let Err(e) = read_file(&f, out) {
                let _ = out.blocking_send(Err(refused(f.display(), e)));
            }
        }
        Ok(())
    } else {
        read_file(path, out).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// What a conditional download found.
pub(crate) enum Fetched {
    /// Unchanged since the validators given (HTTP 304).
    NotModified,
    /// The body, kept in a temporary file, and the new validators.
    Body { file: tempfile::NamedTempFile, etag: Option<String>, last_modified: Option<String> },
}

/// Downloads `url` into a temporary file, asking only for a change since
/// `etag` / `last_modified` when given.
pub(crate) async fn fetch(
    http: &reqwest::Client,
    url: &str,
    etag: Option<&str>,
    last_modified: Option<&str>,
) -> Result<Fetched, String> {
    use std::io::Write;
    let mut request = http.get(url);
    if let Some(e) = etag {
        request = request.header(reqwest::header::IF_NONE_MATCH, e);
    }
    if let Some(m) = last_modified {
        request = request.header(reqwest::header::IF_MODIFIED_SINCE, m);
    }
    let mut response = request.send().await.map_err(|e| format!("{url}: {e}"))?;
    if response.status() == reqwest::StatusCode::NOT_MODIFIED {
        return Ok(Fetched::NotModified);
    }
    if !response.status().is_success() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let header =
        |h| response.headers().get(h).and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok()).map(str::to_owned);
    let (etag, last_modified) = (header(reqwest::header::ETAG), header(reqwest::header::LAST_MODIFIED));
    let mut file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    let mut written = 0u64;
    while let Some(chunk) = response.chunk().await.map_err(|e| format!("{url}: {e}"))? {
        written += chunk.len() as u64;
        if written > MAX_DOWNLOAD_BYTES {
            return Err(format!("{url}: larger than {MAX_DOWNLOAD_BYTES} bytes"));
        }
        file.write_all(&chunk).map_err(|e| e.to_string())?;
    }
    Ok(Fetched::Body { file, etag, last_modified })
}
