//! Who owns what and where things are: owners, teams, on-call, searches,
//! a project or team shown — and, when no verb says which, the kinds of
//! names in the message decide.

use serde_json::json;
use switchboard_core::ops::OpKind;

use super::{Msg, Routed, Strictness, attempt, is_stop};
use crate::messages;

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
