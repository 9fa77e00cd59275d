//! `[policy]`: who approves what, and when nothing may start.
//!
//! Roles decide who may ask and who may decide (see `core::policy`); the
//! rules here narrow that per run: `[[policy.approval_rules]]` ask for more
//! approvals or for approvers from the owning team, `[[policy.freezes]]`
//! stop automations from being approved or started in a window, and
//! `editors_own_teams_only` keeps editors to their teams' projects.

use serde::{Deserialize, Serialize};

use crate::ids::{EnvName, TeamSlug};
use crate::model::{Millis, Role};
use crate::ops::{Effect, OpKind};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Whether the person who requested a run may approve it. Default: `false`.
    pub allow_self_approval: bool,
    /// Hours a pending run waits for a decision before it expires. Default: `72`.
    pub run_expiry_hours: u32,
    /// Role needed to request an automation (it still needs an approval). Default: `editor`.
    pub request_automation_role: Role,
    /// Seconds a worker's claim on a run lasts without renewal (it renews
    /// every third of that while it works); a run whose worker died is
    /// resumed by another after this. 2-3600. Default: `60`.
    pub run_lease_secs: u32,
    /// Editors change only projects their teams own, and create projects
    /// only for their teams (approvers and admins change any). Default: `false`.
    pub editors_own_teams_only: bool,
    /// Rules that ask more of some runs' approvals. Default: none (one
    /// approval from anyone with the approver role).
    pub approval_rules: Vec<ApprovalRule>,
    /// Windows in which no automation is approved or started. Default: none.
    pub freezes: Vec<Freeze>,
    /// Who may approve during a freeze (the run then starts in it).
    /// Default: `admin`.
    pub freeze_override_role: Role,
    /// Environments a deploy to which is approved only with a confirmation
    /// (a second click in chat, a checkbox in the portal, `confirm: true`
    /// through the API and MCP). Default: `["production", "prod"]`.
    pub confirm_environments: Vec<EnvName>,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self {
            allow_self_approval: false,
            run_expiry_hours: 72,
            request_automation_role: Role::Editor,
            run_lease_secs: 60,
            editors_own_teams_only: false,
            approval_rules: Vec::new(),
            freezes: Vec::new(),
            freeze_override_role: Role::Admin,
            confirm_environments: ["production", "prod"]
                .into_iter()
                .map(|e| EnvName::new(e).expect("valid environment names"))
                .collect(),
        }
    }
}

/// Which runs a rule or a freeze is about: every list left empty matches
/// all; a run matches when it matches every list that is set.
#[derive(Clone, Copy, Debug)]
pub struct RunScope<'a> {
    pub operations: &'a [OpKind],
    pub environments: &'a [EnvName],
    pub teams: &'a [TeamSlug],
}

impl ApprovalRule {
    pub fn scope(&self) -> RunScope<'_> {
        RunScope { operations: &self.operations, environments: &self.environments, teams: &self.teams }
    }
}

impl Freeze {
    pub fn scope(&self) -> RunScope<'_> {
        RunScope { operations: &self.operations, environments: &self.environments, teams: &self.teams }
    }
}

/// `[[policy.approval_rules]]`: e.g. "a production deploy needs two
/// approvals, from the owning team". When several match a run, the most
/// approvals asked wins and any `from_owning_team` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRule {
    /// Said to people when the rule holds a run back.
    pub name: String,
    /// Automation operations (`deploy`, `upgrade_dependency`,
    /// `scaffold_project`). Default: all.
    #[serde(default)]
    pub operations: Vec<OpKind>,
    /// Deploy environments; naming any matches deploys only. Default: all.
    #[serde(default)]
    pub environments: Vec<EnvName>,
    /// Teams owning the run's project (the new project's team for a
    /// scaffold); naming any does not match runs about many projects.
    /// Default: all.
    #[serde(default)]
    pub teams: Vec<TeamSlug>,
    /// Different people who must approve (1-5). Default: `1`.
    #[serde(default = "one")]
    pub approvals: u32,
    /// Approvers must be members of the team owning the run's project.
    /// Default: `false`.
    #[serde(default)]
    pub from_owning_team: bool,
}

fn one() -> u32 {
    1
}

/// `[[policy.freezes]]`: in the window no run in scope is approved (but by
/// `freeze_override_role`) or started; a run approved before waits and
/// starts when the window ends. Once, `from` and `until` as RFC 3339 times
/// (`2026-12-20T00:00:00Z`); or every week, `days` (`mon`…`sun`) with `from`
/// and `until` as UTC times of day (`15:00`, `24:00`; an `until` before
/// `from` ends the next morning).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Freeze {
    pub name: String,
    pub from: String,
    pub until: String,
    /// Weekdays a weekly window begins on. Default: none (a one-off window).
    #[serde(default)]
    pub days: Vec<String>,
    /// Automation operations (`deploy`, `upgrade_dependency`,
    /// `scaffold_project`). Default: all.
    #[serde(default)]
    pub operations: Vec<OpKind>,
    /// Deploy environments; naming any matches deploys only. Default: all.
    #[serde(default)]
    pub environments: Vec<EnvName>,
    /// Teams owning the run's project (the new project's team for a
    /// scaffold); naming any does not match runs about many projects.
    /// Default: all.
    #[serde(default)]
    pub teams: Vec<TeamSlug>,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const DAY_MS: Millis = 24 * 3600 * 1000;

