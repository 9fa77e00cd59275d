//! Operating `serve` as its operator would, over real TCP against the built
//! binary: `/livez` and `/readyz` (and `healthcheck --ready`), Prometheus
//! metrics answered only to this machine or on a listener of their own, the
//! series a signed webhook and API calls move — read back through a real
//! Prometheus server scraping it (Debian's package, which scripts/test
//! installs) — the shipped alert rules checked by its `promtool`, and
//! readiness following a ClickHouse log and a Bolt graph of the test's own
//! that are killed and started again.

#[cfg(feature = "server-tests")]
use std::path::Path;
#[cfg(feature = "server-tests")]
use std::process::{Command, Stdio};
#[cfg(feature = "server-tests")]
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

use common::*;

const SECRET: &str = "operable-secret";

/// A `serve` on a fresh store (seeded by the demo generator), with a GitHub
/// webhook secret and `extra` config appended.
fn server(extra: &str) -> (Server, tempfile::TempDir, u16) {
    server_on(seeded(), extra, &[])
}

fn server_on(dir: tempfile::TempDir, extra: &str, env: &[(&str, &str)]) -> (Server, tempfile::TempDir, u16) {
    let port = free_port();
    let config = dir.path().join("switchboard.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nport = {port}\nrequire_login = false\n\n[store]\ndata_dir = {:?}\n\n[webhooks]\ngithub_secret = {SECRET:?}\n\n{extra}",
            dir.path()
        ),
    )
    .unwrap();
    let (server, _) = start_with(&["serve", "--config", config.to_str().unwrap()], port, env);
    (server, dir, port)
}

fn client() -> reqwest::Client {
    switchboard_agents::install_tls_provider();
    reqwest::Client::new()
}

