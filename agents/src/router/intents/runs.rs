//! What people say about automation runs: which wait for approval or are
//! blocked, approving or denying one by id, showing one.

use serde_json::json;
use switchboard_core::ops::OpKind;

use super::{Msg, Routed};
use crate::messages;

pub(super) fn approvals(m: &Msg<'_>) -> Option<Routed> {
    // Approved, but nothing runs them yet (no GitHub App anywhere).
    let blocked = m.has(&["blocked", "stuck"])
        && m.has(&["run", "runs", "deploy", "deploys", "automation", "automations", "upgrades"]);
    if blocked {
        return Some(Routed::call(OpKind::ListRuns, json!({"status": "blocked"})));
    }
    let waiting =
        m.has(&["waiting", "pending", "awaiting", "approval", "approvals", "approve"]) && !m.first_is(&["approve"]);
    let runs = m.w.len() <= 3 && m.first_is(&["runs", "pending"]);
    (waiting || runs).then(|| Routed::call(OpKind::ListRuns, json!({"status": "pending"})))
}

pub(super) fn decide(m: &Msg<'_>) -> Option<Routed> {
    let kind = if m.first_is(&["approve", "lgtm"]) {
        OpKind::ApproveRun
    } else if m.first_is(&["deny", "reject", "decline"]) {
        OpKind::DenyRun
    } else {
        return None;
    };
    let Some(run) = m.run_id() else {
        return Some(Routed::reply(messages::ask(
            "Which run? Give its id; `what is waiting for approval?` lists them.",
            &format!("{} 01930f3e-5c1a-7b6e-9d2f-0a1b2c3d4e5f", m.w[0]),
        )));
    };
    let mut args = json!({"run": run});
    if kind == OpKind::DenyRun
        && let Some(i) = m.pos("because").or_else(|| m.pos("reason"))
    {
        let reason = m.rest_raw(i);
        if !reason.is_empty() {
            args["reason"] = json!(reason);
        }
    }
    Some(Routed::call(kind, args))
}

pub(super) fn show_run(m: &Msg<'_>) -> Option<Routed> {
    let id = m.run_id()?;
    Some(Routed::call(OpKind::GetRun, json!({"run": id})))
}
