//! Config parsing, validation and overrides; and the example file stays true.

use super::*;
use crate::model::Role;

#[test]
fn empty_file_gives_defaults() {
    let c = Config::parse("", "test", &[]).unwrap();
    assert_eq!(c, Config::default());
    assert_eq!(c.server.port, 8080);
    assert_eq!(c.environments.len(), 3);
    assert!(c.project_types.contains_key(&ProjectType::new("consumer").unwrap()));
}

#[test]
fn unknown_field_names_line_and_column() {
    let err = Config::parse("[server]\nport = 80\nprot = 1\n", "switchboard.toml", &[]).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("line 3"), "{msg}");
    assert!(msg.contains("column 1"), "{msg}");
    assert!(msg.contains("prot"), "{msg}");
}

#[test]
fn wrong_type_is_reported() {
    let err = Config::parse("[server]\nport = \"eighty\"\n", "x.toml", &[]).unwrap_err();
    assert!(err.to_string().contains("line 2"), "{err}");
}

#[test]
fn enum_fact_without_values_is_placed() {
    let src = "[project_types.api.facts.tier]\ntype = \"enum\"\n";
    let err = Config::parse(src, "x.toml", &[]).unwrap_err().to_string();
    assert!(err.contains("needs `values`"), "{err}");
    assert!(err.contains("line 1"), "{err}");
}

#[test]
fn semantic_error_is_placed() {
    let src = "[score]\nbuild_fresh_days = 40\n";
    let err = Config::parse(src, "x.toml", &[]).unwrap_err().to_string();
    assert!(err.contains("line 2, column 1"), "{err}");
    assert!(err.contains("build_stale_days"), "{err}");
}

#[test]
fn inbox_retention_keeps_redeliveries_possible() {
    assert_eq!(Config::default().webhooks.retention_days, 14);
    for ok in ["0", "3", "90"] {
        let c = Config::parse(&format!("[webhooks]\nretention_days = {ok}\n"), "x.toml", &[]).unwrap();
        assert_eq!(c.webhooks.retention_days.to_string(), ok);
    }
    let err = Config::parse("[webhooks]\nretention_days = 1\n", "x.toml", &[]).unwrap_err().to_string();
    assert!(err.contains("webhooks.retention_days") && err.contains("at least 3") && err.contains("line 2"), "{err}");
}

#[test]
fn traces_settings_are_checked() {
    let err = |src: &str| Config::parse(src, "x.toml", &[]).unwrap_err().to_string();
    let e = err("[traces]\nsample_ratio = 2.0\n");
    assert!(e.contains("line 2") && e.contains("`traces.sample_ratio`: 2 is not between 0.0 and 1.0"), "{e}");
    let e = err("[traces]\nendpoint = \"collector:4318\"\n");
    assert!(e.contains("is not an http(s) address"), "{e}");
    let env = vec![("SWITCHBOARD_TRACES__SAMPLE_RATIO".to_owned(), "0.25".to_owned())];
    let c = Config::parse("[traces]\nendpoint = \"http://127.0.0.1:4318\"\n", "x.toml", &env).unwrap();
    assert_eq!((c.traces.sample_ratio, c.traces.endpoint.as_deref()), (0.25, Some("http://127.0.0.1:4318")));
}

#[test]
fn env_overrides_apply_and_are_validated() {
    let env = vec![("SWITCHBOARD_SERVER__PORT".to_owned(), "9090".to_owned())];
    let c = Config::parse("[server]\nport = 80\n", "x.toml", &env).unwrap();
    assert_eq!(c.server.port, 9090);
    let env = vec![("SWITCHBOARD_SERVER__PORT".to_owned(), "not-a-port".to_owned())];
    let err = Config::parse("", "x.toml", &env).unwrap_err().to_string();
    assert!(err.contains("SWITCHBOARD_SERVER__PORT"), "{err}");
    let env = vec![("SWITCHBOARD_LOG__FORMAT".to_owned(), "json".to_owned())];
    assert_eq!(Config::parse("", "x", &env).unwrap().log.format, LogFormat::Json);
    let env = vec![
        ("SWITCHBOARD_LLM__BASE_URL".to_owned(), "http://127.0.0.1:11434/v1".to_owned()),
        ("SWITCHBOARD_LLM__MODEL".to_owned(), "llama3.1".to_owned()),
        ("SWITCHBOARD_LLM__API_KEY".to_owned(), "sk-secret".to_owned()),
    ];
    let c = Config::parse("", "x", &env).unwrap();
    assert_eq!(c.llm.base_url.as_deref(), Some("http://127.0.0.1:11434/v1"));
    assert!(c.llm.enabled() && c.llm.api_key.as_deref() == Some("sk-secret"));
    assert!(!format!("{c:?}").contains("sk-secret"), "the key is never printed");
}

