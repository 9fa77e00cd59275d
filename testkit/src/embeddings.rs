//! A local OpenAI-compatible `/v1/embeddings` endpoint for tests: vectors
//! from a small table of concepts (words that mean the same thing share a
//! dimension, so "reimburse" is near "refunds") plus a hashed dimension per
//! other word. It can answer per-token vectors as llama-cpp-python does, or
//! fail, and it counts the texts it embedded.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// Words that mean one thing, a dimension each.
const CONCEPTS: &[&[&str]] = &[
    &["refund", "refunds", "reimburse", "reimbursement", "chargeback", "chargebacks"],
    &["card", "cards", "credit", "visa", "mastercard", "pan"],
    &["email", "emails", "mail", "mailer", "newsletter", "inbox"],
    &["push", "notification", "notifications", "notify", "alerts"],
    &["cart", "basket", "shopping", "trolley"],
    &["login", "signin", "sign", "password", "passwords", "credentials", "authentication"],
    &["fraud", "scam", "scammers", "suspicious"],
    &["invoice", "invoices", "invoicing", "bill", "bills", "billing"],
    &["search", "find", "lookup", "indexer", "indexing"],
    &["tax", "taxes", "vat"],
];
/// Dimensions for other words, hashed.
const HASHED: usize = 64;
/// Words that say nothing.
const STOP: &[&str] = &[
    "a", "an", "the", "of", "to", "and", "or", "for", "that", "which", "who", "is", "it", "our", "their", "with",
    "team", "by",
];

/// The vector the fake gives `text`.
pub fn vector(text: &str) -> Vec<f32> {
    let mut v = vec![0.0f32; CONCEPTS.len() + HASHED];
    for w in text.to_lowercase().split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        if STOP.contains(&w) {
            continue;
        }
        match CONCEPTS.iter().position(|c| c.contains(&w)) {
            Some(i) => v[i] += 3.0,
            None => {
                let h = w.bytes().fold(2166136261u32, |h, b| (h ^ b as u32).wrapping_mul(16777619));
                v[CONCEPTS.len() + h as usize % HASHED] += 1.0;
            }
        }
    }
    v
}

#[derive(Default)]
struct Fake {
    per_token: AtomicBool,
    failing: AtomicBool,
    texts: AtomicUsize,
}

/// A running fake; stops when dropped.
pub struct FakeEmbeddings {
    /// The API base to configure (`http://127.0.0.1:PORT/v1`).
    pub url: String,
    state: Arc<Fake>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeEmbeddings {
    pub async fn start() -> std::io::Result<Self> {
        let state = Arc::new(Fake::default());
        let app = axum::Router::new().route("/v1/embeddings", post(embed)).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/v1", listener.local_addr()?);
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "fake embeddings server stopped");
            }
        });
        Ok(Self { url, state, task })
    }

    /// Answer a vector per word (averaged by the client), as llama-cpp-python does.
    pub fn per_token(&self, on: bool) {
        self.state.per_token.store(on, Ordering::SeqCst);
    }

    /// Answer every request with a 500.
    pub fn failing(&self, on: bool) {
        self.state.failing.store(on, Ordering::SeqCst);
    }

    /// Texts embedded so far.
    pub fn texts(&self) -> usize {
        self.state.texts.load(Ordering::SeqCst)
    }
}

impl Drop for FakeEmbeddings {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn embed(State(fake): State<Arc<Fake>>, Json(body): Json<Value>) -> Response {
    if fake.failing.load(Ordering::SeqCst) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "the fake is failing").into_response();
    }
    let inputs: Vec<String> = match &body["input"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => return (StatusCode::BAD_REQUEST, "input must be a string or a list of strings").into_response(),
    };
    if body["model"].as_str().is_none_or(str::is_empty) {
        return (StatusCode::BAD_REQUEST, "model is required").into_response();
    }
    fake.texts.fetch_add(inputs.len(), Ordering::SeqCst);
    // Shortened as OpenAI's text-embedding-3 models do when asked.
    let keep = body["dimensions"].as_u64().map_or(usize::MAX, |d| d as usize);
    let vector = |t: &str| vector(t).into_iter().take(keep).collect::<Vec<f32>>();
    let per_token = fake.per_token.load(Ordering::SeqCst);
    // Listed newest first: the client orders them by index.
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .rev()
        .map(|(i, t)| {
            let embedding = if per_token {
                // Each word's vector scaled by the number of words: their mean is the text's.
                let words: Vec<&str> = t.split_whitespace().collect();
                let n = words.len().max(1) as f32;
                let rows: Vec<Vec<f32>> = if words.is_empty() {
                    vec![vector(t)]
                } else {
                    words.iter().map(|w| vector(w).into_iter().map(|x| x * n).collect()).collect()
                };
                json!(rows)
            } else {
                json!(vector(t))
            };
            json!({"object": "embedding", "index": i, "embedding": embedding})
        })
        .collect();
    Json(json!({"object": "list", "model": body["model"], "data": data})).into_response()
}
