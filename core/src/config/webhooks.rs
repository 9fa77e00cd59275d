//! `[webhooks]`, `[[rules]]` and `[notifications]`: what comes in from other
//! systems, how it maps to operations, and what goes out to teams.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Notifications for owning teams (incident triggered/resolved, deployment
/// failed, score dropped), sent to an outgoing webhook signed with HMAC.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotificationsConfig {
    /// Where each notification is POSTed as JSON. Default: unset (none sent).
    pub webhook_url: Option<String>,
    /// Signs each body: `X-Switchboard-Signature-256: sha256=<hex HMAC-SHA256>`.
    /// Prefer `SWITCHBOARD_NOTIFICATIONS__WEBHOOK_SECRET`. Default: unset (unsigned).
    pub webhook_secret: Option<String>,
    /// A score falling by more than this many points is a notification. Default: `10`.
    pub score_drop: u32,
    /// Seconds one delivery attempt may take; three attempts. Default: `10`.
    pub timeout_secs: u64,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        Self { webhook_url: None, webhook_secret: None, score_drop: 10, timeout_secs: 10 }
    }
}

impl std::fmt::Debug for NotificationsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationsConfig")
            .field("webhook_url", &self.webhook_url)
            .field("webhook_secret", &self.webhook_secret.as_ref().map(|_| "<set>"))
            .field("score_drop", &self.score_drop)
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

impl NotificationsConfig {
    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        if let Some(url) = &self.webhook_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(("notifications.webhook_url".into(), "must start with http:// or https://".into()));
        }
        if self.timeout_secs == 0 {
            return Err(("notifications.timeout_secs".into(), "must be at least 1".into()));
        }
        Ok(())
    }
}

/// Webhook receivers: secrets, limits and the retry policy of the inbox.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksConfig {
    /// The GitHub App's webhook secret. `SWITCHBOARD_GITHUB_WEBHOOK_SECRET` wins.
    /// Unset: `/hooks/github` refuses every delivery. Default: unset.
    pub github_secret: Option<String>,
    /// PagerDuty v3 subscription secrets (list two while rotating).
    /// `SWITCHBOARD_PAGERDUTY_WEBHOOK_SECRET` adds one. Default: none.
    pub pagerduty_secrets: Vec<String>,
    /// Largest delivery accepted, in bytes. Default: `5242880` (5 MiB).
    pub body_limit_bytes: usize,
    /// Processing attempts before a delivery becomes a dead letter. Default: `8`.
    pub max_attempts: u32,
    /// First wait before a failed delivery is retried, in seconds; doubles
    /// each attempt, up to an hour. Default: `10`.
    pub retry_base_secs: u64,
    /// Other senders, by name: `POST /hooks/generic/{name}`.
    pub generic: BTreeMap<String, GenericSource>,
    /// Use the built-in rules (GitHub pushes, releases, deployments, workflow
    /// runs; PagerDuty incidents). Default: `true`.
    pub default_rules: bool,
    /// A directory of `*.toml` files, each with `[[rules]]`. Default: none.
    pub rules_dir: Option<PathBuf>,
    /// Process the inbox in this process. Turn off on an instance that only
    /// receives (deliveries wait, durably, for one that processes). Default: `true`.
    pub processing: bool,
    /// Deliveries processed at once. Deliveries about the same repository
    /// (GitHub) or service (PagerDuty) are still processed one after another
    /// in the order they arrived; a generic source's, all in order.
    /// Default: `32`.
    pub processing_concurrency: usize,
    /// Days a processed (`done`) or `unmapped` delivery is kept, body and
    /// all, before it is deleted; pending deliveries and dead letters stay
    /// until they are processed or replayed. At least 3 — GitHub redelivers
    /// for 3 days, and a redelivery of a deleted delivery would be processed
    /// again — or `0` to keep every delivery. Default: `14`.
    pub retention_days: u32,
    /// Projects for repositories created on GitHub (the built-in
    /// `repository created` rule). Unset: such deliveries are stored and
    /// marked unmapped. Default: unset.
    pub new_repositories: Option<NewRepositories>,
}

/// Who owns a project made for a new GitHub repository, and its type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRepositories {
    /// The owning team (it must exist when the repository is created).
    pub team: String,
    /// One of `project_types`.
    pub project_type: String,
}

/// One rule: deliveries of `source`/`event` for which `when` holds become
/// one operation, with arguments from the payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// Shown in logs, dry runs and the inbox.
    pub name: String,
    /// `github`, `pagerduty` or a generic source's name.
    pub source: String,
    /// The event name, or several (`["incident.triggered", "incident.resolved"]`).
    pub event: OneOrMany,
    /// A minijinja expression over `payload`, `event` and `source`, e.g.
    /// `payload.action == "published"`. Default: always.
    #[serde(default)]
    pub when: Option<String>,
    /// How the delivery's project is found; its slug becomes the `project` argument.
    #[serde(default)]
    pub project: Option<ProjectMatch>,
    /// The operation to run: `set_fact`, `record_deployment`, `record_build`,
    /// `record_incident`, `set_dependencies`, `create_project`…
    pub op: String,
    /// The operation's arguments. A string is a minijinja template (plain
    /// text stays as it is); `{ pointer = "/a/b" }` takes a JSON value from
    /// the payload as is; `{ template = "…", as = "integer" }` renders and
    /// converts (`integer`, `number`, `bool`, `json`); other values are literal.
    /// An argument that renders empty (or a pointer to nothing) is left out.
    #[serde(default)]
    pub args: serde_json::Map<String, serde_json::Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn contains(&self, name: &str) -> bool {
        match self {
            Self::One(e) => e == name || e == "*",
            Self::Many(es) => es.iter().any(|e| e == name),
        }
    }
}

