//! `switchboard bench-webhooks`: webhook processing on the embedded store.
//! Signed GitHub `push` deliveries (the real payload GitHub documents, one
//! repository of many each) are processed by the rules as `serve` does
//! (`set_fact` and the repository's refresh check, events appended). Prints
//! as JSON:
//!
//! - `drain`: a backlog of N deliveries already in the inbox processed from
//!   nothing: deliveries a second, CPU per delivery, outcomes;
//! - `flood_at_rate`: deliveries sent over HTTP at a steady rate for some
//!   seconds while processing runs: the backlog each second (it must not
//!   grow), and how long after the flood it is empty;
//! - `flood_full`: the same as fast as 64 senders can send: the rate
//!   accepted, the backlog left, and how long it takes to drain compared with
//!   the flood's length.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchboard_automations::{Hooks, Processor, RuleSet};
use switchboard_core::config::Config;
use switchboard_core::inbox::{DeliveryStatus, Inbox, NewDelivery};
use switchboard_core::model::Role;
use switchboard_core::{Caller, Service};

use crate::bench_http::{RawHttp, process_cpu_seconds, spawn_server};
use crate::samples::Samples;

const SECRET: &str = "bench-webhook-secret";
/// Connections sending at once (as `wrk -c 64`).
const SENDERS: usize = 64;

pub(crate) struct Options {
    pub projects: usize,
    pub repos: usize,
    pub deliveries: usize,
    pub seconds: u64,
    pub rate: usize,
    pub concurrency: Option<usize>,
}

