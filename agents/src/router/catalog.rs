//! The names the router resolves against: projects, teams, packages,
//! environments, project types and templates, with typo tolerance. Built
//! from the graph; lookups never touch the store.

use std::collections::{HashMap, HashSet};

/// How a word resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolved {
    Exact(String),
    /// Close names, best first (edit distance 1, then 2).
    Close(Vec<String>),
    Unknown,
}

/// A set of names with a bucket index (first character, length) so fuzzy
/// lookups compare against a few hundred names, not all of them.
#[derive(Clone, Debug, Default)]
pub struct Names {
    exact: HashSet<String>,
    /// By (first character, length): each name with the set of characters
    /// in it, so most names are ruled out without computing a distance.
    buckets: HashMap<(char, usize), Vec<(u64, String)>>,
}

/// Which characters a word has, folded into 64 bits.
fn letters(word: &str) -> u64 {
    word.chars().fold(0, |m, c| m | 1u64 << (u32::from(c) % 64))
}

impl Names {
    pub fn new(names: impl IntoIterator<Item = String>) -> Self {
        let mut n = Self::default();
        for name in names {
            n.insert(name);
        }
        n
    }

    pub fn insert(&mut self, name: String) {
        let key = name.to_lowercase();
        if self.exact.insert(key.clone()) {
            let first = key.chars().next().unwrap_or(' ');
            self.buckets.entry((first, key.chars().count())).or_default().push((letters(&key), key));
        }
    }

    pub fn contains(&self, word: &str) -> bool {
        self.exact.contains(word)
    }

    pub fn len(&self) -> usize {
        self.exact.len()
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty()
    }

    pub fn resolve(&self, word: &str) -> Resolved {
        if self.exact.contains(word) {
            return Resolved::Exact(word.to_owned());
        }
        let len = word.chars().count();
        if len < 3 {
            return Resolved::Unknown;
        }
        let max = if len <= 5 { 1 } else { 2 };
        let first = word.chars().next().unwrap_or(' ');
        let mut close: Vec<(usize, &String)> = Vec::new();
        let mask = letters(word);
        for l in len.saturating_sub(max)..=len + max {
            for (m, name) in self.buckets.get(&(first, l)).into_iter().flatten() {
                // Each edit adds or removes at most two characters from the set.
                if (m ^ mask).count_ones() as usize > 2 * max {
                    continue;
                }
                let d = distance(word, name);
                if d <= max {
                    close.push((d, name));
                }
            }
        }
        close.sort();
        // Only the closest: `refnuds` is `refunds`, not also a name two edits away.
        let best = close.first().map(|(d, _)| *d);
        close.retain(|(d, _)| Some(*d) == best);
        if close.is_empty() {
            Resolved::Unknown
        } else {
            Resolved::Close(close.into_iter().take(3).map(|(_, n)| n.clone()).collect())
        }
    }

    /// Names starting with `prefix`, sorted, at most `n`.
    pub fn with_prefix(&self, prefix: &str, n: usize) -> Vec<String> {
        let mut v: Vec<String> = self.exact.iter().filter(|x| x.starts_with(prefix)).cloned().collect();
        v.sort();
        v.truncate(n);
        v
    }
}

/// Optimal string alignment distance (Levenshtein plus adjacent swaps).
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// How many recent runs the catalog keeps for id fragments.
const MAX_RUNS: usize = 5000;

/// Everything the router can name.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    pub projects: Names,
    pub teams: Names,
    pub packages: Names,
    pub environments: Names,
    pub project_types: Names,
    pub templates: Names,
    /// Account names (for admins' requests about people).
    pub users: Names,
    /// Ids of recent automation runs, so a unique fragment of one names it.
    pub runs: Vec<String>,
}

