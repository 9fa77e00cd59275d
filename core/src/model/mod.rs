//! The domain model: projects, teams, environments, dependencies, facts,
//! deployments, incidents, builds, users, runs and events. Times are epoch
//! milliseconds (UTC) everywhere, so every backend stores them the same way.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::*;

mod run;
pub use run::*;

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

pub const DAY_MS: Millis = 24 * 60 * 60 * 1000;

/// A package ecosystem: `gem` is RubyGems, `composer` PHP's Packagist;
/// `other` is anything else (a package read from an SBOM keeps its purl type
/// as a prefix of its name, `deb:debian/openssl`). Variants carry no doc
/// comments of their own so the JSON Schema stays a plain `enum`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    Cargo,
    Npm,
    Pypi,
    Go,
    Maven,
    Gem,
    Nuget,
    Composer,
    Other,
}

impl Ecosystem {
    pub const ALL: [Ecosystem; 9] = [
        Self::Cargo,
        Self::Npm,
        Self::Pypi,
        Self::Go,
        Self::Maven,
        Self::Gem,
        Self::Nuget,
        Self::Composer,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cargo => "cargo",
            Self::Npm => "npm",
            Self::Pypi => "pypi",
            Self::Go => "go",
            Self::Maven => "maven",
            Self::Gem => "gem",
            Self::Nuget => "nuget",
            Self::Composer => "composer",
            Self::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One package a project depends on: the version in use and, when it was
/// read from a repository or an SBOM, what was declared, how it is used and
/// where it was read. A project has one edge per package (the direct one
/// when a package is both direct and transitive).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dependency {
    pub ecosystem: Ecosystem,
    pub package: PackageName,
    /// The resolved version (from a lock file or SBOM when there is one).
    pub version: Version,
    /// The requirement the manifest declares (`^1.2`, `>=2,<3`), when it differs from a pin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirement: Option<String>,
    /// Pulled in by another package rather than declared by the project.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub transitive: bool,
    #[serde(default, skip_serializing_if = "DependencyScope::is_runtime")]
    pub scope: DependencyScope,
    /// Where it was read: a manifest or lock file path in the repository
    /// (`services/api/Cargo.lock`), or `sbom` (optionally `sbom:NAME`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl Dependency {
    /// A direct runtime dependency with nothing else known (what
    /// `set_dependencies` and the demo make).
    pub fn new(ecosystem: Ecosystem, package: PackageName, version: Version) -> Self {
        Self {
            ecosystem,
            package,
            version,
            requirement: None,
            transitive: false,
            scope: DependencyScope::Runtime,
            source: None,
        }
    }

    /// Read from an SBOM (replaced by the next SBOM of the project, and by nothing else).
    pub fn from_sbom(&self) -> bool {
        self.source.as_deref().is_some_and(|s| s == "sbom" || s.starts_with("sbom:"))
    }
}

/// How a project uses a dependency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DependencyScope {
    /// Shipped and run with the project.
    #[default]
    Runtime,
    /// Tests and local development only.
    Dev,
    /// Building only (build scripts, compilers, code generators).
    Build,
}

impl DependencyScope {
    pub fn is_runtime(&self) -> bool {
        *self == Self::Runtime
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Runtime => "runtime",
            Self::Dev => "dev",
            Self::Build => "build",
        }
    }
}

/// A link shown on a project page (repository, runbook, dashboard…).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub title: String,
    pub url: String,
}

/// Ids of the project in outside systems; webhooks are matched to projects by them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalIds {
    /// GitHub repository full name, `owner/name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github_repository: Option<String>,
    /// GitHub's numeric id of that repository: it survives renames and
    /// transfers, so imports and repository events find the project by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github_repository_id: Option<String>,
    /// PagerDuty service id, e.g. `PIJ90N7`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagerduty_service: Option<String>,
}

/// An environment a project runs in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    pub name: EnvName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The declared type of a fact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase", tag = "type", deny_unknown_fields)]
pub enum FactType {
    String,
    Integer,
    Decimal,
    Bool,
    Enum { values: Vec<String> },
    Date,
}

impl FactType {
    pub fn name(&self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Integer => "integer",
            Self::Decimal => "decimal",
            Self::Bool => "bool",
            Self::Enum { .. } => "enum",
            Self::Date => "date",
        }
    }
}

