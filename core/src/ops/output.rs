//! What operations return. Serialized as plain JSON objects for the API, MCP
//! and the CLI; the portal matches on the typed variants.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::event::Event;
use crate::ids::*;
use crate::model::*;
use crate::score::ScoreBreakdown;
use crate::store::Dependents;

/// An environment with what runs there now.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct EnvStatus {
    pub name: EnvName,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The latest successful deployment, if any.
    pub current: Option<Deployment>,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct ProjectDetail {
    pub project: Project,
    /// The owning team (absent only if it was deleted outside Switchboard).
    pub team: Option<Team>,
    pub environments: Vec<EnvStatus>,
    pub score: ScoreBreakdown,
    pub recent_deployments: Vec<Deployment>,
    pub open_incidents: Vec<Incident>,
    pub recent_builds: Vec<Build>,
    /// The latest import of its GitHub repository: when its dependencies and
    /// facts were last read, and what happened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_import: Option<RepositoryImport>,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct ProjectList {
    pub projects: Vec<ProjectSummary>,
    /// With semantic search (`[embeddings]`): the projects listed for what
    /// their text means although the words did not match, ranked in with the rest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_meaning: Vec<ProjectSlug>,
    /// Why the list is not what was asked for (the embeddings endpoint failed: words only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct DependentsOutput {
    pub package: PackageName,
    /// Whether only projects declaring the package were counted.
    pub direct_only: bool,
    #[serde(flatten)]
    pub dependents: Dependents,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct History {
    pub project: ProjectSlug,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Newest first.
    pub events: Vec<Event>,
    /// With a subject: the earliest matching event, i.e. when the project got it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<Event>,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct DeploymentList {
    pub deployments: Vec<Deployment>,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct IncidentList {
    pub incidents: Vec<Incident>,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct TeamDetail {
    pub team: Team,
    pub members: Vec<User>,
    pub projects: Vec<ProjectSummary>,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct TeamSummary {
    pub team: Team,
    pub project_count: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct TeamList {
    pub teams: Vec<TeamSummary>,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct RunList {
    pub runs: Vec<Run>,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct FactChange {
    pub project: ProjectSlug,
    pub key: FactKey,
    /// `None` when the fact was removed.
    pub fact: Option<Fact>,
    pub score: u8,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct DependencyChanges {
    pub project: ProjectSlug,
    pub added: Vec<Dependency>,
    pub removed: Vec<Dependency>,
    pub changed: Vec<VersionChange>,
}

/// One package in one project: the edges (one per ecosystem it is found in).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct DependencyDetail {
    pub project: ProjectSlug,
    pub package: PackageName,
    /// Empty when the project does not use the package.
    pub edges: Vec<Dependency>,
}

/// What reading a project's manifests and lock files did.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct ManifestImport {
    pub project: ProjectSlug,
    /// The manifest and lock files read (paths).
    pub files: Vec<String>,
    /// Edges read: how many direct, how many transitive.
    pub direct: usize,
    pub transitive: usize,
    pub changes: DependencyChanges,
    /// Files or entries left out, each with why.
    pub skipped: Vec<crate::import::Skipped>,
}

/// What a catalog import did (or, on a dry run, would do).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct CatalogImport {
    pub dry_run: bool,
    /// Entities read.
    pub entities: usize,
    /// `team payments`, `user alice`, `project orders`.
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
    /// Entities left out, each with why.
    pub skipped: Vec<crate::import::Skipped>,
    /// What was read differently than written (a fact not declared, an owner that is no team).
    pub notes: Vec<crate::import::Skipped>,
}

/// What an SBOM import did to a project's dependencies.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct SbomImport {
    pub project: ProjectSlug,
    /// `CycloneDX 1.5`, `SPDX-2.3`.
    pub format: String,
    /// What the SBOM says it describes.
    pub subject: Option<String>,
    /// Components listed (the subject excluded).
    pub components: usize,
    /// Edges now from this SBOM.
    pub imported: usize,
    pub changes: DependencyChanges,
    /// Edges already there from the SBOM, the same as before.
    pub unchanged: usize,
    /// Packages the project already has from another source (a manifest,
    /// `set_dependencies`): that edge is kept, the SBOM's is not added.
    pub kept: Vec<PackageName>,
    pub skipped: Vec<crate::import::Skipped>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct VersionChange {
    pub ecosystem: Ecosystem,
    pub package: PackageName,
    pub from: Version,
    pub to: Version,
}

/// A project's CI health over a window of builds.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct CiHealthReport {
    pub project: ProjectSlug,
    pub since: Millis,
    /// Finished builds in the window (success or failure).
    pub builds: u32,
    pub failures: u32,
    /// failures / builds, 0 without builds.
    pub failure_rate: f64,
    pub duration_p50_ms: Option<i64>,
    pub duration_p95_ms: Option<i64>,
    /// Commits that failed and then passed with no change: flaky tests or infrastructure.
    pub flaky: Vec<FlakyBuild>,
    /// Builds that took much longer than the project's usual.
    pub anomalies: Vec<DurationAnomaly>,
    pub last_green_at: Option<Millis>,
    /// How long ago the last green build finished, in milliseconds.
    pub last_green_age_ms: Option<i64>,
    /// Builds, failure rate and median duration period by period across
    /// the window, oldest first (periods as `dora`'s trend draws them).
    pub trend: Vec<CiPeriod>,
}

/// A project's finished builds over one period of a CI health window.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct CiPeriod {
    pub from: Millis,
    pub until: Millis,
    pub builds: u32,
    pub failures: u32,
    pub duration_p50_ms: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct FlakyBuild {
    pub sha: CommitSha,
    pub failed_at: Millis,
    pub passed_at: Millis,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct DurationAnomaly {
    pub started_at: Millis,
    pub duration_ms: i64,
    /// The median of the builds before it.
    pub usual_ms: i64,
    pub url: Option<String>,
}

/// The four DORA metrics over a window, for deployments to one environment.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct DoraReport {
    /// `project orders`, `team payments` or `every project`.
    pub scope: String,
    pub environment: EnvName,
    pub since: Millis,
    pub deployments: u32,
    pub deployments_per_day: f64,
    /// Median time from the first CI build of a deployed commit to its deployment.
    pub lead_time_p50_ms: Option<i64>,
    /// Failed or rolled-back deployments / finished deployments.
    pub change_failure_rate: f64,
    /// Median time from an incident opening to its resolution (incidents resolved in the window).
    pub time_to_restore_p50_ms: Option<i64>,
    /// The same metrics period by period across the window, oldest first:
    /// days for a window up to two weeks, weeks up to half a year, else
    /// 30-day periods (the newest may be short).
    pub trend: Vec<DoraPeriod>,
}

/// The DORA metrics over one period of a report's window.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct DoraPeriod {
    pub from: Millis,
    pub until: Millis,
    pub deployments: u32,
    pub deployments_per_day: f64,
    pub lead_time_p50_ms: Option<i64>,
    pub change_failure_rate: f64,
    /// Finished deployments in the period: the failure rate's denominator
    /// (with none, the rate of 0 says nothing).
    pub finished: u32,
    pub time_to_restore_p50_ms: Option<i64>,
}

/// An account as admins see it.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Account {
    pub user: User,
    /// How the person signs in to the portal: `password`, `oidc` or `none`
    /// (API tokens and chat only).
    pub sign_in: String,
    /// Tokens neither revoked nor expired.
    pub active_tokens: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct AccountList {
    pub users: Vec<Account>,
}

/// An account after an admin changed it, with what the change ended.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct AccountChange {
    pub account: Account,
    /// Every portal session of the person ended.
    pub sessions_ended: bool,
    pub tokens_revoked: u32,
    /// Tokens lowered to the person's new role.
    pub tokens_capped: u32,
}

/// The result of any operation.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Output {
    ProjectDetail(Box<ProjectDetail>),
    Project(Box<Project>),
    Projects(ProjectList),
    Dependents(DependentsOutput),
    History(History),
    Deployments(DeploymentList),
    Deployment(Deployment),
    Incidents(IncidentList),
    Incident(Incident),
    Build(Build),
    Change(Change),
    Score(ScoreBreakdown),
    CiHealth(CiHealthReport),
    Dora(DoraReport),
    TeamDetail(Box<TeamDetail>),
    Team(Team),
    Teams(TeamList),
    Runs(RunList),
    Run(Box<Run>),
    Fact(FactChange),
    Dependencies(DependencyChanges),
    Dependency(DependencyDetail),
    SbomImported(SbomImport),
    CatalogImported(CatalogImport),
    ManifestsImported(ManifestImport),
    Imports(ImportList),
    Logs(Box<LogReport>),
    Investigation(Box<Investigation>),
    Comparison(Box<EnvironmentComparison>),
    Accounts(AccountList),
    Account(Box<AccountChange>),
    Deliveries(DeliveryList),
    Delivery(Box<crate::inbox::Delivery>),
    Messages(MessageList),
    MessageRetried(RetriedMessage),
    Vulnerabilities(VulnerabilityList),
    Affected(Box<AffectedReport>),
    AdvisoriesImported(AdvisoryImport),
}

/// Webhook deliveries, newest first, and how many there are in each state.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeliveryList {
    pub counts: BTreeMap<&'static str, u64>,
    pub deliveries: Vec<crate::inbox::Delivery>,
}

