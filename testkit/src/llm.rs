//! A scripted OpenAI-compatible server on loopback, for tests and for the
//! agent benchmark: each `POST /v1/chat/completions` takes the next scripted
//! step (plain text, tool calls, an HTTP error, a hang) and answers it as a
//! JSON completion or, when the request asks to stream, as server-sent
//! chunks the way OpenAI sends them. It keeps every request body it got.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures_util::StreamExt as _;
use serde_json::{Value, json};

/// One scripted answer.
#[derive(Clone, Debug)]
pub enum Step {
    /// A plain answer (streamed in a few chunks when asked to stream).
    Text(String),
    /// Tool calls: (name, raw arguments text).
    Calls(Vec<(String, String)>),
    /// An HTTP error with an optional `Retry-After` value.
    Status { status: u16, retry_after: Option<String> },
    /// Accepts the request and never answers.
    Hang,
    /// Starts a stream, sends `first` and then stalls forever.
    Stall { first: String },
    /// A plain answer after `ms` milliseconds (a slow model).
    Slow { ms: u64, text: String },
}

impl Step {
    pub fn text(t: &str) -> Self {
        Self::Text(t.to_owned())
    }

    pub fn call(name: &str, arguments: Value) -> Self {
        Self::Calls(vec![(name.to_owned(), arguments.to_string())])
    }

    pub fn raw_call(name: &str, arguments: &str) -> Self {
        Self::Calls(vec![(name.to_owned(), arguments.to_owned())])
    }
}

/// Request bodies kept (the newest): enough for any test, bounded for benchmarks.
const KEPT: usize = 64;

#[derive(Default)]
struct Script {
    steps: VecDeque<Step>,
    /// Repeat the script forever (benchmarks).
    cycle: bool,
    requests: Vec<Value>,
}

type Shared = Arc<Mutex<Script>>;

/// A running fake; stops when dropped.
pub struct FakeLlm {
    /// The API base to configure (`http://127.0.0.1:PORT/v1`).
    pub url: String,
    script: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for FakeLlm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeLlm").field("url", &self.url).finish_non_exhaustive()
    }
}

impl FakeLlm {
    /// Serves `steps` once each, in order; past the end it answers 500.
    pub async fn start(steps: Vec<Step>) -> std::io::Result<Self> {
        Self::serve(steps, false).await
    }

    /// Serves `steps` in a loop.
    pub async fn cycle(steps: Vec<Step>) -> std::io::Result<Self> {
        Self::serve(steps, true).await
    }

