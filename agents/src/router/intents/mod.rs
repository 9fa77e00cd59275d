//! Free-text intents, tried in order; the first that recognises the message
//! wins. Each reads the cleaned words and resolves names in the catalog.

mod accounts;
mod changes;
mod directory;
mod imports;
mod logs;
mod mailboxes;
mod reads;
mod runs;
mod security;
mod vocab;

use serde_json::{Value, json};

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
    static SET: std::sync::OnceLock<std::collections::HashSet<&'static str>> = std::sync::OnceLock::new();
    SET.get_or_init(|| STOP.iter().copied().collect()).contains(w)
}

/// Read-only operations may take a unique close match; changes must be exact.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Strictness {
    Forgiving,
    Exact,
}

pub(super) struct Msg<'a> {
    /// Lowercased words, with common words' typos corrected and names
    /// spelt in several words (`payments api`) joined.
    w: Vec<String>,
    /// The same words as typed.
    raw: Vec<String>,
    cat: &'a Catalog,
    /// The time phrase, if any.
    time: super::time::Window,
    /// The message as typed, without markup.
    text: String,
    /// The packages named (found once).
    pkgs: Vec<PackageMention>,
}

impl<'a> Msg<'a> {
    fn new(c: &Cleaned, cat: &'a Catalog) -> Self {
        let (mut w, mut raw) = (c.words.clone(), c.raw.clone());
        // `payments api` → `payments-api` when that is a name.
        let mut i = 0;
        while i + 1 < w.len() {
            let joined = format!("{}-{}", w[i], w[i + 1]);
            let known = |n: &Names| n.contains(&joined) && !n.contains(&w[i]);
            if known(&cat.projects) || known(&cat.teams) || known(&cat.packages) {
                w[i] = joined;
                raw[i] = format!("{}-{}", raw[i], raw[i + 1]);
                w.remove(i + 1);
                raw.remove(i + 1);
            }
            i += 1;
        }
        for word in w.iter_mut() {
            if let Some(full) = vocab::abbreviation(word) {
                *word = full.to_owned();
            } else if let Some(fixed) = vocab::correct(word, cat) {
                *word = fixed.to_owned();
            }
        }
        let time = super::time::window(&w);
        let mut m = Self { w, raw, cat, time, text: c.said.clone(), pkgs: Vec::new() };
        m.pkgs = m.find_packages();
        m
    }

    fn has(&self, any: &[&str]) -> bool {
        self.w.iter().any(|w| any.contains(&w.as_str()))
    }

    fn pos(&self, word: &str) -> Option<usize> {
        self.w.iter().position(|w| w == word)
    }

    fn pos_any(&self, any: &[&str]) -> Option<usize> {
        self.w.iter().position(|w| any.contains(&w.as_str()))
    }

    fn first_is(&self, any: &[&str]) -> bool {
        self.w.first().is_some_and(|w| any.contains(&w.as_str()))
    }

    fn starts_with(&self, phrase: &[&str]) -> bool {
        self.w.len() >= phrase.len() && self.w.iter().zip(phrase).all(|(a, b)| a == b)
    }

    /// Whether the words contain `phrase` in a row.
    fn phrase(&self, phrase: &[&str]) -> bool {
        self.w.windows(phrase.len()).any(|win| win.iter().zip(phrase).all(|(a, b)| a == b))
    }

    /// The word after `word`, if any.
    fn after(&self, word: &str) -> Option<&str> {
        self.pos(word).and_then(|i| self.w.get(i + 1)).map(String::as_str)
    }

    /// Whether the message asks rather than tells: a question word first,
    /// or a question mark at the end.
    fn is_question(&self) -> bool {
        self.first_is(QUESTION) || self.text.trim_end().ends_with('?')
    }

    /// A request asked politely ("could you …?", "would it be possible to …?").
    fn polite(&self) -> bool {
        let said = self.text.to_lowercase();
        said.split(|c: char| !c.is_alphanumeric())
            .any(|w| ["can", "could", "would", "please", "possible", "mind", "pls"].contains(&w))
    }

    /// Words that are not part of the time phrase.
    fn free(&self, i: usize) -> bool {
        !self.time.used.contains(&i)
    }

    /// The first word (from `start`) naming something in `names`: exact names
    /// first, then close ones.
    fn find(&self, names: &Names, start: usize) -> Option<(usize, Resolved)> {
        let candidates =
            || self.w.iter().enumerate().skip(start).filter(|(i, w)| !is_stop(w) && self.free(*i) && !is_version(w));
        for (i, w) in candidates() {
            if names.contains(w) {
                return Some((i, Resolved::Exact(w.clone())));
            }
        }
        for (i, w) in candidates() {
            if vocab::is_word(w) {
                continue;
            }
            if let r @ Resolved::Close(_) = names.resolve(w) {
                return Some((i, r));
            }
        }
        None
    }

