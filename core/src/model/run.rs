//! Automation runs: what was asked (`RunRequest`), its decisions, its
//! steps and where it stands.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Millis;
use crate::ids::*;

/// Where an automation run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Pending,
    Approved,
    /// Approved, but no process runs this kind of run (no GitHub App
    /// configured anywhere): it starts once one does.
    Blocked,
    Denied,
    Expired,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl RunStatus {
    pub const ALL: [RunStatus; 9] = [
        Self::Pending,
        Self::Approved,
        Self::Blocked,
        Self::Denied,
        Self::Expired,
        Self::Running,
        Self::Succeeded,
        Self::Failed,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Blocked => "blocked",
            Self::Denied => "denied",
            Self::Expired => "expired",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Nothing more happens to a run in this status.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Denied | Self::Expired | Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

/// A decision on a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Approve,
    Deny,
}

/// Someone's decision on a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Approval {
    pub by: UserName,
    pub decision: Decision,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub at: Millis,
    /// The freeze window this approval was given in, by a role that may
    /// override it: the run then starts in the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeze_override: Option<String>,
}

/// How a step of a run went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    Done,
    /// Failed; tried again unless the run failed with it.
    Failed,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }
}

/// One step of a run's execution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RunStep {
    pub name: String,
    pub status: StepStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub at: Millis,
    /// What the step found that later steps need (a campaign's plan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

/// A requested automation: waits for approval, then executes in the background.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Run {
    pub id: RunId,
    /// The automation operation (stored by name: `deploy`, `upgrade_dependency`…).
    pub operation: crate::ops::OpKind,
    /// The validated arguments of that operation.
    pub arguments: serde_json::Value,
    /// One line saying what the run will do.
    pub summary: String,
    pub requested_by: UserName,
    pub requested_at: Millis,
    pub expires_at: Millis,
    pub status: RunStatus,
    #[serde(default)]
    pub approvals: Vec<Approval>,
    #[serde(default)]
    pub steps: Vec<RunStep>,
    /// The project the run is about, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<ProjectSlug>,
    /// What its approval needs when a rule (`policy.approval_rules`) asks
    /// more than one approval from anyone with the approver role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs: Option<ApprovalNeeds>,
    /// What the run will do, worked out and pinned when it was requested,
    /// so an approver decides on exactly this (runs older than plans have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<RunPlan>,
}

/// What a run will do, in the terms an approver decides on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RunPlan {
    Deploy(DeployPlan),
    Upgrade(UpgradePlan),
}

impl RunPlan {
    /// Whether approving needs a confirmation (a deploy to an environment
    /// in `policy.confirm_environments`).
    pub fn needs_confirmation(&self) -> bool {
        matches!(self, Self::Deploy(d) if d.confirm)
    }
}

/// A deploy: the version the environment runs now → the one it will run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeployPlan {
    pub environment: EnvName,
    /// What the environment runs now; `None` when nothing was deployed there yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The version to deploy, pinned at the request.
    pub to: String,
    /// Where `to` came from: "asked for", "what staging runs", "the
    /// previous good version", "the newest green build on main".
    pub chosen: String,
    /// Changes merged between the deployment of `from` here and the
    /// moment `to` was chosen (newest first, at most 20).
    #[serde(default)]
    pub changes: Vec<PlannedChange>,
    /// Changes beyond those listed.
    #[serde(default)]
    pub more_changes: u64,
    /// Approving asks for a confirmation (a production environment).
    #[serde(default)]
    pub confirm: bool,
    /// `to` is an older version than `from` (both dotted numbers): the
    /// deploy goes backwards, whatever it is called.
    #[serde(default)]
    pub older: bool,
}

/// A merged change a deploy brings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlannedChange {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub merged_at: Millis,
}

/// An upgrade: every project and repository it will touch, with the version each is on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UpgradePlan {
    pub package: PackageName,
    pub to: Version,
    /// The projects declaring the package (at most 200 listed).
    pub targets: Vec<UpgradeTarget>,
    /// Projects beyond those listed.
    #[serde(default)]
    pub more: u64,
    /// Projects declaring the package that are on `to` already (left alone).
    #[serde(default)]
    pub already: u64,
}

/// One project an upgrade touches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UpgradeTarget {
    pub project: ProjectSlug,
    /// Its GitHub repository; `None` means the campaign will skip it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    pub from: Version,
}

/// Approvals a run needs: how many different people, and from which team.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ApprovalNeeds {
    pub approvals: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<TeamSlug>,
}

/// A deploy as requested: `version` is `None` for "what the previous
/// environment runs".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployRequest {
    pub project: ProjectSlug,
    pub environment: EnvName,
    #[serde(default)]
    pub version: Option<String>,
}

/// A dependency upgrade as requested: every project on `from` (any version
/// when `None`), or only `project`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradeRequest {
    pub package: PackageName,
    #[serde(default)]
    pub from: Option<Version>,
    pub to: Version,
    #[serde(default)]
    pub project: Option<ProjectSlug>,
}

/// A new project from a template, with its team and type resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScaffoldRequest {
    pub name: ProjectSlug,
    pub template: TemplateName,
    pub team: TeamSlug,
    pub project_type: ProjectType,
}

/// What a run will do: its automation's request, as validated when it was
/// asked for (stored as the run's `arguments`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunRequest {
    Deploy(DeployRequest),
    UpgradeDependency(UpgradeRequest),
    ScaffoldProject(ScaffoldRequest),
}

impl RunRequest {
    pub fn operation(&self) -> crate::ops::OpKind {
        use crate::ops::OpKind;
        match self {
            Self::Deploy(_) => OpKind::Deploy,
            Self::UpgradeDependency(_) => OpKind::UpgradeDependency,
            Self::ScaffoldProject(_) => OpKind::ScaffoldProject,
        }
    }

    /// The run's stored `arguments`.
    pub fn arguments(&self) -> serde_json::Value {
        let value = match self {
            Self::Deploy(r) => serde_json::to_value(r),
            Self::UpgradeDependency(r) => serde_json::to_value(r),
            Self::ScaffoldProject(r) => serde_json::to_value(r),
        };
        value.expect("requests are plain data")
    }
}

impl Run {
    /// What the run will do, read from its arguments by its operation.
    pub fn request(&self) -> Result<RunRequest, String> {
        use crate::ops::OpKind;
        let a = &self.arguments;
        let read = match self.operation {
            OpKind::Deploy => serde_json::from_value(a.clone()).map(RunRequest::Deploy),
            OpKind::UpgradeDependency => serde_json::from_value(a.clone()).map(RunRequest::UpgradeDependency),
            OpKind::ScaffoldProject => serde_json::from_value(a.clone()).map(RunRequest::ScaffoldProject),
            other => return Err(format!("run {}: {other} is not an automation", self.id)),
        };
        read.map_err(|e| format!("run {}: its {} arguments cannot be read: {e}", self.id, self.operation))
    }

    /// The status as of `now`: a pending run past its expiry is expired even
    /// before anyone has written that down.
    pub fn status_at(&self, now: Millis) -> RunStatus {
        if self.status == RunStatus::Pending && now >= self.expires_at { RunStatus::Expired } else { self.status }
    }
}
