//! View models: what templates show, already formatted, so templates hold
//! layout and no logic.

use switchboard_core::event::Event;
use switchboard_core::model::*;
use switchboard_core::time::format_ms;

use crate::messages;

pub(crate) struct EventRow {
    pub when: String,
    pub kind: &'static str,
    pub project: Option<String>,
    pub actor: String,
    pub text: String,
}

impl From<&Event> for EventRow {
    fn from(e: &Event) -> Self {
        Self {
            when: format_ms(e.occurred_at),
            kind: e.kind.as_str(),
            project: e.project.as_ref().map(|p| p.to_string()),
            actor: e.actor.clone(),
            text: messages::describe(e),
        }
    }
}

pub(crate) struct DeploymentRow {
    pub environment: String,
    pub version: String,
    pub status: &'static str,
    pub when: String,
    pub actor: String,
}

impl From<&Deployment> for DeploymentRow {
    fn from(d: &Deployment) -> Self {
        Self {
            environment: d.environment.to_string(),
            version: d.version.clone(),
            status: d.status.as_str(),
            when: format_ms(d.started_at),
            actor: d.actor.clone().unwrap_or_default(),
        }
    }
}

pub(crate) struct IncidentRow {
    pub id: String,
    pub project: String,
    pub title: String,
    pub status: &'static str,
    pub severity: String,
    pub opened: String,
    pub resolved: String,
}

impl From<&Incident> for IncidentRow {
    fn from(i: &Incident) -> Self {
        Self {
            id: i.id.to_string(),
            project: i.project.to_string(),
            title: i.title.clone(),
            status: i.status.as_str(),
            severity: i.severity.clone().unwrap_or_default(),
            opened: format_ms(i.opened_at),
            resolved: i.resolved_at.map(format_ms).unwrap_or_default(),
        }
    }
}

pub(crate) struct BuildRow {
    pub status: &'static str,
    pub branch: String,
    pub sha: String,
    pub duration: String,
    pub when: String,
}

impl From<&Build> for BuildRow {
    fn from(b: &Build) -> Self {
        Self {
            status: b.status.as_str(),
            branch: b.branch.clone().unwrap_or_default(),
            sha: b.sha.as_ref().map(|s| s.as_str()[..7.min(s.as_str().len())].to_owned()).unwrap_or_default(),
            duration: b.duration_ms.map(|d| format!("{}m {:02}s", d / 60_000, (d / 1000) % 60)).unwrap_or_default(),
            when: format_ms(b.started_at),
        }
    }
}

pub(crate) struct RunRow {
    pub id: String,
    pub operation: String,
    pub summary: String,
    pub status: &'static str,
    pub requested_by: String,
    pub requested_at: String,
    pub expires_at: String,
    pub decisions: Vec<String>,
    /// What its approval needs, when a rule asks more than one approver
    /// from anyone ("2 approvals from team payments"); empty otherwise.
    pub needs: String,
    /// Approving it asks for a confirmation (a production deploy).
    pub confirm: bool,
}

impl From<&Run> for RunRow {
    fn from(r: &Run) -> Self {
        Self {
            id: r.id.to_string(),
            operation: r.operation.name().to_owned(),
            summary: r.summary.clone(),
            status: r.status.as_str(),
            requested_by: r.requested_by.to_string(),
            requested_at: format_ms(r.requested_at),
            expires_at: format_ms(r.expires_at),
            decisions: r
                .approvals
                .iter()
                .map(|a| {
                    let verb = match a.decision {
                        Decision::Approve => "approved",
                        Decision::Deny => "denied",
                    };
                    let reason = a.reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default();
                    let freeze =
                        a.freeze_override.as_ref().map(|f| format!(" (overriding the freeze {f})")).unwrap_or_default();
                    format!("{} {verb} at {}{freeze}{reason}", a.by, format_ms(a.at))
                })
                .collect(),
            needs: r
                .needs
                .as_ref()
                .map(|n| {
                    let plural = if n.approvals == 1 { "" } else { "s" };
                    let team = n.team.as_ref().map(|t| format!(" from team {t}")).unwrap_or_default();
                    format!("{} approval{plural}{team}", n.approvals)
                })
                .unwrap_or_default(),
            confirm: r.plan.as_ref().is_some_and(switchboard_core::model::RunPlan::needs_confirmation),
        }
    }
}

pub(crate) fn banner(mode: &crate::Mode, caller: &switchboard_core::Caller) -> Option<String> {
    Some(match mode {
        crate::Mode::Demo => messages::demo_banner(caller.user.as_str(), caller.role.as_str()),
        crate::Mode::Serve if caller.user.as_str() == "anonymous" => messages::ANONYMOUS_BANNER.to_owned(),
        crate::Mode::Serve => messages::signed_in(caller.user.as_str(), caller.role.as_str()),
    })
}

/// What a score means at a glance, for a label and its colour class:
/// 80 and up is good, 60 fair, 40 poor, below that at risk.
pub(crate) fn score_level(score: u8) -> (&'static str, &'static str) {
    match score {
        80.. => ("good", "level-good"),
        60..=79 => ("fair", "level-fair"),
        40..=59 => ("poor", "level-poor"),
        _ => ("at risk", "level-risk"),
    }
}
