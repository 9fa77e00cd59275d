//! The HTTP path under async-openai: a tower service that gives each attempt
//! a time limit and retries 429s, 5xxs, timeouts and refused connections
//! with exponential backoff and full jitter, honouring `Retry-After` (and
//! OpenAI's `retry-after-ms`) up to a ceiling. Past the ceiling, or when the
//! retries run out, the last answer goes up unchanged so async-openai reports
//! it with its status.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;
use reqwest::header::HeaderMap;
use reqwest::{Response, StatusCode};

/// First backoff step; each retry doubles it, up to [`BACKOFF_CAP`].
const BACKOFF_BASE: Duration = Duration::from_millis(250);
const BACKOFF_CAP: Duration = Duration::from_secs(8);

#[derive(Clone, Debug)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub attempt_timeout: Duration,
    pub max_wait: Duration,
}

/// An attempt that got no response in time.
#[derive(Debug, thiserror::Error)]
#[error("no response within {0:?}")]
pub struct TimedOut(pub Duration);

#[derive(Clone, Debug)]
pub struct Retrying {
    client: reqwest::Client,
    policy: RetryPolicy,
}

impl Retrying {
    pub fn new(client: reqwest::Client, policy: RetryPolicy) -> Self {
        Self { client, policy }
    }
}

type HttpFuture = Pin<Box<dyn Future<Output = Result<Response, OpenAIError>> + Send>>;

impl tower::Service<HttpRequestFactory> for Retrying {
    type Response = Response;
    type Error = OpenAIError;
    type Future = HttpFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: HttpRequestFactory) -> Self::Future {
        use tracing::Instrument;
        let client = self.client.clone();
        let policy = self.policy.clone();
        // For traces: a span for the call, and its context sent on.
        let span = tracing::debug_span!("llm", call = "chat");
        Box::pin(async move { send(&client, &policy, &request).await }.instrument(span))
    }
}

async fn send(
    client: &reqwest::Client,
    policy: &RetryPolicy,
    request: &HttpRequestFactory,
) -> Result<Response, OpenAIError> {
    let mut retry = 0;
    loop {
        let attempt = async {
            let mut built = request.build().await?;
            for (name, value) in switchboard_core::traces::outgoing() {
                if let (Ok(name), Ok(value)) =
                    (reqwest::header::HeaderName::try_from(name), reqwest::header::HeaderValue::try_from(value))
                {
                    built.headers_mut().insert(name, value);
                }
            }
            client.execute(built).await.map_err(OpenAIError::Reqwest)
        };
        let outcome = tokio::time::timeout(policy.attempt_timeout, attempt).await;
        let (wait, last) = match outcome {
            Ok(Ok(response)) if retryable(response.status()) => {
                let asked = retry_after(response.headers());
                if asked.is_some_and(|d| d > policy.max_wait) {
                    tracing::warn!(status = %response.status(), ?asked, "LLM asks to wait longer than allowed");
                    return Ok(response);
                }
                (asked.unwrap_or_else(|| backoff(retry)), Ok(response))
            }
            Ok(Ok(response)) => return Ok(response),
            Ok(Err(e)) if is_connect(&e) => (backoff(retry), Err(e)),
            Ok(Err(e)) => return Err(e),
            Err(_) => (backoff(retry), Err(OpenAIError::Boxed(Box::new(TimedOut(policy.attempt_timeout))))),
        };
        if retry >= policy.max_retries {
            return last;
        }
        retry += 1;
        let status = last.as_ref().map(|r| r.status().as_u16()).ok();
        tracing::info!(retry, ?status, wait_ms = wait.as_millis() as u64, "retrying LLM request");
        tokio::time::sleep(wait).await;
    }
}

fn retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// Refused, or sent on a kept-alive connection the server had closed (it
/// never saw the request): a model call has no side effect, so it is asked again.
fn is_connect(e: &OpenAIError) -> bool {
    matches!(e, OpenAIError::Reqwest(e) if e.is_connect() || (e.is_request() && !e.is_timeout()))
}

/// `retry-after-ms` (OpenAI) or `Retry-After` in seconds.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok().filter(|v| *v >= 0.0);
    value("retry-after-ms")
        .map(|ms| Duration::from_secs_f64(ms / 1000.0))
        .or_else(|| value("retry-after").map(Duration::from_secs_f64))
}

/// Full jitter: a random wait between half and all of the exponential step.
pub fn backoff(retry: u32) -> Duration {
    let step = BACKOFF_BASE.saturating_mul(1 << retry.min(16)).min(BACKOFF_CAP);
    let unit = (uuid::Uuid::new_v4().as_u128() % 1_000_000) as f64 / 1_000_000.0;
    step.mul_f64(0.5 + unit / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_milliseconds() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", "150".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_millis(150)));
        let mut h = HeaderMap::new();
        h.insert("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap());
        assert_eq!(retry_after(&h), None, "a date falls back to backoff");
    }

    #[test]
    fn backoff_grows_with_jitter_and_a_cap() {
        for retry in 0..20 {
            let d = backoff(retry);
            let step = BACKOFF_BASE.saturating_mul(1 << retry.min(16)).min(BACKOFF_CAP);
            assert!(d >= step / 2 && d <= step, "retry {retry}: {d:?} outside [{:?}, {step:?}]", step / 2);
        }
        assert!(backoff(30) <= BACKOFF_CAP);
    }
}
