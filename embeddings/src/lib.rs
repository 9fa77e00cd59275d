//! The embeddings endpoint semantic search uses: `POST {base_url}/embeddings`
//! on any OpenAI-compatible server (OpenAI, Ollama, vLLM, llama.cpp).
//!
//! Shapes met on real servers and handled here: `data` out of input order
//! (sorted by `index`); a vector per token instead of one per input
//! (llama-cpp-python's server with a model that declares no pooling) —
//! averaged into one; vectors in base64 (`encoding_format: "base64"`
//! answers). Retries a refused connection, a 429 or a 5xx twice, with
//! backoff (not a timeout, which waited its whole budget); every error names
//! the endpoint (without credentials).

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use switchboard_core::config::{EmbeddingsConfig, without_credentials};
use switchboard_core::semantic::{EmbedError, Embedder};

/// Attempts of one request (the first and two retries).
const ATTEMPTS: u32 = 3;

pub struct OpenAiEmbedder {
    url: String,
    model: String,
    api_key: Option<String>,
    dimensions: Option<u32>,
    client: reqwest::Client,
}

impl OpenAiEmbedder {
    /// The client for `[embeddings]`; `None` when no endpoint is configured.
    pub fn from_config(c: &EmbeddingsConfig) -> Result<Option<Self>, String> {
        let Some(base) = &c.base_url else { return Ok(None) };
        // HTTPS needs a TLS provider: the process's own, else ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(c.timeout_secs))
            .build()
            .map_err(|e| format!("embeddings: {e}"))?;
        Ok(Some(Self {
            url: format!("{}/embeddings", base.trim_end_matches('/')),
            model: c.model.clone(),
            api_key: c.api_key.clone(),
            dimensions: c.dimensions,
            client,
        }))
    }

    fn fail(&self, what: impl std::fmt::Display) -> EmbedError {
        EmbedError(format!("embeddings endpoint {}: {what}", without_credentials(&self.url)))
    }

    async fn once(&self, texts: &[String]) -> Result<Value, (EmbedError, bool)> {
        let mut body = json!({"model": self.model, "input": texts});
        if let Some(d) = self.dimensions {
            body["dimensions"] = json!(d);
        }
        let mut req = self.client.post(&self.url).json(&body);
        if let Some(k) = &self.api_key {
            req = req.bearer_auth(k);
        }
        // A timeout has waited the whole budget already: it is not tried again.
        let resp = req.send().await.map_err(|e| (self.fail(timed(&e)), !e.is_timeout()))?;
        let status = resp.status();
        let body = resp.text().await.map_err(|e| (self.fail(timed(&e)), !e.is_timeout()))?;
        if !status.is_success() {
            let said: String = body.trim().chars().take(300).collect();
            let again = status.as_u16() == 429 || status.is_server_error();
            return Err((self.fail(format!("HTTP {}: {said}", status.as_u16())), again));
        }
        serde_json::from_str(&body).map_err(|e| (self.fail(format!("not an embeddings answer: {e}")), false))
    }
}

#[async_trait]
impl Embedder for OpenAiEmbedder {
    fn model(&self) -> &str {
        &self.model
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        // An empty string is refused by some servers: it means nothing, so a space stands in.
        let texts: Vec<String> =
            texts.iter().map(|t| if t.trim().is_empty() { " ".to_owned() } else { t.clone() }).collect();
        let mut attempt = 0;
        let answer = loop {
            attempt += 1;
            match self.once(&texts).await {
                Ok(v) => break v,
                Err((e, true)) if attempt < ATTEMPTS => {
                    tracing::debug!(error = %e, attempt, "embeddings request failed; trying again");
                    tokio::time::sleep(Duration::from_millis(250 * 4u64.pow(attempt - 1))).await;
                }
                Err((e, _)) => return Err(e),
            }
        };
        parse(&answer, texts.len()).map_err(|e| self.fail(e))
    }
}

/// What a failed request says, a timeout named as one.
fn timed(e: &reqwest::Error) -> String {
    if e.is_timeout() { "no answer within embeddings.timeout_secs".to_owned() } else { e.to_string() }
}

