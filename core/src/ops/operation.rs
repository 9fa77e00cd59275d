//! `Operation`: an operation with its typed input, parsed from JSON by
//! name (with the offending field named), and what it changes belongs to.

use super::OpKind;
use super::inputs::*;
use crate::error::Error;

/// An operation with its validated input.
#[derive(Clone, Debug)]
pub enum Operation {
    GetProject(GetProject),
    FindProjects(FindProjects),
    Dependents(DependentsInput),
    GetDependency(GetDependency),
    ProjectHistory(ProjectHistory),
    ListDeployments(ListDeployments),
    ListIncidents(ListIncidents),
    ProjectScore(ProjectScore),
    CiHealth(CiHealth),
    Dora(Dora),
    GetTeam(GetTeam),
    ListTeams(ListTeams),
    ListRuns(ListRuns),
    GetRun(GetRun),
    CreateProject(CreateProject),
    UpdateProject(UpdateProject),
    ArchiveProject(ArchiveProject),
    SetFact(SetFact),
    SetDependencies(SetDependencies),
    ImportSbom(ImportSbom),
    ImportCatalog(ImportCatalog),
    ImportGithub(ImportGithub),
    ListImports(ListImports),
    CheckLogs(CheckLogs),
    Investigate(Investigate),
    CompareEnvironments(CompareEnvironments),
    ImportManifests(ImportManifests),
    CreateTeam(CreateTeam),
    UpdateTeam(UpdateTeam),
    RecordDeployment(RecordDeployment),
    RecordIncident(RecordIncident),
    RecordBuild(RecordBuild),
    RecordChange(RecordChange),
    UpgradeDependency(UpgradeDependency),
    Deploy(Deploy),
    ScaffoldProject(ScaffoldProject),
    ApproveRun(ApproveRun),
    DenyRun(DenyRun),
    CancelRun(CancelRun),
    ListUsers(ListUsers),
    SetUserRole(SetUserRole),
    SetUserEmail(SetUserEmail),
    DisableUser(DisableUser),
    EnableUser(EnableUser),
    SignOutEverywhere(SignOutEverywhere),
    ListDeliveries(ListDeliveries),
    ReplayDelivery(ReplayDelivery),
    ListMessages(ListMessages),
    RetryMessage(RetryMessage),
    Vulnerabilities(Vulnerabilities),
    AffectedBy(AffectedBy),
    ImportAdvisories(ImportAdvisories),
    FixAdvisory(FixAdvisory),
}

fn input<T: serde::de::DeserializeOwned>(args: serde_json::Value) -> Result<T, Error> {
    let args = if args.is_null() { serde_json::Value::Object(Default::default()) } else { args };
    if !args.is_object() {
        return Err(Error::bad_input(None, "the arguments must be a JSON object"));
    }
    serde_path_to_error::deserialize(args).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." || path.is_empty() { None } else { Some(path) };
        let inner = e.into_inner().to_string();
        // serde names a missing field in its message; lift it into `field`.
        let field = field
            .or_else(|| inner.strip_prefix("missing field `").and_then(|r| r.split('`').next()).map(str::to_owned));
        Error::bad_input(field, inner)
    })
}