pub(crate) async fn run(o: Options) -> anyhow::Result<()> {
    anyhow::ensure!(
        o.projects > 0 && o.repos > 0 && o.deliveries > 0,
        "--projects, --repos and --deliveries must be at least 1"
    );
    anyhow::ensure!(o.seconds > 0 && o.rate > 0, "--seconds and --rate must be at least 1");
    anyhow::ensure!(o.concurrency.is_none_or(|c| (1..=1024).contains(&c)), "--concurrency must be between 1 and 1024");
    anyhow::ensure!(o.repos <= o.projects, "--repos ({}) cannot exceed --projects ({})", o.repos, o.projects);
    let dir = std::env::temp_dir().join(format!("switchboard-bench-webhooks-{}", std::process::id()));
    let result = measure(&o, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    println!("{}", serde_json::to_string_pretty(&result?)?);
    Ok(())
}

async fn measure(o: &Options, dir: &std::path::Path) -> anyhow::Result<Value> {
    let mut config = Config::default();
    config.webhooks.github_secret = Some(SECRET.into());
    if let Some(c) = o.concurrency {
        config.webhooks.processing_concurrency = c;
    }
    let opened = crate::app::open(&config, dir).await?;
    let service = opened.service.clone();
    let (counts, repos) = organisation(&service, o.projects, o.repos, "bench-webhooks").await?;
    let hooks = Hooks::new(service.clone(), opened.inbox.clone());
    let rules = Arc::new(RuleSet::load(service.config())?);
    let processor = Processor::new(hooks.clone(), crate::app::mapper(&rules, &service));
    let bodies = Arc::new(Bodies::new(repos)?);

    eprintln!("bench-webhooks: processing a backlog of {} deliveries…", o.deliveries);
    let drain = drain(&service, &opened.inbox, &processor, &bodies, o.deliveries).await?;
    let at_rate_total = o.rate * o.seconds as usize;
    eprintln!("bench-webhooks: {at_rate_total} deliveries at {}/s while processing…", o.rate);
    let at_rate =
        flood(&service, &hooks, &processor, &bodies, Flood { rate: Some(o.rate), seconds: o.seconds }).await?;
    eprintln!("bench-webhooks: {}s of deliveries as fast as they are accepted while processing…", o.seconds);
    let full = flood(&service, &hooks, &processor, &bodies, Flood { rate: None, seconds: o.seconds }).await?;
    Ok(json!({
        "projects": counts.projects,
        "dependency_edges": counts.dependencies,
        "repositories": repos,
        "processing_concurrency": service.config().webhooks.processing_concurrency,
        "drain": drain,
        "flood_at_rate": at_rate,
        "flood_full": full,
        "targets": {"processed_per_second": 10_000, "backlog_growth_at_10000_per_second": 0, "drain_seconds_per_flood_second": 2.0},
    }))
}

/// The generated organisation the pushes go to: `projects` projects, the
/// first `repos` of them each linked to a GitHub repository
/// (`bench-org/repo-N`). Returns the store's counts and the repositories
/// linked.
pub(crate) async fn organisation(
    service: &Service,
    projects: usize,
    repos: usize,
    name: &str,
) -> anyhow::Result<(switchboard_core::store::Counts, usize)> {
    eprintln!("{name}: generating {projects} projects…");
    crate::seed::seed(service, projects, true).await?;
    let counts = service.graph().counts().await?;
    let admin = Caller::new("bench", Role::Admin, "bench");
    let slugs = crate::seed::some_slugs(service, repos).await?;
    for (i, slug) in slugs.iter().enumerate() {
        let ids = json!({"github_repository": repo_name(i)});
        service.execute_json(&admin, "update_project", json!({"project": slug, "external_ids": ids})).await?;
    }
    Ok((counts, slugs.len()))
}

fn repo_name(i: usize) -> String {
    format!("bench-org/repo-{i}")
}

/// Push bodies made from GitHub's documented payload: delivery `i` is to
/// repository `i % repos`, its default branch, a new commit.
pub(crate) struct Bodies {
    template: Value,
    repos: usize,
}

/// A commit id that looks like one (40 hex digits, letters among them), the
/// `n`th: a counter alone is mostly digits, which a fact indexes as a word.
fn commit_id(n: usize) -> String {
    format!("{:040x}", (n as u128 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835))
}

impl Bodies {
    pub(crate) fn new(repos: usize) -> anyhow::Result<Self> {
        Ok(Self { template: serde_json::from_str(PUSH)?, repos })
    }

    pub(crate) fn body(&self, i: usize) -> Vec<u8> {
        let mut p = self.template.clone();
        let sha = commit_id(i + 1);
        p["ref"] = json!("refs/heads/master");
        p["before"] = json!(commit_id(i));
        p["after"] = json!(sha);
        p["created"] = json!(false);
        p["deleted"] = json!(false);
        p["base_ref"] = Value::Null;
        let commit = json!({
            "id": sha, "tree_id": sha, "distinct": true, "message": "Tidy the handler",
            "timestamp": "2026-12-06T10:00:00Z", "url": format!("https://github.com/{}/commit/{sha}", repo_name(i % self.repos)),
            "author": {"name": "Bench", "email": "bench@example.com", "username": "bench"},
            "committer": {"name": "Bench", "email": "bench@example.com", "username": "bench"},
            "added": [], "removed": [], "modified": ["src/handler.rs"],
        });
        p["commits"] = json!([commit]);
        p["head_commit"] = commit;
        p["repository"]["full_name"] = json!(repo_name(i % self.repos));
        p["repository"]["name"] = json!(format!("repo-{}", i % self.repos));
        serde_json::to_vec(&p).expect("serializes")
    }
}

/// The real `push` payload GitHub documents (a tag's deletion there; made a
/// default-branch push above).
const PUSH: &str = include_str!("../automations/tests/fixtures/github/push.json");

/// Deliveries in the inbox now, with their outcomes.
async fn statuses(inbox: &Arc<dyn Inbox>) -> anyhow::Result<Value> {
    let counts = inbox.inbox_counts().await?;
    Ok(Value::Object(counts.into_iter().map(|(s, n)| (s.as_str().to_owned(), json!(n))).collect()))
}

async fn pending(inbox: &Arc<dyn Inbox>) -> anyhow::Result<u64> {
    let counts = inbox.inbox_counts().await?;
    Ok(counts.into_iter().find(|(s, _)| *s == DeliveryStatus::Pending).map_or(0, |(_, n)| n))
}

/// `n` deliveries stored, then processed from nothing.
async fn drain(
    service: &Service,
    inbox: &Arc<dyn Inbox>,
    processor: &Processor,
    bodies: &Bodies,
    n: usize,
) -> anyhow::Result<Value> {
    let now = service.now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    // Stored straight into the inbox, as receiving does after the signature.
    let all: Arc<Vec<Vec<u8>>> = Arc::new((0..n).map(|i| bodies.body(i)).collect());
    for _ in 0..SENDERS {
        let (inbox, next, all) = (inbox.clone(), next.clone(), all.clone());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = all.get(i) else { break };
                let d = NewDelivery {
                    source: "github".into(),
                    delivery_id: format!("drain-{now}-{i}"),
                    event: "push".into(),
                    received_at: now,
                    body: body.clone(),
                };
                inbox.accept(&d).await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(t) = tasks.join_next().await {
        t??;
    }
    let cpu = process_cpu_seconds();
    let t = Instant::now();
    let processed = processor.run_once().await;
    let seconds = t.elapsed().as_secs_f64();
    let cpu = process_cpu_seconds() - cpu;
    anyhow::ensure!(processed == n, "processed {processed} of {n}");
    Ok(json!({
        "deliveries": n,
        "seconds": round1(seconds),
        "processed_per_second": (n as f64 / seconds).round(),
        "cpu_us_per_delivery": (cpu * 1e6 / n as f64).round(),
        "inbox": statuses(inbox).await?,
    }))
}

struct Flood {
    /// Deliveries a second, or as fast as accepted.
    rate: Option<usize>,
    seconds: u64,
}

/// Sends for `f.seconds` over HTTP with processing running; samples the
/// backlog each second; then waits for it to drain.
async fn flood(
    service: &Service,
    hooks: &Hooks,
    processor: &Processor,
    bodies: &Arc<Bodies>,
    f: Flood,
) -> anyhow::Result<Value> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    let server = spawn_server(listener, switchboard_automations::router(hooks.clone()), service, true);
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let processing = processor.clone().spawn(stopping);
    let run = service.now();
    let next = Arc::new(AtomicUsize::new(0));
    let duration = Duration::from_secs(f.seconds);
    let started = Instant::now();
    // Bodies are made as they are sent (the template cloned and changed):
    // part of each sender's cost, so the senders are a little slower than wrk.
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..SENDERS {
        let (addr, next, bodies) = (addr.clone(), next.clone(), bodies.clone());
        let rate = f.rate;
        senders.spawn(async move {
            let mut conn = RawHttp::connect(&addr).await?;
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let due = match rate {
                    Some(r) => Duration::from_secs_f64(i as f64 / r as f64),
                    None => started.elapsed(),
                };
                if due >= duration {
                    return anyhow::Ok(latencies);
                }
                if let Some(wait) = due.checked_sub(started.elapsed()) {
                    tokio::time::sleep(wait).await;
                }
                let body = bodies.body(1_000_000_000 + i);
                let signature =
                    format!("sha256={}", switchboard_automations::signature::hmac_hex(SECRET.as_bytes(), &body));
                let sent = Instant::now();
                let status = conn.push(&addr, &format!("flood-{run}-{i}"), &signature, &body).await?;
                anyhow::ensure!(status == 202, "delivery {i} answered {status}");
                latencies.push(sent.elapsed());
            }
        });
    }
    let mut backlog = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    while started.elapsed() < duration {
        tick.tick().await;
        backlog.push(pending(&hooks.inbox).await?);
    }
    let mut accept = Vec::new();
    while let Some(t) = senders.join_next().await {
        accept.extend(t??);
    }
    let flood_seconds = started.elapsed().as_secs_f64();
    let sent = accept.len();
    let left = pending(&hooks.inbox).await?;
    let flood_end = Instant::now();
    // Drained: nothing pending. Given up after ten times the flood.
    let mut drained = None;
    while flood_end.elapsed() < duration * 10 {
        if pending(&hooks.inbox).await? == 0 {
            drained = Some(flood_end.elapsed().as_secs_f64());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop.send(true);
    processing.await?;
    server.abort();
    Ok(json!({
        "rate_asked": f.rate,
        "seconds": round1(flood_seconds),
        "deliveries": sent,
        "accepted_per_second": (sent as f64 / flood_seconds).round(),
        "accept_latency": Samples(accept).json(),
        "backlog_each_second": backlog,
        "backlog_at_end": left,
        "drained_seconds_after_flood": drained.map(round1),
        "drain_seconds_per_flood_second": drained.map(|d| (d / flood_seconds * 100.0).round() / 100.0),
        "processed_per_second_overall": drained.map(|d| (sent as f64 / (flood_seconds + d)).round()),
        "inbox": statuses(&hooks.inbox).await?,
    }))
}

pub(crate) fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
