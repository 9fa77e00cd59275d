//! Questions about what happened and how things run: a package's
//! dependents and one project's use of it, history, deployments, incidents,
//! environments compared, DORA, CI and score. Who owns what and finding
//! things is in `directory`.

use serde_json::{Value, json};
use switchboard_core::ops::OpKind;

use super::{Msg, Routed, Strictness, attempt, is_stop};
use crate::messages;
use crate::router::text::is_version;

const DEPLOY_NOUNS: &[&str] = &[
    "deploys",
    "deploy",
    "deployments",
    "deployment",
    "deployed",
    "shipped",
    "released",
    "releases",
    "rollouts",
    "redeployed",
    "promoted",
    "deployd",
];
const COMPARE: &[&str] = &[
    "compare",
    "comparison",
    "diff",
    "difference",
    "differences",
    "differ",
    "differs",
    "different",
    "drift",
    "drifted",
    "drifting",
    "behind",
    "ahead",
    "sync",
    "mismatch",
    "versus",
    "vs",
    "delta",
    "apart",
    "match",
    "diverged",
    "diverge",
    "undeployed",
    "unreleased",
    "unpromoted",
];

/// `since` alone, for the operations whose window has no end.
fn since_only(m: &Msg<'_>, mut args: Value) -> Value {
    if let Some(s) = &m.time.since {
        args["since"] = json!(s);
    }
    args
}

/// "what differs between staging and production for orders", "is prod
/// behind staging on cart", "diff stg vs prod for refunds".
pub(super) fn compare(m: &Msg<'_>) -> Option<Routed> {
    let envs = m.environments();
    let strong = m.has(&["drift", "drifted", "drifting", "diff", "compare", "comparison", "differences", "diverged"]);
    // "the same version everywhere", "what versions are running in each env"
    let each = m.w.windows(2).any(|p| {
        ["each", "every", "all", "across"].contains(&p[0].as_str())
            && ["env", "envs", "environment", "environments"].contains(&p[1].as_str())
    });
    let same_everywhere = (m.phrase(&["same", "version"])
        && m.has(&["environments", "environment", "envs", "everywhere"]))
        || (each && m.has(&["version", "versions", "running", "deployed"]));
    let asks = same_everywhere
        || (m.has(COMPARE) && (strong || !envs.is_empty() || m.has(&["environments", "envs", "env", "environment"])))
        || (envs.len() >= 2 && !m.has(&["deploy", "deploys", "deployments", "deployed", "incidents", "incident"]));
    if !asks || m.has(&["logs", "log"]) {
        return None;
    }
    let Some((_, project)) = attempt!(m.project(0, Strictness::Forgiving)) else {
        return Some(Routed::reply(messages::ask(
            "Which project?",
            "what differs between staging and production for orders?",
        )));
    };
    let mut args = json!({"project": project});
    if let [(_, a), (_, b), ..] = envs.as_slice() {
        let rank = |e: &str| match e {
            "development" => 0,
            "production" => 2,
            _ => 1,
        };
        let (from, to) = if rank(a) <= rank(b) { (a, b) } else { (b, a) };
        args["from"] = json!(from);
        args["to"] = json!(to);
    }
    Some(Routed::call(OpKind::CompareEnvironments, args))
}

/// "when was orders last deployed", "when did mfa last go to production",
/// "last deploy of payouts to stg", "what version of pricing is live?",
/// "what's running in prod for cart", "what's on staging for orders".
pub(super) fn last_deployed(m: &Msg<'_>) -> Option<Routed> {
    let when = (m.w.iter().take(4).any(|w| w == "when") || (m.has(&["when"]) && m.has(&["last"])))
        && (m.has(DEPLOY_NOUNS)
            || m.has(&["ship", "deploy", "release", "rollout"])
            || (m.environment().is_some()
                && m.has(&["go", "went", "hit", "reach", "reached", "land", "landed", "get", "got"])));
    let last = m.w.windows(2).any(|p| {
        ["last", "latest", "previous", "most", "recent"].contains(&p[0].as_str())
            && ["deploy", "deployment", "rollout", "release", "ship", "push"].contains(&p[1].as_str())
    });
    let env = m.environment();
    let whats_there = env.is_some()
        && (m.has(&["running", "live", "deployed"])
            || m.phrase(&["what's", "on"])
            || m.phrase(&["whats", "on"])
            || m.phrase(&["what", "is", "on"])
            // "what's in production for cart"
            || (m.w.iter().any(|w| ["what's", "whats", "what"].contains(&w.as_str()))
                && m.w.windows(2).any(|p| p[0] == "in" && m.cat.environment(&p[1]).is_some())))
        && !m.has(&["logs", "log", "incident", "incidents"]);
    let live_version =
        m.has(&["version", "versions"]) && (m.has(&["live"]) || env.is_some()) && m.packages().is_empty();
    if !(when || last || whats_there || live_version) || m.has(&["incident", "incidents"]) {
        return None;
    }
    let mut args = json!({"limit": 10});
    if let Some((_, p)) = attempt!(m.project(0, Strictness::Forgiving)) {
        args["project"] = json!(p);
    } else if when {
        return None;
    }
    let env = env.or_else(|| m.has(&["live"]).then(|| "production".to_owned()));
    if let Some(e) = env {
        args["environment"] = json!(e);
    }
    Some(Routed::call(OpKind::ListDeployments, m.with_time(args)))
}

