//! What people say about the webhook inbox and the chat outbox: which
//! deliveries or messages failed, and doing one again. A replay or retry
//! names its number exactly (the inbox page and the lists show it).

use serde_json::json;
use switchboard_core::ops::OpKind;

use super::{Msg, Routed};
use crate::messages;

const DELIVERY: &[&str] =
    &["webhook", "webhooks", "delivery", "deliveries", "hook", "hooks", "inbox", "payload", "payloads"];
const MESSAGE: &[&str] = &["message", "messages", "notification", "notifications", "outbox", "chat"];

/// Verbs that change something: a message starting so is not a question
/// about the mailboxes.
const CHANGES: &[&str] = &["deploy", "upgrade", "update", "bump", "create", "set", "make", "archive"];

/// The number named in the message (`42`, `#42`, `no. 42`).
fn number(m: &Msg<'_>) -> Option<i64> {
    m.w.iter().find_map(|w| w.trim_start_matches('#').parse::<i64>().ok().filter(|n| *n > 0))
}

/// `replay delivery 42`, `redeliver webhook #42`, `reprocess 42`, `retry webhook 42`.
pub(super) fn replay(m: &Msg<'_>) -> Option<Routed> {
    let verb = m.first_is(&["replay", "redeliver", "reprocess", "reprocessing", "re-process", "re-deliver", "re-run"])
        || (m.first_is(&["retry", "rerun", "re-run", "process"]) && m.has(DELIVERY))
        || (m.has(&["replay", "redeliver", "reprocess", "re-process"]) && m.has(DELIVERY))
        || (m.has(&["again"]) && m.has(&["process", "run", "try", "handle"]) && m.has(DELIVERY) && number(m).is_some());
    if !verb || (m.has(MESSAGE) && !m.has(DELIVERY)) {
        return None;
    }
    Some(match number(m) {
        Some(n) => Routed::call(OpKind::ReplayDelivery, json!({"delivery": n})),
        None => Routed::reply(messages::ask(
            "Which delivery? Give its number; `which webhooks failed?` lists them.",
            "replay delivery 42",
        )),
    })
}

/// `retry message 17`, `resend chat message 17`, `send notification #17 again`.
pub(super) fn retry(m: &Msg<'_>) -> Option<Routed> {
    let verb = m.first_is(&["resend", "re-send"])
        || (m.first_is(&["retry"]) && m.has(MESSAGE))
        || (m.first_is(&["send"]) && m.has(&["again"]) && m.has(MESSAGE));
    if !verb || m.has(DELIVERY) {
        return None;
    }
    Some(match number(m) {
        Some(n) => Routed::call(OpKind::RetryMessage, json!({"message": n})),
        None => Routed::reply(messages::ask(
            "Which message? Give its number; `which chat messages failed?` lists them.",
            "retry message 17",
        )),
    })
}

/// The state asked about: failed, unmapped, waiting, processed or sent.
fn status(m: &Msg<'_>, sent: &str) -> Option<&'static str> {
    if m.has(&[
        "failed",
        "failing",
        "dead",
        "died",
        "broken",
        "stuck",
        "undelivered",
        "errors",
        "error",
        "fail",
        "dropped",
    ]) {
        Some("dead")
    } else if m.has(&["unmapped", "ignored", "unhandled", "unmatched"]) {
        Some("unmapped")
    } else if m.has(&["pending", "waiting", "queued"]) {
        Some("pending")
    } else if m.has(&["done", "processed", "handled", sent]) {
        Some(if sent == "sent" { "sent" } else { "done" })
    } else {
        None
    }
}

/// `which webhooks failed?`, `show dead deliveries`, `what's in the inbox?`.
pub(super) fn deliveries(m: &Msg<'_>) -> Option<Routed> {
    if !m.has(DELIVERY) || m.has(&["outbox"]) || m.first_is(CHANGES) {
        return None;
    }
    let mut args = json!({});
    if let Some(s) = status(m, "processed").filter(|s| *s != "sent") {
        args["status"] = json!(s);
    }
    Some(Routed::call(OpKind::ListDeliveries, args))
}

/// `which chat messages failed?`, `show the outbox`, `undelivered notifications`.
pub(super) fn outbox(m: &Msg<'_>) -> Option<Routed> {
    // "messages" alone is too common a word ("error messages in the logs"):
    // chat's own words, or notifications, say it is the outbox.
    // `notifications` may be a project's name: then only chat's own words say outbox.
    let named = m.w.iter().any(|w| (w == "notifications" || w == "notification") && m.cat.projects.contains(w));
    let chat = (m.has(&["notification", "notifications"]) && !named)
        || (m.has(&["message", "messages"]) && m.has(&["chat", "slack", "discord", "outgoing", "undelivered", "bot"]));
    let about = m.has(&["outbox"]) || (chat && (status(m, "sent").is_some() || m.has(&["queue", "list", "show"])));
    if !about || m.first_is(CHANGES) {
        return None;
    }
    let mut args = json!({});
    if let Some(s) = status(m, "sent").filter(|s| *s != "unmapped" && *s != "done") {
        args["status"] = json!(s);
    }
    Some(Routed::call(OpKind::ListMessages, args))
}