    fn project(&self, start: usize, strict: Strictness) -> Result<Option<(usize, String)>, Routed> {
        // A word that is a team's name next to "team" is the team, not a
        // project: the project, if any, is named after it.
        let mut found = self.find(&self.cat.projects, start);
        while let Some((i, _)) = found.as_ref().filter(|(i, _)| self.team_marked(*i)) {
            found = self.find(&self.cat.projects, i + 1);
        }
        self.pick(found, "project", strict)
    }

    /// `team payments`, `payments team`, `the payments team's`.
    fn team_marked(&self, i: usize) -> bool {
        let before = i.checked_sub(1).and_then(|j| self.w.get(j)).map(String::as_str);
        let after = self.w.get(i + 1).map(String::as_str);
        self.cat.teams.contains(&self.w[i])
            && (matches!(before, Some("team")) || matches!(after, Some("team" | "teams" | "squad")))
    }

    fn team(&self, start: usize, strict: Strictness) -> Result<Option<(usize, String)>, Routed> {
        // A team said with "team" wins over one that may be a project.
        if let Some(i) = (start..self.w.len()).find(|i| self.team_marked(*i)) {
            return Ok(Some((i, self.w[i].clone())));
        }
        self.pick(self.find(&self.cat.teams, start), "team", strict)
    }

    fn package(&self, start: usize, strict: Strictness) -> Result<Option<(usize, String)>, Routed> {
        Ok(self.packages().iter().find(|p| p.at >= start).map(|p| (p.at, p.package.clone()))).and_then(|found| {
            match found {
                Some(f) => Ok(Some(f)),
                None => self.pick(
                    self.find(&self.cat.packages, start).filter(|(i, _)| !vocab::is_word(&self.w[*i])),
                    "package",
                    strict,
                ),
            }
        })
    }

    /// Packages named with or without a version, in any notation:
    /// `redis 7.2.4`, `redis@7.2.4`, `redis==7.2.4`, `redis v7`,
    /// `version 7.2.4 of redis`, `@types/node@20`.
    fn packages(&self) -> &[PackageMention] {
        &self.pkgs
    }

    fn find_packages(&self) -> Vec<PackageMention> {
        let mut out = Vec::new();
        let known = |name: &str| -> Option<String> {
            if self.cat.packages.contains(name) {
                return Some(name.to_owned());
            }
            if vocab::is_word(name) || name.len() < 4 {
                return None;
            }
            // A misspelt package is one letter off (`relies` is not `redis`).
            match self.cat.packages.resolve(name) {
                Resolved::Close(c) if c.len() == 1 && super::catalog::distance(name, &c[0]) == 1 => Some(c[0].clone()),
                _ => None,
            }
        };
        for (i, word) in self.w.iter().enumerate() {
            if !self.free(i) {
                continue;
            }
            // name@version, name==version, name:version
            let split = word
                .rfind('@')
                .filter(|at| *at > 0)
                .map(|at| (&word[..at], &word[at + 1..]))
                .or_else(|| word.split_once("==").or_else(|| word.split_once(">=")));
            if let Some((name, v)) = split
                && let Some(package) = known(name)
            {
                let version = is_version(v).then(|| version_for(&package, v));
                let exact = package == name;
                out.push(PackageMention { at: i, package, version, exact });
                continue;
            }
            let Some(package) = known(word) else { continue };
            // A package that is also a common word (`next`, `requests`) or a
            // project's name needs a version or dependency words.
            let next = self.w.get(i + 1).map(String::as_str).unwrap_or_default();
            let mut version = (is_version(next) && self.free(i + 1) && !self.cat.projects.contains(next))
                .then(|| version_for(&package, next));
            // `version 7.2.4 of redis`, `7.2.4 of redis`
            if version.is_none() && i >= 2 && self.w[i - 1] == "of" && is_version(&self.w[i - 2]) {
                version = Some(version_for(&package, &self.w[i - 2]));
            }
            let ambiguous = vocab::is_word(word) || self.cat.projects.contains(word) || self.cat.teams.contains(word);
            // … or a version said anywhere (`requests -> 2.32.3`), or a CVE.
            let versioned = !self.versions(0).is_empty() || self.has(&["cve", "cves", "vulnerability"]);
            if ambiguous && version.is_none() && !self.has(DEPENDS) && !versioned {
                continue;
            }
            let exact = package == *word;
            out.push(PackageMention { at: i, package, version, exact });
        }
        out
    }

    fn environment(&self) -> Option<String> {
        self.environments().into_iter().next().map(|(_, e)| e)
    }

