//! `switchboard bench-receive`: receiving measured from outside. A `serve`
//! process of this binary (default config: access log, default limits,
//! processing on) on a generated organisation, and `wrk` — another process,
//! installed from the distribution — sending signed GitHub `push`
//! deliveries over 64 kept-alive connections. Prints as JSON what wrk
//! measured (deliveries a second, latency percentiles, errors), the server's
//! CPU per delivery, and the inbox backlog each second with the time to drain
//! it after the flood. `scripts/load-webhooks` installs wrk and runs this on
//! a release build.
//!
//! The bodies are signed ahead (wrk cannot compute an HMAC); each request
//! carries its own delivery id (the id is not signed), so none is a
//! duplicate.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};
use switchboard_core::config::Config;

use crate::bench_http::{get_once, serve_config, start_serve};
use crate::bench_webhooks::{Bodies, organisation, round1};

const SECRET: &str = "bench-receive-secret";

pub(crate) struct Options {
    pub projects: usize,
    pub repos: usize,
    pub bodies: usize,
    pub seconds: u64,
    pub connections: usize,
    pub threads: usize,
    pub wrk: PathBuf,
    pub processing: bool,
}

impl Options {
    fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.projects > 0 && self.repos > 0 && self.bodies > 0,
            "--projects, --repos and --bodies must be at least 1"
        );
        anyhow::ensure!(
            self.repos <= self.projects,
            "--repos ({}) cannot exceed --projects ({})",
            self.repos,
            self.projects
        );
        anyhow::ensure!(self.seconds > 0, "--seconds must be at least 1");
        anyhow::ensure!(
            self.threads > 0 && self.connections >= self.threads,
            "--threads must be at least 1 and --connections at least --threads"
        );
        Ok(())
    }
}

