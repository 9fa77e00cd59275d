//! Every sentence core shows to people, in one place so wording is reviewed together.

use crate::error::DenyReason;

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
    }
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