/// Chat messages of the outbox, newest first, and how many in each state.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MessageList {
    pub counts: BTreeMap<&'static str, u64>,
    pub messages: Vec<crate::outbox::OutMessage>,
}

/// A dead chat message made pending again.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RetriedMessage {
    pub message: i64,
    pub platform: ChatPlatform,
    pub channel: String,
    pub status: crate::outbox::MessageStatus,
}

impl Output {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("outputs serialize")
    }
}

/// GitHub repository imports: what was just queued, and the latest import of
/// each repository.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct ImportList {
    /// What `import_github` queued (`every installation`, `installation 42`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queued: Option<String>,
    /// How many repositories have an import recorded, by outcome.
    pub counts: BTreeMap<String, u64>,
    pub imports: Vec<RepositoryImport>,
}

/// The latest import of one repository.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RepositoryImport {
    pub repository: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// `created`, `updated`, `unchanged` or `skipped`.
    pub outcome: String,
    /// What happened, in a line (what changed, or why it was skipped).
    pub summary: String,
    pub at: Millis,
}

/// What `check_logs` found in a project's lines.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct LogReport {
    pub project: ProjectSlug,
    /// The `[[log_sources]]` entry read, its kind, and the project's selector there.
    pub source: String,
    pub kind: String,
    pub selector: String,
    pub since: Millis,
    pub until: Millis,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<crate::logs::Level>,
    /// Lines in the window: read, or counted by the source.
    pub scanned: u64,
    /// The source counted the window's lines itself (ClickHouse, the
    /// embedded table): the counts and spikes cover every line, and only
    /// error lines were read, for the signatures.
    pub counted_by_source: bool,
    /// The window held more lines than `[logs] max_lines` (error lines, when
    /// counted by the source): the newest were read.
    pub truncated: bool,
    /// The baseline window (from here to `since`) and its error lines.
    pub baseline_since: Millis,
    pub baseline_errors: usize,
    /// Error and fatal lines in the window.
    pub errors: u64,
    #[serde(flatten)]
    pub analysis: crate::logs::analysis::Analysis,
    /// The same lines in the source's own UI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// The first minutes of an incident (`investigate`).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Investigation {
    pub project: ProjectSlug,
    pub team: TeamSlug,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_name: Option<String>,
    /// The project's on-call fact (`oncall`), when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oncall: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident: Option<Incident>,
    /// When the trouble started (the incident's opening).
    pub start: Millis,
    /// The hours looked at.
    pub since: Millis,
    pub until: Millis,
    /// The answer in a sentence.
    pub summary: String,
    /// The changes most likely to have caused it, most likely first.
    pub suspects: Vec<Suspect>,
    pub timeline: Vec<TimelineEntry>,
    /// What the logs said from the hour before the start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logs: Option<LogReport>,
    /// Why the logs could not be read (the rest still answers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logs_error: Option<String>,
    /// The team's other incidents in those hours.
    pub team_incidents: Vec<Incident>,
}

