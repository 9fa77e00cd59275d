//! Requests that change something: automations (upgrade, deploy, promote,
//! scaffold) and writes (teams, projects, facts, records). Names here must
//! be exact: a typo is asked about, never guessed.

use serde_json::{Value, json};
use switchboard_core::ops::OpKind;

use super::{Msg, Routed, Strictness, attempt, is_stop, version_for};
use crate::messages;
use crate::router::text::is_version;

/// Said before a verb without changing it.
fn verb_at(m: &Msg<'_>, verbs: &[&str]) -> Option<usize> {
    m.w.iter().take(3).position(|w| verbs.contains(&w.as_str()))
}

/// The raw text after the first word among `keys` (or after a `:`), up to
/// the end or a `,`.
fn said_after(m: &Msg<'_>, keys: &[&str]) -> Option<String> {
    let i = m.pos_any(keys)?;
    let rest = m.rest_raw(i);
    let rest = rest.split([',', '—']).next().unwrap_or_default().trim().trim_matches(['"', '\'']).to_owned();
    (!rest.is_empty()).then_some(rest)
}

fn severity(m: &Msg<'_>) -> Option<String> {
    m.w.iter().find_map(|w| {
        let n = w.strip_prefix('p').or_else(|| w.strip_prefix("sev"))?;
        (n.len() == 1 && n.chars().all(|c| ('1'..='5').contains(&c))).then(|| format!("P{n}"))
    })
}

/// "record that orders 1.4.2 was deployed to staging", "log a failed build
/// for cart", "open an incident on refunds: …, P2", "record a merged PR on
/// orders titled …".
pub(super) fn record(m: &Msg<'_>) -> Option<Routed> {
    let verb = m.first_is(&[
        "record", "log", "note", "register", "report", "file", "raise", "declare", "open", "create", "add", "track",
    ]);
    // `open incidents for x` asks; `open an incident` tells.
    let told = m.first_is(&["record", "log", "note", "register", "report", "track"])
        || m.w.get(1).is_some_and(|w| ["a", "an", "new", "that"].contains(&w.as_str()));
    // `orders 1.4.2 landed in staging, note it down`
    let noted = !m.is_question()
        && (m.phrase(&["note", "it"])
            || m.phrase(&["record", "it"])
            || m.phrase(&["log", "it"])
            || m.phrase(&["record", "that"]));
    if !(verb && told || noted) {
        return None;
    }
    let kind = if m.has(&["incident", "outage"]) {
        OpKind::RecordIncident
    } else if m.has(&["build", "ci"]) {
        OpKind::RecordBuild
    } else if m.has(&["pr", "change", "merge", "merged", "pull"]) {
        OpKind::RecordChange
    } else if m.has(&["deployment", "deploy", "deployed", "went", "shipped", "released", "landed", "rolled", "reached"])
    {
        OpKind::RecordDeployment
    } else {
        return None;
    };
    let Some((pi, project)) = attempt!(m.project(0, Strictness::Exact)) else {
        return Some(Routed::reply(messages::ask("For which project?", "record a failed build for orders")));
    };
    let title = || {
        m.quoted().or_else(|| said_after(m, &["titled", "title", "title:", "called", "named"])).or_else(|| {
            m.after_colon().map(|t| {
                // `…: card refunds failing, P2`: the severity is not the title.
                let parts: Vec<&str> = t.split(',').map(str::trim).collect();
                parts.iter().filter(|p| severity_word(p).is_none()).cloned().collect::<Vec<_>>().join(", ")
            })
        })
    };
    let mut args = json!({"project": project});
    match kind {
        OpKind::RecordIncident => {
            if let Some(t) = title() {
                args["title"] = json!(t);
            }
            if let Some(s) = severity(m) {
                args["severity"] = json!(s);
            }
        }
        OpKind::RecordBuild => {
            let status = if m.has(&["failed", "failing", "failure", "broken", "red"]) {
                "failure"
            } else if m.has(&["cancelled", "canceled", "aborted"]) {
                "cancelled"
            } else {
                "success"
            };
            args["status"] = json!(status);
            if let Some(b) = m.after("on").filter(|b| !is_stop(b)) {
                args["branch"] = json!(b);
            }
        }
        OpKind::RecordChange => {
            let number = m.w.iter().find_map(|w| {
                w.trim_start_matches('#').parse::<u64>().ok().filter(|_| w.starts_with('#') || m.has(&["pr", "number"]))
            });
            if let Some(n) = number {
                args["number"] = json!(n);
            }
            let Some(t) = title().or_else(|| number.map(|n| format!("#{n}"))) else {
                return Some(Routed::reply(messages::ask(
                    "What is the change's title?",
                    &format!("record a merged PR on {project} titled \"Retry capture\""),
                )));
            };
            args["title"] = json!(t);
            args["opened_at"] = json!("today");
        }
        _ => {
            let Some(env) = m.environment() else {
                return Some(Routed::reply(messages::ask(
                    "To which environment?",
                    &format!("record that {project} 1.4.2 was deployed to staging"),
                )));
            };
            let Some((_, v)) = m.versions(pi + 1).into_iter().next() else {
                return Some(Routed::reply(messages::ask(
                    "Which version?",
                    &format!("record that {project} 1.4.2 was deployed to {env}"),
                )));
            };
            args["environment"] = json!(env);
            args["version"] = json!(v.trim_start_matches('v'));
        }
    }
    Some(Routed::call(kind, args))
}

