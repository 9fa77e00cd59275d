//! Domain events: the operations log. Every change made through the service
//! appends events; history questions ("when did checkout get redis 7?") are
//! event-log queries.

pub mod payload;

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::ProjectSlug;
use crate::model::Millis;
pub use payload::EventData;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    ProjectCreated,
    ProjectUpdated,
    ProjectArchived,
    FactSet,
    FactRemoved,
    DependenciesChanged,
    TeamCreated,
    TeamUpdated,
    DeploymentRecorded,
    IncidentRecorded,
    BuildRecorded,
    ChangeMerged,
    RunRequested,
    RunApproved,
    // An approval given to a run that needs more (policy.approval_rules).
    RunApprovalAdded,
    RunDenied,
    RunExpired,
    // An approved run that a freeze window keeps from starting until it ends.
    RunHeld,
    // An approved run no process can run yet (no executor for its kind).
    RunBlocked,
    // A worker began an approved run; one of its steps is done (or failed and
    // is tried again). (Plain comments: doc comments would make the schema a oneOf.)
    RunStarted,
    RunStepFinished,
    RunSucceeded,
    RunFailed,
    RunCancelled,
    // One repository of an upgrade campaign moved: its pull request opened,
    // merged, closed, its checks finished, or it was skipped with a reason.
    CampaignUpdated,
    // A schedule requested its automation (on its cron slot, or by hand).
    ScheduleFired,
    ScoreChanged,
    UserCreated,
    TokenCreated,
    TokenRevoked,
    // A token replaced by a new one with the same user, role and lifetime.
    TokenRotated,
    ChatIdentityLinked,
    McpCall,
    // Accounts: sign-ins and their failures (with the client address), and
    // what admins change.
    SignedIn,
    SignInFailed,
    SignedOut,
    PasswordChanged,
    UserRoleChanged,
    UserUpdated,
    UserDisabled,
    UserEnabled,
    SessionsEnded,
    // Admin actions on the mailboxes: a webhook delivery processed again, a
    // dead chat message sent again.
    DeliveryReplayed,
    MessageRetried,
    // A project's dependency became affected by an advisory (a new or changed
    // advisory, or a dependency added or moved into its ranges), and one that
    // no longer is (upgraded, removed, or the advisory withdrawn or narrowed).
    VulnerabilityFound,
    VulnerabilityFixed,
}

impl EventKind {
    pub const ALL: [EventKind; 46] = [
        Self::ProjectCreated,
        Self::ProjectUpdated,
        Self::ProjectArchived,
        Self::FactSet,
        Self::FactRemoved,
        Self::DependenciesChanged,
        Self::TeamCreated,
        Self::TeamUpdated,
        Self::DeploymentRecorded,
        Self::IncidentRecorded,
        Self::BuildRecorded,
        Self::ChangeMerged,
        Self::RunRequested,
        Self::RunApproved,
        Self::RunApprovalAdded,
        Self::RunDenied,
        Self::RunExpired,
        Self::RunHeld,
        Self::RunBlocked,
        Self::RunStarted,
        Self::RunStepFinished,
        Self::RunSucceeded,
        Self::RunFailed,
        Self::RunCancelled,
        Self::CampaignUpdated,
        Self::ScheduleFired,
        Self::ScoreChanged,
        Self::UserCreated,
        Self::TokenCreated,
        Self::TokenRevoked,
        Self::TokenRotated,
        Self::ChatIdentityLinked,
        Self::McpCall,
        Self::SignedIn,
        Self::SignInFailed,
        Self::SignedOut,
        Self::PasswordChanged,
        Self::UserRoleChanged,
        Self::UserUpdated,
        Self::UserDisabled,
        Self::UserEnabled,
        Self::SessionsEnded,
        Self::DeliveryReplayed,
        Self::MessageRetried,
        Self::VulnerabilityFound,
        Self::VulnerabilityFixed,
    ];