#[test]
fn llm_settings_are_checked() {
    let err = |src: &str| Config::parse(src, "x.toml", &[]).unwrap_err().to_string();
    assert!(
        err("[llm]\nbase_url = \"localhost:11434\"\nmodel = \"m\"\n").contains("`llm.base_url`: must start with http")
    );
    assert!(err("[llm]\nbase_url = \"http://h/v1\"\n").contains("`llm.model`: name the model"));
    assert!(err("[llm]\nmax_steps = 0\n").contains("at line 2"));
    assert!(err("[llm]\ntemperature = 3.0\n").contains("between 0 and 2"));
    assert!(err("[llm]\nmodle = \"m\"\n").contains("unknown field `modle`"));
    assert!(!Config::parse("", "x", &[]).unwrap().llm.enabled(), "no LLM unless configured");
}

mod example {
    use super::*;

    #[test]
    fn example_file_parses_and_documents_every_section() {
        let src = include_str!("../../../config/switchboard.example.toml");
        let c = Config::parse(src, "switchboard.example.toml", &[]).unwrap();
        assert_eq!(c.project_types.len(), 3);
        assert_eq!(c.templates.len(), 2);
        let defaults = Config::default();
        assert_eq!(c.server, defaults.server);
        assert_eq!(c.limits, defaults.limits);
        assert_eq!(c.store, defaults.store);
        assert_eq!(c.log, defaults.log);
        assert_eq!(c.policy, defaults.policy);
        assert_eq!(c.score, defaults.score);
        assert_eq!(c.import.sbom_max_bytes, defaults.import.sbom_max_bytes);
        for key in [
            "bind",
            "port",
            "base_url",
            "body_limit_bytes",
            "request_timeout_secs",
            "data_dir",
            "readers",
            "query_timeout_secs",
            "fulltext",
            "format",
            "level",
            "allow_self_approval",
            "run_expiry_hours",
            "request_automation_role",
            "incident_window_days",
            "incident_budget",
            "build_fresh_days",
            "build_stale_days",
            "deploy_fresh_days",
            "deploy_stale_days",
            "facts",
            "incidents",
            "ci",
            "deployments",
            "environments",
            "project_types",
            "templates",
        ] {
            assert!(src.contains(key), "the example does not show {key}");
        }
    }

    /// Every key of these sections is shown in the example, commented or not.
    #[test]
    fn example_file_shows_every_key_of_the_access_sections() {
        let src = include_str!("../../../config/switchboard.example.toml");
        let mut server = toml::Table::try_from(ServerConfig::default()).unwrap();
        for optional in ["base_url", "require_login"] {
            server.insert(optional.into(), toml::Value::Boolean(true));
        }
        let limits = toml::Table::try_from(crate::config::LimitsConfig::default()).unwrap();
        let auth = toml::Table::try_from(crate::config::AuthConfig::default()).unwrap();
        let oidc: toml::Table =
            toml::from_str("issuer = \"https://id.example.com\"\nclient_id = \"x\"\nclient_secret = \"s\"\n").unwrap();
        let oidc = toml::Table::try_from(
            toml::from_str::<crate::config::OidcConfig>(&toml::to_string(&oidc).unwrap()).unwrap(),
        )
        .unwrap();
        for (section, table) in [("server", server), ("limits", limits), ("auth", auth), ("auth.oidc", oidc)] {
            assert!(src.contains(&format!("[{section}]")), "{section}");
            for key in table.keys() {
                let shown = src.lines().any(|l| {
                    let l = l.trim_start_matches(['#', ' ']);
                    l.starts_with(&format!("{key} ="))
                        || l.starts_with(&format!("{key}="))
                        || l.starts_with(&format!("[{section}.{key}]"))
                });
                assert!(shown, "the example does not show {section}.{key}");
            }
        }
    }

