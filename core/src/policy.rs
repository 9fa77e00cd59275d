//! Who may do what. One place decides; one denial shape (`Error::Denied`).

use crate::config::{Freeze, PolicyConfig, RunScope};
use crate::error::{DenyReason, Error};
use crate::ids::{EnvName, TeamSlug, UserName};
use crate::model::{Decision, Millis, Role, Run};
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
        | OpKind::SignOutEverywhere
        // A catalog creates people and sets who is in which team.
        | OpKind::ImportCatalog
        // An organisation's every repository, through the App.
        | OpKind::ImportGithub
        // Advisories change what every team is told it is exposed to.
        | OpKind::ImportAdvisories => Role::Admin,
        // What webhooks carried and chat was sent can name private things.
        OpKind::ListDeliveries | OpKind::ListMessages | OpKind::ListImports => Role::Editor,
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

/// Allows or denies `caller` writing lines into the embedded log table
/// (`POST /api/v1/logs`): a write like any other, so an editor's.
pub fn authorize_log_intake(caller: &Caller) -> Result<(), Error> {
    let needed = Role::Editor;
    if caller.role >= needed {
        return Ok(());
    }
    Err(Error::Denied { operation: "ingest_logs".into(), reason: DenyReason::Role { needed, actual: caller.role } })
}

/// Whether `caller` may decide on `run` (on top of [`authorize`]).
pub fn authorize_decision(caller: &Caller, kind: OpKind, run: &Run, policy: &PolicyConfig) -> Result<(), Error> {
    authorize(caller, kind, policy)?;
    if kind == OpKind::ApproveRun && run.requested_by == caller.user && !policy.allow_self_approval {
        return Err(deny(kind, DenyReason::SelfApproval));
    }
    Ok(())
}

/// What approval rules and freezes match a run on: its operation, the
/// environment of a deploy, the team owning its project (or the new
/// project's team; `None` for a run about many projects).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunFacts {
    pub operation: OpKind,
    pub environment: Option<EnvName>,
    pub team: Option<TeamSlug>,
}

impl RunScope<'_> {
    pub fn matches(&self, run: &RunFacts) -> bool {
        (self.operations.is_empty() || self.operations.contains(&run.operation))
            && (self.environments.is_empty() || run.environment.as_ref().is_some_and(|e| self.environments.contains(e)))
            && (self.teams.is_empty() || run.team.as_ref().is_some_and(|t| self.teams.contains(t)))
    }
}

/// What a run's approval needs, from the approval rules that match it:
/// the most approvals any asks (at least one), and the owning team when any
/// asks approvers from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    pub approvals: u32,
    /// Approvers must be members of this team, and the rule that says so.
    pub team: Option<(TeamSlug, String)>,
}

pub fn requirement(run: &RunFacts, policy: &PolicyConfig) -> Requirement {
    let mut need = Requirement { approvals: 1, team: None };
    for rule in policy.approval_rules.iter().filter(|r| r.scope().matches(run)) {
        need.approvals = need.approvals.max(rule.approvals);
        if rule.from_owning_team
            && need.team.is_none()
            && let Some(team) = &run.team
        {
            need.team = Some((team.clone(), rule.name.clone()));
        }
    }
    need
}

/// The freeze window `run` falls in at `at`, if any (the one ending last).
pub fn freeze_at<'a>(run: &RunFacts, at: Millis, policy: &'a PolicyConfig) -> Option<&'a Freeze> {
    policy.freezes.iter().filter(|f| f.covers(at) && f.scope().matches(run)).max_by_key(|f| f.ends_after(at))
}

/// Whether `caller` may add an approval to `run` now (on top of
/// [`authorize_decision`]): not in a freeze unless their role overrides it,
/// and from the owning team when a rule asks. `in_team` says whether the
/// caller is a member of the requirement's team. Returns the freeze the
/// approval overrides, if any.
pub fn authorize_approval<'a>(
    caller: &Caller,
    run: &RunFacts,
    need: &Requirement,
    in_team: bool,
    now: Millis,
    policy: &'a PolicyConfig,
) -> Result<Option<&'a Freeze>, Error> {
    let frozen = freeze_at(run, now, policy);
    if let Some(f) = frozen
        && caller.role < policy.freeze_override_role
    {
        let reason = DenyReason::Frozen {
            freeze: f.name.clone(),
            until: f.ends_after(now).unwrap_or(now),
            role: policy.freeze_override_role,
        };
        return Err(deny(OpKind::ApproveRun, reason));
    }
    if let Some((team, rule)) = &need.team
        && !in_team
    {
        return Err(deny(OpKind::ApproveRun, DenyReason::OwningTeam { team: team.to_string(), rule: rule.clone() }));
    }
    Ok(frozen)
}

/// How many different people have approved `run`.
pub fn approvals(run: &Run) -> usize {
    let mut by: Vec<&UserName> =
        run.approvals.iter().filter(|a| a.decision == Decision::Approve).map(|a| &a.by).collect();
    by.sort();
    by.dedup();
    by.len()
}

/// `policy.editors_own_teams_only`: whether `caller` may change what
/// `team` owns. Webhook rules (which act with the editor role) and roles
/// above editor are not held to it; `members` are the team's.
pub fn authorize_team_change(
    caller: &Caller,
    kind: OpKind,
    team: &TeamSlug,
    members: &[UserName],
    policy: &PolicyConfig,
) -> Result<(), Error> {
    let held = policy.editors_own_teams_only && caller.role == Role::Editor && caller.source != WEBHOOK_SOURCE;
    if held && !members.contains(&caller.user) {
        return Err(deny(kind, DenyReason::OtherTeam { team: team.to_string() }));
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
    Caller::new(source, Role::Editor, WEBHOOK_SOURCE)
}

const WEBHOOK_SOURCE: &str = "webhook";

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
