//! Typed in-process calls: each operation's input knows its output, so a
//! surface calls `service.call(&caller, GetProject { project }).await?` and
//! gets a `ProjectDetail` back — no operation named by a string, no JSON
//! built by hand, no output matched by hope.

use super::inputs::*;
use super::output::*;
use super::{OpKind, Operation};
use crate::inbox::Delivery;
use crate::model::{Build, Change, Deployment, Incident, Project, Run, Team};
use crate::score::ScoreBreakdown;

/// An operation's input with its output's type.
pub trait TypedOp: Sized {
    type Output;
    fn operation(self) -> Operation;
    /// The output of this operation, taken out of [`Output`].
    fn output(output: Output) -> Option<Self::Output>;
}

macro_rules! typed {
    ($($op:ident($input:ty) => $variant:ident($out:ty)),* $(,)?) => {
        $(impl TypedOp for $input {
            type Output = $out;
            fn operation(self) -> Operation {
                Operation::$op(self)
            }
            fn output(output: Output) -> Option<$out> {
                match output {
                    Output::$variant(v) => Some(v),
                    _ => None,
                }
            }
        })*

        /// Whether `output` is what operation `kind` returns (and, by being
        /// exhaustive, every operation has a typed input: a new one without
        /// fails to build here).
        pub fn fits(kind: OpKind, output: &Output) -> bool {
            match kind {
                $(OpKind::$op => matches!(output, Output::$variant(_)),)*
            }
        }
    };
}

typed! {
    GetProject(GetProject) => ProjectDetail(Box<ProjectDetail>),
    FindProjects(FindProjects) => Projects(ProjectList),
    Dependents(DependentsInput) => Dependents(DependentsOutput),
    GetDependency(GetDependency) => Dependency(DependencyDetail),
    ProjectHistory(ProjectHistory) => History(History),
    ListDeployments(ListDeployments) => Deployments(DeploymentList),
    ListIncidents(ListIncidents) => Incidents(IncidentList),
    ProjectScore(ProjectScore) => Score(ScoreBreakdown),
    CiHealth(CiHealth) => CiHealth(CiHealthReport),
    Dora(Dora) => Dora(DoraReport),
    GetTeam(GetTeam) => TeamDetail(Box<TeamDetail>),
    ListTeams(ListTeams) => Teams(TeamList),
    ListRuns(ListRuns) => Runs(RunList),
    GetRun(GetRun) => Run(Box<Run>),
    CreateProject(CreateProject) => Project(Box<Project>),
    UpdateProject(UpdateProject) => Project(Box<Project>),
    ArchiveProject(ArchiveProject) => Project(Box<Project>),
    SetFact(SetFact) => Fact(FactChange),
    SetDependencies(SetDependencies) => Dependencies(DependencyChanges),
    ImportSbom(ImportSbom) => SbomImported(SbomImport),
    ImportCatalog(ImportCatalog) => CatalogImported(CatalogImport),
    ImportGithub(ImportGithub) => Imports(ImportList),
    ListImports(ListImports) => Imports(ImportList),
    CheckLogs(CheckLogs) => Logs(Box<LogReport>),
    Investigate(Investigate) => Investigation(Box<Investigation>),
    CompareEnvironments(CompareEnvironments) => Comparison(Box<EnvironmentComparison>),
    ImportManifests(ImportManifests) => ManifestsImported(ManifestImport),
    CreateTeam(CreateTeam) => Team(Team),
    UpdateTeam(UpdateTeam) => Team(Team),
    RecordDeployment(RecordDeployment) => Deployment(Deployment),
    RecordIncident(RecordIncident) => Incident(Incident),
    RecordBuild(RecordBuild) => Build(Build),
    RecordChange(RecordChange) => Change(Change),
    UpgradeDependency(UpgradeDependency) => Run(Box<Run>),
    Deploy(Deploy) => Run(Box<Run>),
    ScaffoldProject(ScaffoldProject) => Run(Box<Run>),
    ApproveRun(ApproveRun) => Run(Box<Run>),
    DenyRun(DenyRun) => Run(Box<Run>),
    CancelRun(CancelRun) => Run(Box<Run>),
    ListUsers(ListUsers) => Accounts(AccountList),
    SetUserRole(SetUserRole) => Account(Box<AccountChange>),
    SetUserEmail(SetUserEmail) => Account(Box<AccountChange>),
    DisableUser(DisableUser) => Account(Box<AccountChange>),
    EnableUser(EnableUser) => Account(Box<AccountChange>),
    SignOutEverywhere(SignOutEverywhere) => Account(Box<AccountChange>),
    ListDeliveries(ListDeliveries) => Deliveries(DeliveryList),
    ReplayDelivery(ReplayDelivery) => Delivery(Box<Delivery>),
    ListMessages(ListMessages) => Messages(MessageList),
    RetryMessage(RetryMessage) => MessageRetried(RetriedMessage),
    Vulnerabilities(Vulnerabilities) => Vulnerabilities(VulnerabilityList),
    AffectedBy(AffectedBy) => Affected(Box<AffectedReport>),
    ImportAdvisories(ImportAdvisories) => AdvisoriesImported(AdvisoryImport),
    FixAdvisory(FixAdvisory) => Runs(RunList),
}
