//! What the HTTP sources share: the client (with `[logs] timeout_secs`),
//! credentials, and how a failed answer is named (the source, its address
//! without credentials, the status and what the server said).

use std::time::Duration;

use serde_json::Value;
use switchboard_core::config::{LogSourceConfig, LogsConfig};
use switchboard_core::logs::LogError;

pub(crate) struct Http {
    pub name: String,
    pub base: String,
    basic: Option<(String, String)>,
    token: Option<String>,
    /// How a token is sent: `Bearer` (Loki) or `ApiKey` (Elasticsearch).
    scheme: &'static str,
    pub client: reqwest::Client,
}

impl Http {
    pub fn new(c: &LogSourceConfig, logs: &LogsConfig, scheme: &'static str) -> Result<Self, String> {
        // HTTPS needs a TLS provider: the process's own, else ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let base =
            c.url.clone().ok_or_else(|| format!("log source {}: a {:?} source needs its url", c.name, c.kind))?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(logs.timeout_secs))
            .build()
            .map_err(|e| format!("log source {}: {e}", c.name))?;
        Ok(Self {
            name: c.name.clone(),
            base: base.trim_end_matches('/').to_owned(),
            basic: c.username.clone().map(|u| (u, c.password.clone().unwrap_or_default())),
            token: c.token.clone(),
            scheme,
            client,
        })
    }

    pub fn fail(&self, what: impl std::fmt::Display) -> LogError {
        LogError(format!(
            "log source {} at {}: {what}",
            self.name,
            switchboard_core::config::without_credentials(&self.base)
        ))
    }

    /// Sends `req` with the source's credentials; the answer as JSON, or an
    /// error naming the source (`what` names the expected answer).
    pub async fn json(&self, mut req: reqwest::RequestBuilder, what: &str) -> Result<Value, LogError> {
        use tracing::Instrument;
        let span = tracing::debug_span!("log_source", what);
        async move {
            for (name, value) in switchboard_core::traces::outgoing() {
                req = req.header(name, value);
            }
            if let Some((u, p)) = &self.basic {
                req = req.basic_auth(u, Some(p));
            } else if let Some(t) = &self.token {
                req = req.header("Authorization", format!("{} {t}", self.scheme));
            }
            let resp = req.send().await.map_err(|e| self.fail(e))?;
            let status = resp.status();
            let body = resp.text().await.map_err(|e| self.fail(e))?;
            if !status.is_success() {
                let said: String = body.trim().chars().take(300).collect();
                return Err(self.fail(format!("HTTP {}: {said}", status.as_u16())));
            }
            serde_json::from_str(&body).map_err(|e| self.fail(format!("not {what}: {e}")))
        }
        .instrument(span)
        .await
    }
}
