//! Questions: about a package's dependents and one project's use of it,
//! history, deployments, incidents, environments compared, DORA, CI, score,
//! on-call, owners, teams and searches — and, when no verb says which, the
//! kinds of names in the message decide.

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

/// `since`/`until` when the message says a time.
fn timed(m: &Msg<'_>, args: Value) -> Value {
    m.with_time(args)
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
    Some(Routed::call(OpKind::ListDeployments, timed(m, args)))
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
    Some(Routed::call(OpKind::ProjectHistory, timed(m, args)))
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
    Some(Routed::call(OpKind::ListIncidents, timed(m, args)))
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
    Some(Routed::call(OpKind::ListDeployments, timed(m, args)))
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

/// "who's on call for identity" (a team), "who is on-call for orders" (a
/// project's `oncall` fact).
pub(super) fn on_call(m: &Msg<'_>) -> Option<Routed> {
    let asks = m.phrase(&["on", "call"]) || m.has(&["on-call", "oncall", "pager", "rotation"]);
    if !asks || m.first_is(&["set", "make", "change", "update", "put", "mark"]) {
        return None;
    }
    project_or_team(m)
}

/// A project, or a team (a word naming both is the project unless "team"
/// is said next to it).
fn project_or_team(m: &Msg<'_>) -> Option<Routed> {
    if let Some((i, t)) = attempt!(m.team(0, Strictness::Forgiving))
        && (m.team_marked(i) || !m.cat.projects.contains(&t))
        && (m.team_marked(i) || m.project(0, Strictness::Exact).ok().flatten().is_none())
    {
        return Some(Routed::call(OpKind::GetTeam, json!({"team": t})));
    }
    if let Some((_, p)) = attempt!(m.project(0, Strictness::Forgiving)) {
        return Some(Routed::call(OpKind::GetProject, json!({"project": p})));
    }
    let (_, t) = attempt!(m.team(0, Strictness::Forgiving))?;
    Some(Routed::call(OpKind::GetTeam, json!({"team": t})))
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

/// "who owns payments-api", "which team is responsible for refunds".
pub(super) fn owner(m: &Msg<'_>) -> Option<Routed> {
    if !m.has(&[
        "owns",
        "owner",
        "owners",
        "responsible",
        "maintains",
        "maintainer",
        "maintainers",
        "own",
        "owning",
        "owned",
    ]) && !m.phrase(&["looks", "after"])
        && !m.phrase(&["look", "after"])
        && !m.phrase(&["point", "of", "contact"])
    {
        return None;
    }
    // "what does growth own and who's in the team": the team, members and projects.
    let members = m.has(&["members", "people", "roster"]) || m.phrase(&["in", "the", "team"]);
    if members && let Some((_, t)) = attempt!(m.team(0, Strictness::Forgiving)) {
        return Some(Routed::call(OpKind::GetTeam, json!({"team": t})));
    }
    // "what does team data own", "which projects does payments own": a team's projects.
    let project = attempt!(m.project(0, Strictness::Exact));
    let team = attempt!(m.team(0, Strictness::Forgiving));
    // "who owns payments?" (a team): the team itself; a name that is both a
    // team and a project is the team when asked "who".
    if let Some((_, t)) = &team
        && (project.is_none() || project.as_ref().is_some_and(|(_, p)| p == t))
        && m.first_is(&["who", "who's", "whos"])
    {
        return Some(Routed::call(OpKind::GetTeam, json!({"team": t})));
    }
    if let Some((i, t)) = team
        && (m.team_marked(i) || project.is_none() || m.has(&["does", "do"]))
        && (project.is_none() || m.team_marked(i) || m.has(&["does", "do"]))
    {
        let mut args = json!({"team": t});
        if let Some(ty) = project_type(m) {
            args["project_type"] = json!(ty);
        }
        return Some(Routed::call(OpKind::FindProjects, args));
    }
    match attempt!(m.project(0, Strictness::Forgiving)) {
        Some((_, p)) => Some(Routed::call(OpKind::GetProject, json!({"project": p}))),
        None => {
            let word = m.w.iter().rev().find(|w| !is_stop(w) && !["owns", "owner", "owners"].contains(&w.as_str()));
            Some(Routed::reply(match word {
                Some(w) => messages::unknown("project or team", w, &m.cat.projects.with_prefix(w, 5)),
                None => messages::ask("Which project?", "who owns payments-api?"),
            }))
        }
    }
}

/// A team's own words — channel, members, roster — name the team even
/// beside words of other questions ("what channel do I use to reach identity?").
pub(super) fn team_strong(m: &Msg<'_>) -> Option<Routed> {
    if !m.has(&["channel", "channels", "members", "roster", "membership"]) || m.has(&["teams"]) {
        return None;
    }
    named_team(m)
}

/// "who is in payments", "members of growth", "which slack channel is growth in".
pub(super) fn team(m: &Msg<'_>) -> Option<Routed> {
    let asks = m.has(&[
        "members", "member", "people", "who's", "whos", "who", "channel", "channels", "slack", "discord", "team",
        "roster", "folks",
    ]);
    if !asks || m.has(&["teams", "projects", "services", "repos"]) || project_type(m).is_some() {
        return None;
    }
    named_team(m)
}

fn named_team(m: &Msg<'_>) -> Option<Routed> {
    let (i, t) = attempt!(m.team(0, Strictness::Forgiving))?;
    // A word naming a project too is the team only with a team's words.
    let team_words = m.has(&["members", "member", "people", "channel", "channels", "roster", "folks", "team"]);
    if m.cat.projects.contains(&t) && !m.team_marked(i) && !team_words {
        return None;
    }
    Some(Routed::call(OpKind::GetTeam, json!({"team": t})))
}

pub(super) fn teams(m: &Msg<'_>) -> Option<Routed> {
    let asks = m.has(&["teams"]) && attempt!(m.team(0, Strictness::Exact)).is_none();
    let each = m.phrase(&["each", "team"]) || m.phrase(&["every", "team"]) || m.phrase(&["per", "team"]);
    (asks || each).then(|| Routed::call(OpKind::ListTeams, json!({})))
}

/// The project type a word names, singular or plural.
fn project_type_of(m: &Msg<'_>, w: &str) -> Option<String> {
    let singular = match w {
        "libraries" | "libs" => "library".to_owned(),
        w if w.ends_with('s') && w.len() > 3 => w[..w.len() - 1].to_owned(),
        w => w.to_owned(),
    };
    m.cat.project_types.contains(&singular).then_some(singular)
}

/// A project type said in the singular or plural: `api`, `apis`, `libraries`.
fn project_type(m: &Msg<'_>) -> Option<String> {
    // `frontend-type`, `api-projects`: the type before the dash.
    let words: Vec<String> =
        m.w.iter()
            .map(|w| match w.split_once('-') {
                Some((t, rest)) if ["type", "types", "projects", "services", "based"].contains(&rest) => t.to_owned(),
                _ => w.clone(),
            })
            .collect();
    words.iter().find_map(|w| {
        let singular = match w.as_str() {
            "libraries" | "libs" | "lib" => "library".to_owned(),
            w if w.ends_with('s') && w.len() > 3 => w[..w.len() - 1].to_owned(),
            w => w.to_owned(),
        };
        m.cat.project_types.contains(&singular).then_some(singular)
    })
}

/// Words of a search request that are not what is searched for.
const QUERY_NOISE: &[&str] = &[
    "projects",
    "project",
    "services",
    "service",
    "repos",
    "repo",
    "for",
    "search",
    "find",
    "handles",
    "handle",
    "handling",
    "stuff",
    "things",
    "thing",
    "deals",
    "does",
    "responsible",
    "related",
    "something",
    "anything",
    "owns",
    "looks",
    "after",
    "takes",
    "care",
    "matching",
    "named",
    "called",
    "like",
    "to",
    "catalogue",
    "catalog",
    "somewhere",
    "name",
    "remember",
    "rember",
];

/// "list all consumers owned by data", "find projects about ledger", "all frontends".
pub(super) fn find(m: &Msg<'_>) -> Option<Routed> {
    let verb = m.first_is(&["find", "search", "look", "list", "show", "all", "every", "which", "what", "any"]);
    let ty = project_type(m);
    let nouns = m.has(&["projects", "project", "services", "service", "repos", "repo", "anything", "app", "apps"]);
    if !(verb || nouns || ty.is_some()) || (!nouns && ty.is_none() && !m.first_is(&["find", "search", "look"])) {
        return None;
    }
    // A named project is not searched for: `the directory-sync job` is that project.
    let plural_type = m.w.iter().any(|w| w.ends_with('s') && project_type_of(m, w).is_some());
    if attempt!(m.project(0, Strictness::Exact)).is_some() && !m.has(&["projects", "services", "repos"]) && !plural_type
    {
        return None;
    }
    let mut args = json!({});
    if let Some(t) = &ty {
        args["project_type"] = json!(t);
    }
    if let Some((_, t)) = attempt!(m.team(0, Strictness::Forgiving)) {
        args["team"] = json!(t);
    }
    let quoted = m
        .raw
        .iter()
        .find(|w| w.starts_with('\'') || w.starts_with('"'))
        .map(|w| w.trim_matches(['\'', '"']).to_lowercase());
    let after = ["about", "matching", "related", "with", "for", "named", "called", "like", "mentioning", "containing"]
        .iter()
        .find_map(|k| m.pos(k))
        .and_then(|i| {
            m.w.iter().skip(i + 1).find(|w| !is_stop(w) && !["to", "projects", "project"].contains(&w.as_str()))
        })
        .cloned();
    let colon = m.raw.iter().position(|w| w.ends_with(':')).and_then(|i| m.w.get(i + 1)).cloned();
    if ty.is_none() && args.get("team").is_none() {
        let query = quoted.or(after).or(colon).or_else(|| {
            let words: Vec<&str> =
                m.w.iter().skip(1).map(String::as_str).filter(|w| !is_stop(w) && !QUERY_NOISE.contains(w)).collect();
            (!words.is_empty()).then(|| words.join(" "))
        });
        if let Some(q) = query {
            // `ledger-related`, `payments-ish`: the word itself.
            let q: Vec<&str> = q
                .split_whitespace()
                .map(|w| w.trim_end_matches("-related").trim_end_matches("-ish").trim_end_matches("-y-ish"))
                .collect();
            args["query"] = json!(q.join(" "));
        }
    }
    Some(Routed::call(OpKind::FindProjects, args))
}

/// "tell me about refunds", "what is refunds", "describe the payments team".
pub(super) fn show_project(m: &Msg<'_>) -> Option<Routed> {
    let asks = m
        .first_is(&["show", "describe", "info", "about", "tell", "what", "whats", "what's", "details", "overview"])
        || m.has(&[
            "about", "details", "overview", "summary", "info", "belong", "belongs", "rundown", "lowdown", "exactly",
        ])
        || m.phrase(&["what", "is"])
        || m.phrase(&["what's"]);
    if !asks {
        return None;
    }
    project_or_team(m)
}

/// No verb said which: the kinds of names decide. A package (with or
/// without a version) alone asks for its dependents, a project alone for the
/// project, a team alone for the team.
pub(super) fn by_entities(m: &Msg<'_>) -> Option<Routed> {
    if let Some(p) = m.packages().first() {
        let mut args = json!({"package": p.package});
        if let Some(v) = &p.version {
            args["version"] = json!(v);
        }
        return Some(Routed::call(OpKind::Dependents, args));
    }
    let content: Vec<&String> = m.w.iter().filter(|w| !is_stop(w)).collect();
    if content.len() > 4 {
        return None;
    }
    project_or_team(m)
}