impl Freeze {
    /// When the window `at` falls in ends; `None` outside it (the config
    /// was validated when it loaded).
    pub fn ends_after(&self, at: Millis) -> Option<Millis> {
        if self.days.is_empty() {
            let (from, until) = (rfc3339(&self.from)?, rfc3339(&self.until)?);
            return (from <= at && at < until).then_some(until);
        }
        let (from, until) = (time_of_day(&self.from)?, time_of_day(&self.until)?);
        let length = if until > from { until - from } else { until + DAY_MS - from };
        let midnight = at - at.rem_euclid(DAY_MS);
        // A window that began today, or yesterday and runs past midnight.
        [midnight, midnight - DAY_MS].into_iter().find_map(|day| {
            let start = day + from;
            (self.begins_on(day) && start <= at && at < start + length).then_some(start + length)
        })
    }

    pub fn covers(&self, at: Millis) -> bool {
        self.ends_after(at).is_some()
    }

    /// Whether a weekly window begins on the UTC day starting at `midnight`.
    fn begins_on(&self, midnight: Millis) -> bool {
        // 1970-01-01 was a Thursday.
        let weekday = DAYS[((midnight.div_euclid(DAY_MS) + 3).rem_euclid(7)) as usize];
        self.days.iter().any(|d| d.eq_ignore_ascii_case(weekday))
    }
}

/// `HH:MM` (00:00-24:00) as milliseconds after midnight.
fn time_of_day(s: &str) -> Option<Millis> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    let ok = (0..=23).contains(&h) && (0..=59).contains(&m) || (h, m) == (24, 0);
    ok.then_some((h * 60 + m) * 60_000)
}

fn rfc3339(s: &str) -> Option<Millis> {
    chrono::DateTime::parse_from_rfc3339(s.trim()).ok().map(|t| t.timestamp_millis())
}

impl RunScope<'_> {
    fn validate(&self, at: &str) -> Result<(), (String, String)> {
        if let Some(k) = self.operations.iter().find(|k| k.effect() != Effect::Automation) {
            return Err((
                format!("{at}.operations"),
                format!("{} is not an automation; use deploy, upgrade_dependency or scaffold_project", k.name()),
            ));
        }
        Ok(())
    }
}

impl PolicyConfig {
    pub(super) fn validate(&self, environments: &[EnvName]) -> Result<(), (String, String)> {
        if !(2..=3600).contains(&self.run_lease_secs) {
            return Err(("policy.run_lease_secs".into(), "must be 2-3600 seconds".into()));
        }
        if self.run_expiry_hours == 0 {
            return Err(("policy.run_expiry_hours".into(), "must be at least 1".into()));
        }
        if self.request_automation_role == Role::Viewer {
            return Err((
                "policy.request_automation_role".into(),
                "must be editor, approver or admin: viewers only read".into(),
            ));
        }
        if self.freeze_override_role < Role::Approver {
            return Err((
                "policy.freeze_override_role".into(),
                "must be approver or admin: only those approve runs".into(),
            ));
        }
        let known_env = |scope: RunScope, at: &str| match scope.environments.iter().find(|e| !environments.contains(e))
        {
            Some(e) => Err((
                format!("{at}.environments"),
                format!(
                    "{e} is not a declared environment ({})",
                    environments.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )),
            None => Ok(()),
        };
        for (i, r) in self.approval_rules.iter().enumerate() {
            let at = format!("policy.approval_rules[{i}]");
            if r.name.trim().is_empty() {
                return Err((format!("{at}.name"), "say what the rule is for, e.g. \"production deploys\"".into()));
            }
            if !(1..=5).contains(&r.approvals) {
                return Err((format!("{at}.approvals"), "must be 1-5 different approvers".into()));
            }
            r.scope().validate(&at)?;
            known_env(r.scope(), &at)?;
        }
        for (i, f) in self.freezes.iter().enumerate() {
            let at = format!("policy.freezes[{i}]");
            if f.name.trim().is_empty() {
                return Err((format!("{at}.name"), "say what the freeze is for, e.g. \"year-end\"".into()));
            }
            if let Some(d) = f.days.iter().find(|d| !DAYS.contains(&d.to_ascii_lowercase().as_str())) {
                return Err((format!("{at}.days"), format!("{d:?} is not a weekday: use {}", DAYS.join(", "))));
            }
            if f.days.is_empty() {
                let time = |s: &str, field: &str| {
                    rfc3339(s).ok_or_else(|| {
                        let said = format!(
                            "{s:?} is not an RFC 3339 time such as 2026-12-20T00:00:00Z (or give `days` for a weekly window of times of day)"
                        );
                        (format!("{at}.{field}"), said)
                    })
                };
                let (from, until) = (time(&f.from, "from")?, time(&f.until, "until")?);
                if until <= from {
                    return Err((format!("{at}.until"), "must be after `from`".into()));
                }
            } else {
                let time = |s: &str, field: &str| {
                    time_of_day(s).ok_or_else(|| {
                        (format!("{at}.{field}"), format!("{s:?} is not a time of day such as 15:00 (UTC)"))
                    })
                };
                if time(&f.from, "from")? == time(&f.until, "until")? {
                    return Err((format!("{at}.until"), "must differ from `from`".into()));
                }
            }
            f.scope().validate(&at)?;
            known_env(f.scope(), &at)?;
        }
        Ok(())
    }
}