    #[test]
    fn chat_platform_settings_are_checked() {
        let env =
            |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect::<Vec<_>>();
        let err = Config::parse("[slack]\nsocket_mode = true\n", "x.toml", &[]).unwrap_err().to_string();
        assert!(err.contains("slack.socket_mode") && err.contains("app_token"), "{err}");
        let vars = env(&[("SWITCHBOARD_SLACK_APP_TOKEN", "xapp-1"), ("SWITCHBOARD_SLACK_BOT_TOKEN", "xoxb-1")]);
        let c = Config::parse("[slack]\nsocket_mode = true\n", "x.toml", &vars).unwrap();
        assert_eq!((c.slack.app_token.as_deref(), c.slack.bot_token.as_deref()), (Some("xapp-1"), Some("xoxb-1")));
        assert!(!format!("{:?}", c.slack).contains("xapp-1"), "secrets never print");
        let err = Config::parse("[slack]\napp_token = \"xoxb-wrong\"\n", "x.toml", &[]).unwrap_err().to_string();
        assert!(err.contains("slack.app_token"), "{err}");
        let err = Config::parse("[slack]\napprovals_channel = \"#ops\"\n", "x.toml", &[]).unwrap_err().to_string();
        assert!(err.contains("slack.approvals_channel"), "{err}");
        let err = Config::parse("[discord]\napprovals_channel = \"ops\"\n", "x.toml", &[]).unwrap_err().to_string();
        assert!(err.contains("discord.approvals_channel"), "{err}");
        let err = Config::parse("[discord]\ngateway = true\n", "x.toml", &[]).unwrap_err().to_string();
        assert!(err.contains("discord.gateway") && err.contains("bot_token"), "{err}");
    }
}

#[test]
fn template_facts_must_be_declared_by_the_project_type() {
    let text = "[templates.worker]\nproject_type = \"consumer\"\nfacts = { colour = \"blue\" }\n";
    let err = Config::parse(text, "switchboard.toml", &[]).unwrap_err().to_string();
    assert!(err.contains("templates.worker.facts.colour") && err.contains("declares no fact colour"), "{err}");
    let ok = "[templates.worker]\nproject_type = \"consumer\"\nfacts = { language = \"python\" }\n";
    let config = Config::parse(ok, "switchboard.toml", &[]).unwrap();
    assert_eq!(config.templates[&"worker".parse().unwrap()].facts.len(), 1);
}

#[test]
fn neo4j_settings_are_checked_only_when_the_graph_is_there() {
    let err = |src: &str| Config::parse(src, "x.toml", &[]).unwrap_err().to_string();
    assert!(Config::parse("[store.neo4j]\nuri = \"nope\"\n", "x", &[]).is_ok(), "unused settings are not checked");
    let on = "[store]\ngraph = \"neo4j\"\n[store.neo4j]\n";
    assert!(err(on).contains("`store.neo4j.password`: is required"), "{}", err(on));
    assert!(
        err(&format!("{on}password = \"p\"\nuri = \"http://h:7474\"\n"))
            .contains("`store.neo4j.uri`: must start with bolt://")
    );
    assert!(err(&format!("{on}password = \"p\"\nquery_timeout_secs = 0\n")).contains("between 1 and 3600"));
    assert!(err(&format!("{on}password = \"p\"\nfulltext = \"arcadedb\"\n")).contains("must name the database"));
    assert!(err(&format!("{on}password = \"p\"\nfulltext = \"lucene\"\n")).contains("unknown variant `lucene`"));
    assert!(err("[store]\ngraph = \"neo5j\"\n").contains("unknown variant `neo5j`"));
    let env = vec![("SWITCHBOARD_NEO4J_PASSWORD".to_owned(), "from-env".to_owned())];
    let c = Config::parse(on, "x", &env).unwrap();
    assert_eq!(c.store.graph, GraphBackend::Neo4j);
    assert_eq!(c.store.neo4j.password.as_deref(), Some("from-env"));
    assert_eq!(c.store.neo4j.query_timeout_secs, 60);
    assert_eq!(c.store.inbox, InboxPlacement::Graph);
    assert!(err("[store]\ninbox = \"disk\"\n").contains("unknown variant `disk`"));
    assert!(!format!("{c:?}").contains("from-env"), "the password is never printed");
}