    /// Events about accounts, tokens and agents' calls (sign-ins with client
    /// addresses, role changes, token use): read only by those the policy
    /// lets list users.
    pub fn is_about_accounts(self) -> bool {
        matches!(
            self,
            Self::TokenCreated
                | Self::TokenRevoked
                | Self::TokenRotated
                | Self::ChatIdentityLinked
                | Self::McpCall
                | Self::SignedIn
                | Self::SignInFailed
                | Self::SignedOut
                | Self::PasswordChanged
                | Self::UserRoleChanged
                | Self::UserUpdated
                | Self::UserDisabled
                | Self::UserEnabled
                | Self::SessionsEnded
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProjectCreated => "project_created",
            Self::ProjectUpdated => "project_updated",
            Self::ProjectArchived => "project_archived",
            Self::FactSet => "fact_set",
            Self::FactRemoved => "fact_removed",
            Self::DependenciesChanged => "dependencies_changed",
            Self::TeamCreated => "team_created",
            Self::TeamUpdated => "team_updated",
            Self::DeploymentRecorded => "deployment_recorded",
            Self::IncidentRecorded => "incident_recorded",
            Self::BuildRecorded => "build_recorded",
            Self::ChangeMerged => "change_merged",
            Self::RunRequested => "run_requested",
            Self::RunApproved => "run_approved",
            Self::RunApprovalAdded => "run_approval_added",
            Self::RunHeld => "run_held",
            Self::RunBlocked => "run_blocked",
            Self::RunDenied => "run_denied",
            Self::RunExpired => "run_expired",
            Self::RunStarted => "run_started",
            Self::RunStepFinished => "run_step_finished",
            Self::RunSucceeded => "run_succeeded",
            Self::RunFailed => "run_failed",
            Self::RunCancelled => "run_cancelled",
            Self::CampaignUpdated => "campaign_updated",
            Self::ScheduleFired => "schedule_fired",
            Self::ScoreChanged => "score_changed",
            Self::UserCreated => "user_created",
            Self::TokenCreated => "token_created",
            Self::TokenRevoked => "token_revoked",
            Self::TokenRotated => "token_rotated",
            Self::ChatIdentityLinked => "chat_identity_linked",
            Self::McpCall => "mcp_call",
            Self::SignedIn => "signed_in",
            Self::SignInFailed => "sign_in_failed",
            Self::SignedOut => "signed_out",
            Self::PasswordChanged => "password_changed",
            Self::UserRoleChanged => "user_role_changed",
            Self::UserUpdated => "user_updated",
            Self::UserDisabled => "user_disabled",
            Self::UserEnabled => "user_enabled",
            Self::SessionsEnded => "sessions_ended",
            Self::DeliveryReplayed => "delivery_replayed",
            Self::MessageRetried => "message_retried",
            Self::VulnerabilityFound => "vulnerability_found",
            Self::VulnerabilityFixed => "vulnerability_fixed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing that happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Event {
    /// UUIDv7: sortable by creation.
    pub id: uuid::Uuid,
    pub occurred_at: Millis,
    pub kind: EventKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<ProjectSlug>,
    /// Who caused it (a user name, or `system`).
    pub actor: String,
    /// Where it came from: `api`, `portal`, `cli`, `demo`, `github`…
    pub source: String,
    /// What the event is about, lowercased (package names, fact keys,
    /// environment names): what `project_history`'s `subject` matches.
    #[serde(default)]
    pub subjects: Vec<String>,
    pub payload: serde_json::Value,
}

impl Event {
    /// A new event with a fresh UUIDv7 id.
    pub fn new(kind: EventKind, occurred_at: Millis, actor: &str, source: &str, payload: serde_json::Value) -> Self {
        Self {
            id: new_event_id(occurred_at),
            occurred_at,
            kind,
            project: None,
            actor: actor.to_owned(),
            source: source.to_owned(),
            subjects: Vec::new(),
            payload,
        }
    }

    /// A new event of `data`'s kind with its payload.
    pub fn of(data: &EventData, occurred_at: Millis, actor: &str, source: &str) -> Self {
        Self::new(data.kind(), occurred_at, actor, source, data.encode())
    }

    /// The payload, typed by the event's kind. An error for a payload no
    /// version of Switchboard wrote (a hand-made import, a test's filler).
    pub fn data(&self) -> Result<EventData, serde_json::Error> {
        EventData::decode(self.kind, &self.payload)
    }

    pub fn project(mut self, project: &ProjectSlug) -> Self {
        self.project = Some(project.clone());
        self
    }

    pub fn subject(mut self, subject: impl AsRef<str>) -> Self {
        let s = subject.as_ref().to_lowercase();
        if !self.subjects.contains(&s) {
            self.subjects.push(s);
        }
        self
    }
}

/// A UUIDv7 whose timestamp is `occurred_at`, so ids of back-dated events (demo
/// history, imports) still sort with their time. Ids made in this process for
/// the same millisecond carry an increasing counter, so they sort in the order
/// they were made: the event log's tie-break is meaningful.
pub fn new_event_id(occurred_at: Millis) -> uuid::Uuid {
    // One process-wide counter (18 bits) instead of one per millisecond: events
    // are made for many back-dated times at once, and a per-millisecond reset
    // would let them interleave. Ordering holds unless 262,144 ids are made
    // between two ids of the same millisecond.
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let counter = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed) & 0x3_ffff;
    let mut bytes = [0u8; 10];
    bytes.copy_from_slice(&uuid::Uuid::new_v4().as_bytes()[..10]);
    // rand_a (12 bits after the version nibble), then 6 bits after the variant.
    bytes[0] = (counter >> 14) as u8 & 0x0f;
    bytes[1] = (counter >> 6) as u8;
    bytes[2] = (counter & 0x3f) as u8;
    let ms = u64::try_from(occurred_at).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(ms, &bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_in_one_millisecond_sort_in_creation_order() {
        let ids: Vec<_> = (0..100).map(|_| new_event_id(1_700_000_000_000)).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        // A wrap of the counter inside this window would rotate the order, not scramble it.
        let wrapped = ids.windows(2).filter(|w| w[0] > w[1]).count();
        assert!(wrapped <= 1, "{ids:?}");
        if wrapped == 0 {
            assert_eq!(ids, sorted);
        }
        assert_eq!(ids[0].get_version_num(), 7);
        let earlier = new_event_id(1_600_000_000_000);
        assert!(earlier < ids[0]);
    }
}

/// A query over the event log. Results are newest first (by `occurred_at`, then id).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventQuery {
    pub project: Option<ProjectSlug>,
    /// Empty means every kind.
    pub kinds: Vec<EventKind>,
    /// Lowercased subject that must be among the event's subjects.
    pub subject: Option<String>,
    /// Inclusive lower bound.
    pub since: Option<Millis>,
    /// Exclusive upper bound.
    pub until: Option<Millis>,
    pub limit: usize,
}
