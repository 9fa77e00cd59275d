//! The agent against a real OpenAI-compatible model server: llama.cpp's,
//! with SmolLM2-135M (started by scripts/test through scripts/llama-server).
//! A model this small answers badly, so these tests assert the plumbing —
//! requests the server accepts with tools, streaming and its empty-stream
//! quirk, tool-call shapes parsed, errors reported — and the grounding
//! guarantee: no reply about the organisation without a tool or router
//! result behind it. `switchboard eval agent` scores a capable model.
#![cfg(feature = "server-tests")]

use std::time::Duration;

use switchboard_agents::llm::{Action, Agent, Unavailable};
use switchboard_bot::Conversation;
use switchboard_core::Caller;
use switchboard_core::config::{Config, LlmConfig};
use switchboard_core::model::Role;
use switchboard_testkit::World;

mod common;

fn server() -> String {
    common::env("SWITCHBOARD_TEST_LLAMA_URL", "http://127.0.0.1:19500/v1")
}

fn llm(stream: bool) -> LlmConfig {
    LlmConfig {
        base_url: Some(server()),
        model: "smollm2-135m".into(),
        stream,
        timeout_secs: 120,
        max_retries: 1,
        // Two model calls at most: enough to see a tool call and its answer.
        max_steps: 2,
        temperature: 0.0,
        // The small model can run on to the end of its context: a short
        // answer is all these tests read, and it keeps each call bounded.
        max_answer_tokens: 200,
        ..LlmConfig::default()
    }
}

async fn world(stream: bool) -> World {
    World::builder().config(Config { llm: llm(stream), ..Config::default() }).demo(12, 1).system_clock().build().await
}

fn viewer() -> Caller {
    Caller::new("dave", Role::Viewer, "test")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_accepts_the_agents_requests_with_tools_streamed_or_not() {
    for stream in [false, true] {
        let w = world(stream).await;
        let agent = Agent::new(w.service.clone()).expect("a model is configured");
        let answer = agent
            .turn(&viewer(), &[], "Who owns payments-api?", &|_| {})
            .await
            .unwrap_or_else(|e| panic!("stream={stream}: the server refused the agent's request: {}", e.reason()));
        // Streamed with tools, llama.cpp sends an empty stream: the agent asks
        // again without streaming, so something always comes back.
        assert!(
            !answer.text.trim().is_empty() || !answer.actions.is_empty(),
            "stream={stream}: neither words nor tool calls: {answer:?}"
        );
        for action in &answer.actions {
            match action {
                // Tool calls were parsed into names the registry knows.
                Action::Done { operation, .. } | Action::Proposed { operation, .. } => {
                    assert!(!operation.name().is_empty())
                }
                // A bad argument is the model's, reported back to it, not a crash.
                Action::Failed { tool, error } => assert!(!tool.is_empty() && !error.is_empty(), "{tool}: {error}"),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_errors_are_reported_not_swallowed() {
    let w = world(false).await;
    let agent = Agent::new(w.service.clone()).expect("a model is configured");
    // Far past the server's context: it answers an HTTP error.
    let huge = "tell me about payments-api. ".repeat(3000);
    let err = agent.turn(&viewer(), &[], &huge, &|_| {}).await.expect_err("the context is exceeded");
    let Unavailable::Failed { reason, .. } = &err else { panic!("{err:?}") };
    assert!(reason.contains("HTTP 4") || reason.contains("HTTP 5"), "{reason}");

    // A server that is not there: refused quickly, said plainly.
    let mut cfg = llm(false);
    cfg.base_url = Some("http://127.0.0.1:9/v1".into());
    cfg.timeout_secs = 2;
    let gone = Agent::with_config(w.service.clone(), cfg).expect("configured");
    let started = std::time::Instant::now();
    let err = gone.turn(&viewer(), &[], "who owns orders?", &|_| {}).await.expect_err("nothing listens");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    assert!(err.reason().contains("127.0.0.1:9"), "{}", err.reason());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_reply_about_the_organisation_stands_on_nothing() {
    let w = world(true).await;
    let chat = Conversation::new(w.service.clone()).await.unwrap();
    assert!(chat.has_llm());
    for question in ["who owns payments-api?", "which projects use redis 7.2.4?"] {
        let text = chat.handle(&viewer(), "t", question).await.reply.to_text();
        // Either the model's tools answered (and the reply names them), or the
        // router did (and says the model looked nothing up).
        assert!(text.contains("from `"), "{question}: an answer with nothing behind it: {text}");
    }
}

/// The second server scripts/llama-server starts: the same model serving `/v1/embeddings`.
fn embeddings_server() -> String {
    common::env("SWITCHBOARD_TEST_LLAMA_EMBED_URL", "http://127.0.0.1:19501/v1")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn semantic_search_embeds_through_the_real_server_and_finds_by_meaning() {
    use switchboard_core::config::EmbeddingsConfig;
    use switchboard_core::semantic::{Embedder, StoredVector, VectorKind, VectorStore, unit};
    let config = EmbeddingsConfig {
        base_url: Some(embeddings_server()),
        model: "smollm2-135m-embed".into(),
        timeout_secs: 60,
        ..EmbeddingsConfig::default()
    };
    let embedder = switchboard_embeddings::OpenAiEmbedder::from_config(&config).unwrap().expect("an endpoint is set");
    let docs = [
        ("payments-refunds", "payments-refunds: Issues refunds to customer credit cards"),
        ("k8s-autoscaler", "k8s-autoscaler: Scales kubernetes clusters"),
        ("search-indexer", "search-indexer: Indexes the product catalog for search"),
        ("email-sender", "email-sender: Sends transactional email"),
    ];
    let texts: Vec<String> = docs.iter().map(|(_, t)| t.to_string()).collect();
    // llama-cpp-python answers a vector per token here: the client averages them into one per text.
    let vectors = embedder.embed(&texts).await.expect("the server embeds a batch");
    assert_eq!(vectors.len(), docs.len());
    let dims = vectors[0].len();
    assert!(dims >= 64 && vectors.iter().all(|v| v.len() == dims), "one length for all: {dims}");
    // Empty text is sent as a space, which the server accepts.
    assert_eq!(embedder.embed(&[String::new()]).await.unwrap()[0].len(), dims);

    // Kept in the embedded store and searched as the service does, the refunds service is
    // nearest the question (cosine ≈ 0.90 against ≤ 0.02 for the others, measured).
    let dir = tempfile::tempdir().unwrap();
    let store = switchboard_store::SqliteStore::open(dir.path(), 2).unwrap();
    let rows: Vec<StoredVector> = docs
        .iter()
        .zip(vectors)
        .map(|((key, _), v)| StoredVector {
            kind: VectorKind::Project,
            key: key.to_string(),
            model: embedder.model().into(),
            hash: "h".into(),
            vector: unit(v),
        })
        .collect();
    store.put_vectors(&rows).await.unwrap();
    let question = embedder.embed(&["the service that handles card refunds".into()]).await.unwrap();
    let loaded = store.load_vectors(VectorKind::Project, embedder.model()).await.unwrap();
    let index = switchboard_core::semantic::VectorIndex::build(embedder.model(), 1, loaded);
    let near = index.nearest(&unit(question[0].clone()), 4);
    assert_eq!(near[0].0, "payments-refunds", "{near:?}");
    assert!(near[0].1 > near[1].1 + 0.2, "by a wide margin: {near:?}");
}