fn severity_word(p: &str) -> Option<()> {
    let p = p.to_lowercase();
    let p = p.trim_start_matches("severity").trim();
    let n = p.strip_prefix('p').or_else(|| p.strip_prefix("sev"))?;
    (n.len() == 1).then_some(())
}

/// A new slug: after `called`/`named`/`slug`/`:`, else the first word that
/// names nothing known and looks like a slug.
fn new_name(m: &Msg<'_>, skip: &[&str]) -> Option<String> {
    let after = ["called", "named", "slug", "name", "call"]
        .iter()
        .find_map(|k| {
            let i = m.pos(k)?;
            // `name it loyalty`, `call it loyalty`
            let skip = usize::from(m.w.get(i + 1).is_some_and(|w| w == "it"));
            m.w.get(i + 1 + skip).map(String::as_str)
        })
        .map(str::to_owned);
    let colon = m.raw.iter().position(|w| w.ends_with(':')).and_then(|i| m.w.get(i + 1)).cloned();
    after
        .or(colon)
        .filter(|w| !is_stop(w))
        .or_else(|| {
            m.w.iter()
                .find(|w| {
                    w.contains('-')
                        && !m.cat.projects.contains(w)
                        && !m.cat.teams.contains(w)
                        && !m.cat.packages.contains(w)
                        && !skip.contains(&w.as_str())
                })
                .cloned()
        })
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_owned())
}

