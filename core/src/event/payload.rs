//! Typed payloads, one per event kind. The stored JSON is what the service
//! has always written (keys sorted, absent options written as `null` where
//! they always were), so events from before these types read back; every
//! reader matches on [`EventData`] instead of picking keys out of JSON.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::EventKind;
use crate::campaign::Item;
use crate::ids::{FactKey, RunId, TeamSlug, UserName};
use crate::model::{Build, Change, ChatPlatform, Dependency, Deployment, DeploymentStatus, FactValue, Incident};
use crate::model::{IncidentStatus, Millis, Role, StepStatus};
use crate::ops::OpKind;
use crate::ops::output::VersionChange;

/// A field's value before and after a change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FromTo<T> {
    pub from: T,
    pub to: T,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectCreated {
    /// The project's name (demo data wrote its slug here).
    pub name: String,
    pub team: TeamSlug,
    pub project_type: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectUpdated {
    /// Each changed field (`name`, `team`, `links`…) with its old and new value.
    pub changes: BTreeMap<String, FromTo<Value>>,
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct ProjectArchived {}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FactSet {
    pub key: FactKey,
    pub value: FactValue,
    #[serde(default)]
    pub previous: Option<FactValue>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FactRemoved {
    pub key: FactKey,
    #[serde(default)]
    pub previous: Option<FactValue>,
}

#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct DependenciesChanged {
    #[serde(default)]
    pub added: Vec<Dependency>,
    #[serde(default)]
    pub removed: Vec<Dependency>,
    #[serde(default)]
    pub changed: Vec<VersionChange>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamCreated {
    pub team: TeamSlug,
    pub name: String,
}

/// A team changed by someone (`changes`), or a person joining or leaving
/// it because of their single sign-on groups.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TeamUpdated {
    Changed { team: TeamSlug, changes: BTreeMap<String, FromTo<Value>> },
    Membership { team: TeamSlug, members: Vec<UserName>, by: String, user: UserName, change: MembershipChange },
}

impl TeamUpdated {
    pub fn team(&self) -> &TeamSlug {
        match self {
            Self::Changed { team, .. } | Self::Membership { team, .. } => team,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MembershipChange {
    Joined,
    Left,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeploymentRecorded {
    pub deployment: Deployment,
    /// The deployment's status before this record; `None` for a new one.
    #[serde(default)]
    pub previous_status: Option<DeploymentStatus>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentRecorded {
    pub incident: Incident,
    #[serde(default)]
    pub previous_status: Option<IncidentStatus>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BuildRecorded {
    pub build: Build,
    /// Set when the build took far longer than the project's usual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anomaly: Option<SlowBuild>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlowBuild {
    pub usual_ms: i64,
    pub duration_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeMerged {
    pub change: Change,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRequested {
    pub run: RunId,
    pub operation: OpKind,
    pub arguments: Value,
    pub summary: String,
}

/// A decision on a run, or its cancellation: the reason is `None` when
/// none was given (always for approvals).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunDecided {
    pub run: RunId,
    pub operation: OpKind,
    #[serde(default)]
    pub reason: Option<String>,
}

/// An approval that does not yet make the run approved: `approvals` of
/// `needed` given, the rest to come from `team` when a rule says so.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunApprovalAdded {
    pub run: RunId,
    pub operation: OpKind,
    pub approvals: u32,
    pub needed: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<TeamSlug>,
}

/// An approved run a freeze keeps from starting until `until`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunHeld {
    pub run: RunId,
    pub operation: OpKind,
    pub freeze: String,
    pub until: Millis,
}

/// An approved run no process can run yet, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunBlocked {
    pub run: RunId,
    pub operation: OpKind,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunExpired {
    pub run: RunId,
}

/// A run's progress without more to say (started, succeeded).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AboutRun {
    pub run: RunId,
    pub operation: OpKind,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunFailed {
    pub run: RunId,
    pub operation: OpKind,
    pub reason: String,
}

/// A step of a run finished (`status` `done`), or failed and will be tried
/// again at `retry_at`; `followed` steps were reported by GitHub (a deploy
/// workflow's run, with its page and attempt).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunStepFinished {
    pub run: RunId,
    pub operation: OpKind,
    pub step: String,
    pub status: StepStatus,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<Millis>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub followed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_run: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u64>,
}

impl RunStepFinished {
    pub fn failed(&self) -> bool {
        self.status == StepStatus::Failed
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignUpdated {
    pub run: RunId,
    pub operation: OpKind,
    pub item: Item,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScheduleFired {
    pub schedule: String,
    pub run: RunId,
    pub operation: OpKind,
    /// The cron slot it fired for; `None` when run by hand.
    #[serde(default)]
    pub slot: Option<Millis>,
    /// Who ran it by hand; `None` on its cron slot.
    #[serde(default)]
    pub by: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreChanged {
    pub from: u8,
    pub to: u8,
    #[serde(default)]
    pub components: Vec<ScorePart>,
}

/// One component of a project's score, as recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScorePart {
    pub name: String,
    pub weight: u32,
    pub value: f64,
    pub points: f64,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserCreated {
    pub user: UserName,
    pub role: Role,
    /// `oidc` for accounts made at a single sign-on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenCreated {
    pub token: String,
    pub user: UserName,
    pub role: Role,
    #[serde(default)]
    pub expires_at: Option<Millis>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenRevoked {
    pub token: String,
    pub user: UserName,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenRotated {
    pub token: String,
    pub new_token: String,
    pub user: UserName,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatIdentityLinked {
    pub user: UserName,
    pub platform: ChatPlatform,
    pub id: String,
    /// `email` or `code`.
    pub by: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct McpCall {
    pub tool: String,
    pub arguments: Value,
    /// `ok`, or the error's code.
    pub outcome: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignedIn {
    pub user: UserName,
    /// `password` or `oidc`.
    pub method: String,
    pub address: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignInFailed {
    /// The name tried (any text: it may be no user's).
    pub user: String,
    pub address: String,
    pub reason: String,
    /// `oidc` for single sign-on refusals; absent for passwords.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// How long the next password try from there must wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_wait_ms: Option<Millis>,
}

/// Something about one user (signed out, password changed, enabled).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AboutUser {
    pub user: UserName,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserRoleChanged {
    pub user: UserName,
    pub from: Role,
    pub to: Role,
    #[serde(default)]
    pub tokens_capped: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserUpdated {
    pub user: UserName,
    /// The field changed (`email`).
    pub field: String,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserDisabled {
    pub user: UserName,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub tokens_revoked: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionsEnded {
    pub user: UserName,
    /// Why, when it was not an admin's request (`no_role_at_provider`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_revoked: Option<u32>,
}

/// A dead or unmapped webhook delivery made pending again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeliveryReplayed {
    pub delivery: i64,
    pub source: String,
    pub event: String,
}

/// A dead chat message made pending again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MessageRetried {
    pub message: i64,
    pub platform: ChatPlatform,
    pub channel: String,
}

macro_rules! event_data {
    ($($kind:ident($ty:ty)),* $(,)?) => {
        /// An event's payload, by its kind.
        #[derive(Clone, Debug, PartialEq)]
        pub enum EventData {
            $($kind($ty),)*
        }

        impl EventData {
            pub fn kind(&self) -> EventKind {
                match self {
                    $(Self::$kind(_) => EventKind::$kind,)*
                }
            }

            /// Reads the payload of an event of `kind`.
            pub fn decode(kind: EventKind, payload: &Value) -> Result<Self, serde_json::Error> {
                Ok(match kind {
                    $(EventKind::$kind => Self::$kind(<$ty>::deserialize(payload)?),)*
                })
            }

            /// The payload as stored.
            pub fn encode(&self) -> Value {
                let encoded = match self {
                    $(Self::$kind(p) => serde_json::to_value(p),)*
                };
                encoded.expect("event payloads are plain data")
            }
        }
    };
}

event_data! {
    ProjectCreated(ProjectCreated),
    ProjectUpdated(ProjectUpdated),
    ProjectArchived(ProjectArchived),
    FactSet(FactSet),
    FactRemoved(FactRemoved),
    DependenciesChanged(DependenciesChanged),
    TeamCreated(TeamCreated),
    TeamUpdated(TeamUpdated),
    DeploymentRecorded(DeploymentRecorded),
    IncidentRecorded(IncidentRecorded),
    BuildRecorded(BuildRecorded),
    ChangeMerged(ChangeMerged),
    RunRequested(RunRequested),
    RunApproved(RunDecided),
    RunApprovalAdded(RunApprovalAdded),
    RunDenied(RunDecided),
    RunExpired(RunExpired),
    RunHeld(RunHeld),
    RunBlocked(RunBlocked),
    RunStarted(AboutRun),
    RunStepFinished(RunStepFinished),
    RunSucceeded(AboutRun),
    RunFailed(RunFailed),
    RunCancelled(RunDecided),
    CampaignUpdated(CampaignUpdated),
    ScheduleFired(ScheduleFired),
    ScoreChanged(ScoreChanged),
    UserCreated(UserCreated),
    TokenCreated(TokenCreated),
    TokenRevoked(TokenRevoked),
    TokenRotated(TokenRotated),
    ChatIdentityLinked(ChatIdentityLinked),
    McpCall(McpCall),
    SignedIn(SignedIn),
    SignInFailed(SignInFailed),
    SignedOut(AboutUser),
    PasswordChanged(AboutUser),
    UserRoleChanged(UserRoleChanged),
    UserUpdated(UserUpdated),
    UserDisabled(UserDisabled),
    UserEnabled(AboutUser),
    SessionsEnded(SessionsEnded),
    DeliveryReplayed(DeliveryReplayed),
    MessageRetried(MessageRetried),
    VulnerabilityFound(VulnerabilityFound),
    VulnerabilityFixed(VulnerabilityFixed),
}

/// A project's dependency that an advisory affects (the event's project).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VulnerabilityFound {
    pub advisory: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub summary: String,
    pub ecosystem: crate::model::Ecosystem,
    pub package: crate::ids::PackageName,
    pub version: crate::ids::Version,
    #[serde(default)]
    pub fixed: Option<String>,
    pub severity: crate::advisory::Severity,
    #[serde(default)]
    pub transitive: bool,
    /// `cannot_evaluate` when the versions could not be compared.
    pub status: crate::advisory::MatchStatus,
}

/// A project's dependency no longer affected by an advisory, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VulnerabilityFixed {
    pub advisory: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub ecosystem: crate::model::Ecosystem,
    pub package: crate::ids::PackageName,
    /// The version that was affected.
    pub version: crate::ids::Version,
    /// `upgraded to 1.38.2`, `removed`, `advisory withdrawn`, `no longer in the advisory's ranges`.
    pub reason: String,
}

impl EventData {
    /// The run the event is about, for the kinds about one.
    pub fn run(&self) -> Option<RunId> {
        match self {
            Self::RunRequested(p) => Some(p.run),
            Self::RunApproved(p) | Self::RunDenied(p) | Self::RunCancelled(p) => Some(p.run),
            Self::RunExpired(p) => Some(p.run),
            Self::RunApprovalAdded(p) => Some(p.run),
            Self::RunHeld(p) => Some(p.run),
            Self::RunBlocked(p) => Some(p.run),
            Self::RunStarted(p) | Self::RunSucceeded(p) => Some(p.run),
            Self::RunStepFinished(p) => Some(p.run),
            Self::RunFailed(p) => Some(p.run),
            Self::CampaignUpdated(p) => Some(p.run),
            Self::ScheduleFired(p) => Some(p.run),
            _ => None,
        }
    }

    /// The automation operation of a run event (`deploy`…); expiries do not say.
    pub fn operation(&self) -> Option<OpKind> {
        match self {
            Self::RunRequested(p) => Some(p.operation),
            Self::RunApproved(p) | Self::RunDenied(p) | Self::RunCancelled(p) => Some(p.operation),
            Self::RunApprovalAdded(p) => Some(p.operation),
            Self::RunHeld(p) => Some(p.operation),
            Self::RunBlocked(p) => Some(p.operation),
            Self::RunStarted(p) | Self::RunSucceeded(p) => Some(p.operation),
            Self::RunStepFinished(p) => Some(p.operation),
            Self::RunFailed(p) => Some(p.operation),
            Self::CampaignUpdated(p) => Some(p.operation),
            Self::ScheduleFired(p) => Some(p.operation),
            _ => None,
        }
    }
}

/// What the run engine did with a run, for [`crate::Service::record_run_progress`].
#[derive(Clone, Debug, PartialEq)]
pub enum Progress {
    Started,
    StepDone {
        step: String,
        detail: Option<String>,
    },
    /// The step failed and is tried again at `retry_at`.
    StepFailed {
        step: String,
        detail: String,
        retry_at: Millis,
    },
    /// GitHub reported the workflow run a deploy dispatched.
    Followed {
        step: String,
        conclusion: String,
        url: Option<String>,
        workflow_run: u64,
        attempt: u64,
    },
    /// A freeze keeps the approved run from starting until `until`.
    Held {
        freeze: String,
        until: Millis,
    },
    Succeeded,
    Failed {
        reason: String,
    },
}

impl Progress {
    /// The event data of this progress of run `run` (of `operation`).
    pub fn data(self, run: RunId, operation: OpKind) -> EventData {
        let step = |step: String, status: StepStatus, detail: Option<String>| RunStepFinished {
            run,
            operation,
            step,
            status,
            detail,
            retry_at: None,
            followed: false,
            url: None,
            workflow_run: None,
            attempt: None,
        };
        match self {
            Self::Started => EventData::RunStarted(AboutRun { run, operation }),
            Self::StepDone { step: name, detail } => EventData::RunStepFinished(step(name, StepStatus::Done, detail)),
            Self::StepFailed { step: name, detail, retry_at } => EventData::RunStepFinished(RunStepFinished {
                retry_at: Some(retry_at),
                ..step(name, StepStatus::Failed, Some(detail))
            }),
            Self::Followed { step: name, conclusion, url, workflow_run, attempt } => {
                EventData::RunStepFinished(RunStepFinished {
                    followed: true,
                    url,
                    workflow_run: Some(workflow_run),
                    attempt: Some(attempt),
                    ..step(name, StepStatus::Done, Some(conclusion))
                })
            }
            Self::Held { freeze, until } => EventData::RunHeld(RunHeld { run, operation, freeze, until }),
            Self::Succeeded => EventData::RunSucceeded(AboutRun { run, operation }),
            Self::Failed { reason } => EventData::RunFailed(RunFailed { run, operation, reason }),
        }
    }
}