pub(crate) async fn run(o: Options) -> anyhow::Result<()> {
    o.check()?;
    let version = tokio::process::Command::new(&o.wrk).arg("-v").output().await.map_err(|e| {
        anyhow::anyhow!(
            "cannot run {} ({e}): install wrk (scripts/load-webhooks does, with apt-get) or name it with --wrk PATH",
            o.wrk.display()
        )
    })?;
    let version = String::from_utf8_lossy(&version.stdout).lines().next().unwrap_or_default().trim().to_owned();
    let dir = crate::samples::StoreDir::new(None, "bench-receive");
    std::fs::create_dir_all(&dir.path)?;
    let result = measure(&o, &dir.path, &version).await.map_err(|e| {
        // What the server said last is usually why.
        let log = std::fs::read_to_string(dir.path.join("serve.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        e.context(format!("the server's log ends:\n{}", tail.join("\n")))
    });
    println!("{}", serde_json::to_string_pretty(&result?)?);
    Ok(())
}

async fn measure(o: &Options, dir: &Path, wrk_version: &str) -> anyhow::Result<Value> {
    let data = dir.join("data");
    let mut config = Config::default();
    config.webhooks.github_secret = Some(SECRET.into());
    // The organisation is written here and the store closed; the server
    // has it to itself, and the backlog is read from its `/metrics` (as an
    // operator watching it would).
    let (counts, repos, now) = {
        let opened = crate::app::open(&config, &data).await?;
        let (counts, repos) = organisation(&opened.service, o.projects, o.repos, "bench-receive").await?;
        (counts, repos, opened.service.now())
    };
    let deliveries = dir.join("deliveries.tsv");
    write_deliveries(&deliveries, &Bodies::new(repos)?, o.bodies)?;
    let script = dir.join("push.lua");
    std::fs::write(&script, WRK_SCRIPT)?;

    let config =
        serve_config(dir, &data, &format!("[webhooks]\ngithub_secret = {SECRET:?}\nprocessing = {}\n", o.processing))?;
    let log = std::fs::File::create(dir.join("serve.log"))?;
    let mut server = start_serve(&config, None, log.into()).await?;
    let to = config.to;
    let pid = server.id().context("serve ended at once")?;

    eprintln!("bench-receive: wrk, {} connections, {} s…", o.connections, o.seconds);
    let cpu = crate::bench_http::cpu_seconds_of(pid);
    let started = Instant::now();
    let run_id = format!("{}-{now}", std::process::id());
    let mut wrk = tokio::process::Command::new(&o.wrk)
        .arg(format!("--threads={}", o.threads))
        .arg(format!("--connections={}", o.connections))
        .arg(format!("--duration={}s", o.seconds))
        .arg("--timeout=10s")
        .arg("--script")
        .arg(&script)
        .arg(format!("http://{to}"))
        .arg("--")
        .arg(&deliveries)
        .arg(&run_id)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start wrk")?;
    let stdout = wrk.stdout.take().context("wrk's output")?;
    let reading = tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        let mut out = String::new();
        let mut stdout = stdout;
        stdout.read_to_string(&mut out).await.map(|_| out)
    });
    let mut backlog = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    let status = loop {
        tokio::select! {
            status = wrk.wait() => break status?,
            _ = tick.tick() => backlog.push(pending(to).await?),
        }
    };
    let flood_seconds = started.elapsed().as_secs_f64();
    let server_cpu = crate::bench_http::cpu_seconds_of(pid) - cpu;
    let out = reading.await??;
    anyhow::ensure!(status.success(), "wrk failed ({status}): {out}");
    let measured = wrk_result(&out)?;
    // wrk's own report, for those who read it.
    eprintln!("{}", out.lines().filter(|l| !l.starts_with("WRK-RESULT ")).collect::<Vec<_>>().join("\n"));
    let left = pending(to).await?;
    let flood_end = Instant::now();
    let mut drained = None;
    while o.processing && flood_end.elapsed() < Duration::from_secs(o.seconds * 10) {
        if pending(to).await? == 0 {
            drained = Some(flood_end.elapsed().as_secs_f64());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let inbox = inbox_counts(to).await?;
    let _ = server.kill().await;
    let requests = measured["requests"].as_f64().unwrap_or(0.0);
    let duration = measured["duration_us"].as_f64().unwrap_or(1.0) / 1e6;
    let ms = |k: &str| measured[k].as_f64().map(|us| (us / 10.0).round() / 100.0);
    let errors: u64 = ERRORS.iter().map(|k| measured[k].as_u64().unwrap_or(0)).sum();
    let error_counts: serde_json::Map<String, Value> =
        ERRORS.iter().map(|k| (k.to_string(), measured[k].clone())).collect();
    Ok(json!({
        "load_generator": wrk_version,
        "projects": counts.projects,
        "dependency_edges": counts.dependencies,
        "repositories": repos,
        "processing": o.processing,
        "connections": o.connections,
        "wrk_threads": o.threads,
        "distinct_bodies": o.bodies,
        "seconds": round1(duration),
        "deliveries": requests as u64,
        "accepted_per_second": (requests / duration).round(),
        "latency_ms": {"mean": ms("mean_us"), "p50": ms("p50_us"), "p90": ms("p90_us"), "p99": ms("p99_us"), "p99.9": ms("p999_us"), "max": ms("max_us")},
        "server_latency_ms": server_latency(&dir.join("serve.log")),
        "errors": errors,
        "error_counts": error_counts,
        "server_cpu_seconds": round1(server_cpu),
        "server_cpu_us_per_delivery": if requests > 0.0 { (server_cpu * 1e6 / requests).round() } else { 0.0 },
        "backlog_each_second": backlog,
        "backlog_at_end": left,
        "drained_seconds_after_flood": drained.map(round1),
        "drain_seconds_per_flood_second": drained.map(|d| (d / flood_seconds * 100.0).round() / 100.0),
        "inbox": inbox,
        "targets": {"accepted_per_second": 30_000, "p99_ms": 10},
    }))
}

const ERRORS: [&str; 5] = ["connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"];

/// The inbox's deliveries by status, from the server's `/metrics`
/// (`switchboard_queue_items`, measured when read).
async fn inbox_counts(to: SocketAddr) -> anyhow::Result<serde_json::Map<String, Value>> {
    let (_, out) = get_once(to, "/metrics").await?;
    let counts: serde_json::Map<String, Value> = out
        .lines()
        .filter_map(|l| l.strip_prefix("switchboard_queue_items{"))
        .filter_map(|l| {
            let (labels, value) = l.split_once("} ")?;
            let status = labels.split(',').find_map(|kv| kv.strip_prefix("status=\""))?.trim_end_matches('"');
            let n = value.trim().parse::<f64>().ok()? as u64;
            labels.contains("queue=\"inbox\"").then(|| (status.to_owned(), json!(n)))
        })
        .collect();
    anyhow::ensure!(counts.contains_key("pending"), "the server's /metrics has no inbox counts:\n{out}");
    Ok(counts)
}

async fn pending(to: SocketAddr) -> anyhow::Result<u64> {
    Ok(inbox_counts(to).await?["pending"].as_u64().unwrap_or(0))
}

/// How long the server itself took over each delivery, from its access log
/// (`ms=` of each `/hooks/github` line; whole milliseconds): beside wrk's
/// numbers, which also hold the time wrk and the server waited for a core.
fn server_latency(log: &Path) -> Value {
    let log = std::fs::read_to_string(log).unwrap_or_default();
    let mut ms: Vec<u64> = log
        .lines()
        .filter(|l| l.contains("path=/hooks/github"))
        .filter_map(|l| l.rsplit_once(" ms=")?.1.split_whitespace().next()?.parse().ok())
        .collect();
    if ms.is_empty() {
        return Value::Null;
    }
    ms.sort_unstable();
    let at = |q: f64| ms[((ms.len() as f64 * q) as usize).min(ms.len() - 1)];
    json!({"requests": ms.len(), "p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "max": at(1.0)})
}

/// `n` deliveries, one a line: the signature header's value, a tab, the
/// body (compact JSON has no newline).
fn write_deliveries(path: &Path, bodies: &Bodies, n: usize) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for i in 0..n {
        let body = bodies.body(i);
        let signature = switchboard_automations::signature::hmac_hex(SECRET.as_bytes(), &body);
        write!(out, "sha256={signature}\t")?;
        out.write_all(&body)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// The line the script's `done` prints, as JSON.
fn wrk_result(out: &str) -> anyhow::Result<Value> {
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("WRK-RESULT "))
        .with_context(|| format!("wrk printed no result line:\n{out}"))?;
    Ok(serde_json::from_str(line)?)
}

/// wrk's script: loads the signed deliveries, gives each request its own
/// delivery id, prints the summary as one JSON line.
const WRK_SCRIPT: &str = r#"
local signatures, bodies = {}, {}
local counter, prefix = 0, ""
local threads = 0

function setup(thread)
  thread:set("thread_id", threads)
  threads = threads + 1
end

function init(args)
  for line in io.lines(args[1]) do
    local tab = line:find("\t", 1, true)
    signatures[#signatures + 1] = line:sub(1, tab - 1)
    bodies[#bodies + 1] = line:sub(tab + 1)
  end
  prefix = args[2] .. "-" .. thread_id .. "-"
  counter = thread_id * 7919
end

function request()
  counter = counter + 1
  local i = counter % #bodies + 1
  return wrk.format("POST", "/hooks/github", {
    ["Content-Type"] = "application/json",
    ["X-GitHub-Event"] = "push",
    ["X-GitHub-Delivery"] = prefix .. counter,
    ["X-Hub-Signature-256"] = signatures[i],
  }, bodies[i])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK-RESULT {"requests":%d,"duration_us":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
    '"status_errors":%d,"timeouts":%d,"mean_us":%.1f,"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max))
end
"#;
