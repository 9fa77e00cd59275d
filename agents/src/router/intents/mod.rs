//! Free-text intents, tried in order; the first that recognises the message
//! wins. Each reads the cleaned words and resolves names in the catalog.

mod accounts;
mod imports;
mod logs;
mod mailboxes;
mod runs;

use serde_json::{Value, json};
use switchboard_core::ops::OpKind;

use super::Routed;
use super::catalog::{Catalog, Names, Resolved};
use super::text::{Cleaned, is_version};
use crate::messages;

/// Words that are never names.
const STOP: &[&str] = &[
    "a",
    "an",
    "the",
    "to",
    "in",
    "on",
    "of",
    "for",
    "me",
    "my",
    "please",
    "is",
    "are",
    "was",
    "were",
    "what",
    "which",
    "who",
    "when",
    "did",
    "does",
    "do",
    "get",
    "got",
    "with",
    "from",
    "using",
    "use",
    "uses",
    "used",
    "and",
    "version",
    "project",
    "projects",
    "team",
    "teams",
    "it",
    "all",
    "everything",
    "everywhere",
    "that",
    "this",
    "there",
    "new",
    "can",
    "you",
    "i",
    "we",
    "our",
    "us",
    "be",
    "by",
    "at",
    "its",
    "it's",
    "whats",
    "what's",
    "now",
    "currently",
    "show",
    "tell",
    "about",
    "info",
    "give",
    "list",
    "any",
    "some",
    "have",
    "has",
    "had",
    "need",
    "needs",
    "should",
    "would",
    "could",
    "hey",
    "hi",
    "thanks",
    "so",
    "how",
    "into",
    "as",
    "called",
    "named",
    "run",
    "runs",
];

fn is_stop(w: &str) -> bool {
    STOP.contains(&w)
}

/// Read-only operations may take a unique close match; changes must be exact.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Strictness {
    Forgiving,
    Exact,
}

struct Msg<'a> {
    w: &'a [String],
    raw: &'a [String],
    cat: &'a Catalog,
}

impl<'a> Msg<'a> {
    fn has(&self, any: &[&str]) -> bool {
        self.w.iter().any(|w| any.contains(&w.as_str()))
    }

    fn pos(&self, word: &str) -> Option<usize> {
        self.w.iter().position(|w| w == word)
    }

    fn first_is(&self, any: &[&str]) -> bool {
        self.w.first().is_some_and(|w| any.contains(&w.as_str()))
    }

    fn starts_with(&self, phrase: &[&str]) -> bool {
        self.w.len() >= phrase.len() && self.w.iter().zip(phrase).all(|(a, b)| a == b)
    }

    /// The word after `word`, if any.
    fn after(&self, word: &str) -> Option<&'a str> {
        self.pos(word).and_then(|i| self.w.get(i + 1)).map(String::as_str)
    }

    /// The first word (from `start`) naming something in `names`: exact names
    /// first, then close ones.
    fn find(&self, names: &Names, start: usize) -> Option<(usize, Resolved)> {
        let candidates = || self.w.iter().enumerate().skip(start).filter(|(_, w)| !is_stop(w));
        for (i, w) in candidates() {
            if names.contains(w) {
                return Some((i, Resolved::Exact(w.clone())));
            }
        }
        for (i, w) in candidates() {
            if let r @ Resolved::Close(_) = names.resolve(w) {
                return Some((i, r));
            }
        }
        None
    }

    fn project(&self, start: usize, strict: Strictness) -> Result<Option<(usize, String)>, Routed> {
        pick(self.find(&self.cat.projects, start), "project", strict)
    }

    fn team(&self, start: usize, strict: Strictness) -> Result<Option<(usize, String)>, Routed> {
        pick(self.find(&self.cat.teams, start), "team", strict)
    }

    fn package(&self, start: usize, strict: Strictness) -> Result<Option<(usize, String)>, Routed> {
        pick(self.find(&self.cat.packages, start), "package", strict)
    }

    fn environment(&self) -> Option<String> {
        for w in self.w {
            if let Some(e) = self.cat.environment(w) {
                return Some(e);
            }
        }
        None
    }

    /// Version words from `start` on.
    fn versions(&self, start: usize) -> Vec<(usize, String)> {
        self.w.iter().enumerate().skip(start).filter(|(_, w)| is_version(w)).map(|(i, w)| (i, w.clone())).collect()
    }

    fn run_id(&self) -> Option<&'a str> {
        self.w.iter().find(|w| w.len() == 36 && w.matches('-').count() == 4).map(String::as_str)
    }

    /// Raw words after position `i`, joined.
    fn rest_raw(&self, i: usize) -> String {
        self.raw.get(i + 1..).map(|r| r.join(" ")).unwrap_or_default()
    }
}