/// "when did checkout get redis 7", "when was left-pad upgraded in refunds",
/// "what changed in orders last week", "history of payouts".
pub(super) fn history(m: &Msg<'_>) -> Option<Routed> {
    let acquired = m.has(&[
        "got", "get", "added", "picked", "upgraded", "moved", "switched", "bumped", "adopted", "started", "became",
    ]);
    let when = m.w.iter().take(3).any(|w| w == "when")
        || (m.has(&["when"]) && acquired)
        || m.phrase(&["what", "point"])
        || m.phrase(&["what", "date"]);
    let words = m.has(&[
        "history",
        "chronological",
        "happened",
        "changes",
        "changed",
        "changelog",
        "timeline",
        "audit",
        "events",
        "activity",
        "modified",
    ]);
    if !(when || words) || m.has(DEPLOY_NOUNS) || m.has(&["incident", "incidents", "logs"]) {
        return None;
    }
    let packages = m.packages();
    let project =
        m.w.iter()
            .enumerate()
            .find(|(i, w)| m.cat.projects.contains(w) && !packages.iter().any(|p| p.at == *i))
            .map(|(i, w)| (i, w.clone()));
    let project = match project {
        Some(p) => Some(p),
        None => attempt!(m.project(0, Strictness::Forgiving)),
    };
    let Some((pi, project)) = project else {
        return when.then(|| Routed::reply(messages::ask("Which project?", "when did checkout get redis 7?")));
    };
    let mut args = json!({"project": project});
    if let Some(p) = packages.iter().find(|p| p.at != pi) {
        args["subject"] = json!(match &p.version {
            Some(v) => format!("{} {v}", p.package),
            None => p.package.clone(),
        });
    } else if when {
        // `when did orders become tier 1`: the words after the verb.
        let verbs = [
            "get", "got", "add", "added", "upgrade", "upgraded", "move", "moved", "switch", "switched", "start",
            "adopt", "become", "became", "change", "changed", "set",
        ];
        let after =
            m.w.iter().skip(pi + 1).position(|w| verbs.contains(&w.as_str())).map(|i| i + pi + 2).unwrap_or(pi + 1);
        let subject: Vec<&str> = m.w[after.min(m.w.len())..]
            .iter()
            .enumerate()
            .filter(|(i, w)| !is_stop(w) && m.free(after + i) && **w != project)
            .map(|(_, w)| w.as_str())
            .collect();
        if !subject.is_empty() {
            args["subject"] = json!(subject.join(" "));
        }
    }
    Some(Routed::call(OpKind::ProjectHistory, m.with_time(args)))
}

