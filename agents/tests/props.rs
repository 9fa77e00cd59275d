//! Property tests of the chat command grammar and the intent router: any
//! message is answered (a call or a reply), the same way every time; code
//! blocks and quotes are never read as instructions; `/sb NAME key=value`
//! passes the values through; every call names a real operation whose
//! arguments parse or are refused with a reason.

use proptest::prelude::*;
use serde_json::json;
use switchboard_agents::router::text::{MAX_CHARS, clean};
use switchboard_agents::router::{Catalog, Names, Routed, route};
use switchboard_core::ops::Operation;

fn catalog() -> Catalog {
    let names = |l: &[&str]| Names::new(l.iter().map(|s| (*s).to_owned()));
    Catalog {
        projects: names(&["payments-api", "orders", "checkout", "cart", "old-reports"]),
        teams: names(&["payments", "platform"]),
        packages: names(&["left-pad", "redis", "react", "@types/node"]),
        environments: names(&["development", "staging", "production"]),
        project_types: names(&["api", "consumer"]),
        templates: names(&["api", "consumer"]),
        users: names(&["alice", "bob", "carol"]),
        runs: vec![],
    }
}

/// Words people use, names the catalog knows, and noise.
fn message() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        prop::sample::select(vec![
            "deploy",
            "to",
            "staging",
            "prod",
            "who",
            "owns",
            "orders",
            "payments",
            "redis",
            "7",
            "1.2.3",
            "v2",
            "upgrade",
            "left-pad",
            "from",
            "when",
            "did",
            "get",
            "disable",
            "carol",
            "make",
            "admin",
            "approve",
            "incidents",
            "team",
            "help",
            "/sb",
            "set",
            "tier",
            "of",
            "1",
            "list",
            "users",
            "sign",
            "out",
        ])
        .prop_map(str::to_owned),
        "[a-z]{1,10}",
        ".{0,12}",
    ];
    prop::collection::vec(word, 0..12).prop_map(|w| w.join(" "))
}

proptest! {
    #[test]
    fn every_message_is_answered_the_same_way_every_time(text in message()) {
        let cat = catalog();
        let first = route(&text, &cat);
        prop_assert_eq!(&first, &route(&text, &cat));
        match first {
            Routed::Call { operation, arguments, .. } => {
                prop_assert!(arguments.is_object());
                if let Err(e) = Operation::parse(operation.name(), arguments) {
                    prop_assert!(!e.to_string().is_empty());
                }
            }
            Routed::Reply { text } | Routed::Choose { text, .. } => prop_assert!(!text.trim().is_empty()),
        }
    }

    #[test]
    fn any_text_at_all_is_answered(text in ".{0,300}") {
        let _ = route(&text, &catalog());
    }

    #[test]
    fn code_and_quotes_are_never_instructions(text in message(), code in message()) {
        let fenced = format!("{text}\n```\n{code} zzcodeword\n```\n> quoted zzquoteword\n`inline zzinlineword`");
        let c = clean(&fenced);
        for w in ["zzcodeword", "zzquoteword", "zzinlineword"] {
            prop_assert!(!c.words.iter().any(|x| x == w), "{w} in {:?}", c.words);
        }
        prop_assert_eq!(c.words.len(), c.raw.len());
        for (w, r) in c.words.iter().zip(&c.raw) {
            prop_assert_eq!(w, &r.to_lowercase());
        }
    }

    #[test]
    fn command_syntax_passes_values_through(slug in "[a-z][a-z0-9-]{0,20}", key in "[a-z_]{1,12}", value in "[A-Za-z0-9._-]{1,20}") {
        match route(&format!("/sb set_fact project={slug} key={key} value={value}"), &catalog()) {
            Routed::Call { operation, arguments, .. } => {
                prop_assert_eq!(operation.name(), "set_fact");
                // Numbers and booleans are read as JSON, the rest as text.
                let expected = serde_json::from_str::<serde_json::Value>(&value)
                    .ok()
                    .filter(|v| v.is_number() || v.is_boolean() || v.is_null())
                    .unwrap_or_else(|| json!(value));
                prop_assert_eq!(arguments, json!({"project": slug, "key": key, "value": expected}));
            }
            other => prop_assert!(false, "replied {:?}", other.reply_text()),
        }
    }

    #[test]
    fn messages_past_the_limit_are_declined(extra in 1usize..200) {
        let long = "a".repeat(MAX_CHARS + extra);
        let declined = matches!(route(&long, &catalog()), Routed::Reply { .. });
        prop_assert!(declined);
    }
}