/// "create a team called risk", "new team: sre", "add a team named mobile".
pub(super) fn create_team(m: &Msg<'_>) -> Option<Routed> {
    let verb = m.has(&["create", "new", "add", "make", "set", "start", "form", "spin", "need", "bootstrap"])
        && !m.is_question();
    let team = m.pos_any(&["team", "squad"]).filter(|t| *t <= 5)?;
    let template = m.w.iter().any(|w| m.cat.templates.contains(w) || m.cat.templates.contains(w.trim_end_matches('s')));
    let project = m.has(&["project", "service", "repo", "repository", "app", "template"]);
    if !verb
        || template
        || project
        || m.has(&["to", "from", "rename"]) && !m.has(&["called", "named", "slug", "new", "with"])
    {
        return None;
    }
    // `create team risk`, `a risk team`
    let unknown = |w: &&String| !is_stop(w) && !m.cat.users.contains(w) && !super::vocab::is_word(w);
    // Right after "team" and last (or before its members), a word of the
    // vocabulary may be the name (`create team security with alice`).
    let ends =
        m.w.get(team + 2).is_none_or(|n| ["with", "for", "and"].contains(&n.as_str()) || m.cat.users.contains(n));
    let named = |w: &&String| {
        unknown(w)
            || (ends && !is_stop(w) && !m.cat.users.contains(w) && !["members", "channels"].contains(&w.as_str()))
    };
    let slug = new_name(m, &[])
        .or_else(|| m.w.get(team + 1).filter(named).cloned())
        .or_else(|| team.checked_sub(1).and_then(|i| m.w.get(i)).filter(unknown).cloned());
    match slug {
        Some(slug) if !m.cat.teams.contains(&slug) => {
            let mut args = json!({"slug": slug});
            let members: Vec<&String> = m.w.iter().filter(|w| m.cat.users.contains(w)).collect();
            if !members.is_empty() {
                args["members"] = json!(members);
            }
            Some(Routed::call(OpKind::CreateTeam, args))
        }
        Some(slug) => Some(Routed::reply(format!("There is already a team {slug}."))),
        None => Some(Routed::reply(messages::ask("What should the team be called?", "create team risk"))),
    }
}

/// "rename team growth to Growth Marketing", "add olivia to team platform",
/// "remove frank from the checkout team", "set team identity's slack channel to #x".
pub(super) fn update_team(m: &Msg<'_>) -> Option<Routed> {
    let verb = verb_at(m, &["rename", "add", "remove", "set", "change", "update", "move", "kick", "drop"]).is_some();
    let team_words = m.has(&["team", "squad", "channel", "channels", "members", "member"]);
    if !verb || !team_words {
        return None;
    }
    let (ti, team) = attempt!(m.team(0, Strictness::Exact))?;
    if !m.team_marked(ti) && m.cat.projects.contains(&team) {
        return None;
    }
    let mut args = json!({"team": team});
    let people: Vec<String> = m.w.iter().filter(|w| m.cat.users.contains(w)).cloned().collect();
    if m.has(&["channel", "channels"]) {
        let channel = m.raw.iter().rev().find(|w| !is_stop(&w.to_lowercase()) && w.to_lowercase() != team).cloned()?;
        let name = format!("#{}", channel.trim_start_matches('#'));
        let platform = if m.has(&["discord"]) { "discord" } else { "slack" };
        args["channels"] = json!([{"platform": platform, "id": name, "name": name}]);
    } else if m.first_is(&["rename"]) || m.has(&["name"]) {
        let name = said_after(m, &["to", "as"])?;
        args["name"] = json!(name);
    } else if m.first_is(&["add"]) && people.is_empty() {
        // `add zoe to the checkout team`: someone the catalog does not know yet;
        // the operation says whether the account exists.
        let who = m.w.get(1).filter(|w| !is_stop(w) && !super::vocab::is_word(w) && **w != team)?;
        args["add_members"] = json!([who]);
    } else if !people.is_empty() && m.first_is(&["add"]) {
        args["add_members"] = json!(people);
    } else if !people.is_empty() && m.first_is(&["remove", "kick", "drop"]) {
        args["remove_members"] = json!(people);
    } else {
        return None;
    }
    Some(Routed::call(OpKind::UpdateTeam, args))
}

