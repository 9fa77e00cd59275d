//! The words the intents listen for. A word a letter away from one of them
//! (`incdents`, `deploymets`, `verison`) is read as that word, unless it is
//! closer to a name the catalog knows; and these words are never taken for
//! a misspelt name.

use super::super::catalog::{Catalog, Resolved, distance};

/// Every word an intent keys on, and the common words around them
/// (`words.txt`; a test keeps it complete).
fn words() -> &'static std::collections::HashSet<&'static str> {
    static SET: std::sync::OnceLock<std::collections::HashSet<&'static str>> = std::sync::OnceLock::new();
    SET.get_or_init(|| {
        include_str!("words.txt").lines().filter(|l| !l.starts_with('#')).flat_map(str::split_whitespace).collect()
    })
}

/// Short forms people type: `hist`, `deps`, `envs`, `incs`.
pub(super) fn abbreviation(w: &str) -> Option<&'static str> {
    Some(match w {
        "hist" => "history",
        "deps" | "dep" => "dependencies",
        "envs" | "env" => "environments",
        "incs" | "inc" => "incidents",
        "depl" | "depls" => "deployments",
        "repos" => "repos",
        "pls" | "plz" => "please",
        "em" => "them",
        "w/" => "with",
        "u" => "you",
        "r" => "are",
        "ur" => "your",
        "msgs" | "msg" => "messages",
        "info" => "info",
        _ => return None,
    })
}

/// The words starting with `first` (a typo keeps the first letter).
fn by_first(first: char) -> &'static [&'static str] {
    static INDEX: std::sync::OnceLock<std::collections::HashMap<char, Vec<&'static str>>> = std::sync::OnceLock::new();
    let index = INDEX.get_or_init(|| {
        let mut m: std::collections::HashMap<char, Vec<&'static str>> = std::collections::HashMap::new();
        for w in words() {
            if let Some(c) = w.chars().next() {
                m.entry(c).or_default().push(w);
            }
        }
        m
    });
    index.get(&first).map(Vec::as_slice).unwrap_or(&[])
}

pub(super) fn is_word(w: &str) -> bool {
    words().contains(w) || super::is_stop(w)
}

/// The listened-for word `word` is a typo of, when it is one letter off
/// exactly one of them (two for long words) and not closer to a name.
pub(super) fn correct(word: &str, cat: &Catalog) -> Option<&'static str> {
    let len = word.chars().count();
    if len < 4 || is_word(word) || !word.chars().all(|c| c.is_ascii_alphabetic() || c == '-') {
        return None;
    }
    if cat.environment(word).is_some() {
        return None;
    }
    for names in [&cat.projects, &cat.teams, &cat.packages, &cat.users, &cat.environments] {
        if !matches!(names.resolve(word), Resolved::Unknown) {
            return None;
        }
    }
    let max = if len >= 9 { 2 } else { 1 };
    let first = word.chars().next();
    // A four-letter word is read as a typo only of a five-letter one with a
    // letter missing (`wich`); and a word is never another form of the same
    // word (`move` is not `moved`).
    let mut best: Option<(usize, &'static str)> = None;
    let mut tie = false;
    let first = first?;
    for w in by_first(first) {
        if w.len().abs_diff(word.len()) > max {
            continue;
        }
        let swapped = w.len() == len && {
            let (mut a, mut b): (Vec<char>, Vec<char>) = (word.chars().collect(), w.chars().collect());
            a.sort_unstable();
            b.sort_unstable();
            a == b
        };
        // A typo keeps the first letter (`by_first`); a word of another
        // length only when nothing of the same length is as close.
        if (len == 4 && w.len() != 5 && !swapped) || w.starts_with(word) || word.starts_with(w) {
            continue;
        }
        let d = distance(word, w);
        if d > max {
            continue;
        }
        // Same distance: the same length wins (`brokne` is `broken`, not `broke`).
        let rank = (d, usize::from(w.len() != len));
        match best {
            Some((b, x)) if rank > (b, usize::from(x.len() != len)) => {}
            Some((b, x)) if rank == (b, usize::from(x.len() != len)) => tie |= x != *w,
            _ => {
                best = Some((d, w));
                tie = false;
            }
        }
    }
    best.filter(|_| !tie).map(|(_, w)| w)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every word an intent keys on is a word here, so no typo correction
    /// turns it into another (`logging` is not a misspelt `lagging`).
    #[test]
    fn every_word_an_intent_keys_on_is_known() {
        let sources = [
            include_str!("mod.rs"),
            include_str!("reads.rs"),
            include_str!("changes.rs"),
            include_str!("logs.rs"),
            include_str!("runs.rs"),
            include_str!("accounts.rs"),
            include_str!("mailboxes.rs"),
            include_str!("imports.rs"),
            include_str!("security.rs"),
        ];
        let mut missing = Vec::new();
        for source in sources {
            for literal in source.split('"').skip(1).step_by(2) {
                let word = literal.chars().all(|c| c.is_ascii_lowercase() || c == '-' || c == '\'');
                if word && literal.starts_with(|c: char| c.is_ascii_lowercase()) && !is_word(literal) {
                    missing.push(literal);
                }
            }
        }
        assert!(missing.is_empty(), "add to words.txt: {missing:?}");
    }

    #[test]
    fn typos_of_listened_for_words_are_read_as_them() {
        let cat = Catalog::default();
        assert_eq!(correct("incdents", &cat), Some("incidents"));
        assert_eq!(correct("deploymets", &cat), Some("deployments"));
        assert_eq!(correct("wich", &cat), Some("which"));
        assert_eq!(correct("wehn", &cat), Some("when"));
        // Other forms of a word, and words of their own, are left alone.
        assert_eq!(correct("logging", &cat), None);
        assert_eq!(correct("move", &cat), None);
        assert_eq!(correct("kill", &cat), None);
    }
}
