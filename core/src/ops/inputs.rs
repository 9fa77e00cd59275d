//! The typed input of every operation. Each derives its JSON Schema and
//! refuses unknown fields.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::event::EventKind;
use crate::ids::*;
use crate::model::*;
use crate::time::TimeArg;

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetProject {
    pub project: ProjectSlug,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Uses {
    pub package: PackageName,
    /// Only projects on this exact version.
    pub version: Option<Version>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FactFilter {
    pub key: FactKey,
    /// Compared with the fact's value as text (`"1"`, `true`, `3`).
    pub value: serde_json::Value,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindProjects {
    /// Words to search in names, descriptions and facts; with semantic
    /// search also what a project does ("the service that handles card refunds").
    pub query: Option<String>,
    pub team: Option<TeamSlug>,
    pub project_type: Option<ProjectType>,
    pub uses: Option<Uses>,
    pub fact: Option<FactFilter>,
    /// At most this many results (1-500). Default 50.
    pub limit: Option<u32>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DependentsInput {
    pub package: PackageName,
    /// Only projects on this exact version.
    pub version: Option<Version>,
    pub ecosystem: Option<Ecosystem>,
    /// List at most this many projects (1-5000). Default 200. Counts cover all.
    pub limit: Option<u32>,
    /// Only projects that declare the package themselves; by default those
    /// that get it through another package count too (each row says which).
    pub direct_only: Option<bool>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetDependency {
    pub project: ProjectSlug,
    pub package: PackageName,
    /// When the project has the package in more than one ecosystem.
    pub ecosystem: Option<Ecosystem>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectHistory {
    pub project: ProjectSlug,
    /// What to follow: a package or fact key, optionally with a version prefix:
    /// `redis`, `redis 7`, `redis@7.2`, `tier`.
    pub subject: Option<String>,
    pub since: Option<TimeArg>,
    pub until: Option<TimeArg>,
    /// Only these kinds of events.
    pub kinds: Option<Vec<EventKind>>,
    /// At most this many events (1-1000). Default 100.
    pub limit: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListDeployments {
    pub project: Option<ProjectSlug>,
    pub environment: Option<EnvName>,
    pub since: Option<TimeArg>,
    /// Only deployments started before this.
    pub until: Option<TimeArg>,
    /// At most this many (1-1000). Default 50.
    pub limit: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListIncidents {
    pub project: Option<ProjectSlug>,
    pub team: Option<TeamSlug>,
    /// `open` is triggered or acknowledged: not resolved yet.
    pub status: Option<IncidentFilter>,
    pub since: Option<TimeArg>,
    /// Only incidents opened before this.
    pub until: Option<TimeArg>,
    /// At most this many (1-1000). Default 50.
    pub limit: Option<u32>,
}

/// Which incidents `list_incidents` lists: one status, or `open` (not resolved).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentFilter {
    Open,
    Triggered,
    Acknowledged,
    Resolved,
}

impl IncidentFilter {
    /// The statuses it lists.
    pub fn statuses(self) -> &'static [IncidentStatus] {
        match self {
            Self::Open => &[IncidentStatus::Triggered, IncidentStatus::Acknowledged],
            Self::Triggered => &[IncidentStatus::Triggered],
            Self::Acknowledged => &[IncidentStatus::Acknowledged],
            Self::Resolved => &[IncidentStatus::Resolved],
        }
    }
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareEnvironments {
    pub project: ProjectSlug,
    /// Default: the environment before `to` (staging).
    pub from: Option<EnvName>,
    /// Default: the project's last environment (production).
    pub to: Option<EnvName>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectScore {
    pub project: ProjectSlug,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CiHealth {
    pub project: ProjectSlug,
    /// Builds started since then. Default: 90 days back.
    pub since: Option<TimeArg>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dora {
    /// Or `team`; neither: every project.
    pub project: Option<ProjectSlug>,
    pub team: Option<TeamSlug>,
    /// Default: 30 days back.
    pub since: Option<TimeArg>,
    /// Default: the last one (production).
    pub environment: Option<EnvName>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetTeam {
    pub team: TeamSlug,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListTeams {}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListRuns {
    pub status: Option<RunStatus>,
    /// At most this many (1-1000). Default 50.
    pub limit: Option<u32>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetRun {
    pub run: RunId,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProject {
    pub slug: ProjectSlug,
    /// Display name. Default: the slug.
    pub name: Option<String>,
    pub description: Option<String>,
    pub team: TeamSlug,
    pub project_type: ProjectType,
    pub links: Option<Vec<Link>>,
    /// Initial facts by key; each is checked against the project type's declaration.
    pub facts: Option<BTreeMap<FactKey, serde_json::Value>>,
    /// Default: every environment in config.
    pub environments: Option<Vec<Environment>>,
    pub dependencies: Option<Vec<Dependency>>,
    pub external_ids: Option<ExternalIds>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProject {
    pub project: ProjectSlug,
    pub name: Option<String>,
    pub description: Option<String>,
    pub team: Option<TeamSlug>,
    pub project_type: Option<ProjectType>,
    pub links: Option<Vec<Link>>,
    pub environments: Option<Vec<Environment>>,
    pub external_ids: Option<ExternalIds>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArchiveProject {
    pub project: ProjectSlug,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetFact {
    pub project: ProjectSlug,
    pub key: FactKey,
    /// The value, of the type the project type declares; `null` removes the fact.
    pub value: serde_json::Value,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetDependencies {
    pub project: ProjectSlug,
    /// The complete list (or, with `ecosystem`, the complete list for that ecosystem).
    pub dependencies: Vec<Dependency>,
    /// Replace only this ecosystem's dependencies.
    pub ecosystem: Option<Ecosystem>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportSbom {
    pub project: ProjectSlug,
    /// The SBOM document: CycloneDX JSON (1.2-1.6) or SPDX 2.x JSON (GitHub's
    /// `{"sbom": …}` export as it comes).
    pub sbom: serde_json::Value,
    /// A name for where it came from (a file name), kept on each dependency
    /// as `sbom:NAME`; without it, `sbom`.
    pub name: Option<String>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportManifests {
    pub project: ProjectSlug,
    /// Files as the repository holds them (at most 2,000; other files are
    /// ignored, and so is anything under node_modules/, vendor/, testdata/…).
    pub files: Vec<RepositoryFile>,
}

/// One file of a repository.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepositoryFile {
    /// Its path from the repository root: `services/api/Cargo.lock`.
    pub path: String,
    pub text: String,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportCatalog {
    /// Backstage entities (`apiVersion`, `kind`, `metadata`, `spec`), as the
    /// catalog's YAML documents or its API list them; at most 20,000.
    pub entities: Vec<serde_json::Value>,
    /// Report what would change without changing it.
    pub dry_run: Option<bool>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeam {
    pub slug: TeamSlug,
    /// Display name. Default: the slug.
    pub name: Option<String>,
    pub members: Option<Vec<UserName>>,
    pub channels: Option<Vec<ChatChannel>>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTeam {
    pub team: TeamSlug,
    pub name: Option<String>,
    /// The whole list of members (replaces it).
    pub members: Option<Vec<UserName>>,
    /// People to add to the members the team has now.
    pub add_members: Option<Vec<UserName>>,
    /// People to remove from them.
    pub remove_members: Option<Vec<UserName>>,
    pub channels: Option<Vec<ChatChannel>>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordDeployment {
    pub project: ProjectSlug,
    pub environment: EnvName,
    pub version: String,
    /// Default: succeeded.
    pub status: Option<DeploymentStatus>,
    pub sha: Option<CommitSha>,
    pub actor: Option<String>,
    pub url: Option<String>,
    /// The reporting system's id; recording it again updates the same deployment.
    pub external_id: Option<String>,
    /// Default: now.
    pub started_at: Option<TimeArg>,
    pub finished_at: Option<TimeArg>,
    /// The deploy run that started it: the run id, or text that carries it
    /// (the title a dispatched workflow got from `run-name`). Text naming no
    /// run of this installation leaves the deployment unlinked; a run that is
    /// not this deploy is refused.
    pub run: Option<String>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordIncident {
    pub project: ProjectSlug,
    /// Required for a new incident.
    pub title: Option<String>,
    /// Default: triggered.
    pub status: Option<IncidentStatus>,
    pub severity: Option<String>,
    pub url: Option<String>,
    /// The reporting system's id; recording it again updates the same incident.
    pub external_id: Option<String>,
    /// Default: now (for a new incident given only `resolved_at`: that time).
    pub opened_at: Option<TimeArg>,
    pub resolved_at: Option<TimeArg>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordBuild {
    pub project: ProjectSlug,
    pub status: BuildStatus,
    pub sha: Option<CommitSha>,
    pub branch: Option<String>,
    pub duration_ms: Option<i64>,
    pub url: Option<String>,
    /// The reporting system's id; recording it again updates the same build.
    pub external_id: Option<String>,
    /// Default: now.
    pub started_at: Option<TimeArg>,
    pub finished_at: Option<TimeArg>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordChange {
    pub project: ProjectSlug,
    pub title: String,
    /// The pull request's number.
    pub number: Option<u64>,
    /// The merge commit.
    pub sha: Option<CommitSha>,
    pub author: Option<String>,
    pub url: Option<String>,
    /// The reporting system's id; recording it again changes nothing.
    pub external_id: Option<String>,
    /// When the change was opened for review.
    pub opened_at: TimeArg,
    /// Default: now.
    pub merged_at: Option<TimeArg>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpgradeDependency {
    pub package: PackageName,
    /// Only projects on this version.
    pub from: Option<Version>,
    pub to: Version,
    /// Only this project.
    pub project: Option<ProjectSlug>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Deploy {
    pub project: ProjectSlug,
    pub environment: EnvName,
    /// Default: the version currently in the previous environment (or,
    /// with `rollback`, the previous good version of this one).
    pub version: Option<String>,
    /// Go back to the version of the latest successful deployment to this
    /// environment before the current one, resolved and pinned now.
    pub rollback: Option<bool>,
    /// Promote: the version this environment runs now, resolved and pinned
    /// now (without it and without `version`, the previous environment's).
    pub from_environment: Option<EnvName>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScaffoldProject {
    /// Slug of the new project.
    pub name: ProjectSlug,
    pub template: TemplateName,
    /// Owning team. Default: the requester's first team.
    pub team: Option<TeamSlug>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveRun {
    pub run: RunId,
    /// `true` to approve a deploy to an environment that asks for a
    /// confirmation (`policy.confirm_environments`, production by default).
    #[serde(default)]
    pub confirm: Option<bool>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DenyRun {
    pub run: RunId,
    pub reason: Option<String>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRun {
    pub run: RunId,
    pub reason: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListUsers {}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetUserRole {
    pub user: UserName,
    pub role: Role,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetUserEmail {
    pub user: UserName,
    /// The address; null (or absent) removes it.
    pub email: Option<String>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DisableUser {
    pub user: UserName,
    /// Why, for the operations log.
    pub reason: Option<String>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnableUser {
    pub user: UserName,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignOutEverywhere {
    pub user: UserName,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListDeliveries {
    /// Only deliveries in this state. Default: all.
    pub status: Option<crate::inbox::DeliveryStatus>,
    /// Default 50, at most 500.
    pub limit: Option<u32>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayDelivery {
    /// The delivery's number (the inbox page and `list_deliveries` show it).
    pub delivery: i64,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListMessages {
    /// Only messages in this state. Default: all.
    pub status: Option<crate::outbox::MessageStatus>,
    /// Default 50, at most 500.
    pub limit: Option<u32>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryMessage {
    /// The message's number (the inbox page and `list_messages` show it).
    pub message: i64,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportGithub {
    /// Only this installation of the App. Default: every installation.
    pub installation: Option<u64>,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListImports {
    /// Only imports with this outcome: `created`, `updated`, `unchanged` or `skipped`. Default: all.
    pub outcome: Option<String>,
    /// Default 50, at most 1000.
    pub limit: Option<u32>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckLogs {
    pub project: ProjectSlug,
    /// Start of the window. Default: `[logs] default_window_minutes` before `until`.
    pub since: Option<TimeArg>,
    /// End of the window. Default: now.
    pub until: Option<TimeArg>,
    /// Only lines whose message contains this text.
    pub query: Option<String>,
    /// Only lines at this level or above (`warn`, `error`…).
    pub level: Option<crate::logs::Level>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Investigate {
    /// The project (its latest open incident, if it has one).
    pub project: Option<ProjectSlug>,
    /// An incident: its id (or a unique end of it), or its external id.
    pub incident: Option<String>,
    /// Without an incident: when the trouble started. Default: an hour ago.
    pub since: Option<TimeArg>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportAdvisories {
    /// OSV records (GitHub's advisory database, RustSec, PyPA, Go's vulndb…),
    /// at most 5,000 a call; malformed ones are refused one by one with why.
    pub records: Vec<serde_json::Value>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Vulnerabilities {
    pub project: Option<ProjectSlug>,
    pub team: Option<TeamSlug>,
    pub package: Option<PackageName>,
    /// Only this severity or worse: `critical`, `high`, `medium`, `low`.
    pub severity: Option<crate::advisory::Severity>,
    /// Only those found since then.
    pub since: Option<TimeArg>,
    /// Default 100, at most 1000.
    pub limit: Option<u32>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AffectedBy {
    /// An advisory by any of its names: `CVE-2025-29923`, `GHSA-92cp-5422-2mw7`, `GO-2025-3540`.
    pub advisory: String,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FixAdvisory {
    /// An advisory by any of its names.
    pub advisory: String,
    /// Only this package, when the advisory affects several.
    pub package: Option<PackageName>,
}
