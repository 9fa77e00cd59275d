//! The backend conformance suite with the graph, the run queue, the webhook
//! inbox and the chat outbox on a real Bolt server (ArcadeDB, started by
//! `scripts/arcadedb start`; the log on the embedded store). Built only with the `server-tests`
//! feature, and failing — never skipping — when that server does not answer.
#![cfg(feature = "server-tests")]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use switchboard_store::SqliteStore;
use switchboard_store_neo4j::{Fulltext, Neo4jGraph, Options};
use switchboard_testkit::conformance::Backend;

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.into())
}

fn http_url() -> String {
    format!("http://127.0.0.1:{}", env("SWITCHBOARD_TEST_ARCADEDB_HTTP_PORT", "12480"))
}

fn password() -> String {
    env("SWITCHBOARD_TEST_BOLT_PASSWORD", "switchboard-test")
}

fn options(database: &str) -> Options {
    Options {
        uri: format!("bolt://127.0.0.1:{}", env("SWITCHBOARD_TEST_BOLT_PORT", "17687")),
        user: "root".into(),
        password: password(),
        database: Some(database.into()),
        max_connections: 8,
        query_timeout: Duration::from_secs(30),
        fulltext: Fulltext::ArcadeDb { http_url: http_url() },
    }
}

/// A database of its own for each test: the suite wants an empty graph.
async fn fresh_database() -> String {
    let _ = rustls::crypto::ring::default_provider().install_default();
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let name =
        format!("sb_test_{}_{}_{}", std::process::id(), nanos % 1_000_000_000, N.fetch_add(1, Ordering::Relaxed));
    let answer = reqwest::Client::new()
        .post(format!("{}/api/v1/server", http_url()))
        .basic_auth("root", Some(password()))
        .json(&serde_json::json!({"command": format!("create database {name}")}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("ArcadeDB at {} (start it with scripts/arcadedb start): {e}", http_url()));
    assert!(answer.status().is_success(), "creating database {name}: {}", answer.text().await.unwrap_or_default());
    name
}

/// Drops its test database when the test ends, so the server does not keep
/// hundreds of them open. A plain blocking HTTP request: `Drop` cannot await.
struct DropDatabase(String);

impl Drop for DropDatabase {
    fn drop(&mut self) {
        use std::io::{Read, Write};
        let body = serde_json::json!({"command": format!("drop database {}", self.0)}).to_string();
        let auth = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("root:{}", password()));
        let port = env("SWITCHBOARD_TEST_ARCADEDB_HTTP_PORT", "12480");
        if let Ok(mut s) = std::net::TcpStream::connect(format!("127.0.0.1:{port}")) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
            let _ = write!(
                s,
                "POST /api/v1/server HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Basic {auth}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            let _ = s.read_to_end(&mut Vec::new());
        }
    }
}

async fn graph() -> (Neo4jGraph, DropDatabase) {
    let name = fresh_database().await;
    let o = options(&name);
    let graph =
        Neo4jGraph::open(&o).await.unwrap_or_else(|e| panic!("Bolt server at {} (scripts/arcadedb start): {e}", o.uri));
    (graph, DropDatabase(name))
}

async fn backend() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path(), 2).unwrap();
    let (graph, database) = graph().await;
    Backend {
        graph: Arc::new(graph.clone()),
        log: Arc::new(store),
        inbox: Arc::new(graph.clone()),
        outbox: Arc::new(graph.clone()),
        vectors: Arc::new(graph.clone()),
        queue: Arc::new(graph),
        guard: Box::new((dir, database)),
    }
}

switchboard_testkit::conformance_suite!(backend().await);

