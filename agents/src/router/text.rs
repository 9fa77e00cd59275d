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
    pub command: bool,
}

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
        let mut in_code = false;
        for c in line.chars() {
            if c == '`' {
                in_code = !in_code;
                out.push(' ');
            } else if !in_code {
                out.push(c);
            }
        }
        out.push('\n');
    }
    out
}

fn is_mention(w: &str) -> bool {
    let w = w.to_lowercase();
    w == "@switchboard" || w == "switchboard" || w == "switchboard," || (w.starts_with("<@") && w.ends_with('>'))
}

/// Cleans `text` into lowercase words; punctuation around words goes, while
/// characters inside names and versions (`-`, `.`, `/`, `@`, `_`, `:`) stay.
pub fn clean(text: &str) -> Cleaned {
    let text: String = text.chars().take(MAX_CHARS).collect();
    let stripped = strip_code_and_quotes(&text);
    let mut raw: Vec<String> = stripped
        .split_whitespace()
        .filter(|w| !is_mention(w))
        .map(|w| {
            let kept = |c: char| c.is_alphanumeric() || "/@{}[]\"=".contains(c);
            if w.contains('=') {
                // `key=value`: the value is exact (`value=v1.2.`, `key=_`);
                // only a list's separator goes.
                w.trim_start_matches(|c: char| !kept(c)).trim_end_matches([',', ';']).to_owned()
            } else {
                w.trim_matches(|c: char| !kept(c)).trim_end_matches(['.', ':']).to_owned()
            }
        })
        .filter(|w| !w.is_empty())
        .collect();
    let mut command = false;
    if let Some(first) = raw.first()
        && (first.eq_ignore_ascii_case("/sb") || first.eq_ignore_ascii_case("sb"))
    {
        raw.remove(0);
        command = true;
    }
    let words = raw.iter().map(|w| w.to_lowercase()).collect();
    Cleaned { words, raw, text: stripped, command }
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
