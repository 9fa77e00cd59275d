//! What people say about automation runs: which wait for approval or are
//! blocked, approving or denying one by id, showing one.

use serde_json::json;
use switchboard_core::ops::OpKind;

use super::{Msg, Routed};
use crate::messages;

const RUNS: &[&str] = &["runs", "automations", "automation", "campaigns"];

/// The run status a word says.
fn run_status(m: &Msg<'_>) -> Option<&'static str> {
    for (words, status) in [
        (&["failed", "failing", "failures", "broken", "errored"][..], "failed"),
        (&["running", "in-progress", "executing", "ongoing", "active"][..], "running"),
        (&["denied", "rejected", "declined"][..], "denied"),
        (&["expired", "stale", "timed-out"][..], "expired"),
        (&["succeeded", "successful", "completed", "finished", "done", "passed"][..], "succeeded"),
        (&["cancelled", "canceled", "aborted"][..], "cancelled"),
        (&["approved"][..], "approved"),
        (&["pending", "waiting", "awaiting", "approval", "approvals"][..], "pending"),
    ] {
        if m.has(words) {
            return Some(status);
        }
    }
    None
}

/// `list runs`, `any failed runs?`, `show running automations`, `which runs got denied`.
pub(super) fn list(m: &Msg<'_>) -> Option<Routed> {
    if !m.has(RUNS) || m.has(&["log", "logs", "ci", "build", "builds", "pipeline"]) {
        return None;
    }
    // `runs` must be the thing asked about, not a verb (`what runs orders`).
    let names = m.w.iter().any(|w| m.cat.projects.contains(w) || m.cat.packages.contains(w));
    if names && !m.has(&["automation", "automations"]) {
        return None;
    }
    let mut args = json!({});
    if let Some(s) = run_status(m) {
        args["status"] = json!(s);
    }
    Some(Routed::call(OpKind::ListRuns, args))
}

pub(super) fn approvals(m: &Msg<'_>) -> Option<Routed> {
    // Approved, but nothing runs them yet (no GitHub App anywhere).
    let blocked = m.has(&["blocked", "stuck"])
        && m.has(&["run", "runs", "deploy", "deploys", "automation", "automations", "upgrades"])
        && !m.has(&["approval", "approvals", "approve"]);
    if blocked {
        return Some(Routed::call(OpKind::ListRuns, json!({"status": "blocked"})));
    }
    // "waiting" alone is anyone waiting ("QA is waiting on it"): approval words say runs.
    let waiting = (m.has(&["pending", "approval", "approvals", "approve"])
        || (m.has(&["waiting", "awaiting"])
            && m.has(&["run", "runs", "automation", "automations", "requests", "sign-off"])))
        && !m.first_is(&["approve"]);
    let runs = m.w.len() <= 3 && m.first_is(&["runs", "pending"]);
    (waiting || runs).then(|| Routed::call(OpKind::ListRuns, json!({"status": "pending"})))
}

pub(super) fn decide(m: &Msg<'_>) -> Option<Routed> {
    // A decision said anywhere in a statement; never in a question.
    let told = m.run_id().is_some() && !m.is_question();
    let said = |words: &[&str]| m.first_is(words) || (m.has(words) && told);
    let kind = if said(&["approve", "approved", "lgtm"]) || (m.phrase(&["go", "ahead"]) && told) {
        OpKind::ApproveRun
    } else if said(&["deny", "denied", "reject", "rejected", "decline", "declined"]) {
        OpKind::DenyRun
    } else {
        return None;
    };
    let Some(run) = m.run_id() else {
        if let Some(r) = ambiguous(m) {
            return Some(r);
        }
        return Some(Routed::reply(messages::ask(
            "Which run? Give its id; `what is waiting for approval?` lists them.",
            &format!("{} 01930f3e-5c1a-7b6e-9d2f-0a1b2c3d4e5f", m.w[0]),
        )));
    };
    let mut args = json!({"run": run});
    // "approve 0193… confirm": the confirmation a production deploy asks for.
    if kind == OpKind::ApproveRun && m.has(&["confirm", "confirmed", "confirming", "confirmation"]) {
        args["confirm"] = json!(true);
    }
    if kind == OpKind::DenyRun
        && let Some(r) = reason(m)
    {
        args["reason"] = json!(r);
    }
    Some(Routed::call(kind, args))
}

pub(super) fn show_run(m: &Msg<'_>) -> Option<Routed> {
    if let Some(id) = m.run_id() {
        return Some(Routed::call(OpKind::GetRun, json!({"run": id})));
    }
    ambiguous(m)
}

/// A fragment naming several runs: list them, never pick one.
fn ambiguous(m: &Msg<'_>) -> Option<Routed> {
    m.w.iter().find_map(|w| {
        let found = m.cat.runs_matching(w.trim_start_matches('#'));
        (found.len() > 1).then(|| Routed::reply(messages::which_run(w, &found)))
    })
}

/// `cancel run 0193…`, `abort 0193… because wrong environment`, `stop run …`.
pub(super) fn cancel(m: &Msg<'_>) -> Option<Routed> {
    if !(m.first_is(&["cancel", "abort", "stop", "kill", "halt"])
        || m.has(&["cancel", "cancelling", "canceling", "abort"]))
    {
        return None;
    }
    let Some(run) = m.run_id() else {
        return ambiguous(m).or_else(|| {
            m.has(&["run", "runs", "deploy", "upgrade", "automation"]).then(|| {
                Routed::reply(messages::ask(
                    "Which run? Give its id (or six or more characters of it).",
                    "cancel run 01930f3e-5c1a-7b6e-9d2f-0a1b2c3d4e5f",
                ))
            })
        });
    };
    let mut args = json!({"run": run});
    if let Some(r) = reason(m) {
        args["reason"] = json!(r);
    }
    Some(Routed::call(OpKind::CancelRun, args))
}

/// `because …`, `reason: …`, `with reason "…"`.
fn reason(m: &Msg<'_>) -> Option<String> {
    let i = m.pos("because").or_else(|| m.pos("reason")).or_else(|| m.pos("reason:"))?;
    let r = m.rest_raw(i);
    let r = r.trim().trim_matches(['"', '\'', ':']).trim().to_owned();
    (!r.is_empty()).then_some(r)
}
