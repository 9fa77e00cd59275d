//! Every sentence core shows to people, in one place so wording is reviewed together.

use crate::error::DenyReason;
use crate::event::Event;

pub fn bad_input(field: Option<&str>, message: &str) -> String {
    match field {
        Some(f) => format!("Invalid input in `{f}`: {message}"),
        None => format!("Invalid input: {message}"),
    }
}

pub fn unknown_operation(name: &str) -> String {
    let names: Vec<&str> = crate::ops::OpKind::ALL.iter().map(|k| k.name()).collect();
    let close = names.iter().find(|n| n.contains(name) || (name.len() > 3 && n.starts_with(&name[..3])));
    match close {
        Some(c) => format!("Unknown operation {name:?}. Did you mean {c}? Known operations: {}.", names.join(", ")),
        None => format!("Unknown operation {name:?}. Known operations: {}.", names.join(", ")),
    }
}

pub fn not_found(what: &str, id: &str) -> String {
    if what == "advisory" {
        return format!(
            "No advisory named {id:?} is known here. Check the id, or have an admin import advisories (`switchboard advisories import PATH_OR_URL`, or `[advisories] sources`)."
        );
    }
    format!("No {what} named {id:?}. Check the spelling, or list them to see what exists.")
}

pub fn denied(operation: &str, reason: &DenyReason) -> String {
    match reason {
        DenyReason::Role { needed, actual } => format!(
            "Not allowed: {operation} needs the {needed} role, and you have {actual}. Ask an admin for the role."
        ),
        DenyReason::SelfApproval => format!(
            "Not allowed: {operation} on a run you requested. Someone else with the approver role must decide it."
        ),
        DenyReason::Csrf => {
            format!("Not allowed: {operation} did not come from a page of this portal. Reload the page and try again.")
        }
        DenyReason::CrossOrigin => format!(
            "Not allowed: {operation} came from a page of another site. Call the API from a program with a token, or add that site's origin to server.cors_origins."
        ),
        DenyReason::Disabled => format!("Not allowed: {operation} by a disabled account. Ask an admin to enable it."),
        DenyReason::NoAccess => format!(
            "Not allowed: {operation}. None of your groups at the identity provider gives access to Switchboard (auth.oidc.roles); ask an admin."
        ),
        DenyReason::OwningTeam { team, rule } => format!(
            "Not allowed: {operation} on this run needs an approver from team {team}, which owns it (rule \"{rule}\"). Ask someone in {team}."
        ),
        DenyReason::Frozen { freeze, until, role } => format!(
            "Not allowed: {operation} during the freeze \"{freeze}\" (until {}). Only the {role} role approves in a freeze; otherwise approve after it ends.",
            crate::time::format_ms(*until)
        ),
        DenyReason::OtherTeam { team } => format!(
            "Not allowed: {operation} on what team {team} owns; editors change only their own teams' projects (policy.editors_own_teams_only). Ask someone in {team}, or an approver."
        ),
    }
}

pub fn approval_waiting(approvals: usize, needed: u32, team: Option<&str>) -> String {
    let more = needed as usize - approvals.min(needed as usize);
    let from = team.map(|t| format!(" from team {t}")).unwrap_or_default();
    let plural = if more == 1 { "" } else { "s" };
    format!("{approvals} of {needed} approvals; waiting for {more} more approval{plural}{from}.")
}

pub fn already_approved(run: &str, waiting: &str) -> String {
    format!("You have already approved run {run}; a different person must give the next approval. {waiting}")
}

pub fn run_blocked(operation: &str) -> String {
    format!(
        "no process runs {operation} runs yet: give serve or a worker a GitHub App ([github] app_id and private_key); the run starts as soon as one runs"
    )
}

pub fn run_held(freeze: &str, until: i64) -> String {
    format!("Held by the freeze \"{freeze}\": it starts when the freeze ends ({}).", crate::time::format_ms(until))
}

pub fn rate_limited(what: &str, retry_after_secs: u64) -> String {
    format!("Too many {what} from you just now. Try again in {retry_after_secs} s.")
}

pub fn llm_budget_spent(calls: u32, tokens: u64, wait_ms: i64) -> String {
    let minutes = (wait_ms + 59_999) / 60_000;
    format!(
        "you have used this hour's language model budget ({calls} calls or {tokens} tokens a person, limits.llm_*_per_hour); it is yours again in {minutes} min"
    )
}

pub fn internal(reference: &str) -> String {
    format!("Something went wrong on our side. Reference: {reference}. Tell your Switchboard admin; it is in the logs.")
}

pub fn project_exists(slug: &str) -> String {
    format!("A project named {slug:?} already exists. Pick another slug, or update that project.")
}

pub fn team_exists(slug: &str) -> String {
    format!("A team named {slug:?} already exists. Pick another slug, or update that team.")
}

pub fn run_not_pending(run: &str, status: &str) -> String {
    format!("Run {run} is {status}, so there is nothing left to decide.")
}

pub fn run_not_cancellable(id: &str, status: &str) -> String {
    format!("run {id} is {status}: only a pending, approved or running run can be cancelled")
}

