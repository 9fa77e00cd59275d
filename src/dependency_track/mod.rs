//! Dependency-Track (`[dependency_track]`): every project's dependencies are
//! uploaded as a CycloneDX BOM (`PUT /api/v1/bom`, the project created on
//! first upload, named by its slug), and once Dependency-Track has analysed
//! them its findings and policy violations come back: open findings become
//! advisories (built from the findings, affected versions listed one by one,
//! never replacing a record an advisory database published) so they are
//! matched, notified and fixed like any other; the counts become facts.
//! `serve` syncs every `sync_hours`; `switchboard advisories dependency-track`
//! syncs once.

use std::collections::BTreeSet;

mod findings;

use findings::{About, Finding, Group, finding, group, record, record_id};
use std::time::Duration;

use anyhow::{Context, bail};
use base64::Engine as _;
use serde_json::{Value, json};
use switchboard_core::advisory::DEPENDENCY_TRACK;
use switchboard_core::config::DependencyTrackConfig;
use switchboard_core::import::purl;
use switchboard_core::model::{Project, Role};
use switchboard_core::store::ProjectQuery;
use switchboard_core::{Caller, Service};

/// Requests in flight at once.
const PARALLEL: usize = 4;
/// Findings asked for a page.
const PAGE: usize = 500;
/// Records sent to `import_advisories` a call.
const BATCH: usize = 500;
/// Where the ids of the records the last sync built are kept.
const STATE: (&str, &str) = ("dependency_track", "records");

/// What one sync did.
#[derive(Debug, Default, serde::Serialize)]
pub(crate) struct Report {
    pub projects: u64,
    pub uploaded: u64,
    pub read: u64,
    pub findings_open: u64,
    pub findings_triaged: u64,
    pub policy_violations: u64,
    pub advisories_changed: u64,
    /// Vulnerabilities an advisory database's record already covers.
    pub known_from_advisories: u64,
    pub facts_set: u64,
    pub found: u64,
    pub fixed: u64,
    /// Projects that could not be uploaded or read, with why.
    pub errors: Vec<String>,
}

impl Report {
    pub(crate) fn line(&self) -> String {
        format!(
            "Dependency-Track: {} project(s) uploaded, {} read back; {} open finding(s), {} triaged, {} policy violation(s); {} advisor(y/ies) changed ({} already known); {} vulnerabilit{} found, {} fixed; {} error(s)",
            self.uploaded,
            self.read,
            self.findings_open,
            self.findings_triaged,
            self.policy_violations,
            self.advisories_changed,
            self.known_from_advisories,
            self.found,
            if self.found == 1 { "y" } else { "ies" },
            self.fixed,
            self.errors.len()
        )
    }
}

