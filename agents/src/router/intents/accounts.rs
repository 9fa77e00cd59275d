//! What admins say about people's accounts: roles, emails, disabling,
//! signing out everywhere, and who has access. A change names its person
//! exactly (no typo guessing); the policy still decides who may make it.

use serde_json::json;
use switchboard_core::model::Role;
use switchboard_core::ops::OpKind;

use super::{Msg, Routed};
use crate::messages;

/// A person named in the message (`carol`, `carol's`), exactly as the
/// catalog knows them, with where the name is.
fn person(m: &Msg<'_>) -> Result<Option<(usize, String)>, Routed> {
    let bare = |w: &str| w.trim_end_matches("'s").trim_end_matches("’s").to_owned();
    if let Some((i, w)) = m.w.iter().enumerate().find(|(_, w)| m.cat.users.contains(&bare(w))) {
        return Ok(Some((i, bare(w))));
    }
    // A close spelling is asked about, never acted on.
    for w in m.w.iter().filter(|w| !super::is_stop(w)) {
        if let super::Resolved::Close(c) = m.cat.users.resolve(&bare(w)) {
            return Err(Routed::reply(messages::did_you_mean("person", &c)));
        }
    }
    Ok(None)
}

fn role_word(m: &Msg<'_>) -> Option<Role> {
    m.w.iter().find_map(|w| match w.trim_end_matches('s') {
        "viewer" | "reader" | "read-only" => Some(Role::Viewer),
        "editor" => Some(Role::Editor),
        "approver" => Some(Role::Approver),
        "admin" | "administrator" => Some(Role::Admin),
        _ => None,
    })
}

/// `sign carol out everywhere`, `log carol out of every session`, `end carol's sessions`.
pub(super) fn sign_out(m: &Msg<'_>) -> Option<Routed> {
    let verb = (m.has(&["sign", "log", "kick"])
        && m.has(&["out", "off"])
        && m.has(&["session", "sessions", "everywhere", "devices", "device"]))
        || (m.first_is(&["sign", "log"]) && m.has(&["out", "off"]))
        || m.has(&["logout", "signout"])
        || (m.first_is(&["end", "kill", "revoke", "terminate", "clear"]) && m.has(&["session", "sessions"]))
        || m.starts_with(&["kick"]);
    if !verb {
        return None;
    }
    match person(m) {
        Ok(Some((_, user))) => Some(Routed::call(OpKind::SignOutEverywhere, json!({"user": user}))),
        Ok(None) if m.has(&["everywhere", "sessions", "session", "devices"]) => {
            Some(Routed::reply(messages::ask("Whom should I sign out everywhere?", "sign carol out everywhere")))
        }
        Ok(None) => None,
        Err(reply) => Some(reply),
    }
}

/// `make carol an approver`, `set carol's role to editor`, `promote bob to admin`.
pub(super) fn role(m: &Msg<'_>) -> Option<Routed> {
    let verb = m.first_is(&[
        "make",
        "promote",
        "demote",
        "give",
        "grant",
        "set",
        "change",
        "downgrade",
        "upgrade",
        "elevate",
        "lower",
        "raise",
    ]) || m.has(&["role", "roles", "should", "become", "becomes"])
        || (m.has(&["make"]) && m.w.iter().any(|w| m.cat.users.contains(w) || w == "her" || w == "him" || w == "them"));
    let role = role_word(m)?;
    if !verb {
        return None;
    }
    match person(m) {
        Ok(Some((_, user))) => Some(Routed::call(OpKind::SetUserRole, json!({"user": user, "role": role}))),
        Ok(None) => Some(Routed::reply(messages::ask(
            &format!("Whom should I make {}?", messages::a_role(role)),
            &format!("make carol {}", messages::a_role(role)),
        ))),
        Err(reply) => Some(reply),
    }
}

/// `set carol's email to carol@example.com`, `remove carol's email`.
pub(super) fn email(m: &Msg<'_>) -> Option<Routed> {
    if !m.has(&["email", "e-mail", "mail", "address"]) {
        return None;
    }
    let (_, user) = match person(m) {
        Ok(Some(p)) => p,
        Ok(None) => return None,
        Err(reply) => return Some(reply),
    };
    let address = m.raw.iter().find(|w| w.contains('@') && w.contains('.') && !w.starts_with('@'));
    if let Some(a) = address {
        return Some(Routed::call(OpKind::SetUserEmail, json!({"user": user, "email": a})));
    }
    if m.first_is(&["remove", "clear", "delete", "drop", "unset"]) {
        return Some(Routed::call(OpKind::SetUserEmail, json!({"user": user, "email": null})));
    }
    Some(Routed::reply(messages::ask(
        &format!("What is {user}'s email address?"),
        &format!("set {user}'s email to {user}@example.com"),
    )))
}

/// `disable carol`, `deactivate the account of carol`, `enable carol again`.
pub(super) fn disable_or_enable(m: &Msg<'_>) -> Option<Routed> {
    let kind = if m.has(&["disable", "deactivate", "suspend", "lock", "block", "offboard"]) {
        OpKind::DisableUser
    } else if m.has(&["enable", "reactivate", "unlock", "unblock", "unsuspend", "restore", "re-enable", "re-activate"])
    {
        OpKind::EnableUser
    } else {
        return None;
    };
    match person(m) {
        Ok(Some((i, user))) => {
            let mut args = json!({"user": user});
            if kind == OpKind::DisableUser
                && let Some(b) = m.pos("because").filter(|b| *b > i)
            {
                args["reason"] = json!(m.rest_raw(b));
            }
            Some(Routed::call(kind, args))
        }
        // `disable …` about something that is not a person is not ours.
        Ok(None) if m.has(&["user", "account", "person"]) => Some(Routed::reply(messages::ask(
            "Whose account? Name the person as Switchboard knows them.",
            &format!("{} carol", m.w[0]),
        ))),
        Ok(None) => None,
        Err(reply) => Some(reply),
    }
}

/// `list users`, `who has access?`, `who are the admins?`.
pub(super) fn list(m: &Msg<'_>) -> Option<Routed> {
    // `accounts` may be a project's name: then the question is about it.
    let names_something =
        m.w.iter().any(|w| m.cat.projects.contains(w) || m.cat.teams.contains(w) || m.cat.packages.contains(w));
    // `list all accounts`: the project named accounts is not what is listed.
    let only_accounts = m.w.iter().all(|w| {
        w == "accounts" || !(m.cat.projects.contains(w) || m.cat.teams.contains(w) || m.cat.packages.contains(w))
    }) && m.has(&["list", "all", "every", "show"])
        && m.w.len() <= 4;
    let user_accounts = m.phrase(&["user", "accounts"]) || m.phrase(&["user", "account"]) || only_accounts;
    let about_accounts_said = m.phrase(&["user", "account"]) && m.has(&["every", "all", "list", "show"]);
    let package = m.w.iter().any(|w| m.cat.packages.contains(w));
    if (names_something && !user_accounts) || package {
        return None;
    }
    let about_accounts = m.has(&["users", "accounts"]) && !m.has(&["project", "projects", "package", "packages"]);
    let who_is = m.first_is(&["who"]) && role_word(m).is_some() && matches!(person(m), Ok(None));
    let asks =
        (about_accounts && m.w.len() <= 8) || about_accounts_said || m.starts_with(&["who", "has", "access"]) || who_is;
    asks.then(|| Routed::call(OpKind::ListUsers, json!({})))
}
