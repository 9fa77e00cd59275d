//! `switchboard bench-attack`: the attacks an outside test ran on `serve`,
//! each for a few seconds against a real `serve` process (this binary, on
//! loopback, a fresh store), while a prober from another address measures
//! how long health, the API and a signed webhook take. Prints one JSON
//! object: for each attack, what it sent and the probes' latencies — the
//! target is health answered within 100 ms under every attack.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::bench_http::{serve_config, start_serve, this_binary};
use crate::samples::Samples;

const SECRET: &str = "attack-bench-secret";

/// What `bench-attack` was asked.
pub struct Options {
    /// Seconds each attack lasts.
    pub seconds: u64,
    /// Attacking connections at once.
    pub concurrency: usize,
}

/// A connection from 127.0.0.`n`: the attacker and the prober are different clients.
async fn connect_from(n: u8, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from(([127, 0, 0, n], 0)))?;
    let stream = socket.connect(to).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Sends one request on a new connection and reads the whole answer; the status.
async fn once(from: u8, to: SocketAddr, request: &[u8]) -> std::io::Result<u16> {
    let mut s = connect_from(from, to).await?;
    s.write_all(request).await?;
    let mut got = Vec::with_capacity(1024);
    let _ = tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut got)).await;
    Ok(std::str::from_utf8(got.get(9..12).unwrap_or_default()).ok().and_then(|c| c.parse().ok()).unwrap_or(0))
}

fn get(path: &str, extra: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{extra}\r\n").into_bytes()
}