    async fn serve(steps: Vec<Step>, cycle: bool) -> std::io::Result<Self> {
        let script: Shared = Arc::new(Mutex::new(Script { steps: steps.into(), cycle, requests: Vec::new() }));
        let app = axum::Router::new().route("/v1/chat/completions", post(complete)).with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/v1", listener.local_addr()?);
        // Small SSE chunks must not wait for Nagle's algorithm.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::warn!(error = %e, "fake LLM: cannot set TCP_NODELAY");
            }
        });
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "fake LLM server stopped");
            }
        });
        Ok(Self { url, script, task })
    }

    /// Request bodies received so far (the newest 64).
    pub fn requests(&self) -> Vec<Value> {
        self.script.lock().unwrap_or_else(|e| e.into_inner()).requests.clone()
    }

    /// Steps not served yet.
    pub fn remaining(&self) -> usize {
        self.script.lock().unwrap_or_else(|e| e.into_inner()).steps.len()
    }
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn complete(State(script): State<Shared>, Json(body): Json<Value>) -> Response {
    let step = {
        let mut s = script.lock().unwrap_or_else(|e| e.into_inner());
        if s.requests.len() == KEPT {
            s.requests.remove(0);
        }
        s.requests.push(body.clone());
        let step = s.steps.pop_front();
        if let (Some(step), true) = (&step, s.cycle) {
            s.steps.push_back(step.clone());
        }
        step
    };
    let step = match step {
        Some(Step::Slow { ms, text }) => {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            Some(Step::Text(text))
        }
        other => other,
    };
    let stream = body["stream"].as_bool().unwrap_or(false);
    let model = body["model"].as_str().unwrap_or("fake").to_owned();
    match step {
        None => error(StatusCode::INTERNAL_SERVER_ERROR, None, "the fake's script is used up"),
        Some(Step::Status { status, retry_after }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            error(status, retry_after, "scripted failure")
        }
        Some(Step::Hang) => std::future::pending::<Response>().await,
        Some(Step::Stall { first }) => {
            let first = chunk(&model, json!({"role": "assistant", "content": first}), None);
            let events = futures_util::stream::once(async move { Ok::<_, Infallible>(Event::default().data(first)) })
                .chain(futures_util::stream::pending());
            Sse::new(events).into_response()
        }
        Some(Step::Text(text)) if stream => {
            let mut chunks = vec![chunk(&model, json!({"role": "assistant", "content": ""}), None)];
            for piece in split_words(&text) {
                chunks.push(chunk(&model, json!({"content": piece}), None));
            }
            chunks.push(chunk(&model, json!({}), Some("stop")));
            sse(chunks)
        }
        Some(Step::Text(text) | Step::Slow { text, .. }) => {
            Json(completion(&model, json!({"role": "assistant", "content": text}), "stop")).into_response()
        }
        Some(Step::Calls(calls)) if stream => {
            let mut chunks = vec![chunk(&model, json!({"role": "assistant", "content": null}), None)];
            for (i, (name, args)) in calls.iter().enumerate() {
                // Name first, then the arguments in two halves, as OpenAI does.
                let id = format!("call_fake_{i}");
                chunks.push(chunk(
                    &model,
                    json!({"tool_calls": [{"index": i, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}]}),
                    None,
                ));
                let mid = args.char_indices().nth(args.chars().count() / 2).map(|(b, _)| b).unwrap_or(0);
                for part in [&args[..mid], &args[mid..]] {
                    chunks.push(chunk(
                        &model,
                        json!({"tool_calls": [{"index": i, "function": {"arguments": part}}]}),
                        None,
                    ));
                }
            }
            chunks.push(chunk(&model, json!({}), Some("tool_calls")));
            sse(chunks)
        }
        Some(Step::Calls(calls)) => {
            let tool_calls: Vec<Value> = calls
                .iter()
                .enumerate()
                .map(|(i, (name, args))| {
                    json!({"id": format!("call_fake_{i}"), "type": "function", "function": {"name": name, "arguments": args}})
                })
                .collect();
            Json(completion(
                &model,
                json!({"role": "assistant", "content": null, "tool_calls": tool_calls}),
                "tool_calls",
            ))
            .into_response()
        }
    }
}

fn error(status: StatusCode, retry_after: Option<String>, message: &str) -> Response {
    let body = Json(json!({"error": {"message": message, "type": "fake_error", "param": null, "code": null}}));
    let mut r = (status, body).into_response();
    if let Some(v) = retry_after.and_then(|v| v.parse().ok()) {
        r.headers_mut().insert("retry-after", v);
    }
    r
}

fn split_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for (i, word) in text.split_inclusive(' ').enumerate() {
        current.push_str(word);
        if i % 3 == 2 {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn chunk(model: &str, delta: Value, finish: Option<&str>) -> String {
    json!({
        "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    })
    .to_string()
}

fn completion(model: &str, message: Value, finish: &str) -> Value {
    json!({
        "id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    })
}

fn sse(chunks: Vec<String>) -> Response {
    let events = chunks
        .into_iter()
        .map(|c| Ok::<_, Infallible>(Event::default().data(c)))
        .chain(std::iter::once(Ok(Event::default().data("[DONE]"))));
    // A little spacing so a reader really sees a stream.
    let events = futures_util::stream::iter(events).then(|e| async move {
        tokio::time::sleep(Duration::from_millis(1)).await;
        e
    });
    Sse::new(events).into_response()
}
