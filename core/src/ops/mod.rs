//! Operations: every capability, defined once. `OpKind` is the registry (an
//! explicit list), `OpKind::spec` gives each its description and effect through
//! an exhaustive match (so no operation ships without help), and `Operation`
//! carries the typed input.

pub mod inputs;
mod operation;
pub mod output;
mod schema;
pub mod typed;

pub use operation::{Operation, Owned};

use schemars::JsonSchema;
use serde::Serialize;

use inputs::*;

/// What running an operation does to the world; the policy keys off it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    /// Reads only; runs at once.
    Read,
    /// Changes the graph; runs at once for editors.
    Write,
    /// Never runs at once: creates a pending run that someone must approve.
    Automation,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Automation => "automation",
        }
    }
}

/// Every operation, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OpKind {
    GetProject,
    FindProjects,
    Dependents,
    GetDependency,
    ProjectHistory,
    ListDeployments,
    ListIncidents,
    ProjectScore,
    CiHealth,
    Dora,
    GetTeam,
    ListTeams,
    ListRuns,
    GetRun,
    CreateProject,
    UpdateProject,
    ArchiveProject,
    SetFact,
    SetDependencies,
    ImportSbom,
    ImportManifests,
    ImportCatalog,
    ImportGithub,
    ListImports,
    CheckLogs,
    Investigate,
    CompareEnvironments,
    CreateTeam,
    UpdateTeam,
    RecordDeployment,
    RecordIncident,
    RecordBuild,
    RecordChange,
    UpgradeDependency,
    Deploy,
    ScaffoldProject,
    ApproveRun,
    DenyRun,
    CancelRun,
    ListUsers,
    SetUserRole,
    SetUserEmail,
    DisableUser,
    EnableUser,
    SignOutEverywhere,
    ListDeliveries,
    ReplayDelivery,
    ListMessages,
    RetryMessage,
    Vulnerabilities,
    AffectedBy,
    ImportAdvisories,
    FixAdvisory,
}

/// What the registry says about an operation.
#[derive(Clone, Copy, Debug)]
pub struct OpSpec {
    pub name: &'static str,
    pub effect: Effect,
    /// One or two sentences for people and for LLMs.
    pub description: &'static str,
    /// A valid example input.
    pub example: &'static str,
}

impl OpKind {
    /// The registry, in the order help lists them.
    pub const ALL: [OpKind; 53] = [
        Self::GetProject,
        Self::FindProjects,
        Self::Dependents,
        Self::GetDependency,
        Self::ProjectHistory,
        Self::ListDeployments,
        Self::ListIncidents,
        Self::ProjectScore,
        Self::CiHealth,
        Self::Dora,
        Self::GetTeam,
        Self::ListTeams,
        Self::ListRuns,
        Self::GetRun,
        Self::CreateProject,
        Self::UpdateProject,
        Self::ArchiveProject,
        Self::SetFact,
        Self::SetDependencies,
        Self::ImportSbom,
        Self::ImportManifests,
        Self::ImportCatalog,
        Self::ImportGithub,
        Self::ListImports,
        Self::CheckLogs,
        Self::Investigate,
        Self::CompareEnvironments,
        Self::CreateTeam,
        Self::UpdateTeam,
        Self::RecordDeployment,
        Self::RecordIncident,
        Self::RecordBuild,
        Self::RecordChange,
        Self::UpgradeDependency,
        Self::Deploy,
        Self::ScaffoldProject,
        Self::ApproveRun,
        Self::DenyRun,
        Self::CancelRun,
        Self::ListUsers,
        Self::SetUserRole,
        Self::SetUserEmail,
        Self::DisableUser,
        Self::EnableUser,
        Self::SignOutEverywhere,
        Self::ListDeliveries,
        Self::ReplayDelivery,
        Self::ListMessages,
        Self::RetryMessage,
        Self::Vulnerabilities,
        Self::AffectedBy,
        Self::ImportAdvisories,
        Self::FixAdvisory,
    ];