    /// Environments named, in order, with where.
    fn environments(&self) -> Vec<(usize, String)> {
        let mut out: Vec<(usize, String)> = Vec::new();
        for (i, w) in self.w.iter().enumerate() {
            if is_stop(w) || self.cat.projects.contains(w) {
                continue;
            }
            // `staging/production`, `stg->prod`
            for part in w.split(['/', '>']).filter(|p| !p.is_empty()) {
                if let Some(e) = self.cat.environment(part.trim_end_matches('-'))
                    && !out.iter().any(|(_, x)| *x == e)
                {
                    out.push((i, e));
                }
            }
        }
        out
    }

    /// Version words from `start` on.
    fn versions(&self, start: usize) -> Vec<(usize, String)> {
        self.w
            .iter()
            .enumerate()
            .skip(start)
            .filter(|(i, w)| is_version(w) && self.free(*i) && !w.contains(['-', '/']) || is_semver_like(w))
            .map(|(i, w)| (i, w.clone()))
            .collect()
    }

    fn run_id(&self) -> Option<String> {
        self.w.iter().find_map(|w| self.cat.run(w))
    }

    /// Raw words after position `i`, joined.
    fn rest_raw(&self, i: usize) -> String {
        self.raw.get(i + 1..).map(|r| r.join(" ")).unwrap_or_default()
    }

    /// The text after the first `:`, trimmed of quotes.
    fn after_colon(&self) -> Option<String> {
        let (_, rest) =
            self.text.split_once(':').filter(|(before, _)| !before.ends_with("http") && !before.ends_with("https"))?;
        let rest = rest.trim().trim_matches(['"', '\'', '“', '”']).trim().to_owned();
        (!rest.is_empty()).then_some(rest)
    }

    /// A phrase in quotes (`"card declined"`, `'rate limit'`).
    fn quoted(&self) -> Option<String> {
        for q in ['"', '\'', '“'] {
            let close = if q == '“' { '”' } else { q };
            let mut parts = self.text.splitn(2, q);
            parts.next();
            if let Some(rest) = parts.next()
                && let Some(end) = rest.find(close)
            {
                let inner = rest[..end].trim();
                // `'s` and `it's` are not quotes.
                if !inner.is_empty() && (q != '\'' || !inner.starts_with("s ")) && inner.len() < 200 {
                    return Some(inner.to_owned());
                }
            }
        }
        None
    }

    /// Sets `since`/`until` from the time phrase.
    fn with_time(&self, mut args: Value) -> Value {
        if let Some(s) = &self.time.since {
            args["since"] = json!(s);
        }
        if let Some(u) = &self.time.until {
            args["until"] = json!(u);
        }
        args
    }
}

/// A package named in a message.
#[derive(Clone, Debug)]
struct PackageMention {
    at: usize,
    package: String,
    version: Option<String>,
    /// Spelt as the graph spells it (not a typo read as the closest name).
    exact: bool,
}

/// `1.2.3-rc.1`: a version with a dash, which `versions` would otherwise skip.
fn is_semver_like(w: &str) -> bool {
    let core = w.strip_prefix('v').unwrap_or(w);
    core.split('.').count() >= 3 && core.chars().next().is_some_and(|c| c.is_ascii_digit()) && is_version(w)
}

/// Words that ask.
const QUESTION: &[&str] = &[
    "who", "who's", "whos", "where's", "should", "shall", "how's", "hows", "what", "what's", "whats", "which", "when",
    "where", "why", "how", "is", "are", "was", "were", "did", "does", "do", "has", "have", "any", "anything", "anyone",
    "show", "list", "tell",
];

/// Words that say "depends on".
const DEPENDS: &[&str] = &[
    "use",
    "uses",
    "using",
    "used",
    "usage",
    "depend",
    "depends",
    "depending",
    "dependent",
    "dependents",
    "dependency",
    "dependencies",
    "dep",
    "deps",
    "on",
    "version",
    "versions",
    "bump",
    "bumping",
    "upgrade",
    "upgrading",
    "drop",
    "dropping",
    "pulls",
    "pull",
    "pulling",
    "has",
    "have",
    "running",
    "runs",
    "stragglers",
    "still",
    "radius",
    "declares",
    "declare",
    "installed",
    "pinned",
    "import",
    "imports",
    "requires",
    "require",
    "relies",
    "rely",
    "relying",
];

