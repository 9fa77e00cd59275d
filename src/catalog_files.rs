//! Reading Backstage catalog files for `switchboard import backstage`: each
//! path or URL given, and every `Location` target they name (relative to the
//! file that names it; `http(s)` URLs fetched), once each however the
//! locations loop. A file that cannot be read or parsed is reported and the
//! rest still import.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;
use switchboard_core::import::backstage;

/// The largest catalog file read.
const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

/// Where a catalog file is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    File(PathBuf),
    Url(String),
}

impl Source {
    fn parse(text: &str) -> Self {
        if text.starts_with("http://") || text.starts_with("https://") {
            Self::Url(text.to_owned())
        } else {
            Self::File(PathBuf::from(text.strip_prefix("file:").unwrap_or(text)))
        }
    }

    /// `target` as written in a Location of this file.
    fn join(&self, target: &str) -> Result<Self, String> {
        let target = target.trim();
        if target.starts_with("http://") || target.starts_with("https://") {
            return Ok(Self::Url(target.to_owned()));
        }
        match self {
            Self::File(path) => {
                let dir = path.parent().map(PathBuf::from).unwrap_or_default();
                Ok(Self::File(dir.join(target.strip_prefix("./").unwrap_or(target))))
            }
            Self::Url(base) => reqwest::Url::parse(base)
                .and_then(|b| b.join(target))
                .map(|u| Self::Url(u.to_string()))
                .map_err(|e| format!("{target} from {base}: {e}")),
        }
    }

    fn label(&self) -> String {
        match self {
            Self::File(p) => p.display().to_string(),
            Self::Url(u) => u.clone(),
        }
    }

    /// The same file however it was reached (`a/../b.yaml` and `b.yaml`).
    fn key(&self) -> Self {
        match self {
            Self::File(p) => Self::File(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())),
            Self::Url(u) => Self::Url(u.clone()),
        }
    }

    async fn read(&self, http: &reqwest::Client) -> Result<String, String> {
        let bytes = match self {
            Self::File(p) => {
                let len = std::fs::metadata(p).map_err(|e| e.to_string())?.len();
                if len > MAX_FILE_BYTES as u64 {
                    return Err(format!("{len} bytes, over the {MAX_FILE_BYTES} read"));
                }
                std::fs::read(p).map_err(|e| e.to_string())?
            }
            Self::Url(u) => {
                let resp = http.get(u).send().await.map_err(|e| e.to_string())?;
                if !resp.status().is_success() {
                    return Err(format!("HTTP {}", resp.status()));
                }
                let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
                if bytes.len() > MAX_FILE_BYTES {
                    return Err(format!("{} bytes, over the {MAX_FILE_BYTES} read", bytes.len()));
                }
                bytes.to_vec()
            }
        };
        String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned())
    }
}

/// What was read: the entities (Locations followed, not kept), the files
/// read, and each problem with its file.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    pub entities: Vec<Value>,
    pub files: usize,
    pub problems: Vec<String>,
}

pub(crate) async fn load(roots: &[String]) -> Loaded {
    let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build().unwrap_or_default();
    let mut out = Loaded::default();
    let mut seen = BTreeSet::new();
    let mut queue: Vec<Source> = roots.iter().rev().map(|r| Source::parse(r)).collect();
    while let Some(source) = queue.pop() {
        if !seen.insert(source.key()) {
            continue;
        }
        let text = match source.read(&http).await {
            Ok(t) => t,
            Err(e) => {
                out.problems.push(format!("{}: cannot read it: {e}", source.label()));
                continue;
            }
        };
        out.files += 1;
        let docs = match backstage::documents(&text) {
            Ok(d) => d,
            Err(e) => {
                out.problems.push(format!("{}: not a catalog file: {e}", source.label()));
                continue;
            }
        };
        let mut next = Vec::new();
        for mut doc in docs {
            if !doc.is_object() {
                out.problems.push(format!("{}: a document that is not an entity was left out", source.label()));
                continue;
            }
            for target in backstage::locations(&doc) {
                match source.join(&target) {
                    Ok(s) => next.push(s),
                    Err(e) => out.problems.push(format!("{}: {e}", source.label())),
                }
            }
            if doc["kind"] == "Location" {
                continue;
            }
            let annotations = &mut doc["metadata"]["annotations"];
            if annotations["backstage.io/managed-by-location"].is_null()
                && (annotations.is_object() || annotations.is_null())
            {
                let prefix = if matches!(source, Source::Url(_)) { "url" } else { "file" };
                annotations["backstage.io/managed-by-location"] = Value::String(format!("{prefix}:{}", source.label()));
            }
            out.entities.push(doc);
        }
        queue.extend(next.into_iter().rev());
    }
    out
}
