//! Property tests of the webhook signature headers, the manifest editors
//! and the rule templates: whatever a sender or a repository holds, they
//! answer, never panic; a signature verifies exactly when it was made over
//! that body with that secret; an edit changes the version and nothing else.

use proptest::prelude::*;
use switchboard_automations::manifests::{Edit, Manifest, set_version};
use switchboard_automations::signature::{
    MAX_PAGERDUTY_SIGNATURES, SignatureError, hmac_hex, parse_generic, parse_github, parse_pagerduty, verify_github,
    verify_pagerduty,
};

fn version() -> impl Strategy<Value = String> {
    (0u32..40, 0u32..40, 0u32..40).prop_map(|(a, b, c)| format!("{a}.{b}.{c}"))
}

fn package() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9]{1,8}(-[a-z0-9]{1,6})?"
}

/// A manifest of `kind` declaring `deps` (name, version), with `package` at `at`.
fn manifest(kind: Manifest, deps: &[(String, String)]) -> String {
    match kind {
        Manifest::Cargo => {
            let mut s = "[package]\nname = \"svc\"\nversion = \"0.1.0\"\n\n[dependencies]\n".to_owned();
            for (i, (n, v)) in deps.iter().enumerate() {
                if i % 2 == 0 {
                    s.push_str(&format!("{n} = \"{v}\"\n"));
                } else {
                    s.push_str(&format!("{n} = {{ version = \"^{v}\", features = [\"x\"] }}\n"));
                }
            }
            s
        }
        Manifest::PackageJson => {
            let entries: Vec<String> = deps.iter().map(|(n, v)| format!("    \"{n}\": \"~{v}\"")).collect();
            format!(
                "{{\n  \"name\": \"svc\",\n  \"version\": \"9.9.9\",\n  \"dependencies\": {{\n{}\n  }}\n}}\n",
                entries.join(",\n")
            )
        }
        Manifest::Requirements => deps.iter().map(|(n, v)| format!("{n}=={v}  # pinned\n")).collect(),
        Manifest::Pyproject => {
            let entries: Vec<String> = deps.iter().map(|(n, v)| format!("  \"{n}=={v}\",")).collect();
            format!("[project]\nname = \"svc\"\ndependencies = [\n{}\n]\n", entries.join("\n"))
        }
        Manifest::GoMod => {
            let entries: Vec<String> = deps.iter().map(|(n, v)| format!("\texample.com/{n} v{v}")).collect();
            format!("module example.com/svc\n\ngo 1.22\n\nrequire (\n{}\n)\n", entries.join("\n"))
        }
    }
}

fn kinds() -> impl Strategy<Value = Manifest> {
    prop::sample::select(vec![
        Manifest::Cargo,
        Manifest::PackageJson,
        Manifest::Requirements,
        Manifest::Pyproject,
        Manifest::GoMod,
    ])
}

