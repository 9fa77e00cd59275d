//! `[embeddings]`: the endpoint semantic search embeds text with.

use serde::{Deserialize, Serialize};

/// The embeddings endpoint semantic search uses: `/embeddings` on any
/// OpenAI-compatible server (OpenAI, Ollama, vLLM, llama.cpp server). Without
/// `base_url` there is no semantic search and `find_projects` matches words only.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmbeddingsConfig {
    /// API base URL, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`. Default: unset (no semantic search).
    pub base_url: Option<String>,
    /// Model name, e.g. `text-embedding-3-small` or `nomic-embed-text`. Required with `base_url`.
    pub model: String,
    /// API key sent as a Bearer token. Prefer the `SWITCHBOARD_EMBEDDINGS__API_KEY`
    /// environment variable to writing it here. Default: none.
    pub api_key: Option<String>,
    /// Dimensions to ask the model for, for models that can shorten their
    /// vectors (OpenAI's `text-embedding-3-*`): fewer make search faster and
    /// smaller (docs/benchmarks.md). Default: unset (the model's own).
    pub dimensions: Option<u32>,
    /// Seconds one request may take. A search whose question cannot be
    /// embedded in time matches words only, and says so. Default: `10`.
    pub timeout_secs: u64,
    /// Texts sent in one request while indexing. Default: `32`.
    pub batch_size: u32,
    /// Characters of an entity's text embedded (name, description, facts); the rest is cut. Default: `2000`.
    pub max_chars: u32,
    /// Cosine similarity below which a project is not a match by meaning.
    /// Models differ: raise it if unrelated projects show up. Default: `0.3`.
    pub min_similarity: f32,
    /// Seconds between looks at the operations log for changed projects,
    /// teams and packages, which are embedded again. Default: `10`.
    pub refresh_secs: u64,
}

impl Default for EmbeddingsConfig {
    fn default() -> Self {
        Self {
            base_url: None,
            model: String::new(),
            api_key: None,
            dimensions: None,
            timeout_secs: 10,
            batch_size: 32,
            max_chars: 2000,
            min_similarity: 0.3,
            refresh_secs: 10,
        }
    }
}

impl std::fmt::Debug for EmbeddingsConfig {
    /// Never prints the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddingsConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("dimensions", &self.dimensions)
            .field("timeout_secs", &self.timeout_secs)
            .field("batch_size", &self.batch_size)
            .field("max_chars", &self.max_chars)
            .field("min_similarity", &self.min_similarity)
            .field("refresh_secs", &self.refresh_secs)
            .finish()
    }
}

impl EmbeddingsConfig {
    pub fn enabled(&self) -> bool {
        self.base_url.is_some()
    }

    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        let err = |k: &str, m: &str| Err((format!("embeddings.{k}"), m.to_owned()));
        if let Some(url) = &self.base_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return err("base_url", "must start with http:// or https://, e.g. \"http://127.0.0.1:11434/v1\"");
            }
            if self.model.trim().is_empty() {
                return err(
                    "model",
                    "name the embedding model to use with embeddings.base_url, e.g. \"nomic-embed-text\"",
                );
            }
        }
        if self.timeout_secs == 0 {
            return err("timeout_secs", "must be at least 1");
        }
        if self.dimensions.is_some_and(|d| !(8..=8192).contains(&d)) {
            return err("dimensions", "must be between 8 and 8192, or unset for the model's own");
        }
        if !(1..=2048).contains(&self.batch_size) {
            return err("batch_size", "must be between 1 and 2048");
        }
        if !(50..=100_000).contains(&self.max_chars) {
            return err("max_chars", "must be between 50 and 100000");
        }
        if !(-1.0..=1.0).contains(&self.min_similarity) {
            return err("min_similarity", "must be between -1 and 1 (a cosine similarity)");
        }
        if self.refresh_secs == 0 {
            return err("refresh_secs", "must be at least 1");
        }
        Ok(())
    }
}