pub fn run_expired(run: &str) -> String {
    format!("Run {run} expired before anyone decided. Request it again if it is still needed.")
}

pub fn run_summary_upgrade(package: &str, from: Option<&str>, to: &str, projects: usize) -> String {
    match from {
        Some(f) => format!("Upgrade {package} from {f} to {to} in {projects} project(s) through pull requests"),
        None => format!("Upgrade {package} to {to} in {projects} project(s) through pull requests"),
    }
}

/// `promoted_from`: the environment whose version it is, when none was
/// asked; without a version the workflow deploys its default.
/// A rollback's run summary: what it goes back to, and from what.
pub fn run_summary_rollback(project: &str, env: &str, version: &str, from: &str) -> String {
    format!("Roll back {project} in {env} to {version} (the last good before {from})")
}

pub fn run_summary_deploy(project: &str, env: &str, version: Option<&str>, promoted_from: Option<&str>) -> String {
    match (version, promoted_from) {
        (Some(v), Some(from)) => format!("Deploy {project} {v} (what {from} runs) to {env}"),
        (Some(v), None) => format!("Deploy {project} {v} to {env}"),
        (None, _) => format!("Deploy {project} to {env}"),
    }
}

/// Where a deploy's version came from, on its plan.
pub fn chosen_asked() -> String {
    "asked for".into()
}

pub fn chosen_promoted(from: &str) -> String {
    format!("what {from} runs")
}

pub fn chosen_rollback() -> String {
    "the previous good version; the changes listed are taken out".into()
}

pub fn deploy_needs_version(project: &str, env: &str) -> String {
    format!(
        "{project} has no deployment in the environment before {env} to promote and no green build on main to \
         deploy; say which version, e.g. \"deploy {project} 1.2.3 to {env}\""
    )
}

pub fn upgrade_nothing_to_do(package: &str, to: &str) -> String {
    format!("every project declaring {package} is on {to} already; nothing to upgrade")
}

pub fn confirm_needed(summary: &str, env: &str, run: &str) -> String {
    format!(
        "\"{summary}\" goes to {env}, which asks for a confirmation: approve it with the confirm button or the \
         portal's checkbox, write `approve {run} confirm`, or send `confirm: true`"
    )
}

pub fn run_summary_scaffold(name: &str, template: &str, team: &str) -> String {
    format!("Create project {name} from the {template} template for team {team}")
}