async fn get(url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut req = client().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// GitHub's published `push` example, signed as GitHub signs it.
async fn push(base: &str, delivery: &str) -> u16 {
    let body =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/automations/tests/fixtures/github/push.json")).unwrap();
    let signature = format!("sha256={}", switchboard_automations::signature::hmac_hex(SECRET.as_bytes(), &body));
    client()
        .post(format!("{base}/hooks/github"))
        .header("content-type", "application/json")
        .header("x-github-event", "push")
        .header("x-github-delivery", delivery)
        .header("x-request-id", format!("req-{delivery}"))
        .header("x-hub-signature-256", signature)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The value of the exposition line for `series` (name and labels as rendered), if any.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().filter(|l| l.starts_with(name) && !l.starts_with('#')).find_map(|l| {
        let (series, value) = l.rsplit_once(' ')?;
        let rest = series.strip_prefix(name)?;
        if !(rest.is_empty() || rest.starts_with('{')) {
            return None;
        }
        labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\""))).then(|| value.parse().ok())?
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn liveness_readiness_and_metrics_on_the_main_listener() {
    let (server, _dir, port) = server("[log]\nformat = \"json\"\n");
    let base = &server.base;
    for path in ["/livez", "/healthz"] {
        let (status, body) = get(&format!("{base}{path}"), &[]).await;
        assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#), "{path}");
    }
    let (status, body) = get(&format!("{base}/readyz"), &[]).await;
    assert_eq!(status, 200, "{body}");
    let ready: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ready["status"], "ready");
    let names: Vec<&str> = ready["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["graph", "log", "inbox", "outbox"], "{ready}");
    assert!(ready["checks"].as_array().unwrap().iter().all(|c| c["ok"] == true && c["required"] == true), "{ready}");

    let out = run(&["healthcheck", "--url", &format!("{base}/livez"), "--ready"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(serde_json::from_str::<Value>(&text(&out.stdout)).unwrap()["status"], "ready");

    // Traffic the metrics should show: API reads, a page that does not exist, a signed webhook twice.
    for _ in 0..3 {
        assert_eq!(get(&format!("{base}/api/v1/projects/orders"), &[]).await.0, 200);
    }
    assert_eq!(get(&format!("{base}/no/such/page/7f3a"), &[]).await.0, 404);
    assert_eq!(push(base, "op-1").await, 202);
    assert_eq!(push(base, "op-1").await, 202, "a redelivery is answered as a duplicate");

    // The access log: a line a request at the default level, with the request's id.
    let said = server.said_by_now("req-op-1");
    let access: Vec<Value> = said
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["fields"]["message"] == "request")
        .collect();
    let hook = access.iter().find(|l| l["span"]["path"] == "/hooks/github").unwrap_or_else(|| panic!("{said}"));
    assert_eq!((hook["level"].as_str(), hook["span"]["method"].as_str()), (Some("INFO"), Some("POST")), "{hook}");
    assert_eq!((hook["span"]["request_id"].as_str(), hook["fields"]["status"].as_u64()), (Some("req-op-1"), Some(202)));
    let api = access.iter().filter(|l| l["span"]["path"] == "/api/v1/projects/orders").count();
    assert_eq!(api, 3, "{said}");

    let (status, metrics) = get(&format!("{base}/metrics"), &[]).await;
    assert_eq!(status, 200, "{metrics}");
    let api = [("route", "/api/v1/projects/{slug}"), ("method", "GET"), ("status", "200")];
    assert_eq!(sample(&metrics, "switchboard_http_requests_total", &api), Some(3.0), "{metrics}");
    assert!(
        sample(&metrics, "switchboard_http_requests_total", &[("route", "unmatched"), ("status", "404")]).is_some()
    );
    assert!(!metrics.contains("7f3a"), "a path is never a label");
    let op = [("operation", "get_project"), ("surface", "api"), ("outcome", "ok")];
    assert_eq!(sample(&metrics, "switchboard_operations_total", &op), Some(3.0), "{metrics}");
    assert!(
        sample(&metrics, "switchboard_operation_duration_seconds_bucket", &[("operation", "get_project")]).is_some()
    );
    let hooks = |result| [("source", "github"), ("result", result)];
    assert_eq!(sample(&metrics, "switchboard_webhook_deliveries_total", &hooks("accepted")), Some(1.0), "{metrics}");
    assert_eq!(sample(&metrics, "switchboard_webhook_deliveries_total", &hooks("duplicate")), Some(1.0));
    assert!(sample(&metrics, "switchboard_queue_items", &[("queue", "inbox"), ("status", "dead")]).is_some());
    assert!(sample(&metrics, "switchboard_queue_items", &[("queue", "runs"), ("status", "pending")]).is_some());
    assert!(sample(&metrics, "switchboard_queue_oldest_pending_seconds", &[("queue", "outbox")]) == Some(0.0));
    assert!(sample(&metrics, "switchboard_build_info", &[("version", env!("CARGO_PKG_VERSION"))]) == Some(1.0));

    // Only this machine reads them: a proxy's forwarded request is someone else's.
    let (status, _) = get(&format!("{base}/metrics"), &[("x-forwarded-for", "203.0.113.9")]).await;
    assert_eq!(status, 403);
    drop(server);
    let gone = run(&["healthcheck", "--url", &format!("http://127.0.0.1:{port}/livez")]);
    assert!(!gone.status.success());
}

#[cfg(feature = "server-tests")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_on_a_listener_of_their_own_and_a_real_prometheus_scrapes_them() {
    let metrics_port = free_port();
    let (server, dir, _) = server(&format!("[metrics]\nlisten = \"127.0.0.1:{metrics_port}\"\n"));
    let base = &server.base;
    assert_eq!(get(&format!("{base}/metrics"), &[]).await.0, 404, "not on the main listener then");
    let (status, text) = get(&format!("http://127.0.0.1:{metrics_port}/metrics"), &[]).await;
    assert_eq!(status, 200);
    assert!(text.contains("switchboard_build_info"), "{text}");

    let prometheus = Prometheus::start(dir.path(), metrics_port);
    let requests = r#"switchboard_http_requests_total{route="/api/v1/teams",method="GET",status="200"}"#;
    assert_eq!(get(&format!("{base}/api/v1/teams"), &[]).await.0, 200);
    let first = prometheus.wait_for(requests, |v| v >= 1.0).await;
    for _ in 0..4 {
        assert_eq!(get(&format!("{base}/api/v1/teams"), &[]).await.0, 200);
    }
    prometheus.wait_for(requests, |v| v >= first + 4.0).await;
    let up = prometheus.wait_for(r#"up{job="switchboard"}"#, |v| v == 1.0).await;
    assert_eq!(up, 1.0);
    // The series carry the job and instance Prometheus gives them, and only bounded labels.
    let series = prometheus.query("switchboard_operations_total").await;
    let labels: Vec<String> = series
        .iter()
        .flat_map(|s| s["metric"].as_object().unwrap().keys().cloned().collect::<Vec<_>>())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(labels, ["__name__", "instance", "job", "operation", "outcome", "surface"], "{series:?}");
}

/// A test server of this test's own (scripts/clickhouse or scripts/arcadedb
/// with its own state directory and ports), never the one other tests
/// share; stopped by its script when dropped.
#[cfg(feature = "server-tests")]
struct Private {
    script: &'static str,
    state: tempfile::TempDir,
    env: Vec<(&'static str, String)>,
    /// Its PID file, under the state directory.
    pid: &'static str,
}

#[cfg(feature = "server-tests")]
impl Private {
    fn script(&self, verb: &str) {
        let out = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts").join(self.script))
            .arg(verb)
            .env("SWITCHBOARD_TEST_STATE", self.state.path())
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .unwrap();
        assert!(out.status.success(), "scripts/{} {verb}: {}", self.script, text(&out.stderr));
    }

    fn start(script: &'static str, pid: &'static str, env: Vec<(&'static str, String)>) -> Self {
        let server = Self { script, state: tempfile::tempdir().unwrap(), env, pid };
        server.script("start");
        server
    }

    fn port(&self, var: &str) -> u16 {
        self.env.iter().find(|(k, _)| *k == var).unwrap().1.parse().unwrap()
    }

    /// Ends the server at once, as a crash would (its data kept, unlike the
    /// script's `stop`; a polite stop waits on open connections), and waits
    /// until it is gone.
    fn kill(&self) {
        let pid = std::fs::read_to_string(self.state.path().join(self.pid)).unwrap();
        let pid = pid.trim();
        assert!(Command::new("kill").args(["-KILL", pid]).status().unwrap().success());
        let deadline = Instant::now() + Duration::from_secs(20);
        while Command::new("kill").args(["-0", pid]).stderr(Stdio::null()).status().unwrap().success() {
            assert!(Instant::now() < deadline, "{} {pid} did not stop", self.script);
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[cfg(feature = "server-tests")]
impl Drop for Private {
    fn drop(&mut self) {
        self.script("stop");
    }
}

/// Asks `/readyz` of `server` while its dependency is killed and started
/// again: not ready naming `failing` (the rest still ok, alive all along,
/// the answer within one deadline), then ready again.
#[cfg(feature = "server-tests")]
async fn readiness_follows(server: &Server, dependency: &Private, failing: &[&str]) {
    let readyz = format!("{}/readyz", server.base);
    let (status, body) = get(&readyz, &[]).await;
    assert_eq!(status, 200, "{body}");
    dependency.kill();
    let asked = Instant::now();
    let (status, body) = get(&readyz, &[]).await;
    assert_eq!(status, 503, "{body}");
    assert!(asked.elapsed() < Duration::from_secs(6), "the checks run at once: {:?}", asked.elapsed());
    let said: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(said["status"], "not_ready");
    for check in said["checks"].as_array().unwrap() {
        let name = check["name"].as_str().unwrap();
        assert_eq!(check["ok"], !failing.contains(&name), "only what failed is named: {said}");
    }
    assert_eq!(get(&format!("{}/livez", server.base), &[]).await.0, 200, "alive all the same");
    let out = run(&["healthcheck", "--url", &format!("{}/livez", server.base), "--ready"]);
    assert!(!out.status.success());
    assert!(text(&out.stdout).contains("not_ready"), "{}", text(&out.stdout));

    dependency.script("start");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = get(&readyz, &[]).await;
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "not ready again after {} returned: {body}", dependency.script);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[cfg(feature = "server-tests")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_a_bolt_graph_that_stops_and_returns() {
    // Its virtualenv is the shared server's (scripts/test installs it first).
    let shared = std::env::var("SWITCHBOARD_TEST_STATE")
        .unwrap_or_else(|_| std::env::temp_dir().join("switchboard-test-servers").display().to_string());
    let env = vec![
        ("SWITCHBOARD_TEST_ARCADEDB_HTTP_PORT", free_port().to_string()),
        ("SWITCHBOARD_TEST_BOLT_PORT", free_port().to_string()),
        ("SWITCHBOARD_TEST_ARCADEDB_VENV", format!("{shared}/arcadedb/venv")),
    ];
    let graph = Private::start("arcadedb", "arcadedb/server.pid", env);
    let (http, bolt) = (graph.port("SWITCHBOARD_TEST_ARCADEDB_HTTP_PORT"), graph.port("SWITCHBOARD_TEST_BOLT_PORT"));
    let password = std::env::var("SWITCHBOARD_TEST_BOLT_PASSWORD").unwrap_or_else(|_| "switchboard-test".into());
    let extra = format!(
        "[store.neo4j]\nuri = \"bolt://127.0.0.1:{bolt}\"\nuser = \"root\"\npassword = {password:?}\ndatabase = \"switchboard\"\nfulltext = \"arcadedb\"\narcadedb_http_url = \"http://127.0.0.1:{http}\"\n"
    );
    let (server, _dir, _) = server_on(tempfile::tempdir().unwrap(), &extra, &[("SWITCHBOARD_STORE__GRAPH", "neo4j")]);
    // The inbox and outbox live on the graph server too.
    readiness_follows(&server, &graph, &["graph", "inbox", "outbox"]).await;
}

#[cfg(feature = "server-tests")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_a_clickhouse_log_that_stops_and_returns() {
    let env = vec![
        ("SWITCHBOARD_TEST_CLICKHOUSE_HTTP_PORT", free_port().to_string()),
        ("SWITCHBOARD_TEST_CLICKHOUSE_TCP_PORT", free_port().to_string()),
    ];
    let ch = Private::start("clickhouse", "clickhouse/server.pid", env);
    let url = format!("http://127.0.0.1:{}", ch.port("SWITCHBOARD_TEST_CLICKHOUSE_HTTP_PORT"));
    let extra = format!("[store.clickhouse]\nurl = {url:?}\ndatabase = \"readiness\"\n");
    let (server, _dir, _) =
        server_on(tempfile::tempdir().unwrap(), &extra, &[("SWITCHBOARD_STORE__LOG", "clickhouse")]);
    readiness_follows(&server, &ch, &["log"]).await;
}

#[cfg(feature = "server-tests")]
#[test]
fn the_shipped_alert_rules_are_valid() {
    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/prometheus/alerts.yml");
    let out = Command::new("promtool")
        .args(["check", "rules", rules])
        .output()
        .expect("promtool (Debian's prometheus package; scripts/prometheus install)");
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("SUCCESS: 10 rules found"), "{}", text(&out.stdout));
}

#[cfg(feature = "server-tests")]
/// A Prometheus server of this test's own, scraping `target_port` every
/// second; ended (by its PID) when dropped.
struct Prometheus {
    child: std::process::Child,
    api: String,
}

#[cfg(feature = "server-tests")]
impl Prometheus {
    fn start(dir: &std::path::Path, target_port: u16) -> Self {
        let port = free_port();
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: switchboard\n    static_configs:\n      - targets: ['127.0.0.1:{target_port}']\n"
            ),
        )
        .unwrap();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("tsdb").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus (Debian's package; scripts/prometheus install)");
        Self { child, api: format!("http://127.0.0.1:{port}/api/v1") }
    }

    async fn query(&self, q: &str) -> Vec<Value> {
        let Ok(resp) = client().get(format!("{}/query", self.api)).query(&[("query", q)]).send().await else {
            return Vec::new();
        };
        let v: Value = resp.json().await.unwrap_or_default();
        v["data"]["result"].as_array().cloned().unwrap_or_default()
    }

    /// The value of `q` once `until` holds for it (within 30 s).
    async fn wait_for(&self, q: &str, until: impl Fn(f64) -> bool) -> f64 {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let found = self.query(q).await;
            let value = found.first().and_then(|s| s["value"][1].as_str()).and_then(|v| v.parse::<f64>().ok());
            if let Some(v) = value.filter(|v| until(*v)) {
                return v;
            }
            assert!(Instant::now() < deadline, "Prometheus never saw {q} as wanted; last: {found:?}");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
}

#[cfg(feature = "server-tests")]
impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
