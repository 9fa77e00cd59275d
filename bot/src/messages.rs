//! Every sentence the conversation core writes, in one place.

pub fn pending_run(requested_by: &str) -> String {
    format!("Waiting for approval by someone with the approver role (not {requested_by}, who asked).")
}

/// A pending run a rule asks more of: `approvals` different people (from
/// `team`), `given` so far.
pub fn pending_run_needs(requested_by: &str, approvals: u32, team: Option<&str>, given: usize) -> String {
    let who = match (approvals, team) {
        (1, Some(t)) => format!("a member of team {t}"),
        (n, Some(t)) => format!("{n} different members of team {t}"),
        (n, None) => format!("{n} different people"),
    };
    let so_far = if given > 0 { format!("; {given} so far") } else { String::new() };
    format!("Waiting for approval by {who} with the approver role (not {requested_by}, who asked){so_far}.")
}

/// A deploy's version move: `1.4.2 → 1.5.0 (what staging runs)`.
pub fn version_move(from: Option<&str>, to: &str, chosen: &str) -> String {
    match from {
        Some(f) if f == to => format!("{to}, already running there ({chosen})"),
        Some(f) => format!("{f} → {to} ({chosen})"),
        None => format!("nothing deployed yet → {to} ({chosen})"),
    }
}

pub fn older() -> &'static str {
    " — older than what runs there now"
}

pub fn plan_changes(n: usize) -> String {
    match n {
        1 => "It brings 1 change:".into(),
        n => format!("It brings {n} changes:"),
    }
}

pub fn plan_targets(n: usize) -> String {
    match n {
        1 => "It touches 1 project:".into(),
        n => format!("It touches {n} projects:"),
    }
}

pub fn plan_already(n: usize, to: &str) -> String {
    match n {
        1 => format!("1 more project is on {to} already and is left alone."),
        n => format!("{n} more projects are on {to} already and are left alone."),
    }
}

pub fn and_more(n: usize) -> String {
    format!("…and {n} more (all of them on the portal page).")
}

pub fn no_repository() -> &'static str {
    "no repository: skipped"
}

pub fn confirm_approval(summary: &str, env: &str) -> String {
    format!("{summary}. This goes to {env}: approve it?")
}

pub fn confirm_button(env: &str) -> String {
    format!("Approve: deploy to {env}")
}

pub fn deny_why(summary: &str, requested_by: &str, run: &str) -> String {
    format!("Deny \"{summary}\"? Say why, so {requested_by} knows: pick a reason, or write `deny {run} because …`.")
}

/// The reason a one-click denial gives, by its code.
pub fn deny_reason(code: &str) -> Option<Option<&'static str>> {
    match code {
        "none" => Some(None),
        _ => crate::answer::DENY_REASONS.iter().find(|(c, _)| *c == code).map(|(_, text)| Some(*text)),
    }
}

pub fn because(reason: &str) -> String {
    format!("Why: {reason}")
}

pub fn run_created(summary: &str) -> String {
    format!("I've asked for approval: {summary}.")
}

pub fn run_decided(summary: &str, status: &str, by: &str) -> String {
    format!("{summary}: {status} by {by}.")
}

pub fn run_waiting(summary: &str, by: &str) -> String {
    format!("{summary}: approved by {by}, and it needs more approvals.")
}

/// An approved run nobody runs yet: why.
pub fn run_blocked(reason: &str) -> String {
    let mut reason = reason.to_owned();
    if let Some(first) = reason.get(..1) {
        reason.replace_range(..1, &first.to_uppercase());
    }
    format!("Waiting: {reason}.")
}

pub fn no_matches(what: &str) -> String {
    format!("Nothing found for {what}.")
}

pub fn history_first(project: &str, subject: &str, when: &str, what: &str) -> String {
    format!("{project} got {subject} on {when} ({what}).")
}

pub fn history_none(project: &str, subject: &str) -> String {
    format!("I found no change to {project} that matches {subject}.")
}

pub fn owner(project: &str, team_name: &str, team: &str) -> String {
    format!("{project} is owned by {team_name} (team {team}).")
}

pub fn unknown_action(action: &str) -> String {
    format!("I don't know the button {action:?}. Ask again and use the buttons on the new answer.")
}

pub fn shown(shown: usize, total: u64) -> String {
    if shown as u64 >= total { String::new() } else { format!("Showing {shown} of {total}.") }
}

