//! `check-config`: the example file is accepted; errors in the file, its
//! rules and its operator texts are placed (line, rule, file and line), and
//! `serve` refuses to start on them.

mod common;

use common::*;

#[test]
fn check_config_accepts_the_example_and_places_errors() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/config/switchboard.example.toml");
    let out = run(&["check-config", example]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains(": ok (3 project types, 3 environments, 2 templates, 7 webhook rules)"), "{said}");

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("switchboard.toml");
    std::fs::write(&bad, "[server]\nport = 8080\nhots = \"x\"\n").unwrap();
    let out = run(&["check-config", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("line 3, column 1") && err.contains("unknown field `hots`"), "{err}");

    std::fs::write(&bad, "[policy]\nrequest_automation_role = \"viewer\"\n").unwrap();
    let err = text(&run(&["check-config", bad.to_str().unwrap()]).stderr);
    assert!(err.contains("line 2") && err.contains("viewers only read"), "{err}");

    let out = run(&["check-config", "/definitely/not/here.toml"]);
    assert!(text(&out.stderr).contains("cannot read config file"));

    // Rules are checked too, and the message names the rule and what is wrong.
    let rule = |body: &str| format!("[[rules]]\nname = \"mine\"\nsource = \"github\"\nevent = \"push\"\n{body}");
    for (body, expected) in [
        ("op = \"drop_tables\"\n", "rule \"mine\": unknown operation \"drop_tables\""),
        ("op = \"deploy\"\n", "deploy is an automation"),
        ("op = \"set_fact\"\nwhen = \"payload.ref ==\"\n", "`when` does not parse"),
        // A `}}` ended minijinja's expression early and it panicked.
        ("op = \"set_fact\"\nwhen = \"}} \"\n", "`when` does not parse"),
        ("op = \"set_fact\"\nwhen = \"x %}{% endif %}{{ 1 }}{% if y\"\n", "`when` does not parse"),
        ("op = \"set_fact\"\nwhen = \" \"\n", "`when` is empty"),
        ("op = \"set_fact\"\nargs = { value = \"{{ payload.after \" }\n", "args.value does not parse"),
        ("op = \"set_fact\"\nproject = { by = \"jira\", id = \"x\" }\n", "project.by must be one of"),
    ] {
        std::fs::write(&bad, rule(body)).unwrap();
        let out = run(&["check-config", bad.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{body}");
        assert!(text(&out.stderr).contains(expected), "{body}: {}", text(&out.stderr));
    }

    // An operator text that does not parse: named with its line, and serve refuses to start.
    let texts = dir.path().join("texts");
    std::fs::create_dir(&texts).unwrap();
    std::fs::write(texts.join("notification.txt"), "Incident:\n{{ incident.title }\n").unwrap();
    std::fs::write(&bad, format!("[texts]\ndir = {:?}\n", texts.to_str().unwrap())).unwrap();
    for args in [vec!["check-config", bad.to_str().unwrap()], vec!["serve", "--config", bad.to_str().unwrap()]] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains("`texts.dir`: ") && err.contains("notification.txt, line 2: "), "{args:?}: {err}");
    }
    std::fs::write(texts.join("notification.txt"), "{{ kind }}: {{ project }}").unwrap();
    let out = run(&["check-config", bad.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("texts from "), "the overrides are named: {}", text(&out.stdout));
}