/// What an operation changes belongs to (for `policy.editors_own_teams_only`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owned<'a> {
    /// A project: what its owning team owns.
    Project(&'a crate::ids::ProjectSlug),
    /// A team itself, or a project to be made for it.
    Team(&'a crate::ids::TeamSlug),
}

impl Operation {
    /// What a write or an automation changes, by owner: empty for reads,
    /// for new teams, and for runs about many projects.
    pub fn owned(&self) -> Vec<Owned<'_>> {
        use Owned::{Project, Team};
        match self {
            Self::UpdateProject(i) => {
                [Some(Project(&i.project)), i.team.as_ref().map(Team)].into_iter().flatten().collect()
            }
            Self::ArchiveProject(i) => vec![Project(&i.project)],
            Self::SetFact(i) => vec![Project(&i.project)],
            Self::SetDependencies(i) => vec![Project(&i.project)],
            Self::ImportSbom(i) => vec![Project(&i.project)],
            Self::ImportManifests(i) => vec![Project(&i.project)],
            Self::RecordDeployment(i) => vec![Project(&i.project)],
            Self::RecordIncident(i) => vec![Project(&i.project)],
            Self::RecordBuild(i) => vec![Project(&i.project)],
            Self::RecordChange(i) => vec![Project(&i.project)],
            Self::Deploy(i) => vec![Project(&i.project)],
            Self::UpgradeDependency(i) => i.project.iter().map(Project).collect(),
            Self::CreateProject(i) => vec![Team(&i.team)],
            Self::UpdateTeam(i) => vec![Team(&i.team)],
            Self::ScaffoldProject(i) => i.team.iter().map(Team).collect(),
            _ => Vec::new(),
        }
    }

    /// Parses an operation by name from JSON arguments.
    pub fn parse(name: &str, args: serde_json::Value) -> Result<Self, Error> {
        let kind = OpKind::from_name(name).ok_or_else(|| Error::UnknownOperation { name: name.to_owned() })?;
        Ok(match kind {
            OpKind::GetProject => Self::GetProject(input(args)?),
            OpKind::FindProjects => Self::FindProjects(input(args)?),
            OpKind::Dependents => Self::Dependents(input(args)?),
            OpKind::GetDependency => Self::GetDependency(input(args)?),
            OpKind::ProjectHistory => Self::ProjectHistory(input(args)?),
            OpKind::ListDeployments => Self::ListDeployments(input(args)?),
            OpKind::ListIncidents => Self::ListIncidents(input(args)?),
            OpKind::ProjectScore => Self::ProjectScore(input(args)?),
            OpKind::CiHealth => Self::CiHealth(input(args)?),
            OpKind::Dora => Self::Dora(input(args)?),
            OpKind::GetTeam => Self::GetTeam(input(args)?),
            OpKind::ListTeams => Self::ListTeams(input(args)?),
            OpKind::ListRuns => Self::ListRuns(input(args)?),
            OpKind::GetRun => Self::GetRun(input(args)?),
            OpKind::CreateProject => Self::CreateProject(input(args)?),
            OpKind::UpdateProject => Self::UpdateProject(input(args)?),
            OpKind::ArchiveProject => Self::ArchiveProject(input(args)?),
            OpKind::SetFact => Self::SetFact(input(args)?),
            OpKind::SetDependencies => Self::SetDependencies(input(args)?),
            OpKind::ImportSbom => Self::ImportSbom(input(args)?),
            OpKind::ImportCatalog => Self::ImportCatalog(input(args)?),
            OpKind::ImportGithub => Self::ImportGithub(input(args)?),
            OpKind::ListImports => Self::ListImports(input(args)?),
            OpKind::CheckLogs => Self::CheckLogs(input(args)?),
            OpKind::Investigate => Self::Investigate(input(args)?),
            OpKind::CompareEnvironments => Self::CompareEnvironments(input(args)?),
            OpKind::ImportManifests => Self::ImportManifests(input(args)?),
            OpKind::CreateTeam => Self::CreateTeam(input(args)?),
            OpKind::UpdateTeam => Self::UpdateTeam(input(args)?),
            OpKind::RecordDeployment => Self::RecordDeployment(input(args)?),
            OpKind::RecordIncident => Self::RecordIncident(input(args)?),
            OpKind::RecordBuild => Self::RecordBuild(input(args)?),
            OpKind::RecordChange => Self::RecordChange(input(args)?),
            OpKind::UpgradeDependency => Self::UpgradeDependency(input(args)?),
            OpKind::Deploy => Self::Deploy(input(args)?),
            OpKind::ScaffoldProject => Self::ScaffoldProject(input(args)?),
            OpKind::ApproveRun => Self::ApproveRun(input(args)?),
            OpKind::DenyRun => Self::DenyRun(input(args)?),
            OpKind::CancelRun => Self::CancelRun(input(args)?),
            OpKind::ListUsers => Self::ListUsers(input(args)?),
            OpKind::SetUserRole => Self::SetUserRole(input(args)?),
            OpKind::SetUserEmail => Self::SetUserEmail(input(args)?),
            OpKind::DisableUser => Self::DisableUser(input(args)?),
            OpKind::EnableUser => Self::EnableUser(input(args)?),
            OpKind::SignOutEverywhere => Self::SignOutEverywhere(input(args)?),
            OpKind::ListDeliveries => Self::ListDeliveries(input(args)?),
            OpKind::ReplayDelivery => Self::ReplayDelivery(input(args)?),
            OpKind::ListMessages => Self::ListMessages(input(args)?),
            OpKind::RetryMessage => Self::RetryMessage(input(args)?),
            OpKind::Vulnerabilities => Self::Vulnerabilities(input(args)?),
            OpKind::AffectedBy => Self::AffectedBy(input(args)?),
            OpKind::ImportAdvisories => Self::ImportAdvisories(input(args)?),
            OpKind::FixAdvisory => Self::FixAdvisory(input(args)?),
        })
    }

    pub fn kind(&self) -> OpKind {
        match self {
            Self::GetProject(_) => OpKind::GetProject,
            Self::FindProjects(_) => OpKind::FindProjects,
            Self::Dependents(_) => OpKind::Dependents,
            Self::GetDependency(_) => OpKind::GetDependency,
            Self::ProjectHistory(_) => OpKind::ProjectHistory,
            Self::ListDeployments(_) => OpKind::ListDeployments,
            Self::ListIncidents(_) => OpKind::ListIncidents,
            Self::ProjectScore(_) => OpKind::ProjectScore,
            Self::CiHealth(_) => OpKind::CiHealth,
            Self::Dora(_) => OpKind::Dora,
            Self::GetTeam(_) => OpKind::GetTeam,
            Self::ListTeams(_) => OpKind::ListTeams,
            Self::ListRuns(_) => OpKind::ListRuns,
            Self::GetRun(_) => OpKind::GetRun,
            Self::CreateProject(_) => OpKind::CreateProject,
            Self::UpdateProject(_) => OpKind::UpdateProject,
            Self::ArchiveProject(_) => OpKind::ArchiveProject,
            Self::SetFact(_) => OpKind::SetFact,
            Self::SetDependencies(_) => OpKind::SetDependencies,
            Self::ImportSbom(_) => OpKind::ImportSbom,
            Self::ImportCatalog(_) => OpKind::ImportCatalog,
            Self::ImportGithub(_) => OpKind::ImportGithub,
            Self::ListImports(_) => OpKind::ListImports,
            Self::CheckLogs(_) => OpKind::CheckLogs,
            Self::Investigate(_) => OpKind::Investigate,
            Self::CompareEnvironments(_) => OpKind::CompareEnvironments,
            Self::ImportManifests(_) => OpKind::ImportManifests,
            Self::CreateTeam(_) => OpKind::CreateTeam,
            Self::UpdateTeam(_) => OpKind::UpdateTeam,
            Self::RecordDeployment(_) => OpKind::RecordDeployment,
            Self::RecordIncident(_) => OpKind::RecordIncident,
            Self::RecordBuild(_) => OpKind::RecordBuild,
            Self::RecordChange(_) => OpKind::RecordChange,
            Self::UpgradeDependency(_) => OpKind::UpgradeDependency,
            Self::Deploy(_) => OpKind::Deploy,
            Self::ScaffoldProject(_) => OpKind::ScaffoldProject,
            Self::ApproveRun(_) => OpKind::ApproveRun,
            Self::DenyRun(_) => OpKind::DenyRun,
            Self::CancelRun(_) => OpKind::CancelRun,
            Self::ListUsers(_) => OpKind::ListUsers,
            Self::SetUserRole(_) => OpKind::SetUserRole,
            Self::SetUserEmail(_) => OpKind::SetUserEmail,
            Self::DisableUser(_) => OpKind::DisableUser,
            Self::EnableUser(_) => OpKind::EnableUser,
            Self::SignOutEverywhere(_) => OpKind::SignOutEverywhere,
            Self::ListDeliveries(_) => OpKind::ListDeliveries,
            Self::ReplayDelivery(_) => OpKind::ReplayDelivery,
            Self::ListMessages(_) => OpKind::ListMessages,
            Self::RetryMessage(_) => OpKind::RetryMessage,
            Self::Vulnerabilities(_) => OpKind::Vulnerabilities,
            Self::AffectedBy(_) => OpKind::AffectedBy,
            Self::ImportAdvisories(_) => OpKind::ImportAdvisories,
            Self::FixAdvisory(_) => OpKind::FixAdvisory,
        }
    }
}