/// A typed fact value. Serialized as plain JSON (`"1"`, `3`, `2.5`, `true`,
/// `"2026-01-31"`); the declared type says how to read it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum FactValue {
    Bool(bool),
    Integer(i64),
    Decimal(f64),
    /// Strings, enum values and dates (`YYYY-MM-DD`).
    Text(String),
}

impl FactValue {
    /// Whether the fact counts as "present" for the score: `false`, `0` and
    /// the empty string do not.
    pub fn is_truthy(&self) -> bool {
        match self {
            Self::Bool(b) => *b,
            Self::Integer(i) => *i != 0,
            Self::Decimal(d) => *d != 0.0,
            Self::Text(s) => !s.is_empty(),
        }
    }

    /// Whether the value goes into the project's full-text search: all but
    /// a commit id (7 to 64 hexadecimal digits, digits and letters both),
    /// which holds no word anyone searches for and changes with every push
    /// — indexed, each push rewrote the project's search row.
    pub fn is_searched(&self) -> bool {
        match self {
            Self::Text(s) => !is_commit_id(s),
            _ => true,
        }
    }
}

fn is_commit_id(s: &str) -> bool {
    (7..=64).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b.to_ascii_lowercase()))
        && s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes().any(|b| b.is_ascii_alphabetic())
}

impl fmt::Display for FactValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bool(b) => write!(f, "{b}"),
            Self::Integer(i) => write!(f, "{i}"),
            Self::Decimal(d) => write!(f, "{d}"),
            Self::Text(s) => f.write_str(s),
        }
    }
}

/// A fact set on a project.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Fact {
    pub key: FactKey,
    pub value: FactValue,
    pub updated_at: Millis,
}

/// A project: the central node of the graph.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Project {
    pub slug: ProjectSlug,
    pub name: String,
    pub description: String,
    pub team: TeamSlug,
    pub project_type: ProjectType,
    #[serde(default)]
    pub links: Vec<Link>,
    /// Facts by key.
    #[serde(default)]
    pub facts: BTreeMap<FactKey, Fact>,
    #[serde(default)]
    pub environments: Vec<Environment>,
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
    #[serde(default)]
    pub external_ids: ExternalIds,
    #[serde(default)]
    pub archived: bool,
    /// The score last recorded through the service (0-100).
    #[serde(default)]
    pub score: u8,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// A short view of a project for lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ProjectSummary {
    pub slug: ProjectSlug,
    pub name: String,
    pub team: TeamSlug,
    pub project_type: ProjectType,
    pub description: String,
    pub score: u8,
    pub archived: bool,
}

impl From<&Project> for ProjectSummary {
    fn from(p: &Project) -> Self {
        Self {
            slug: p.slug.clone(),
            name: p.name.clone(),
            team: p.team.clone(),
            project_type: p.project_type.clone(),
            description: p.description.clone(),
            score: p.score,
            archived: p.archived,
        }
    }
}

/// A chat platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChatPlatform {
    Slack,
    Discord,
    Web,
}

impl ChatPlatform {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Slack => "slack",
            Self::Discord => "discord",
            Self::Web => "web",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Slack, Self::Discord, Self::Web].into_iter().find(|p| p.as_str() == s)
    }
}

/// A channel a team is reached in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatChannel {
    pub platform: ChatPlatform,
    /// The platform's channel id (Slack `C024BE91L`, Discord snowflake).
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A team that owns projects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Team {
    pub slug: TeamSlug,
    pub name: String,
    #[serde(default)]
    pub members: Vec<UserName>,
    #[serde(default)]
    pub channels: Vec<ChatChannel>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// A role, ordered: each includes what the ones before it may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Editor,
    Approver,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Self::Viewer, Self::Editor, Self::Approver, Self::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Editor => "editor",
            Self::Approver => "approver",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A person's account on a chat platform.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatIdentity {
    pub platform: ChatPlatform,
    pub id: String,
}

/// A person who uses Switchboard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct User {
    pub name: UserName,
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub role: Role,
    #[serde(default)]
    pub chat_identities: Vec<ChatIdentity>,
    /// A disabled account cannot sign in, and its tokens were revoked.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    /// Portal sessions of another generation are over: it moves on when the
    /// person is signed out everywhere, or their password or role changes.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub session_generation: u32,
    /// Set for people who sign in through the OIDC provider: who they are
    /// there. Their role and teams come from its claims at every sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<OidcSubject>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl User {
    /// A local account named `name` (also its display name) with `role`.
    pub fn new(name: UserName, role: Role) -> Self {
        Self {
            display_name: name.to_string(),
            name,
            email: None,
            role,
            chat_identities: Vec::new(),
            disabled: false,
            session_generation: 0,
            oidc: None,
        }
    }
}

