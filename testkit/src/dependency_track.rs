//! A fake Dependency-Track API server on loopback, answering with the shapes
//! its API server gives (testkit/fixtures/dependency-track/SOURCES.md): BOM
//! uploads create the project and remember its components; the findings it
//! lists are the vendored real findings whose component (by purl) the
//! project's last BOM holds; each open critical finding is also a policy
//! violation. Every call needs the `X-Api-Key` it was started with.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use base64::Engine as _;
use serde_json::{Value, json};

const FIXTURES: [&str; 4] = [
    include_str!("../fixtures/dependency-track/with_state_fp_na_resolved.json"),
    include_str!("../fixtures/dependency-track/deptrack_npm_4.14.1.json"),
    include_str!("../fixtures/dependency-track/one_finding_with_analysis_detail.json"),
    include_str!("../fixtures/dependency-track/dependency_track_4.10_2024_02_11.json"),
];

/// Every vendored finding, each (component purl, vulnerability uuid) once.
pub fn vendored_findings() -> Vec<Value> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for text in FIXTURES {
        let export: Value = serde_json::from_str(text).expect("the vendored exports are JSON");
        for f in export["findings"].as_array().into_iter().flatten() {
            let key = (f["component"]["purl"].to_string(), f["vulnerability"]["uuid"].to_string());
            if seen.insert(key) {
                out.push(f.clone());
            }
        }
    }
    out
}

#[derive(Clone, Debug)]
pub struct Upload {
    pub project_name: String,
    pub project_version: String,
    pub auto_create: bool,
    /// The CycloneDX document, decoded.
    pub bom: Value,
}

struct DtProject {
    uuid: String,
    purls: BTreeSet<String>,
}

struct Inner {
    key: String,
    findings: Mutex<Vec<Value>>,
    projects: Mutex<BTreeMap<(String, String), DtProject>>,
    /// Token → polls still answered "processing".
    tokens: Mutex<HashMap<String, u32>>,
    uploads: Mutex<Vec<Upload>>,
    counter: Mutex<u64>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub struct FakeDependencyTrack {
    pub url: String,
    inner: Arc<Inner>,
}

impl FakeDependencyTrack {
    pub async fn start(api_key: &str) -> std::io::Result<Self> {
        let inner = Arc::new(Inner {
            key: api_key.to_owned(),
            findings: Mutex::new(vendored_findings()),
            projects: Mutex::default(),
            tokens: Mutex::default(),
            uploads: Mutex::default(),
            counter: Mutex::new(0),
        });
        let app = Router::new()
            .route("/api/v1/bom", put(upload))
            .route("/api/v1/bom/token/{token}", get(token))
            .route("/api/v1/project/lookup", get(lookup))
            .route("/api/v1/finding/project/{uuid}", get(findings))
            .route("/api/v1/violation/project/{uuid}", get(violations))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { url, inner })
    }

    /// The BOMs uploaded so far, in order.
    pub fn uploads(&self) -> Vec<Upload> {
        lock(&self.inner.uploads).clone()
    }

    /// Someone triages a finding in Dependency-Track: suppressed from now on.
    pub fn suppress(&self, purl: &str, vuln_id: &str) {
        for f in lock(&self.inner.findings).iter_mut() {
            if f["component"]["purl"] == purl && f["vulnerability"]["vulnId"] == vuln_id {
                f["analysis"]["isSuppressed"] = json!(true);
                f["analysis"]["state"] = json!("NOT_AFFECTED");
            }
        }
    }
}

fn refused(inner: &Inner, headers: &HeaderMap) -> Option<Response> {
    let given = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    (given != Some(inner.key.as_str())).then(|| (StatusCode::UNAUTHORIZED, "Unauthorized").into_response())
}

async fn upload(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: String) -> Response {
    if let Some(r) = refused(&inner, &headers) {
        return r;
    }
    let Ok(req) = serde_json::from_str::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "Unable to process JSON").into_response();
    };
    let text = |k: &str| req[k].as_str().unwrap_or_default().to_owned();
    let (name, version, auto_create) = (text("projectName"), text("projectVersion"), req["autoCreate"] == true);
    let bom = req["bom"]
        .as_str()
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
    let Some(bom) = bom.filter(|b| b["bomFormat"] == "CycloneDX") else {
        return (StatusCode::BAD_REQUEST, "The uploaded BOM is invalid").into_response();
    };
    let mut projects = lock(&inner.projects);
    let key = (name.clone(), version.clone());
    if !projects.contains_key(&key) && !auto_create {
        return (StatusCode::NOT_FOUND, "The project could not be found.").into_response();
    }
    let mut n = lock(&inner.counter);
    *n += 1;
    let uuid = format!("00000000-0000-4000-8000-{:012x}", *n);
    let purls =
        bom["components"].as_array().into_iter().flatten().filter_map(|c| c["purl"].as_str()).map(str::to_owned);
    let project = projects.entry(key).or_insert_with(|| DtProject { uuid: uuid.clone(), purls: BTreeSet::new() });
    project.purls = purls.collect();
    let token = format!("00000000-0000-4000-9000-{:012x}", *n);
    lock(&inner.tokens).insert(token.clone(), 1);
    lock(&inner.uploads).push(Upload { project_name: name, project_version: version, auto_create, bom });
    axum::Json(json!({ "token": token })).into_response()
}

