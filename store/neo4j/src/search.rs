//! Project search on the full-text index: the text indexed and the query
//! sent are both reduced here to lowercase ASCII-folded words, so every
//! server's analyzer sees the same plain words, and a query's words become
//! required prefix terms (`+pay* +card*`). Nothing a person types reaches
//! the index's query syntax: only letters and digits survive.

use unicode_normalization::UnicodeNormalization;

use crate::{Fulltext, Neo4jGraph, Options, backend};

/// At most this many words of a query are searched (as on the embedded store).
const MAX_QUERY_WORDS: usize = 16;

/// Lowercase words of letters and digits, diacritics removed
/// (`Zürich-Ledger` → `zurich`, `ledger`).
pub(crate) fn normalize_words(text: &str) -> Vec<String> {
    let folded: String =
        text.nfd().filter(|c| !('\u{300}'..='\u{36f}').contains(c)).flat_map(char::to_lowercase).collect();
    folded.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

/// What the full-text index holds for a project: its slug's and name's words
/// twice (so they weigh more), then description and fact values.
pub(crate) fn search_text(slug: &str, name: &str, description: &str, facts: &[String]) -> String {
    let names = [normalize_words(slug), normalize_words(name)].concat().join(" ");
    let rest = std::iter::once(description).chain(facts.iter().map(String::as_str)).flat_map(normalize_words);
    let mut text = format!("{names} {names}");
    for w in rest {
        text.push(' ');
        text.push_str(&w);
    }
    text
}

/// The index query for a person's search text: every word required, as a
/// prefix. `None` when nothing searchable is left.
pub(crate) fn index_query(text: &str) -> Option<String> {
    let words: Vec<String> =
        normalize_words(text).into_iter().take(MAX_QUERY_WORDS).map(|w| format!("+{w}*")).collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// Creates the project full-text index the way the server wants it.
pub(crate) async fn create_fulltext_index(store: &Neo4jGraph, o: &Options) -> switchboard_core::store::StoreResult<()> {
    match &o.fulltext {
        // Words arrive already folded and split: the whitespace analyzer keeps
        // them as they are (the standard one would drop English stop words).
        Fulltext::Neo4j => {
            store
                .run(crate::bolt::query(
                    "CREATE FULLTEXT INDEX sb_project_text IF NOT EXISTS FOR (n:Project) ON EACH [n.search_text] \
                     OPTIONS {indexConfig: {`fulltext.analyzer`: 'whitespace'}}",
                ))
                .await
        }
        Fulltext::ArcadeDb { http_url } => {
            let database = o.database.as_deref().ok_or_else(|| {
                backend("store.neo4j.database must name the database when the full-text index is made through ArcadeDB")
            })?;
            // reqwest is built without a TLS provider of its own; the process
            // uses ring (installing it again is a no-op).
            let _ = rustls::crypto::ring::default_provider().install_default();
            let client = reqwest::Client::builder().timeout(o.query_timeout).build().map_err(backend)?;
            let url = format!("{}/api/v1/command/{database}", http_url.trim_end_matches('/'));
            for command in [
                "CREATE VERTEX TYPE Project IF NOT EXISTS",
                "CREATE PROPERTY Project.search_text IF NOT EXISTS STRING",
                "CREATE INDEX IF NOT EXISTS ON Project (search_text) FULL_TEXT",
            ] {
                let answer = client
                    .post(&url)
                    .basic_auth(&o.user, Some(&o.password))
                    .json(&serde_json::json!({"language": "sql", "command": command}))
                    .send()
                    .await
                    .map_err(|e| backend(format!("ArcadeDB at {http_url}: {e}")))?;
                if !answer.status().is_success() {
                    let status = answer.status();
                    let body = answer.text().await.unwrap_or_default();
                    return Err(backend(format!("ArcadeDB refused `{command}` ({status}): {body}")));
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_folded_and_split() {
        assert_eq!(normalize_words("Zürich-Ledger v1.2 ÉTÉ"), ["zurich", "ledger", "v1", "2", "ete"]);
        assert!(normalize_words("--- \"*) (").is_empty());
    }

    #[test]
    fn query_syntax_never_reaches_the_index() {
        assert_eq!(index_query("card payments").as_deref(), Some("+card* +payments*"));
        assert_eq!(index_query("\"*) OR (name:x~").as_deref(), Some("+or* +name* +x*"));
        assert_eq!(index_query("  ---  "), None);
        assert_eq!(index_query(&"w ".repeat(40)).unwrap().matches('+').count(), MAX_QUERY_WORDS);
    }

    #[test]
    fn names_weigh_twice() {
        let t = search_text("fraud-scorer", "Fraud", "Scores card payments", &["Zürich".into()]);
        assert_eq!(t, "fraud scorer fraud fraud scorer fraud scores card payments zurich");
    }
}
