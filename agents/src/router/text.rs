//! Cleaning chat text before routing: code blocks, inline code and quoted
//! lines are not instructions; mentions and the `/sb` prefix are not words.

/// What is left to read, and whether the person used command syntax (`/sb …`).
#[derive(Debug, PartialEq, Eq)]
pub struct Cleaned {
    /// Lowercased words.
    pub words: Vec<String>,
    /// The same words as typed (values keep their case).
    pub raw: Vec<String>,
    /// The text without code and quotes, as typed (for JSON arguments).
    pub text: String,
    /// The same without chat markup: what a person reads (for titles and
    /// quoted phrases).
    pub said: String,
    pub command: bool,
}

/// Words that open a request without being part of it.
const FILLER: &[&str] = &[
    "hey", "hi", "hello", "yo", "ok", "okay", "so", "quick", "q", "question", "qq", "please", "pls", "plz", "kindly",
    "can", "could", "would", "will", "you", "i", "we", "need", "want", "wanna", "to", "let's", "lets", "go", "ahead",
    "and", "just", "also", "actually", "hmm", "um", "folks", "morning", "sorry", "btw", "fyi", "yes", "yeah", "yep",
    "no", "nope", "sure", "i'd", "like", "i'm", "alright", "right", "then", "now,", "ok,",
];

/// Longest message the router reads.
pub const MAX_CHARS: usize = 4000;

/// Removes fenced code blocks, inline code and `>` quoted lines.
pub fn strip_code_and_quotes(text: &str) -> String {
    let mut out = String::new();
    let mut in_fence = false;
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence || t.starts_with('>') {
            continue;
        }
        // Inline code goes, except a single word: `next` names a package.
        for (i, part) in line.split('`').enumerate() {
            let code = i % 2 == 1;
            if !code || (!part.trim().is_empty() && !part.trim().contains(char::is_whitespace) && part.len() <= 100) {
                out.push_str(part);
            }
            out.push(' ');
        }
        out.push('\n');
    }
    out
}

fn is_mention(w: &str) -> bool {
    let w = w.to_lowercase();
    w == "@switchboard" || w == "switchboard" || w == "switchboard," || (w.starts_with("<@") && w.ends_with('>'))
}

/// Slack and Discord markup read as the words it shows: `<#C02|team-x>` →
/// `team-x`, `<https://…|label>` → `label`; bare links, user, role and
/// channel mentions (`<@U123>`, `<@!123>`, `<#123>`, `<!here>`) and
/// `:emoji:` codes go.
pub fn unmark(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('>') {
            Some(end) if !after[..end].contains(['<', '\n']) && end > 0 => {
                let inner = &after[..end];
                let markup =
                    inner.starts_with(['@', '#', '!']) || inner.contains("://") || inner.starts_with("mailto:");
                if markup {
                    if let Some((_, label)) = inner.split_once('|') {
                        out.push(' ');
                        out.push_str(label);
                        out.push(' ');
                    } else {
                        out.push(' ');
                    }
                } else {
                    out.push('<');
                    out.push_str(inner);
                    out.push('>');
                }
                rest = &after[end + 1..];
            }
            _ => {
                out.push('<');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    // `:fire:`, `:white_check_mark:`; not `a:b` inside a word or `12:30`.
    let mut cleaned = String::with_capacity(out.len());
    for word in out.split_inclusive(char::is_whitespace) {
        let core = word.trim_end();
        let emoji = core.len() > 2
            && core.starts_with(':')
            && core.ends_with(':')
            && core[1..core.len() - 1].chars().all(|c| c.is_ascii_alphanumeric() || "_+-".contains(c));
        if emoji {
            cleaned.push(' ');
        } else {
            cleaned.push_str(word);
        }
    }
    cleaned
}

/// Contractions kept whole; any other word's `'s` is a possessive and goes.
const CONTRACTIONS: &[&str] =
    &["what's", "who's", "it's", "that's", "there's", "let's", "where's", "here's", "how's", "when's", "he's", "she's"];

/// Cleans `text` into lowercase words; punctuation around words goes, while
/// characters inside names and versions (`-`, `.`, `/`, `@`, `_`, `:`) stay.
pub fn clean(text: &str) -> Cleaned {
    let text: String = text.chars().take(MAX_CHARS).collect();
    let stripped = strip_code_and_quotes(&text);
    let unmarked = unmark(&stripped.replace(['’', '‘'], "'"))
        .replace(" -> ", " to ")
        .replace(" => ", " to ")
        .replace('→', " to ")
        .replace(" w/ ", " with ");
    let mut raw: Vec<String> = unmarked
        .split_whitespace()
        .filter(|w| !is_mention(w))
        .map(|w| {
            let kept = |c: char| c.is_alphanumeric() || "/@{}[]\"=".contains(c);
            if w.contains('=') {
                // `key=value`: the value is exact (`value=v1.2.`, `key=_`);
                // only a list's separator goes.
                w.trim_start_matches(|c: char| !kept(c)).trim_end_matches([',', ';']).to_owned()
            } else {
                let w = w.trim_matches(|c: char| !kept(c) && c != '\'').trim_matches('\'');
                let w = w.trim_end_matches(['.', ':']);
                match w.strip_suffix("'s") {
                    Some(base) if !CONTRACTIONS.contains(&w.to_lowercase().as_str()) => base.to_owned(),
                    _ => w.to_owned(),
                }
            }
        })
        .filter(|w| !w.is_empty())
        .collect();
    // Courtesy and filler before the request: `hey, quick q: can you …`.
    while raw.len() > 1 && FILLER.contains(&raw[0].to_lowercase().as_str()) {
        raw.remove(0);
    }
    let mut command = false;
    if let Some(first) = raw.first()
        && (first.eq_ignore_ascii_case("/sb") || first.eq_ignore_ascii_case("sb"))
    {
        raw.remove(0);
        command = true;
    }
    let words = raw.iter().map(|w| w.to_lowercase()).collect();
    Cleaned { words, raw, said: unmarked, text: stripped, command }
}

/// Whether a word looks like a version: `1.2.3`, `v7`, `^4.17`, `7`.
pub fn is_version(w: &str) -> bool {
    let w = w.trim_start_matches(['^', '~', '=']);
    let w = w.strip_prefix('v').unwrap_or(w);
    w.chars().next().is_some_and(|c| c.is_ascii_digit())
        && w.chars().all(|c| c.is_ascii_alphanumeric() || ".-+".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_quotes_and_mentions_are_ignored() {
        let c = clean(
            "<@U123> deploy orders to staging\n```\ndeploy payments to production\n```\n> archive checkout\nplease `rm -rf` now",
        );
        assert_eq!(c.words, ["deploy", "orders", "to", "staging", "please", "now"]);
        assert!(!c.command);
        let c = clean("/sb deploy orders staging");
        assert!(c.command);
        assert_eq!(c.words, ["deploy", "orders", "staging"]);
        assert_eq!(clean("Who owns payments?").words, ["who", "owns", "payments"]);
        assert_eq!(clean("use @types/node 20.1.0, please.").words, ["use", "@types/node", "20.1.0", "please"]);
    }

    #[test]
    fn versions() {
        for v in ["1.2.3", "v7", "^4.17", "7", "1.0.0-rc.1"] {
            assert!(is_version(v), "{v}");
        }
        for w in ["redis", "v", "staging", "vue"] {
            assert!(!is_version(w), "{w}");
        }
    }
}