proptest! {
    #[test]
    fn a_signature_verifies_exactly_over_its_body_and_secret(
        secret in "[ -~]{1,40}",
        other in "[ -~]{1,40}",
        body in prop::collection::vec(any::<u8>(), 0..2000),
        flip in any::<usize>(),
    ) {
        let sig = format!("sha256={}", hmac_hex(secret.as_bytes(), &body));
        prop_assert_eq!(verify_github(&secret, Some(&sig), &body), Ok(()));
        if other != secret {
            prop_assert_eq!(verify_github(&other, Some(&sig), &body), Err(SignatureError::Mismatch));
        }
        if !body.is_empty() {
            let mut changed = body.clone();
            changed[flip % body.len()] ^= 1;
            prop_assert_eq!(verify_github(&secret, Some(&sig), &changed), Err(SignatureError::Mismatch));
        }
        let pd = format!("v1={}", hmac_hex(secret.as_bytes(), &body));
        prop_assert_eq!(verify_pagerduty(&[other, secret], Some(&pd), &body), Ok(()));
    }

    #[test]
    fn any_signature_header_is_read_or_refused_without_panicking(header in ".{0,300}") {
        let _ = parse_github(Some(&header));
        let _ = parse_generic("X-Signature", "sha256=", Some(&header));
        if let Err(e) = parse_pagerduty(Some(&header)) {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn pagerduty_headers_past_the_cap_are_refused_whatever_they_hold(
        n in (MAX_PAGERDUTY_SIGNATURES + 1)..200,
        entry in "v1=[0-9a-f]{64}|v1=|[a-z]{0,5}",
    ) {
        let header = vec![entry.as_str(); n].join(",");
        prop_assert!(matches!(parse_pagerduty(Some(&header)), Err(SignatureError::Malformed(..))));
    }

    #[test]
    fn an_edit_changes_the_version_and_nothing_else(
        kind in kinds(),
        deps in prop::collection::btree_map(package(), version(), 1..6),
        pick in any::<usize>(),
        to in version(),
    ) {
        let deps: Vec<(String, String)> = deps.into_iter().collect();
        let (name, at) = deps[pick % deps.len()].clone();
        let package = if kind == Manifest::GoMod { format!("example.com/{name}") } else { name.clone() };
        let text = manifest(kind, &deps);
        match set_version(kind, &text, &package, Some(&at), &to) {
            Edit::Changed(new) => {
                prop_assert!(to != at);
                // Put the old version back where it was: the text is as before.
                let back = set_version(kind, &new, &package, Some(&to), &at);
                prop_assert_eq!(back, Edit::Changed(text.clone()), "{}", new);
                prop_assert_eq!(set_version(kind, &new, &package, None, &to), Edit::AlreadyAt);
                for (other, v) in deps.iter().filter(|(n, _)| *n != name) {
                    prop_assert!(new.contains(other.as_str()) && new.contains(v.as_str()));
                }
            }
            Edit::AlreadyAt => prop_assert_eq!(to, at),
            other => prop_assert!(false, "{other:?} for {package} in\n{text}"),
        }
    }

    #[test]
    fn editors_take_any_text_without_panicking(kind in kinds(), text in ".{0,400}", package in package(), to in version()) {
        let _ = set_version(kind, &text, &package, None, &to);
        let _ = set_version(kind, &text, &package, Some("1.0.0"), &to);
    }
}

/// Rule templates: any `when` or argument template is loaded or refused
/// with the rule's name, and loaded rules plan any payload without panicking.
mod rules {
    use std::sync::Arc;

    use proptest::prelude::*;
    use serde_json::Value;
    use switchboard_automations::RuleSet;
    use switchboard_core::Service;
    use switchboard_core::clock::SystemClock;
    use switchboard_core::config::{Config, RuleConfig};
    use switchboard_store::SqliteStore;

    fn rule(when: Option<String>, arg: String) -> RuleConfig {
        let when = when.map(|w| format!("when = {}\n", toml::Value::String(w))).unwrap_or_default();
        let text = format!(
            "name = \"fuzzed\"\nsource = \"github\"\nevent = \"push\"\nop = \"set_fact\"\n{when}[project]\nby = \"slug\"\nid = \"orders\"\n[args]\nkey = \"tier\"\nvalue = {}\n",
            toml::Value::String(arg),
        );
        toml::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    fn payload() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            ".{0,20}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 20, 5, |inner| {
            prop::collection::btree_map("ref|after|repository|name|[a-z]{1,6}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect()))
        })
    }

    fn service() -> (Service, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path(), 1).unwrap();
        let service =
            Service::new(Arc::new(store.clone()), Arc::new(store), Arc::new(Config::default()), Arc::new(SystemClock));
        (service, dir)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn templates_load_or_name_the_rule_and_plan_any_payload(
            when in proptest::option::of(".{0,40}|payload\\.ref == \"refs/heads/main\"|payload\\.[a-z]{1,5} is defined"),
            arg in ".{0,40}|\\{\\{ payload\\.[a-z]{1,6} \\}\\}|\\{\\{ payload\\.after\\[:7\\] \\}\\}",
            body in payload(),
        ) {
            let config = Config { rules: vec![rule(when, arg)], ..Config::default() };
            match RuleSet::load(&config) {
                Err(e) => prop_assert!(e.to_string().contains("fuzzed"), "{e}"),
                Ok(rules) => {
                    let (service, _dir) = service();
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                    if let Err(e) = rt.block_on(rules.plan(&service, "github", "push", &Arc::new(body))) {
                        prop_assert!(e.to_string().contains("fuzzed"), "{e}");
                    }
                }
            }
        }
    }
}