/// The API server, with the key every call carries.
#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl Client {
    fn new(config: &DependencyTrackConfig) -> anyhow::Result<Self> {
        let base = config.url.clone().context("[dependency_track] url is not set: nothing to sync with")?;
        let key = config.api_key.clone().context("set SWITCHBOARD_DEPENDENCY_TRACK_API_KEY")?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(15))
            .timeout(Duration::from_secs(120))
            .build()
            .context("cannot build an HTTP client")?;
        Ok(Self { http, base: base.trim().trim_end_matches('/').to_owned(), key })
    }

    /// Sends `req`; `Ok(None)` for a 404 when `missing_ok`.
    async fn send(
        &self,
        req: reqwest::RequestBuilder,
        what: &str,
        missing_ok: bool,
    ) -> anyhow::Result<Option<reqwest::Response>> {
        let r = req
            .header("X-Api-Key", &self.key)
            .send()
            .await
            .with_context(|| format!("cannot reach Dependency-Track at {} to {what}", self.base))?;
        let status = r.status();
        if status.is_success() {
            return Ok(Some(r));
        }
        if status.as_u16() == 404 && missing_ok {
            return Ok(None);
        }
        let body: String = r.text().await.unwrap_or_default().chars().take(200).collect();
        match status.as_u16() {
            401 => bail!(
                "Dependency-Track refused the API key (401) to {what}: check SWITCHBOARD_DEPENDENCY_TRACK_API_KEY"
            ),
            403 => bail!(
                "Dependency-Track forbids it (403) to {what}: the key's team needs BOM_UPLOAD, PROJECT_CREATION_UPLOAD, VIEW_PORTFOLIO, VIEW_VULNERABILITY and VIEW_POLICY_VIOLATION"
            ),
            _ => bail!("Dependency-Track answered {status} to {what}: {body}"),
        }
    }

    async fn upload(&self, name: &str, version: &str, bom: &Value) -> anyhow::Result<String> {
        let encoded = base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(bom)?);
        let body = json!({"projectName": name, "projectVersion": version, "autoCreate": true, "bom": encoded});
        let req = self.http.put(format!("{}/api/v1/bom", self.base)).json(&body);
        let r = self.send(req, "upload a BOM", false).await?.context("no answer")?;
        let answer: Value = r.json().await.context("the BOM upload's answer is not JSON")?;
        answer["token"].as_str().map(str::to_owned).context("the BOM upload's answer has no token")
    }

    async fn processing(&self, token: &str) -> anyhow::Result<bool> {
        let req = self.http.get(format!("{}/api/v1/bom/token/{token}", self.base));
        match self.send(req, "ask whether a BOM is processed", true).await? {
            Some(r) => Ok(r.json::<Value>().await?["processing"] == true),
            None => Ok(false),
        }
    }

    async fn lookup(&self, name: &str, version: &str) -> anyhow::Result<Option<String>> {
        let req = self
            .http
            .get(format!("{}/api/v1/project/lookup", self.base))
            .query(&[("name", name), ("version", version)]);
        match self.send(req, "look a project up", true).await? {
            Some(r) => Ok(r.json::<Value>().await?["uuid"].as_str().map(str::to_owned)),
            None => Ok(None),
        }
    }

    /// A list the API server may page (`pageNumber`/`pageSize`); one that
    /// answers everything at once (older servers) is read once.
    async fn list(&self, path: &str, what: &str) -> anyhow::Result<Vec<Value>> {
        let mut out = Vec::new();
        for page in 1.. {
            let query = [("pageSize", PAGE.to_string()), ("pageNumber", page.to_string())];
            let req = self.http.get(format!("{}{path}", self.base)).query(&query);
            let r = self.send(req, what, false).await?.context("no answer")?;
            let total: Option<usize> = r.headers().get("x-total-count").and_then(|v| v.to_str().ok()?.parse().ok());
            let items = match r.json::<Value>().await.with_context(|| format!("the answer to {what} is not JSON"))? {
                Value::Array(items) => items,
                other => bail!(
                    "the answer to {what} is not a list: {}",
                    other.to_string().chars().take(100).collect::<String>()
                ),
            };
            let n = items.len();
            out.extend(items);
            // A short page is the last; a long one means the server does not page.
            if n != PAGE || total.is_some_and(|t| out.len() >= t) {
                break;
            }
        }
        Ok(out)
    }
}

/// The project's dependencies as a CycloneDX 1.5 BOM.
pub(crate) fn bom(project: &Project, now: i64) -> Value {
    let mut seen = BTreeSet::new();
    let components: Vec<Value> = project
        .dependencies
        .iter()
        .filter_map(|d| {
            let purl = purl::of(d.ecosystem, d.package.as_str(), d.version.as_str())?;
            seen.insert(purl.clone()).then(|| {
                json!({"type": "library", "bom-ref": purl, "name": d.package.as_str(),
                       "version": d.version.as_str(), "purl": purl})
            })
        })
        .collect();
    let at = chrono::DateTime::from_timestamp_millis(now).unwrap_or_default().to_rfc3339();
    json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "serialNumber": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "metadata": {
            "timestamp": at,
            "tools": {"components": [{"type": "application", "name": "switchboard", "version": env!("CARGO_PKG_VERSION")}]},
            "component": {"type": "application", "bom-ref": project.slug.as_str(), "name": project.slug.as_str()},
        },
        "components": components,
    })
}

/// Every project that has dependencies and is not archived.
async fn projects(service: &Service) -> anyhow::Result<Vec<Project>> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let q = ProjectQuery { limit: 1000, offset, ..Default::default() };
        let page = service.graph().find_projects(&q).await?;
        for s in &page {
            if let Some(p) = service.graph().get_project(&s.slug).await?
                && !p.archived
                && !p.dependencies.is_empty()
            {
                out.push(p);
            }
        }
        if page.len() < 1000 {
            return Ok(out);
        }
        offset += page.len();
    }
}

