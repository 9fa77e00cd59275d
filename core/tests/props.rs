//! Property tests of core's parsers of outside input: the config file and
//! its environment overrides, operation arguments, identifiers, times, and
//! the address and URL helpers. Whatever comes in, they answer Ok or a
//! clear error, never panic; what they accept means what it said.
//! `scripts/fuzz` runs these (and every crate's `props`) for longer.

use proptest::prelude::*;
use serde_json::Value;
use switchboard_core::config::{Config, IpNet, host_of};
use switchboard_core::ids::{ProjectSlug, UserName};
use switchboard_core::ops::{OpKind, Operation};
use switchboard_core::time::TimeArg;

/// Any JSON value, a few levels deep.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        "[a-z0-9-]{1,20}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const SECTIONS: [&str; 8] = ["server", "limits", "auth", "store", "llm", "webhooks", "chat", "policy"];

proptest! {
    #[test]
    fn any_config_text_parses_or_is_refused_with_its_origin(text in ".{0,300}") {
        if let Err(e) = Config::parse(&text, "fuzz.toml", &[]) {
            prop_assert!(e.to_string().starts_with("fuzz.toml") || e.to_string().contains("fuzz.toml"), "{e}");
        }
    }

    #[test]
    fn config_tables_with_any_values_parse_or_name_the_key(
        section in prop::sample::select(SECTIONS.to_vec()),
        key in "[a-z_]{1,24}",
        value in prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            any::<bool>().prop_map(|b| b.to_string()),
            "[ -~]{0,30}".prop_map(|s| format!("{s:?}")),
            Just("[]".to_owned()),
            Just("[\"a\", \"b\"]".to_owned()),
        ],
    ) {
        let text = format!("[{section}]\n{key} = {value}\n");
        match Config::parse(&text, "fuzz.toml", &[]) {
            Ok(c) => prop_assert!(c.server.body_limit_bytes >= 1024),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn environment_overrides_never_panic(
        section in prop::sample::select(SECTIONS.to_vec()),
        key in "[A-Z_]{1,24}",
        value in ".{0,40}",
    ) {
        let env = vec![(format!("SWITCHBOARD_{}__{key}", section.to_uppercase()), value)];
        if let Err(e) = Config::parse("", "fuzz.toml", &env) {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn operation_arguments_parse_or_name_the_problem(
        kind in prop::sample::select(OpKind::ALL.to_vec()),
        args in json(),
    ) {
        match Operation::parse(kind.name(), args) {
            Ok(op) => prop_assert_eq!(op.kind(), kind),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn identifiers_accepted_read_back_unchanged(s in ".{0,80}") {
        if let Ok(u) = s.parse::<UserName>() {
            prop_assert_eq!(u.as_str(), s.as_str());
            prop_assert!(s.len() <= 64 && !s.contains(char::is_whitespace));
        }
        if let Ok(p) = ProjectSlug::new(s.clone()) {
            prop_assert_eq!(p.as_str(), s.as_str());
        }
    }

    #[test]
    fn times_parse_or_say_why(s in ".{0,30}") {
        if let Err(e) = TimeArg::parse(&s) {
            prop_assert!(!e.is_empty());
        }
    }

    #[test]
    fn hosts_come_only_from_http_urls(url in ".{0,60}") {
        if let Some(h) = host_of(&url) {
            prop_assert!(url.starts_with("http://") || url.starts_with("https://"));
            prop_assert_eq!(h.clone(), h.to_ascii_lowercase());
            prop_assert!(url.to_ascii_lowercase().contains(&h));
        }
    }

    #[test]
    fn address_ranges_contain_their_own_address(a in any::<[u8; 4]>(), prefix in 0u8..=32) {
        let addr = std::net::Ipv4Addr::from(a);
        let net: IpNet = format!("{addr}/{prefix}").parse().unwrap();
        prop_assert!(net.contains(addr.into()));
        let too_long = format!("{addr}/{}", u16::from(prefix) + 33);
        prop_assert!(too_long.parse::<IpNet>().is_err());
    }

    #[test]
    fn address_ranges_parse_or_are_refused(s in "[0-9a-f:./]{0,40}") {
        let _ = s.parse::<IpNet>();
    }
}

mod sbom_input {
    use proptest::prelude::*;
    use serde_json::{Value, json};
    use switchboard_core::import::purl::Purl;
    use switchboard_core::import::sbom::parse;

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            ".{0,20}".prop_map(Value::String),
            "pkg:[a-z]{1,6}/[a-z@%/]{0,12}(@[0-9.]{1,6})?".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("components".to_owned()),
                        Just("purl".to_owned()),
                        Just("version".to_owned()),
                        Just("name".to_owned()),
                        Just("bom-ref".to_owned()),
                        Just("dependencies".to_owned()),
                        "[a-zA-Z]{1,8}"
                    ],
                    inner,
                    0..6
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Any purl text: parsed or refused with a message, never a panic;
        /// what parses has a name and a known or prefixed package.
        #[test]
        fn purls_never_panic(text in "(pkg:)?[a-zA-Z0-9%@/.?#=&+-]{0,40}") {
            if let Ok(p) = Purl::parse(&text) {
                prop_assert!(!p.name.is_empty());
                prop_assert!(!p.package().1.is_empty());
            }
        }

        /// Any JSON shaped like a CycloneDX or SPDX document: a result or a
        /// message, never a panic; every edge kept has a version and the source.
        #[test]
        fn sboms_never_panic(body in json_value(), spdx in any::<bool>()) {
            let mut doc = json!({});
            if spdx {
                doc["spdxVersion"] = json!("SPDX-2.3");
                doc["packages"] = body;
            } else {
                doc["bomFormat"] = json!("CycloneDX");
                doc["components"] = body;
            }
            if let Ok(sbom) = parse(&doc, "sbom:x") {
                for d in &sbom.dependencies {
                    prop_assert_eq!(d.source.as_deref(), Some("sbom:x"));
                    prop_assert!(!d.version.as_str().is_empty());
                }
            }
        }
    }
}

mod catalog_input {
    use std::collections::{BTreeMap, BTreeSet};

    use proptest::prelude::*;
    use serde_json::{Value, json};
    use switchboard_core::ids::{ProjectType, TeamSlug};
    use switchboard_core::import::backstage::{Rules, documents, plan};

    proptest! {
        /// Any text: documents or a parser message, never a panic.
        #[test]
        fn catalog_text_never_panics(text in "(kind: [A-Za-z]{0,9}\n|metadata:\n  name: [a-z_ ]{0,9}\n|---\n|  - [a-z:/]{0,9}\n|[ -~]{0,20}\n){0,12}") {
            let _ = documents(&text);
        }

        /// Any entity-shaped JSON: a plan, never a panic; every project and
        /// team it plans has a valid slug and a declared type.
        #[test]
        fn catalog_plans_never_panic(
            kind in prop_oneof![Just("Component".to_owned()), Just("Group".to_owned()), Just("User".to_owned()), Just("Location".to_owned()), "[A-Za-z]{0,8}"],
            name in "[A-Za-z0-9_.: /-]{0,20}",
            owner in prop_oneof![Just(json!(null)), "[a-z:/-]{0,16}".prop_map(Value::String), Just(json!({"$text": "x"})), Just(json!([1, 2]))],
            members in prop::collection::vec("[a-z:/.-]{0,12}", 0..4),
        ) {
            let entity = json!({"kind": kind, "metadata": {"name": name, "title": owner.clone()},
                                "spec": {"owner": owner, "type": "service", "members": members, "memberOf": members,
                                         "profile": {"email": "a@example.com"}}});
            let api = ProjectType::new("api").unwrap();
            let types: BTreeMap<String, ProjectType> = [("service".to_owned(), api.clone())].into_iter().collect();
            let declared = BTreeMap::from([(api.clone(), BTreeSet::new())]);
            let team = TeamSlug::new("unowned").unwrap();
            let rules = Rules { types: &types, default_type: &api, default_team: &team, declared: &declared };
            let p = plan(&[("x.yaml".to_owned(), entity)], &rules);
            for project in &p.projects {
                prop_assert_eq!(&project.project_type, &api);
            }
            prop_assert!(p.projects.len() + p.teams.len() + p.users.len() + p.skipped.len() <= 1);
        }
    }
}

mod lockfile_input {
    use proptest::prelude::*;
    use switchboard_core::import::lockfiles::{Format, read, repository};

    const NAMES: [&str; 14] = [
        "Cargo.toml",
        "Cargo.lock",
        "package.json",
        "package-lock.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "pyproject.toml",
        "poetry.lock",
        "uv.lock",
        "requirements.txt",
        "go.mod",
        "Gemfile",
        "Gemfile.lock",
        "pom.xml",
    ];

    proptest! {
        /// Any text under any manifest or lock file name: read or refused
        /// with a message, never a panic; every edge has a source.
        #[test]
        fn lock_files_never_panic(
            name in 0..NAMES.len(),
            text in "([a-z_\\[\\]\"{}:=@^~<>., /()#-]{0,12}|\n|  |[0-9.]{1,6}|require |version |specs:\n|    [a-z]{1,5} \\([0-9.]{1,5}\\)\n){0,24}",
        ) {
            let path = format!("app/{}", NAMES[name]);
            let format = Format::of(&path).unwrap();
            let _ = read(format, &text);
            let (deps, _) = repository(&[(path, text)]);
            for d in deps {
                prop_assert!(d.source.is_some());
            }
        }
    }

    proptest! {
        /// Any POM-shaped text: read or refused, never a panic; what is read
        /// keeps each declared version once its property is filled.
        #[test]
        fn poms_never_panic_and_fill_properties(
            parts in proptest::collection::vec("(<project>|</project>|<dependencies>|</dependencies>|<dependency>|</dependency>|<groupId>[a-z.]{1,6}</groupId>|<artifactId>[a-z-]{1,6}</artifactId>|<version>[0-9.]{1,5}</version>|<version>\\$\\{[a-z]{1,3}\\}</version>|<properties>|</properties>|<[a-z]{1,3}>[0-9.]{1,4}</[a-z]{1,3}>|<scope>test</scope>|[ -~]{0,6})", 0..30),
            version in "[1-9][0-9]?\\.[0-9]{1,2}\\.[0-9]{1,2}",
        ) {
            let text = parts.concat();
            let _ = read(Format::Pom, &text);
            let pom = format!(
                "<project><groupId>g</groupId><artifactId>me</artifactId><properties><v>{version}</v></properties><dependencies><dependency><groupId>org.x</groupId><artifactId>lib</artifactId><version>${{v}}</version></dependency></dependencies></project>"
            );
            let (deps, skipped) = repository(&[("pom.xml".to_owned(), pom)]);
            prop_assert!(skipped.is_empty());
            prop_assert_eq!(deps.len(), 1);
            prop_assert_eq!(deps[0].version.as_str(), version.as_str());
        }
    }
}