/// "register an existing project called fx-rates owned by payments, it's an
/// api", "create project promo-codes for team checkout, type library".
pub(super) fn create_project(m: &Msg<'_>) -> Option<Routed> {
    let register = m.has(&["register", "existing", "catalog", "track"]) || m.phrase(&["already", "have"]);
    let create_plain = verb_at(m, &["create", "add"]).is_some() && m.has(&["project"]) && m.has(&["type"]);
    let existing = m.has(&["existing", "exists", "already"]);
    if !(register || create_plain) || (m.has(&["template", "scaffold"]) && !existing) {
        return None;
    }
    let verbish = m.has(&["register", "add", "create", "track"]);
    if !verbish {
        return None;
    }
    let skip: Vec<&str> = Vec::new();
    // `register loyalty in the catalog`: the word after the verb.
    let after_verb = m
        .pos_any(&["register", "track", "add"])
        .and_then(|i| m.w.get(i + 1))
        .filter(|w| {
            !is_stop(w) && !super::vocab::is_word(w) && !m.cat.projects.contains(w) && !m.cat.project_types.contains(w)
        })
        .cloned();
    let named = ["called", "named"].iter().find_map(|k| m.after(k)).map(str::to_owned);
    let slug = named.or(after_verb).or_else(|| new_name(m, &skip)).or_else(|| {
        let i = m.pos_any(&["project", "job", "api", "consumer", "frontend", "library"])?;
        m.w.get(i + 1).filter(|w| !is_stop(w) && !m.cat.projects.contains(w)).cloned()
    })?;
    if m.cat.projects.contains(&slug) {
        return Some(Routed::reply(format!("There is already a project {slug}.")));
    }
    let mut args = json!({"slug": slug});
    let team = m.w.iter().find(|w| m.cat.teams.contains(w)).cloned();
    let ty = m.w.iter().find(|w| m.cat.project_types.contains(w)).cloned();
    match (team, ty) {
        (Some(t), Some(ty)) => {
            args["team"] = json!(t);
            args["project_type"] = json!(ty);
            Some(Routed::call(OpKind::CreateProject, args))
        }
        _ => Some(Routed::reply(messages::ask(
            "Which team owns it, and what type is it?",
            &format!("register an existing api called {slug} owned by payments"),
        ))),
    }
}

/// "move cart to team platform", "set the description of refunds to …",
/// "rename mfa to Multi-Factor Auth", "hand search-indexer over to team platform".
pub(super) fn update_project(m: &Msg<'_>) -> Option<Routed> {
    let first = m.w.first()?.as_str();
    let describes = m.has(&["description"]);
    let renames = first == "rename" || m.phrase(&["display", "name"]) || m.phrase(&["name", "of"]);
    let moves = ["move", "transfer", "reassign", "hand", "give"].contains(&first) || m.has(&["ownership"]);
    if !(describes || renames || moves)
        || m.has(&["team"])
            && renames
            && !m.has(&["project"])
            && m.team(0, Strictness::Exact).ok().flatten().is_some()
            && attempt!(m.project(0, Strictness::Exact)).is_none()
    {
        return None;
    }
    let (_, project) = attempt!(m.project(0, Strictness::Exact))?;
    let mut args = json!({"project": project});
    if describes {
        let d = m.after_colon().or_else(|| said_after(m, &["to", "as"]))?;
        args["description"] = json!(d);
    } else if renames {
        args["name"] = json!(said_after(m, &["to", "as"])?);
    } else {
        let to = m.pos("to").unwrap_or(0);
        let (_, team) = attempt!(m.team(to, Strictness::Exact))?;
        args["team"] = json!(team);
    }
    Some(Routed::call(OpKind::UpdateProject, args))
}

const DEPLOY_VERBS: &[&str] =
    &["deploy", "ship", "release", "rollout", "roll", "push", "redeploy", "send", "put", "promote", "deliver"];

/// "promote orders from staging to production", "promote cart to prod".
pub(super) fn promote(m: &Msg<'_>) -> Option<Routed> {
    let promote = m.has(&["promote", "promoting"]);
    // `staging build can go to production`, `move orders from stg to prod`
    let moves = m.environments().len() >= 2
        && m.has(&["go", "move", "push", "ship", "send", "take", "roll", "release", "deploy", "bump"])
        && !m.is_question();
    if !(promote || moves) || m.has(&["role", "admin", "approver", "editor", "viewer"]) {
        return None;
    }
    let (_, project) = attempt!(m.project(0, Strictness::Exact))?;
    let envs = m.environments();
    let to_at = m.pos("to");
    let from_at = m.pos("from");
    let target = envs.iter().find(|(i, _)| to_at.is_some_and(|t| *i > t)).or(envs.last()).map(|(_, e)| e.clone());
    let Some(target) = target else {
        return Some(Routed::reply(messages::ask(
            "Promote to which environment?",
            &format!("promote {project} from staging to production"),
        )));
    };
    let mut args = json!({"project": project, "environment": target});
    let source = envs
        .iter()
        .find(|(i, e)| *e != target && (from_at.is_some_and(|f| *i > f) || to_at.is_some_and(|t| *i < t)))
        .map(|(_, e)| e.clone());
    if let Some(s) = source {
        args["from_environment"] = json!(s);
    }
    Some(Routed::call(OpKind::Deploy, args))
}