/// Shown under a router answer when the model could not be used.
/// The operation a reply stands on: `from get_project payments-api`.
pub fn based_on(operation: &str, arguments: &serde_json::Value) -> String {
    // The names first (`orders`), then the rest as key=value.
    let named = |k: &str| matches!(k, "project" | "team" | "package" | "run" | "user");
    let fields = arguments.as_object().into_iter().flatten().filter(|(k, _)| *k != "limit");
    let mut values: Vec<(bool, String)> = fields
        .map(|(k, v)| match v {
            serde_json::Value::String(s) if named(k) => (false, s.clone()),
            serde_json::Value::String(s) => (true, format!("{k}={s}")),
            other => (true, format!("{k}={other}")),
        })
        .collect();
    values.sort_by_key(|(keyed, _)| *keyed);
    let values: Vec<String> = values.into_iter().map(|(_, v)| v).collect();
    if values.is_empty() { format!("from `{operation}`") } else { format!("from `{operation} {}`", values.join(" ")) }
}

/// Words of the question the answer could not take into account.
pub fn unapplied(words: &[String]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    format!("I could not apply {} to this answer.", quoted.join(" or "))
}

/// Said before the projects semantic search found for a message whose names matched nothing.
pub fn by_meaning() -> String {
    "By what they do, these projects come closest to what you said:".to_owned()
}

/// Said under a router answer given instead of a model's ungrounded prose.
pub fn ungrounded() -> String {
    "(The language model did not look this up, so this answer comes from the built-in commands.)".to_owned()
}

pub fn llm_fallback(reason: &str) -> String {
    format!(
        "(The language model is not available: {reason}. The built-in commands answered instead; say `help` to see them.)"
    )
}

/// Shown when the model failed after it had already done something this turn.
pub fn llm_failed_midway(reason: &str) -> String {
    format!("(The language model stopped answering: {reason}. Here is what was done before it stopped.)")
}

pub fn out_of_steps(steps: u32) -> String {
    format!("I stopped after {steps} steps without a final answer. Ask a narrower question, or use a command (`help`).")
}

pub fn proposal(operation: &str, arguments: &str) -> String {
    format!("I can make this change: {operation} {arguments}. Confirm or cancel it with the buttons.")
}

pub fn tool_failed(tool: &str, error: &str) -> String {
    format!("{tool} was not done: {error}")
}

pub fn proposal_gone() -> String {
    "That proposal has expired or was already answered; nothing changed. Ask again to get a new one.".into()
}

pub fn proposal_not_yours(asked: &str) -> String {
    format!("Only {asked}, who asked for this change, can confirm or cancel it. Nothing changed.")
}

pub fn proposal_cancelled(operation: &str) -> String {
    format!("Cancelled {operation}; nothing changed.")
}

pub fn ci_health(project: &str, builds: u32, failure_rate: f64) -> String {
    if builds == 0 {
        return format!("{project} has no finished CI builds in this window.");
    }
    let verdict = match failure_rate {
        r if r < 0.05 => "healthy",
        r if r < 0.2 => "mostly green",
        _ => "failing often",
    };
    format!("CI for {project} is {verdict}: {builds} builds, {:.0}% failed.", failure_rate * 100.0)
}

pub fn dora(scope: &str, environment: &str, since: &str) -> String {
    format!("DORA metrics for {scope}, deployments to {environment} since {since}:")
}

pub fn slack_not_configured() -> &'static str {
    "Slack is not set up here: set slack.signing_secret or SWITCHBOARD_SLACK_SIGNING_SECRET (see docs/slack.md)"
}

pub fn discord_not_configured() -> &'static str {
    "Discord is not set up here: set discord.public_key or SWITCHBOARD_DISCORD_PUBLIC_KEY (see docs/discord.md)"
}

pub fn account(user: &str, role: &str, state: &str) -> String {
    format!("{user} is {role}, {state}.")
}

/// What a change to an account ended, or nothing.
pub fn access_ended(sessions: bool, revoked: u32, capped: u32) -> String {
    let mut parts = Vec::new();
    if sessions {
        parts.push("their portal sessions ended".to_owned());
    }
    if revoked > 0 {
        parts.push(format!("{revoked} API token(s) revoked"));
    }
    if capped > 0 {
        parts.push(format!("{capped} API token(s) lowered to the new role"));
    }
    if parts.is_empty() { String::new() } else { format!("Done at once: {}.", parts.join(", ")) }
}

pub fn busy() -> &'static str {
    "too many signature checks are waiting; try again in a moment"
}

pub fn stale_signature() -> &'static str {
    "the request is more than five minutes old or new; check the clock, or this is a replay"
}

pub fn replayed() -> &'static str {
    "this signed request was already received; a platform sends each one once, so this is a replay"
}

pub fn no_link_code() -> String {
    "Switchboard cannot keep a link code right now (its store did not answer). Try /sb link again in a minute.".into()
}

pub fn link_code(code: &str) -> String {
    format!(
        "Your link code is {code}. Sign in to the portal, open Link account and type it within 10 minutes: this chat account then acts as you, with your role."
    )
}