impl Msg<'_> {
    /// A name found, or — when it is not sure — a question whose buttons
    /// send the message again with each close name in its place.
    fn pick(
        &self,
        found: Option<(usize, Resolved)>,
        what: &str,
        strict: Strictness,
    ) -> Result<Option<(usize, String)>, Routed> {
        match found {
            None => Ok(None),
            Some((i, Resolved::Exact(n))) => Ok(Some((i, n))),
            Some((i, Resolved::Close(c))) if c.len() == 1 && strict == Strictness::Forgiving => {
                Ok(Some((i, c[0].clone())))
            }
            Some((i, Resolved::Close(c))) => {
                let choices = c
                    .iter()
                    .map(|name| {
                        let mut words = self.raw.clone();
                        if let Some(w) = words.get_mut(i) {
                            name.clone_into(w);
                        }
                        words.join(" ")
                    })
                    .collect();
                Err(Routed::Choose {
                    text: format!("I'm not sure which {what} you mean. Did you mean {}?", c.join(", ")),
                    choices,
                })
            }
            Some((_, Resolved::Unknown)) => Ok(None),
        }
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

/// The intents, most specific first: each recognises its own verbs and the
/// kinds of names around them, and leaves the message to the next otherwise.
const INTENTS: &[Intent] = &[
    help,
    security::fix,
    security::affected_by,
    security::vulnerabilities,
    accounts::sign_out,
    accounts::role,
    accounts::email,
    accounts::disable_or_enable,
    accounts::list,
    mailboxes::replay,
    mailboxes::retry,
    mailboxes::deliveries,
    mailboxes::outbox,
    imports::github_import,
    imports::sbom_howto,
    imports::catalog_howto,
    imports::manifests_howto,
    imports::dependency_source,
    runs::decide,
    runs::cancel,
    runs::show_run,
    changes::record,
    runs::approvals,
    runs::list,
    changes::create_team,
    changes::update_team,
    changes::create_project,
    changes::update_project,
    logs::investigate,
    logs::rollback,
    reads::ci_health,
    logs::check_logs,
    changes::promote,
    reads::dora,
    changes::deploy,
    changes::upgrade,
    changes::deploy_verbless,
    changes::scaffold,
    changes::set_fact,
    directory::on_call,
    changes::archive,
    reads::compare,
    reads::last_deployed,
    reads::history,
    directory::team_strong,
    reads::incidents,
    reads::deployments,
    reads::score,
    reads::get_dependency,
    reads::dependents,
    directory::teams,
    directory::owner,
    directory::team,
    directory::find,
    directory::show_project,
    directory::by_entities,
];

pub(super) fn route(c: &Cleaned, cat: &Catalog) -> Routed {
    let m = Msg::new(c, cat);
    for intent in INTENTS {
        if let Some(r) = intent(&m) {
            return match r {
                Routed::Call { operation, arguments, .. } => {
                    let unapplied = unapplied(&m, operation, &arguments);
                    Routed::Call { operation, arguments, unapplied }
                }
                other => other,
            };
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

/// What the message said that the call does not carry and the operation
/// cannot take: a time, an environment, a status, "on call". The reply names
/// them, so nobody reads an answer to a question they did not ask.
fn unapplied(m: &Msg<'_>, operation: switchboard_core::ops::OpKind, args: &Value) -> Vec<String> {
    use switchboard_core::ops::Effect;
    if operation.effect() != Effect::Read {
        return Vec::new();
    }
    let schema = operation.input_schema();
    let takes = |field: &str| schema["properties"].get(field).is_some();
    let carried = |field: &str| args.get(field).is_some();
    let mut out = Vec::new();
    if !m.time.is_empty() && !carried("since") && !carried("until") {
        let mut used = m.time.used.clone();
        used.sort_unstable();
        used.dedup();
        out.push(used.iter().filter_map(|i| m.raw.get(*i)).cloned().collect::<Vec<_>>().join(" "));
    }
    let env_fields = ["environment", "from", "to", "from_environment"];
    if let Some((i, _)) = m.environments().first()
        && !env_fields.iter().any(|f| carried(f) || takes(f))
    {
        out.push(m.raw[*i].clone());
    }
    if (m.phrase(&["on", "call"]) || m.has(&["on-call", "oncall"]))
        && !matches!(operation.name(), "get_project" | "get_team" | "investigate")
    {
        out.push("on call".into());
    }
    let status = ["open", "resolved", "acknowledged", "triggered", "firing", "failed", "pending", "dead"];
    if let Some(w) = m.w.iter().find(|w| status.contains(&w.as_str()))
        && !takes("status")
        && !takes("outcome")
    {
        out.push(w.clone());
    }
    out.retain(|w| !w.is_empty());
    out
}

fn try_or<T>(r: Result<T, Routed>) -> Result<T, Option<Routed>> {
    r.map_err(Some)
}

macro_rules! attempt {
    ($e:expr) => {
        match $crate::router::intents::try_or($e) {
            Ok(v) => v,
            Err(reply) => return reply,
        }
    };
}
pub(crate) use attempt;

fn help(m: &Msg<'_>) -> Option<Routed> {
    let names = m.w.iter().any(|w| m.cat.projects.contains(w) || m.cat.packages.contains(w) || m.cat.teams.contains(w));
    let asks = m.w.len() <= 4 && m.has(&["help", "commands", "usage"]) && !names;
    (asks || m.starts_with(&["what", "can", "you", "do"])).then(|| Routed::reply(messages::help()))
}
