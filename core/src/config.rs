//! The one typed configuration, loaded and validated once at start:
//! `switchboard.toml` plus `SWITCHBOARD_SECTION__KEY` environment overrides.
//! Every field documents its default; `config/switchboard.example.toml` shows
//! them all and a test parses it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::ids::{EnvName, FactKey, ProjectType, TemplateName};
use crate::model::FactType;

mod advisories;
mod auth;
mod chat;
mod dependency_track;
mod embeddings;
mod env;
mod github;
mod import;
mod limits;
mod llm;
mod logs;
mod metrics;
mod policy;
mod server;
mod store;
mod traces;
mod webhooks;

pub use advisories::{AdvisoriesConfig, QuietHours};
pub use auth::{AuthConfig, OidcConfig};
pub use chat::{ChatConfig, DiscordConfig, SlackConfig};
pub use dependency_track::{DependencyTrackConfig, FACTS as DEPENDENCY_TRACK_FACTS};
pub use embeddings::EmbeddingsConfig;
pub use env::unknown_variables;
use env::{env_overrides, set_path};
pub use github::{GitHubConfig, UpgradesConfig};
pub use import::{ArchivedRepositories, DependencySource, ImportConfig, REPOSITORY_FACTS};
pub use limits::LimitsConfig;
pub use llm::LlmConfig;
pub use logs::{LogSourceConfig, LogSourceKind, LogsConfig};
pub use metrics::MetricsConfig;
pub use policy::{ApprovalRule, Freeze, PolicyConfig, RunScope};
pub use server::{IpNet, ServerConfig, canonical, host_of, without_credentials};
pub use store::{ClickHouseConfig, FulltextHook, GraphBackend, InboxPlacement, LogBackend, Neo4jConfig, StoreConfig};
pub use traces::TracesConfig;
pub use webhooks::{
    GenericSource, NewRepositories, NotificationsConfig, OneOrMany, ProjectMatch, RuleConfig, WebhooksConfig,
};

/// A configuration error, with where it was found when known.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    pub message: String,
}

impl ConfigError {
    fn new(message: impl Into<String>) -> Self {
        Self { message: message.into() }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub auth: AuthConfig,
    pub limits: LimitsConfig,
    pub store: StoreConfig,
    pub log: LogConfig,
    pub policy: PolicyConfig,
    pub score: ScoreConfig,
    pub llm: LlmConfig,
    pub embeddings: EmbeddingsConfig,
    pub metrics: MetricsConfig,
    pub traces: TracesConfig,
    pub webhooks: WebhooksConfig,
    pub notifications: NotificationsConfig,
    pub chat: ChatConfig,
    pub slack: SlackConfig,
    pub discord: DiscordConfig,
    pub github: GitHubConfig,
    pub import: ImportConfig,
    pub logs: LogsConfig,
    pub texts: TextsConfig,
    pub advisories: AdvisoriesConfig,
    pub dependency_track: DependencyTrackConfig,
    /// Where projects' log lines are read (`[[log_sources]]`). Default: one
    /// embedded source, `embedded`, for every project (fed by `POST
    /// /api/v1/logs`); setting any replaces it.
    #[serde(default = "default_log_sources")]
    pub log_sources: Vec<LogSourceConfig>,
    /// Rules mapping webhook deliveries to operations (`[[rules]]`), on top
    /// of the built-in ones and any in `webhooks.rules_dir`. Default: none.
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
    /// Environments projects deploy to, in promotion order.
    /// Default: `["development", "staging", "production"]`.
    #[serde(default = "default_environments")]
    pub environments: Vec<EnvName>,
    /// Project types and the facts declared for each. Default: api, consumer,
    /// frontend, library and job with their usual facts (see the example file).
    /// Setting this table replaces the defaults entirely.
    #[serde(default = "default_project_types")]
    pub project_types: BTreeMap<ProjectType, ProjectTypeConfig>,
    /// Templates `scaffold_project` can create projects from. Default: one per
    /// default project type.
    #[serde(default = "default_templates")]
    pub templates: BTreeMap<TemplateName, TemplateConfig>,
    /// Automations requested on a cron expression (`[[schedules]]`); each
    /// still waits for an approver. Default: none.
    #[serde(default)]
    pub schedules: Vec<crate::schedule::ScheduleConfig>,
}

/// The texts an operator may reword (`[texts]`, docs/configuration.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TextsConfig {
    /// A directory of texts (`notification.txt`, `approval_request.txt`,
    /// `run_outcome.txt`, `deployment_finished.txt`, `project_panels.html`)
    /// each replacing the built-in one of its name; checked when the config
    /// loads. Default: none (the built-in texts).
    pub dir: Option<std::path::PathBuf>,
    /// The texts in use, loaded from `dir` with the config.
    #[serde(skip)]
    pub loaded: std::sync::Arc<crate::texts::Texts>,
}