    pub fn spec(self) -> OpSpec {
        use Effect::*;
        let (name, effect, description, example) = match self {
            Self::GetProject => (
                "get_project",
                Read,
                "Show a project: owner team, facts, dependencies, current version per environment, recent deployments, open incidents, score.",
                r#"{"project": "payments-api"}"#,
            ),
            Self::FindProjects => (
                "find_projects",
                Read,
                "Search projects by words (and by meaning when semantic search is on: describe what a project does), team, type, a package used (optionally a version) or a fact value.",
                r#"{"query": "ledger", "team": "payments"}"#,
            ),
            Self::Dependents => (
                "dependents",
                Read,
                "List the projects that use a package, with the version each uses and a count per version.",
                r#"{"package": "redis", "version": "7.2.4"}"#,
            ),
            Self::GetDependency => (
                "get_dependency",
                Read,
                "How a project uses one package: the version, the declared requirement, direct or transitive, its scope, and the manifest, lock file or SBOM it was read from.",
                r#"{"project": "checkout", "package": "redis"}"#,
            ),
            Self::ProjectHistory => (
                "project_history",
                Read,
                "A project's history, newest first; with a subject like `redis 7`, when it got that package or fact value.",
                r#"{"project": "checkout", "subject": "redis 7"}"#,
            ),
            Self::ListDeployments => (
                "list_deployments",
                Read,
                "List deployments, newest first, optionally for one project, one environment or since a time.",
                r#"{"project": "orders", "environment": "production"}"#,
            ),
            Self::ListIncidents => (
                "list_incidents",
                Read,
                "List incidents, newest first, optionally by project, team, status or since a time.",
                r#"{"team": "payments", "status": "triggered"}"#,
            ),
            Self::ProjectScore => (
                "project_score",
                Read,
                "A project's 0-100 score with its breakdown (facts, incidents, CI and deployment freshness).",
                r#"{"project": "payments-api"}"#,
            ),
            Self::CiHealth => (
                "ci_health",
                Read,
                "A project's CI health: build durations, failure rate, flaky and slow builds, last green build.",
                r#"{"project": "orders", "since": "30d"}"#,
            ),
            Self::Dora => (
                "dora",
                Read,
                "DORA metrics of a project, a team or everything.",
                r#"{"team": "payments", "since": "30d"}"#,
            ),
            Self::GetTeam => (
                "get_team",
                Read,
                "Show a team: its members, chat channels and the projects it owns.",
                r#"{"team": "payments"}"#,
            ),
            Self::ListTeams => ("list_teams", Read, "List every team with how many projects it owns.", "{}"),
            Self::ListRuns => (
                "list_runs",
                Read,
                "List automation runs, newest first, optionally by status (pending runs are waiting for approval).",
                r#"{"status": "pending"}"#,
            ),
            Self::GetRun => (
                "get_run",
                Read,
                "Show one automation run: what it does, who asked, its approvals and steps.",
                r#"{"run": "01930f3e-5c1a-7b6e-9d2f-0a1b2c3d4e5f"}"#,
            ),
            Self::CreateProject => (
                "create_project",
                Write,
                "Create a project with its team and type, optionally facts, environments and dependencies.",
                r#"{"slug": "fraud-scorer", "team": "payments", "project_type": "consumer"}"#,
            ),
            Self::UpdateProject => (
                "update_project",
                Write,
                "Change a project's name, description, team, type, links, environments or external ids.",
                r#"{"project": "fraud-scorer", "description": "Scores card payments for fraud."}"#,
            ),
            Self::ArchiveProject => (
                "archive_project",
                Write,
                "Archive a project: it leaves searches and lists but keeps its history.",
                r#"{"project": "fraud-scorer"}"#,
            ),
            Self::SetFact => (
                "set_fact",
                Write,
                "Set a project's fact, checked against its type's declaration; null removes it.",
                r#"{"project": "payments-api", "key": "tier", "value": "1"}"#,
            ),
            Self::SetDependencies => (
                "set_dependencies",
                Write,
                "Replace a project's dependencies (or one ecosystem's).",
                r#"{"project": "checkout", "dependencies": [{"ecosystem": "npm", "package": "redis", "version": "7.2.4"}]}"#,
            ),
            Self::ImportSbom => (
                "import_sbom",
                Write,
                "Read a project's SBOM (CycloneDX or SPDX JSON): its components replace the dependencies that came from the project's earlier SBOMs; others stay.",
                r#"{"project": "checkout", "name": "checkout.cdx.json", "sbom": {"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [{"type": "library", "name": "redis", "version": "4.6.7", "purl": "pkg:npm/redis@4.6.7"}]}}"#,
            ),
            Self::ImportManifests => (
                "import_manifests",
                Write,
                "Read a project's dependencies from its manifests and lock files (Cargo, npm, yarn, pnpm, Python, Go, Ruby) at any path: versions from lock files, direct or transitive, dev or runtime; replaces what earlier manifest imports and hand edits gave.",
                r#"{"project": "checkout", "files": [{"path": "go.mod", "text": "module example.com/checkout\n\nrequire github.com/redis/go-redis/v9 v9.5.1\n"}]}"#,
            ),
            Self::ImportCatalog => (
                "import_catalog",
                Write,
                "Read Backstage catalog entities: Groups become teams, Users viewers matched by email, Components projects; reports what was created, updated, unchanged and skipped. Admins only.",
                r#"{"entities": [{"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "orders"}, "spec": {"type": "service", "owner": "checkout"}}], "dry_run": true}"#,
            ),
            Self::ImportGithub => (
                "import_github",
                Write,
                "Import every repository the GitHub App can read (or one installation's): a project each with its owner, type, facts and dependencies, worked by the refresher in the background; re-runs write only what changed. Admins only.",
                r#"{"installation": 42}"#,
            ),
            Self::ListImports => (
                "list_imports",
                Read,
                "The latest import of each GitHub repository, newest first, optionally only one outcome (created, updated, unchanged, skipped), with what changed or why it was skipped. Editors and up.",
                r#"{"outcome": "skipped", "limit": 50}"#,
            ),
            Self::CheckLogs => (
                "check_logs",
                Read,
                "Read a project's logs over a window (default the last hour) and say what stands out: counts by level over time, error signatures (messages grouped by template) with which are new against the hours before, spikes, and a link to the source.",
                r#"{"project": "orders", "since": "1h", "level": "warn"}"#,
            ),
            Self::Investigate => (
                "investigate",
                Read,
                "Investigate an incident (or a project's trouble): its owners and on-call, a timeline of deployments, merged changes, builds, fact and dependency changes and log spikes around its start, and the changes most likely to have caused it, ranked with why, with the version a rollback would go back to.",
                r#"{"project": "orders"}"#,
            ),
            Self::CompareEnvironments => (
                "compare_environments",
                Read,
                "What differs between two environments of a project (default: production and the one before it): the version each runs, and the merged changes and deployments between them.",
                r#"{"project": "orders", "from": "staging", "to": "production"}"#,
            ),
            Self::CreateTeam => (
                "create_team",
                Write,
                "Create a team with members and chat channels.",
                r#"{"slug": "risk", "name": "Risk", "members": ["alice"]}"#,
            ),
            Self::UpdateTeam => (
                "update_team",
                Write,
                "Change a team's name, members or chat channels.",
                r#"{"team": "risk", "members": ["alice", "bob"]}"#,
            ),
            Self::RecordDeployment => (
                "record_deployment",
                Write,
                "Record a deployment of a project version to an environment, with its status.",
                r#"{"project": "orders", "environment": "staging", "version": "1.4.2"}"#,
            ),
            Self::RecordIncident => (
                "record_incident",
                Write,
                "Record a project's incident, or update one by its external id.",
                r#"{"project": "orders", "title": "Checkout latency above SLO", "severity": "P2"}"#,
            ),
            Self::RecordBuild => (
                "record_build",
                Write,
                "Record a CI run of a project: status, commit, branch, duration.",
                r#"{"project": "orders", "status": "success", "branch": "main", "duration_ms": 412000}"#,
            ),
            Self::RecordChange => (
                "record_change",
                Write,
                "Record a merged change (pull request) of a project: when it was opened and merged, its merge commit. DORA's lead time starts here.",
                r#"{"project": "orders", "title": "Retry payment capture", "number": 42, "opened_at": "2026-11-20T09:00:00Z"}"#,
            ),
            Self::UpgradeDependency => (
                "upgrade_dependency",
                Automation,
                "Request upgrading a package everywhere it is used (or from one version, or in one project) through pull requests; needs an approval.",
                r#"{"package": "left-pad", "from": "1.2.3", "to": "1.3.0"}"#,
            ),
            Self::Deploy => (
                "deploy",
                Automation,
                "Request a deployment of a project to an environment; needs an approval.",
                r#"{"project": "orders", "environment": "staging"}"#,
            ),
            Self::ScaffoldProject => (
                "scaffold_project",
                Automation,
                "Request a new project created from a template (repository and graph entry); needs an approval.",
                r#"{"name": "invoice-consumer", "template": "consumer", "team": "payments"}"#,
            ),
            Self::ApproveRun => (
                "approve_run",
                Write,
                "Approve a pending automation run so it executes; needs the approver role, and not the requester.",
                r#"{"run": "01930f3e-5c1a-7b6e-9d2f-0a1b2c3d4e5f"}"#,
            ),
            Self::DenyRun => (
                "deny_run",
                Write,
                "Deny a pending automation run, with an optional reason; it will never execute.",
                r#"{"run": "01930f3e-5c1a-7b6e-9d2f-0a1b2c3d4e5f", "reason": "freeze week"}"#,
            ),
            Self::CancelRun => (
                "cancel_run",
                Write,
                "Cancel an automation run that has not finished (pending, approved or running); the engine stops before its next step. Its requester or an approver.",
                r#"{"run": "01930f3e-5c1a-7b6e-9d2f-0a1b2c3d4e5f", "reason": "wrong environment"}"#,
            ),
            Self::ListUsers => (
                "list_users",
                Read,
                "List every account: role, email, how the person signs in, whether it is disabled, active API tokens. Admins only.",
                "{}",
            ),
            Self::SetUserRole => (
                "set_user_role",
                Write,
                "Change a local account's role; their portal sessions end and their API tokens are capped at the new role. Admins only.",
                r#"{"user": "carol", "role": "approver"}"#,
            ),
            Self::SetUserEmail => (
                "set_user_email",
                Write,
                "Set or remove an account's email (chat accounts with that verified email link to it). Admins only.",
                r#"{"user": "carol", "email": "carol@example.com"}"#,
            ),
            Self::DisableUser => (
                "disable_user",
                Write,
                "Disable an account: it cannot sign in, its sessions end and its API tokens are revoked. Admins only.",
                r#"{"user": "mallory", "reason": "left the company"}"#,
            ),
            Self::EnableUser => (
                "enable_user",
                Write,
                "Enable a disabled account again (its old tokens stay revoked). Admins only.",
                r#"{"user": "mallory"}"#,
            ),
            Self::SignOutEverywhere => (
                "sign_out_everywhere",
                Write,
                "End every portal session of an account, on every device. Admins only.",
                r#"{"user": "carol"}"#,
            ),
            Self::ListDeliveries => (
                "list_deliveries",
                Read,
                "List received webhook deliveries, newest first, optionally of one status (pending, done, unmapped, dead), with what processing did or why it failed, and the counts per status. Editors and up.",
                r#"{"status": "dead", "limit": 20}"#,
            ),
            Self::ReplayDelivery => (
                "replay_delivery",
                Write,
                "Process a dead or unmapped webhook delivery again (after fixing a rule or creating the project it names). Editors and up.",
                r#"{"delivery": 42}"#,
            ),
            Self::ListMessages => (
                "list_messages",
                Read,
                "List chat messages Switchboard sent or is sending (the outbox), newest first, optionally of one status (pending, sent, dead), with the last error. Editors and up.",
                r#"{"status": "dead"}"#,
            ),
            Self::RetryMessage => (
                "retry_message",
                Write,
                "Send a dead chat message again (after fixing the bot's token or channel). Editors and up.",
                r#"{"message": 17}"#,
            ),
            Self::Vulnerabilities => (
                "vulnerabilities",
                Read,
                "Known vulnerabilities (CVEs) in projects' dependencies, worst first: advisory, installed and fixed versions, severity.",
                r#"{"team": "payments", "severity": "high"}"#,
            ),
            Self::AffectedBy => (
                "affected_by",
                Read,
                "Which projects an advisory (CVE, GHSA, RUSTSEC, PYSEC or GO id) affects, with installed and fixed versions.",
                r#"{"advisory": "CVE-2025-29923"}"#,
            ),
            Self::ImportAdvisories => (
                "import_advisories",
                Write,
                "Import OSV advisory records (GitHub advisories, RustSec, PyPA, Go vulndb); the graph's dependencies are matched against them, recording each vulnerability found or fixed. Admins only.",
                r#"{"records": [{"id": "GO-2025-3540", "modified": "2025-03-20T00:00:00Z", "aliases": ["CVE-2025-29923"], "affected": [{"package": {"ecosystem": "Go", "name": "github.com/redis/go-redis/v9"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "9.5.1"}, {"fixed": "9.5.5"}]}]}]}]}"#,
            ),
            Self::FixAdvisory => (
                "fix_advisory",
                Automation,
                "Request upgrade campaigns that fix an advisory everywhere: one pull request campaign per affected package version, to its first fixed version; each needs an approval.",
                r#"{"advisory": "CVE-2025-29923"}"#,
            ),
        };
        OpSpec { name, effect, description, example }
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    pub fn effect(self) -> Effect {
        self.spec().effect
    }

    /// The input schema trimmed for agents (LLM function tools, MCP): no
    /// patterns, titles or `$schema`, nullable types collapsed, descriptions cut
    /// to their first sentence. Validation still uses the full schema's types
    /// when the input is parsed, so nothing is lost but tokens.
    pub fn compact_input_schema(self) -> serde_json::Value {
        let mut v = self.input_schema();
        schema::compact(&mut v);
        schema::inline_defs(&mut v);
        v
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The JSON Schema of the operation's input.
    pub fn input_schema(self) -> serde_json::Value {
        fn s<T: JsonSchema>() -> serde_json::Value {
            let settings = schemars::generate::SchemaSettings::draft2020_12();
            let mut generator = settings.into_generator();
            serde_json::to_value(generator.root_schema_for::<T>()).expect("schema serializes")
        }
        match self {
            Self::GetProject => s::<GetProject>(),
            Self::FindProjects => s::<FindProjects>(),
            Self::Dependents => s::<DependentsInput>(),
            Self::GetDependency => s::<GetDependency>(),
            Self::ProjectHistory => s::<ProjectHistory>(),
            Self::ListDeployments => s::<ListDeployments>(),
            Self::ListIncidents => s::<ListIncidents>(),
            Self::ProjectScore => s::<ProjectScore>(),
            Self::CiHealth => s::<CiHealth>(),
            Self::Dora => s::<Dora>(),
            Self::GetTeam => s::<GetTeam>(),
            Self::ListTeams => s::<ListTeams>(),
            Self::ListRuns => s::<ListRuns>(),
            Self::GetRun => s::<GetRun>(),
            Self::CreateProject => s::<CreateProject>(),
            Self::UpdateProject => s::<UpdateProject>(),
            Self::ArchiveProject => s::<ArchiveProject>(),
            Self::SetFact => s::<SetFact>(),
            Self::SetDependencies => s::<SetDependencies>(),
            Self::ImportSbom => s::<ImportSbom>(),
            Self::ImportCatalog => s::<ImportCatalog>(),
            Self::ImportGithub => s::<ImportGithub>(),
            Self::ListImports => s::<ListImports>(),
            Self::CheckLogs => s::<CheckLogs>(),
            Self::Investigate => s::<Investigate>(),
            Self::CompareEnvironments => s::<CompareEnvironments>(),
            Self::ImportManifests => s::<ImportManifests>(),
            Self::CreateTeam => s::<CreateTeam>(),
            Self::UpdateTeam => s::<UpdateTeam>(),
            Self::RecordDeployment => s::<RecordDeployment>(),
            Self::RecordIncident => s::<RecordIncident>(),
            Self::RecordBuild => s::<RecordBuild>(),
            Self::RecordChange => s::<RecordChange>(),
            Self::UpgradeDependency => s::<UpgradeDependency>(),
            Self::Deploy => s::<Deploy>(),
            Self::ScaffoldProject => s::<ScaffoldProject>(),
            Self::ApproveRun => s::<ApproveRun>(),
            Self::DenyRun => s::<DenyRun>(),
            Self::CancelRun => s::<CancelRun>(),
            Self::ListUsers => s::<ListUsers>(),
            Self::SetUserRole => s::<SetUserRole>(),
            Self::SetUserEmail => s::<SetUserEmail>(),
            Self::DisableUser => s::<DisableUser>(),
            Self::EnableUser => s::<EnableUser>(),
            Self::SignOutEverywhere => s::<SignOutEverywhere>(),
            Self::ListDeliveries => s::<ListDeliveries>(),
            Self::ReplayDelivery => s::<ReplayDelivery>(),
            Self::ListMessages => s::<ListMessages>(),
            Self::RetryMessage => s::<RetryMessage>(),
            Self::Vulnerabilities => s::<Vulnerabilities>(),
            Self::AffectedBy => s::<AffectedBy>(),
            Self::ImportAdvisories => s::<ImportAdvisories>(),
            Self::FixAdvisory => s::<FixAdvisory>(),
        }
    }
}

/// Help text for every operation, generated from the registry.
pub fn help_text() -> String {
    let mut out = String::new();
    for effect in [Effect::Read, Effect::Write, Effect::Automation] {
        out.push_str(&format!("{} operations:\n", effect.as_str()));
        for k in OpKind::ALL.into_iter().filter(|k| k.effect() == effect) {
            let s = k.spec();
            out.push_str(&format!("  {:<20} {}\n  {:<20} e.g. {}\n", s.name, s.description, "", s.example));
        }
    }
    out
}

/// Stored and sent by name (`deploy`), as runs and events always were.
impl Serialize for OpKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for OpKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Self::from_name(&name).ok_or_else(|| serde::de::Error::custom(format!("unknown operation {name:?}")))
    }
}

