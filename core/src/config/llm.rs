//! `[llm]`: the language model the chat agent uses.

use serde::{Deserialize, Serialize};

/// The language model the chat agent uses: any OpenAI-compatible endpoint
/// (OpenAI, Ollama, vLLM, llama.cpp server). Without `base_url` there is no
/// LLM and the intent router answers everything.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmConfig {
    /// API base URL, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`. Default: unset (no LLM).
    pub base_url: Option<String>,
    /// Model name, e.g. `gpt-4o-mini` or `llama3.1`. Required with `base_url`.
    pub model: String,
    /// API key sent as a Bearer token. Prefer the `SWITCHBOARD_LLM__API_KEY`
    /// environment variable to writing it here. Default: none (Ollama and llama.cpp need none).
    pub api_key: Option<String>,
    /// Stream replies token by token. Default: `true`.
    pub stream: bool,
    /// Seconds one request may wait for the response to start, and a stream
    /// for its next chunk. Default: `60`.
    pub timeout_secs: u64,
    /// Retries of one request after a 429, a 5xx, a timeout or a refused connection. Default: `2`.
    pub max_retries: u32,
    /// Longest `Retry-After` honoured, in seconds; a longer one fails the request at once. Default: `20`.
    pub retry_max_wait_secs: u64,
    /// Model calls per message (each may call tools); the agent stops there and says so. Default: `6`.
    pub max_steps: u32,
    /// Tokens of earlier conversation sent with each message (estimated at four characters a token). Default: `3000`.
    pub memory_tokens: u32,
    /// Failed messages in a row after which the agent stops calling the model
    /// and the built-in commands answer (saying so). Default: `3`.
    pub breaker_failures: u32,
    /// Seconds before the model is tried again after that. Default: `60`.
    pub breaker_cooldown_secs: u64,
    /// Ask the person to confirm, with a button, each change the agent proposes. Default: `true`.
    pub confirm_writes: bool,
    /// Sampling temperature sent to the model. Default: `0.2`.
    pub temperature: f32,
    /// Most tokens one model call may write (`max_tokens`): bounds a model
    /// that will not stop, so a message's time and cost are bounded too.
    /// Default: `1024`.
    pub max_answer_tokens: u32,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            base_url: None,
            model: String::new(),
            api_key: None,
            stream: true,
            timeout_secs: 60,
            max_retries: 2,
            retry_max_wait_secs: 20,
            max_steps: 6,
            memory_tokens: 3000,
            breaker_failures: 3,
            breaker_cooldown_secs: 60,
            confirm_writes: true,
            temperature: 0.2,
            max_answer_tokens: 1024,
        }
    }
}

impl std::fmt::Debug for LlmConfig {
    /// Never prints the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("stream", &self.stream)
            .field("timeout_secs", &self.timeout_secs)
            .field("max_retries", &self.max_retries)
            .field("max_steps", &self.max_steps)
            .field("memory_tokens", &self.memory_tokens)
            .field("confirm_writes", &self.confirm_writes)
            .finish_non_exhaustive()
    }
}

impl LlmConfig {
    pub fn enabled(&self) -> bool {
        self.base_url.is_some()
    }

    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        let err = |k: &str, m: &str| Err((format!("llm.{k}"), m.to_owned()));
        if let Some(url) = &self.base_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return err("base_url", "must start with http:// or https://, e.g. \"http://127.0.0.1:11434/v1\"");
            }
            if self.model.trim().is_empty() {
                return err("model", "name the model to use with llm.base_url, e.g. \"llama3.1\"");
            }
        }
        if self.timeout_secs == 0 {
            return err("timeout_secs", "must be at least 1");
        }
        if self.max_retries > 10 {
            return err("max_retries", "must be at most 10");
        }
        if !(1..=20).contains(&self.max_steps) {
            return err("max_steps", "must be between 1 and 20");
        }
        if self.memory_tokens < 200 {
            return err("memory_tokens", "must be at least 200");
        }
        if self.breaker_failures == 0 {
            return err("breaker_failures", "must be at least 1");
        }
        if !(0.0..=2.0).contains(&self.temperature) {
            return err("temperature", "must be between 0 and 2");
        }
        if !(16..=65_536).contains(&self.max_answer_tokens) {
            return err("max_answer_tokens", "must be between 16 and 65536");
        }
        Ok(())
    }
}