/// What differs between two environments of a project.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct EnvironmentComparison {
    pub project: ProjectSlug,
    pub from: EnvName,
    pub to: EnvName,
    /// Both run the same version (or neither has one).
    pub same: bool,
    /// The environment deployed more recently, when they differ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ahead: Option<EnvName>,
    /// Every environment of the project with the version it runs.
    pub environments: Vec<EnvironmentVersion>,
    /// Changes merged after the behind environment's deployment, up to the
    /// ahead one's, newest first: what the behind one lacks.
    pub changes: Vec<Change>,
    /// The ahead environment's successful deployments since the behind one's.
    pub deployments: Vec<Deployment>,
    pub summary: String,
}

/// The version an environment runs: its latest successful deployment.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct EnvironmentVersion {
    pub environment: EnvName,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha: Option<CommitSha>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployed_at: Option<Millis>,
}

/// A change that may have caused an incident.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Suspect {
    /// `deployment`, `change_merged`, `dependencies_changed`.
    pub kind: String,
    pub at: Millis,
    pub what: String,
    pub reason: String,
    /// Higher is likelier (docs/investigation.md says how it is reckoned).
    pub score: f64,
    /// For the current deployment of an environment: what a rollback goes back to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollback: Option<Rollback>,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Rollback {
    pub environment: String,
    /// The previous good version.
    pub version: String,
    /// The version running now.
    pub from: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct TimelineEntry {
    pub at: Millis,
    pub kind: String,
    pub text: String,
}