/// "deploy orders 1.4.2 to prod", "ship cart to staging", "roll out refunds v2.0.3 in production".
pub(super) fn deploy(m: &Msg<'_>) -> Option<Routed> {
    let kick = ((m.first_is(&["kick", "start", "trigger", "run", "do", "fire"])
        || m.has(&["request", "requesting", "requested", "need", "want", "please", "pls"]))
        && m.has(&["deploy", "deployment", "release", "rollout"])
        && m.environment().is_some()
        && !m.is_question())
    .then_some(0);
    let get_out = (m.first_is(&["get", "put", "take"])
        && m.has(&["out", "onto", "into", "to"])
        && m.environment().is_some()
        && m.packages().is_empty())
    .then_some(0);
    // `… can u deploy it`, `… deploy when u can`: the verb late, the project before it.
    let late = m.w.iter().position(|w| ["deploy", "ship", "release", "redeploy"].contains(&w.as_str())).filter(|i| {
        *i > 0
            && m.environment().is_some()
            && m.w
                .get(i + 1)
                .is_some_and(|n| ["it", "this", "them", "when", "now", "please", "asap"].contains(&n.as_str()))
    });
    let verb = verb_at(m, DEPLOY_VERBS)
        .filter(|_| !m.is_question() || m.first_is(DEPLOY_VERBS))
        .or(kick)
        .or(get_out)
        .or(late.map(|_| 0))?;
    if m.w[verb] == "roll" && !m.has(&["out"]) || m.w[verb] == "push" && m.environment().is_none() {
        return None;
    }
    // `deploy log for x`, `deploy history of x`: the list, not a request.
    if m.w.get(verb + 1).is_some_and(|w| ["log", "logs", "history", "frequency", "status"].contains(&w.as_str())) {
        return None;
    }
    let listed = m.w.windows(2).any(|p| {
        ["last", "latest", "recent", "previous", "past"].contains(&p[0].as_str())
            && ["deploy", "deploys", "deployment", "deployments", "release", "releases"].contains(&p[1].as_str())
    });
    if (listed || m.has(&["history", "frequency", "often", "recent"])) && kick.is_none() {
        return None;
    }
    let found = match attempt!(m.project(verb + 1, Strictness::Exact)) {
        Some(p) => Some(p),
        None => attempt!(m.project(0, Strictness::Exact)),
    };
    let Some((pi, project)) = found else {
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
    let version = m.versions(verb.min(pi)).into_iter().find(|(i, _)| *i != pi).map(|(_, v)| v);
    if let Some(v) = version {
        args["version"] = json!(plain_version(&v));
    }
    Some(Routed::call(OpKind::Deploy, args))
}

/// `v3.2.1` → `3.2.1`, as versions are recorded.
fn plain_version(v: &str) -> &str {
    v.strip_prefix('v').filter(|r| r.starts_with(|c: char| c.is_ascii_digit())).unwrap_or(v)
}

/// "orders to production, go", "pricing 4.0.2 -> prd": a project, maybe a
/// version, `to` and an environment, said as an order, not asked.
pub(super) fn deploy_verbless(m: &Msg<'_>) -> Option<Routed> {
    if m.is_question()
        || !m.packages().is_empty()
        || m.has(&["last", "latest", "recent", "deploys", "deployments", "history"])
    {
        return None;
    }
    // `accounts on stage needs v3.2.0, go`: `on` with a version and an order.
    let ordered = !m.versions(0).is_empty() && m.has(&["needs", "need", "go", "please", "asap", "now"]);
    let to = m.pos_any(&["to", "into", "onto"]).or_else(|| m.pos_any(&["on", "in"]).filter(|_| ordered))?;
    let (ei, env) = m.environments().into_iter().next()?;
    if ei != to + 1 || m.environments().len() > 1 {
        return None;
    }
    let (pi, project) = attempt!(m.project(0, Strictness::Exact))?;
    if pi > to || to > pi + 3 {
        return None;
    }
    let mut args = json!({"project": project, "environment": env});
    let said = m.after("version").or_else(|| m.after("needs")).filter(|v| is_version(v)).map(str::to_owned);
    let later = m.versions(to + 2).into_iter().next().map(|(_, v)| v).filter(|_| ordered);
    if let Some(v) = m.versions(pi + 1).into_iter().find(|(i, _)| *i < to).map(|(_, v)| v).or(said).or(later) {
        args["version"] = json!(plain_version(&v));
    }
    Some(Routed::call(OpKind::Deploy, args))
}

/// "bump lodash to 4.17.21 everywhere", "upgrade redis from 6.2.14 to 7.2.4",
/// "upgrade tokio to 1.40.0 in sessions".
pub(super) fn upgrade(m: &Msg<'_>) -> Option<Routed> {
    const STRONG: &[&str] =
        &["upgrade", "update", "bump", "bumping", "upgrading", "updating", "migrate", "raise", "lift"];
    const WEAK: &[&str] = &["get", "take", "bring", "move", "switch", "go", "put", "pr", "prs"];
    let packages = m.packages();
    let verb = m.w.iter().position(|w| STRONG.contains(&w.as_str()) || WEAK.contains(&w.as_str()));
    let past = m.has(&["when"]) && !m.polite();
    if m.has(&["if", "radius", "breaks", "affected", "pinned", "before"]) || past || (m.is_question() && !m.polite()) {
        return None;
    }
    // A weak verb, or none, upgrades only to a version said after `to`:
    // `move them to 7.2.4`, `left-pad 1.2.3 → 1.3.0`.
    let to_version = m.w.windows(2).any(|p| {
        ["to", "onto", "on"].contains(&p[0].as_str()) && is_version(&p[1]) || (p[0] == "to" && p[1].contains('@'))
    });
    let strong = m.has(STRONG)
        // `tokio 1.38.0 for auth-proxy pls`: a version asked for a project, politely.
        || (m.polite()
            && !m.is_question()
            && packages.iter().any(|p| p.version.is_some())
            && m.w.iter().any(|w| m.cat.projects.contains(w)));
    let to_version = to_version
        || packages.iter().any(|p| p.version.is_some() && p.at > 0 && ["to", "onto"].contains(&m.w[p.at - 1].as_str()));
    if !strong && !to_version {
        return None;
    }
    let verb = verb.unwrap_or(0);
    let Some(first) = packages.iter().find(|p| p.at > verb).or(packages.first()) else {
        let named = attempt!(m.package(verb + 1, Strictness::Exact));
        let asked = m.first_is(STRONG)
            && (m.has(&["package", "dependency", "library", "dependencies"]) || m.versions(0).len() >= 2);
        return match named {
            Some(_) => None,
            None if asked => Some(Routed::reply(messages::ask(
                "Which package should I upgrade, and to which version?",
                "update everything using left-pad 1.2.3 to 1.3.0",
            ))),
            None => None,
        };
    };
    if !first.exact {
        return Some(Routed::reply(messages::did_you_mean("package", std::slice::from_ref(&first.package))));
    }
    let package = first.package.clone();
    let versions = m.versions(first.at);
    let to_word =
        m.w.iter().enumerate().skip(first.at).find(|(_, w)| ["to", "onto"].contains(&w.as_str())).map(|(i, _)| i);
    // `celery@5.3.6 to celery@5.4.0`: the second mention is the target.
    let second = packages.iter().find(|p| p.at > first.at && p.package == package && p.version.is_some());
    let to = second.and_then(|p| p.version.clone()).or_else(|| {
        to_word
            .and_then(|t| versions.iter().find(|(i, _)| *i > t))
            .or(versions.last())
            .map(|(_, v)| version_for(&package, v))
    });
    let Some(to) = to else {
        if !m.first_is(STRONG) {
            return None;
        }
        return Some(Routed::reply(messages::ask(
            &format!("Which version should {package} be upgraded to?"),
            &format!("upgrade {package} to 2.0.0"),
        )));
    };
    let mut args = json!({"package": package, "to": to});
    let from = first.version.clone().filter(|v| *v != to).or_else(|| {
        ["from", "off"]
            .iter()
            .find_map(|k| m.after(k))
            .filter(|w| is_version(w))
            .map(|v| version_for(&first.package, v))
    });
    if let Some(f) = from {
        args["from"] = json!(f);
    }
    let project =
        m.w.iter().enumerate().find(|(i, w)| m.cat.projects.contains(w) && !packages.iter().any(|p| p.at == *i));
    if let Some((_, p)) = project {
        args["project"] = json!(p);
    }
    Some(Routed::call(OpKind::UpgradeDependency, args))
}

/// "spin up a new consumer called invoice-events for payments", "bootstrap
/// an api service named ledger-api", "scaffold a frontend project billing-web".
pub(super) fn scaffold(m: &Msg<'_>) -> Option<Routed> {
    let verbs = [
        "create",
        "make",
        "new",
        "scaffold",
        "bootstrap",
        "spin",
        "set",
        "generate",
        "start",
        "init",
        "stand",
        "kick",
        "need",
        "brand",
    ];
    let verb =
        verb_at(m, &verbs).is_some() || m.has(&["scaffold", "scaffolded", "bootstrap", "bootstrapped", "template"]);
    let template = m.w.iter().find_map(|w| {
        let s = w.strip_suffix('s').unwrap_or(w);
        if m.cat.templates.contains(w) {
            Some(w.clone())
        } else if m.cat.templates.contains(s) {
            Some(s.to_owned())
        } else {
            None
        }
    });
    let noun = template.is_some() || m.has(&["project", "service", "repo", "repository", "app"]);
    if !(verb && noun) || m.has(&["team"]) && template.is_none() && !m.has(&["project", "service"]) {
        return None;
    }
    let Some(template) = template else {
        let known = m.cat.templates.with_prefix("", 20).join(", ");
        return Some(Routed::reply(messages::ask(
            &format!("Which template should the new project use? Available: {known}."),
            "create a new consumer project called invoice-consumer",
        )));
    };
    let skip = [template.as_str()];
    let name = new_name(m, &skip).or_else(|| {
        let t = m.w.iter().position(|w| w.starts_with(template.as_str()))?;
        m.w.iter()
            .skip(t + 1)
            .find(|w| {
                !is_stop(w)
                    && !["project", "service", "repo", "app", "template"].contains(&w.as_str())
                    && !m.cat.teams.contains(w)
            })
            .cloned()
    });
    let Some(name) = name else {
        return Some(Routed::reply(messages::ask(
            &format!("What should the new {template} project be called?"),
            &format!("create a new {template} project called invoice-{template}"),
        )));
    };
    let mut args = json!({"name": name, "template": template});
    if let Some(t) = m.w.iter().find(|w| m.cat.teams.contains(w) && **w != name) {
        args["team"] = json!(t);
    }
    Some(Routed::call(OpKind::ScaffoldProject, args))
}

/// "set tier of orders to 1", "mark payouts as tier 2", "oncall for refunds
/// is bob", "set fact tier=3 on marketing-site", "make grace the oncall for api-gateway".
pub(super) fn set_fact(m: &Msg<'_>) -> Option<Routed> {
    let keyed =
        |w: &str| ["tier", "oncall", "on-call", "runbook", "slo", "lifecycle", "language", "tier:"].contains(&w);
    let verb = verb_at(m, &["set", "mark", "make", "change", "update", "put"]).is_some();
    let stated = !m.is_question() && m.w.iter().any(|w| keyed(w)) && !m.first_is(&["who", "what", "which", "show"]);
    if !(verb || stated) {
        return None;
    }
    let Some((pi, project)) = attempt!(m.project(0, Strictness::Exact)) else {
        let key = m.w.iter().find(|w| keyed(w));
        return (m.first_is(&["set"]) && key.is_some())
            .then(|| Routed::reply(messages::ask("Which project?", "set tier of orders to 1")));
    };
    // key=value
    if let Some((k, v)) = m.w.iter().find_map(|w| w.split_once('=')).filter(|(k, v)| !k.is_empty() && !v.is_empty()) {
        let raw = m.raw.iter().find(|w| w.contains('=')).and_then(|w| w.split_once('=')).map(|(_, v)| v.to_owned());
        return Some(Routed::call(
            OpKind::SetFact,
            json!({"project": project, "key": k, "value": raw.unwrap_or_else(|| v.to_owned())}),
        ));
    }
    // `mark orders' pci fact as true`, `set the fact pci of orders to true`
    let fact_word = m.pos("fact").and_then(|f| {
        let before = f.checked_sub(1).filter(|b| *b != pi && !is_stop(&m.w[*b]) && m.w[*b] != "the");
        before.or_else(|| Some(f + 1).filter(|a| *a < m.w.len() && *a != pi && !is_stop(&m.w[*a])))
    });
    let key_at = fact_word.or_else(|| m.w.iter().position(|w| keyed(w))).or_else(|| {
        // `set KEY of PROJECT to VALUE`
        (m.first_is(&["set", "change", "update"])
            && m.w.get(1).is_some_and(|w| !is_stop(w) && *w != project && w != "fact"))
        .then_some(1)
    })?;
    let key = m.w[key_at].trim_end_matches(':').replace("on-call", "oncall");
    let value: Option<Value> = if let Some(t) = m.pos("to").or_else(|| m.pos("as")).filter(|t| *t > key_at) {
        // `set tier to 1 on card-vault`: the value ends where the project is named.
        let end = if pi > t + 1 && ["on", "for", "of", "in"].contains(&m.w[pi - 1].as_str()) {
            pi - 1
        } else if pi > t {
            pi
        } else {
            m.raw.len()
        };
        Some(json!(m.raw[t + 1..end.max(t + 1)].join(" ")))
    } else if m.first_is(&["make"]) {
        // `make grace the oncall for x`
        m.raw.get(1).filter(|w| !is_stop(&w.to_lowercase())).map(|w| json!(w))
    } else {
        m.w.iter()
            .enumerate()
            .skip(key_at + 1)
            .find(|(i, w)| {
                *i != pi && !is_stop(w) && !["→", "->", "=", "now", "fact", "update", "please"].contains(&w.as_str())
            })
            .map(|(i, _)| json!(m.raw[i]))
    };
    let Some(value) = value.filter(|v| v.as_str().is_some_and(|s| !s.is_empty())) else {
        return Some(Routed::reply(messages::ask(
            &format!("What should {key} be?"),
            &format!("set {key} of {project} to 1"),
        )));
    };
    Some(Routed::call(OpKind::SetFact, json!({"project": project, "key": key, "value": value})))
}

/// "archive landing-pages", "decommission order-exports", "we killed ab-testing, archive it".
pub(super) fn archive(m: &Msg<'_>) -> Option<Routed> {
    if !m.has(&["archive", "decommission", "retire", "sunset"]) {
        return None;
    }
    match attempt!(m.project(0, Strictness::Exact)) {
        Some((_, p)) => Some(Routed::call(OpKind::ArchiveProject, json!({"project": p}))),
        None => Some(Routed::reply(messages::ask("Which project should I archive?", "archive old-reports"))),
    }
}
