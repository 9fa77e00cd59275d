//! Every sentence core shows to people, in one place so wording is reviewed together.

use crate::error::DenyReason;
use crate::event::{Event, EventKind};

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
    }
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

pub fn run_summary_deploy(project: &str, env: &str, version: Option<&str>) -> String {
    match version {
        Some(v) => format!("Deploy {project} {v} to {env}"),
        None => format!("Deploy {project} to {env}"),
    }
}

pub fn run_summary_scaffold(name: &str, template: &str, team: &str) -> String {
    format!("Create project {name} from the {template} template for team {team}")
}

/// One line saying what an event was.
pub fn describe_event(e: &Event) -> String {
    let p = &e.payload;
    let s = |v: &serde_json::Value| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
    match e.kind {
        EventKind::ProjectCreated => format!("project created ({} owned by {})", s(&p["project_type"]), s(&p["team"])),
        EventKind::ProjectUpdated => {
            let fields: Vec<&str> =
                p["changes"].as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
            format!("project updated: {}", fields.join(", "))
        }
        EventKind::ProjectArchived => "project archived".into(),
        EventKind::FactSet => format!("fact {} set to {}", s(&p["key"]), s(&p["value"])),
        EventKind::FactRemoved => format!("fact {} removed", s(&p["key"])),
        EventKind::DependenciesChanged => {
            let mut parts = Vec::new();
            for c in p["changed"].as_array().into_iter().flatten() {
                parts.push(format!("{} {} → {}", s(&c["package"]), s(&c["from"]), s(&c["to"])));
            }
            let added = p["added"].as_array().map(Vec::len).unwrap_or(0);
            let removed = p["removed"].as_array().map(Vec::len).unwrap_or(0);
            if added > 0 {
                let names: Vec<String> = p["added"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .take(4)
                    .map(|d| format!("{} {}", s(&d["package"]), s(&d["version"])))
                    .collect();
                let more = if added > 4 { format!(" and {} more", added - 4) } else { String::new() };
                parts.push(format!("added {}{more}", names.join(", ")));
            }
            if removed > 0 {
                parts.push(format!("removed {removed} dependenc{}", if removed == 1 { "y" } else { "ies" }));
            }
            format!("dependencies: {}", parts.join("; "))
        }
        EventKind::TeamCreated => format!("team {} created", s(&p["team"])),
        EventKind::TeamUpdated => format!("team {} updated", s(&p["team"])),
        EventKind::DeploymentRecorded => {
            let d = &p["deployment"];
            format!("deployed {} to {} ({})", s(&d["version"]), s(&d["environment"]), s(&d["status"]).replace('_', " "))
        }
        EventKind::IncidentRecorded => {
            let i = &p["incident"];
            let sev = i["severity"].as_str().map(|v| format!("{v} ")).unwrap_or_default();
            format!("{sev}incident {}: {}", s(&i["status"]), s(&i["title"]))
        }
        EventKind::BuildRecorded => {
            let b = &p["build"];
            let branch = b["branch"].as_str().map(|v| format!(" on {v}")).unwrap_or_default();
            let slow = p["anomaly"]["usual_ms"]
                .as_i64()
                .map(|u| format!(", unusually slow (usually {})", crate::time::format_duration(u)))
                .unwrap_or_default();
            format!("CI build {}{branch}{slow}", s(&b["status"]))
        }
        EventKind::ChangeMerged => {
            let c = &p["change"];
            let number = c["number"].as_u64().map(|n| format!(" #{n}")).unwrap_or_default();
            format!("change{number} merged: {}", s(&c["title"]))
        }
        EventKind::RunRequested => format!("requested: {}", s(&p["summary"])),
        EventKind::RunApproved => format!("approved run {}", s(&p["run"])),
        EventKind::RunDenied => format!("denied run {}", s(&p["run"])),
        EventKind::RunExpired => format!("run {} expired", s(&p["run"])),
        EventKind::RunStarted => format!("run {} started", s(&p["run"])),
        EventKind::RunStepFinished => format!("run {}: {} {}", s(&p["run"]), s(&p["step"]), s(&p["status"])),
        EventKind::RunSucceeded => format!("run {} succeeded", s(&p["run"])),
        EventKind::RunFailed => format!("run {} failed: {}", s(&p["run"]), s(&p["reason"])),
        EventKind::RunCancelled => format!("cancelled run {}", s(&p["run"])),
        EventKind::ScheduleFired => match p["by"].as_str() {
            Some(by) => format!("schedule {} run by hand by {by}: run {}", s(&p["schedule"]), s(&p["run"])),
            None => format!("schedule {} requested run {}", s(&p["schedule"]), s(&p["run"])),
        },
        EventKind::CampaignUpdated => {
            let i = &p["item"];
            let pull = i["number"].as_u64().map(|n| format!(" #{n}")).unwrap_or_default();
            let why = i["reason"].as_str().map(|r| format!(" ({r})")).unwrap_or_default();
            format!("upgrade in {}{pull}: {}{why}", s(&i["repository"]), s(&i["state"]).replace('_', " "))
        }
        EventKind::ScoreChanged => format!("score {} → {}", s(&p["from"]), s(&p["to"])),
        EventKind::UserCreated => format!("user {} created ({})", s(&p["user"]), s(&p["role"])),
        EventKind::TokenCreated => {
            format!("API token {} created for {} ({})", s(&p["token"]), s(&p["user"]), s(&p["role"]))
        }
        EventKind::TokenRevoked => format!("API token {} revoked", s(&p["token"])),
        EventKind::TokenRotated => {
            format!("API token {} of {} replaced by {}", s(&p["token"]), s(&p["user"]), s(&p["new_token"]))
        }
        EventKind::ChatIdentityLinked => {
            format!("{} account {} linked to {} (by {})", s(&p["platform"]), s(&p["id"]), s(&p["user"]), s(&p["by"]))
        }
        EventKind::McpCall => format!("MCP tool {} called: {}", s(&p["tool"]), s(&p["outcome"])),
        EventKind::SignedIn => format!("{} signed in ({}) from {}", s(&p["user"]), s(&p["method"]), s(&p["address"])),
        EventKind::SignInFailed => {
            format!(
                "failed sign-in as {} from {}: {}",
                s(&p["user"]),
                s(&p["address"]),
                s(&p["reason"]).replace('_', " ")
            )
        }
        EventKind::SignedOut => format!("{} signed out", s(&p["user"])),
        EventKind::PasswordChanged => format!("password of {} changed; their sessions ended", s(&p["user"])),
        EventKind::UserRoleChanged => format!("{} is now {} (was {})", s(&p["user"]), s(&p["to"]), s(&p["from"])),
        EventKind::UserUpdated => format!("user {} updated: {}", s(&p["user"]), s(&p["field"])),
        EventKind::UserDisabled => {
            format!("user {} disabled; {} token(s) revoked", s(&p["user"]), s(&p["tokens_revoked"]))
        }
        EventKind::UserEnabled => format!("user {} enabled", s(&p["user"])),
        EventKind::SessionsEnded => format!("every session of {} ended", s(&p["user"])),
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