/// One sync: upload, wait for the analysis, read back, record.
pub(crate) async fn sync(service: &Service, progress: bool) -> anyhow::Result<Report> {
    let config = &service.config().dependency_track;
    let client = Client::new(config)?;
    let version = config.project_version.trim().to_owned();
    let caller = Caller::new("switchboard", Role::Admin, "dependency-track");
    let mut report = Report::default();
    let projects = projects(service).await?;
    report.projects = projects.len() as u64;
    let say = |s: String| {
        if progress {
            eprintln!("{s}");
        }
    };
    say(format!("Uploading {} project(s) to {}…", projects.len(), client.base));

    // Upload, a few at a time.
    let mut tokens: Vec<(usize, String)> = Vec::new();
    let now = service.now();
    let uploads = each(&projects, |p| {
        let (client, version, bom) = (client.clone(), version.clone(), bom(p, now));
        let name = p.slug.to_string();
        async move { client.upload(&name, &version, &bom).await }
    })
    .await;
    let mut uploaded = vec![false; projects.len()];
    for (i, r) in uploads.into_iter().enumerate() {
        match r {
            Ok(token) => {
                tokens.push((i, token));
                uploaded[i] = true;
            }
            Err(e) => report.errors.push(format!("{}: {e:#}", projects[i].slug)),
        }
    }
    report.uploaded = tokens.len() as u64;
    if tokens.is_empty() && !projects.is_empty() {
        bail!("no project could be uploaded: {}", report.errors.first().cloned().unwrap_or_default());
    }

    // Wait for Dependency-Track to process and analyse them.
    let deadline = std::time::Instant::now() + Duration::from_secs(u64::from(config.wait_secs));
    while !tokens.is_empty() && std::time::Instant::now() < deadline {
        let mut still = Vec::new();
        for (i, t) in tokens {
            if client.processing(&t).await.unwrap_or(true) {
                still.push((i, t));
            }
        }
        tokens = still;
        if !tokens.is_empty() {
            say(format!("Waiting for Dependency-Track to analyse {} project(s)…", tokens.len()));
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    if !tokens.is_empty() {
        say(format!(
            "{} project(s) still being analysed after {} s: their findings are read as they stand",
            tokens.len(),
            config.wait_secs
        ));
    }

    // Read back.
    let reads = each(&projects, |p| {
        let (client, version, name) = (client.clone(), version.clone(), p.slug.to_string());
        async move {
            let Some(uuid) = client.lookup(&name, &version).await? else {
                bail!("Dependency-Track has no project {name} {version}");
            };
            let findings = client.list(&format!("/api/v1/finding/project/{uuid}"), "list findings").await?;
            let violations =
                client.list(&format!("/api/v1/violation/project/{uuid}"), "list policy violations").await?;
            Ok((findings, violations))
        }
    })
    .await;
    let mut all: Vec<Finding> = Vec::new();
    let mut facts: Vec<(usize, i64, i64)> = Vec::new();
    let mut complete = true;
    for (i, r) in reads.into_iter().enumerate() {
        match r {
            Ok((findings, violations)) => {
                report.read += 1;
                let read: Vec<Finding> = findings.iter().filter_map(finding).collect();
                let open = read.iter().filter(|f| f.open).count() as i64;
                report.findings_open += open as u64;
                report.findings_triaged += (read.len() as i64 - open) as u64;
                let violations = violations.iter().filter(|v| v["analysis"]["isSuppressed"] != true).count() as i64;
                report.policy_violations += violations as u64;
                facts.push((i, open, violations));
                all.extend(read);
            }
            Err(e) => {
                complete = false;
                if uploaded[i] {
                    report.errors.push(format!("{}: {e:#}", projects[i].slug));
                }
            }
        }
    }

    // The counts as facts, set when they changed.
    for (i, open, violations) in facts {
        let p = &projects[i];
        for (key, value) in [("dependency_track_findings", open), ("dependency_track_policy_violations", violations)] {
            let now = p.facts.iter().find(|(k, _)| k.as_str() == key).map(|(_, f)| f.value.to_string());
            if now.as_deref() == Some(value.to_string().as_str()) {
                continue;
            }
            let args = json!({"project": p.slug, "key": key, "value": value});
            match service.execute_json(&caller, "set_fact", args).await {
                Ok(_) => report.facts_set += 1,
                Err(e) => report.errors.push(format!("{}: cannot set {key}: {e}", p.slug)),
            }
        }
    }

    // Open findings as advisories.
    if complete {
        records(service, &caller, &all, &mut report).await?;
    } else {
        say("Some projects could not be read: the advisories built from findings stay as the last complete sync left them".into());
    }
    Ok(report)
}

/// Builds, updates and empties the records made from findings.
async fn records(service: &Service, caller: &Caller, findings: &[Finding], report: &mut Report) -> anyhow::Result<()> {
    let now = chrono::DateTime::from_timestamp_millis(service.now()).unwrap_or_default().to_rfc3339();
    let before: BTreeSet<String> = match service.kept_state(STATE.0, STATE.1).await? {
        Some(Value::Array(ids)) => ids.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => BTreeSet::new(),
    };
    let mut made = BTreeSet::new();
    let mut out = Vec::new();
    for g in group(findings) {
        let mut ours = None;
        let mut theirs = false;
        for name in &g.names {
            for a in service.graph().find_advisories(name).await? {
                if a.source.as_deref() == Some(DEPENDENCY_TRACK) {
                    ours = Some(a);
                } else {
                    theirs = true;
                }
            }
        }
        if theirs {
            report.known_from_advisories += 1;
            continue;
        }
        let id = ours.as_ref().map(|a| a.id.clone()).unwrap_or_else(|| record_id(&g.names));
        made.insert(id.clone());
        // Unchanged content keeps its modified time, so nothing is matched again.
        if let Some(a) = &ours {
            let same_modified = chrono::DateTime::from_timestamp_millis(a.modified).unwrap_or_default().to_rfc3339();
            let again = record(&id, &g, &same_modified);
            if switchboard_core::advisory::osv::read(again).is_ok_and(|r| r.advisory == *a) {
                continue;
            }
        }
        out.push(record(&id, &g, &now));
    }
    // Records the last sync made that no open finding names any more: emptied.
    for id in before.difference(&made) {
        for a in service.graph().find_advisories(id).await? {
            if a.id == *id
                && a.source.as_deref() == Some(DEPENDENCY_TRACK)
                && !a.affected.iter().all(|p| p.versions.is_empty())
            {
                let g = Group {
                    names: a.names().map(str::to_owned).collect(),
                    about: About {
                        severity: a.severity,
                        vector: a.vector.clone(),
                        title: a.summary.clone(),
                        description: a.details.clone(),
                        references: a.references.clone(),
                        published: None,
                    },
                    ..Default::default()
                };
                let mut r = record(id, &g, &now);
                r["affected"] = json!(
                    a.affected
                        .iter()
                        .map(|p| json!({"package": {"ecosystem": p.osv_ecosystem, "name": p.name}, "versions": []}))
                        .collect::<Vec<_>>()
                );
                out.push(r);
            }
        }
    }
    for batch in out.chunks(BATCH) {
        let done = service.execute_json(caller, "import_advisories", json!({ "records": batch })).await?.to_json();
        let n = |k: &str| done[k].as_u64().unwrap_or(0);
        report.advisories_changed += n("changed");
        report.found += n("found");
        report.fixed += n("fixed");
    }
    service.keep_state(STATE.0, STATE.1, &json!(made)).await?;
    Ok(())
}

/// Runs `f` over every project, `PARALLEL` at a time (each future made
/// only when a slot is free, so a BOM exists only while it is sent); the
/// results in order.
async fn each<F, Fut, T>(projects: &[Project], f: F) -> Vec<anyhow::Result<T>>
where
    F: Fn(&Project) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    let mut out: Vec<Option<anyhow::Result<T>>> = (0..projects.len()).map(|_| None).collect();
    let mut collect = |joined: Result<(usize, anyhow::Result<T>), tokio::task::JoinError>| match joined {
        Ok((i, r)) => out[i] = Some(r),
        Err(e) => tracing::warn!(error = %e, "a Dependency-Track request task failed"),
    };
    for (i, p) in projects.iter().enumerate() {
        if set.len() >= PARALLEL
            && let Some(joined) = set.join_next().await
        {
            collect(joined);
        }
        let fut = f(p);
        set.spawn(async move { (i, fut.await) });
    }
    while let Some(joined) = set.join_next().await {
        collect(joined);
    }
    out.into_iter().map(|r| r.unwrap_or_else(|| Err(anyhow::anyhow!("the request task failed")))).collect()
}

/// `serve`: a sync at start and every `sync_hours`, by one process among
/// those on the store.
pub(crate) fn spawn_sync(service: Service) -> Option<tokio::task::JoinHandle<()>> {
    let config = service.config().dependency_track.clone();
    config.url.as_ref()?;
    Some(tokio::spawn(async move {
        let every = Duration::from_secs(u64::from(config.sync_hours.max(1)) * 3600);
        loop {
            let until = service.now() + every.as_millis() as i64 - 60_000;
            match service.claim_once("dependency_track_sync", "all", until).await {
                Ok(true) => match sync(&service, false).await {
                    Ok(report) => tracing::info!("{}", report.line()),
                    Err(e) => {
                        tracing::warn!(error = %format!("{e:#}"), "cannot sync with Dependency-Track; trying again next period")
                    }
                },
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "cannot claim the Dependency-Track sync"),
            }
            if config.sync_hours == 0 {
                return;
            }
            tokio::time::sleep(every).await;
        }
    }))
}