impl JsonSchema for OpKind {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("OpKind")
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = Self::ALL.iter().map(|k| k.name()).collect();
        schemars::json_schema!({"type": "string", "description": "an operation's name", "enum": names})
    }
    fn inline_schema() -> bool {
        true
    }
}

impl std::fmt::Display for OpKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn registry_names_are_unique_and_round_trip() {
        let mut names: Vec<_> = OpKind::ALL.iter().map(|k| k.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), OpKind::ALL.len());
        for k in OpKind::ALL {
            assert_eq!(OpKind::from_name(k.name()), Some(k));
        }
    }

    #[test]
    fn every_example_parses_and_every_schema_is_an_object() {
        for k in OpKind::ALL {
            let s = k.spec();
            let args: serde_json::Value = serde_json::from_str(s.example).unwrap();
            let op = Operation::parse(s.name, args).unwrap_or_else(|e| panic!("{}: {e}", s.name));
            assert_eq!(op.kind(), k);
            assert_eq!(k.input_schema()["type"], "object", "{}", s.name);
        }
    }

    #[test]
    fn bad_input_names_the_field() {
        let err = Operation::parse("get_project", serde_json::json!({"project": "Not A Slug"})).unwrap_err();
        match &err {
            Error::BadInput { field, .. } => assert_eq!(field.as_deref(), Some("project")),
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("lowercase letters"), "{err}");
        let err = Operation::parse("get_project", serde_json::json!({"project": "a", "x": 1})).unwrap_err();
        assert!(err.to_string().contains("unknown field `x`"), "{err}");
        let err = Operation::parse("get_project", serde_json::json!({})).unwrap_err();
        assert!(matches!(&err, Error::BadInput { field: Some(f), .. } if f == "project"), "{err:?}");
        let err = Operation::parse("find_projects", serde_json::json!({"limit": "ten"})).unwrap_err();
        assert!(matches!(&err, Error::BadInput { field: Some(f), .. } if f == "limit"), "{err:?}");
        assert!(matches!(Operation::parse("nope", serde_json::json!({})), Err(Error::UnknownOperation { .. })));
        assert!(Operation::parse("list_teams", serde_json::json!([])).is_err());
    }

    #[test]
    fn the_operations_doc_covers_every_operation() {
        let doc = include_str!("../../../docs/operations.md");
        for k in OpKind::ALL {
            assert!(doc.contains(&format!("`{}`", k.name())), "docs/operations.md does not mention {}", k.name());
        }
    }

    #[test]
    fn help_lists_every_operation() {
        let help = help_text();
        for k in OpKind::ALL {
            assert!(help.contains(k.name()), "{}", k.name());
        }
    }
}