/// What an advisory import read, changed and refused, and the
/// vulnerabilities it found and closed.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct AdvisoryImport {
    pub read: u64,
    /// New advisories and changed ones.
    pub changed: u64,
    pub unchanged: u64,
    pub refused: Vec<crate::advisory::osv::Refused>,
    /// What in the imported records cannot be evaluated (kept, reported), by advisory.
    pub notes: Vec<AdvisoryNote>,
    /// Vulnerabilities found and fixed by the change.
    pub found: u64,
    pub fixed: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct AdvisoryNote {
    pub advisory: String,
    pub note: String,
}

/// Vulnerabilities, worst first, with the totals behind the page.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct VulnerabilityList {
    /// Matches listed (an advisory known by several records counted once).
    pub total: u64,
    /// Projects affected among them.
    pub projects: u64,
    pub by_severity: BTreeMap<crate::advisory::Severity, u64>,
    /// The same counts for each owning team.
    pub by_team: BTreeMap<crate::ids::TeamSlug, BTreeMap<crate::advisory::Severity, u64>>,
    pub vulnerabilities: Vec<crate::advisory::VulnerabilityMatch>,
    /// More matched than the limit allowed.
    pub truncated: bool,
    /// Advisories known at all (0 means none were ever imported).
    pub advisories_known: u64,
}

/// One advisory with everything that it affects.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct AffectedReport {
    /// The name asked for.
    pub asked: String,
    /// Every record going by that name (usually one; a CVE may have a GHSA
    /// and a RUSTSEC record), by id.
    pub advisories: Vec<crate::advisory::Advisory>,
    pub affected: Vec<crate::advisory::VulnerabilityMatch>,
    pub projects: u64,
    /// The campaigns requested to fix it, newest first.
    pub runs: Vec<Run>,
}