/// One line saying what an event was.
pub fn describe_event(e: &Event) -> String {
    use crate::event::EventData as D;
    let Ok(data) = e.data() else {
        return format!("{} (with details this version cannot read)", e.kind.as_str().replace('_', " "));
    };
    match data {
        D::ProjectCreated(p) => format!("project created ({} owned by {})", p.project_type, p.team),
        D::ProjectUpdated(p) => {
            format!("project updated: {}", p.changes.keys().map(String::as_str).collect::<Vec<_>>().join(", "))
        }
        D::ProjectArchived(_) => "project archived".into(),
        D::FactSet(p) => format!("fact {} set to {}", p.key, p.value),
        D::FactRemoved(p) => format!("fact {} removed", p.key),
        D::DependenciesChanged(p) => {
            let mut parts: Vec<String> =
                p.changed.iter().map(|c| format!("{} {} → {}", c.package, c.from, c.to)).collect();
            if !p.added.is_empty() {
                let names: Vec<String> =
                    p.added.iter().take(4).map(|d| format!("{} {}", d.package, d.version)).collect();
                let more = if p.added.len() > 4 { format!(" and {} more", p.added.len() - 4) } else { String::new() };
                parts.push(format!("added {}{more}", names.join(", ")));
            }
            let removed = p.removed.len();
            if removed > 0 {
                parts.push(format!("removed {removed} dependenc{}", if removed == 1 { "y" } else { "ies" }));
            }
            format!("dependencies: {}", parts.join("; "))
        }
        D::TeamCreated(p) => format!("team {} created", p.team),
        D::TeamUpdated(p) => format!("team {} updated", p.team()),
        D::DeploymentRecorded(p) => {
            let d = &p.deployment;
            format!("deployed {} to {} ({})", d.version, d.environment, d.status.as_str().replace('_', " "))
        }
        D::IncidentRecorded(p) => {
            let i = &p.incident;
            let sev = i.severity.as_deref().map(|v| format!("{v} ")).unwrap_or_default();
            format!("{sev}incident {}: {}", i.status.as_str(), i.title)
        }
        D::BuildRecorded(p) => {
            let branch = p.build.branch.as_deref().map(|v| format!(" on {v}")).unwrap_or_default();
            let slow = p
                .anomaly
                .map(|a| format!(", unusually slow (usually {})", crate::time::format_duration(a.usual_ms)))
                .unwrap_or_default();
            format!("CI build {}{branch}{slow}", p.build.status.as_str())
        }
        D::ChangeMerged(p) => {
            let number = p.change.number.map(|n| format!(" #{n}")).unwrap_or_default();
            format!("change{number} merged: {}", p.change.title)
        }
        D::RunRequested(p) => format!("requested: {}", p.summary),
        D::RunApproved(p) => format!("approved run {}", p.run),
        D::RunApprovalAdded(p) => format!("approved run {} ({} of {})", p.run, p.approvals, p.needed),
        D::RunBlocked(p) => format!("run {} blocked: {}", p.run, p.reason),
        D::RunHeld(p) => {
            format!("run {} held by the freeze {} until {}", p.run, p.freeze, crate::time::format_ms(p.until))
        }
        D::RunDenied(p) => format!("denied run {}", p.run),
        D::RunExpired(p) => format!("run {} expired", p.run),
        D::RunStarted(p) => format!("run {} started", p.run),
        D::RunStepFinished(p) => format!("run {}: {} {}", p.run, p.step, p.status.as_str()),
        D::RunSucceeded(p) => format!("run {} succeeded", p.run),
        D::RunFailed(p) => format!("run {} failed: {}", p.run, p.reason),
        D::RunCancelled(p) => format!("cancelled run {}", p.run),
        D::ScheduleFired(p) => match p.by {
            Some(by) => format!("schedule {} run by hand by {by}: run {}", p.schedule, p.run),
            None => format!("schedule {} requested run {}", p.schedule, p.run),
        },
        D::CampaignUpdated(p) => {
            let i = &p.item;
            let pull = i.number.map(|n| format!(" #{n}")).unwrap_or_default();
            let why = i.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
            format!("upgrade in {}{pull}: {}{why}", i.repository, i.state.as_str().replace('_', " "))
        }
        D::ScoreChanged(p) => format!("score {} → {}", p.from, p.to),
        D::UserCreated(p) => format!("user {} created ({})", p.user, p.role),
        D::TokenCreated(p) => format!("API token {} created for {} ({})", p.token, p.user, p.role),
        D::TokenRevoked(p) => format!("API token {} revoked", p.token),
        D::TokenRotated(p) => format!("API token {} of {} replaced by {}", p.token, p.user, p.new_token),
        D::ChatIdentityLinked(p) => {
            format!("{} account {} linked to {} (by {})", p.platform.as_str(), p.id, p.user, p.by)
        }
        D::McpCall(p) => format!("MCP tool {} called: {}", p.tool, p.outcome),
        D::SignedIn(p) => format!("{} signed in ({}) from {}", p.user, p.method, p.address),
        D::SignInFailed(p) => {
            format!("failed sign-in as {} from {}: {}", p.user, p.address, p.reason.replace('_', " "))
        }
        D::SignedOut(p) => format!("{} signed out", p.user),
        D::PasswordChanged(p) => format!("password of {} changed; their sessions ended", p.user),
        D::UserRoleChanged(p) => format!("{} is now {} (was {})", p.user, p.to, p.from),
        D::UserUpdated(p) => format!("user {} updated: {}", p.user, p.field),
        D::UserDisabled(p) => format!("user {} disabled; {} token(s) revoked", p.user, p.tokens_revoked),
        D::UserEnabled(p) => format!("user {} enabled", p.user),
        D::SessionsEnded(p) => format!("every session of {} ended", p.user),
        D::DeliveryReplayed(p) => format!("{} {} delivery {} replayed", p.source, p.event, p.delivery),
        D::MessageRetried(p) => format!("{} message {} to {} retried", p.platform.as_str(), p.message, p.channel),
        D::VulnerabilityFound(p) => {
            let name = advisory_name(&p.advisory, &p.aliases);
            match p.status {
                crate::advisory::MatchStatus::Affected => {
                    let fix = p.fixed.as_deref().map(|f| format!(", fixed in {f}")).unwrap_or_default();
                    format!("{} {} affected by {name} ({}){fix}", p.package, p.version, p.severity)
                }
                crate::advisory::MatchStatus::CannotEvaluate => {
                    format!("{} {} may be affected by {name} (cannot evaluate)", p.package, p.version)
                }
            }
        }
        D::VulnerabilityFixed(p) => {
            format!("{} no longer affected by {}: {}", p.package, advisory_name(&p.advisory, &p.aliases), p.reason)
        }
    }
}

/// An advisory as people call it: its CVE with its own id beside it (`CVE-2025-29923 (GO-2025-3540)`).
pub fn advisory_name(id: &str, aliases: &[String]) -> String {
    match aliases.iter().find(|a| a.starts_with("CVE-")) {
        Some(cve) if !id.starts_with("CVE-") => format!("{cve} ({id})"),
        _ => id.to_owned(),
    }
}

pub fn unauthenticated_token() -> String {
    "That API token is not valid: it is unknown, revoked or expired. Create a new one with `switchboard token create`."
        .into()
}

pub fn oidc_name_taken(name: &str) -> String {
    format!(
        "An account named {name} already exists and is not linked to your single sign-on (its email does not match the one your provider verified). Ask an admin to set that account's email to yours, or to rename one of them."
    )
}

pub fn passwords_off() -> String {
    "Passwords are not used here: sign in with single sign-on.".into()
}
