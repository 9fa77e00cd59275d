//! The model's HTTP calls: `POST {base_url}/chat/completions` with a JSON
//! body, each attempt under a time limit, 429s, 5xxs, timeouts and refused
//! connections retried with exponential backoff and full jitter, honouring
//! `Retry-After` (and OpenAI's `retry-after-ms`) up to a ceiling. Past the
//! ceiling, or when the retries run out, the last answer is reported with
//! its status. A streamed answer is read as server-sent events, one JSON
//! chunk per `data:` line until `[DONE]`.

use std::time::Duration;

use futures_util::{Stream, StreamExt};
use reqwest::header::HeaderMap;
use reqwest::{Response, StatusCode};
use serde_json::Value;

/// First backoff step; each retry doubles it, up to [`BACKOFF_CAP`].
const BACKOFF_BASE: Duration = Duration::from_millis(250);
const BACKOFF_CAP: Duration = Duration::from_secs(8);

#[derive(Clone, Debug)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub attempt_timeout: Duration,
    pub max_wait: Duration,
}

/// Why a model call failed.
#[derive(Debug)]
pub enum CallError {
    /// The server answered this status, saying this.
    Status(u16, String),
    /// No connection could be made.
    Unreachable,
    /// An attempt got no answer within its limit.
    TimedOut,
    /// The answer could not be read: it broke off, or it is not what the API returns.
    Unreadable(String),
}

/// Where and how the model is called.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub client: reqwest::Client,
    pub policy: RetryPolicy,
    /// `{base_url}/chat/completions`.
    pub url: String,
    pub api_key: Option<String>,
}

impl Endpoint {
    /// A chat completion: the answer's JSON.
    pub async fn complete(&self, body: &[u8]) -> Result<Value, CallError> {
        let response = self.send(body).await?;
        let text = response.text().await.map_err(|e| CallError::Unreadable(e.to_string()))?;
        serde_json::from_str(&text).map_err(|e| CallError::Unreadable(e.to_string()))
    }

    /// A streamed chat completion: its chunks as they arrive.
    pub async fn stream(&self, body: &[u8]) -> Result<impl Stream<Item = Result<Value, CallError>> + use<>, CallError> {
        let response = self.send(body).await?;
        Ok(events(response.bytes_stream()))
    }

    /// Sends `body` (retrying as the module says) in a span for traces; a
    /// success status's response, else the failure.
    async fn send(&self, body: &[u8]) -> Result<Response, CallError> {
        use tracing::Instrument;
        // For traces: a span for the call, and its context sent on.
        let span = tracing::debug_span!("llm", call = "chat");
        let response = self.attempts(body).instrument(span).await?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        let said = answer["error"]["message"].as_str().or(answer["error"].as_str()).or(answer["message"].as_str());
        Err(CallError::Status(status.as_u16(), said.unwrap_or(status.canonical_reason().unwrap_or("")).to_owned()))
    }

    async fn attempts(&self, body: &[u8]) -> Result<Response, CallError> {
        let policy = &self.policy;
        let mut retry = 0;
        loop {
            let mut request =
                self.client.post(&self.url).header("content-type", "application/json").body(body.to_vec());
            if let Some(key) = self.api_key.as_deref().filter(|k| !k.is_empty()) {
                request = request.bearer_auth(key);
            }
            for (name, value) in switchboard_core::traces::outgoing() {
                request = request.header(name, value);
            }
            let outcome = tokio::time::timeout(policy.attempt_timeout, request.send()).await;
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
                Ok(Err(e)) if is_connect(&e) => (backoff(retry), Err(CallError::Unreachable)),
                Ok(Err(e)) if e.is_timeout() => (backoff(retry), Err(CallError::TimedOut)),
                Ok(Err(e)) => return Err(CallError::Unreadable(e.to_string())),
                Err(_) => (backoff(retry), Err(CallError::TimedOut)),
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
}

/// Server-sent events as JSON chunks: each `data:` line's payload until
/// `data: [DONE]`; comments, other fields and blank lines are skipped.
fn events<B, E>(bytes: B) -> impl Stream<Item = Result<Value, CallError>>
where
    B: Stream<Item = Result<E, reqwest::Error>> + Unpin,
    E: AsRef<[u8]>,
{
    futures_util::stream::unfold((bytes, Vec::<u8>::new(), false), |(mut bytes, mut buffer, done)| async move {
        if done {
            return None;
        }
        loop {
            if let Some(end) = buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buffer.drain(..=end).collect();
                let line = String::from_utf8_lossy(&line);
                let Some(data) = line.trim_end_matches(['\r', '\n']).strip_prefix("data:") else { continue };
                let data = data.trim();
                if data == "[DONE]" {
                    return None;
                }
                if data.is_empty() {
                    continue;
                }
                let chunk =
                    serde_json::from_str(data).map_err(|e| CallError::Unreadable(format!("a streamed chunk: {e}")));
                return Some((chunk, (bytes, buffer, false)));
            }
            match bytes.next().await {
                Some(Ok(more)) => buffer.extend_from_slice(more.as_ref()),
                Some(Err(e)) => return Some((Err(CallError::Unreadable(e.to_string())), (bytes, buffer, true))),
                // The connection ended without [DONE]: what came is the answer.
                None => return None,
            }
        }
    })
}

fn retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// Refused, or sent on a kept-alive connection the server had closed (it
/// never saw the request): a model call has no side effect, so it is asked again.
fn is_connect(e: &reqwest::Error) -> bool {
    e.is_connect() || (e.is_request() && !e.is_timeout())
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

    #[tokio::test]
    async fn server_sent_events_become_chunks_until_done() {
        let parts: Vec<Result<&[u8], reqwest::Error>> = vec![
            Ok(b": a comment\n\ndata: {\"a\":"),
            Ok(b"1}\r\n\nevent: x\ndata: {\"b\":2}\n\n"),
            Ok(b"data: not json\n\ndata: [DONE]\n\ndata: {\"after\":3}\n"),
        ];
        let chunks: Vec<Result<Value, CallError>> = events(futures_util::stream::iter(parts)).collect().await;
        assert_eq!(chunks.len(), 3, "{chunks:?}");
        assert_eq!(chunks[0].as_ref().unwrap(), &serde_json::json!({"a": 1}));
        assert_eq!(chunks[1].as_ref().unwrap(), &serde_json::json!({"b": 2}));
        assert!(matches!(&chunks[2], Err(CallError::Unreadable(e)) if e.contains("streamed chunk")));
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
