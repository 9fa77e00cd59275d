//! "Check the logs for orders", "any errors in checkout logs in the last
//! hour?", "spot any issues in payments' logs since yesterday", "warnings in
//! the orders logs mentioning timeout": `check_logs` with the project, the
//! window, the level and the text asked about.

use serde_json::json;
use switchboard_core::ops::OpKind;

use super::{Msg, Routed, Strictness};
use crate::messages;

const LOGS: &[&str] = &["log", "logs", "logging", "logfile", "logfiles", "loki", "kibana"];

/// `last 2 hours`, `past 30 minutes`, `last hour`, `since yesterday`, `in the last 15m`.
fn window(m: &Msg<'_>) -> Option<String> {
    let unit = |w: &str| match w.trim_end_matches('s') {
        "minute" | "min" | "m" => Some('m'),
        "hour" | "hr" | "h" => Some('h'),
        "day" | "d" => Some('d'),
        "week" | "w" => Some('w'),
        _ => None,
    };
    for (i, w) in m.w.iter().enumerate() {
        if !matches!(w.as_str(), "last" | "past" | "previous") {
            continue;
        }
        let next = m.w.get(i + 1).map(String::as_str).unwrap_or_default();
        if let Some(u) = unit(next) {
            return Some(format!("1{u}"));
        }
        if let Ok(n) = next.parse::<u32>()
            && let Some(u) = m.w.get(i + 2).and_then(|w| unit(w))
        {
            return Some(format!("{n}{u}"));
        }
        // `last 15m`, `last 2h`
        let (digits, rest): (String, String) = next.chars().partition(char::is_ascii_digit);
        if !digits.is_empty()
            && let Some(u) = unit(&rest)
        {
            return Some(format!("{digits}{u}"));
        }
    }
    if m.has(&["yesterday"]) {
        return Some("1d".into());
    }
    if m.has(&["today"]) {
        return Some("24h".into());
    }
    None
}

pub(super) fn check_logs(m: &Msg<'_>) -> Option<Routed> {
    if !m.has(LOGS) || m.has(&["audit", "history", "changelog", "webhook", "webhooks"]) {
        return None;
    }
    let project = match m.project(0, Strictness::Forgiving) {
        Ok(Some((_, p))) => p,
        Ok(None) => {
            return Some(Routed::reply(messages::ask("Whose logs?", "check the logs for orders")));
        }
        Err(reply) => return Some(reply),
    };
    let mut args = json!({"project": project});
    if let Some(since) = window(m) {
        args["since"] = json!(since);
    }
    if m.has(&["warning", "warnings", "warn", "warns"]) {
        args["level"] = json!("warn");
    } else if m.has(&["error", "errors", "exception", "exceptions", "failures", "fatal", "crash", "crashes"]) {
        args["level"] = json!("error");
    }
    // `mentioning timeout`, `containing "card declined"`, `with "503"`
    let quoted: Option<String> = m.raw.join(" ").split('"').nth(1).map(str::to_owned).filter(|q| !q.trim().is_empty());
    let after = ["mentioning", "containing", "matching", "about"]
        .iter()
        .find_map(|w| m.pos(w))
        .and_then(|i| m.raw.get(i + 1))
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-' && c != '_').to_owned())
        .filter(|w| !w.is_empty());
    if let Some(q) = quoted.or(after) {
        args["query"] = json!(q);
    }
    Some(Routed::call(OpKind::CheckLogs, args))
}

/// `investigate refunds`, `investigate the refunds incident`, `what broke
/// orders?`, `why is checkout down?`, `what caused the orders outage`.
pub(super) fn investigate(m: &Msg<'_>) -> Option<Routed> {
    let asks = m.first_is(&["investigate", "diagnose", "triage", "rca"])
        || (m.has(&["broke", "broken", "caused", "causing", "cause"]) && m.has(&["what", "who", "why", "which"]))
        || (m.first_is(&["why"]) && m.has(&["down", "failing", "erroring", "slow", "broken", "paging", "alerting"]));
    if !asks || m.has(LOGS) {
        return None;
    }
    match m.project(0, Strictness::Forgiving) {
        Ok(Some((_, p))) => Some(Routed::call(OpKind::Investigate, json!({"project": p}))),
        Ok(None) => Some(Routed::reply(messages::ask("Which project's trouble?", "investigate refunds"))),
        Err(reply) => Some(reply),
    }
}

/// `roll back orders in production`, `rollback checkout on staging`, `revert
/// the last deploy of refunds in prod`: a deploy of the previous good version.
pub(super) fn rollback(m: &Msg<'_>) -> Option<Routed> {
    let asks = m.starts_with(&["roll", "back"])
        || m.first_is(&["rollback", "revert", "undo"])
        || (m.has(&["roll"]) && m.has(&["back"]) && m.has(&["please", "can", "could"]));
    if !asks {
        return None;
    }
    let project = match m.project(0, Strictness::Forgiving) {
        Ok(Some((_, p))) => p,
        Ok(None) => {
            return Some(Routed::reply(messages::ask("Roll back which project?", "roll back orders in production")));
        }
        Err(reply) => return Some(reply),
    };
    match m.environment() {
        Some(env) => {
            Some(Routed::call(OpKind::Deploy, json!({"project": project, "environment": env, "rollback": true})))
        }
        None => {
            Some(Routed::reply(messages::ask("In which environment?", &format!("roll back {project} in production"))))
        }
    }
}
