//! Every sentence the portal writes, in one place.

pub(crate) fn demo_banner(user: &str, role: &str) -> String {
    format!("Demo mode: you are acting as {user} ({role}). Data is generated; nothing here is real.")
}
pub(crate) const ANONYMOUS_BANNER: &str =
    "You are browsing anonymously and can only read. Sign in at /login to do more.";

pub(crate) fn signed_in(user: &str, role: &str) -> String {
    format!("Signed in as {user} ({role}).")
}

/// One line saying what an event was.
pub(crate) fn describe(e: &switchboard_core::event::Event) -> String {
    switchboard_core::messages::describe_event(e)
}

pub(crate) fn unknown_host() -> &'static str {
    "This server does not answer to that host name. If it is yours, set server.base_url or add it to server.allowed_hosts."
}

pub(crate) fn token_required() -> &'static str {
    "This server requires a token: send `Authorization: Bearer <token>` (an admin creates one with `switchboard token create`)."
}

pub(crate) fn sign_in_required() -> &'static str {
    "Sign in first: this server requires it (server.require_login)."
}

pub(crate) fn account_changed(operation: &str, user: &str) -> String {
    match operation {
        "set_user_role" => format!("{user}'s role changed; their sessions ended and tokens were capped."),
        "set_user_email" => format!("{user}'s email saved."),
        "disable_user" => format!("{user} is disabled; their sessions ended and tokens were revoked."),
        "enable_user" => format!("{user} is enabled again."),
        _ => format!("Every session of {user} ended."),
    }
}

pub(crate) fn oidc_refused(why: &str) -> String {
    format!("Single sign-on did not work: {why}. Try again; if it keeps failing, tell your Switchboard admin.")
}

pub(crate) fn oidc_flow_lost() -> &'static str {
    "This sign-in was not started in this browser, or took longer than ten minutes. Start again from the sign-in page."
}

pub(crate) fn timed_out(secs: u64) -> String {
    format!("The request took longer than {secs} s (server.request_timeout_secs), its body included; nothing was done.")
}

/// Where an earlier chat turn's Approve/Deny buttons were: the run is decided.
pub fn cannot_approve(why: &str) -> String {
    format!("You cannot approve this run: {why}")
}

pub fn run_now(status: &str) -> String {
    format!("This run is {status} now.")
}