impl Catalog {
    /// Reads every name from the graph and config. At 100k projects this
    /// takes a fraction of a second; callers keep the catalog and rebuild it
    /// when names change.
    pub async fn load(
        graph: switchboard_core::service::view::GraphView<'_>,
        config: &switchboard_core::config::Config,
    ) -> switchboard_core::store::StoreResult<Self> {
        use switchboard_core::store::ProjectQuery;
        let all = ProjectQuery { limit: usize::MAX >> 1, ..Default::default() };
        let projects = graph.find_projects(&all).await?.into_iter().map(|p| p.slug.to_string());
        let teams = graph.list_teams().await?.into_iter().map(|t| t.slug.to_string());
        let packages = graph.packages("", usize::MAX >> 1).await?.into_iter().map(String::from);
        let users = graph.list_users().await?.into_iter().map(|u| u.name.to_string());
        let runs = graph.list_runs(None, MAX_RUNS).await?.into_iter().map(|r| r.id.to_string()).collect();
        Ok(Self {
            projects: Names::new(projects),
            teams: Names::new(teams),
            packages: Names::new(packages),
            environments: Names::new(config.environments.iter().map(|e| e.to_string())),
            project_types: Names::new(config.project_types.keys().map(|t| t.to_string())),
            templates: Names::new(config.templates.keys().map(|t| t.to_string())),
            users: Names::new(users),
            runs,
        })
    }

    /// A run id from a word: a whole id (known or not), or a fragment of six
    /// or more characters found in exactly one recent run's id.
    pub fn run(&self, word: &str) -> Option<String> {
        let w = word.trim_start_matches('#');
        if w.len() == 36 && w.matches('-').count() == 4 && w.parse::<uuid::Uuid>().is_ok() {
            return Some(w.to_owned());
        }
        let fragment = w.len() >= 6
            && w.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
            && w.chars().any(|c| c.is_ascii_digit());
        if !fragment {
            return None;
        }
        let mut found = self.runs.iter().filter(|r| r.contains(w));
        match (found.next(), found.next()) {
            (Some(one), None) => Some(one.clone()),
            _ => None,
        }
    }

    /// Remembers a run made after the catalog was loaded (newest last; the
    /// oldest go past [`MAX_RUNS`]).
    pub fn add_run(&mut self, id: String) {
        if !self.runs.contains(&id) {
            self.runs.push(id);
            if self.runs.len() > MAX_RUNS {
                self.runs.remove(0);
            }
        }
    }

    /// The recent runs whose id contains `fragment` (to list when it is not unique).
    pub fn runs_matching(&self, fragment: &str) -> Vec<String> {
        self.runs.iter().filter(|r| fragment.len() >= 6 && r.contains(fragment)).take(10).cloned().collect()
    }

    /// An environment from a word, with the usual short names.
    pub fn environment(&self, word: &str) -> Option<String> {
        let word = match word {
            "prod" | "prd" | "live" | "prod's" | "producton" => "production",
            "stage" | "stg" | "preprod" | "pre-prod" | "uat" => "staging",
            "dev" | "develop" => "development",
            w => w,
        };
        match self.environments.resolve(word) {
            Resolved::Exact(e) => Some(e),
            Resolved::Close(c) if c.len() == 1 => Some(c[0].clone()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_exact_close_and_unknown() {
        let n = Names::new(["payments-api", "payments-ledger", "orders", "checkout"].map(String::from));
        assert_eq!(n.resolve("orders"), Resolved::Exact("orders".into()));
        assert_eq!(n.resolve("ordres"), Resolved::Close(vec!["orders".into()]));
        assert_eq!(n.resolve("paymnets-api"), Resolved::Close(vec!["payments-api".into()]));
        assert_eq!(n.resolve("zebra"), Resolved::Unknown);
        assert_eq!(n.resolve("or"), Resolved::Unknown);
        assert_eq!(n.with_prefix("payments", 5), ["payments-api", "payments-ledger"]);
    }

    #[test]
    fn distances() {
        assert_eq!(distance("redis", "redis"), 0);
        assert_eq!(distance("rdeis", "redis"), 1);
        assert_eq!(distance("staging", "stagign"), 1);
        assert_eq!(distance("abc", "xyz"), 3);
    }
}