fn post(path: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

/// The prober: health and a signed webhook every 25 ms, and an API read
/// with a token every eighth round (about four a second, under the default
/// `limits.api_per_minute`: the prober is a monitor, not an attacker), each
/// on a fresh connection from 127.0.0.1. Failures are counted by probe and
/// status (0: no answer).
async fn probe(to: SocketAddr, token: String, stop: Arc<AtomicBool>) -> Value {
    let (mut health, mut api, mut hook) = (Vec::new(), Vec::new(), Vec::new());
    let mut failures = std::collections::BTreeMap::<String, u64>::new();
    let mut failed = |what: &str, status: std::io::Result<u16>| {
        *failures.entry(format!("{what} {}", status.unwrap_or(0))).or_default() += 1;
    };
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let t = Instant::now();
        match once(1, to, &get("/healthz", "")).await {
            Ok(200) => health.push(t.elapsed()),
            other => failed("health", other),
        }
        if i % 8 == 1 {
            let t = Instant::now();
            match once(1, to, &get("/api/v1/teams", &format!("Authorization: Bearer {token}\r\n"))).await {
                Ok(200) => api.push(t.elapsed()),
                other => failed("api", other),
            }
        }
        let body = format!("{{\"zen\": \"probe {i}\", \"hook_id\": {i}}}").into_bytes();
        let sig = switchboard_automations::signature::hmac_hex(SECRET.as_bytes(), &body);
        let headers = format!(
            "X-GitHub-Event: ping\r\nX-GitHub-Delivery: probe-{i}-{}\r\nX-Hub-Signature-256: sha256={sig}\r\n",
            std::process::id()
        );
        let t = Instant::now();
        match once(1, to, &post("/hooks/github", &headers, &body)).await {
            Ok(202) => hook.push(t.elapsed()),
            other => failed("signed_webhook", other),
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    json!({"health": Samples(health).json(), "api": Samples(api).json(), "signed_webhook": Samples(hook).json(),
           "probe_failures": failures})
}

/// An attack that sends `request` on new connections again and again, from
/// 50 addresses.
fn repeating(
    to: SocketAddr,
    request: Arc<Vec<u8>>,
) -> impl Fn(usize, Arc<AtomicBool>, Arc<AtomicU64>) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
{
    move |n, stop, sent| {
        let request = request.clone();
        Box::pin(async move {
            while !stop.load(Ordering::Relaxed) {
                let _ = once(2 + (n % 50) as u8, to, &request).await;
                sent.fetch_add(1, Ordering::Relaxed);
            }
        })
    }
}

/// Runs `attack` for the configured time beside the prober.
async fn under<F, Fut>(name: &str, to: SocketAddr, token: &str, options: &Options, attack: F) -> Value
where
    F: Fn(usize, Arc<AtomicBool>, Arc<AtomicU64>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    eprintln!("bench-attack: {name}");
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let attackers: Vec<_> =
        (0..options.concurrency).map(|n| tokio::spawn(attack(n, stop.clone(), sent.clone()))).collect();
    // Let the attack build up before measuring.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let prober = tokio::spawn(probe(to, token.to_owned(), stop.clone()));
    tokio::time::sleep(Duration::from_secs(options.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let probes = prober.await.unwrap_or(Value::Null);
    for a in attackers {
        a.abort();
    }
    // The server's own timeouts end what the attackers left open.
    tokio::time::sleep(Duration::from_millis(300)).await;
    json!({"attack": name, "requests_or_connections": sent.load(Ordering::Relaxed), "probes": probes})
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("switchboard-attack-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = measure(&dir, &options).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn measure(dir: &Path, options: &Options) -> anyhow::Result<()> {
    let config = serve_config(
        dir,
        &dir.join("data"),
        &format!(
            "[webhooks]\ngithub_secret = {SECRET:?}\npagerduty_secrets = [{SECRET:?}]\n\n[slack]\nsigning_secret = {SECRET:?}\n"
        ),
    )?;
    let cfg = config.path.to_str().context("a temporary path that is text")?;
    let token = token(cfg).await?;
    set_password(cfg).await?;
    let mut server = start_serve(&config, Some("error"), Stdio::null()).await?;
    let to = config.to;
    let results = attacks(to, &token, options).await;
    let _ = server.kill().await;
    let ok = results.iter().all(|r| {
        let probes = &r["probes"];
        let unanswered =
            probes["probe_failures"].as_object().is_some_and(|f| f.keys().any(|k| k.starts_with("health")));
        probes["health"]["p99_ms"].as_f64().is_some_and(|p| p < 100.0) && !unanswered
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "seconds_per_attack": options.seconds,
            "attacking_connections": options.concurrency,
            "attacks": results,
            "target": {"health_p99_ms_under_each_attack": 100, "health_always_answered": true},
            "met": ok,
        }))?
    );
    Ok(())
}

async fn attacks(to: SocketAddr, token: &str, options: &Options) -> Vec<Value> {
    let mut results = vec![under("none (baseline)", to, token, options, |_, _, _| async {}).await];

    // 1. A PagerDuty signature header of 30,000 empty entries over a 1 MB body.
    let flood = Arc::new(post(
        "/hooks/pagerduty",
        &format!("X-PagerDuty-Signature: {}\r\n", vec!["v1="; 30_000].join(",")),
        &vec![b' '; 1024 * 1024 - 1024],
    ));
    results.push(
        under("pagerduty signature flood (30,000 entries, 1 MB body)", to, token, options, repeating(to, flood)).await,
    );

    // 2. Large bodies with wrong GitHub signatures (each MAC on the CPU pool).
    let big = Arc::new(post(
        "/hooks/github",
        &format!("X-GitHub-Event: push\r\nX-GitHub-Delivery: x\r\nX-Hub-Signature-256: sha256={}\r\n", "0".repeat(64)),
        &vec![b' '; 1000 * 1000],
    ));
    results.push(under("badly signed 1 MB webhooks", to, token, options, repeating(to, big)).await);

    // 3. Password guessing (argon2 on the CPU pool, throttled).
    results.push(
        under("sign-in guessing", to, token, options, move |n, stop, sent| async move {
            let jar = "sb_csrf=0123456789abcdef0123456789abcdef";
            while !stop.load(Ordering::Relaxed) {
                let body = format!("csrf=0123456789abcdef0123456789abcdef&user=admin&password=guess-{n}");
                let head = format!(
                    "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nCookie: {jar}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                let _ = once(2 + (n % 50) as u8, to, head.as_bytes()).await;
                sent.fetch_add(1, Ordering::Relaxed);
            }
        })
        .await,
    );

    // 4. Idle connections: opened, never spoken on, reopened when closed.
    results.push(
        under("idle connections", to, token, options, move |n, stop, sent| async move {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(mut s) = connect_from(2 + (n % 4) as u8, to).await {
                    sent.fetch_add(1, Ordering::Relaxed);
                    let mut buf = [0u8; 64];
                    let _ = tokio::time::timeout(Duration::from_secs(60), s.read(&mut buf)).await;
                } else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        })
        .await,
    );

    // 5. Slowloris: headers a line every second, never finished.
    results.push(
        under("slowloris headers", to, token, options, move |n, stop, sent| async move {
            while !stop.load(Ordering::Relaxed) {
                let Ok(mut s) = connect_from(2 + (n % 4) as u8, to).await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                sent.fetch_add(1, Ordering::Relaxed);
                if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.is_err() {
                    continue;
                }
                while !stop.load(Ordering::Relaxed) && s.write_all(b"X-Slow: 1\r\n").await.is_ok() {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        })
        .await,
    );

    // 6. Stalled bodies on every receiver.
    results.push(
        under("stalled bodies (webhooks, Slack, API)", to, token, options, move |n, stop, sent| async move {
            let paths = ["/hooks/github", "/hooks/pagerduty", "/slack/events", "/api/v1/ops/list_teams"];
            while !stop.load(Ordering::Relaxed) {
                let Ok(mut s) = connect_from(2 + (n % 4) as u8, to).await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                sent.fetch_add(1, Ordering::Relaxed);
                let head = format!(
                    "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{\"a\":",
                    paths[n % paths.len()]
                );
                let _ = s.write_all(head.as_bytes()).await;
                let mut buf = Vec::new();
                let _ = tokio::time::timeout(Duration::from_secs(60), s.read_to_end(&mut buf)).await;
            }
        })
        .await,
    );

    // 7. Guessed API tokens.
    results.push(
        under("guessed API tokens", to, token, options, move |n, stop, sent| async move {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let _ = once(
                    2 + (n % 50) as u8,
                    to,
                    &get("/api/v1/teams", &format!("Authorization: Bearer sb_guess{n}x{i}\r\n")),
                )
                .await;
                sent.fetch_add(1, Ordering::Relaxed);
            }
        })
        .await,
    );
    results
}

/// A viewer token for the prober, made with this binary's own CLI.
async fn token(config: &str) -> anyhow::Result<String> {
    let out = this_binary()?
        .args(["token", "create", "--user", "prober", "--role", "viewer", "--config", config])
        .output()
        .await?;
    anyhow::ensure!(out.status.success(), "token create: {}", String::from_utf8_lossy(&out.stderr));
    Ok(String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().to_owned())
}

/// A password for `admin`, the sign-in guessing's target.
async fn set_password(config: &str) -> anyhow::Result<()> {
    let mut child = this_binary()?
        .args(["user", "set-password", "--user", "admin", "--role", "admin", "--config", config])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(b"a long and secret passphrase\n").await?;
    }
    anyhow::ensure!(child.wait().await?.success(), "user set-password failed");
    Ok(())
}