/// Two processes on one graph (two handles, several tasks each) take every
/// chat message and webhook delivery exactly once between them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_sharing_a_graph_take_each_message_and_delivery_once() {
    use switchboard_core::inbox::{Inbox, NewDelivery};
    use switchboard_core::model::ChatPlatform;
    use switchboard_core::outbox::{NewMessage, Outbox};

    let (first, database) = graph().await;
    let second = Neo4jGraph::open(&options(&database.0)).await.unwrap();
    const N: i64 = 120;
    // Stored from 24 tasks at once, half through each handle, as busy replicas would.
    let mut stores = Vec::new();
    for t in 0..24 {
        let g = if t % 2 == 0 { first.clone() } else { second.clone() };
        stores.push(tokio::spawn(async move {
            for i in (t..N).step_by(24) {
                let m = NewMessage {
                    key: format!("incident:{i}:slack:C1"),
                    platform: ChatPlatform::Slack,
                    channel: "C1".into(),
                    reply_to: None,
                    edit: false,
                    body: "{}".into(),
                    created_at: i,
                    not_before: None,
                };
                assert!(g.enqueue(&m).await.unwrap());
                let d = NewDelivery {
                    source: "github".into(),
                    delivery_id: format!("d-{i}"),
                    event: "push".into(),
                    received_at: i,
                    body: vec![0, 159, 146, 150, b'{'],
                };
                g.accept(&d).await.unwrap();
            }
        }));
    }
    for s in stores {
        s.await.unwrap();
    }
    let mut tasks = Vec::new();
    for w in 0..6 {
        let g = if w % 2 == 0 { first.clone() } else { second.clone() };
        tasks.push(tokio::spawn(async move {
            let (mut messages, mut deliveries) = (Vec::new(), Vec::new());
            loop {
                let m = g.due_messages(N, 7).await.unwrap();
                let d = g.due(N, 7).await.unwrap();
                if m.is_empty() && d.is_empty() {
                    return (messages, deliveries);
                }
                messages.extend(m.into_iter().map(|m| m.key));
                for d in d {
                    assert_eq!(d.body, [0, 159, 146, 150, b'{'], "bodies are kept byte for byte");
                    deliveries.push(d.delivery_id);
                }
            }
        }));
    }
    let (mut messages, mut deliveries) = (Vec::new(), Vec::new());
    for t in tasks {
        let (m, d) = t.await.unwrap();
        messages.extend(m);
        deliveries.extend(d);
    }
    let total = messages.len();
    messages.sort();
    messages.dedup();
    assert_eq!((total, messages.len()), (N as usize, N as usize), "every message once");
    let total = deliveries.len();
    deliveries.sort();
    deliveries.dedup();
    assert_eq!((total, deliveries.len()), (N as usize, N as usize), "every delivery once");
}

/// Deliveries arriving at once are stored together (group commit), and each
/// is still answered as if stored alone: new the first time its source and
/// id are seen, in any batch or process, a duplicate of that record after.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deliveries_stored_together_are_each_new_once_and_duplicates_after() {
    use std::collections::HashMap;
    use switchboard_core::inbox::{Accepted, DeliveryStatus, Inbox, NewDelivery};

    let (first, database) = graph().await;
    let second = Neo4jGraph::open(&options(&database.0)).await.unwrap();
    let delivery = |i: usize| NewDelivery {
        source: if i.is_multiple_of(5) { "pagerduty".into() } else { "github".into() },
        delivery_id: format!("d-{i}"),
        event: "push".into(),
        received_at: i as i64,
        body: format!("{{\"n\": {i}}}").into_bytes(),
    };
    // Stored before the flood: every later copy is a duplicate of it.
    let Accepted::New(early) = first.accept(&delivery(3)).await.unwrap() else { panic!("the first copy is new") };
    // 300 deliveries in rounds of 30, each sent three times at once (twice
    // through one handle, once through the other), 90 sends in flight.
    let mut by_delivery: HashMap<usize, Vec<Accepted>> = HashMap::new();
    for round in 0..10 {
        let mut sends = Vec::new();
        for t in 0..90 {
            let g = if t % 3 == 0 { second.clone() } else { first.clone() };
            let i = round * 30 + t / 3;
            sends.push(tokio::spawn(async move { (i, g.accept(&delivery(i)).await.unwrap()) }));
        }
        for s in sends {
            let (i, a) = s.await.unwrap();
            by_delivery.entry(i).or_default().push(a);
        }
    }
    assert_eq!(by_delivery.len(), 300);
    for (i, answers) in &by_delivery {
        let new = answers.iter().filter(|a| matches!(a, Accepted::New(_))).count();
        let ids: Vec<i64> = answers
            .iter()
            .map(|a| match a {
                Accepted::New(id) | Accepted::Duplicate(id) => *id,
            })
            .collect();
        assert!(ids.iter().all(|id| *id == ids[0]), "delivery {i}: every copy answered with one record: {answers:?}");
        if *i == 3 {
            assert_eq!((new, ids[0]), (0, early), "stored before: only duplicates of it");
        } else {
            assert_eq!(new, 1, "delivery {i} is new exactly once: {answers:?}");
        }
    }
    let counts = first.inbox_counts().await.unwrap();
    assert!(counts.contains(&(DeliveryStatus::Pending, 300)), "one record a delivery: {counts:?}");
    // Each record holds its own delivery, under the id it was answered with.
    for d in first.list_deliveries(None, 1000).await.unwrap() {
        let i: usize = d.delivery_id.trim_start_matches("d-").parse().unwrap();
        let sent = delivery(i);
        assert_eq!((&d.source, &d.event, &d.body, d.received_at), (&sent.source, &sent.event, &sent.body, i as i64));
        assert!(matches!(by_delivery[&i][0], Accepted::New(id) | Accepted::Duplicate(id) if id == d.id));
    }
}