/// A person at the OIDC provider: its issuer and their subject there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OidcSubject {
    pub issuer: String,
    pub subject: String,
}

/// How a deployment went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentStatus {
    Pending,
    InProgress,
    Succeeded,
    Failed,
    RolledBack,
}

impl DeploymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::InProgress => "in_progress",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::RolledBack => "rolled_back",
        }
    }
}

/// A deployment of a project version to an environment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Deployment {
    pub id: uuid::Uuid,
    pub project: ProjectSlug,
    pub environment: EnvName,
    pub version: String,
    pub status: DeploymentStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha: Option<CommitSha>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Id in the system that reported it (GitHub deployment id…), for idempotent upserts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub started_at: Millis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Millis>,
    /// The Switchboard deploy run that started it, when the reporter carried
    /// its id (the correlation id a deploy run dispatches with).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<crate::ids::RunId>,
}

/// Where an incident stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum IncidentStatus {
    Triggered,
    Acknowledged,
    Resolved,
}

impl IncidentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Triggered => "triggered",
            Self::Acknowledged => "acknowledged",
            Self::Resolved => "resolved",
        }
    }
}

/// An incident on a project.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Incident {
    pub id: uuid::Uuid,
    pub project: ProjectSlug,
    pub title: String,
    pub status: IncidentStatus,
    /// Free-form severity or priority as the source names it (`P1`, `high`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub opened_at: Millis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<Millis>,
}

/// How a CI run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BuildStatus {
    Success,
    Failure,
    Cancelled,
    Running,
}

impl BuildStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Cancelled => "cancelled",
            Self::Running => "running",
        }
    }
}

/// A merged change (pull request) of a project: the start of its lead time.
/// Kept in the operations log (`change_merged`), not in the graph.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Change {
    pub project: ProjectSlug,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u64>,
    /// The merge commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha: Option<CommitSha>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// When work on it was opened for review.
    pub opened_at: Millis,
    pub merged_at: Millis,
}

/// A CI run of a project.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Build {
    pub id: uuid::Uuid,
    pub project: ProjectSlug,
    pub status: BuildStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha: Option<CommitSha>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub started_at: Millis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Millis>,
}

/// An API token. Only its SHA-256 is stored; the secret is shown once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ApiToken {
    /// Public id, safe to show and log: `tok_3f2a9c1e`.
    pub id: String,
    pub user: UserName,
    /// What the token may do; never more than its user's role at the time of use.
    pub role: Role,
    /// Hex SHA-256 of the secret.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub hash: String,
    pub created_at: Millis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Millis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Millis>,
}

/// A portal sign-in. Only the SHA-256 of the cookie's secret is stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Session {
    pub hash: String,
    pub user: UserName,
    pub created_at: Millis,
    pub expires_at: Millis,
    /// The user's session generation when it started; valid while it is still theirs.
    #[serde(default)]
    pub generation: u32,
}

/// One message of a conversation thread (web chat, terminal, Slack thread…).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ChatMessage {
    /// The thread: `terminal`, a web chat id, `slack:C024BE91L:1700000000.000100`…
    pub thread: String,
    pub at: Millis,
    /// A user name, or `switchboard` for replies.
    pub author: String,
    pub text: String,
    /// A reply's blocks as JSON (tables, fields, buttons), so a chat shows it
    /// again as it was; `text` is what a model is given as memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::FactValue;

    #[test]
    fn commit_ids_are_not_searched() {
        let searched = |s: &str| FactValue::Text(s.into()).is_searched();
        for id in ["6dcb09b", "6DCB09B5B57875F334F61AEBED695E2E4193DB5E", &"a1".repeat(32)] {
            assert!(!searched(id), "{id}");
        }
        // Words, numbers and short ids are.
        for text in ["deadbeef", "1234567", "6dcb09", "payments-primary", "2026-12-05", &"a1".repeat(33)] {
            assert!(searched(text), "{text}");
        }
        assert!(FactValue::Integer(1234567).is_searched());
    }
}
