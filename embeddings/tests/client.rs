//! The embeddings client against the test kit's OpenAI-compatible fake:
//! vectors in input order, llama.cpp's per-token shape averaged, shortened
//! vectors asked for, and failures named with the endpoint after retries.

use switchboard_core::config::EmbeddingsConfig;
use switchboard_core::semantic::Embedder;
use switchboard_embeddings::OpenAiEmbedder;
use switchboard_testkit::embeddings::{FakeEmbeddings, vector};

fn client(url: &str, dimensions: Option<u32>) -> OpenAiEmbedder {
    let c = EmbeddingsConfig {
        base_url: Some(url.into()),
        model: "fake-embed".into(),
        dimensions,
        timeout_secs: 5,
        ..EmbeddingsConfig::default()
    };
    OpenAiEmbedder::from_config(&c).unwrap().expect("an endpoint is set")
}

#[tokio::test]
async fn vectors_come_back_in_order_whatever_the_shape() {
    let fake = FakeEmbeddings::start().await.unwrap();
    let texts: Vec<String> = ["refunds for cards", "email sender", "tax on baskets"].map(String::from).to_vec();
    let plain = client(&fake.url, None).embed(&texts).await.unwrap();
    assert_eq!(plain, texts.iter().map(|t| vector(t)).collect::<Vec<_>>(), "the fake lists them newest first");
    fake.per_token(true);
    let averaged = client(&fake.url, None).embed(&texts).await.unwrap();
    for (a, p) in averaged.iter().zip(&plain) {
        assert!(a.iter().zip(p).all(|(x, y)| (x - y).abs() < 1e-4), "a vector per token averages to the text's");
    }
    assert_eq!(fake.texts(), 6);
    assert!(client(&fake.url, None).embed(&[]).await.unwrap().is_empty(), "nothing to embed sends nothing");
    assert_eq!(fake.texts(), 6);
}

#[tokio::test]
async fn shorter_vectors_are_asked_for_when_configured() {
    let fake = FakeEmbeddings::start().await.unwrap();
    let v = client(&fake.url, Some(16)).embed(&["card refunds".into()]).await.unwrap();
    assert_eq!(v[0].len(), 16);
}

#[tokio::test]
async fn failures_name_the_endpoint_after_retries() {
    let fake = FakeEmbeddings::start().await.unwrap();
    fake.failing(true);
    let e = client(&fake.url, None).embed(&["x".into()]).await.unwrap_err();
    assert!(e.0.contains(&fake.url) && e.0.contains("HTTP 500"), "{e}");
    // Nobody listening: refused, named, after the retries' backoff.
    let dead = format!(
        "http://127.0.0.1:{}/v1",
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    );
    let started = std::time::Instant::now();
    let e = client(&dead, None).embed(&["x".into()]).await.unwrap_err();
    assert!(e.0.contains(&dead), "{e}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "two short retries, not a hang");
}