/// How a rule finds its project: by an external id (`github_repository`,
/// `pagerduty_service`) or by `slug`, from a template.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectMatch {
    pub by: String,
    pub id: String,
}

/// A generic webhook sender: an HMAC-SHA256 of the raw body in a header.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenericSource {
    /// The shared secret (or `SWITCHBOARD_WEBHOOK_SECRET_<NAME>` in the environment).
    #[serde(default)]
    pub secret: Option<String>,
    /// Header carrying the lowercase hex HMAC-SHA256 of the body. Default: `X-Signature-256`.
    #[serde(default = "default_signature_header")]
    pub signature_header: String,
    /// Text before the hex digest in that header, e.g. `sha256=`. Default: none.
    #[serde(default)]
    pub signature_prefix: String,
    /// Header naming the event; without one every delivery's event is the source's name.
    #[serde(default)]
    pub event_header: Option<String>,
    /// Header carrying a unique delivery id (redeliveries are ignored); without
    /// one the body's SHA-256 is the id. Default: none.
    #[serde(default)]
    pub delivery_header: Option<String>,
}

fn default_signature_header() -> String {
    "X-Signature-256".into()
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        Self {
            github_secret: None,
            pagerduty_secrets: Vec::new(),
            body_limit_bytes: 5 * 1024 * 1024,
            max_attempts: 8,
            retry_base_secs: 10,
            generic: BTreeMap::new(),
            default_rules: true,
            rules_dir: None,
            processing: true,
            processing_concurrency: 32,
            retention_days: 14,
            new_repositories: None,
        }
    }
}

impl std::fmt::Debug for WebhooksConfig {
    /// Never prints a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhooksConfig")
            .field("github_secret", &self.github_secret.as_ref().map(|_| "<set>"))
            .field("pagerduty_secrets", &self.pagerduty_secrets.len())
            .field("body_limit_bytes", &self.body_limit_bytes)
            .field("max_attempts", &self.max_attempts)
            .field("retry_base_secs", &self.retry_base_secs)
            .field("generic", &self.generic.keys().collect::<Vec<_>>())
            .field("default_rules", &self.default_rules)
            .field("rules_dir", &self.rules_dir)
            .field("processing", &self.processing)
            .field("processing_concurrency", &self.processing_concurrency)
            .field("retention_days", &self.retention_days)
            .field("new_repositories", &self.new_repositories)
            .finish()
    }
}

impl std::fmt::Debug for GenericSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GenericSource")
            .field("secret", &self.secret.as_ref().map(|_| "<set>"))
            .field("signature_header", &self.signature_header)
            .field("event_header", &self.event_header)
            .finish_non_exhaustive()
    }
}

impl WebhooksConfig {
    /// Secrets named by the environment variables win over the file.
    pub(super) fn apply_env(&mut self, env: &[(String, String)]) {
        for (key, value) in env {
            match key.as_str() {
                "SWITCHBOARD_GITHUB_WEBHOOK_SECRET" => self.github_secret = Some(value.clone()),
                "SWITCHBOARD_PAGERDUTY_WEBHOOK_SECRET" => {
                    if !self.pagerduty_secrets.contains(value) {
                        self.pagerduty_secrets.push(value.clone());
                    }
                }
                _ => {
                    if let Some(name) = key.strip_prefix("SWITCHBOARD_WEBHOOK_SECRET_")
                        && let Some(source) = self.generic.get_mut(&name.to_ascii_lowercase())
                    {
                        source.secret = Some(value.clone());
                    }
                }
            }
        }
    }

    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        if self.body_limit_bytes < 1024 {
            return Err(("webhooks.body_limit_bytes".into(), "must be at least 1024".into()));
        }
        if !(1..=1024).contains(&self.processing_concurrency) {
            return Err(("webhooks.processing_concurrency".into(), "must be between 1 and 1024".into()));
        }
        if (1..3).contains(&self.retention_days) {
            return Err((
                "webhooks.retention_days".into(),
                "must be at least 3 (GitHub redelivers for 3 days; a redelivery of a deleted delivery would be processed again), or 0 to keep every delivery".into(),
            ));
        }
        if self.max_attempts == 0 {
            return Err(("webhooks.max_attempts".into(), "must be at least 1".into()));
        }
        if self.retry_base_secs == 0 {
            return Err(("webhooks.retry_base_secs".into(), "must be at least 1".into()));
        }
        if self.github_secret.as_ref().is_some_and(|s| s.is_empty()) {
            return Err((
                "webhooks.github_secret".into(),
                "must not be empty; leave it out to refuse GitHub deliveries".into(),
            ));
        }
        if self.pagerduty_secrets.iter().any(String::is_empty) {
            return Err(("webhooks.pagerduty_secrets".into(), "must not contain an empty secret".into()));
        }
        for (name, g) in &self.generic {
            if g.secret.as_ref().is_some_and(|s| s.is_empty()) {
                return Err((format!("webhooks.generic.{name}.secret"), "must not be empty".into()));
            }
            let ok = !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !ok {
                return Err((format!("webhooks.generic.{name}"), "names are lowercase letters, digits and `-`".into()));
            }
            if matches!(name.as_str(), "github" | "pagerduty") {
                return Err((format!("webhooks.generic.{name}"), "this name is taken by a built-in source".into()));
            }
            if g.signature_header.trim().is_empty() {
                return Err((format!("webhooks.generic.{name}.signature_header"), "must not be empty".into()));
            }
        }
        Ok(())
    }
}