/// The status an incident question asks about.
fn incident_status(m: &Msg<'_>) -> Option<&'static str> {
    let negated = m.has(&["resolved", "closed", "fixed"])
        && m.has(&["not", "nobody", "yet", "isn't", "hasn't", "haven't", "aren't", "never", "still"]);
    if negated && m.has(&["acknowledged", "acked"]) {
        Some("acknowledged")
    } else if negated {
        Some("open")
    } else if m.has(&["resolved", "closed", "fixed", "past", "finished", "over"]) {
        Some("resolved")
    } else if m.has(&[
        "unacknowledged",
        "un-acked",
        "unacked",
        "un-acknowledged",
        "firing",
        "triggered",
        "unhandled",
        "nobody",
        "unclaimed",
        "unowned",
    ]) || m.phrase(&["picked", "up"])
    {
        Some("triggered")
    } else if m.has(&["acknowledged", "acked", "ack'd", "ack"]) {
        Some("acknowledged")
    } else if m.has(&[
        "open",
        "ongoing",
        "active",
        "current",
        "currently",
        "fire",
        "broken",
        "down",
        "now",
        "still",
        "unresolved",
        "live",
    ]) {
        Some("open")
    } else {
        None
    }
}

/// "what is on fire right now?", "incidents for team payments", "any open
/// incidents on refunds?", "anything broken?", "un-acked incidents for identity".
pub(super) fn incidents(m: &Msg<'_>) -> Option<Routed> {
    let about = m.has(&[
        "incident",
        "incidents",
        "incidnets",
        "outage",
        "outages",
        "firing",
        "alerts",
        "alerting",
        "pages",
        "ongoing",
        "paged",
        "sev",
        "sevs",
        "sev1",
        "sev2",
        "sev3",
    ]) || m.phrase(&["on", "fire"])
        || (m.has(&["acknowledged", "acked", "unacknowledged", "un-acked", "unacked", "triggered", "resolved"])
            && !m.has(&["runs", "run", "deliveries", "webhooks", "messages"]))
        || (m.has(&["anything", "something", "everything", "stuff"])
            && m.has(&["open", "ongoing", "active", "firing", "burning"])
            && (m.is_question() || m.phrase(&["anything", "open"]) || m.phrase(&["anything", "ongoing"])))
        || (m.has(&["broken", "down", "burning", "degraded"])
            && m.is_question()
            && !m.has(&["score", "scoring", "ci", "build", "builds", "logs", "why"]));
    if !about {
        return None;
    }
    let mut args = json!({});
    if let Some((_, t)) = attempt!(m.team(0, Strictness::Forgiving)).filter(|(i, _)| m.team_marked(*i)) {
        args["team"] = json!(t);
    } else if let Some((_, p)) = attempt!(m.project(0, Strictness::Forgiving)) {
        args["project"] = json!(p);
    } else if let Some((_, t)) = attempt!(m.team(0, Strictness::Forgiving)) {
        args["team"] = json!(t);
    }
    if let Some(s) = incident_status(m) {
        args["status"] = json!(s);
    }
    Some(Routed::call(OpKind::ListIncidents, m.with_time(args)))
}

/// "recent deployments to staging", "deploys today", "what shipped to dev
/// for login-web", "who deployed invoicing yesterday?".
pub(super) fn deployments(m: &Msg<'_>) -> Option<Routed> {
    let asks = m.has(DEPLOY_NOUNS)
        || (m.phrase(&["went", "to"]) && m.environment().is_some())
        || m.phrase(&["went", "out"])
        || m.phrase(&["go", "out"])
        || (m.has(&["ship", "shipping"]) && m.is_question());
    if !asks || m.has(&["frequency", "dora", "often"]) {
        return None;
    }
    let mut args = json!({"limit": 10});
    if let Some((_, p)) = attempt!(m.project(0, Strictness::Forgiving)) {
        args["project"] = json!(p);
    }
    if let Some(e) = m.environment() {
        args["environment"] = json!(e);
    }
    Some(Routed::call(OpKind::ListDeployments, m.with_time(args)))
}

/// Team or project scope for DORA: "for the platform team", "for orders".
fn scope(m: &Msg<'_>, args: &mut Value) -> Result<(), Routed> {
    if let Some((i, t)) = m.team(0, Strictness::Forgiving)?
        && (m.team_marked(i) || !m.cat.projects.contains(&t))
    {
        args["team"] = json!(t);
    } else if let Some((_, p)) = m.project(0, Strictness::Forgiving)? {
        args["project"] = json!(p);
    }
    Ok(())
}

pub(super) fn dora(m: &Msg<'_>) -> Option<Routed> {
    let asks = m.has(&["dora", "mttr", "mttd", "frequency", "accelerate"])
        || m.phrase(&["lead", "time"])
        || (m.phrase(&["failure", "rate"]) || m.phrase(&["fail", "rate"])) && !m.has(&["ci", "build", "builds"])
        || m.phrase(&["key", "metrics"])
        || m.phrase(&["deployment", "frequency"])
        || m.phrase(&["time", "to", "restore"])
        || m.phrase(&["time", "to", "recovery"])
        || m.phrase(&["time", "to", "recover"])
        || (m.phrase(&["how", "often"]) && m.has(&["deploy", "deploys", "ship", "release"]));
    if !asks {
        return None;
    }
    let mut args = json!({});
    if let Err(r) = scope(m, &mut args) {
        return Some(r);
    }
    Some(Routed::call(OpKind::Dora, since_only(m, args)))
}

pub(super) fn ci_health(m: &Msg<'_>) -> Option<Routed> {
    let ci = m.has(&["ci", "build", "builds", "pipeline", "pipelines", "workflow", "workflows", "tests", "test"])
        || (m.has(&["main", "master"]) && m.has(&["green", "red", "broken", "passing"]));
    let how = m.has(&[
        "health",
        "healthy",
        "how",
        "how's",
        "flaky",
        "flakey",
        "flakiness",
        "failing",
        "fail",
        "slow",
        "slowest",
        "status",
        "green",
        "red",
        "duration",
        "durations",
        "long",
        "take",
        "takes",
        "times",
        "time",
        "broken",
        "rate",
        "passing",
        "stable",
        "looking",
        "main",
        "master",
        "last",
    ]);
    if !(ci && (how || m.has(&["ci"]))) || m.first_is(&["record", "log", "note"]) {
        return None;
    }
    match attempt!(m.project(0, Strictness::Forgiving)) {
        Some((_, p)) => Some(Routed::call(OpKind::CiHealth, since_only(m, json!({"project": p})))),
        None => Some(Routed::reply(messages::ask("Which project's CI?", "how is CI for orders?"))),
    }
}

pub(super) fn score(m: &Msg<'_>) -> Option<Routed> {
    if !m.has(&[
        "score",
        "scores",
        "scorecard",
        "health",
        "healthy",
        "maturity",
        "grade",
        "rating",
        "rated",
        "scored",
        "scoring",
    ]) {
        return None;
    }
    match attempt!(m.project(0, Strictness::Forgiving)) {
        Some((_, p)) => Some(Routed::call(OpKind::ProjectScore, json!({"project": p}))),
        None => Some(Routed::reply(messages::ask("Which project?", "score of orders"))),
    }
}

/// "what version of redis does checkout use", "which tokio is sessions on",
/// "orders — what lodash version?": one project and one package.
pub(super) fn get_dependency(m: &Msg<'_>) -> Option<Routed> {
    let packages = m.packages();
    let package = packages.first()?;
    let (pi, project) = attempt!(m.project(0, Strictness::Forgiving))?;
    if pi == package.at || m.has(&["projects", "services", "repos", "who", "everything", "anything", "anyone"]) {
        return None;
    }
    Some(Routed::call(OpKind::GetDependency, json!({"project": project, "package": package.package})))
}

/// "who is still on redis 6.2.14?", "anything depending on react@17.0.2?",
/// "where is serde used", a bare "redis 6.2.14?".
pub(super) fn dependents(m: &Msg<'_>) -> Option<Routed> {
    let packages = m.packages();
    let (package, version) = match packages.first() {
        Some(p) => (p.package.clone(), p.version.clone()),
        None => {
            if !m.has(&["use", "uses", "using", "depend", "depends", "depending", "dependents"]) {
                return None;
            }
            let start =
                m.pos_any(&["use", "uses", "using", "depend", "depends", "depending", "dependents"]).unwrap_or(0);
            let found = attempt!(m.package(start, Strictness::Forgiving));
            match found {
                Some((_, p)) => (p, None),
                None => {
                    let word = m.w.iter().skip(start + 1).find(|w| !is_stop(w) && !is_version(w));
                    return Some(Routed::reply(match word {
                        Some(w) => format!("No project in the graph uses {w}."),
                        None => messages::ask("Which package?", "which projects use left-pad 1.2.3?"),
                    }));
                }
            }
        }
    };
    let mut args = json!({"package": package});
    if let Some(v) = version {
        args["version"] = json!(v);
    }
    let transitive_excluded = m.phrase(&["not", "transitive"]) || m.phrase(&["not", "transitively"]);
    if m.has(&["directly", "direct", "declare", "declares", "declaring", "manifest", "manifests"])
        || transitive_excluded
    {
        args["direct_only"] = json!(true);
    }
    Some(Routed::call(OpKind::Dependents, args))
}
