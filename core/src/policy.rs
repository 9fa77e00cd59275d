//! Who may do what. One place decides; one denial shape (`Error::Denied`).

use crate::config::PolicyConfig;
use crate::error::{DenyReason, Error};
use crate::ids::UserName;
use crate::model::{Role, Run};
use crate::ops::{Effect, OpKind};

/// Who is asking, as established by the surface (portal session, token, chat identity).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub user: UserName,
    pub role: Role,
    /// The surface the request came through (`api`, `portal`, `cli`, `demo`…).
    pub source: String,
}

impl Caller {
    pub fn new(user: &str, role: Role, source: &str) -> Self {
        Self { user: UserName::new(user).expect("valid caller name"), role, source: source.to_owned() }
    }
}

/// The role an operation needs.
pub fn required_role(kind: OpKind, policy: &PolicyConfig) -> Role {
    match kind {
        OpKind::ApproveRun | OpKind::DenyRun => Role::Approver,
        OpKind::ListUsers
        | OpKind::SetUserRole
        | OpKind::SetUserEmail
        | OpKind::DisableUser
        | OpKind::EnableUser
        | OpKind::SignOutEverywhere => Role::Admin,
        _ => match kind.effect() {
            Effect::Read => Role::Viewer,
            Effect::Write => Role::Editor,
            Effect::Automation => policy.request_automation_role,
        },
    }
}

/// Allows or denies `caller` running `kind`.
pub fn authorize(caller: &Caller, kind: OpKind, policy: &PolicyConfig) -> Result<(), Error> {
    let needed = required_role(kind, policy);
    if caller.role >= needed { Ok(()) } else { Err(deny(kind, DenyReason::Role { needed, actual: caller.role })) }
}

/// Whether `caller` may decide on `run` (on top of [`authorize`]).
pub fn authorize_decision(caller: &Caller, kind: OpKind, run: &Run, policy: &PolicyConfig) -> Result<(), Error> {
    authorize(caller, kind, policy)?;
    if kind == OpKind::ApproveRun && run.requested_by == caller.user && !policy.allow_self_approval {
        return Err(deny(kind, DenyReason::SelfApproval));
    }
    Ok(())
}

/// Whether `caller` may cancel `run` (on top of [`authorize`]): the person
/// who asked for it, or someone who could have decided it.
pub fn authorize_cancel(caller: &Caller, run: &Run) -> Result<(), Error> {
    if run.requested_by == caller.user || caller.role >= Role::Approver {
        Ok(())
    } else {
        Err(deny(OpKind::CancelRun, DenyReason::Role { needed: Role::Approver, actual: caller.role }))
    }
}

/// Who the run engine acts as when an approved run's step writes to the
/// graph (a scaffolded project): the approval was the decision.
pub fn engine_caller() -> Caller {
    Caller::new("switchboard", Role::Admin, "engine")
}

/// Who a webhook's rules act as: the sender, with the editor role (rules
/// only record: automations are refused when rules load).
pub fn webhook_caller(source: &str) -> Caller {
    Caller::new(source, Role::Editor, "webhook")
}

/// Allows or denies `caller` replaying a webhook delivery: it runs the
/// rules' writes again, so it needs the role that writes.
pub fn authorize_replay(caller: &Caller) -> Result<(), Error> {
    let needed = Role::Editor;
    if caller.role >= needed {
        Ok(())
    } else {
        Err(Error::Denied {
            operation: "replay_delivery".into(),
            reason: DenyReason::Role { needed, actual: caller.role },
        })
    }
}

/// The one denial path.
pub fn deny(kind: OpKind, reason: DenyReason) -> Error {
    Error::Denied { operation: kind.name().to_owned(), reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Viewer < Role::Editor && Role::Editor < Role::Approver && Role::Approver < Role::Admin);
    }

    #[test]
    fn denial_message_shape() {
        let p = PolicyConfig::default();
        let err = authorize(&Caller::new("dave", Role::Viewer, "test"), OpKind::SetFact, &p).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Not allowed: set_fact needs the editor role, and you have viewer. Ask an admin for the role."
        );
    }
}