/// Runs Cypher over ArcadeDB's HTTP API, beside the store: what another
/// Switchboard version would have written.
async fn cypher(database: &str, command: &str) {
    let answer = reqwest::Client::new()
        .post(format!("{}/api/v1/command/{database}", http_url()))
        .basic_auth("root", Some(password()))
        .json(&serde_json::json!({"language": "cypher", "command": command}))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{command}: {}", answer.text().await.unwrap_or_default());
}

/// A project with thousands of dependencies (a large SBOM) is written, and
/// rewritten, within the server's budget for what one query buffers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_with_thousands_of_dependencies_is_written_and_counted() {
    use switchboard_core::model::Ecosystem;
    use switchboard_core::store::GraphStore;
    use switchboard_testkit::conformance::users_of;
    let (g, _database) = graph().await;
    let mut big = switchboard_testkit::conformance::project("monolith");
    for i in 0..3000 {
        big = big.uses(Ecosystem::Npm, &format!("package-{i}"), "1.0.0");
    }
    g.put_project(&big.clone().build()).await.unwrap();
    g.put_project(&big.uses(Ecosystem::Npm, "package-7", "2.0.0").build()).await.unwrap();
    assert_eq!(g.dependents(&users_of("package-2999")).await.unwrap().total, 1);
    let d = g.dependents(&users_of("package-7")).await.unwrap();
    assert_eq!((d.total, d.versions.len()), (2, 2), "both versions of package-7");
}

/// A graph written before dependents were counted on write (schema 1) has
/// its counts made from the relationships when it is opened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graph_of_schema_1_has_its_dependents_counted_when_opened() {
    use switchboard_core::ids::{PackageName, Version};
    use switchboard_core::model::Ecosystem;
    use switchboard_core::store::{DependentsQuery, GraphStore};
    use switchboard_testkit::conformance::project;
    let (first, database) = graph().await;
    for (slug, version) in [("a", "1.0.0"), ("b", "1.0.0"), ("c", "2.0.0")] {
        first.put_project(&project(slug).uses(Ecosystem::Npm, "left-pad", version).build()).await.unwrap();
    }
    first.put_project(&project("d").uses(Ecosystem::Npm, "left-pad", "1.0.0").archived().build()).await.unwrap();
    cypher(&database.0, "MATCH (c:Dependents) DELETE c").await;
    cypher(&database.0, "MATCH (m:SwitchboardMeta {key: 'schema'}) SET m.version = 1").await;
    let again = Neo4jGraph::open(&options(&database.0)).await.unwrap();
    let q = DependentsQuery {
        package: PackageName::new("left-pad").unwrap(),
        version: None,
        ecosystem: None,
        limit: 10,
        direct_only: false,
    };
    let d = again.dependents(&q).await.unwrap();
    let counts: Vec<(Version, u64, u64)> =
        d.versions.iter().map(|c| (c.version.clone(), c.projects, c.direct)).collect();
    assert_eq!(counts, [(Version::new("1.0.0").unwrap(), 2, 2), (Version::new("2.0.0").unwrap(), 1, 1)]);
    assert_eq!(d.total, 3);
    // Counted once: opening a graph of this schema again changes nothing.
    let d = Neo4jGraph::open(&options(&database.0)).await.unwrap().dependents(&q).await.unwrap();
    assert_eq!(d.total, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_again_keeps_everything_and_a_newer_schema_is_refused() {
    use switchboard_core::store::GraphStore;
    let (first, database) = graph().await;
    let p = switchboard_testkit::conformance::project("payments").build();
    first.put_project(&p).await.unwrap();
    let again = Neo4jGraph::open(&options(&database.0)).await.unwrap();
    assert_eq!(again.get_project(&p.slug).await.unwrap(), Some(p));
    // A later Switchboard marks the graph with its schema version.
    cypher(&database.0, "MATCH (m:SwitchboardMeta {key: 'schema'}) SET m.version = 99").await;
    let err = match Neo4jGraph::open(&options(&database.0)).await {
        Ok(_) => panic!("a newer schema was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("newer Switchboard (schema 99"), "{err}");
}
