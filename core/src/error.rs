//! The service's error type. User errors (bad input, not allowed, not found,
//! conflict) carry a message meant for people; internal errors carry a
//! reference id and are logged, never shown.

use crate::messages;
use crate::model::Role;

/// Why a caller was denied. One shape for every denial.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DenyReason {
    /// The caller's role is below what the operation needs.
    Role { needed: Role, actual: Role },
    /// The caller requested the run and may not approve it.
    SelfApproval,
    /// A browser form or htmx request without this portal's CSRF token.
    Csrf,
    /// A browser request to the API from a page of another origin.
    CrossOrigin,
    /// The account is disabled.
    Disabled,
    /// Signed in through the provider, but no group gives a role here.
    NoAccess,
    /// An approval rule asks for an approver from the team owning the run's project.
    OwningTeam { team: String, rule: String },
    /// A freeze window is on (`until` in epoch milliseconds); `role` may override it.
    Frozen { freeze: String, until: i64, role: crate::model::Role },
    /// `policy.editors_own_teams_only`: an editor changes only their teams' projects.
    OtherTeam { team: String },
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is malformed or invalid; `field` names the offending field when known.
    #[error("{}", messages::bad_input(field.as_deref(), message))]
    BadInput { field: Option<String>, message: String },
    #[error("{}", messages::unknown_operation(name))]
    UnknownOperation { name: String },
    #[error("{}", messages::not_found(what, id))]
    NotFound { what: &'static str, id: String },
    #[error("{}", messages::denied(operation, reason))]
    Denied { operation: String, reason: DenyReason },
    #[error("{message}")]
    Conflict { message: String },
    /// The credentials presented (an API token) are not valid.
    #[error("{message}")]
    Unauthenticated { message: String },
    /// Too many requests: wait `retry_after_secs` (sent as `Retry-After`).
    #[error("{message}")]
    RateLimited { message: String, retry_after_secs: u64 },
    /// Something outside Switchboard (a log source) did not answer; the
    /// message names it and its address.
    #[error("{message}")]
    Unavailable { message: String },
    /// Something broke inside. `reference` ties the log line to what the person sees.
    #[error("{}", messages::internal(reference))]
    Internal { reference: String, detail: String },
}

impl Error {
    pub fn bad_input(field: impl Into<Option<String>>, message: impl Into<String>) -> Self {
        Self::BadInput { field: field.into(), message: message.into() }
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::BadInput { field: Some(field.to_owned()), message: message.into() }
    }

    pub fn not_found(what: &'static str, id: impl ToString) -> Self {
        Self::NotFound { what, id: id.to_string() }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict { message: message.into() }
    }

    /// A stable machine-readable code for APIs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadInput { .. } => "bad_input",
            Self::UnknownOperation { .. } => "unknown_operation",
            Self::NotFound { .. } => "not_found",
            Self::Denied { .. } => "denied",
            Self::Conflict { .. } => "conflict",
            Self::Unauthenticated { .. } => "unauthenticated",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable { .. } => "unavailable",
            Self::Internal { .. } => "internal",
        }
    }

    /// Whether the person caused it (and so should see the message).
    pub fn is_user_error(&self) -> bool {
        !matches!(self, Self::Internal { .. })
    }
}

impl Error {
    /// Something broke inside: logged with a reference the person is shown.
    pub fn internal(what: &str, detail: impl ToString) -> Self {
        let reference = uuid::Uuid::now_v7().simple().to_string()[20..].to_owned();
        let detail = detail.to_string();
        tracing::error!(%reference, error = %detail, "{what}");
        Self::Internal { reference, detail }
    }
}

impl From<crate::store::StoreError> for Error {
    fn from(err: crate::store::StoreError) -> Self {
        Self::internal("store error", err)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