#[test]
fn clickhouse_buffer_is_on_by_default_and_bounded() {
    let c = Config::parse("", "x.toml", &[]).unwrap();
    assert_eq!(c.store.clickhouse.buffer_seconds, 1);
    let off = Config::parse("[store.clickhouse]\nbuffer_seconds = 0\n", "x.toml", &[]).unwrap();
    assert_eq!(off.store.clickhouse.buffer_seconds, 0);
    let err = Config::parse("[store.clickhouse]\nbuffer_seconds = 600\n", "x.toml", &[]).unwrap_err().to_string();
    assert!(err.contains("`store.clickhouse.buffer_seconds`: at most 60"), "{err}");
    let err = Config::parse("[store.clickhouse]\nbuffer_seconds = -1\n", "x.toml", &[]).unwrap_err().to_string();
    assert!(err.contains("buffer_seconds"), "{err}");
}

#[test]
fn approval_rules_and_freezes_parse_and_bad_ones_are_placed() {
    let src = r#"
[policy]
editors_own_teams_only = true
[[policy.approval_rules]]
name = "production deploys"
operations = ["deploy"]
environments = ["production"]
approvals = 2
from_owning_team = true
[[policy.freezes]]
name = "year-end"
from = "2026-12-20T00:00:00Z"
until = "2027-01-04T00:00:00Z"
"#;
    let c = Config::parse(src, "x.toml", &[]).unwrap();
    let rule = &c.policy.approval_rules[0];
    assert_eq!((rule.approvals, rule.from_owning_team, rule.operations.len()), (2, true, 1));
    assert!(c.policy.freezes[0].covers(1_798_000_000_000), "2026-12-23 is in the freeze");
    assert!(!c.policy.freezes[0].covers(1_799_500_000_000), "2027-01-09 is not");
    assert_eq!(c.policy.freeze_override_role, Role::Admin);

    let bad = [
        ("[[policy.approval_rules]]\nname = \"x\"\noperations = [\"set_fact\"]\n", "set_fact is not an automation"),
        ("[[policy.approval_rules]]\nname = \"x\"\nenvironments = [\"prod\"]\n", "prod is not a declared environment"),
        ("[[policy.approval_rules]]\nname = \"x\"\napprovals = 9\n", "must be 1-5"),
        ("[[policy.approval_rules]]\nname = \" \"\n", "say what the rule is for"),
        ("[[policy.approval_rules]]\nname = \"x\"\noperations = [\"deplyo\"]\n", "unknown operation"),
        ("[[policy.approval_rules]]\nname = \"x\"\napprovers = 2\n", "unknown field"),
        (
            "[[policy.freezes]]\nname = \"x\"\nfrom = \"2026-12-20\"\nuntil = \"2027-01-04T00:00:00Z\"\n",
            "not an RFC 3339 time",
        ),
        (
            "[[policy.freezes]]\nname = \"x\"\nfrom = \"2026-12-20T00:00:00Z\"\nuntil = \"2026-12-19T00:00:00Z\"\n",
            "must be after `from`",
        ),
        ("[policy]\nfreeze_override_role = \"editor\"\n", "must be approver or admin"),
    ];
    for (src, said) in bad {
        let err = Config::parse(src, "x.toml", &[]).unwrap_err().to_string();
        assert!(err.contains(said), "{src}: {err}");
    }
}