pub fn internal_error() -> &'static str {
    "Something went wrong on Switchboard's side; the server log has the details. Try again in a moment."
}

pub fn working() -> &'static str {
    "Working on it… the answer will be posted here."
}

pub fn unknown_form() -> &'static str {
    "Switchboard does not know this form; open it again with /sb new."
}

/// What the Investigate button on a notification asks.
pub fn investigate(project: &str) -> String {
    format!("investigate {project}")
}

pub fn no_templates() -> &'static str {
    "This server has no project templates; an admin adds them under [templates] in the config."
}

pub fn form_opened() -> &'static str {
    "Fill in the form that just opened to request a new project."
}

pub fn forms_need_token() -> &'static str {
    "Forms need slack.bot_token (or SWITCHBOARD_SLACK_BOT_TOKEN); meanwhile ask in a message, e.g. \"create a new consumer project called order-events\"."
}

pub fn link_in_private() -> &'static str {
    "Link codes are private: send me `link` in a direct message, or use /sb link."
}

/// A project created from a template, for its team's channel.
pub fn project_scaffolded(name: &str, project_type: &str, template: &str, requested_by: &str) -> String {
    format!("New {project_type} project {name}, created from the {template} template for {requested_by}.")
}

pub fn sbom_imported(project: &str, format: &str, components: usize, counts: (usize, usize, usize, usize)) -> String {
    let (added, changed, removed, unchanged) = counts;
    format!(
        "Read the {format} SBOM into {project}: {components} component(s); {added} added, {changed} changed, {removed} removed, {unchanged} unchanged."
    )
}

pub fn sbom_kept(n: usize, names: &str) -> String {
    format!("{n} package(s) were already dependencies from another source and keep that edge: {names}.")
}

pub fn skipped(n: usize, first: &str) -> String {
    format!("{n} left out:\n{first}")
}

/// How a project uses a package: `checkout uses redis 7.2.4 (npm) directly at runtime, read from …`.
pub fn dependency_edge(
    project: &str,
    what: &str,
    transitive: bool,
    scope: &str,
    requirement: Option<&str>,
    source: Option<&str>,
) -> String {
    let how = if transitive { "through another package" } else { "directly" };
    let scope = match scope {
        "dev" => "for development and tests",
        "build" => "to build",
        _ => "at runtime",
    };
    let declared = requirement.map(|r| format!(" (declared as {r})")).unwrap_or_default();
    let from = match source {
        Some("sbom") => "read from the project's SBOM".to_owned(),
        Some(s) => match s.strip_prefix("sbom:") {
            Some(name) => format!("read from the SBOM {name}"),
            None => format!("read from {s}"),
        },
        None => "set by hand (set_dependencies, a campaign or the API); no file is recorded".to_owned(),
    };
    format!("{project} uses {what} {how} {scope}{declared}, {from}.")
}

pub fn dependency_none(project: &str, package: &str) -> String {
    format!("{project} does not use {package}, as far as its dependencies say.")
}

pub fn catalog_imported(dry_run: bool, entities: usize, counts: (usize, usize, usize, usize)) -> String {
    let (created, updated, unchanged, skipped) = counts;
    let verb = if dry_run { "Would import (dry run, nothing changed)" } else { "Imported" };
    format!(
        "{verb} {entities} catalog entities: {created} created, {updated} updated, {unchanged} unchanged, {skipped} skipped."
    )
}

pub fn catalog_heading(dry_run: bool, what: &str) -> String {
    if dry_run { format!("Would be {what}") } else { format!("{}{}", what[..1].to_uppercase(), &what[1..]) }
}

pub fn manifests_imported(project: &str, files: usize, edges: (usize, usize), counts: (usize, usize, usize)) -> String {
    let ((direct, transitive), (added, changed, removed)) = (edges, counts);
    format!(
        "Read {files} manifest and lock file(s) of {project}: {direct} direct and {transitive} transitive dependencies; {added} added, {changed} changed, {removed} removed."
    )
}

/// `3 project(s) use redis: 7.2.4 (2), 6.2.14 (1).`, saying which users count.
pub fn dependents(package: &str, total: u64, direct: u64, direct_only: bool, versions: &str) -> String {
    if direct_only {
        format!("{total} project(s) declare {package} themselves: {versions}.")
    } else if direct < total {
        format!(
            "{total} project(s) use {package} ({direct} declare it, {} through another package): {versions}.",
            total - direct
        )
    } else {
        format!("{total} project(s) use {package}: {versions}.")
    }
}

pub fn no_dependents(package: &str, direct_only: bool) -> String {
    if direct_only { format!("No project declares {package} itself.") } else { format!("No project uses {package}.") }
}