impl Default for TextsConfig {
    fn default() -> Self {
        Self { dir: None, loaded: crate::texts::Texts::built_in() }
    }
}

impl TextsConfig {
    /// The text `name` said with `context` (see `texts::Texts::render`).
    pub fn render(&self, name: &str, context: &impl Serialize) -> String {
        self.loaded.render(name, context)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Lines for people. The default.
    #[default]
    Human,
    /// One JSON object a line, for log collectors.
    Json,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `human` or `json`. Default: `human`.
    pub format: LogFormat,
    /// A tracing filter such as `info` or `switchboard=debug,info`. Default: `info`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { format: LogFormat::Human, level: "info".into() }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoreWeights {
    /// Weight of declared facts being filled in. Default: `40`.
    pub facts: u32,
    /// Weight of few incidents in the window. Default: `25`.
    pub incidents: u32,
    /// Weight of a recent green CI build. Default: `20`.
    pub ci: u32,
    /// Weight of a recent successful deployment. Default: `15`.
    pub deployments: u32,
    /// Weight of having no open vulnerabilities (critical and high cost
    /// most, docs/advisories.md). Default: `0` — off until an operator sets
    /// it, so an upgrade does not move every score at once.
    pub vulnerabilities: u32,
}

impl Default for ScoreWeights {
    fn default() -> Self {
        Self { facts: 40, incidents: 25, ci: 20, deployments: 15, vulnerabilities: 0 }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoreConfig {
    pub weights: ScoreWeights,
    /// Rolling window for incidents, in days. Default: `90`.
    pub incident_window_days: u32,
    /// Incidents in the window that bring the incident part to zero. Default: `5`.
    pub incident_budget: u32,
    /// A green build younger than this many days scores full. Default: `7`.
    pub build_fresh_days: u32,
    /// A green build older than this many days (or none) scores zero. Default: `30`.
    pub build_stale_days: u32,
    /// A successful deployment younger than this many days scores full. Default: `14`.
    pub deploy_fresh_days: u32,
    /// A successful deployment older than this many days (or none) scores zero. Default: `90`.
    pub deploy_stale_days: u32,
    /// Every this many minutes `serve` recomputes every project's score, so
    /// incidents leaving the window and builds and deployments growing old
    /// move it (and record `score_changed`) without a new event. `0`: never.
    /// Default: `60`.
    pub recompute_interval_mins: u32,
}

impl Default for ScoreConfig {
    fn default() -> Self {
        Self {
            weights: ScoreWeights::default(),
            incident_window_days: 90,
            incident_budget: 5,
            build_fresh_days: 7,
            build_stale_days: 30,
            deploy_fresh_days: 14,
            deploy_stale_days: 90,
            recompute_interval_mins: 60,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectTypeConfig {
    /// What projects of this type are. Default: empty.
    #[serde(default)]
    pub description: String,
    /// Facts declared for this type, by key.
    #[serde(default)]
    pub facts: BTreeMap<FactKey, FactDecl>,
}

/// A declared fact: its type, its weight in the score, what it means.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawFactDecl", into = "RawFactDecl")]
pub struct FactDecl {
    pub fact_type: FactType,
    pub weight: u32,
    pub description: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFactDecl {
    /// `string`, `integer`, `decimal`, `bool`, `enum` or `date`.
    #[serde(rename = "type")]
    fact_type: String,
    /// Allowed values; required for `enum`, refused otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    values: Vec<String>,
    /// Weight in the score's facts part. Default: `1`.
    #[serde(default = "one")]
    weight: u32,
    /// Shown in the portal. Default: empty.
    #[serde(default)]
    description: String,
}

fn one() -> u32 {
    1
}

impl TryFrom<RawFactDecl> for FactDecl {
    type Error = String;
    fn try_from(raw: RawFactDecl) -> Result<Self, String> {
        let fact_type = match raw.fact_type.as_str() {
            "string" => FactType::String,
            "integer" => FactType::Integer,
            "decimal" => FactType::Decimal,
            "bool" => FactType::Bool,
            "date" => FactType::Date,
            "enum" => {
                if raw.values.is_empty() {
                    return Err("an enum fact needs `values`, e.g. values = [\"1\", \"2\", \"3\"]".into());
                }
                let mut seen = std::collections::BTreeSet::new();
                for v in &raw.values {
                    if v.trim().is_empty() || !seen.insert(v) {
                        return Err(format!("enum values must be non-empty and distinct; {v:?} is not"));
                    }
                }
                FactType::Enum { values: raw.values.clone() }
            }
            other => {
                return Err(format!(
                    "unknown fact type {other:?}; expected one of string, integer, decimal, bool, enum, date"
                ));
            }
        };
        if !matches!(fact_type, FactType::Enum { .. }) && !raw.values.is_empty() {
            return Err(format!("`values` only applies to enum facts, not to {}", raw.fact_type));
        }
        Ok(Self { fact_type, weight: raw.weight, description: raw.description })
    }
}

impl From<FactDecl> for RawFactDecl {
    fn from(d: FactDecl) -> Self {
        let values = match &d.fact_type {
            FactType::Enum { values } => values.clone(),
            _ => Vec::new(),
        };
        Self { fact_type: d.fact_type.name().to_owned(), values, weight: d.weight, description: d.description }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateConfig {
    /// Project type of projects made from this template.
    pub project_type: ProjectType,
    /// What the template is for. Default: empty.
    #[serde(default)]
    pub description: String,
    /// Template repository (`owner/name`) to create repositories from. Default: none.
    #[serde(default)]
    pub repository: Option<String>,
    /// Facts every project made from this template starts with (keys the
    /// project type declares), e.g. `{ language = "python" }`. Default: none.
    #[serde(default)]
    pub facts: BTreeMap<FactKey, serde_json::Value>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            server: ServerConfig::default(),
            auth: AuthConfig::default(),
            limits: LimitsConfig::default(),
            store: StoreConfig::default(),
            log: LogConfig::default(),
            policy: PolicyConfig::default(),
            score: ScoreConfig::default(),
            llm: LlmConfig::default(),
            embeddings: EmbeddingsConfig::default(),
            metrics: MetricsConfig::default(),
            traces: TracesConfig::default(),
            webhooks: WebhooksConfig::default(),
            notifications: NotificationsConfig::default(),
            chat: ChatConfig::default(),
            slack: SlackConfig::default(),
            discord: DiscordConfig::default(),
            github: GitHubConfig::default(),
            import: ImportConfig::default(),
            logs: LogsConfig::default(),
            texts: TextsConfig::default(),
            advisories: AdvisoriesConfig::default(),
            dependency_track: DependencyTrackConfig::default(),
            log_sources: default_log_sources(),
            schedules: Vec::new(),
            rules: Vec::new(),
            environments: default_environments(),
            project_types: default_project_types(),
            templates: default_templates(),
        }
        .with_repository_facts()
    }
}

fn default_log_sources() -> Vec<LogSourceConfig> {
    vec![LogSourceConfig {
        name: "embedded".into(),
        kind: LogSourceKind::Embedded,
        url: None,
        selector: None,
        projects: vec![],
        selectors: Default::default(),
        tenant: None,
        username: None,
        password: None,
        token: None,
        database: None,
        table: None,
        columns: Default::default(),
        index: None,
        explore_url: None,
    }]
}

fn default_environments() -> Vec<EnvName> {
    ["development", "staging", "production"].into_iter().map(|e| EnvName::new(e).expect("valid")).collect()
}

fn decl(fact_type: FactType, weight: u32, description: &str) -> FactDecl {
    FactDecl { fact_type, weight, description: description.into() }
}

fn enum_of(values: &[&str]) -> FactType {
    FactType::Enum { values: values.iter().map(|v| (*v).to_owned()).collect() }
}

fn default_project_types() -> BTreeMap<ProjectType, ProjectTypeConfig> {
    let common = || {
        vec![
            ("tier", decl(enum_of(&["1", "2", "3"]), 3, "Business criticality: 1 is most critical.")),
            ("oncall", decl(FactType::String, 2, "On-call rotation that answers pages.")),
            ("runbook", decl(FactType::String, 2, "Link to the runbook.")),
            ("language", decl(enum_of(&["rust", "typescript", "python", "go", "java"]), 1, "Main language.")),
            ("version", decl(FactType::String, 0, "Latest released version.")),
            ("last_commit", decl(FactType::String, 0, "Last commit on the default branch.")),
        ]
    };
    type TypeFacts = (&'static str, &'static str, Vec<(&'static str, FactDecl)>);
    let specific: [TypeFacts; 5] = [
        (
            "api",
            "A service that answers requests.",
            vec![
                ("slo_availability", decl(FactType::Decimal, 2, "Availability objective, percent.")),
                ("public", decl(FactType::Bool, 0, "Reachable from the internet.")),
            ],
        ),
        (
            "consumer",
            "A worker that consumes a queue or a stream.",
            vec![
                ("queue", decl(FactType::String, 2, "Queue or topic it consumes.")),
                ("max_lag_seconds", decl(FactType::Integer, 1, "Largest acceptable lag.")),
            ],
        ),
        (
            "frontend",
            "A web or mobile front end.",
            vec![
                ("framework", decl(enum_of(&["react", "vue", "svelte", "next"]), 1, "UI framework.")),
                ("lighthouse_score", decl(FactType::Integer, 1, "Latest Lighthouse performance score.")),
            ],
        ),
        (
            "library",
            "A shared library other projects depend on.",
            vec![
                ("published", decl(FactType::Bool, 1, "Published to a registry.")),
                ("license", decl(FactType::String, 1, "SPDX license id.")),
            ],
        ),
        (
            "job",
            "A scheduled or batch job.",
            vec![
                ("schedule", decl(FactType::String, 2, "Cron schedule.")),
                ("last_success", decl(FactType::Date, 1, "Date of the last successful run.")),
            ],
        ),
    ];
    specific
        .into_iter()
        .map(|(name, description, extra)| {
            let facts = common().into_iter().chain(extra).map(|(k, d)| (FactKey::new(k).expect("valid"), d)).collect();
            (ProjectType::new(name).expect("valid"), ProjectTypeConfig { description: description.into(), facts })
        })
        .collect()
}

fn default_templates() -> BTreeMap<TemplateName, TemplateConfig> {
    ["api", "consumer", "frontend", "library", "job"]
        .into_iter()
        .map(|t| {
            (
                TemplateName::new(t).expect("valid"),
                TemplateConfig {
                    project_type: ProjectType::new(t).expect("valid"),
                    description: format!("A new {t} project with CI, linting and a README."),
                    repository: Some(format!("templates/{t}-template")),
                    facts: BTreeMap::new(),
                },
            )
        })
        .collect()
}

impl Config {
    /// Parses and validates a config file's text, then applies `SWITCHBOARD_*`
    /// overrides from `env`. `origin` names the file in messages.
    pub fn parse(source: &str, origin: &str, env: &[(String, String)]) -> Result<Self, ConfigError> {
        // An empty `SWITCHBOARD_*` variable is an unset one (compose's
        // `${X:-}`, an optional Kubernetes secret key left blank).
        let env: Vec<(String, String)> =
            env.iter().filter(|(k, v)| !(v.is_empty() && k.starts_with("SWITCHBOARD_"))).cloned().collect();
        let env = env.as_slice();
        let mut config: Config = toml::from_str(source).map_err(|e| ConfigError::new(format!("{origin}: {e}")))?;
        let overrides = env_overrides(env)?;
        if !overrides.is_empty() {
            let mut table: toml::Table = source.parse().map_err(|e| ConfigError::new(format!("{origin}: {e}")))?;
            let mut names = Vec::new();
            for (path, value, var) in overrides {
                set_path(&mut table, &path, value);
                names.push(var);
            }
            // Written back out and read as text, so the whole `Config` tree is
            // deserialized by one deserializer (`toml::from_str`), not a second
            // one over `toml::Value` — each is a copy of every `Deserialize`
            // impl, and the second was 5 % of this crate's release build.
            let merged = toml::to_string(&table).map_err(|e| ConfigError::new(format!("{origin}: {e}")))?;
            config = toml::from_str(&merged).map_err(|e: toml::de::Error| {
                ConfigError::new(format!("environment override ({}): {}", names.join(", "), e.message()))
            })?;
        }
        config.webhooks.apply_env(env);
        config.auth.apply_env(env);
        config.slack.apply_env(env);
        config.github.apply_env(env);
        config.dependency_track.apply_env(env);
        for s in &mut config.log_sources {
            s.apply_env(env);
        }
        if let Some((_, v)) = env.iter().find(|(k, _)| k == "SWITCHBOARD_CLICKHOUSE_PASSWORD") {
            config.store.clickhouse.password = Some(v.clone());
        }
        if let Some((_, v)) = env.iter().find(|(k, _)| k == "SWITCHBOARD_NEO4J_PASSWORD") {
            config.store.neo4j.password = Some(v.clone());
        }
        config.discord.apply_env(env).map_err(|(key, msg)| ConfigError::new(format!("{key}: {msg}")))?;
        config.validate().map_err(|(path, msg)| {
            let at = locate(source, &path).map(|(l, c)| format!(" at line {l}, column {c}")).unwrap_or_default();
            ConfigError::new(format!("{origin}{at}: `{path}`: {msg}"))
        })?;
        if let Some(dir) = &config.texts.dir {
            let loaded =
                crate::texts::Texts::load(dir).map_err(|e| ConfigError::new(format!("{origin}: `texts.dir`: {e}")))?;
            config.texts.loaded = std::sync::Arc::new(loaded);
        }
        Ok(config.with_repository_facts())
    }

    fn with_repository_facts(mut self) -> Self {
        self.import.declare_repository_facts(&mut self.project_types);
        self.dependency_track.declare_facts(&mut self.project_types);
        self
    }

    /// Reads and parses a config file.
    pub fn load(path: &Path, env: &[(String, String)]) -> Result<Self, ConfigError> {
        let source = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new(format!("cannot read config file {}: {e}", path.display())))?;
        Self::parse(&source, &path.display().to_string(), env)
    }

    /// Checks what types alone cannot.
    fn validate(&self) -> Result<(), (String, String)> {
        self.server.validate()?;
        self.auth.validate()?;
        self.limits.validate()?;
        self.store.clickhouse.validate()?;
        if self.store.graph == GraphBackend::Neo4j {
            self.store.neo4j.validate()?;
        }
        if !(1..=64).contains(&self.store.readers) {
            return Err(("store.readers".into(), "must be between 1 and 64".into()));
        }
        if self.log.level.trim().is_empty() {
            return Err(("log.level".into(), "must not be empty; try \"info\"".into()));
        }
        self.policy.validate(&self.environments)?;
        let w = &self.score.weights;
        if w.facts + w.incidents + w.ci + w.deployments == 0 {
            return Err(("score.weights".into(), "at least one weight must be above zero".into()));
        }
        let s = &self.score;
        if s.incident_window_days == 0 || s.incident_budget == 0 {
            return Err(("score.incident_window_days".into(), "window and budget must be at least 1".into()));
        }
        if s.build_fresh_days >= s.build_stale_days {
            return Err(("score.build_fresh_days".into(), "must be below score.build_stale_days".into()));
        }
        if s.deploy_fresh_days >= s.deploy_stale_days {
            return Err(("score.deploy_fresh_days".into(), "must be below score.deploy_stale_days".into()));
        }
        self.llm.validate()?;
        self.embeddings.validate()?;
        self.metrics.validate()?;
        self.traces.validate()?;
        self.advisories.validate()?;
        self.dependency_track.validate()?;
        self.import.validate(&self.project_types.keys().collect::<Vec<_>>())?;
        logs::validate(&self.logs, &self.log_sources)?;
        self.webhooks.validate()?;
        if let Some(n) = &self.webhooks.new_repositories {
            let known = self.project_types.keys().any(|k| k.as_str() == n.project_type);
            if !known {
                let types: Vec<&str> = self.project_types.keys().map(|k| k.as_str()).collect();
                return Err((
                    "webhooks.new_repositories.project_type".into(),
                    format!("{:?} is not a project type; declared: {}", n.project_type, types.join(", ")),
                ));
            }
            if crate::ids::TeamSlug::new(n.team.clone()).is_err() {
                return Err(("webhooks.new_repositories.team".into(), crate::ids::TeamSlug::EXPECTED.into()));
            }
        }
        self.notifications.validate()?;
        self.slack.validate()?;
        self.discord.validate()?;
        self.github.validate()?;
        if self.environments.is_empty() {
            return Err(("environments".into(), "declare at least one environment".into()));
        }
        let mut seen = std::collections::BTreeSet::new();
        for e in &self.environments {
            if !seen.insert(e) {
                return Err(("environments".into(), format!("{e} is listed twice")));
            }
        }
        if self.project_types.is_empty() {
            return Err(("project_types".into(), "declare at least one project type".into()));
        }
        let mut names = std::collections::HashSet::new();
        for (i, s) in self.schedules.iter().enumerate() {
            s.check().map_err(|e| (format!("schedules[{i}]"), format!("{}: {e}", s.name)))?;
            if !names.insert(&s.name) {
                return Err((format!("schedules[{i}]"), format!("{} is named twice", s.name)));
            }
        }
        for (name, t) in &self.templates {
            if let Some(pt) = self.project_types.get(&t.project_type)
                && let Some(key) = t.facts.keys().find(|k| !pt.facts.contains_key(*k))
            {
                return Err((
                    format!("templates.{name}.facts.{key}"),
                    format!("project type {} declares no fact {key}", t.project_type.as_str()),
                ));
            }
            if !self.project_types.contains_key(&t.project_type) {
                return Err((
                    format!("templates.{name}.project_type"),
                    format!(
                        "unknown project type {:?}; declared: {}",
                        t.project_type.as_str(),
                        self.project_types.keys().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    pub fn fact_decl(&self, project_type: &ProjectType, key: &FactKey) -> Option<&FactDecl> {
        self.project_types.get(project_type)?.facts.get(key)
    }

    pub fn run_expiry_ms(&self) -> i64 {
        i64::from(self.policy.run_expiry_hours) * 3_600_000
    }
}

/// Best-effort line and column of a dotted key path in the source, for
/// validation errors that serde could not place.
fn locate(source: &str, path: &str) -> Option<(usize, usize)> {
    let parts: Vec<&str> = path.split('.').collect();
    for take in (1..=parts.len()).rev() {
        let (table, key) = (parts[..take - 1].join("."), parts[take - 1]);
        let mut in_table = table.is_empty();
        for (i, line) in source.lines().enumerate() {
            let t = line.trim_start();
            if t.starts_with('[') {
                let header = t.trim_matches(|c| c == '[' || c == ']').trim();
                in_table = header == table;
                if header == parts[..take].join(".") {
                    return Some((i + 1, line.len() - t.len() + 1));
                }
                continue;
            }
            if in_table && (t.starts_with(&format!("{key} ")) || t.starts_with(&format!("{key}="))) {
                return Some((i + 1, line.len() - t.len() + 1));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests;
