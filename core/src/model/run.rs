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