#[test]
fn weekly_freezes_cover_their_days_and_nights() {
    let src = r#"
[[policy.freezes]]
name = "friday afternoons"
days = ["fri"]
from = "15:00"
until = "24:00"
[[policy.freezes]]
name = "weekend nights"
days = ["Sat", "sun"]
from = "22:00"
until = "06:00"
"#;
    let c = Config::parse(src, "x.toml", &[]).unwrap();
    let (friday, nights) = (&c.policy.freezes[0], &c.policy.freezes[1]);
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis();
    // 2026-12-04 is a Friday.
    assert_eq!(friday.ends_after(at("2026-12-04T15:00:00Z")), Some(at("2026-12-05T00:00:00Z")));
    assert!(friday.covers(at("2026-12-04T23:59:59Z")));
    assert!(!friday.covers(at("2026-12-04T14:59:59Z")), "before the window");
    assert!(!friday.covers(at("2026-12-05T00:00:00Z")), "the window has ended");
    assert!(!friday.covers(at("2026-12-03T16:00:00Z")), "a Thursday");
    assert!(friday.covers(at("2026-12-11T16:00:00Z")), "next Friday");
    // Overnight: Saturday 22:00 until Sunday 06:00, and Sunday into Monday.
    assert_eq!(nights.ends_after(at("2026-12-06T03:00:00Z")), Some(at("2026-12-06T06:00:00Z")));
    assert!(nights.covers(at("2026-12-07T05:59:00Z")), "Sunday's night runs into Monday");
    assert!(!nights.covers(at("2026-12-08T03:00:00Z")), "Monday's night is not frozen");
    assert!(!nights.covers(at("2026-12-05T21:00:00Z")));

    for (src, said) in [
        (
            "[[policy.freezes]]\nname = \"x\"\ndays = [\"friday\"]\nfrom = \"15:00\"\nuntil = \"18:00\"\n",
            "not a weekday",
        ),
        (
            "[[policy.freezes]]\nname = \"x\"\ndays = [\"fri\"]\nfrom = \"3pm\"\nuntil = \"18:00\"\n",
            "not a time of day",
        ),
        ("[[policy.freezes]]\nname = \"x\"\ndays = [\"fri\"]\nfrom = \"15:00\"\nuntil = \"15:00\"\n", "must differ"),
        ("[[policy.freezes]]\nname = \"x\"\nfrom = \"15:00\"\nuntil = \"18:00\"\n", "give `days`"),
    ] {
        let err = Config::parse(src, "x.toml", &[]).unwrap_err().to_string();
        assert!(err.contains(said), "{src}: {err}");
    }
}

#[test]
fn repository_import_settings_are_checked_and_facts_declared_with_weight_zero() {
    let c = Config::parse("", "t.toml", &[]).unwrap();
    let decl = c.fact_decl(&"library".parse().unwrap(), &"repo_has_ci".parse().unwrap()).unwrap();
    assert_eq!((decl.weight, &decl.fact_type), (0, &FactType::Bool));
    // A type's own declaration wins; a fact not listed is not declared.
    let own = "[import]\nrepository_facts = [\"repo_language\"]\n\n[templates]\n\n[project_types.api.facts.repo_language]\ntype = \"string\"\nweight = 3\n";
    let c = Config::parse(own, "t.toml", &[]).unwrap();
    assert_eq!(c.fact_decl(&"api".parse().unwrap(), &"repo_language".parse().unwrap()).unwrap().weight, 3);
    assert!(c.fact_decl(&"api".parse().unwrap(), &"repo_has_ci".parse().unwrap()).is_none());
    for (bad, said) in [
        (
            "[import]\nlanguage_types = { Go = \"daemon\" }\n",
            "`import.language_types.Go`: daemon is not a project type",
        ),
        (
            "[import]\nrepository_facts = [\"repo_stars\"]\n",
            "repo_stars is not a repository fact; known: repo_language",
        ),
        ("[import]\nignore = [\"/\"]\n", "would ignore every file"),
        ("[import]\narchived = \"delete\"\n", "unknown variant `delete`"),
    ] {
        let err = Config::parse(bad, "t.toml", &[]).unwrap_err().to_string();
        assert!(err.contains(said), "{bad}: {err}");
    }
}

