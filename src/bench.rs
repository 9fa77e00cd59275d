//! `switchboard bench`: generates an organisation of N projects and prints
//! p50/p99 latencies for the hot reads, the project page rendered through the
//! router in-process, and event-append throughput, as JSON.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use serde_json::{Value, json};
use switchboard_core::config::Config;
use switchboard_core::model::Role;
use switchboard_core::{Caller, Service};
use tower::ServiceExt;

use crate::bench_http::{RawHttp, process_cpu_seconds, spawn_server};
use crate::samples::Samples;

/// A tiny deterministic sequence for picking samples.
fn pick(i: usize, n: usize) -> usize {
    (i.wrapping_mul(2_654_435_761) >> 7) % n.max(1)
}

/// What `switchboard bench` measures.
pub struct Options {
    pub projects: usize,
    pub samples: usize,
    pub data_dir: Option<PathBuf>,
    pub store: switchboard_core::config::StoreConfig,
    /// Serve the HTTP benchmarks behind the edge (its limits at their
    /// defaults), as `serve` does; off, the bare routers.
    pub edge: bool,
    /// Metrics recorded and the access log written, as `serve` does.
    pub observed: bool,
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    let dir = crate::samples::StoreDir::new(options.data_dir.as_ref(), "bench");
    let out = measure(&options, &dir.path).await?;
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

async fn measure(options: &Options, dir: &std::path::Path) -> anyhow::Result<serde_json::Value> {
    let (projects, samples) = (options.projects, options.samples);
    let mut config = Config { store: options.store.clone(), ..Config::default() };
    // The agent benchmark measures the agent's own work, not a person's
    // hourly budget: its one caller makes thousands of model calls.
    config.limits.llm_calls_per_hour = 0;
    config.limits.llm_tokens_per_hour = 0;
    config.webhooks.github_secret = Some(WEBHOOK_SECRET.into());
    // Slack's Web API is a fake on loopback that records the replies.
    let slack_fake = switchboard_testkit::chat::slack().await?;
    config.slack.signing_secret = Some(SLACK_SECRET.into());
    config.slack.bot_token = Some("xoxb-bench".into());
    config.slack.api_url = format!("{}/api/", slack_fake.url);
    let opened = crate::app::open(&config, dir).await?;
    let service = opened.service.clone();
    let started = Instant::now();
    if service.graph().counts().await?.projects == 0 {
        crate::seed::seed(&service, projects, true).await?;
    }
    let seed_seconds = started.elapsed().as_secs_f64();
    let counts = service.graph().counts().await?;
    let caller = Caller::new("bench", Role::Admin, "bench");
    let slugs = crate::seed::some_slugs(&service, 5000).await?;
    let packages: Vec<String> = service.graph().packages("", 5000).await?.into_iter().map(String::from).collect();
    let words = [
        "ledger",
        "payments",
        "orders",
        "python consumer",
        "rust api",
        "queue",
        "checkout web",
        "platform go",
        "events",
        "identity",
    ];

    async fn time_op(
        service: &switchboard_core::Service,
        caller: &Caller,
        op: &str,
        args: serde_json::Value,
    ) -> anyhow::Result<Duration> {
        let t = Instant::now();
        service.execute_json(caller, op, args).await.map_err(|e| anyhow::anyhow!("{op}: {e}"))?;
        Ok(t.elapsed())
    }

    eprintln!("bench: reads ({samples} samples each)");
    let mut search = Vec::with_capacity(samples);
    for i in 0..samples {
        search.push(
            time_op(&service, &caller, "find_projects", json!({"query": words[i % words.len()], "limit": 20})).await?,
        );
    }
    // Popular packages (thousands of dependents) and the long tail, measured apart.
    let popular = [
        "react",
        "serde",
        "redis",
        "lodash",
        "requests",
        "tokio",
        "django",
        "github.com/gin-gonic/gin",
        "@acme/lib-0",
        "acme-lib-1",
    ];
    let mut dependents = Vec::with_capacity(samples);
    let mut dependents_popular = Vec::with_capacity(samples);
    for i in 0..samples {
        let p = &packages[pick(i, packages.len())];
        dependents.push(time_op(&service, &caller, "dependents", json!({"package": p, "limit": 50})).await?);
        let p = popular[i % popular.len()];
        dependents_popular.push(time_op(&service, &caller, "dependents", json!({"package": p, "limit": 50})).await?);
    }
    let mut get = Vec::with_capacity(samples);
    for i in 0..samples {
        get.push(time_op(&service, &caller, "get_project", json!({"project": slugs[pick(i, slugs.len())]})).await?);
    }
    let state = switchboard_portal::PortalState::new(service.clone(), switchboard_portal::Mode::Demo).await?;
    let router = switchboard_portal::router(state);
    let mut page = Vec::with_capacity(samples);
    for i in 0..samples {
        let uri = format!("/projects/{}", slugs[pick(i, slugs.len())]);
        let t = Instant::now();
        let resp = router.clone().oneshot(axum::http::Request::get(&uri).body(axum::body::Body::empty())?).await?;
        anyhow::ensure!(resp.status().is_success(), "{uri} answered {}", resp.status());
        resp.into_body().collect().await?;
        page.push(t.elapsed());
    }

    // The intent router on this org: catalog load once (time and memory),
    // then the repository's eval set routed alone, timed per message, with
    // its accuracy (its names are the hand-named projects every org has).
    let rss_before = resident_kib();
    let t = Instant::now();
    let catalog = switchboard_agents::Catalog::load(service.graph(), service.config()).await?;
    let catalog_ms = t.elapsed().as_secs_f64() * 1e3;
    let catalog_mib = resident_kib().saturating_sub(rss_before) as f64 / 1024.0;
    let cases =
        switchboard_agents::eval::parse_set(switchboard_agents::eval::ROUTER_SET).map_err(anyhow::Error::msg)?;
    let mut routing = Vec::with_capacity(cases.len() * 2);
    for case in cases.iter().chain(cases.iter()) {
        let t = Instant::now();
        std::hint::black_box(switchboard_agents::route(&case.text, &catalog));
        routing.push(t.elapsed());
    }
    let accuracy = switchboard_agents::eval::run(&cases, &catalog).accuracy();

    // The tool catalogs: the LLM agent's (function tools) and MCP's, for an admin (the largest).
    let admin = Caller::new("bench", Role::Admin, "bench");
    let tools = switchboard_agents::mcp::McpServer::new(service.clone(), None).tools_for(&admin);
    let catalog_json = serde_json::to_string(&tools)?;
    let agent_tools = switchboard_agents::tools::function_tools(&admin, &service.config().policy);
    let agent_json = serde_json::to_string(&agent_tools)?;

    // The agent's own time per turn against the scripted fake model: a turn
    // with one tool call (get_project) and a streamed answer; the time spent
    // waiting on the fake is subtracted.
    eprintln!("bench: agent turns against the fake model");
    let agent = agent_overhead(&service, &slugs, samples).await?;
    eprintln!("bench: signed webhooks over HTTP");
    let edge = options.edge;
    let webhooks = webhook_throughput(&opened, &slugs[0], (samples * 10).max(1000), edge).await?;
    let spans = crate::bench_spans::request_spans(200_000);
    eprintln!("bench: SBOM and lock file imports");
    let imports = imports(&service, &slugs).await?;
    // A day of logs for one project: ten lines a project in the org, at least 100,000.
    let log_lines = (projects * 10).clamp(100_000, 10_000_000);
    eprintln!("logs: {log_lines} lines…");
    let logs = crate::bench_logs::measure(&service, &slugs[0], log_lines, samples.min(50)).await?;
    eprintln!("bench: Slack mentions over HTTP");
    let outbox = opened.outbox.clone();
    let slack_saturated =
        slack_mentions(&service, &outbox, &slack_fake, &slugs, (samples * 2).max(200), None, edge).await?;
    let paced = Some(Duration::from_secs(1));
    let slack_paced = slack_mentions(&service, &outbox, &slack_fake, &slugs, 1000, paced, edge).await?;

    eprintln!("bench: event appends");
    let appended = crate::bench_appends::appends(&opened.log, service.now(), 64, 100_000).await?;
    let (single, batched) = (appended.single, appended.batched);

    Ok(json!({
        "projects": counts.projects,
        "dependency_edges": counts.dependencies,
        "events_before_append": service.log().count().await? - 200_000,
        "seed_seconds": (seed_seconds * 10.0).round() / 10.0,
        "find_projects_text": Samples(search).json(),
        "dependents": Samples(dependents).json(),
        "dependents_popular": Samples(dependents_popular).json(),
        "get_project": Samples(get).json(),
        "project_page": Samples(page).json(),
        "router": {
            "catalog_load_ms": catalog_ms.round(),
            "catalog_memory_mib": (catalog_mib * 10.0).round() / 10.0,
            "route": Samples(routing).json(),
            "eval_phrasings": cases.len(),
            "eval_accuracy_percent": (accuracy * 1000.0).round() / 10.0
        },
        "tool_catalog": {
            "agent": {"tools": agent_tools.len(), "json_bytes": agent_json.len(), "approx_tokens": agent_json.len() / 4},
            "mcp": {"tools": tools.len(), "json_bytes": catalog_json.len(), "approx_tokens": catalog_json.len() / 4}
        },
        "agent_turn": agent,
        "http_edge": if edge { "on" } else { "off" },
        "metrics_and_access_log": if options.observed { "on" } else { "off" },
        "webhooks": webhooks,
        "request_spans": spans,
        "imports": imports,
        "logs": logs,
        "slack_mentions": {"saturated": slack_saturated, "one_a_second_each": slack_paced},
        "event_append_per_second": {"single_events_64_writers": single.round(), "batches_of_1000": batched.round()},
        "targets": {"sbom_import_10000_components_ms": 1000, "slack_mention_reply_p99_ms": 25, "webhook_deliveries_per_second": 20000, "webhook_accept_p99_ms": 10, "router_p99_ms": 1, "agent_overhead_p99_ms": 5, "agent_tool_catalog_tokens": 3000, "find_projects_p99_ms": 20, "dependents_p99_ms": 20, "get_project_p99_ms": 5, "project_page_p99_ms": 30, "events_per_second": 50000}
    }))
}

/// Reading a 10,000-component SBOM into a project (new edges, then the same
/// SBOM again), and a real workspace's and npm project's manifests and lock
/// files (the test fixtures: git-cliff and actions/checkout) through
/// `import_manifests`, each a few times into different projects.
async fn imports(service: &Service, slugs: &[String]) -> anyhow::Result<Value> {
    let admin = Caller::new("bench", switchboard_core::model::Role::Admin, "bench");
    let components: Vec<Value> = (0..10_000)
        .map(|i| json!({"type": "library", "name": format!("lib-{i}"), "version": "1.0.0", "purl": format!("pkg:npm/lib-{i}@1.{}.0", i % 7)}))
        .collect();
    let sbom = json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": components});
    let (mut fresh, mut again) = (Vec::new(), Vec::new());
    for slug in slugs.iter().take(3) {
        let args = json!({"project": slug, "sbom": sbom, "name": "bench.cdx.json"});
        let t = Instant::now();
        service.execute_json(&admin, "import_sbom", args.clone()).await?;
        fresh.push(t.elapsed());
        let t = Instant::now();
        service.execute_json(&admin, "import_sbom", args).await?;
        again.push(t.elapsed());
    }
    const FILES: [(&str, &str); 6] = [
        ("Cargo.toml", include_str!("../core/tests/fixtures/lockfiles/cargo-workspace/Cargo.toml")),
        ("Cargo.lock", include_str!("../core/tests/fixtures/lockfiles/cargo-workspace/Cargo.lock")),
        ("git-cliff/Cargo.toml", include_str!("../core/tests/fixtures/lockfiles/cargo-workspace/git-cliff/Cargo.toml")),
        (
            "git-cliff-core/Cargo.toml",
            include_str!("../core/tests/fixtures/lockfiles/cargo-workspace/git-cliff-core/Cargo.toml"),
        ),
        ("web/package.json", include_str!("../core/tests/fixtures/lockfiles/npm-v3/package.json")),
        ("web/package-lock.json", include_str!("../core/tests/fixtures/lockfiles/npm-v3/package-lock.json")),
    ];
    let files: Vec<Value> = FILES.iter().map(|(path, text)| json!({"path": path, "text": text})).collect();
    let mut manifests = Vec::new();
    let mut edges = 0;
    for slug in slugs.iter().skip(3).take(5) {
        let t = Instant::now();
        let out =
            service.execute_json(&admin, "import_manifests", json!({"project": slug, "files": files})).await?.to_json();
        manifests.push(t.elapsed());
        edges = out["direct"].as_u64().unwrap_or(0) + out["transitive"].as_u64().unwrap_or(0);
    }
    Ok(json!({
        "sbom_10000_components": {"new_edges": Samples(fresh).json(), "unchanged": Samples(again).json()},
        "manifests_and_lock_files": {"files": FILES.len(), "edges": edges, "import": Samples(manifests).json()},
    }))
}

/// Agent turns against the fake model: overhead (turn minus model wait) and whole turns.
async fn agent_overhead(service: &Service, slugs: &[String], samples: usize) -> anyhow::Result<Value> {
    use switchboard_testkit::llm::{FakeLlm, Step};
    let answer = "It is owned by its team and deployed to every environment; its score is in the portal.";
    let mut script = Vec::new();
    for slug in slugs.iter().take(samples) {
        script.push(Step::call("get_project", json!({"project": slug})));
        script.push(Step::text(answer));
    }
    let fake = FakeLlm::cycle(script).await?;
    let config = switchboard_core::config::LlmConfig {
        base_url: Some(fake.url.clone()),
        model: "bench".into(),
        ..Default::default()
    };
    let agent = switchboard_agents::llm::Agent::with_config(service.clone(), config)
        .ok_or_else(|| anyhow::anyhow!("the agent needs a base URL"))?;
    let caller = Caller::new("bench", Role::Editor, "bench");
    let (mut overhead, mut whole) = (Vec::with_capacity(samples), Vec::with_capacity(samples));
    for _ in 0..samples {
        let t = Instant::now();
        let turn = agent
            .turn(&caller, &[], "tell me about this project", &|_| {})
            .await
            .map_err(|e| anyhow::anyhow!("agent turn failed: {}", e.reason()))?;
        let elapsed = t.elapsed();
        anyhow::ensure!(turn.text == answer && turn.steps == 2, "unexpected turn: {turn:?}");
        whole.push(elapsed);
        overhead.push(elapsed.saturating_sub(turn.model_time));
    }
    Ok(
        json!({"steps_per_turn": 2, "overhead": Samples(overhead).json(), "whole_turn_with_fake": Samples(whole).json()}),
    )
}

const WEBHOOK_SECRET: &str = "bench-webhook-secret";
const SLACK_SECRET: &str = "bench-slack-signing-secret";

/// Slack `app_mention` events, signed, over HTTP to `/slack/events` from 200
/// concurrent conversations (each its own channel and person, one question
/// at a time, no language model), each timed until its answer reaches the
/// fake Web API in the mention's thread. Without `pace` each conversation
/// asks again as soon as it is answered (the server's capacity: latency is
/// then queueing); with it, each asks once per `pace`, starts spread over it.
async fn slack_mentions(
    service: &Service,
    outbox: &std::sync::Arc<dyn switchboard_core::outbox::Outbox>,
    fake: &switchboard_testkit::chat::Fake,
    slugs: &[String],
    total: usize,
    pace: Option<Duration>,
    edge: bool,
) -> anyhow::Result<Value> {
    const CONVERSATIONS: usize = 200;
    let conversation = std::sync::Arc::new(switchboard_bot::Conversation::new(service.clone()).await?);
    let chat = switchboard_bot::chat::ChatState::new(service.clone(), conversation)
        .map_err(|e| anyhow::anyhow!("Slack settings: {e}"))?;
    // Replies go out through the outbox, as in serve: its courier delivers them.
    let courier = switchboard_bot::courier::Courier::new(&chat, outbox.clone()).spawn_delivery();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    let app = switchboard_bot::slack::router(chat);
    let server = spawn_server(listener, app, service, edge);
    let run = service.now();
    let rounds = total.div_ceil(CONVERSATIONS);
    let cpu = process_cpu_seconds();
    let t = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CONVERSATIONS {
        let (addr, fake, slugs) = (addr.clone(), fake.clone(), slugs.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut conn = RawHttp::connect(&addr).await?;
            let mut latencies = Vec::with_capacity(rounds);
            let start = tokio::time::Instant::now() + pace.map(|p| p * c as u32 / CONVERSATIONS as u32).unwrap_or_default();
            for r in 0..rounds {
                if let Some(p) = pace {
                    tokio::time::sleep_until(start + p * r as u32).await;
                }
                let ts = format!("{}.{:06}", run / 1000 + r as i64, c + if pace.is_some() { 500_000 } else { 0 });
                let project = &slugs[pick(c * rounds + r, slugs.len())];
                let body = serde_json::to_vec(&json!({
                    "token": "bench", "team_id": "TBENCH", "api_app_id": "ABENCH", "type": "event_callback",
                    "event_id": format!("Ev{run}{c:03}{r:04}{}", pace.is_some()), "event_time": run / 1000,
                    "event": {"type": "app_mention", "user": format!("UBENCH{c:03}"), "channel": format!("CBENCH{c:03}"),
                              "text": format!("<@UBOT> who owns {project}?"), "ts": ts, "event_ts": ts},
                }))?;
                let stamp = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs()).to_string();
                let signature = switchboard_bot::slack::verify::sign(SLACK_SECRET, &stamp, &body);
                let head = format!(
                    "POST /slack/events HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
                     X-Slack-Request-Timestamp: {stamp}\r\nX-Slack-Signature: {signature}\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let reply = fake.reply_in(&ts);
                let sent = Instant::now();
                let status = conn.round_trip(head.as_bytes(), &body).await?;
                anyhow::ensure!(status == 200, "mention {c}/{r} answered {status}");
                let call = tokio::time::timeout(Duration::from_secs(30), reply)
                    .await
                    .map_err(|_| anyhow::anyhow!("no reply to mention {c}/{r} within 30 s"))??;
                latencies.push(sent.elapsed());
                let text = call.body["text"].as_str().unwrap_or_default();
                anyhow::ensure!(text.contains(project.as_str()), "the reply is not about {project}: {text}");
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut replies = Vec::with_capacity(total);
    for task in tasks {
        replies.extend(task.await??);
    }
    let seconds = t.elapsed().as_secs_f64();
    let cpu = process_cpu_seconds() - cpu;
    server.abort();
    courier.abort();
    Ok(json!({
        "conversations": CONVERSATIONS,
        "pace_ms": pace.map(|p| p.as_millis() as u64),
        "mentions": replies.len(),
        "replies_per_second": (replies.len() as f64 / seconds).round(),
        "cpu_us_per_mention": (cpu * 1e6 / replies.len().max(1) as f64).round(),
        "mention_to_reply": Samples(replies).json(),
    }))
}

/// Signed GitHub `push` deliveries over HTTP into the durable inbox from 64
/// concurrent senders, then processing them (rules → `set_fact`) from the inbox.
async fn webhook_throughput(
    opened: &crate::app::Opened,
    slug: &str,
    total: usize,
    edge: bool,
) -> anyhow::Result<Value> {
    use switchboard_automations::{Hooks, Processor, RuleSet};
    let service = &opened.service;
    let admin = Caller::new("bench", Role::Admin, "bench");
    let repo = "bench-org/bench-repo";
    service
        .execute_json(&admin, "update_project", json!({"project": slug, "external_ids": {"github_repository": repo}}))
        .await?;
    let hooks = Hooks::new(service.clone(), opened.inbox.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hooks/github", listener.local_addr()?);
    let app = switchboard_automations::router(hooks.clone());
    let server = spawn_server(listener, app, service, edge);
    // Bodies and signatures are made before the clock starts: the senders
    // only send, so the machine's two cores go to receiving as far as possible.
    let deliveries: Vec<(Vec<u8>, String)> = (0..total)
        .map(|i| {
            let body = serde_json::to_vec(&json!({
                "ref": "refs/heads/main",
                "before": format!("{:040x}", i),
                "after": format!("{:040x}", i + 1),
                "deleted": false,
                "repository": {"full_name": repo, "default_branch": "main", "name": "bench-repo"},
                "pusher": {"name": "bench"},
                "commits": [{"id": format!("{:040x}", i + 1), "message": "bench commit"}],
            }))
            .expect("serializes");
            let signature =
                format!("sha256={}", switchboard_automations::signature::hmac_hex(WEBHOOK_SECRET.as_bytes(), &body));
            (body, signature)
        })
        .collect();
    let deliveries = std::sync::Arc::new(deliveries);
    let addr = url.trim_start_matches("http://").split('/').next().unwrap_or_default().to_owned();
    // Delivery ids unique to this run, so a reused --data-dir does not see redeliveries.
    let run = service.now();
    let cpu = process_cpu_seconds();
    let threads = crate::bench_http::thread_cpu_seconds();
    let t = Instant::now();
    let accept = send_pushes(&addr, &format!("bench-{run}"), &deliveries, total, None).await?;
    let receive_seconds = t.elapsed().as_secs_f64();
    let receive_cpu = process_cpu_seconds() - cpu;
    let receive_threads = crate::bench_http::thread_cpu_since(&threads);
    // The same pushes again (new delivery ids) at a steady rate most
    // services never reach: a latency that is not the flood's queue, where
    // what a request costs shows as what it adds.
    let t = Instant::now();
    let paced_total = total / 2;
    let paced = send_pushes(&addr, &format!("paced-{run}"), &deliveries, paced_total, Some(PACED_PER_SECOND)).await?;
    let paced_seconds = t.elapsed().as_secs_f64();
    server.abort();

    let rules = std::sync::Arc::new(RuleSet::load(service.config())?);
    let processor = Processor::new(hooks, crate::app::mapper(&rules, service));
    let t = Instant::now();
    let processed = processor.run_once().await;
    let process_seconds = t.elapsed().as_secs_f64();
    anyhow::ensure!(processed == total + paced_total, "processed {processed} of {}", total + paced_total);
    Ok(json!({
        "deliveries": total,
        "senders": SENDERS,
        "accepted_per_second": (total as f64 / receive_seconds).round(),
        // The whole process's CPU (senders included) per delivery: steadier
        // than throughput on a shared machine, for comparing builds.
        "cpu_us_per_delivery": (receive_cpu * 1e6 / total as f64).round(),
        // Receiving's CPU by thread, in ms: the runtime's workers (senders
        // and receiver), the store's writer, the log's and the spans' threads.
        "cpu_ms_by_thread": receive_threads,
        "accept_latency": Samples(accept).json(),
        "paced": {
            "asked_per_second": PACED_PER_SECOND,
            "deliveries": paced_total,
            "accepted_per_second": (paced_total as f64 / paced_seconds).round(),
            "accept_latency": Samples(paced).json(),
        },
        "processed_per_second": (processed as f64 / process_seconds).round(),
    }))
}

/// The steady rate of the webhook benchmark's second run, deliveries a
/// second: about half what the flood reaches on this machine.
const PACED_PER_SECOND: usize = 10_000;

/// Senders at once in the webhook benchmark, each on a connection of its own.
const SENDERS: usize = 64;

/// Sends every delivery from 64 senders, each on one kept-alive connection,
/// as fast as answered or, with `rate`, each at its time (delivery `i` at
/// `i / rate` seconds); the latency of each, from its sending.
async fn send_pushes(
    addr: &str,
    ids: &str,
    deliveries: &std::sync::Arc<Vec<(Vec<u8>, String)>>,
    count: usize,
    rate: Option<usize>,
) -> anyhow::Result<Vec<Duration>> {
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..SENDERS {
        let (addr, ids, next, deliveries) = (addr.to_owned(), ids.to_owned(), next.clone(), deliveries.clone());
        tasks.push(tokio::spawn(async move {
            // A lean HTTP/1.1 sender on one kept-alive connection (like wrk):
            // a full client would take the cores the receiver is measured on.
            let mut conn = RawHttp::connect(&addr).await?;
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((body, signature)) = deliveries.get(i).filter(|_| i < count) else {
                    return anyhow::Ok(latencies);
                };
                if let Some(rate) = rate {
                    let due = Duration::from_secs_f64(i as f64 / rate as f64);
                    if let Some(wait) = due.checked_sub(started.elapsed()) {
                        tokio::time::sleep(wait).await;
                    }
                }
                let sent = Instant::now();
                let status = conn.push(&addr, &format!("{ids}-{i}"), signature, body).await?;
                anyhow::ensure!(status == 202, "delivery {i} answered {status}");
                latencies.push(sent.elapsed());
            }
        }));
    }
    let mut latencies = Vec::with_capacity(count);
    for task in tasks {
        latencies.extend(task.await??);
    }
    Ok(latencies)
}

/// The process's resident memory in KiB (Linux; 0 elsewhere).
fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
