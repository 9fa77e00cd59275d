//! Every sentence the conversation core writes, in one place.

pub fn pending_run(requested_by: &str) -> String {
    format!("Waiting for approval by someone with the approver role (not {requested_by}, who asked).")
}

pub fn run_created(summary: &str) -> String {
    format!("I've asked for approval: {summary}.")
}

pub fn run_decided(summary: &str, status: &str, by: &str) -> String {
    format!("{summary}: {status} by {by}.")
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