#[test]
fn addresses_lose_credentials() {
    assert_eq!(super::without_credentials("https://u:p@host:1/v1/embeddings"), "https://host:1/v1/embeddings");
    assert_eq!(super::without_credentials("not a url"), "not a url");
}

#[test]
fn variables_switchboard_does_not_read_are_named() {
    let env: Vec<(String, String)> = [
        "SWITCHBOARD_SLACK_BOT_TOKEN",
        "SWITCHBOARD_SERVER__PORT",
        "SWITCHBOARD_LOGS__MAX_LINES",
        "SWITCHBOARD_WEBHOOK_SECRET_ACME",
        "SWITCHBOARD_LOG_SOURCE_LOKI_PASSWORD",
        "SWITCHBOARD_TEST_CLICKHOUSE_URL",
        "SWITCHBOARD_SLAK_BOT_TOKEN",
        "SWITCHBOARD_SERVER_PORT",
        "OTHER_THING",
    ]
    .iter()
    .map(|k| ((*k).to_owned(), "1".to_owned()))
    .collect();
    assert_eq!(unknown_variables(&env), ["SWITCHBOARD_SLAK_BOT_TOKEN", "SWITCHBOARD_SERVER_PORT"]);
}

#[test]
fn the_logs_and_import_sections_take_environment_overrides() {
    let env = vec![("SWITCHBOARD_LOGS__MAX_LINES".to_owned(), "5000".to_owned())];
    assert_eq!(Config::parse("", "test", &env).unwrap().logs.max_lines, 5000);
}

#[test]
fn an_empty_variable_is_an_unset_one() {
    let env = vec![
        ("SWITCHBOARD_SLACK_BOT_TOKEN".to_owned(), String::new()),
        ("SWITCHBOARD_GITHUB__APP_ID".to_owned(), String::new()),
    ];
    let c = Config::parse("", "test", &env).unwrap();
    assert_eq!((c.slack.bot_token, c.github.app_id), (None, None));
    let env = vec![("SWITCHBOARD_SLACK_BOT_TOKEN".to_owned(), "nope".to_owned())];
    assert!(Config::parse("", "test", &env).is_err(), "a wrong one still is refused");
}