/// The vectors of an `/embeddings` answer for `n` inputs, in input order.
pub fn parse(answer: &Value, n: usize) -> Result<Vec<Vec<f32>>, String> {
    let data = answer.get("data").and_then(Value::as_array).ok_or("the answer has no `data` list")?;
    if data.len() != n {
        return Err(format!("{} vectors for {n} texts", data.len()));
    }
    let mut out: Vec<Option<Vec<f32>>> = vec![None; n];
    for (i, item) in data.iter().enumerate() {
        let at = item.get("index").and_then(Value::as_u64).map_or(i, |x| x as usize);
        let slot = out.get_mut(at).ok_or_else(|| format!("index {at} is past the {n} texts"))?;
        let v = vector(item.get("embedding").ok_or("an item has no `embedding`")?)?;
        if slot.replace(v).is_some() {
            return Err(format!("index {at} answered twice"));
        }
    }
    let out: Vec<Vec<f32>> = out.into_iter().map(|v| v.expect("every index was filled: n items, no repeats")).collect();
    let dims = out[0].len();
    if dims == 0 || out.iter().any(|v| v.len() != dims) {
        return Err("vectors of different lengths, or empty ones".into());
    }
    if out.iter().flatten().any(|x| !x.is_finite()) {
        return Err("a vector holds a value that is not a number".into());
    }
    Ok(out)
}

/// One vector from an `embedding` value: floats, a float per token (averaged), or base64.
fn vector(v: &Value) -> Result<Vec<f32>, String> {
    match v {
        Value::String(b64) => {
            let bytes = STANDARD.decode(b64).map_err(|_| "an embedding in base64 that does not decode")?;
            switchboard_core::semantic::from_bytes(&bytes).ok_or_else(|| "a base64 embedding of odd length".into())
        }
        Value::Array(items) if items.first().is_some_and(Value::is_array) => {
            let rows: Vec<Vec<f32>> = items.iter().map(floats).collect::<Result<_, _>>()?;
            let dims = rows[0].len();
            if rows.iter().any(|r| r.len() != dims) {
                return Err("token vectors of different lengths".into());
            }
            let mut mean = vec![0.0f32; dims];
            for r in &rows {
                mean.iter_mut().zip(r).for_each(|(m, x)| *m += x);
            }
            mean.iter_mut().for_each(|m| *m /= rows.len() as f32);
            Ok(mean)
        }
        other => floats(other),
    }
}

fn floats(v: &Value) -> Result<Vec<f32>, String> {
    let items = v.as_array().ok_or("an embedding that is not a list of numbers")?;
    items.iter().map(|x| x.as_f64().map(|f| f as f32).ok_or_else(|| "an embedding holds a non-number".into())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_met_on_real_servers() {
        // Out of order, as the index says.
        let a = json!({"data": [{"index": 1, "embedding": [0.0, 1.0]}, {"index": 0, "embedding": [1.0, 0.0]}]});
        assert_eq!(parse(&a, 2).unwrap(), vec![vec![1.0, 0.0], vec![0.0, 1.0]]);
        // A vector per token (llama-cpp-python without pooling): averaged.
        let t = json!({"data": [{"index": 0, "embedding": [[1.0, 3.0], [3.0, 5.0]]}]});
        assert_eq!(parse(&t, 1).unwrap(), vec![vec![2.0, 4.0]]);
        // Base64 of little-endian floats: [1.0, 0.5].
        let b = json!({"data": [{"index": 0, "embedding": "AACAPwAAAD8="}]});
        assert_eq!(parse(&b, 1).unwrap(), vec![vec![1.0, 0.5]]);
    }

    #[test]
    fn answers_that_cannot_be_used_say_why() {
        for (answer, n, says) in [
            (json!({"error": "x"}), 1, "no `data`"),
            (json!({"data": []}), 1, "0 vectors for 1"),
            (json!({"data": [{"index": 0, "embedding": [1.0]}, {"index": 0, "embedding": [1.0]}]}), 2, "twice"),
            (json!({"data": [{"index": 5, "embedding": [1.0]}]}), 1, "past"),
            (json!({"data": [{"index": 0, "embedding": []}]}), 1, "empty"),
            (json!({"data": [{"index": 0, "embedding": [1.0]}, {"index": 1, "embedding": [1.0, 2.0]}]}), 2, "lengths"),
            (json!({"data": [{"index": 0, "embedding": ["x"]}]}), 1, "non-number"),
            (json!({"data": [{"index": 0, "embedding": "!!"}]}), 1, "does not decode"),
        ] {
            let e = parse(&answer, n).unwrap_err();
            assert!(e.contains(says), "{answer}: {e}");
        }
    }
}
