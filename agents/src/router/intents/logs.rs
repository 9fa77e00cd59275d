//! "Check the logs for orders", "any errors in checkout logs in the last
//! hour?", "spot any issues in payments' logs since yesterday", "warnings in
//! the orders logs mentioning timeout": `check_logs` with the project, the
//! window, the level and the text asked about.

use serde_json::json;
use switchboard_core::ops::OpKind;

use super::{Msg, Routed, Strictness};
use crate::messages;

const LOGS: &[&str] = &["log", "logs", "logging", "logfile", "logfiles", "loki", "kibana"];

/// Log levels said without the word "logs": `warnings from auth-proxy past 6 hours`.
const LEVELS: &[&str] = &[
    "errors",
    "error",
    "warnings",
    "warning",
    "warns",
    "exceptions",
    "exception",
    "stacktraces",
    "stacktrace",
    "fatal",
    "fatals",
    "panics",
    "tracebacks",
    "traceback",
];

pub(super) fn check_logs(m: &Msg<'_>) -> Option<Routed> {
    // `deploy log for notifications` is the deployments' history.
    let deploy_log = m.w.windows(2).any(|p| {
        ["deploy", "deployment", "deploys", "deployments", "release", "change", "audit"].contains(&p[0].as_str())
            && LOGS.contains(&p[1].as_str())
    });
    let levels_only = !m.has(LOGS)
        && m.has(LEVELS)
        && !m.has(&[
            "ci",
            "build",
            "builds",
            "rate",
            "budget",
            "incident",
            "incidents",
            "webhook",
            "webhooks",
            "messages",
            "deliveries",
        ]);
    if !(m.has(LOGS) || levels_only) || deploy_log || m.has(&["audit", "history", "changelog", "webhook", "webhooks"]) {
        return None;
    }
    if levels_only && attempt_project(m).is_none() {
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
    // `since yesterday` is the whole window; `yesterday` a day of it.
    if let Some(since) = &m.time.since {
        args["since"] = json!(since);
        if let Some(until) = &m.time.until {
            args["until"] = json!(until);
        }
    } else if m.phrase(&["last", "hour"]) || m.phrase(&["past", "hour"]) {
        args["since"] = json!("1h");
    }
    let levels: Vec<&str> = m.w.iter().flat_map(|w| w.split(['-', '/'])).collect();
    let said = |any: &[&str]| levels.iter().any(|l| any.contains(l));
    if said(&["fatal", "fatals", "panic", "panics"]) {
        args["level"] = json!("fatal");
    } else if said(&["warning", "warnings", "warn", "warns"]) {
        args["level"] = json!("warn");
    } else if said(&["error", "errors", "exception", "exceptions", "failures", "crash", "crashes"]) {
        args["level"] = json!("error");
    } else if said(&["debug"]) {
        args["level"] = json!("debug");
    }
    // `mentioning timeout`, `containing "card declined"`, `grep … for 503`
    let quoted = m.quoted();
    let searching = m.has(&["grep", "search", "scan", "look", "find", "searching", "scanning"]);
    let keys: &[&str] = if searching {
        &["mentioning", "containing", "matching", "about", "for"]
    } else {
        &["mentioning", "containing", "matching", "about"]
    };
    let after = keys
        .iter()
        .find_map(|w| m.pos(w))
        .filter(|i| m.free(i + 1))
        .and_then(|i| m.raw.get(i + 1))
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-' && c != '_').to_owned())
        .filter(|w| !w.is_empty() && !m.cat.projects.contains(&w.to_lowercase()) && !super::is_stop(&w.to_lowercase()));
    if let Some(q) = quoted.or(after) {
        args["query"] = json!(q);
    }
    Some(Routed::call(OpKind::CheckLogs, args))
}

/// Words that say something is wrong with a project now.
const TROUBLE: &[&str] = &[
    "down",
    "failing",
    "erroring",
    "slow",
    "broken",
    "paging",
    "alerting",
    "lagging",
    "timing",
    "throwing",
    "crashing",
    "flapping",
    "spiking",
    "degraded",
    "struggling",
    "misbehaving",
    "hanging",
    "stuck",
    "500s",
    "5xx",
    "wrong",
    "off",
    "failed",
    "leaking",
    "latency",
    "errors",
    "timeouts",
    "oom",
    "oomkilled",
    "restarting",
];

/// `investigate refunds`, `what broke orders?`, `why is checkout down?`, `dig
/// into the payments-api outage`, `root cause for the sessions incident`,
/// `orders is throwing 500s, figure out why`, `should we roll back payouts?`.
pub(super) fn investigate(m: &Msg<'_>) -> Option<Routed> {
    let verb =
        m.has(&["investigate", "investigation", "diagnose", "triage", "rca", "debug", "postmortem", "post-mortem"])
            || m.phrase(&["root", "cause"])
            || m.phrase(&["dig", "into"])
            || m.phrase(&["dig", "in"])
            || m.phrase(&["figure", "out"])
            || m.phrase(&["look", "into"])
            || m.phrase(&["went", "wrong"])
            || m.phrase(&["going", "wrong"])
            || m.phrase(&["is", "wrong"])
            || m.phrase(&["is", "off"])
            || m.phrase(&["off", "with"])
            || m.phrase(&["wrong", "with"])
            || m.has(&["culprit", "culprits"])
            || m.phrase(&["likely", "cause"])
            || (m.has(&["broke", "caused", "causing", "cause"]) && m.has(&["what", "who", "why", "which"]))
            || (m.has(&["why"]) && m.has(TROUBLE))
            || (m.has(TROUBLE)
                && (m.phrase(&["what", "changed"])
                    || m.phrase(&["going", "on"])
                    || m.has(&["idea", "happened", "happening"])))
            || (m.phrase(&["going", "on"]) && m.has(&["latency", "errors", "slow", "roof"]))
            || (m.is_question() && m.phrase(&["roll", "back"]) && m.has(&["should", "shall", "do"]));
    // "why are mfa builds so slow" is about CI.
    let ci =
        m.has(&["build", "builds", "ci", "pipeline", "pipelines"]) && !m.has(&["incident", "outage", "errors", "500s"]);
    if !verb || m.has(LOGS) || ci {
        return None;
    }
    match m.project(0, Strictness::Forgiving) {
        Ok(Some((_, p))) => Some(Routed::call(OpKind::Investigate, json!({"project": p}))),
        Ok(None) => Some(Routed::reply(messages::ask("Which project's trouble?", "investigate refunds"))),
        Err(reply) => Some(reply),
    }
}

fn attempt_project(m: &Msg<'_>) -> Option<String> {
    m.project(0, Strictness::Forgiving).ok().flatten().map(|(_, p)| p)
}

/// `roll back orders in production`, `rollback checkout on staging`, `revert
/// the last deploy of refunds in prod`, `roll sessions back in stg`, `go back
/// to the last good version of pricing on production`: a deploy of the
/// previous good version.
pub(super) fn rollback(m: &Msg<'_>) -> Option<Routed> {
    let roll_back = m.w.iter().position(|w| ["roll", "rolling", "rolled"].contains(&w.as_str())).is_some_and(|i| {
        m.w.iter().skip(i + 1).take(3).any(|w| w == "back")
            && (i < 4 || m.has(&["needs", "need", "please", "now", "do", "just"]))
    });
    let asks = roll_back
        || m.w.iter().take(3).any(|w| ["rollback", "revert", "undo"].contains(&w.as_str()))
        || (m.has(&["rollback", "roll-back"]) && m.has(&["needs", "need", "do", "please", "now", "want"]))
        || (m.phrase(&["back", "to"]) && m.has(&["good", "previous", "prior", "earlier", "older", "last", "before"]))
        || m.phrase(&["revert", "it"])
        || m.phrase(&["undo", "it"])
        || m.phrase(&["roll", "it", "back"])
        || m.phrase(&["back", "out"]);
    if !asks || m.is_question() && !m.first_is(&["roll", "rollback", "revert", "undo"]) {
        return None;
    }
    let project = match m.project(0, Strictness::Exact) {
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