async fn token(State(inner): State<Arc<Inner>>, headers: HeaderMap, Path(token): Path<String>) -> Response {
    if let Some(r) = refused(&inner, &headers) {
        return r;
    }
    let mut tokens = lock(&inner.tokens);
    let processing = match tokens.get_mut(&token) {
        Some(n) if *n > 0 => {
            *n -= 1;
            true
        }
        _ => false,
    };
    axum::Json(json!({ "processing": processing })).into_response()
}

async fn lookup(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(r) = refused(&inner, &headers) {
        return r;
    }
    let key = (q.get("name").cloned().unwrap_or_default(), q.get("version").cloned().unwrap_or_default());
    match lock(&inner.projects).get(&key) {
        Some(p) => axum::Json(json!({
            "name": key.0, "version": key.1, "uuid": p.uuid, "active": true, "classifier": "APPLICATION",
            "isLatest": false, "tags": [],
        }))
        .into_response(),
        None => (StatusCode::NOT_FOUND, "The project could not be found.").into_response(),
    }
}

/// The project's findings, or `None` when it does not exist.
fn project_findings(inner: &Inner, uuid: &str) -> Option<(String, String, Vec<Value>)> {
    let projects = lock(&inner.projects);
    let ((name, version), p) = projects.iter().find(|(_, p)| p.uuid == uuid)?;
    let list = lock(&inner.findings)
        .iter()
        .filter(|f| f["component"]["purl"].as_str().is_some_and(|purl| p.purls.contains(purl)))
        .map(|f| {
            let mut f = f.clone();
            f["component"]["project"] = json!(uuid);
            f
        })
        .collect();
    Some((name.clone(), version.clone(), list))
}

async fn findings(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(r) = refused(&inner, &headers) {
        return r;
    }
    let Some((_, _, mut list)) = project_findings(&inner, &uuid) else {
        return (StatusCode::NOT_FOUND, "The project could not be found.").into_response();
    };
    if q.get("suppressed").map(String::as_str) != Some("true") {
        list.retain(|f| f["analysis"]["isSuppressed"] != true);
    }
    let total = list.len();
    // Paged as the API server pages (`pageNumber` from 1) when asked.
    if let Some(size) = q.get("pageSize").and_then(|s| s.parse::<usize>().ok()).filter(|s| *s > 0) {
        let page = q.get("pageNumber").and_then(|s| s.parse::<usize>().ok()).unwrap_or(1).max(1);
        list = list.into_iter().skip((page - 1) * size).take(size).collect();
    }
    ([("X-Total-Count", total.to_string())], axum::Json(Value::Array(list))).into_response()
}

async fn violations(State(inner): State<Arc<Inner>>, headers: HeaderMap, Path(uuid): Path<String>) -> Response {
    if let Some(r) = refused(&inner, &headers) {
        return r;
    }
    let Some((name, version, list)) = project_findings(&inner, &uuid) else {
        return (StatusCode::NOT_FOUND, "The project could not be found.").into_response();
    };
    let critical =
        list.iter().filter(|f| f["vulnerability"]["severity"] == "CRITICAL" && f["analysis"]["isSuppressed"] != true);
    let out: Vec<Value> = critical
        .enumerate()
        .map(|(i, f)| {
            let c = &f["component"];
            json!({
                "type": "SECURITY",
                "uuid": format!("00000000-0000-4000-a000-{i:012x}"),
                "timestamp": 1_765_000_000_000_i64,
                "component": {"uuid": c["uuid"], "name": c["name"], "version": c["version"], "purl": c["purl"]},
                "project": {"uuid": uuid, "name": name, "version": version},
                "policyCondition": {
                    "uuid": "00000000-0000-4000-b000-000000000001",
                    "subject": "SEVERITY", "operator": "IS", "value": "CRITICAL",
                    "policy": {"uuid": "00000000-0000-4000-b000-000000000002",
                               "name": "No critical vulnerabilities", "violationState": "FAIL"},
                },
                "analysis": {"analysisState": "NOT_SET", "isSuppressed": false},
            })
        })
        .collect();
    ([("X-Total-Count", out.len().to_string())], axum::Json(Value::Array(out))).into_response()
}