#[test]
fn quiet_hours_follow_the_team_s_time_zone_and_its_daylight_saving() {
    use crate::advisory::Severity::{Critical, High};
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis();
    let src = "[advisories.quiet_hours]\nfrom = \"22:00\"\nuntil = \"07:00\"\ntimezone = \"Europe/Berlin\"\n";
    let c = Config::parse(src, "x.toml", &[]).unwrap();
    let q = c.advisories.quiet_hours.as_ref().unwrap();
    assert_eq!(q.urgent, "critical", "critical findings are sent at once by default");
    // Winter (CET, UTC+1): 22:30 in Berlin waits for 07:00 the next morning.
    assert_eq!(q.holds_until(at("2026-12-06T21:30:00Z"), High), Some(at("2026-12-07T06:00:00Z")));
    assert_eq!(q.holds_until(at("2026-12-07T05:00:00Z"), High), Some(at("2026-12-07T06:00:00Z")));
    assert_eq!(q.holds_until(at("2026-12-07T06:00:00Z"), High), None, "07:00 is awake");
    assert_eq!(q.holds_until(at("2026-12-06T20:59:59Z"), High), None, "21:59 is awake");
    assert_eq!(q.holds_until(at("2026-12-06T21:30:00Z"), Critical), None);
    // Summer (CEST, UTC+2).
    assert_eq!(q.holds_until(at("2026-07-01T20:30:00Z"), High), Some(at("2026-07-02T05:00:00Z")));
    // A window ending in the spring-forward gap ends at the first time that exists after it.
    let gap = "[advisories.quiet_hours]\nfrom = \"01:00\"\nuntil = \"02:30\"\ntimezone = \"Europe/Berlin\"\nurgent = \"none\"\n";
    let c = Config::parse(gap, "x.toml", &[]).unwrap();
    let q = c.advisories.quiet_hours.as_ref().unwrap();
    assert_eq!(q.holds_until(at("2026-03-29T00:30:00Z"), Critical), Some(at("2026-03-29T01:30:00Z")));
    // UTC by default, within one day.
    let day = "[advisories.quiet_hours]\nfrom = \"12:00\"\nuntil = \"13:00\"\n";
    let c = Config::parse(day, "x.toml", &[]).unwrap();
    let q = c.advisories.quiet_hours.as_ref().unwrap();
    assert_eq!(q.holds_until(at("2026-12-06T12:59:00Z"), High), Some(at("2026-12-06T13:00:00Z")));
    assert_eq!(q.holds_until(at("2026-12-06T11:59:00Z"), High), None);

    let err = |src: &str| Config::parse(src, "x.toml", &[]).unwrap_err().to_string();
    for (src, says) in [
        ("[advisories.quiet_hours]\nfrom = \"7pm\"\nuntil = \"07:00\"\n", "is not a time of day such as 19:00"),
        ("[advisories.quiet_hours]\nfrom = \"25:00\"\nuntil = \"07:00\"\n", "is not a time of day"),
        ("[advisories.quiet_hours]\nfrom = \"07:00\"\nuntil = \"07:00\"\n", "must differ from `from`"),
        (
            "[advisories.quiet_hours]\nfrom = \"22:00\"\nuntil = \"07:00\"\ntimezone = \"Mars/Olympus\"\n",
            "is not an IANA time zone",
        ),
        (
            "[advisories.quiet_hours]\nfrom = \"22:00\"\nuntil = \"07:00\"\nurgent = \"severe\"\n",
            "is not one of critical, high, medium, low, none",
        ),
    ] {
        let e = err(src);
        assert!(e.contains(says) && e.contains("advisories.quiet_hours"), "{src}: {e}");
    }
}

#[test]
fn dependency_track_needs_an_address_and_a_key_and_declares_its_facts() {
    let env = vec![("SWITCHBOARD_DEPENDENCY_TRACK_API_KEY".to_owned(), "odt_key".to_owned())];
    let c = Config::parse("[dependency_track]\nurl = \"https://dtrack.example.com\"\n", "x.toml", &env).unwrap();
    assert_eq!(c.dependency_track.api_key.as_deref(), Some("odt_key"));
    assert_eq!((c.dependency_track.project_version.as_str(), c.dependency_track.sync_hours), ("switchboard", 6));
    for t in c.project_types.values() {
        for (key, _) in crate::config::DEPENDENCY_TRACK_FACTS {
            let decl = &t.facts[&FactKey::new(key).unwrap()];
            assert_eq!((decl.fact_type.name(), decl.weight), ("integer", 0), "{key}");
        }
    }
    assert!(
        !Config::default()
            .project_types
            .values()
            .any(|t| t.facts.keys().any(|k| k.as_str().starts_with("dependency_track")))
    );
    let err = |src: &str, env: &[(String, String)]| Config::parse(src, "x.toml", env).unwrap_err().to_string();
    let e = err("[dependency_track]\nurl = \"https://dtrack.example.com\"\n", &[]);
    assert!(e.contains("SWITCHBOARD_DEPENDENCY_TRACK_API_KEY") && e.contains("line 2"), "{e}");
    let e = err("[dependency_track]\nurl = \"dtrack:8080\"\n", &env);
    assert!(e.contains("is not an http(s) address"), "{e}");
    let e = err("[dependency_track]\nurl = \"https://dtrack.example.com\"\nwait_secs = 0\n", &env);
    assert!(e.contains("dependency_track.wait_secs"), "{e}");
    assert!(crate::config::unknown_variables(&env).is_empty(), "the key's variable is known");
}
