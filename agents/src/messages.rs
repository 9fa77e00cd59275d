//! Every sentence the router says, in one place.

use switchboard_core::ops::OpKind;

/// How to ask for each operation in chat: an exhaustive match, so a new
/// operation cannot ship without a way to say it.
pub fn phrasing(kind: OpKind) -> &'static str {
    match kind {
        OpKind::GetProject => "tell me about orders",
        OpKind::FindProjects => "find projects about ledger · api projects · projects owned by payments",
        OpKind::Dependents => "which projects use left-pad 1.2.3?",
        OpKind::ProjectHistory => "when did checkout get redis 7? · history of orders",
        OpKind::ListDeployments => "deployments of orders in production",
        OpKind::ListIncidents => "incidents for team payments",
        OpKind::ProjectScore => "score of orders",
        OpKind::GetTeam => "who is on payments?",
        OpKind::ListTeams => "list teams",
        OpKind::ListRuns => "what is waiting for approval?",
        OpKind::GetRun => "show run <id>",
        OpKind::CreateProject => "/sb create_project slug=fraud-scorer team=payments project_type=consumer",
        OpKind::UpdateProject => "/sb update_project project=orders description=\"Takes orders\"",
        OpKind::ArchiveProject => "archive old-reports",
        OpKind::SetFact => "set tier of orders to 1",
        OpKind::SetDependencies => "/sb set_dependencies {\"project\": \"orders\", \"dependencies\": [...]}",
        OpKind::CreateTeam => "create team risk",
        OpKind::UpdateTeam => "/sb update_team team=risk name=Risk",
        OpKind::RecordDeployment => "/sb record_deployment project=orders environment=staging version=1.4.2",
        OpKind::RecordIncident => "/sb record_incident project=orders title=\"Checkout is slow\"",
        OpKind::RecordBuild => "/sb record_build project=orders status=success",
        OpKind::UpgradeDependency => "update everything using left-pad 1.2.3 to 1.3.0",
        OpKind::Deploy => "deploy orders to staging",
        OpKind::ScaffoldProject => "create a new consumer project called invoice-consumer",
        OpKind::ApproveRun => "approve <run id>",
        OpKind::DenyRun => "deny <run id> because it is freeze week",
    }
}

pub fn help() -> String {
    let mut out = String::from(
        "Here is what I understand (any operation also works as `/sb NAME key=value …` or `/sb NAME {json}`):\n",
    );
    for k in OpKind::ALL {
        out.push_str(&format!("• {} — {}\n", k.name(), phrasing(k)));
    }
    out
}

pub fn empty() -> String {
    "Say something and I will try to help, or say `help` to see what I understand.".into()
}

pub fn too_long(max: usize) -> String {
    format!("That message is too long for me to read (over {max} characters). Ask one thing at a time.")
}

pub fn only_code() -> String {
    "I only see code or quoted text there, and I do not act on those. Ask in plain words, or say `help`.".into()
}

pub fn cannot_tell(suggestion: Option<&str>) -> String {
    match suggestion {
        Some(s) => format!("I could not tell what you want. Did you mean {s}? Say `help` to see what I understand."),
        None => "I could not tell what you want. Say `help` to see what I understand.".into(),
    }
}

pub fn unknown(what: &str, word: &str, close: &[String]) -> String {
    if close.is_empty() {
        format!("I don't know a {what} called {word}.")
    } else {
        format!("I don't know a {what} called {word}. Did you mean {}?", close.join(", "))
    }
}

pub fn ask(what: &str, example: &str) -> String {
    format!("{what} For example: {example}")
}

pub fn bad_command(op: &str, reason: &str) -> String {
    format!("I could not read the arguments for {op}: {reason}. Example: {}", example(op))
}

fn example(op: &str) -> String {
    OpKind::from_name(op).map(|k| format!("/sb {op} {}", k.spec().example)).unwrap_or_default()
}
