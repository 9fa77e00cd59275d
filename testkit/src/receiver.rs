//! An HTTP endpoint on loopback that records every request posted to it
//! (outgoing webhooks, notifications) and answers 200, or a failure while
//! one is asked for.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use serde_json::Value;
use tokio::sync::Notify;

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    /// The body as JSON (`null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Default)]
struct Inner {
    got: Mutex<Vec<Received>>,
    arrived: Notify,
    failures: Mutex<u32>,
}

/// A running receiver; stops with the test's runtime.
#[derive(Clone)]
pub struct Receiver {
    /// Its base URL; any path under it is accepted.
    pub url: String,
    inner: Arc<Inner>,
}

impl Receiver {
    pub async fn start() -> std::io::Result<Self> {
        let inner: Arc<Inner> = Arc::default();
        let app = axum::Router::new().fallback(record).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { url, inner })
    }

    /// Everything received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.inner.got.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits (up to `secs`) until `n` requests have arrived; what arrived by then.
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let arrived = self.inner.arrived.notified();
            let got = self.received();
            if got.len() >= n || tokio::time::Instant::now() >= deadline {
                return got;
            }
            let _ = tokio::time::timeout_at(deadline, arrived).await;
        }
    }

    /// The next `n` requests are answered 503 (and still recorded).
    pub fn fail_next(&self, n: u32) {
        *self.inner.failures.lock().unwrap_or_else(|e| e.into_inner()) = n;
    }
}

async fn record(State(inner): State<Arc<Inner>>, uri: Uri, headers: HeaderMap, body: Bytes) -> StatusCode {
    inner.got.lock().unwrap_or_else(|e| e.into_inner()).push(Received { path: uri.path().to_owned(), headers, body });
    inner.arrived.notify_waiters();
    let mut failures = inner.failures.lock().unwrap_or_else(|e| e.into_inner());
    if *failures > 0 {
        *failures -= 1;
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    StatusCode::OK
}