fn pick(found: Option<(usize, Resolved)>, what: &str, strict: Strictness) -> Result<Option<(usize, String)>, Routed> {
    match found {
        None => Ok(None),
        Some((i, Resolved::Exact(n))) => Ok(Some((i, n))),
        Some((i, Resolved::Close(c))) if c.len() == 1 && strict == Strictness::Forgiving => Ok(Some((i, c[0].clone()))),
        Some((_, Resolved::Close(c))) => {
            Err(Routed::reply(format!("I'm not sure which {what} you mean. Did you mean {}?", c.join(", "))))
        }
        Some((_, Resolved::Unknown)) => Ok(None),
    }
}

/// A version as the graph spells it: `v1.2.3` → `1.2.3`, except for Go
/// modules, whose versions keep their `v`.
fn version_for(package: &str, v: &str) -> String {
    let v = v.trim_start_matches(['^', '~', '=']);
    let go = package.contains('/') && package.contains('.');
    if go { v.to_owned() } else { v.strip_prefix('v').unwrap_or(v).to_owned() }
}

type Intent = fn(&Msg<'_>) -> Option<Routed>;

/// The intents, most specific first.
const INTENTS: &[Intent] = &[
    help,
    accounts::sign_out,
    accounts::role,
    accounts::email,
    accounts::disable_or_enable,
    accounts::list,
    mailboxes::replay,
    mailboxes::retry,
    mailboxes::deliveries,
    mailboxes::outbox,
    logs::rollback,
    logs::investigate,
    logs::check_logs,
    imports::github_import,
    imports::sbom_howto,
    imports::catalog_howto,
    imports::manifests_howto,
    imports::dependency_source,
    runs::approvals,
    runs::decide,
    upgrade,
    when_did,
    scaffold,
    deploy,
    create_team,
    set_fact,
    archive,
    dependents,
    owner,
    runs::show_run,
    incidents,
    dora,
    deployments,
    ci_health,
    score,
    history,
    team,
    teams,
    find,
    show_project,
    lone_name,
];

pub(super) fn route(c: &Cleaned, cat: &Catalog) -> Routed {
    let m = Msg { w: &c.words, raw: &c.raw, cat };
    for intent in INTENTS {
        if let Some(r) = intent(&m) {
            return r;
        }
    }
    let close = m.w.iter().filter(|w| !is_stop(w)).find_map(|w| {
        [&cat.projects, &cat.teams, &cat.packages].into_iter().find_map(|n| match n.resolve(w) {
            Resolved::Close(c) => Some(c[0].clone()),
            _ => None,
        })
    });
    Routed::reply(messages::cannot_tell(close.as_deref()))
}

fn try_or<T>(r: Result<T, Routed>) -> Result<T, Option<Routed>> {
    r.map_err(Some)
}

macro_rules! attempt {
    ($e:expr) => {
        match try_or($e) {
            Ok(v) => v,
            Err(reply) => return reply,
        }
    };
}

fn help(m: &Msg<'_>) -> Option<Routed> {
    let asks = m.w.len() <= 4 && m.has(&["help", "commands", "usage"]);
    (asks || m.starts_with(&["what", "can", "you", "do"])).then(|| Routed::reply(messages::help()))
}

fn upgrade(m: &Msg<'_>) -> Option<Routed> {
    let verb = m.w.iter().position(|w| ["upgrade", "update", "bump"].contains(&w.as_str()))?;
    let Some((pi, package)) = attempt!(m.package(verb + 1, Strictness::Exact)) else {
        return Some(Routed::reply(messages::ask(
            "Which package should I upgrade, and to which version?",
            "update everything using left-pad 1.2.3 to 1.3.0",
        )));
    };
    let versions = m.versions(pi + 1);
    let from_word = m.pos("from").and_then(|i| m.w.get(i + 1)).filter(|w| is_version(w)).cloned();
    let to = match versions.last() {
        Some((_, v)) => version_for(&package, v),
        None => {
            return Some(Routed::reply(messages::ask(
                &format!("Which version should {package} be upgraded to?"),
                &format!("upgrade {package} to 2.0.0"),
            )));
        }
    };
    let from =
        from_word.or_else(|| (versions.len() >= 2).then(|| versions[0].1.clone())).map(|v| version_for(&package, &v));
    let mut args = json!({"package": package, "to": to});
    if let Some(f) = from {
        args["from"] = json!(f);
    }
    let scoped = m.pos("in").or_else(|| m.pos("for")).map(|i| i + 1);
    if let Some(start) = scoped
        && let Some((_, p)) = attempt!(m.project(start, Strictness::Exact))
    {
        args["project"] = json!(p);
    }
    Some(Routed::call(OpKind::UpgradeDependency, args))
}

fn when_did(m: &Msg<'_>) -> Option<Routed> {
    if !m.first_is(&["when"]) {
        return None;
    }
    let Some((pi, project)) = attempt!(m.project(1, Strictness::Forgiving)) else {
        return Some(Routed::reply(messages::ask("Which project?", "when did checkout get redis 7?")));
    };
    let verbs =
        ["get", "got", "add", "added", "upgrade", "upgraded", "move", "moved", "switch", "switched", "start", "adopt"];
    let after = m.w.iter().skip(pi + 1).position(|w| verbs.contains(&w.as_str())).map(|i| i + pi + 2).unwrap_or(pi + 1);
    let subject: Vec<&str> = m.w[after.min(m.w.len())..].iter().map(String::as_str).filter(|w| !is_stop(w)).collect();
    let mut args = json!({"project": project});
    if !subject.is_empty() {
        args["subject"] = json!(subject.join(" "));
    }
    Some(Routed::call(OpKind::ProjectHistory, args))
}

fn scaffold(m: &Msg<'_>) -> Option<Routed> {
    let verb = m.first_is(&["create", "make", "start", "scaffold", "bootstrap", "new", "set"]) || m.has(&["new"]);
    let noun = m.has(&["project", "service", "repo", "repository", "app"]);
    if !(verb && (noun || m.first_is(&["scaffold"]))) || m.starts_with(&["create", "team"]) {
        return None;
    }
    let template = m.w.iter().find(|w| m.cat.templates.contains(w)).cloned();
    let Some(template) = template else {
        let known = m.cat.templates.with_prefix("", 20).join(", ");
        return Some(Routed::reply(messages::ask(
            &format!("Which template should the new project use? Available: {known}."),
            "create a new consumer project called invoice-consumer",
        )));
    };
    let name = m.after("called").or_else(|| m.after("named")).map(str::to_owned);
    let Some(name) = name else {
        return Some(Routed::reply(messages::ask(
            &format!("What should the new {template} project be called?"),
            &format!("create a new {template} project called invoice-{template}"),
        )));
    };
    let mut args = json!({"name": name, "template": template});
    if let Some(i) = m.pos("team").or_else(|| m.pos("for"))
        && let Some((_, t)) = attempt!(m.team(i + 1, Strictness::Exact))
    {
        args["team"] = json!(t);
    }
    Some(Routed::call(OpKind::ScaffoldProject, args))
}

fn deploy(m: &Msg<'_>) -> Option<Routed> {
    let verb =
        m.w.iter()
            .position(|w| ["deploy", "ship", "release", "promote", "rollout", "redeploy"].contains(&w.as_str()))?;
    let Some((pi, project)) = attempt!(m.project(verb + 1, Strictness::Exact)) else {
        return Some(Routed::reply(messages::ask("Which project should I deploy?", "deploy orders to staging")));
    };
    let Some(env) = m.environment() else {
        let envs = m.cat.environments.with_prefix("", 10).join(", ");
        return Some(Routed::reply(messages::ask(
            &format!("Where should I deploy {project}? Environments: {envs}."),
            &format!("deploy {project} to staging"),
        )));
    };
    let mut args = json!({"project": project, "environment": env});
    if let Some((_, v)) = m.versions(pi + 1).first() {
        args["version"] = json!(v);
    }
    Some(Routed::call(OpKind::Deploy, args))
}

fn create_team(m: &Msg<'_>) -> Option<Routed> {
    if !(m.starts_with(&["create", "team"]) || m.starts_with(&["new", "team"])) {
        return None;
    }
    match m.w.get(2) {
        Some(slug) => Some(Routed::call(OpKind::CreateTeam, json!({"slug": slug}))),
        None => Some(Routed::reply(messages::ask("What should the team be called?", "create team risk"))),
    }
}

fn set_fact(m: &Msg<'_>) -> Option<Routed> {
    if !m.first_is(&["set"]) {
        return None;
    }
    let Some((pi, project)) = attempt!(m.project(1, Strictness::Exact)) else {
        return Some(Routed::reply(messages::ask("Which project?", "set tier of orders to 1")));
    };
    // The key is the first other word that is not a stop word; the value follows "to" (or is last).
    let to = m.pos("to");
    let key =
        m.w.iter()
            .enumerate()
            .skip(1)
            .find(|(i, w)| *i != pi && Some(*i) != to && !is_stop(w) && to.is_none_or(|t| *i < t));
    let Some((ki, key)) = key else {
        return Some(Routed::reply(messages::ask("Which fact?", &format!("set tier of {project} to 1"))));
    };
    let (key, value) = match key.split_once('=') {
        Some((k, v)) => (k.to_owned(), v.to_owned()),
        None => {
            let value = match to {
                Some(t) => m.rest_raw(t),
                None => m
                    .raw
                    .get(ki + 1..)
                    .map(|r| {
                        r.iter().filter(|w| !w.eq_ignore_ascii_case(&project)).cloned().collect::<Vec<_>>().join(" ")
                    })
                    .unwrap_or_default(),
            };
            (key.clone(), value)
        }
    };
    if value.is_empty() {
        return Some(Routed::reply(messages::ask(
            &format!("What should {key} be?"),
            &format!("set {key} of {project} to 1"),
        )));
    }
    Some(Routed::call(OpKind::SetFact, json!({"project": project, "key": key, "value": value})))
}

fn archive(m: &Msg<'_>) -> Option<Routed> {
    if !m.first_is(&["archive"]) {
        return None;
    }
    match attempt!(m.project(1, Strictness::Exact)) {
        Some((_, p)) => Some(Routed::call(OpKind::ArchiveProject, json!({"project": p}))),
        None => Some(Routed::reply(messages::ask("Which project should I archive?", "archive old-reports"))),
    }
}

fn dependents(m: &Msg<'_>) -> Option<Routed> {
    if !m.has(&["use", "uses", "using", "depend", "depends", "depending", "dependents"]) {
        return None;
    }
    let start = m
        .w
        .iter()
        .position(|w| ["use", "uses", "using", "depend", "depends", "depending", "dependents"].contains(&w.as_str()))
        .unwrap_or(0);
    let found = attempt!(m.package(start, Strictness::Forgiving)).or(attempt!(m.package(0, Strictness::Forgiving)));
    let Some((pi, package)) = found else {
        let word = m.w.iter().skip(start + 1).find(|w| !is_stop(w) && !is_version(w));
        return Some(Routed::reply(match word {
            Some(w) => format!("No project in the graph uses {w}."),
            None => messages::ask("Which package?", "which projects use left-pad 1.2.3?"),
        }));
    };
    let mut args = json!({"package": package});
    if let Some((_, v)) = m.versions(pi + 1).first() {
        args["version"] = json!(version_for(&package, v));
    }
    // "directly", "declare", "in their manifest": only projects that declare it.
    if m.has(&["directly", "direct", "declare", "declares", "declaring", "manifest", "manifests"]) {
        args["direct_only"] = json!(true);
    }
    Some(Routed::call(OpKind::Dependents, args))
}

/// A project, or failing that a team, named from `start` on (reads only).
fn project_or_team(m: &Msg<'_>, start: usize) -> Result<Option<(OpKind, Value)>, Routed> {
    if let Some((_, p)) = m.project(start, Strictness::Forgiving)? {
        return Ok(Some((OpKind::GetProject, json!({"project": p}))));
    }
    if let Some((_, t)) = m.team(start, Strictness::Forgiving)? {
        return Ok(Some((OpKind::GetTeam, json!({"team": t}))));
    }
    Ok(None)
}

fn owner(m: &Msg<'_>) -> Option<Routed> {
    if !m.has(&["owns", "owner", "owners", "responsible", "maintains", "maintainer", "maintainers"]) {
        return None;
    }
    // A team name answers with the team; a project with its owner.
    if let Some((_, t)) = m.w.iter().enumerate().find(|(_, w)| m.cat.teams.contains(w) && !m.cat.projects.contains(w)) {
        return Some(Routed::call(OpKind::GetTeam, json!({"team": t})));
    }
    match attempt!(project_or_team(m, 0)) {
        Some((op, args)) => Some(Routed::call(op, args)),
        None => {
            let word = m.w.iter().rev().find(|w| !is_stop(w) && !["owns", "owner", "owners"].contains(&w.as_str()));
            Some(Routed::reply(match word {
                Some(w) => {
                    let close = m.cat.projects.with_prefix(w, 5);
                    messages::unknown("project or team", w, &close)
                }
                None => messages::ask("Which project?", "who owns payments-api?"),
            }))
        }
    }
}

fn status_word(m: &Msg<'_>) -> Option<&'static str> {
    ["triggered", "acknowledged", "resolved"].into_iter().find(|s| m.has(&[s]))
}

fn incidents(m: &Msg<'_>) -> Option<Routed> {
    if !m.has(&["incident", "incidents", "outage", "outages", "pages", "paged"]) {
        return None;
    }
    let mut args = json!({});
    if let Some((_, p)) = attempt!(m.project(0, Strictness::Forgiving)) {
        args["project"] = json!(p);
    } else if let Some((_, t)) = attempt!(m.team(0, Strictness::Forgiving)) {
        args["team"] = json!(t);
    }
    if let Some(s) = status_word(m) {
        args["status"] = json!(s);
    }
    Some(Routed::call(OpKind::ListIncidents, args))
}

fn deployments(m: &Msg<'_>) -> Option<Routed> {
    let asks =
        m.has(&["deployments", "deploys", "deployed", "running"]) || (m.has(&["version"]) && m.environment().is_some());
    if !asks {
        return None;
    }
    let mut args = json!({"limit": 10});
    if let Some((_, p)) = attempt!(m.project(0, Strictness::Forgiving)) {
        args["project"] = json!(p);
    }
    if let Some(e) = m.environment() {
        args["environment"] = json!(e);
    }
    Some(Routed::call(OpKind::ListDeployments, args))
}

fn dora(m: &Msg<'_>) -> Option<Routed> {
    let asks = m.has(&["dora", "frequency", "lead", "mttr", "restore"])
        || (m.has(&["failure"]) && m.has(&["change", "rate"]) && !m.has(&["ci", "build", "builds"]));
    if !asks {
        return None;
    }
    let mut args = json!({});
    if let Some((_, t)) = attempt!(m.team(0, Strictness::Forgiving)) {
        args["team"] = json!(t);
    } else if let Some((_, p)) = attempt!(m.project(0, Strictness::Forgiving)) {
        args["project"] = json!(p);
    }
    Some(Routed::call(OpKind::Dora, args))
}

fn ci_health(m: &Msg<'_>) -> Option<Routed> {
    let ci = m.has(&["ci", "build", "builds", "pipeline", "pipelines"]);
    if !(ci
        && (m.has(&["health", "healthy", "how", "flaky", "failing", "slow", "status", "green", "red"])
            || m.has(&["ci"])))
    {
        return None;
    }
    match attempt!(m.project(0, Strictness::Forgiving)) {
        Some((_, p)) => Some(Routed::call(OpKind::CiHealth, json!({"project": p}))),
        None => Some(Routed::reply(messages::ask("Which project's CI?", "how is CI for orders?"))),
    }
}

fn score(m: &Msg<'_>) -> Option<Routed> {
    if !m.has(&["score", "health", "healthy", "scorecard"]) {
        return None;
    }
    match attempt!(m.project(0, Strictness::Forgiving)) {
        Some((_, p)) => Some(Routed::call(OpKind::ProjectScore, json!({"project": p}))),
        None => Some(Routed::reply(messages::ask("Which project?", "score of orders"))),
    }
}

fn history(m: &Msg<'_>) -> Option<Routed> {
    if !m.has(&["history", "happened", "changes", "changed", "changelog", "timeline"]) {
        return None;
    }
    let Some((_, p)) = attempt!(m.project(0, Strictness::Forgiving)) else {
        return Some(Routed::reply(messages::ask("Which project?", "history of orders")));
    };
    let mut args = json!({"project": p});
    // "in the last 7 days"
    if let Some(i) = m.pos("last")
        && let (Some(n), Some(unit)) = (m.w.get(i + 1).and_then(|n| n.parse::<u32>().ok()), m.w.get(i + 2))
    {
        let u = match unit.trim_end_matches('s') {
            "day" => Some('d'),
            "hour" => Some('h'),
            "week" => Some('w'),
            _ => None,
        };
        if let Some(u) = u {
            args["since"] = json!(format!("{n}{u}"));
        }
    }
    Some(Routed::call(OpKind::ProjectHistory, args))
}

fn team(m: &Msg<'_>) -> Option<Routed> {
    let asks = m.has(&["members", "member", "team", "on", "in"]) && (m.has(&["who", "members", "team"]));
    if !asks {
        return None;
    }
    let (_, t) = attempt!(m.team(0, Strictness::Forgiving))?;
    Some(Routed::call(OpKind::GetTeam, json!({"team": t})))
}

fn teams(m: &Msg<'_>) -> Option<Routed> {
    (m.has(&["teams"]) && m.w.len() <= 4).then(|| Routed::call(OpKind::ListTeams, json!({})))
}

fn find(m: &Msg<'_>) -> Option<Routed> {
    let verb = m.first_is(&["find", "search", "look", "list", "show"]);
    if !(verb || m.has(&["projects"])) {
        return None;
    }
    let mut args = json!({});
    if let Some(i) = m.pos("by").or_else(|| m.pos("owned")) {
        if let Some((_, t)) = attempt!(m.team(i, Strictness::Forgiving)) {
            args["team"] = json!(t);
        }
    } else if m.has(&["projects"])
        && let Some((_, t)) = attempt!(m.team(0, Strictness::Forgiving))
    {
        args["team"] = json!(t);
    }
    if let Some(t) = m.w.iter().find(|w| m.cat.project_types.contains(w)) {
        args["project_type"] = json!(t);
    }
    if args.as_object().is_some_and(|a| a.is_empty()) {
        let words: Vec<&str> =
            m.w.iter().skip(usize::from(verb)).map(String::as_str).filter(|w| !is_stop(w) && *w != "for").collect();
        if words.is_empty() {
            return Some(Routed::call(OpKind::FindProjects, json!({})));
        }
        args["query"] = json!(words.join(" "));
    }
    Some(Routed::call(OpKind::FindProjects, args))
}

fn show_project(m: &Msg<'_>) -> Option<Routed> {
    if !(m.first_is(&["show", "describe", "info", "about", "tell", "what", "whats", "what's"]) || m.has(&["about"])) {
        return None;
    }
    let (op, args) = attempt!(project_or_team(m, 0))?;
    Some(Routed::call(op, args))
}

fn lone_name(m: &Msg<'_>) -> Option<Routed> {
    if m.w.len() > 3 {
        return None;
    }
    let words: Vec<&String> = m.w.iter().filter(|w| !is_stop(w)).collect();
    let [w] = words.as_slice() else { return None };
    if m.cat.projects.contains(w) {
        return Some(Routed::call(OpKind::GetProject, json!({"project": w})));
    }
    if m.cat.teams.contains(w) {
        return Some(Routed::call(OpKind::GetTeam, json!({"team": w})));
    }
    if m.cat.packages.contains(w) {
        return Some(Routed::call(OpKind::Dependents, json!({"package": w})));
    }
    None
}
