//! Every source behind the same guard: a timeout per query, retries with
//! backoff, and a breaker that stops asking a source that keeps failing
//! (for `breaker_cooldown_secs`), so a dead Loki costs a chat answer one
//! quick "unavailable", not a minute of waiting each time.

use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{Counted, LogBatch, LogError, LogQuery, LogSource};
use crate::config::LogsConfig;
use crate::model::Millis;

pub struct Guarded {
    name: String,
    inner: Arc<dyn LogSource>,
    timeout: Duration,
    retries: u32,
    failures_to_open: u32,
    cooldown: Duration,
    /// Failures in a row, and until when the breaker is open.
    state: Mutex<(u32, Option<Instant>)>,
}

impl Guarded {
    pub fn new(name: &str, inner: Arc<dyn LogSource>, config: &LogsConfig) -> Self {
        Self {
            name: name.to_owned(),
            inner,
            timeout: Duration::from_secs(config.timeout_secs),
            retries: config.retries,
            failures_to_open: config.breaker_failures.max(1),
            cooldown: Duration::from_secs(config.breaker_cooldown_secs),
            state: Mutex::new((0, None)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (u32, Option<Instant>)> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Guarded {
    /// `ask` of the source behind the breaker, within the timeout, retried.
    async fn guard<T, F>(&self, ask: impl Fn() -> F) -> Result<T, LogError>
    where
        F: std::future::Future<Output = Result<T, LogError>>,
    {
        if let Some(until) = self.lock().1
            && Instant::now() < until
        {
            let left = until.saturating_duration_since(Instant::now()).as_secs().max(1);
            return Err(LogError(format!(
                "log source {} failed {} times in a row; not asked again for {left} s",
                self.name, self.failures_to_open
            )));
        }
        let mut last = LogError(format!("log source {}: no answer", self.name));
        for attempt in 0..=self.retries {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(200 * 2u64.pow(attempt - 1))).await;
            }
            match tokio::time::timeout(self.timeout, ask()).await {
                Ok(Ok(answer)) => {
                    *self.lock() = (0, None);
                    return Ok(answer);
                }
                Ok(Err(e)) => last = e,
                Err(_) => {
                    last =
                        LogError(format!("log source {} did not answer within {} s", self.name, self.timeout.as_secs()))
                }
            }
        }
        let mut s = self.lock();
        s.0 += 1;
        if s.0 >= self.failures_to_open {
            s.1 = Some(Instant::now() + self.cooldown);
            s.0 = 0;
        }
        Err(last)
    }
}

#[async_trait]
impl LogSource for Guarded {
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    async fn query(&self, q: &LogQuery) -> Result<LogBatch, LogError> {
        self.guard(|| self.inner.query(q)).await
    }

    async fn count(&self, q: &LogQuery, bucket_ms: Millis) -> Result<Option<Vec<Counted>>, LogError> {
        self.guard(|| self.inner.count(q, bucket_ms)).await
    }

    fn explore_url(&self, q: &LogQuery) -> Option<String> {
        self.inner.explore_url(q)
    }
}
